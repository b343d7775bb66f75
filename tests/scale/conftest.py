"""The scale tests start real `kefu serve` processes with the end-to-end tests' fixtures."""

from tests.e2e.conftest import embedding_cache, serve_env, serve_process  # noqa: F401
