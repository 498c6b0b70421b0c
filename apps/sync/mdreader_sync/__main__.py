"""`python -m mdreader_sync`: migrate the database, then run the sync service until SIGTERM.

`--print-ready` prints one JSON line, {"port": ..., "pid": ...}, once the port is open (for supervisors
and the benchmark harness; with SYNC_PORT=0 it reports the port the system chose).
"""

from __future__ import annotations

import argparse
import asyncio

import uvloop

from mdreader_backend.migrate import upgrade
from mdreader_backend.settings import LOCAL_DATA_DIR
from mdreader_sync.logs import configure_logging
from mdreader_sync.server import run
from mdreader_sync.settings import get_sync_settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m mdreader_sync")
    parser.add_argument("--print-ready", action="store_true", help="print {port, pid} as JSON when listening")
    args = parser.parse_args()
    settings = get_sync_settings()
    configure_logging(
        level=settings.log_level, log_format=settings.sync_log_format, instance_id=settings.sync_instance_id
    )
    if settings.database_url.startswith("sqlite"):
        LOCAL_DATA_DIR.mkdir(parents=True, exist_ok=True)
    if settings.sync_migrate_on_start:
        upgrade(settings.database_url)
    # uvloop: socket writes and the event loop itself are much cheaper than asyncio's pure-Python loop.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(run(settings, print_ready=args.print_ready))


if __name__ == "__main__":
    main()
