"""Live collaborators on a document, as reported by the sync service instances' heartbeats."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.database import utcnow
from mdreader_backend.documents.models import LivePresence


async def live_connection_count(session: AsyncSession, document_id: uuid.UUID, *, ttl_seconds: int) -> int:
    """Open sync connections on the document across all instances whose heartbeat is fresh."""
    fresh_after = utcnow() - timedelta(seconds=ttl_seconds)
    total = await session.scalar(
        select(func.coalesce(func.sum(LivePresence.connections), 0)).where(
            LivePresence.document_id == document_id, LivePresence.heartbeat_at >= fresh_after
        )
    )
    return int(total or 0)
