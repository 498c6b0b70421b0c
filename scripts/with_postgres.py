"""Runs a command with a throwaway PostgreSQL (free loopback port) in MDREADER_BENCH_DATABASE_URL.

.venv/bin/python scripts/with_postgres.py -- COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mdreader_backend.migrate import upgrade
from tests.servers import postgres_server


def main() -> int:
    command = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    with postgres_server() as base:
        url = base.replace("postgresql://", "postgresql+asyncpg://") + "/postgres"
        upgrade(url)
        return subprocess.call(command, env={**os.environ, "MDREADER_BENCH_DATABASE_URL": url})


if __name__ == "__main__":
    sys.exit(main())
