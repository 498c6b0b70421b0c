"""The rooms of this process: one per open document, loaded once, unloaded (flushed) when empty."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from mdreader_sync.access import Access
from mdreader_sync.fanout import Fanout
from mdreader_sync.room import Room
from mdreader_sync.store import DocumentStore
from mdreader_sync.writer import DurableWriter

if TYPE_CHECKING:
    from mdreader_sync.connection import DocumentConnection
    from mdreader_sync.settings import SyncSettings

logger = logging.getLogger("mdreader_sync.rooms")


class RoomRegistry:
    def __init__(
        self, store: DocumentStore, writer: DurableWriter, fanout: Fanout, settings: SyncSettings
    ) -> None:
        self._store = store
        self._writer = writer
        self._fanout = fanout
        self._settings = settings
        self._rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Task[Room]] = {}
        self._unloading: dict[str, asyncio.Task[None]] = {}
        self.changed = asyncio.Event()  # presence changed: connections joined or left

    @property
    def rooms(self) -> dict[str, Room]:
        return self._rooms

    def connection_counts(self) -> dict[uuid.UUID, int]:
        return {room.document_id: room.connection_count for room in self._rooms.values()}

    async def join(self, connection: DocumentConnection, access: Access) -> Room:
        room = await self._get(connection.name, access)
        room.join(connection)
        self.changed.set()
        return room

    def leave(self, connection: DocumentConnection) -> None:
        if connection.room is not None:
            connection.room.leave(connection)
            self.changed.set()

    async def _get(self, name: str, access: Access) -> Room:
        while True:
            if name in self._unloading:  # wait for the flush of the previous incarnation
                await asyncio.shield(self._unloading[name])
                continue
            if name in self._rooms:
                return self._rooms[name]
            if name not in self._loading:
                self._loading[name] = asyncio.create_task(self._load(name, access))
            try:
                return await asyncio.shield(self._loading[name])
            finally:
                self._loading.pop(name, None)

    async def _load(self, name: str, access: Access) -> Room:
        room = Room(
            name,
            access.document_id,
            store=self._store,
            writer=self._writer,
            fanout=self._fanout,
            settings=self._settings,
            provisional_owner=access.user_id if access.provisional else None,
            on_empty=self._unload,
        )
        # Subscribed before the load: whatever peers commit after its snapshot reaches us by pub/sub.
        await self._fanout.subscribe(room)
        try:
            await room.load()
            await self._fanout.request_state(room)
        except BaseException:
            self._fanout.unsubscribe(room)
            raise
        self._rooms[name] = room
        return room

    def _unload(self, room: Room) -> None:
        """The last connection left: flush and drop the room (a new connection waits for the flush)."""
        if self._rooms.get(room.name) is room and room.name not in self._unloading:
            del self._rooms[room.name]
            self._unloading[room.name] = asyncio.create_task(self._close(room))

    async def _close(self, room: Room) -> None:
        try:
            await room.close()
        except Exception:
            logger.exception("document %s: closing the room failed", room.name)
        finally:
            self._fanout.unsubscribe(room)
            self._unloading.pop(room.name, None)

    async def close_all(self) -> None:
        for room in list(self._rooms.values()):
            self._unload(room)
        if self._unloading:
            await asyncio.gather(*self._unloading.values(), return_exceptions=True)
