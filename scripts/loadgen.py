"""Open-loop HTTP/1.1 load generator: requests at a constant arrival rate, latency from the scheduled time.

Request n is due at start + n / rate whatever happened before it (no coordinated omission): when every
connection is busy it waits in a queue, and that wait counts in its latency, as does a late wake-up of
the generator itself. Raw keep-alive sockets on uvloop, one pre-built request, responses framed by
Content-Length: a few percent of a core at 200 requests/s, so it can share the machine with the server.

    .venv/bin/python scripts/loadgen.py http://127.0.0.1:7001/api/v1/documents/ID \\
        -H "Authorization: Bearer ..." --rate 200 --seconds 30 [--connections 64] [--json]

Prints the achieved rate, latency percentiles, errors (non-2xx or broken connections) and the
generator's own CPU use.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import uvloop


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds, from the scheduled send time
    errors: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)


class Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.scheduled = 0.0
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports don't subclass it

    def send(self, scheduled: float) -> None:
        assert self.transport is not None
        self.scheduled = scheduled
        self.busy = True
        self.transport.write(self.pool.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.busy:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end]).decode("latin-1")
            lines = head.split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            total = head_end + 4 + length
            if len(self.buffer) < total:
                return
            del self.buffer[:total]
            self.busy = False
            self.pool.completed(self, status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.pool.lost(self)


class Pool:
    def __init__(self, host: str, port: int, request: bytes, max_connections: int, result: Result) -> None:
        self.host, self.port, self.request = host, port, request
        self.max_connections = max_connections
        self.result = result
        self.idle: collections.deque[Connection] = collections.deque()
        self.queue: collections.deque[float] = collections.deque()  # scheduled times waiting for a socket
        self.connections: set[Connection] = set()
        self.opening = 0
        self.growing: set[asyncio.Future[None]] = set()
        self.outstanding = 0
        self.done = asyncio.Event()
        self.recording = True

    async def open(self, count: int) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(count):
            _, protocol = await loop.create_connection(lambda: Connection(self), self.host, self.port)
            self.connections.add(protocol)
            self.idle.append(protocol)

    def submit(self, scheduled: float) -> None:
        self.outstanding += 1
        if self.idle:
            self.idle.popleft().send(scheduled)
            return
        self.queue.append(scheduled)
        if len(self.connections) + self.opening < self.max_connections:
            self.opening += 1
            task = asyncio.ensure_future(self._grow())
            self.growing.add(task)
            task.add_done_callback(self.growing.discard)

    async def _grow(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_connection(lambda: Connection(self), self.host, self.port)
        except OSError:
            self.opening -= 1
            return
        self.opening -= 1
        self.connections.add(protocol)
        self._next(protocol)

    def _next(self, connection: Connection) -> None:
        if self.queue:
            connection.send(self.queue.popleft())
        else:
            self.idle.append(connection)

    def completed(self, connection: Connection, status: int) -> None:
        now = time.perf_counter()
        if self.recording:
            self.result.latencies.append(now - connection.scheduled)
            self.result.statuses[status] += 1
            self.result.errors += not 200 <= status < 300
        self.outstanding -= 1
        self._next(connection)
        if self.outstanding == 0:
            self.done.set()

    def lost(self, connection: Connection) -> None:
        self.connections.discard(connection)
        if connection in self.idle:
            self.idle.remove(connection)
        if connection.busy:  # the request is lost: an error (the warm-up's are not counted)
            connection.busy = False
            self.outstanding -= 1
            self.result.errors += self.recording
            if self.outstanding == 0:
                self.done.set()


async def run(
    url: str, headers: list[str], *, rate: float, seconds: float, connections: int, warmup: float
) -> tuple[Result, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: */*", *headers]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    result = Result()
    pool = Pool(host, port, request, connections, result)
    await pool.open(min(connections, max(4, int(rate * 0.05))))

    async def phase(duration: float) -> float:
        pool.done.clear()
        count = int(rate * duration)
        start = time.perf_counter()
        n = 0
        while n < count:
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0.0005:
                await asyncio.sleep(delay)
            now = time.perf_counter()
            while n < count and start + n / rate <= now:  # catch up after a late wake-up
                pool.submit(start + n / rate)
                n += 1
        if pool.outstanding:
            await asyncio.wait_for(pool.done.wait(), timeout=60)
        return time.perf_counter() - start

    if warmup > 0:
        pool.recording = False
        await phase(warmup)
        pool.recording = True
    elapsed = await phase(seconds)
    for connection in list(pool.connections):
        if connection.transport is not None:
            connection.transport.close()
    return result, elapsed


def percentile_ms(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("-H", "--header", action="append", default=[], help="extra request header")
    parser.add_argument("--rate", type=float, default=200, help="requests per second (constant)")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=3, help="seconds at the rate before measuring")
    parser.add_argument("--connections", type=int, default=64, help="most keep-alive sockets")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    result, elapsed = uvloop.run(
        run(
            args.url,
            args.header,
            rate=args.rate,
            seconds=args.seconds,
            connections=args.connections,
            warmup=args.warmup,
        )
    )
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    ordered = sorted(result.latencies)
    summary = {
        "rate_offered": args.rate,
        "rate_achieved": round(len(ordered) / elapsed, 1),
        "requests": len(ordered),
        "errors": result.errors,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "p50_ms": round(percentile_ms(ordered, 0.50), 2),
        "p90_ms": round(percentile_ms(ordered, 0.90), 2),
        "p99_ms": round(percentile_ms(ordered, 0.99), 2),
        "p999_ms": round(percentile_ms(ordered, 0.999), 2),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "generator_cpu_percent": round(100 * cpu / (elapsed + args.warmup), 1),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(
            f"GET at {args.rate:.0f} req/s (open loop): {summary['rate_achieved']} req/s achieved, "
            f"p50 {summary['p50_ms']} ms, p90 {summary['p90_ms']} ms, p99 {summary['p99_ms']} ms, "
            f"p99.9 {summary['p999_ms']} ms, max {summary['max_ms']} ms, errors {result.errors}, "
            f"generator CPU {summary['generator_cpu_percent']} % of a core"
        )
    sys.exit(1 if not ordered else 0)


if __name__ == "__main__":
    main()
