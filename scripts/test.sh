#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, then lint, types, and pytest.
#   scripts/test.sh [pytest args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh dev

# Isolate tool temp dirs (jsii unpacks its runtime under TMPDIR) and never let a test reach for AWS.
export TMPDIR="${TMPDIR_OVERRIDE:-$root/.local/tmp}"
mkdir -p "$TMPDIR"
export AWS_EC2_METADATA_DISABLED=true

say() { printf '\033[1m[test]\033[0m %s\n' "$*"; }
say "ruff check"; .venv/bin/ruff check .
say "ruff format --check"; .venv/bin/ruff format --check .
say "mypy"; .venv/bin/mypy apps/backend/mdreader_backend apps/sync/mdreader_sync
say "pytest"; .venv/bin/python -m pytest "$@"
