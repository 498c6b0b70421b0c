"""Writing audit records (every sharing, snapshot and membership action calls `record`) and reading them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.audit.models import AuditLog
from mdreader_backend.audit.schemas import AuditLogEntry, AuditLogPage
from mdreader_backend.auth.models import User
from mdreader_backend.permissions import Role, require_document_role


def record(
    session: AsyncSession,
    action: str,
    *,
    actor_id: uuid.UUID | None,
    document_id: uuid.UUID | None = None,
    workspace_id: uuid.UUID | None = None,
    metadata: dict[str, Any] | None = None,
) -> AuditLog:
    """Adds the record to the caller's transaction: it commits, or rolls back, with the action itself."""
    entry = AuditLog(
        action=action,
        actor_id=actor_id,
        document_id=document_id,
        workspace_id=workspace_id,
        log_metadata=_json_safe(metadata or {}),
    )
    session.add(entry)
    return entry


def _json_safe(metadata: dict[str, Any]) -> dict[str, Any]:
    return {key: str(value) if isinstance(value, uuid.UUID) else value for key, value in metadata.items()}


async def document_logs(
    session: AsyncSession, document_id: uuid.UUID, user_id: uuid.UUID, *, limit: int, offset: int
) -> AuditLogPage:
    """A document's records, newest first, with the actor's name and email (the original left them null).

    Only rows carrying this document_id: workspace-level actions are not visible here.
    """
    await require_document_role(session, document_id, user_id, Role.ADMIN)
    total = await session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.document_id == document_id)
    )
    rows = await session.execute(
        select(AuditLog, User)
        .outerjoin(User, User.id == AuditLog.actor_id)
        .where(AuditLog.document_id == document_id)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .limit(limit)
        .offset(offset)
    )
    logs = [
        AuditLogEntry(
            id=entry.id,
            action=entry.action,
            actor_id=entry.actor_id,
            document_id=entry.document_id,
            metadata=entry.log_metadata,
            created_at=entry.created_at,
            actor_name=(actor.full_name or actor.username) if actor else None,
            actor_email=actor.email if actor else None,
        )
        for entry, actor in rows
    ]
    return AuditLogPage(logs=logs, total=total or 0, limit=limit, offset=offset)
