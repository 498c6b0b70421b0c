"""One client WebSocket: its frames, in order, and a state machine per (socket, document).

Frames of a document wait in a bounded queue until its Auth frame is accepted (when auth is required).
A refused document gets PermissionDenied and may retry on the same socket; the socket stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from mdreader_sync import protocol
from mdreader_sync.access import Access, AccessDenied
from mdreader_sync.lib0 import DecodeError
from mdreader_sync.protocol import AuthMessage, Frame, MessageType, SyncStep
from mdreader_sync.room import InvalidUpdateError, Room

if TYPE_CHECKING:
    from mdreader_sync.server import SyncServer

logger = logging.getLogger("mdreader_sync.connection")


class CloseEvent:
    """Hocuspocus close events (code, reason): part of the contract."""

    PROVIDER_INITIATED = (1000, "provider_initiated")
    RESET = (4205, "Reset Connection")
    UNAUTHORIZED = (4401, "Unauthorized")
    TIMEOUT = (4408, "Connection Timeout")


class State(Enum):
    PENDING = "pending"  # waiting for Auth; frames are queued
    OPEN = "open"


@dataclass(eq=False)
class DocumentConnection:
    """One document on one socket. Hashable by identity: rooms key their peers by it."""

    socket: ClientSocket
    name: str
    state: State = State.PENDING
    read_only: bool = False
    room: Room | None = None
    queued: list[Frame] = field(default_factory=list)
    queued_bytes: int = 0

    def send(self, frame: bytes) -> None:
        self.socket.send(frame)

    def revoke(self) -> None:
        """Access is gone (e.g. provisional content claimed by someone else): detach like a refusal."""
        self.socket.send(protocol.permission_denied(self.name))
        self.socket.detach(self)


class ClientSocket:
    def __init__(self, server: SyncServer, websocket: ServerConnection, share_token: str | None) -> None:
        self.server = server
        self.websocket = websocket
        self.share_token = share_token
        self.documents: dict[str, DocumentConnection] = {}
        self.provider_v4 = False  # only v4 providers say their version; v2 throws on CLOSE frames
        self._outbound: asyncio.Queue[bytes] = asyncio.Queue()
        self._closing = False
        self._ever_established = False

    # --- outbound ----------------------------------------------------------------------------------

    def send(self, frame: bytes) -> None:
        if self._closing:
            return
        if self._outbound.qsize() >= self.server.settings.sync_outbound_queue_frames:
            logger.warning("socket %s: outbound queue full (slow consumer); resetting", self.websocket.id)
            self.close(*CloseEvent.RESET)
            return
        self._outbound.put_nowait(frame)

    async def _write_loop(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.websocket.send(await self._outbound.get())

    def close(self, code: int, reason: str) -> None:
        if not self._closing:
            self._closing = True
            asyncio.create_task(self.websocket.close(code, reason))  # noqa: RUF006 - the socket owns it

    # --- inbound -----------------------------------------------------------------------------------

    async def serve(self) -> None:
        writer = asyncio.create_task(self._write_loop())
        keepalive = asyncio.create_task(self._keepalive())
        try:
            first = True
            async for message in self.websocket:
                data = message.encode() if isinstance(message, str) else message
                try:
                    await self._handle(data)
                except DecodeError as error:
                    logger.info("socket %s: undecodable frame (%s)", self.websocket.id, error)
                    self.close(*(CloseEvent.UNAUTHORIZED if first else CloseEvent.RESET))
                except InvalidUpdateError as error:
                    logger.info("socket %s: invalid Yjs payload (%s)", self.websocket.id, error)
                    self.close(*CloseEvent.RESET)
                except Exception:
                    logger.exception("socket %s: frame handling failed", self.websocket.id)
                    self.close(*CloseEvent.RESET)
                first = False
        finally:
            keepalive.cancel()
            for connection in list(self.documents.values()):
                self.detach(connection)
            await asyncio.sleep(0)  # let the writer flush what is queued before it stops
            writer.cancel()

    async def _keepalive(self) -> None:
        """WebSocket pings (v2/v3 semantics): no pong within the period closes with 4408; a socket
        that established no document within the period closes with 4401."""
        period = self.server.settings.sync_timeout_seconds
        with contextlib.suppress(ConnectionClosed):
            while True:
                pong = asyncio.ensure_future(await self.websocket.ping())
                await asyncio.sleep(period)
                if not self._ever_established:
                    self.close(*CloseEvent.UNAUTHORIZED)
                    return
                if not pong.done():
                    self.close(*CloseEvent.TIMEOUT)
                    return

    async def _handle(self, data: bytes) -> None:
        if data == protocol.PONG_FRAME:
            return
        frame = protocol.parse_frame(data)
        connection = self.documents.get(frame.document)
        if connection is None:
            if (
                len(self.documents) >= self.server.settings.sync_preauth_max_documents
                and not self._ever_established
            ):
                self.close(*CloseEvent.RESET)
                return
            connection = self.documents[frame.document] = DocumentConnection(self, frame.document)
        if connection.state is State.OPEN:
            await self._dispatch(connection, frame)
        elif frame.type == MessageType.AUTH:
            await self._authenticate(connection, frame)
        elif not self.server.settings.sync_require_auth:
            await self._open(connection, self.server.anonymous_access(frame.document))
            await self._dispatch(connection, frame)
        else:
            self._queue(connection, frame, len(data))

    def _queue(self, connection: DocumentConnection, frame: Frame, size: int) -> None:
        settings = self.server.settings
        connection.queued.append(frame)
        connection.queued_bytes += size
        if (
            len(connection.queued) > settings.sync_preauth_max_frames
            or connection.queued_bytes > settings.sync_preauth_max_bytes
        ):
            self.close(*CloseEvent.RESET)

    async def _authenticate(self, connection: DocumentConnection, frame: Frame) -> None:
        if frame.body.read_var_uint() != AuthMessage.TOKEN:
            return
        token = frame.body.read_var_string()
        if frame.body.has_more():
            frame.body.read_var_string()  # the v4 provider's version
            self.provider_v4 = True
        try:
            access = await self.server.authorize(frame.document, token, self.share_token)
        except AccessDenied as denied:
            self.send(protocol.permission_denied(frame.document, denied.reason))
            del self.documents[frame.document]  # a retry on this socket starts afresh (v4 semantics)
            return
        await self._open(connection, access)

    async def _open(self, connection: DocumentConnection, access: Access) -> None:
        connection.read_only = access.read_only
        self.send(protocol.authenticated(connection.name, read_only=access.read_only))
        connection.room = await self.server.rooms.join(connection, access)
        connection.state = State.OPEN
        self._ever_established = True
        queued, connection.queued = connection.queued, []
        for frame in queued:
            await self._dispatch(connection, frame)

    def detach(self, connection: DocumentConnection) -> None:
        if self.documents.get(connection.name) is connection:
            del self.documents[connection.name]
        if connection.room is not None:
            self.server.rooms.leave(connection)
            connection.room = None

    # --- established documents ---------------------------------------------------------------------

    async def _dispatch(self, connection: DocumentConnection, frame: Frame) -> None:
        room = connection.room
        assert room is not None
        body = frame.body
        if frame.type in (MessageType.SYNC, MessageType.SYNC_REPLY):
            step = body.read_var_uint()
            data = body.read_var_uint8_array()
            if step == SyncStep.STEP1:
                for reply in room.sync_step1_reply(data):
                    self.send(reply)
            elif step in (SyncStep.STEP2, SyncStep.UPDATE):
                self._receive_update(connection, room, SyncStep(step), data)
        elif frame.type == MessageType.AWARENESS:
            room.apply_awareness(body.read_var_uint8_array(), connection)
        elif frame.type == MessageType.STATELESS:
            logger.debug("document %s: stateless message ignored", frame.document)
        elif frame.type == MessageType.BROADCAST_STATELESS:
            room.broadcast_stateless(body.read_var_string())
        elif frame.type == MessageType.CLOSE:
            self._close_document(connection)
        # QueryAwareness needs no answer (Hocuspocus gives none); Auth after opening and unknown types
        # are dropped.

    def _receive_update(
        self, connection: DocumentConnection, room: Room, step: SyncStep, data: bytes
    ) -> None:
        name = connection.name
        if connection.read_only:
            self.send(protocol.sync_status(name, step == SyncStep.STEP2 and room.contains(data)))
            return
        room.apply_client_update(data, connection, lambda: self.send(protocol.sync_status(name, True)))

    def _close_document(self, connection: DocumentConnection) -> None:
        self.detach(connection)
        if self.provider_v4:
            self.send(protocol.close(connection.name, CloseEvent.PROVIDER_INITIATED[1]))
        elif not self.documents:
            self.close(*CloseEvent.PROVIDER_INITIATED)
