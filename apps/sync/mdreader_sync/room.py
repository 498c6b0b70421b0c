"""A live document: the pycrdt Doc and Awareness shared by its connections, and its persistence.

One Room per document per process. Updates from clients are applied in memory and broadcast at once; a
single writer task appends them to the durable log in batches (group commit) and only then acknowledges
each with SyncStatus(1), in arrival order (see writer.py). Compaction into `documents.yjs_state` is debounced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pycrdt import Awareness, Doc, TransactionEvent, get_state

from mdreader_sync import protocol
from mdreader_sync.fanout import Fanout, Kind, Message
from mdreader_sync.lib0 import DecodeError, Decoder
from mdreader_sync.store import DocumentStore, LoggedUpdate, StoredDocument
from mdreader_sync.writer import DurableWriter

if TYPE_CHECKING:
    from mdreader_sync.settings import SyncSettings

logger = logging.getLogger("mdreader_sync.room")

REMOTE = "remote"  # origin of what another instance sent: never published again


class Peer(Protocol):
    """What a room needs from a document connection."""

    read_only: bool

    def send(self, frame: bytes) -> None: ...

    def revoke(self) -> None: ...


class InvalidUpdateError(ValueError):
    """The client sent bytes that are not a Yjs update."""


@dataclass
class _Compaction:
    first_pending: float | None = None
    due: float = 0.0
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class Room:
    def __init__(
        self,
        name: str,
        document_id: uuid.UUID,
        *,
        store: DocumentStore,
        writer: DurableWriter,
        fanout: Fanout,
        settings: SyncSettings,
        provisional_owner: uuid.UUID | None,
        on_empty: Callable[[Room], None],
    ) -> None:
        self.name = name
        self.document_id = document_id
        self.provisional_owner = provisional_owner
        self.doc: Doc[Any] = Doc()
        self.awareness = Awareness(
            self.doc, outdated_timeout=int(settings.sync_awareness_timeout_seconds * 1000)
        )
        self.awareness.set_local_state(None)  # the server is not a client
        self.peers: dict[Peer, set[int]] = {}  # connection -> awareness client ids it announced
        self.seen_log_ids: set[int] = set()
        self._store = store
        self._writer = writer
        self._fanout = fanout
        self._settings = settings
        self._loaded = False
        self._early: list[Message] = []  # from peers while loading: applied after the load
        self._on_empty = on_empty
        self._last_transaction_update = b""
        self._in_flight = 0  # submitted to the writer, not yet durable
        self._drained = asyncio.Event()
        self._drained.set()
        self._revoked = False
        self._compaction = _Compaction()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False
        self.doc.observe(self._capture_update)
        self.awareness.observe(self._on_awareness)

    # --- lifecycle -------------------------------------------------------------------------------

    async def load(self) -> None:
        stored = await self._store.load(self.document_id)
        with self.doc.transaction(origin="load"):
            if stored.state:
                self.doc.apply_update(stored.state)
            for row in stored.log:
                self.doc.apply_update(row.update)
        self.seen_log_ids.update(row.id for row in stored.log)
        self._loaded = True
        for message in self._early:
            self.apply_remote(message)
        self._early.clear()
        self._tasks = [asyncio.create_task(self._compact_loop(), name=f"compactor:{self.name}")]

    async def close(self) -> None:
        """Flushes pending writes and the compaction, then stops the room's tasks."""
        if self._closed:
            return
        self._closed = True
        await self._drained.wait()
        await self.compact_now()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- connections -----------------------------------------------------------------------------

    def join(self, peer: Peer) -> None:
        self.peers[peer] = set()
        if self.awareness.states:
            peer.send(
                protocol.awareness(
                    self.name, self.awareness.encode_awareness_update(list(self.awareness.states))
                )
            )

    def leave(self, peer: Peer) -> None:
        client_ids = self.peers.pop(peer, set())
        if client_ids:
            self.awareness.remove_awareness_states(list(client_ids), peer)
        if not self.peers:
            self._on_empty(self)

    @property
    def connection_count(self) -> int:
        return len(self.peers)

    def broadcast(self, frame: bytes, *, skip: Peer | None = None) -> None:
        for peer in list(self.peers):
            if peer is not skip:
                peer.send(frame)

    # --- sync --------------------------------------------------------------------------------------

    def sync_step1_reply(self, state_vector: bytes) -> tuple[bytes, bytes]:
        """Our Step1 and the Step2 answering the client's Step1 (sent in that order)."""
        try:
            diff = self.doc.get_update(state_vector)
        except Exception as exc:
            raise InvalidUpdateError(f"bad state vector: {exc}") from None
        return (
            protocol.sync_message(self.name, protocol.SyncStep.STEP1, self.doc.get_state()),
            protocol.sync_message(self.name, protocol.SyncStep.STEP2, diff),
        )

    def apply_client_update(self, update: bytes, sender: Peer, on_durable: Callable[[], None]) -> None:
        """Applies, broadcasts to the other connections, and acks (via on_durable) once it is stored."""
        applied = self._apply_and_forward(update, origin=sender)

        def durable(row_id: int | None) -> None:
            on_durable()
            if row_id is not None:  # peers get it once it is durable, with its row id
                self._publish(Kind.UPDATE, row_id=row_id, data=applied)

        self._append(applied, on_durable=durable)

    def _append(self, update: bytes, *, on_durable: Callable[[int | None], None]) -> None:
        """Appends `update` (if any) to the durable log; `on_durable` gets its row id once committed."""
        self._in_flight += 1
        self._drained.clear()

        def durable(row_id: int | None) -> None:
            if row_id is not None:
                self.seen_log_ids.add(row_id)
                self._schedule_compaction()
            on_durable(row_id)
            self._written()

        def revoked() -> None:
            self._written()
            self.revoke_all()

        self._writer.submit(
            self.document_id,
            update or None,
            provisional_owner=self.provisional_owner,
            on_durable=durable,
            on_revoked=revoked,
        )

    def _written(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._drained.set()

    def contains(self, update: bytes) -> bool:
        """Read-only Step2 ack: does the document already hold everything `update` carries?

        Approximated by state-vector coverage (pycrdt has no snapshotContainsUpdate); an update that only
        deletes is reported as contained.
        """
        try:
            theirs = _decode_state_vector(get_state(update))
        except Exception:
            return False
        ours = _decode_state_vector(self.doc.get_state())
        return all(ours.get(client, 0) >= clock for client, clock in theirs.items())

    # --- other instances ---------------------------------------------------------------------------

    def apply_remote(self, message: Message) -> None:
        """A message from another instance (fanout.py): applied here and forwarded to our clients."""
        if not self._loaded:
            self._early.append(message)
            return
        if message.kind == Kind.UPDATE:
            self.apply_logged([LoggedUpdate(message.row_id, message.data)])
        elif message.kind == Kind.AWARENESS:
            self.apply_awareness(message.data, REMOTE)
        elif message.kind == Kind.STATELESS:
            self.broadcast(protocol.stateless(self.name, message.text))
        elif message.kind == Kind.STATE_REPLY:
            if message.awareness:
                self.apply_awareness(message.awareness, REMOTE)
            applied = self._apply_and_forward(message.data, origin=REMOTE)
            if applied:  # the peer's updates not durable yet: stored here too, so we hold nothing unstored
                self._append(applied, on_durable=lambda _row_id: None)

    def resync(self, stored: StoredDocument) -> None:
        """Repair: applies the whole stored document (compacted state and log); forwards what was new."""
        if stored.state:
            self._apply_and_forward(stored.state, origin="log")
        self.seen_log_ids.difference_update(row.id for row in stored.log)
        self.apply_logged(stored.log)

    def forget_seen_up_to(self, row_id: int) -> None:
        """The log poll never lists ids at or below its lookback cursor again: keep the set small."""
        if self.seen_log_ids and min(self.seen_log_ids) <= row_id:
            self.seen_log_ids = {seen for seen in self.seen_log_ids if seen > row_id}

    def state_vector(self) -> bytes:
        return self.doc.get_state()

    def state_reply(self, state_vector: bytes) -> tuple[bytes, bytes]:
        local_clients = [client for ids in self.peers.values() for client in ids]
        awareness = self.awareness.encode_awareness_update(local_clients) if local_clients else b""
        return self.doc.get_update(state_vector), awareness

    def broadcast_stateless(self, payload: str) -> None:
        self.broadcast(protocol.stateless(self.name, payload))
        self._publish(Kind.STATELESS, text=payload)

    def apply_logged(self, rows: list[LoggedUpdate]) -> None:
        """Log rows written by someone else (REST, another instance): apply and forward to everyone."""
        for row in rows:
            if row.id in self.seen_log_ids:
                continue
            self.seen_log_ids.add(row.id)
            try:
                self._apply_and_forward(row.update, origin="log")
            except InvalidUpdateError:
                logger.error("document %s: log row %s is not a Yjs update; skipped", self.name, row.id)

    def _apply_and_forward(self, update: bytes, *, origin: object) -> bytes:
        """Applies, and sends what was new to the connections (all but the sender when it is one)."""
        applied = self._apply(update, origin=origin)
        if applied:
            frame = protocol.sync_message(self.name, protocol.SyncStep.UPDATE, applied)
            self.broadcast(frame, skip=origin if origin in self.peers else None)
        return applied

    def _publish(self, kind: Kind, **fields: Any) -> None:
        """To the other instances (a no-op without Redis)."""
        self._fanout.publish(Message(kind, self._settings.sync_instance_id, self.document_id, **fields))

    def _apply(self, update: bytes, *, origin: object) -> bytes:
        """Returns what the update added (empty when nothing new)."""
        self._last_transaction_update = b""
        try:
            with self.doc.transaction(origin=origin):
                self.doc.apply_update(update)
        except Exception as exc:
            raise InvalidUpdateError(str(exc)) from None
        return (
            self._last_transaction_update if self._last_transaction_update != protocol.EMPTY_UPDATE else b""
        )

    def _capture_update(self, event: TransactionEvent) -> None:
        self._last_transaction_update = event.update

    # --- awareness ---------------------------------------------------------------------------------

    def apply_awareness(self, update: bytes, sender: Peer | str) -> None:
        try:
            self.awareness.apply_awareness_update(update, sender)
        except Exception as exc:
            raise InvalidUpdateError(f"bad awareness update: {exc}") from None

    def _on_awareness(self, topic: str, change: tuple[dict[str, Any], Any]) -> None:
        details, origin = change
        if topic == "change" and origin in self.peers:
            ids = self.peers[origin]
            ids.update(details["added"])
            ids.difference_update(details["removed"])
        if topic == "update":
            changed = details["added"] + details["updated"] + details["removed"]
            update = self.awareness.encode_awareness_update(changed)
            # Everyone, the sender included: the echo of its own renewal is the provider's keepalive.
            self.broadcast(protocol.awareness(self.name, update))
            if origin != REMOTE and origin != "timeout":  # each instance times out stale states itself
                self._publish(Kind.AWARENESS, data=update)

    def sweep_awareness(self, now_ms: int) -> None:
        timeout = self._settings.sync_awareness_timeout_seconds * 1000
        stale = [
            client
            for client, meta in self.awareness.meta.items()
            if client in self.awareness.states and now_ms - meta["lastUpdated"] >= timeout
        ]
        if stale:
            self.awareness.remove_awareness_states(stale, "timeout")

    # --- persistence -------------------------------------------------------------------------------

    def revoke_all(self) -> None:
        """The provisional content is no longer this room's to keep (claimed by someone else, purged)."""
        if not self._revoked:
            logger.warning("document %s: provisional content is no longer ours; closing the room", self.name)
            self._revoked = True
        for peer in list(self.peers):
            peer.revoke()

    def _schedule_compaction(self) -> None:
        now = time.monotonic()
        state = self._compaction
        if state.first_pending is None:
            state.first_pending = now
        state.due = min(
            state.first_pending + self._settings.sync_max_debounce_seconds,
            now + self._settings.sync_debounce_seconds,
        )
        state.wake.set()

    async def _compact_loop(self) -> None:
        state = self._compaction
        while True:
            await state.wake.wait()
            state.wake.clear()
            while state.first_pending is not None and time.monotonic() < state.due:
                with contextlib.suppress(TimeoutError):  # asyncio.timeout keeps cancellation (see server.py)
                    async with asyncio.timeout(state.due - time.monotonic()):
                        await state.wake.wait()
                state.wake.clear()
            await self.compact_now()

    async def compact_now(self) -> None:
        """One compaction at a time per room (the loop is its only caller besides close)."""
        self._compaction.first_pending = None
        try:
            merged = await self._store.compact(self.document_id)
        except Exception:
            logger.exception("document %s: compaction failed; will retry on the next write", self.name)
            self._schedule_compaction()
            return
        if merged:  # the rows stay listed (marked merged) for a while: keep them seen (see forget_seen_up_to)
            self.apply_logged(merged)


def _decode_state_vector(data: bytes) -> dict[int, int]:
    decoder = Decoder(data)
    try:
        return {decoder.read_var_uint(): decoder.read_var_uint() for _ in range(decoder.read_var_uint())}
    except DecodeError:
        return {}
