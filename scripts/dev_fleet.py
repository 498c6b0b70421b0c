"""The local stack with two sync instances behind nginx, joined by Redis, as in production.

    .venv/bin/python scripts/dev_fleet.py [--sync-port 1234] [--backend-port 7001]

Starts a throwaway PostgreSQL and Redis (free loopback ports, gone on exit), the backend on
:7001, two sync instances on free ports with REDIS_URL set, and nginx (Debian's `nginx-light`) on :1234
load-balancing WebSockets round robin, so the MDReader client's defaults work unchanged. Ctrl-C stops
everything. The plain local stack (`bash scripts/dev.sh`) stays single-instance on embedded defaults.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NGINX = "/usr/sbin/nginx"


def render(*, listen_port: int, upstream_ports: list[int], work_dir: Path) -> str:
    """nginx.conf: WebSocket upgrade, round robin, a refused instance skipped for 2 s (like the ALB's
    health checks), hour-long idle WebSockets (the ALB's idle timeout is 300 s+; providers ping)."""
    temp = work_dir / "tmp"
    temp.mkdir(parents=True, exist_ok=True)
    for path in (work_dir, temp):  # nginx workers may run as another user when started as root
        path.chmod(0o777 if path == temp else 0o755)
    servers = "\n".join(
        f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in upstream_ports
    )
    temp_paths = "\n".join(
        f"  {kind}_temp_path {temp}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""worker_processes 1;
error_log {work_dir}/error.log warn;
pid {work_dir}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
  access_log off;
{temp_paths}
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream mdreader_sync {{
{servers}
  }}
  server {{
    listen 127.0.0.1:{listen_port};
    location / {{
      proxy_pass http://mdreader_sync;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_connect_timeout 2s;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_next_upstream error timeout;
    }}
  }}
}}
"""


def main() -> int:
    from mdreader_backend.migrate import upgrade
    from tests.servers import free_port, postgres_server, redis_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sync-port", type=int, default=1234)
    parser.add_argument("--backend-port", type=int, default=7001)
    args = parser.parse_args()
    if not Path(NGINX).exists():
        print(
            "nginx not found: apt-get install nginx-light (scripts/setup.sh dev installs it)", file=sys.stderr
        )
        return 1
    processes: list[subprocess.Popen[bytes]] = []
    with postgres_server() as postgres, redis_server() as redis_url, tempfile.TemporaryDirectory() as work:
        database_url = postgres.replace("postgresql://", "postgresql+asyncpg://") + "/postgres"
        upgrade(database_url)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SYNC_MIGRATE_ON_START": "false",
            "SYNC_LOG_FORMAT": "text",
        }
        python = str(ROOT / ".venv" / "bin" / "python")
        backend = [python, "-m", "mdreader_backend.cli", "serve", "--port", str(args.backend_port)]
        processes.append(subprocess.Popen(backend, env=env))
        sync_ports = [free_port(), free_port()]
        for index, port in enumerate(sync_ports):
            instance = {"SYNC_PORT": str(port), "SYNC_INSTANCE_ID": f"sync-{'ab'[index]}"}
            processes.append(subprocess.Popen([python, "-m", "mdreader_sync"], env={**env, **instance}))
        config = Path(work) / "nginx.conf"
        config.write_text(render(listen_port=args.sync_port, upstream_ports=sync_ports, work_dir=Path(work)))
        processes.append(subprocess.Popen([NGINX, "-p", work, "-c", str(config), "-g", "daemon off;"]))
        print(
            f"backend http://127.0.0.1:{args.backend_port}, sync ws://127.0.0.1:{args.sync_port} "
            f"(nginx -> instances on {sync_ports[0]} and {sync_ports[1]}), Redis {redis_url}; Ctrl-C stops",
            flush=True,
        )
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(0.5)
            print("a process stopped; stopping the others", file=sys.stderr)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
