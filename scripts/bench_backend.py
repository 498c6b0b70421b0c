"""Backend benchmark: GET and PATCH /api/v1/documents/{id} under uvicorn on a throwaway PostgreSQL.

Prints requests/s and latency percentiles at 50 concurrent clients (closed loop; with `wrk` when it is
installed, e.g. `apt-get install wrk`, else a Python client), latency at a fixed 200 requests/s (open
loop, scripts/loadgen.py), and the Lambda handler's cold start in fresh processes.

The cold start runs where Lambda runs it: a read-only task root holding what the deployment zip holds
(requirements/app.txt only, installed with uv from its cache or PyPI, plus mdreader_backend, with the
zip's unchecked-hash bytecode, compiled by this machine's Python), imported with site-packages off
(`python -S`), PYTHONDONTWRITEBYTECODE=1 and production-shaped settings (a PostgreSQL DATABASE_URL and a
REDIS_URL; resolving secret ARNs, which needs AWS, is left out). Once more without the bytecode, to show
what it saves.

    .venv/bin/python scripts/bench_backend.py [--seconds 10] [--concurrency 50] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

from scripts.build_lambda_zip import BACKEND_PACKAGE, REQUIREMENTS, compile_bytecode, stage_package  # noqa: E402
from tests.servers import free_port, postgres_server  # noqa: E402

SECRET = secrets.token_urlsafe(48)
WARMUP_SECONDS = 3


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


def process_tree_cpu_seconds(root: int) -> float:
    """User + system CPU of a process and its descendants (uvicorn's workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in stats.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(stats[pid][1] for pid in tree if pid in stats)


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def open_loop(url: str, token: str, *, rate: float, seconds: float, server_pid: int | None) -> str:
    """A constant arrival rate from scripts/loadgen.py (uvloop, raw sockets; latency from the scheduled
    send time, so a slow server can't slow the generator down: no coordinated omission)."""
    cpu_before = process_tree_cpu_seconds(server_pid) if server_pid is not None else 0.0
    busy_before, total_before = machine_busy()
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "loadgen.py"),
            url,
            "-H",
            f"Authorization: Bearer {token}",
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
            "--warmup",
            str(WARMUP_SECONDS),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"loadgen failed:\n{result.stdout}{result.stderr}")
    r = json.loads(result.stdout)
    if server_pid is not None:
        cpu = process_tree_cpu_seconds(server_pid) - cpu_before
        busy, total = machine_busy()
        sent = r["requests"] + int(rate * WARMUP_SECONDS)  # the warm-up's requests are served too
        r["server_cpu_ms_per_request"] = round(1000 * cpu / sent, 2)
        r["machine_busy_percent"] = round(100 * (busy - busy_before) / max(1, total - total_before), 1)
    label = f"GET  at {rate:.0f} req/s (open loop)"
    return (
        f"{label:<34} {r['rate_achieved']:8.1f} req/s   p50 {r['p50_ms']:6.2f} ms   "
        f"p99 {r['p99_ms']:6.2f} ms   "
        f"p99.9 {r['p999_ms']:6.2f} ms   max {r['max_ms']:7.2f} ms   errors {r['errors']}   "
        f"statuses {r['statuses']}\n{'':<34} server CPU {r.get('server_cpu_ms_per_request')} ms/request "
        f"generator {r['generator_cpu_percent']} % of a core, "
        f"machine busy {r.get('machine_busy_percent')} % of 2 cores (PostgreSQL, server, generator, others)"
    )


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


#: Settings shaped like production's for the import: PostgreSQL and Redis (neither is connected to).
PRODUCTION_SHAPED = {
    "SECRET_KEY": SECRET,
    "ENVIRONMENT": "test",
    "DATABASE_URL": "postgresql+asyncpg://mdreader@127.0.0.1:9/mdreader",
    "REDIS_URL": "redis://127.0.0.1:9/0",
    "LOG_LEVEL": "WARNING",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PATH": "/usr/bin:/bin",
}


def lambda_task_roots(work: Path) -> dict[str, Path]:
    """Two read-only copies of what the zip carries, for this machine's Python: with and without bytecode."""
    compiled, plain = work / "with-bytecode", work / "without-bytecode"
    print("installing requirements/app.txt into a Lambda-like task root ...", flush=True)
    install = [str(ROOT / ".venv" / "bin" / "uv"), "pip", "install", "--quiet", "--python", sys.executable]
    target = ["--target", str(compiled), "--require-hashes", "--no-deps", "-r", str(REQUIREMENTS)]
    subprocess.run([*install, *target], check=True)
    stage_package(BACKEND_PACKAGE, compiled)
    shutil.copytree(compiled, plain, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    compile_bytecode(compiled, sys.executable)
    for path in work.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    return {"with bytecode": compiled, "without bytecode": plain}


def handler_import_times(task_root: Path, runs: int) -> list[float]:
    code = (
        "import time; t = time.perf_counter(); import mdreader_backend.lambda_handler; "
        "print(time.perf_counter() - t)"
    )
    env = {**PRODUCTION_SHAPED, "PYTHONPATH": str(task_root)}
    return [
        float(
            subprocess.run(
                [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True, env=env
            ).stdout
        )
        for _ in range(runs)
    ]


def describe_imports(label: str, seconds: list[float]) -> str:
    ms = sorted(1000 * value for value in seconds)
    return (
        f"Lambda handler import, {label} ({len(ms)} fresh processes): median {statistics.median(ms):.0f} ms, "
        f"min {ms[0]:.0f} ms, max {ms[-1]:.0f} ms"
    )


COLD_START = """
import json, sys, time
started = time.perf_counter()
import mdreader_backend.lambda_handler as module
imported = time.perf_counter()
path, token = sys.argv[1], sys.argv[2]
event = {
    "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
    "headers": {"host": "api.example.com", "authorization": "Bearer " + token, "x-forwarded-proto": "https",
                "x-forwarded-port": "443", "x-forwarded-for": "203.0.113.7"},
    "requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "api.example.com",
                       "domainPrefix": "api", "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                       "sourceIp": "203.0.113.7", "userAgent": "bench"}, "requestId": "r",
                       "routeKey": "$default", "stage": "$default",
                       "time": "02/Dec/2026:00:00:00 +0000", "timeEpoch": 0},
    "isBase64Encoded": False,
}
times = []
for _ in range(3):
    t = time.perf_counter()
    response = module.handler(event, None)
    assert response["statusCode"] == 200, response
    times.append(time.perf_counter() - t)
print(json.dumps({"import": imported - started, "first": times[0], "second": times[1], "third": times[2]}))
"""


def handler_cold_starts(task_root: Path, database_url: str, path: str, token: str, runs: int) -> str:
    """Fresh processes: the handler module's import (the Lambda init phase; Python's own start-up
    excluded), then the first invocation (a document GET: connecting to PostgreSQL, first compilations)
    and the next ones."""
    env = {**PRODUCTION_SHAPED, "PYTHONPATH": str(task_root), "DATABASE_URL": database_url}
    env.update(DATABASE_POOL_SIZE="1", DATABASE_MAX_OVERFLOW="0")
    samples = [
        json.loads(
            subprocess.run(
                [sys.executable, "-S", "-c", COLD_START, path, token],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            ).stdout
        )
        for _ in range(runs)
    ]

    def median_ms(key: str) -> str:
        return f"{1000 * statistics.median(sample[key] for sample in samples):.0f} ms"

    return (
        f"Lambda cold start, task root with bytecode ({runs} fresh processes, medians): "
        f"import {median_ms('import')}, "
        f"first GET /documents/{{id}} {median_ms('first')}, second {median_ms('second')}, "
        f"third {median_ms('third')}"
    )


async def run_load(base: str, args: argparse.Namespace, server_pid: int | None = None) -> None:
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
        for method, body in (("GET", None), ("PATCH", {"title": "Bench"})) if args.closed else ():
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
    print(open_loop(base + url, token, rate=args.rate, seconds=args.open_seconds, server_pid=server_pid))
    if args.import_runs:
        task_root = args.task_roots["with bytecode"]
        print(handler_cold_starts(task_root, args.database_url, url, token, args.import_runs))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--open-seconds", type=float, default=30, help="length of the open-loop run")
    parser.add_argument("--no-closed", dest="closed", action="store_false", help="skip the closed loops")
    parser.add_argument("--import-runs", type=int, default=11, help="fresh processes per import measure")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mdreader-bench-task-") as work:
        try:
            args.task_roots = lambda_task_roots(Path(work)) if args.import_runs else {}
            for label, task_root in args.task_roots.items():
                print(
                    describe_imports(f"task root {label}", handler_import_times(task_root, args.import_runs))
                )
            run_server_benchmarks(args)
        finally:
            for path in Path(work).rglob("*"):
                path.chmod(0o755)  # let the temporary folder go


def run_server_benchmarks(args: argparse.Namespace) -> None:
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
            args.database_url = database_url
            asyncio.run(run_load(f"http://127.0.0.1:{port}", args, server.pid))
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    main()
