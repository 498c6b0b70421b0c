"""Durable state of documents: load, append accepted updates, compact into `documents.yjs_state`.

Every accepted update is appended to `document_updates` (committed) before the client gets its
SyncStatus(1). Compaction merges the log into `documents.yjs_state` under the document's row lock (the
same lock REST writes take): across the whole fleet one compaction at a time per document, each merging
into what the previous one stored, so REST and sync writes merge and never overwrite each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from pycrdt import merge_updates
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from mdreader_backend.database import utcnow
from mdreader_backend.documents.models import Document, DocumentUpdateLog, LivePresence, ProvisionalDocument

ID_CHUNK = 5000  # ids per statement (bind parameters are limited per statement)
MERGED = "merged"  # log rows already compacted into documents.yjs_state, kept for peers' polls


@dataclass(frozen=True)
class LoggedUpdate:
    id: int
    update: bytes


@dataclass(frozen=True)
class StoredDocument:
    state: bytes | None  # documents.yjs_state
    log: list[LoggedUpdate]  # not yet compacted, oldest first
    exists: bool  # False: provisional (or not created at all)


@dataclass(frozen=True)
class PendingUpdate:
    document_id: uuid.UUID
    update: bytes
    provisional_owner: uuid.UUID | None  # set while the document is provisional (Decision 19)


class DocumentStore:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._engine = engine
        self._sessions = sessions
        self._appender: AsyncConnection | None = None

    async def load(self, document_id: uuid.UUID) -> StoredDocument:
        async with self._sessions() as session:
            document = await session.get(Document, document_id)
            log = await _log_rows(session, document_id)
            exists = document is not None and not document.is_deleted
            return StoredDocument(
                state=document.yjs_state if exists and document else None, log=log, exists=exists
            )

    async def append(self, batch: list[PendingUpdate]) -> tuple[list[int], set[uuid.UUID]]:
        """Appends a batch (any documents): group commit.

        Returns the new row ids (in batch order, for the rows written) and the provisional documents whose
        rows were refused because the provisional row no longer belongs to the writer (checked under a
        row lock, so a concurrent REST create by someone else can never receive them).
        """
        if any(item.provisional_owner is not None for item in batch):
            return await self._append_checking_provisional(batch)
        try:
            connection = await self._append_connection()
            return await _insert(connection, batch), set()
        except Exception:
            await self._drop_append_connection()
            raise

    async def _append_connection(self) -> AsyncConnection:
        """A connection kept for appends (no pool checkout or ping per batch); each INSERT ... RETURNING
        is one autocommitted statement."""
        if self._appender is None or self._appender.closed:
            connection = await self._engine.connect()
            self._appender = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return self._appender

    async def _drop_append_connection(self) -> None:
        if self._appender is not None:
            with contextlib.suppress(Exception):
                await self._appender.close()
            self._appender = None

    async def _append_checking_provisional(
        self, batch: list[PendingUpdate]
    ) -> tuple[list[int], set[uuid.UUID]]:
        async with self._sessions() as session, session.begin():
            revoked = set()
            for document_id, owner in {(item.document_id, item.provisional_owner) for item in batch}:
                if owner is not None and not await _still_owned(session, document_id, owner):
                    revoked.add(document_id)
            kept = [item for item in batch if item.document_id not in revoked]
            return (await _insert(await session.connection(), kept) if kept else []), revoked

    async def close(self) -> None:
        await self._drop_append_connection()

    async def unseen(
        self, seen: dict[uuid.UUID, set[int]], *, after_id: int = 0
    ) -> tuple[dict[uuid.UUID, list[LoggedUpdate]], int]:
        """Log rows (id > after_id) of these documents their rooms have not applied yet: REST writes,
        other instances. Reads ids first and fetches only the unseen updates. Returns them and the
        highest id looked at (the next `after_id` for a poll)."""
        if not seen:
            return {}, after_id
        async with self._sessions() as session:
            listed = (
                await session.execute(
                    select(DocumentUpdateLog.id, DocumentUpdateLog.document_id).where(
                        DocumentUpdateLog.document_id.in_(list(seen)), DocumentUpdateLog.id > after_id
                    )
                )
            ).all()
            highest = max((row_id for row_id, _ in listed), default=after_id)
            wanted = [row_id for row_id, document_id in listed if row_id not in seen[document_id]]
            if not wanted:
                return {}, highest
            rows = await session.execute(
                select(DocumentUpdateLog.document_id, DocumentUpdateLog.id, DocumentUpdateLog.update)
                .where(DocumentUpdateLog.id.in_(wanted))
                .order_by(DocumentUpdateLog.id)
            )
            found: dict[uuid.UUID, list[LoggedUpdate]] = {}
            for document_id, row_id, data in rows:
                found.setdefault(document_id, []).append(LoggedUpdate(row_id, data))
            return found, highest

    async def compact(self, document_id: uuid.UUID) -> list[LoggedUpdate] | None:
        """Merges the whole log of an existing document into `yjs_state` and deletes those rows.

        Returns the rows merged (the caller applies any it had not seen), or None when the document does
        not exist (yet): a provisional document's log waits for its REST create.
        """
        async with self._sessions() as session, session.begin():
            document = await session.get(Document, document_id, with_for_update=True)
            if document is None or document.is_deleted:
                return None
            log = await _log_rows(session, document_id)
            if not log:
                return []
            updates = [*([document.yjs_state] if document.yjs_state else []), *(row.update for row in log)]
            # Merging a large document takes a while: off the event loop (pycrdt releases the GIL).
            document.yjs_state = bytes(await asyncio.to_thread(merge_updates, *updates))
            document.yjs_version += 1
            document.updated_at = utcnow()
            # Exactly the rows merged (a row with a lower id may commit after our read: it stays for the
            # next compaction). They are kept, marked, for a while: peers whose pub/sub message was lost
            # still find them in their log poll (drop_stale_rows deletes them later).
            merged_ids = [row.id for row in log]
            for start in range(0, len(merged_ids), ID_CHUNK):
                chunk = merged_ids[start : start + ID_CHUNK]
                await session.execute(
                    update(DocumentUpdateLog).where(DocumentUpdateLog.id.in_(chunk)).values(source=MERGED)
                )
            return log

    async def heartbeat(self, instance_id: str, connections: dict[uuid.UUID, int]) -> None:
        """Replaces this instance's presence rows: the backend counts fresh rows as live collaborators."""
        async with self._sessions() as session, session.begin():
            await session.execute(delete(LivePresence).where(LivePresence.instance_id == instance_id))
            now = utcnow()
            session.add_all(
                LivePresence(
                    document_id=document_id, instance_id=instance_id, connections=count, heartbeat_at=now
                )
                for document_id, count in connections.items()
                if count
            )

    async def forget_instance(self, instance_id: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(delete(LivePresence).where(LivePresence.instance_id == instance_id))

    async def drop_stale_rows(self, *, older_than: timedelta) -> None:
        """Rows already in yjs_state (REST writes, compacted rows): once every instance had time to
        read them, drop them."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(DocumentUpdateLog).where(
                    DocumentUpdateLog.source.in_(["rest", MERGED]),
                    DocumentUpdateLog.created_at < utcnow() - older_than,
                )
            )


async def _insert(connection: AsyncConnection, batch: list[PendingUpdate]) -> list[int]:
    table = cast(Table, DocumentUpdateLog.__table__)  # Core insert: no ORM bulk-insert bookkeeping
    now = utcnow()
    rows = [
        {"document_id": item.document_id, "update": item.update, "source": "sync", "created_at": now}
        for item in batch
    ]
    result = await connection.execute(insert(table).returning(table.c.id), rows)
    return [row_id for (row_id,) in result]


async def _log_rows(session: AsyncSession, document_id: uuid.UUID) -> list[LoggedUpdate]:
    rows = await session.execute(
        select(DocumentUpdateLog.id, DocumentUpdateLog.update)
        .where(DocumentUpdateLog.document_id == document_id, DocumentUpdateLog.source != MERGED)
        .order_by(DocumentUpdateLog.id)
    )
    return [LoggedUpdate(row_id, data) for row_id, data in rows]


async def _still_owned(session: AsyncSession, document_id: uuid.UUID, owner: uuid.UUID) -> bool:
    """The provisional row is still the owner's, or the owner has since created the document."""
    provisional = await session.get(ProvisionalDocument, document_id, with_for_update=True)
    if provisional is not None:
        return provisional.owner_id == owner
    document = await session.get(Document, document_id)
    return document is not None and not document.is_deleted and document.created_by_id == owner
