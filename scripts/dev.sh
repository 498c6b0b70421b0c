#!/usr/bin/env bash
# The local stack on embedded defaults: installs what it needs, then serves the REST backend on :7001 and
# the sync service (Hocuspocus protocol) on :1234, both on the SQLite file in .local/ (emails to the log).
# DATABASE_URL / REDIS_URL switch to PostgreSQL / Redis. Ctrl-C stops both.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh app
mkdir -p .local
# One secret shared by both processes (the sync service verifies the backend's JWTs with it),
# generated once and kept out of git.
if [ -z "${SECRET_KEY:-}" ]; then
  [ -s .local/secret_key ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))' > .local/secret_key)
  SECRET_KEY=$(cat .local/secret_key)
  export SECRET_KEY
fi
export ENVIRONMENT="${ENVIRONMENT:-local}"
.venv/bin/mdreader-backend migrate  # once, before two processes open the database
trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT INT TERM
SYNC_LOG_FORMAT="${SYNC_LOG_FORMAT:-text}" SYNC_HOST="${SYNC_HOST:-127.0.0.1}" SYNC_PORT="${SYNC_PORT:-1234}" .venv/bin/python -m mdreader_sync &
.venv/bin/mdreader-backend serve --host "${HOST:-127.0.0.1}" --port "${PORT:-7001}" &
wait -n  # if either process stops, stop the other
