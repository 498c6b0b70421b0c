"""GET /api/v1/documents/{id}/audit-logs: a document's audit trail, for its admins."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from mdreader_backend.audit import service
from mdreader_backend.audit.schemas import AuditLogPage
from mdreader_backend.auth.dependencies import CurrentUser, DbSession
from mdreader_backend.schemas import MAX_OFFSET, error_responses

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get(
    "/documents/{document_id}/audit-logs",
    response_model=AuditLogPage,
    responses=error_responses(401, 403, 404),
)
async def list_audit_logs(
    document_id: uuid.UUID,
    user: CurrentUser,
    session: DbSession,
    limit: int = Query(default=100, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
) -> AuditLogPage:
    return await service.document_logs(session, document_id, user.id, limit=limit, offset=offset)
