#!/usr/bin/env bash
# Installs the Node test driver of the sync service (tests/sync/node: real @hocuspocus/provider 2/3/4,
# yjs, y-protocols, lib0, ws) from its pinned package.json + package-lock.json into tests/sync/node/node_modules
# (git-ignored). Idempotent: skipped while those two files are unchanged since the last install (stamp file
# node_modules/.mdreader-installed). Needs node and npm on PATH.
#   bash scripts/setup_sync_tools.sh            install if needed
#   bash scripts/setup_sync_tools.sh --force    reinstall
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/tests/sync/node"
stamp="$dir/node_modules/.mdreader-installed"

say() { printf '\033[1m[setup-sync-tools]\033[0m %s\n' "$*"; }
command -v node >/dev/null || { echo "node is required for the sync test driver (Node >= 20)" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required for the sync test driver" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "Node >= 20 is required, found $(node --version)" >&2; exit 1; }

want=$( (node --version; cat "$dir/package.json" "$dir/package-lock.json") | sha256sum | cut -d' ' -f1)
if [ "${1:-}" != "--force" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

say "npm ci in tests/sync/node"
# The lock has exact versions and integrity hashes but no download URLs: npm uses its configured registry.
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
(cd "$dir" && node -e "Promise.all(['provider-v2','provider-v3','provider-v4','yjs','y-protocols/awareness','lib0/encoding','ws'].map((m) => import(m))).then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })") \
  || { echo "the installed driver dependencies do not load" >&2; exit 1; }
echo "$want" > "$stamp"
say "installed $(cd "$dir" && node -p "Object.entries(require('./package.json').dependencies).map(([k, v]) => k + '@' + v.replace(/^npm:/, '')).join(', ')")"
