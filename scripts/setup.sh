#!/usr/bin/env bash
# Installs what the project needs, idempotently, from the pinned files in requirements/.
#   scripts/setup.sh app      runtime only (the local stack)
#   scripts/setup.sh dev      runtime + infrastructure + test tools + Checkov + PostgreSQL/Redis servers
# Re-running is cheap: each step is skipped while the pinned file it installs from is unchanged.
set -euo pipefail
profile=${1:-dev}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
digest() { cat "$@" | sha256sum | cut -d' ' -f1; }

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python >= 3.11 is required" >&2; exit 1; }

# One virtual environment per tool set; bytecode is compiled at install time because this machine sets
# PYTHONDONTWRITEBYTECODE=1 (otherwise every import of the CDK bindings recompiles hundreds of MB).
make_venv() {  # make_venv DIR REQUIREMENTS...
  local dir=$1; shift
  local want; want=$(digest requirements/bootstrap.txt "$@")
  if stamp_ok "$dir/.installed" "$want"; then return; fi
  say "installing $* into $dir"
  [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --require-hashes -r requirements/bootstrap.txt
  for req in "$@"; do
    "$dir/bin/uv" pip install --quiet --python "$dir/bin/python" --require-hashes --compile-bytecode -r "$req"
  done
  echo "$want" > "$dir/.installed"
}

install_project() {  # our own packages, editable, into .venv
  local want; want=$(digest apps/backend/pyproject.toml apps/sync/pyproject.toml "$@")
  if stamp_ok .venv/.project "$want"; then return; fi
  say "installing apps/backend and apps/sync (editable)"
  .venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps --no-build-isolation \
    -e apps/backend -e apps/sync
  echo "$want" > .venv/.project
}

install_system_packages() {  # PostgreSQL, Redis and nginx for the test harness (Debian packages)
  local missing=()
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  [ -x /usr/sbin/nginx ] || missing+=(nginx-light)  # the load balancer of the multi-instance sync tests
  [ ${#missing[@]} -eq 0 ] && return
  say "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  # Don't let the packages start their own default clusters/servers: the tests start throwaway ones.
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null; $sudo chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  $sudo rm -f /usr/sbin/policy-rc.d
}

case "$profile" in
  app)
    make_venv .venv requirements/app.txt requirements/build.txt
    install_project requirements/app.txt
    ;;
  dev)
    install_system_packages
    make_venv .venv requirements/dev.txt
    install_project requirements/dev.txt
    make_venv .venv-checkov requirements/checkov.txt
    bash scripts/setup_sync_tools.sh  # the real @hocuspocus/provider versions the sync tests drive
    bash scripts/setup_infra_tools.sh  # pinned cdktn CLI + Node 22 (.local/tools/bin/cdktn) for `cdktn synth`
    ;;
  *) echo "usage: scripts/setup.sh [app|dev]" >&2; exit 2 ;;
esac
