"""Writing audit records; every sharing, snapshot and membership action calls `record`."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.audit.models import AuditLog


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
