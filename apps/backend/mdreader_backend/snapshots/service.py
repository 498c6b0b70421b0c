"""History snapshots: viewers read, editors create and restore as a new document, owners overwrite."""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend import yjs
from mdreader_backend.audit.service import record
from mdreader_backend.auth.models import User
from mdreader_backend.database import utcnow
from mdreader_backend.documents import service as documents
from mdreader_backend.documents.models import Document
from mdreader_backend.documents.presence import live_connection_count
from mdreader_backend.documents.schemas import MAX_CONTENT_CHARS, DocumentCreate
from mdreader_backend.errors import ApiError, not_found
from mdreader_backend.permissions import Role, require_document_role
from mdreader_backend.schemas import decode_base64
from mdreader_backend.sharing.models import DocumentShare
from mdreader_backend.snapshots.models import DocumentSnapshot
from mdreader_backend.snapshots.schemas import ProviderActive, SnapshotCreate
from mdreader_backend.yjs_restore import restore_update

BACKUP_MAX_AGE = timedelta(minutes=5)


async def list_snapshots(
    session: AsyncSession, user_id: uuid.UUID, document_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[DocumentSnapshot], int]:
    await require_document_role(session, document_id, user_id, Role.VIEWER)
    of_document = DocumentSnapshot.document_id == document_id
    total = await session.scalar(select(func.count()).select_from(DocumentSnapshot).where(of_document))
    rows = await session.scalars(
        select(DocumentSnapshot)
        .where(of_document)
        .order_by(DocumentSnapshot.created_at.desc(), DocumentSnapshot.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows), total or 0


async def create_snapshot(
    session: AsyncSession, user_id: uuid.UUID, document_id: uuid.UUID, body: SnapshotCreate
) -> DocumentSnapshot:
    await require_document_role(session, document_id, user_id, Role.EDITOR)
    try:
        state = yjs.validate_update(decode_base64(body.yjs_state_base64))
    except ValueError as exc:
        raise ApiError(400, f"Invalid yjs_state_base64: {exc}") from None
    snapshot = DocumentSnapshot(
        document_id=document_id,
        created_by=user_id,
        type=body.type,
        yjs_state=state,
        html_preview=body.html_preview,
        note=body.note,
        size_bytes=len(state),
    )
    session.add(snapshot)
    await session.flush()
    record(
        session,
        "snapshot_created",
        actor_id=user_id,
        document_id=document_id,
        metadata={"snapshot_id": snapshot.id, "type": snapshot.type, "size_bytes": snapshot.size_bytes},
    )
    return snapshot


async def _snapshot_of(
    session: AsyncSession, document_id: uuid.UUID, snapshot_id: uuid.UUID
) -> DocumentSnapshot:
    """A snapshot of this document; another document's snapshot is not found here."""
    snapshot = await session.get(DocumentSnapshot, snapshot_id)
    if snapshot is None or snapshot.document_id != document_id:
        raise not_found("Snapshot")
    return snapshot


async def get_snapshot(
    session: AsyncSession, user_id: uuid.UUID, document_id: uuid.UUID, snapshot_id: uuid.UUID
) -> DocumentSnapshot:
    await require_document_role(session, document_id, user_id, Role.VIEWER)
    return await _snapshot_of(session, document_id, snapshot_id)


async def restore_as_new_document(
    session: AsyncSession, user: User, document_id: uuid.UUID, snapshot_id: uuid.UUID, title: str | None
) -> Document:
    """A new document in the same workspace (and folder) holding the snapshot; the caller owns it.

    Needs editor on the document, and editor on the workspace to create documents there. The copy keeps
    the original's access model, so a restricted document's history never becomes workspace-visible.
    """
    original, _ = await require_document_role(session, document_id, user.id, Role.EDITOR)
    snapshot = await _snapshot_of(session, document_id, snapshot_id)
    preview = snapshot.html_preview or ""
    body = DocumentCreate(
        title=title or f"{original.title} (Restored)"[:200],
        content=preview if len(preview) <= MAX_CONTENT_CHARS else "",
        content_type=original.content_type,
        folder_id=original.folder_id,
        tags=original.tags,
        yjs_state_b64=snapshot.yjs_state,
    )
    created, _ = await documents.create(session, user, original.workspace_id, body)
    created.access_model = original.access_model
    session.add(
        DocumentShare(document_id=created.id, principal_id=user.id, role=Role.OWNER.label, granted_by=user.id)
    )
    record(
        session,
        "snapshot_restored_new_document",
        actor_id=user.id,
        document_id=document_id,
        metadata={
            "snapshot_id": snapshot.id,
            "restore_action": "new_document",
            "new_document_id": created.id,
        },
    )
    return created


async def restore_overwrite(
    session: AsyncSession,
    user: User,
    document_id: uuid.UUID,
    snapshot_id: uuid.UUID,
    backup_snapshot_id: uuid.UUID,
    *,
    force: bool,
    presence_ttl_seconds: int,
) -> int:
    """Restores the snapshot in place as a new Yjs transaction merged into the stored state (Decision 16).

    Refused with 409 `provider_active` while sync connections are live, unless forced. Returns the number
    of live connections (for the forced case's warning).
    """
    await require_document_role(session, document_id, user.id, Role.OWNER)
    snapshot = await _snapshot_of(session, document_id, snapshot_id)
    connections = await live_connection_count(session, document_id, ttl_seconds=presence_ttl_seconds)
    if connections and not force:
        raise ApiError(409, ProviderActive(active_connections=connections).model_dump())
    await _check_backup(session, document_id, backup_snapshot_id)
    document = await documents.lock_for_write(session, document_id)
    assert document is not None  # require_document_role saw it live; deletion keeps the row
    update = await anyio.to_thread.run_sync(restore_update, document.yjs_state, snapshot.yjs_state)
    await documents.merge_yjs(session, document, update)
    if snapshot.html_preview is not None:
        document.content = snapshot.html_preview
        document.word_count = documents.word_count(snapshot.html_preview)
    document.version += 1
    document.updated_at = utcnow()
    record(
        session,
        "snapshot_restored_overwrite",
        actor_id=user.id,
        document_id=document_id,
        metadata={
            "snapshot_id": snapshot.id,
            "restore_action": "overwrite",
            "backup_snapshot_id": backup_snapshot_id,
        },
    )
    return connections


async def _check_backup(session: AsyncSession, document_id: uuid.UUID, backup_snapshot_id: uuid.UUID) -> None:
    """The client must have saved the current state as a fresh restore-backup snapshot of this document."""
    backup = await session.get(DocumentSnapshot, backup_snapshot_id)
    if backup is None or backup.document_id != document_id:
        raise ApiError(400, "Backup snapshot not found")
    if backup.type != "restore-backup":
        raise ApiError(400, "Backup snapshot must be of type 'restore-backup'")
    if utcnow() - backup.created_at > BACKUP_MAX_AGE:
        raise ApiError(400, "Backup snapshot is too old (>5 minutes). Create a fresh backup.")
