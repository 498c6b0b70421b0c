"""asyncio client for tests/sync/node/driver.mjs: real Hocuspocus providers driven from pytest.

    driver = NodeDriver()
    await driver.start()
    await driver.call("connect", client="a", url="ws://127.0.0.1:1234", document="d", token="t", version="v3")
    await driver.call("waitFor", client="a", condition="synced", timeoutMs=5000)
    event = await driver.wait_event(lambda e: e["event"] == "authenticated" and e["client"] == "a")
    await driver.stop()

`call` returns the response (without "id"/"ok") and raises DriverError when the driver answers ok:false.
Every asynchronous event line is kept in `driver.events` (a bounded history) and offered to `wait_event`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parent / "node"
DRIVER_SCRIPT = NODE_DIR / "driver.mjs"
NODE_MODULES = NODE_DIR / "node_modules"
REQUIRED_PACKAGES = ("provider-v2", "provider-v3", "provider-v4", "yjs", "y-protocols", "lib0", "ws")

Event = dict[str, Any]
EventPredicate = Callable[[Event], bool]


class DriverError(RuntimeError):
    """The driver answered ok:false, died, or did not answer in time."""


def node_binary() -> str | None:
    return shutil.which("node")


def missing_node_packages() -> list[str]:
    """The driver's npm dependencies that are not installed (run scripts/setup_sync_tools.sh)."""
    return [name for name in REQUIRED_PACKAGES if not (NODE_MODULES / name / "package.json").is_file()]


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(data: str) -> bytes:
    return base64.b64decode(data)


class NodeDriver:
    def __init__(
        self,
        *,
        node: str | None = None,
        call_timeout: float = 30.0,
        history: int = 10_000,
        env: dict[str, str] | None = None,
    ) -> None:
        self._node = node or node_binary() or "node"
        self._call_timeout = call_timeout
        self._env = env
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stderr_reader: asyncio.Task[None] | None = None
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._waiters: list[tuple[EventPredicate, asyncio.Future[Event]]] = []
        self._ready: asyncio.Future[Event] | None = None
        self.events: deque[Event] = deque(maxlen=history)
        self.stderr_tail: deque[str] = deque(maxlen=200)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self, ready_within: float = 20.0) -> None:
        if self.running:
            return
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._proc = await asyncio.create_subprocess_exec(
            self._node,
            str(DRIVER_SCRIPT),
            cwd=str(NODE_DIR),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(self._env or {})},
            limit=64 * 1024 * 1024,  # rawFrames / encodeState answers can be large
        )
        self._reader = asyncio.create_task(self._read_stdout(), name="node-driver-stdout")
        self._stderr_reader = asyncio.create_task(self._read_stderr(), name="node-driver-stderr")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), ready_within)
        except TimeoutError:
            await self.stop()
            raise DriverError(
                f"driver not ready after {ready_within} s; stderr: {self.stderr_text()}"
            ) from None

    async def stop(self, exit_within: float = 5.0) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.call("quit"), 2.0)
            with contextlib.suppress(Exception):
                if proc.stdin is not None:
                    proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), exit_within)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        for task in (self._reader, self._stderr_reader):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, 2.0)
        self._fail_all(DriverError("driver stopped"))
        self._proc = None

    async def __aenter__(self) -> NodeDriver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def stderr_text(self) -> str:
        return "\n".join(self.stderr_tail)

    async def call(self, cmd: str, *, answer_within: float | None = None, **args: Any) -> dict[str, Any]:
        """Send one command; returns its result fields.

        The answer is awaited `answer_within` seconds (default: call_timeout plus any timeoutMs argument).
        """
        if not self.running or self._proc is None or self._proc.stdin is None:
            raise DriverError(f"driver is not running; stderr: {self.stderr_text()}")
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        line = json.dumps({"id": request_id, "cmd": cmd, **args}, ensure_ascii=False) + "\n"
        timeout = answer_within
        if timeout is None:
            timeout = self._call_timeout + float(args.get("timeoutMs", 0)) / 1000
        try:
            self._proc.stdin.write(line.encode("utf-8"))
            await self._proc.stdin.drain()
            response = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise DriverError(f"no answer to {cmd} within {timeout} s") from None
        finally:
            self._pending.pop(request_id, None)
        if not response.pop("ok", False):
            raise DriverError(f"{cmd}: {response.get('error', response)}")
        response.pop("id", None)
        return response

    async def wait_event(
        self, predicate: EventPredicate, within: float = 10.0, *, include_past: bool = False
    ) -> Event:
        """The next event matching predicate (or, with include_past, one already received)."""
        if include_past:
            for event in self.events:
                if predicate(event):
                    return event
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, within)
        except TimeoutError:
            raise DriverError(f"no matching event within {within} s") from None
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)

    def events_for(self, client: str, event: str | None = None) -> list[Event]:
        return [
            e for e in self.events if e.get("client") == client and (event is None or e["event"] == event)
        ]

    # ---- internals ----

    async def _read_stdout(self) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        stream = self._proc.stdout
        while True:
            try:
                raw = await stream.readline()
            except (ValueError, asyncio.LimitOverrunError) as exc:
                self.stderr_tail.append(f"[node_driver] unreadable stdout line: {exc}")
                continue
            if not raw:
                break
            try:
                message = json.loads(raw)
            except json.JSONDecodeError:
                self.stderr_tail.append(f"[node_driver] non-JSON stdout: {raw[:200]!r}")
                continue
            if not isinstance(message, dict):
                continue
            if "event" in message:
                self._dispatch_event(message)
                continue
            request_id = message.get("id")
            future = self._pending.get(request_id) if isinstance(request_id, int) else None
            if future is not None and not future.done():
                future.set_result(message)
        self._fail_all(DriverError(f"driver exited; stderr: {self.stderr_text()}"))

    async def _read_stderr(self) -> None:
        assert self._proc is not None
        assert self._proc.stderr is not None
        while True:
            raw = await self._proc.stderr.readline()
            if not raw:
                break
            text = raw.decode("utf-8", "replace").rstrip()
            self.stderr_tail.append(text)
            if os.environ.get("NODE_DRIVER_VERBOSE"):
                print(text, file=sys.stderr)

    def _dispatch_event(self, event: Event) -> None:
        if event.get("event") == "ready" and self._ready is not None and not self._ready.done():
            self._ready.set_result(event)
            return
        self.events.append(event)
        for predicate, future in list(self._waiters):
            if future.done():
                continue
            try:
                matched = predicate(event)
            except Exception as exc:  # a broken predicate fails its own waiter, not the reader
                future.set_exception(exc)
                continue
            if matched:
                future.set_result(event)

    def _fail_all(self, error: DriverError) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(error)
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(error)
