#!/usr/bin/env bash
# Sync benchmark: our service against Hocuspocus 2.15.3 with the shared harness (../shared/bench/sync,
# scenarios S1-S4 by default), on a throwaway PostgreSQL, then the 1 MB document load time.
#   bash scripts/bench_sync.sh [compare.sh options, e.g. --repeats 1 --scenarios S1,S3-r10]
# Prints numbers; never fails on speed. Heavy: run it on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh dev >/dev/null
shared=${MDREADER_SHARED_DIR:-$root/../shared}
work=.local/bench-sync
if [ ! -f "$work/.installed" ] || ! cmp -s "$shared/bench/sync/package-lock.json" "$work/package-lock.json"; then
  rm -rf "$work" && mkdir -p "$work" && cp -r "$shared/bench/sync/." "$work/" && chmod -R u+w "$work"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error) && touch "$work/.installed"
fi
# Auth off for the comparison (the harness names documents bench-<run>-<i>, not UUIDs), like the anchor's
# BENCH_ANCHOR_AUTH=off; persistence stays on: every update is committed to PostgreSQL before its ack.
# Cross-instance runs (S7) pass SYNC_REDIS_URL: it becomes our REDIS_URL, and is noted so that the PUBLISH
# commands of each run's private Redis can be counted (INFO commandstats, scripts/count_redis_publishes.py).
urls="$root/$work/redis-urls"; : > "$urls"
server="echo \\\${SYNC_REDIS_URL:-} >> $urls; REDIS_URL=\\\${SYNC_REDIS_URL:-} SYNC_MIGRATE_ON_START=false \
DATABASE_URL=\$MDREADER_BENCH_DATABASE_URL SYNC_REQUIRE_AUTH=false SYNC_PORT=0 SYNC_HOST=127.0.0.1 \
LOG_LEVEL=WARNING SECRET_KEY=bench-only-secret-key-0123456789-abcdef exec $root/.venv/bin/python -m mdreader_sync --print-ready"
export BENCH_ANCHOR_AUTH=off
.venv/bin/python scripts/count_redis_publishes.py "$urls" > "$work/publishes.jsonl" &
counter=$!
.venv/bin/python scripts/with_postgres.py -- bash -c "cd '$work' && ./compare.sh --server-cmd \"$server\" --anchor v2 $*"
kill -TERM "$counter"; wait "$counter" || true
if [ -s "$work/publishes.jsonl" ]; then
  echo "PUBLISH commands per cross-instance run of ours (one private Redis each):"; cat "$work/publishes.jsonl"
fi
.venv/bin/python scripts/bench_sync_load.py
