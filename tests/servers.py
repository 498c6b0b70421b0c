"""Throwaway PostgreSQL and Redis servers on free loopback ports, for the test harness and benchmarks.

Never touches the system's default clusters or ports: each server lives in its own temp dir and is
stopped (and its files removed) when the context exits.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_bin(name: str) -> str:
    """Debian keeps server binaries off PATH, in /usr/lib/postgresql/<version>/bin."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version_key)
    if candidates:
        return candidates[-1]
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: install the Debian package postgresql")
    return found


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parts[-3])
    except ValueError:
        return 0.0


def _as_postgres(args: list[str]) -> list[str]:
    """initdb/postgres refuse to run as root: run them as the postgres system user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yields a libpq-style base URL `postgresql://postgres@127.0.0.1:<port>` of a fresh cluster."""
    data_root = Path(tempfile.mkdtemp(prefix="mdreader-pg-"))
    data_dir = data_root / "data"
    if os.geteuid() == 0:
        shutil.chown(data_root, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres(
            [_postgres_bin("initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-p {port} -k {data_root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    ctl = _postgres_bin("pg_ctl")
    subprocess.run(
        _as_postgres([ctl, "-D", str(data_dir), "-o", options, "-l", str(data_root / "log"), "-w", "start"]),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([ctl, "-D", str(data_dir), "-m", "immediate", "-w", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(data_root, ignore_errors=True)


def _redis_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not found:
        raise RuntimeError("redis-server not found: install the Debian package redis-server")
    return found


def redis_command(*, port: int, work_dir: str, tls_port: bool = False) -> list[str]:
    """redis-server on loopback, nothing persisted; with `tls_port` the port speaks TLS only."""
    ports = ["--port", "0", "--tls-port", str(port)] if tls_port else ["--port", str(port)]
    options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work_dir]
    return [_redis_binary(), *ports, *options]


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Yields `redis://127.0.0.1:<port>/0` of a fresh, non-persistent Redis."""
    port = free_port()
    work_dir = tempfile.mkdtemp(prefix="mdreader-redis-")
    process = subprocess.Popen(
        redis_command(port=port, work_dir=work_dir),
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.2) as s,
            ):
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(work_dir, ignore_errors=True)
