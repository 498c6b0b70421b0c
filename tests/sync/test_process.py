"""The service's process entry (`mdreader_sync.server.run`): what it does beyond the in-process server."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from mdreader_sync.server import GC_THRESHOLDS
from tests.sync.harness import SyncStack

# Runs the entry until the server is up, reports the collector's frozen objects, then stops it by SIGTERM.
ENTRY = """
import asyncio, gc, os, signal
from mdreader_sync.server import run
from mdreader_sync.settings import SyncSettings

async def main():
    task = asyncio.create_task(run(SyncSettings()))
    deadline = asyncio.get_running_loop().time() + 20
    while not gc.get_freeze_count() and not task.done() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    frozen, thresholds = gc.get_freeze_count(), gc.get_threshold()
    os.kill(os.getpid(), signal.SIGTERM)
    await task
    print(frozen, *thresholds)

asyncio.run(main())
"""


def test_startup_objects_are_kept_out_of_garbage_collection(sync_stack: SyncStack) -> None:
    """Full collections used to walk them all and stop the loop for 70-200 ms (S7's p99); young objects
    are collected less often than CPython's default."""
    env = {
        **os.environ,
        "DATABASE_URL": sync_stack.database_url,
        "SECRET_KEY": "s" * 48,
        "ENVIRONMENT": "test",
        "SYNC_HOST": "127.0.0.1",
        "SYNC_PORT": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", ENTRY], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    frozen, *thresholds = map(int, result.stdout.split()[-4:])
    assert frozen > 50_000  # modules, classes, SQLAlchemy and websockets state
    assert tuple(thresholds) == GC_THRESHOLDS != gc.get_threshold()
