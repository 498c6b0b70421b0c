"""Sync service harness: the real service (in-process, port 0) and the real backend on a migrated
PostgreSQL database of their own, plus a raw-frame WebSocket client for protocol-level tests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pycrdt
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from mdreader_backend.main import create_app
from mdreader_backend.migrate import upgrade
from mdreader_sync import protocol
from mdreader_sync.lib0 import Encoder
from mdreader_sync.protocol import Frame, MessageType
from mdreader_sync.server import SyncServer
from mdreader_sync.settings import SyncSettings
from tests.backend.conftest import (
    TEST_SECRET,
    Account,
    create_document,
    create_workspace,
    make_settings,
    register,
)
from tests.backend.conftest import truncate_all as truncate_backend
from tests.conftest import asyncpg_url
from tests.servers import free_port

FAST_SYNC = {
    "sync_debounce_seconds": 0.2,
    "sync_max_debounce_seconds": 1.0,
    "sync_poll_interval_seconds": 0.2,
    "sync_presence_interval_seconds": 1.0,
}


@pytest.fixture(scope="session")
def sync_database_url(postgres_base_url: str) -> str:
    """A database of the sync tests' own (the backend tests truncate theirs before every test)."""

    async def create() -> None:
        connection = await asyncpg.connect(postgres_base_url)
        try:
            await connection.execute("DROP DATABASE IF EXISTS mdreader_sync_tests")
            await connection.execute("CREATE DATABASE mdreader_sync_tests")
        finally:
            await connection.close()

    asyncio.run(create())
    url = asyncpg_url(postgres_base_url.rsplit("/", 1)[0] + "/mdreader_sync_tests")
    upgrade(url)
    return url


def sync_settings(database_url: str, **overrides: Any) -> SyncSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "environment": "test",
        "sync_port": 0,
        **FAST_SYNC,
        **overrides,
    }
    return SyncSettings(**values)


@dataclass
class SyncStack:
    """The backend (REST, in-process) and a running sync service sharing one database."""

    app: FastAPI
    http: httpx.AsyncClient
    server: SyncServer
    database_url: str
    extra_servers: list[SyncServer] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}"

    async def user(self, name: str) -> Account:
        return await register(self.http, name)

    async def document(self, owner: Account, **fields: Any) -> dict[str, Any]:
        workspace = await create_workspace(self.http, owner)
        return await create_document(self.http, owner, workspace["id"], **fields)

    async def restart_sync(self, **overrides: Any) -> SyncServer:
        await self.server.stop()
        self.server = SyncServer(sync_settings(self.database_url, **overrides))
        await self.server.start()
        return self.server


@pytest.fixture
async def sync_stack(sync_database_url: str, request: pytest.FixtureRequest) -> AsyncIterator[SyncStack]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    app = create_app(make_settings(sync_database_url))
    await truncate_backend(app)
    server = SyncServer(sync_settings(sync_database_url, **overrides))
    await server.start()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
        stack = SyncStack(app=app, http=http, server=server, database_url=sync_database_url)
        try:
            yield stack
        finally:
            await stack.server.stop()
            await app.state.engine.dispose()


def auth_frame(document: str, token: str, *, provider_version: str | None = None) -> bytes:
    encoder = Encoder().write_var_string(document).write_var_uint(MessageType.AUTH).write_var_uint(0)
    encoder.write_var_string(token)
    if provider_version:
        encoder.write_var_string(provider_version)
    return encoder.to_bytes()


@dataclass(frozen=True)
class Received:
    frame: Frame
    raw: bytes

    @property
    def type(self) -> int:
        return self.frame.type


class RawClient:
    """Speaks frames directly, to pin down exact server behaviour (order, codes, acks)."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket

    @classmethod
    async def open(cls, url: str, path: str = "/") -> RawClient:
        return cls(await connect(url + path, max_size=None, open_timeout=5))

    async def send(self, frame: bytes) -> None:
        await self.websocket.send(frame)

    async def next(self, within: float = 5.0) -> Received:
        data = await asyncio.wait_for(self.websocket.recv(), within)
        assert isinstance(data, bytes)
        return Received(protocol.parse_frame(data), data)

    async def next_of(self, message_type: MessageType, within: float = 5.0) -> Received:
        """The next frame of that type, skipping others (awareness, echoes)."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            received = await self.next(max(0.01, deadline - asyncio.get_running_loop().time()))
            if received.type == message_type:
                return received

    async def closed(self, within: float = 5.0) -> tuple[int | None, str | None]:
        """Waits for the server to close; returns its close code and reason."""
        try:
            while True:
                await asyncio.wait_for(self.websocket.recv(), within)
        except ConnectionClosed as closed:
            received = closed.rcvd
            return (received.code, received.reason) if received else (None, None)

    async def close(self) -> None:
        await self.websocket.close()


def new_document_name() -> str:
    return str(uuid.uuid4())


class SyncProcess:
    """The service as its own process (`python -m mdreader_sync`), for signals and crashes."""

    def __init__(self, database_url: str, **settings: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": TEST_SECRET,
            "ENVIRONMENT": "test",
            "SYNC_PORT": str(self.port),
            "SYNC_DEBOUNCE_SECONDS": "0.2",
            "SYNC_MAX_DEBOUNCE_SECONDS": "1",
            **{key.upper(): value for key, value in settings.items()},
        }
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self, ready_within: float = 20.0) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "mdreader_sync", env=self.env, stderr=asyncio.subprocess.PIPE
        )
        deadline = asyncio.get_running_loop().time() + ready_within
        async with httpx.AsyncClient() as http:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"http://127.0.0.1:{self.port}/health")).status_code == 200:
                        return
                if self.process.returncode is not None or asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"sync service did not start: {await self._stderr()}")
                await asyncio.sleep(0.1)

    async def _stderr(self) -> str:
        assert self.process is not None
        assert self.process.stderr is not None
        with contextlib.suppress(TimeoutError):
            return (await asyncio.wait_for(self.process.stderr.read(), 5)).decode(errors="replace")[-4000:]
        return ""

    async def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, within: float = 15.0) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), within)

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def text_update(text: str, field: str = "t") -> bytes:
    """A Yjs update from a fresh replica whose Y.Text `field` holds `text`."""
    doc = pycrdt.Doc()
    doc.get(field, type=pycrdt.Text).insert(0, text)
    return doc.get_update()


async def stored_doc(stack: SyncStack, name: str, headers: dict[str, str]) -> pycrdt.Doc[Any]:
    """The document's Yjs state as the REST API returns it (GET /api/v1/documents/{id})."""
    document = (await stack.http.get(f"/api/v1/documents/{name}", headers=headers)).json()
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    if document["yjs_state_b64"]:
        doc.apply_update(base64.b64decode(document["yjs_state_b64"]))
    return doc


async def create_with_id(stack: SyncStack, owner: Account, document_id: str) -> httpx.Response:
    """The client's create of a document it already opened over the WebSocket (its id, a new workspace)."""
    workspace = await create_workspace(stack.http, owner)
    return await stack.http.post(
        "/api/v1/documents",
        params={"workspace_id": workspace["id"]},
        json={"id": document_id, "title": "Created"},
        headers=owner.headers,
    )


async def open_document(url: str, name: str, token: str) -> RawClient:
    """A raw client past the handshake: Authenticated(read-write), the server's Step1 and Step2."""
    client = await RawClient.open(url)
    await client.send(auth_frame(name, token))
    await client.send(protocol.sync_message(name, protocol.SyncStep.STEP1, pycrdt.Doc().get_state()))
    assert (await client.next_of(MessageType.AUTH)).raw == protocol.authenticated(name, read_only=False)
    assert (await client.next_of(MessageType.SYNC)).frame.body.read_var_uint() == protocol.SyncStep.STEP1
    assert (await client.next_of(MessageType.SYNC)).frame.body.read_var_uint() == protocol.SyncStep.STEP2
    return client
