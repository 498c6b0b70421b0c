"""How REST writes reach live editors: every Yjs write is also appended to the update log.

The sync service applies log rows it has not seen to the documents it holds (woken by a PostgreSQL
NOTIFY on this channel, and by polling, which is all SQLite has), so a REST write or an overwrite-restore
arrives at connected clients as a normal update.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.documents.models import DocumentUpdateLog

LIVE_UPDATES_CHANNEL = "mdreader_document_updates"


async def notify_live_editors(session: AsyncSession, document_id: uuid.UUID) -> None:
    """Wakes the sync instances (delivered at commit, so they never see uncommitted rows)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_notify(LIVE_UPDATES_CHANNEL, str(document_id))))


async def append_update(session: AsyncSession, document_id: uuid.UUID, update: bytes, *, source: str) -> None:
    session.add(DocumentUpdateLog(document_id=document_id, update=update, source=source))
    await notify_live_editors(session, document_id)
