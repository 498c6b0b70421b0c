"""Backend benchmark: GET and PATCH /api/v1/documents/{id} under uvicorn on a throwaway PostgreSQL.

Prints requests/s and latency percentiles at 50 concurrent clients (closed loop; with `wrk` when it is
installed, e.g. `apt-get install wrk`, else a Python client), latency at a fixed 200 requests/s (open
loop), and the import time of the Lambda handler module in fresh processes.

    .venv/bin/python scripts/bench_backend.py [--seconds 10] [--concurrency 50] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, postgres_server  # noqa: E402

SECRET = secrets.token_urlsafe(48)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def report(label: str, latencies: list[float], errors: int, elapsed: float) -> None:
    print(
        f"{label:<34} {len(latencies) / elapsed:8.1f} req/s   p50 {percentile(latencies, 0.50):6.2f} ms   "
        f"p99 {percentile(latencies, 0.99):6.2f} ms   max {max(latencies) * 1000:7.2f} ms   errors {errors}"
    )


async def closed_loop(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body: dict[str, object] | None,
    *,
    concurrency: int,
    seconds: float,
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            payload = None if body is None else {**body, "content": f"edit {index} {started}"}
            try:
                response = await client.request(method, url, json=payload)
                errors += response.status_code >= 400
            except httpx.TransportError:
                errors += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


async def open_loop(
    client: httpx.AsyncClient, url: str, *, rate: float, seconds: float
) -> tuple[list[float], int, float]:
    """Sends at a fixed rate regardless of response times (no coordinated omission)."""
    latencies: list[float] = []
    errors = 0
    tasks: list[asyncio.Task[None]] = []

    async def one(scheduled: float) -> None:
        nonlocal errors
        try:
            response = await client.get(url)
            errors += response.status_code >= 400
        except httpx.TransportError:
            errors += 1
        latencies.append(time.perf_counter() - scheduled)

    started = time.perf_counter()
    for n in range(int(rate * seconds)):
        scheduled = started + n / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    return latencies, errors, time.perf_counter() - started


WRK_PATCH_SCRIPT = """
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"title": "Bench", "content": "edited by wrk"}'
"""


def wrk_closed_loop(url: str, token: str, *, method: str, concurrency: int, seconds: float) -> str:
    """Closed loop with wrk (C, one thread): the generator costs far less CPU than the server."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_PATCH_SCRIPT if method == "PATCH" else "")
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{int(seconds)}s",
            "--latency",
            "-s",
            script.name,
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    os.unlink(script.name)
    out = result.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not (rate and p50 and p99):
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    label = f"{method} x{concurrency} concurrent (wrk)"
    return (
        f"{label:<34} {float(rate.group(1)):8.1f} req/s   p50 {p50.group(1):>9}   p99 {p99.group(1):>9}   "
        f"non-2xx {errors.group(1) if errors else 0}"
    )


def handler_import_times(runs: int) -> list[float]:
    code = (
        "import time; t = time.perf_counter(); import mdreader_backend.lambda_handler; "
        "print(time.perf_counter() - t)"
    )
    env = {**os.environ, "SECRET_KEY": SECRET, "ENVIRONMENT": "test"}
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
            ).stdout
        )
        for _ in range(runs)
    ]


async def run_load(base: str, args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as setup:
        for _ in range(100):
            try:
                if (await setup.get("/health")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        registered = await setup.post(
            "/api/v1/auth/register",
            json={"email": "bench@example.com", "username": "bench", "password": "Bench#2026pw"},
        )
        headers = {"Authorization": f"Bearer {registered.json()['access_token']}"}
        workspace = (await setup.post("/api/v1/workspaces", json={"name": "Bench"}, headers=headers)).json()
        document = (
            await setup.post(
                "/api/v1/documents",
                params={"workspace_id": workspace["id"]},
                json={"title": "Bench", "content": "word " * 500},
                headers=headers,
            )
        ).json()
    url = f"/api/v1/documents/{document['id']}"
    token = headers["Authorization"].removeprefix("Bearer ")
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        await closed_loop(client, "GET", url, None, concurrency=args.concurrency, seconds=2)  # warm-up
        for method, body in (("GET", None), ("PATCH", {"title": "Bench"})):
            if shutil.which("wrk"):
                print(
                    wrk_closed_loop(
                        base + url, token, method=method, concurrency=args.concurrency, seconds=args.seconds
                    )
                )
            else:
                load = await closed_loop(
                    client, method, url, body, concurrency=args.concurrency, seconds=args.seconds
                )
                report(f"{method} x{args.concurrency} concurrent", *load)
        report(
            f"GET  at {args.rate:.0f} req/s (open loop)",
            *await open_loop(client, url, rate=args.rate, seconds=args.seconds),
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--import-runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()

    imports = handler_import_times(args.import_runs)
    print(
        f"Lambda handler import (fresh process, {args.import_runs} runs): "
        f"median {statistics.median(imports):.3f} s, max {max(imports):.3f} s"
    )

    with postgres_server() as pg:
        database_url = pg.replace("postgresql://", "postgresql+asyncpg://") + "/postgres"
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET,
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_AUTH_REQUESTS": "100000",
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mdreader_backend.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            asyncio.run(run_load(f"http://127.0.0.1:{port}", args))
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
