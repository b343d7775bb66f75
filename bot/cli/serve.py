"""`kefu serve`: run the kefu service (HTTP API, health endpoints, outbox worker) until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.settings import load_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run kefu: the inbound API, health endpoints and the outbox worker")
    serve.add_argument("--host", help="address to listen on (default: $KEFU_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: $KEFU_PORT or 8080)")
    serve.add_argument("--log-format", choices=("text", "json"), help="log lines as readable text (default) or JSON")
    serve.add_argument("--log-level", choices=("debug", "info", "warning", "error"), help="default: info")
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from bot.app import StartupError, serve
    from bot.logs import configure_logging

    overrides: dict[str, Any] = {
        key: value
        for key, value in (("host", args.host), ("port", args.port), ("log_format", args.log_format),
                           ("log_level", args.log_level))
        if value is not None
    }
    settings = load_settings(args.config, **overrides)
    configure_logging(settings.log_level, settings.log_format)
    try:
        asyncio.run(serve(settings))
    except StartupError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 1
    return 0
