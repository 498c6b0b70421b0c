"""Audit log responses."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel

from mdreader_backend.schemas import UtcDatetime


class AuditLogEntry(BaseModel):
    id: uuid.UUID
    action: str
    actor_id: uuid.UUID | None
    document_id: uuid.UUID | None
    metadata: dict[str, Any]
    created_at: UtcDatetime
    actor_name: str | None
    actor_email: str | None


class AuditLogPage(BaseModel):
    logs: list[AuditLogEntry]
    total: int
    limit: int
    offset: int
