"""/api/v1/documents/{document_id}/snapshots: version history (§2.10, Decisions 4, 11 and 16)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from mdreader_backend.auth.dependencies import AppSettings, CurrentUser, DbSession
from mdreader_backend.schemas import MAX_OFFSET, error_responses
from mdreader_backend.snapshots import service
from mdreader_backend.snapshots.schemas import (
    RestoreConflict,
    RestoreRequest,
    RestoreResponse,
    SnapshotCreate,
    SnapshotCreated,
    SnapshotList,
    SnapshotMetadata,
)

router = APIRouter(prefix="/api/v1/documents/{document_id}/snapshots", tags=["snapshots"])
ERRORS = error_responses(401, 403, 404)


@router.get("", response_model=SnapshotList, responses=ERRORS)
async def list_snapshots(
    document_id: uuid.UUID,
    user: CurrentUser,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SnapshotList:
    """Newest first."""
    snapshots, total = await service.list_snapshots(session, user.id, document_id, limit=limit, offset=offset)
    return SnapshotList(
        snapshots=[SnapshotMetadata.model_validate(snapshot) for snapshot in snapshots],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "", status_code=201, response_model=SnapshotCreated, responses=error_responses(400, 401, 403, 404)
)
async def create_snapshot(
    document_id: uuid.UUID, body: SnapshotCreate, user: CurrentUser, session: DbSession
) -> SnapshotCreated:
    snapshot = await service.create_snapshot(session, user.id, document_id, body)
    await session.commit()
    return SnapshotCreated(
        snapshot_id=snapshot.id, created_at=snapshot.created_at, size_bytes=len(snapshot.yjs_state)
    )


@router.get("/{snapshot_id}", response_model=SnapshotMetadata, responses=ERRORS)
async def get_snapshot(
    document_id: uuid.UUID, snapshot_id: uuid.UUID, user: CurrentUser, session: DbSession
) -> SnapshotMetadata:
    return SnapshotMetadata.model_validate(
        await service.get_snapshot(session, user.id, document_id, snapshot_id)
    )


@router.get(
    "/{snapshot_id}/download",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **ERRORS},
)
async def download_snapshot(
    document_id: uuid.UUID, snapshot_id: uuid.UUID, user: CurrentUser, session: DbSession
) -> Response:
    """The raw Yjs update (what the client feeds to Y.applyUpdate)."""
    snapshot = await service.get_snapshot(session, user.id, document_id, snapshot_id)
    return Response(
        content=snapshot.yjs_state,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename=snapshot_{snapshot.id}.bin"},
    )


@router.post(
    "/{snapshot_id}/restore",
    response_model=RestoreResponse,
    responses={**error_responses(400, 401, 403, 404), 409: {"model": RestoreConflict}},
)
async def restore_snapshot(
    document_id: uuid.UUID,
    snapshot_id: uuid.UUID,
    body: RestoreRequest,
    user: CurrentUser,
    session: DbSession,
    settings: AppSettings,
) -> RestoreResponse:
    """`new_document` (editor) copies the snapshot into a new document; `overwrite` (owner) restores in place.

    409 with an object `detail` (reason `provider_active`) when live collaborators are connected and
    `force` is false.
    """
    if body.action == "new_document":
        created = await service.restore_as_new_document(session, user, document_id, snapshot_id, body.title)
        await session.commit()
        return RestoreResponse(
            action="new_document",
            new_document_id=created.id,
            message=f"Snapshot restored as new document '{created.title}'",
        )
    assert body.backup_snapshot_id is not None  # RestoreRequest requires it for overwrite
    connections = await service.restore_overwrite(
        session,
        user,
        document_id,
        snapshot_id,
        body.backup_snapshot_id,
        force=body.force,
        presence_ttl_seconds=settings.live_presence_ttl_seconds,
    )
    await session.commit()
    warning = f"Restored while {connections} live connection(s) were open" if connections else None
    return RestoreResponse(
        action="overwrite",
        backup_snapshot_id=body.backup_snapshot_id,
        message="Document restored from snapshot",
        warning=warning,
    )
