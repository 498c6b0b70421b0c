"""Provisional documents (Decision 19): edited over the sync service before their REST create.

The real client opens the WebSocket for a new document before it POSTs it. The sync service lets the
authenticated user edit such a well-formed, unknown id privately (`open_provisional`); its updates wait in
the update log. The owner's create merges them into the document (`claim_provisional`); anybody else's
create, or expiry (`purge_expired`), deletes them unseen.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from pycrdt import merge_updates
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.database import utcnow
from mdreader_backend.documents.models import DocumentUpdateLog, ProvisionalDocument


async def open_provisional(
    session: AsyncSession, document_id: uuid.UUID, user_id: uuid.UUID, *, ttl: timedelta
) -> bool:
    """True when `user_id` owns (now, or already) the provisional document `document_id`. Commits."""
    existing = await session.get(ProvisionalDocument, document_id)
    if existing is None:
        session.add(ProvisionalDocument(id=document_id, owner_id=user_id, expires_at=utcnow() + ttl))
        try:
            await session.commit()
        except IntegrityError:  # another connection created it first: whoever that was owns it
            await session.rollback()
            existing = await session.get(ProvisionalDocument, document_id)
            return existing is not None and existing.owner_id == user_id
        return True
    return existing.owner_id == user_id


async def claim_provisional(
    session: AsyncSession, document_id: uuid.UUID, user_id: uuid.UUID
) -> bytes | None:
    """At REST create: the caller's provisional content as one update (consumed), or None.

    Another user's provisional content is deleted unseen. Runs in the caller's transaction.
    """
    provisional = await session.get(ProvisionalDocument, document_id, with_for_update=True)
    if provisional is None:
        return None
    updates = list(
        await session.scalars(
            select(DocumentUpdateLog.update)
            .where(DocumentUpdateLog.document_id == document_id)
            .order_by(DocumentUpdateLog.id)
        )
    )
    await session.execute(delete(DocumentUpdateLog).where(DocumentUpdateLog.document_id == document_id))
    await session.delete(provisional)
    if provisional.owner_id != user_id or not updates:
        return None
    return bytes(merge_updates(*updates))


async def purge_expired(session: AsyncSession, *, keep: set[uuid.UUID]) -> int:
    """Deletes expired provisional documents (but not those in `keep`, still open) and their updates."""
    expired = list(
        await session.scalars(select(ProvisionalDocument.id).where(ProvisionalDocument.expires_at < utcnow()))
    )
    doomed = [document_id for document_id in expired if document_id not in keep]
    if doomed:
        await session.execute(delete(DocumentUpdateLog).where(DocumentUpdateLog.document_id.in_(doomed)))
        await session.execute(delete(ProvisionalDocument).where(ProvisionalDocument.id.in_(doomed)))
        await session.commit()
    return len(doomed)
