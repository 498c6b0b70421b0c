"""Multi-instance harness: sync instances joined by a real Redis (in-process or as processes behind a
real nginx), a Redis server that tests may stop and restart on the same port, and raw-client replicas
that keep a pycrdt copy of what they receive."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pycrdt
import pytest
import redis

from mdreader_sync import protocol
from mdreader_sync.protocol import MessageType, SyncStep
from mdreader_sync.server import SyncServer
from tests.servers import free_port, redis_command
from tests.sync.harness import RawClient, Received, SyncStack, auth_frame, sync_settings


class RedisProcess:
    """A non-persistent redis-server on a fixed loopback port, so it can be killed and restarted."""

    def __init__(self, password: str | None = None, *, tls: bool = False) -> None:
        self.port = free_port()
        self.password = password
        self._dir = tempfile.mkdtemp(prefix="mdreader-redis-")
        self.tls = tls
        auth = f":{password}@" if password else ""
        if tls:  # like ElastiCache in-transit encryption; the test CA is passed in the URL
            self.ca_file = write_test_certificates(Path(self._dir))
            self.url = f"rediss://{auth}127.0.0.1:{self.port}/0?ssl_ca_certs={self.ca_file}"
        else:
            self.url = f"redis://{auth}127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = redis_command(port=self.port, work_dir=self._dir, tls_port=self.tls)
        if self.password:
            command += ["--requirepass", self.password]
        if self.tls:
            certs = Path(self._dir)
            command += ["--tls-cert-file", str(certs / "server.pem")]
            command += ["--tls-key-file", str(certs / "server.key")]
            command += ["--tls-ca-cert-file", str(certs / "ca.pem"), "--tls-auth-clients", "no"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if self.client().ping():
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def publishes(self) -> int:
        """PUBLISH commands executed so far (INFO commandstats)."""
        stats = self.client().info("commandstats")
        return int(stats.get("cmdstat_publish", {}).get("calls", 0))

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self._dir, ignore_errors=True)


@pytest.fixture
def private_redis() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
async def fleet(sync_stack: SyncStack, private_redis: RedisProcess) -> AsyncIterator[SyncStack]:
    """`sync_stack` with two instances (server = A, extra_servers[0] = B) joined by a private Redis."""
    await sync_stack.server.stop()
    overrides: dict[str, Any] = {"redis_url": private_redis.url}
    sync_stack.server = SyncServer(sync_settings(sync_stack.database_url, sync_instance_id="A", **overrides))
    second = SyncServer(sync_settings(sync_stack.database_url, sync_instance_id="B", **overrides))
    for server in (sync_stack.server, second):
        await server.start()
    sync_stack.extra_servers.append(second)
    await wait_until(lambda: all(s.fanout.healthy for s in (sync_stack.server, second)), what="Redis")
    try:
        yield sync_stack
    finally:
        for server in sync_stack.extra_servers:
            await server.stop()


def url_of(server: SyncServer) -> str:
    return f"ws://127.0.0.1:{server.port}"


async def wait_until(
    condition: Callable[[], bool], *, within: float = 10.0, what: str = "condition"
) -> float:
    """Polls `condition`; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"{what} not reached within {within} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


class Replica:
    """A raw client past the handshake with a pycrdt copy of the document built from what it receives."""

    def __init__(self, client: RawClient, name: str) -> None:
        self.client = client
        self.name = name
        self.doc: pycrdt.Doc[Any] = pycrdt.Doc()
        self.text = self.doc.get("t", type=pycrdt.Text)
        self.acks = 0
        self.synced = False  # the server's Step2 arrived
        self.awareness_frames: list[bytes] = []
        self.stateless: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, name: str, token: str) -> Replica:
        """Authenticated and synced (the server's Step2 applied); every frame before it is kept too."""
        replica = cls(await RawClient.open(url), name)
        await replica.client.send(auth_frame(name, token))
        await replica.client.send(protocol.sync_message(name, SyncStep.STEP1, replica.doc.get_state()))
        assert (await replica.client.next()).raw == protocol.authenticated(name, read_only=False)
        while not replica.synced:
            replica._handle(await replica.client.next())
        replica._reader = asyncio.create_task(replica._read())
        return replica

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                self._handle(await self.client.next(within=3600))

    def _handle(self, received: Received) -> None:
        body = received.frame.body
        if received.type == MessageType.SYNC:
            step = body.read_var_uint()
            if step in (SyncStep.STEP2, SyncStep.UPDATE):
                self.doc.apply_update(body.read_var_uint8_array())
                self.synced = self.synced or step == SyncStep.STEP2
        elif received.type == MessageType.SYNC_STATUS:
            self.acks += 1
        elif received.type == MessageType.AWARENESS:
            self.awareness_frames.append(body.read_var_uint8_array())
        elif received.type == MessageType.STATELESS:
            self.stateless.append(body.read_var_string())

    async def type(self, text: str) -> None:
        """Appends `text` locally and sends the update (as a provider does)."""
        before = self.doc.get_state()
        self.text.insert(len(str(self.text)), text)
        await self.client.send(protocol.sync_message(self.name, SyncStep.UPDATE, self.doc.get_update(before)))

    def content(self) -> str:
        return str(self.text)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.client.close()


def awareness_states(frames: list[bytes]) -> dict[int, Any]:
    """The awareness states a client holds after applying `frames` in order."""
    watcher = pycrdt.Awareness(pycrdt.Doc())
    for frame in frames:
        watcher.apply_awareness_update(frame, "test")
    return dict(watcher.states)


NGINX_BINARY = Path("/usr/sbin/nginx")


class Nginx:
    """nginx from Debian as the load balancer: WebSocket upgrade, round robin over the instances, and a
    failed instance skipped (as the ALB's health checks do) so clients reconnect to a live one."""

    def __init__(self, upstream_ports: list[int]) -> None:
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="mdreader-nginx-"))
        self._upstream_ports = upstream_ports
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = self._dir / "nginx.conf"
        config.write_text(nginx_config(self.port, self._upstream_ports, self._dir))
        self._process = subprocess.Popen(
            [str(NGINX_BINARY), "-p", str(self._dir), "-c", str(config), "-g", "daemon off;"],
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket_to(self.port):
                return
            if self._process.poll() is not None or time.monotonic() > deadline:
                stderr = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"nginx did not start: {stderr}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)


def nginx_config(port: int, upstream_ports: list[int], work_dir: Path) -> str:
    """The same configuration the local fleet uses (scripts/dev_fleet.py renders it)."""
    from scripts.dev_fleet import render

    return render(listen_port=port, upstream_ports=upstream_ports, work_dir=work_dir)


@contextlib.contextmanager
def socket_to(port: int) -> Iterator[None]:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
        yield


def write_test_certificates(directory: Path) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1 (ca.pem, server.pem, server.key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mdreader test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return directory / "ca.pem"
