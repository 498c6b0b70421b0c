"""`mdreader-backend`: migrate the database and serve the API (the local stack's entry point)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from mdreader_backend import migrate
from mdreader_backend.settings import LOCAL_DATA_DIR, get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mdreader-backend")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the database schema to the latest revision")
    serve = sub.add_parser("serve", help="migrate, then serve the API with uvicorn")
    serve.add_argument("--host", default=None, help="bind address (default: settings HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default: settings PORT, 7001)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    if settings.database_url.startswith("sqlite"):
        LOCAL_DATA_DIR.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    if args.command == "serve":
        uvicorn.run(
            "mdreader_backend.main:create_app",
            factory=True,
            host=args.host or settings.host,
            port=args.port or settings.port,
            workers=args.workers,
            log_level=settings.log_level.lower(),
        )


if __name__ == "__main__":
    main()
