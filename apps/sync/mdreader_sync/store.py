"""Durable state of documents: load, append accepted updates, compact into `documents.yjs_state`.

Every accepted update is appended to `document_updates` (committed) before the client gets its
SyncStatus(1). Compaction merges the log into `documents.yjs_state` under the document's row lock (the
same lock REST writes take), so REST and sync writes merge and never overwrite each other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from pycrdt import merge_updates
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mdreader_backend.database import utcnow
from mdreader_backend.documents.models import Document, DocumentUpdateLog, LivePresence, ProvisionalDocument


@dataclass(frozen=True)
class LoggedUpdate:
    id: int
    update: bytes


@dataclass(frozen=True)
class StoredDocument:
    state: bytes | None  # documents.yjs_state
    log: list[LoggedUpdate]  # not yet compacted, oldest first
    exists: bool  # False: provisional (or not created at all)


class ProvisionalRevoked(Exception):  # noqa: N818 - a state, not a failure of ours
    """The provisional document was created by someone else, purged or expired: its room must close."""


class DocumentStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def load(self, document_id: uuid.UUID) -> StoredDocument:
        async with self._sessions() as session:
            document = await session.get(Document, document_id)
            log = await _log_rows(session, document_id)
            exists = document is not None and not document.is_deleted
            return StoredDocument(
                state=document.yjs_state if exists and document else None, log=log, exists=exists
            )

    async def append(
        self, document_id: uuid.UUID, updates: list[bytes], *, provisional_owner: uuid.UUID | None
    ) -> list[int]:
        """Appends and commits; returns the new row ids. For a provisional document, only while the
        provisional row still belongs to its owner (checked under a row lock), else ProvisionalRevoked."""
        async with self._sessions() as session, session.begin():
            if provisional_owner is not None:
                provisional = await session.get(ProvisionalDocument, document_id, with_for_update=True)
                still_ours = provisional is not None and provisional.owner_id == provisional_owner
                if not still_ours and await _created_by(session, document_id) != provisional_owner:
                    raise ProvisionalRevoked
            result = await session.execute(
                insert(DocumentUpdateLog).returning(DocumentUpdateLog.id),
                [
                    {"document_id": document_id, "update": item, "source": "sync", "created_at": utcnow()}
                    for item in updates
                ],
            )
            return list(result.scalars())

    async def unseen(
        self, document_ids: list[uuid.UUID], seen: dict[uuid.UUID, set[int]]
    ) -> dict[uuid.UUID, list[LoggedUpdate]]:
        """Log rows of these documents their rooms have not applied yet (REST writes, other instances)."""
        if not document_ids:
            return {}
        async with self._sessions() as session:
            rows = await session.execute(
                select(DocumentUpdateLog.document_id, DocumentUpdateLog.id, DocumentUpdateLog.update)
                .where(DocumentUpdateLog.document_id.in_(document_ids))
                .order_by(DocumentUpdateLog.id)
            )
            found: dict[uuid.UUID, list[LoggedUpdate]] = {}
            for document_id, row_id, data in rows:
                if row_id not in seen.get(document_id, set()):
                    found.setdefault(document_id, []).append(LoggedUpdate(row_id, data))
            return found

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
            document.yjs_state = bytes(
                merge_updates(
                    *([document.yjs_state] if document.yjs_state else []), *(row.update for row in log)
                )
            )
            document.yjs_version += 1
            document.updated_at = utcnow()
            await session.execute(
                delete(DocumentUpdateLog).where(
                    DocumentUpdateLog.document_id == document_id, DocumentUpdateLog.id <= log[-1].id
                )
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

    async def drop_stale_rest_rows(self, *, older_than: timedelta) -> None:
        """REST rows are already merged into yjs_state; once every room had time to read them, drop them."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(DocumentUpdateLog).where(
                    DocumentUpdateLog.source == "rest", DocumentUpdateLog.created_at < utcnow() - older_than
                )
            )


async def _log_rows(session: AsyncSession, document_id: uuid.UUID) -> list[LoggedUpdate]:
    rows = await session.execute(
        select(DocumentUpdateLog.id, DocumentUpdateLog.update)
        .where(DocumentUpdateLog.document_id == document_id)
        .order_by(DocumentUpdateLog.id)
    )
    return [LoggedUpdate(row_id, data) for row_id, data in rows]


async def _created_by(session: AsyncSession, document_id: uuid.UUID) -> uuid.UUID | None:
    document = await session.get(Document, document_id)
    return document.created_by_id if document is not None and not document.is_deleted else None
