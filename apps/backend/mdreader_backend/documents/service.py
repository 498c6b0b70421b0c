"""Document lifecycle: create (idempotent upsert by client id), read, update with Yjs merging, delete."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, String, cast, exists, func, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend import yjs
from mdreader_backend.auth.models import User
from mdreader_backend.database import utcnow
from mdreader_backend.documents import live
from mdreader_backend.documents.models import Document
from mdreader_backend.documents.provisional import claim_provisional
from mdreader_backend.documents.schemas import DocumentCreate, DocumentUpdate
from mdreader_backend.errors import ApiError
from mdreader_backend.folders.models import Folder
from mdreader_backend.permissions import Role, document_role, require_document_role, require_workspace_role
from mdreader_backend.sharing.models import DocumentShare
from mdreader_backend.workspaces.models import WorkspaceMember

NO_UPDATE_PERMISSION = "No permission to update document"
SortField = Literal["updated_at", "created_at", "title"]


def slugify(title: str) -> str:
    slug = re.sub(r"[^\w\s-]", "", title.lower())
    return re.sub(r"[-\s]+", "-", slug).strip("-")[:200]


def word_count(content: str) -> int:
    return len(content.split())


async def _check_folder(session: AsyncSession, folder_id: uuid.UUID | None, workspace_id: uuid.UUID) -> None:
    if folder_id is None:
        return
    folder = await session.get(Folder, folder_id)
    if folder is None or folder.is_deleted:
        raise ApiError(404, "Folder not found")
    if folder.workspace_id != workspace_id:
        raise ApiError(400, "Folder does not belong to this workspace")


async def merge_yjs(session: AsyncSession, document: Document, update: bytes) -> None:
    """Merges a Yjs write into the stored state (Decision 15), counts it, and hands it to live editors."""
    document.yjs_state = yjs.merge(document.yjs_state, update)
    document.yjs_version += 1
    await live.append_update(session, document.id, update, source="rest")


async def lock_for_write(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    """Row-locks the document so concurrent Yjs merges (REST, sync compaction) serialize."""
    return await session.get(Document, document_id, with_for_update=True, populate_existing=True)


async def _apply(session: AsyncSession, document: Document, changes: dict[str, Any]) -> None:
    yjs_update = changes.pop("yjs_state_b64", None)
    changes.pop("expected_yjs_version", None)
    for field, value in changes.items():
        setattr(document, field, value)
    if "title" in changes:
        document.slug = slugify(document.title)
    if "content" in changes:
        document.word_count = word_count(document.content)
    if yjs_update is not None:
        await merge_yjs(session, document, yjs_update)
    document.version += 1
    document.updated_at = utcnow()


async def create(
    session: AsyncSession, user: User, workspace_id: uuid.UUID, body: DocumentCreate
) -> tuple[Document, bool]:
    """Creates the document, or updates the caller's own document with that client id (Decision 13)."""
    await require_workspace_role(session, workspace_id, user.id, Role.EDITOR, denied="No access to workspace")
    await _check_folder(session, body.folder_id, workspace_id)
    if body.id is not None:
        existing = await lock_for_write(session, body.id)
        if existing is not None:
            if existing.is_deleted:
                raise ApiError(409, "A deleted document already uses this id")
            role = await document_role(session, existing, user.id)
            if role is None or not role.can_write:
                raise ApiError(403, NO_UPDATE_PERMISSION)
            if existing.workspace_id != workspace_id:
                raise ApiError(409, "A document with this id exists in another workspace")
            changes = body.model_dump(exclude_unset=True, exclude={"id"})
            _check_publishing(existing, role, changes)
            await _apply(session, existing, changes)
            return existing, False

    document_id = body.id or uuid.uuid4()
    provisional_state = await claim_provisional(session, document_id, user.id)
    yjs_state = yjs.merge(provisional_state, body.yjs_state_b64) if body.yjs_state_b64 else provisional_state
    document = Document(
        id=document_id,
        title=body.title,
        slug=slugify(body.title),
        content=body.content,
        content_type=body.content_type,
        workspace_id=workspace_id,
        folder_id=body.folder_id,
        created_by_id=user.id,
        tags=list(body.tags),
        is_public=body.is_public,
        is_template=body.is_template,
        is_starred=body.is_starred,
        storage_mode=body.storage_mode,
        word_count=word_count(body.content),
        yjs_state=yjs_state,
        yjs_version=1 if yjs_state is not None else 0,
    )
    session.add(document)
    await session.flush()
    if provisional_state is not None:
        await live.notify_live_editors(session, document_id)  # the owner's open room becomes a document
    return document, True


def _check_publishing(document: Document, role: Role, changes: dict[str, Any]) -> None:
    """Making a document public shares it with everyone: that takes what sharing takes (admin)."""
    if "is_public" in changes and changes["is_public"] != document.is_public and role < Role.ADMIN:
        raise ApiError(403, "Only document admins can change public access")


async def update(session: AsyncSession, user: User, document_id: uuid.UUID, body: DocumentUpdate) -> Document:
    changes = body.model_dump(exclude_unset=True)
    document, role = await require_document_role(
        session, document_id, user.id, Role.EDITOR, denied=NO_UPDATE_PERMISSION
    )
    _check_publishing(document, role, changes)
    if "yjs_state_b64" in changes:
        document = await lock_for_write(session, document_id) or document
    if changes.get("folder_id") is not None:
        await _check_folder(session, changes["folder_id"], document.workspace_id)
    await _apply(session, document, changes)
    return document


async def push_live_snapshot(
    session: AsyncSession, user: User, document_id: uuid.UUID, state: bytes, html: str
) -> None:
    """The client's debounced live snapshot: merge its full state, keep its HTML as `content`."""
    await require_document_role(session, document_id, user.id, Role.EDITOR, denied=NO_UPDATE_PERMISSION)
    document = await lock_for_write(session, document_id)
    assert document is not None
    await merge_yjs(session, document, state)
    document.content = html
    document.word_count = word_count(html)
    document.version += 1
    document.updated_at = utcnow()


async def delete(session: AsyncSession, user: User, document_id: uuid.UUID) -> None:
    """Admins delete any document; editors only the ones they created."""
    document, role = await require_document_role(
        session, document_id, user.id, Role.EDITOR, denied="No permission to delete document"
    )
    if role < Role.ADMIN and document.created_by_id != user.id:
        raise ApiError(403, "No permission to delete document")
    document.is_deleted = True
    document.updated_at = utcnow()


async def set_star(session: AsyncSession, user: User, document_id: uuid.UUID, starred: bool) -> Document:
    document, _ = await require_document_role(
        session, document_id, user.id, Role.EDITOR, denied="No permission to star document"
    )
    document.is_starred = starred
    document.updated_at = utcnow()
    return document


async def list_in_workspace(
    session: AsyncSession,
    user: User,
    workspace_id: uuid.UUID,
    *,
    page: int,
    page_size: int,
    folder_id: uuid.UUID | None,
    tags: list[str],
    is_starred: bool | None,
    is_template: bool | None,
    sort_by: SortField,
    sort_order: Literal["asc", "desc"],
) -> tuple[list[Document], int]:
    await require_workspace_role(session, workspace_id, user.id, Role.VIEWER, denied="No access to workspace")
    conditions: list[ColumnElement[bool]] = [
        Document.workspace_id == workspace_id,
        Document.is_deleted.is_(False),
        Document.access_model == "inherited",
    ]
    if folder_id is not None:
        conditions.append(Document.folder_id == folder_id)
    if is_starred is not None:
        conditions.append(Document.is_starred.is_(is_starred))
    if is_template is not None:
        conditions.append(Document.is_template.is_(is_template))
    if tags:
        conditions.append(_has_any_tag(session, tags))
    return await _page(session, select(Document).where(*conditions), page, page_size, sort_by, sort_order)


def _has_any_tag(session: AsyncSession, tags: list[str]) -> ColumnElement[bool]:
    """Tag filter (OR): array overlap on PostgreSQL, json_each on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        as_array = type_coerce(Document.tags, ARRAY(String(50)))
        overlaps: ColumnElement[bool] = as_array.overlap(cast(tags, ARRAY(String(50))))
        return overlaps
    tag_values = func.json_each(Document.tags).table_valued("value")
    return exists(select(1).select_from(tag_values).where(tag_values.c.value.in_(tags)))


async def _page(
    session: AsyncSession,
    query: Select[Document],
    page: int,
    page_size: int,
    sort_by: SortField,
    sort_order: Literal["asc", "desc"],
) -> tuple[list[Document], int]:
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = getattr(Document, sort_by)
    ordered = query.order_by(column.asc() if sort_order == "asc" else column.desc(), Document.id)
    rows = await session.scalars(ordered.offset((page - 1) * page_size).limit(page_size))
    return list(rows), total


async def shared_with_me(session: AsyncSession, user: User) -> list[Document]:
    """Documents shared with the caller directly, outside the workspaces they already belong to."""
    shared = select(DocumentShare.document_id).where(
        DocumentShare.principal_type == "user",
        DocumentShare.principal_id == user.id,
        DocumentShare.status == "active",
    )
    member_of = select(WorkspaceMember.workspace_id).where(
        WorkspaceMember.user_id == user.id, WorkspaceMember.status == "active"
    )
    rows = await session.scalars(
        select(Document)
        .where(
            Document.id.in_(shared),
            Document.is_deleted.is_(False),
            (Document.access_model == "restricted") | Document.workspace_id.not_in(member_of),
        )
        .order_by(Document.updated_at.desc())
    )
    return list(rows)
