"""Counts PUBLISH commands on the private Redis servers of cross-instance benchmark runs.

    .venv/bin/python scripts/count_redis_publishes.py URLS_FILE

Every URL appended to URLS_FILE (the bench's server command writes its SYNC_REDIS_URL there) is polled
with INFO commandstats until that Redis goes away; the last count seen per server is printed on SIGTERM
or SIGINT, one JSON line per Redis: {"redis": url, "publish_calls": n}. Each run's Redis is private and
starts empty, so that count is the number of messages the two instances exchanged in that run.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import redis


def main() -> int:
    urls_file = Path(sys.argv[1])
    counts: dict[str, int] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        urls = set(urls_file.read_text().split()) if urls_file.exists() else set()
        for url in urls:
            try:
                stats = redis.Redis.from_url(url, socket_timeout=0.5).info("commandstats")
            except redis.RedisError:
                continue  # not up yet, or that run is over
            counts[url] = int(stats.get("cmdstat_publish", {}).get("calls", 0))
        time.sleep(0.25)
    for url, calls in counts.items():
        print(json.dumps({"redis": url, "publish_calls": calls}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
