"""The end-to-end fixtures (kefu's app in process with the real intent model, a callback receiver) for the order
context's end-to-end tests."""

from tests.e2e.conftest import callback_server, embedding_cache, intent_model, start_kefu

__all__ = ["callback_server", "embedding_cache", "intent_model", "start_kefu"]
