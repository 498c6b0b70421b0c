"""Fan-out between sync instances through Redis pub/sub (only when REDIS_URL is set).

Each document has one channel. An instance publishes, once per accepted update and only after the
update is durable, `(its id, the log row id, the update)`; peers apply it, mark the row as seen (so their
log polling never fetches it again) and forward it to their clients. Awareness and broadcast-stateless
frames of local clients cross the same way. An instance that loads a document asks the peers already
holding it for what it lacks (a state vector; each peer answers with a diff and its clients' awareness).

Pub/sub is fire-and-forget, so it is only the fast path: every instance still reads the durable log
(`server.SyncServer`), and re-reads each open document completely after a Redis outage or a stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from mdreader_sync.lib0 import DecodeError, Decoder, Encoder

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

logger = logging.getLogger("mdreader_sync.fanout")

CHANNEL_PREFIX = "mdreader:sync:"
MAX_PENDING_PUBLISHES = 50_000  # beyond this (Redis down or slow) the oldest are dropped: the log repairs
RECONNECT_BACKOFF = (0.1, 3.0)  # first and longest pause between reconnection attempts


class Kind(IntEnum):
    UPDATE = 0  # row id, update (durable)
    AWARENESS = 1  # awareness update of clients on the sender
    STATELESS = 2  # broadcast-stateless payload
    STATE_REQUEST = 3  # the sender's state vector: "send me what I lack"
    STATE_REPLY = 4  # target instance, diff, awareness of the sender's clients


@dataclass(frozen=True)
class Message:
    kind: Kind
    sender: str
    document_id: uuid.UUID
    row_id: int = 0
    data: bytes = b""
    text: str = ""  # STATELESS payload, STATE_REPLY target
    awareness: bytes = b""


class RemoteRoom(Protocol):
    """What the fan-out needs from a room (room.Room)."""

    document_id: uuid.UUID

    def apply_remote(self, message: Message) -> None: ...

    def state_vector(self) -> bytes: ...

    def state_reply(self, state_vector: bytes) -> tuple[bytes, bytes]:
        """What a peer with this state vector lacks, and the awareness of this instance's clients."""
        ...


def channel(document_id: uuid.UUID) -> bytes:
    return f"{CHANNEL_PREFIX}{document_id}".encode()


def encode(message: Message) -> bytes:
    encoder = Encoder().write_var_uint(message.kind).write_var_string(message.sender)
    if message.kind == Kind.UPDATE:
        encoder.write_var_uint(message.row_id).write_var_uint8_array(message.data)
    elif message.kind in (Kind.AWARENESS, Kind.STATE_REQUEST):
        encoder.write_var_uint8_array(message.data)
    elif message.kind == Kind.STATELESS:
        encoder.write_var_string(message.text)
    else:
        encoder.write_var_string(message.text).write_var_uint8_array(message.data)
        encoder.write_var_uint8_array(message.awareness)
    return encoder.to_bytes()


def decode(document_id: uuid.UUID, data: bytes) -> Message:
    decoder = Decoder(data)
    kind = Kind(decoder.read_var_uint())
    sender = decoder.read_var_string()
    if kind == Kind.UPDATE:
        row_id = decoder.read_var_uint()
        return Message(kind, sender, document_id, row_id=row_id, data=decoder.read_var_uint8_array())
    if kind in (Kind.AWARENESS, Kind.STATE_REQUEST):
        return Message(kind, sender, document_id, data=decoder.read_var_uint8_array())
    if kind == Kind.STATELESS:
        return Message(kind, sender, document_id, text=decoder.read_var_string())
    target = decoder.read_var_string()
    diff = decoder.read_var_uint8_array()
    awareness = decoder.read_var_uint8_array()
    return Message(kind, sender, document_id, data=diff, text=target, awareness=awareness)


def redacted(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class LocalOnly:
    """No Redis: this instance serves alone (the embedded default); every call is a no-op."""

    enabled = False
    healthy = True

    def publish(self, message: Message) -> None:
        pass

    async def subscribe(self, room: RemoteRoom) -> None:
        pass

    async def request_state(self, room: RemoteRoom) -> None:
        pass

    def unsubscribe(self, room: RemoteRoom) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class RedisFanout:
    """One Redis client (connection pool) for publishing and one pub/sub connection per process."""

    enabled = True

    def __init__(
        self,
        url: str,
        *,
        instance_id: str,
        join_timeout: float,
        on_resubscribed: Callable[[], None],
    ) -> None:
        self.instance_id = instance_id
        self.healthy = False
        self._url = url
        self._join_timeout = join_timeout
        self._on_resubscribed = on_resubscribed
        self._rooms: dict[uuid.UUID, set[RemoteRoom]] = {}
        self._joins: dict[uuid.UUID, tuple[set[str], asyncio.Event, int]] = {}
        self._outbox: asyncio.Queue[Message] = asyncio.Queue(MAX_PENDING_PUBLISHES)
        self._redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.published = 0
        self.dropped = 0

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No silent retries inside the client: a lost connection must surface, since the messages sent
        # meanwhile are lost and the documents need a repair.
        self._redis = Redis.from_url(
            self._url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=5,
            health_check_interval=0,
            client_name=f"mdreader-sync:{self.instance_id}",
        )
        logger.info("sharing documents through Redis at %s", redacted(self._url))
        self._tasks = [
            asyncio.create_task(self._receive_loop(), name="redis-subscriber"),
            asyncio.create_task(self._publish_loop(), name="redis-publisher"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()

    # --- rooms ---------------------------------------------------------------------------------------

    async def subscribe(self, room: RemoteRoom) -> None:
        """Before the room loads, so that nothing committed after the load's snapshot can be missed."""
        self._rooms.setdefault(room.document_id, set()).add(room)
        if self._pubsub is not None and self.healthy:
            try:
                await self._pubsub.subscribe(channel(room.document_id))
            except Exception:
                self._lost("subscribe")

    def unsubscribe(self, room: RemoteRoom) -> None:
        rooms = self._rooms.get(room.document_id, set())
        rooms.discard(room)
        if not rooms:
            self._rooms.pop(room.document_id, None)
            if self._pubsub is not None and self.healthy:
                task = asyncio.get_running_loop().create_task(self._unsubscribe(room.document_id))
                task.add_done_callback(_ignore_result)

    async def _unsubscribe(self, document_id: uuid.UUID) -> None:
        if self._pubsub is not None and document_id not in self._rooms:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(channel(document_id))

    async def request_state(self, room: RemoteRoom) -> None:
        """Asks the peers holding the document for what this freshly loaded room lacks (their updates
        not yet durable, their clients' awareness) and waits for every answer, at most `join_timeout`."""
        if self._redis is None or not self.healthy:
            return
        try:
            [(_, subscribers)] = await self._redis.pubsub_numsub(channel(room.document_id))
        except Exception:
            self._lost("PUBSUB NUMSUB")
            return
        peers = int(subscribers) - 1  # ourselves included
        if peers <= 0:
            return
        replied: set[str] = set()
        done = asyncio.Event()
        self._joins[room.document_id] = (replied, done, peers)
        try:
            vector = room.state_vector()
            self.publish(Message(Kind.STATE_REQUEST, self.instance_id, room.document_id, data=vector))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._join_timeout):
                    await done.wait()
            if len(replied) < peers:
                logger.info(
                    "document %s: %d of %d peers answered within %.1f s",
                    room.document_id,
                    len(replied),
                    peers,
                    self._join_timeout,
                )
        finally:
            self._joins.pop(room.document_id, None)

    # --- publishing ----------------------------------------------------------------------------------

    def publish(self, message: Message) -> None:
        """Queued, never awaited by the caller; published in order, pipelined."""
        if self._outbox.full():
            self._outbox.get_nowait()
            self.dropped += 1
        self._outbox.put_nowait(message)

    async def _publish_loop(self) -> None:
        assert self._redis is not None
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 1000:
                batch.append(self._outbox.get_nowait())
            if not self.healthy:
                self.dropped += len(batch)  # the log (and the repair after reconnecting) carries them
                continue
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for message in batch:
                        pipe.publish(channel(message.document_id), encode(message))
                    await pipe.execute()
                self.published += len(batch)
            except Exception:
                self.dropped += len(batch)
                self._lost("publish")

    # --- receiving -----------------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        backoff = RECONNECT_BACKOFF[0]
        while True:
            try:
                await self._connect()
                backoff = RECONNECT_BACKOFF[0]
                await self._read_messages()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.healthy:
                    logger.warning("Redis connection lost (%s); serving local clients only", _describe(exc))
                self.healthy = False
            if self._pubsub is not None:
                with contextlib.suppress(Exception):
                    await self._pubsub.aclose()  # type: ignore[no-untyped-call]
                self._pubsub = None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_BACKOFF[1])

    async def _connect(self) -> None:
        assert self._redis is not None
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._redis.ping()
        await pubsub.subscribe(channel(uuid.UUID(int=0)))  # the connection exists even with no rooms
        if self._rooms:
            await pubsub.subscribe(*(channel(document_id) for document_id in self._rooms))
        self._pubsub = pubsub
        was_degraded = not self.healthy
        self.healthy = True
        if was_degraded:
            logger.info("Redis connected; %d documents subscribed", len(self._rooms))
            self._on_resubscribed()  # messages may have been missed meanwhile: repair from the log

    async def _read_messages(self) -> None:
        assert self._pubsub is not None
        while self.healthy:
            received = await self._pubsub.get_message(timeout=1.0)
            if received is not None and received.get("type") == "message":
                self._dispatch(received)

    def _dispatch(self, received: dict[str, Any]) -> None:
        name = received["channel"].decode()
        try:
            document_id = uuid.UUID(name.removeprefix(CHANNEL_PREFIX))
            message = decode(document_id, received["data"])
        except (ValueError, DecodeError):
            logger.warning("ignored a malformed message on %s", name)
            return
        if message.sender == self.instance_id:
            return  # Redis delivers our own publishes back to us
        for room in list(self._rooms.get(document_id, ())):
            self._deliver(room, message)

    def _deliver(self, room: RemoteRoom, message: Message) -> None:
        document_id = message.document_id
        if message.kind == Kind.STATE_REQUEST:
            diff, awareness = room.state_reply(message.data)
            self.publish(
                Message(
                    Kind.STATE_REPLY,
                    self.instance_id,
                    document_id,
                    data=diff,
                    text=message.sender,
                    awareness=awareness,
                )
            )
            return
        if message.kind == Kind.STATE_REPLY:
            if message.text != self.instance_id:
                return
            join = self._joins.get(document_id)
            if join is not None:
                replied, done, expected = join
                replied.add(message.sender)
                if len(replied) >= expected:
                    done.set()
        try:
            room.apply_remote(message)
        except Exception:
            logger.exception("document %s: applying a message from %s failed", document_id, message.sender)

    def _lost(self, operation: str) -> None:
        if self.healthy:
            logger.warning("Redis %s failed; reconnecting", operation)
        self.healthy = False


Fanout = LocalOnly | RedisFanout


def create_fanout(
    url: str | None, *, instance_id: str, join_timeout: float, on_resubscribed: Callable[[], None]
) -> Fanout:
    if not url:
        return LocalOnly()
    return RedisFanout(
        url, instance_id=instance_id, join_timeout=join_timeout, on_resubscribed=on_resubscribed
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _ignore_result(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
