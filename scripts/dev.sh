#!/usr/bin/env bash
# The local stack on embedded defaults: installs what it needs, then serves the backend on :7001
# (SQLite file in .local/, emails to the log). DATABASE_URL / REDIS_URL switch to PostgreSQL / Redis.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh app
mkdir -p .local
# One secret shared by every local process (the sync service verifies the backend's JWTs with it),
# generated once and kept out of git.
if [ -z "${SECRET_KEY:-}" ]; then
  [ -s .local/secret_key ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))' > .local/secret_key)
  SECRET_KEY=$(cat .local/secret_key)
  export SECRET_KEY
fi
export ENVIRONMENT="${ENVIRONMENT:-local}"
exec .venv/bin/mdreader-backend serve --host "${HOST:-127.0.0.1}" --port "${PORT:-7001}"
