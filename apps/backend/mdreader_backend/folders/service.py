"""Folders: a tree per workspace. Viewers (and anyone on a public workspace) read, editors and up write.

Every change to a workspace's folders first locks its workspace row, so concurrent moves can not build a
cycle between them and a delete can not race a create under the folder being deleted.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.database import utcnow
from mdreader_backend.documents.models import Document
from mdreader_backend.errors import ApiError, not_found
from mdreader_backend.folders.models import Folder
from mdreader_backend.folders.schemas import FolderCreate, FolderTreeNode
from mdreader_backend.permissions import Role, require_workspace_role
from mdreader_backend.workspaces.models import Workspace

READ_DENIED = "No access to workspace"
WRITE_DENIED = "No permission to modify folders in workspace"
CYCLE = "Cannot move folder into itself or create circular hierarchy"
NOT_EMPTY = "Folder is not empty. Use cascade=true to delete all documents."
EDITABLE = frozenset({"name", "icon", "color", "parent_id", "position", "is_expanded"})

ListScope = Literal["all", "roots"] | uuid.UUID
Parents = dict[uuid.UUID, uuid.UUID | None]


async def _require(
    session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID, *, write: bool
) -> None:
    if write:
        await require_workspace_role(session, workspace_id, user_id, Role.EDITOR, denied=WRITE_DENIED)
    else:
        await require_workspace_role(session, workspace_id, user_id, Role.VIEWER, denied=READ_DENIED)


async def _live_folder(session: AsyncSession, folder_id: uuid.UUID, workspace_id: uuid.UUID | None) -> Folder:
    """A non-deleted folder; a `workspace_id` the client names must be the folder's own."""
    folder = await session.get(Folder, folder_id)
    if folder is None or folder.is_deleted or workspace_id not in (None, folder.workspace_id):
        raise not_found("Folder")
    return folder


async def _lock_tree(session: AsyncSession, workspace_id: uuid.UUID) -> Parents:
    """Serialises hierarchy changes in the workspace; returns parent_id of each live folder.

    FOR NO KEY UPDATE does not block the key-share locks taken by inserts referencing the workspace.
    """
    await session.execute(
        select(Workspace.id).where(Workspace.id == workspace_id).with_for_update(key_share=True)
    )
    rows = await session.execute(
        select(Folder.id, Folder.parent_id).where(Folder.workspace_id == workspace_id, ~Folder.is_deleted)
    )
    return {folder_id: parent_id for folder_id, parent_id in rows}


async def _locked_tree_with(session: AsyncSession, folder: Folder) -> Parents:
    """The locked tree, once the folder is known to be still live (a concurrent delete may have won)."""
    parents = await _lock_tree(session, folder.workspace_id)
    if folder.id not in parents:
        raise not_found("Folder")
    return parents


def _check_parent(parents: Parents, folder_id: uuid.UUID | None, parent_id: uuid.UUID | None) -> None:
    """The parent must be a live folder of the same workspace and not the folder or one of its descendants."""
    if parent_id is None:
        return
    if parent_id not in parents:
        raise ApiError(404, "Parent folder not found")
    node: uuid.UUID | None = parent_id
    seen: set[uuid.UUID] = set()
    while node is not None and node not in seen:
        if node == folder_id:
            raise ApiError(400, CYCLE)
        seen.add(node)
        node = parents.get(node)


def _subtree(parents: Parents, root_id: uuid.UUID) -> list[uuid.UUID]:
    """The folder and all its live descendants."""
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    for folder_id, parent_id in parents.items():
        if parent_id is not None:
            children.setdefault(parent_id, []).append(folder_id)
    found, pending = [root_id], [root_id]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.append(child)
                pending.append(child)
    return found


def _apply(folder: Folder, changes: dict[str, Any]) -> None:
    for field, value in changes.items():
        setattr(folder, field, value)
    folder.version += 1
    folder.updated_at = utcnow()


async def create_folder(
    session: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID, body: FolderCreate
) -> Folder:
    """Creates a folder, or upserts the caller's own folder when the body names an existing id (Decision 13).

    An id in a workspace the caller can not write is refused (403); one in another workspace, or of a
    deleted folder, is a conflict (409): a folder never changes workspace and is never overwritten across
    tenants.
    """
    await _require(session, workspace_id, user_id, write=True)
    existing = await session.get(Folder, body.id) if body.id else None
    if existing is not None:
        await _require(session, existing.workspace_id, user_id, write=True)
        if existing.is_deleted:
            raise ApiError(409, "A deleted folder already uses this id")
        if existing.workspace_id != workspace_id:
            raise ApiError(409, "A folder with this id exists in another workspace")
    parents = await _lock_tree(session, workspace_id)
    if existing is None:
        _check_parent(parents, None, body.parent_id)
        folder = Folder(workspace_id=workspace_id, created_by_id=user_id, **body.model_dump(exclude={"id"}))
        if body.id:
            folder.id = body.id
        session.add(folder)
        await session.flush()
        return folder
    changes = body.model_dump(include=set(EDITABLE & body.model_fields_set))
    if "parent_id" in changes:
        _check_parent(parents, existing.id, changes["parent_id"])
    _apply(existing, changes)
    await session.flush()
    return existing


async def get_folder(
    session: AsyncSession, user_id: uuid.UUID, folder_id: uuid.UUID, workspace_id: uuid.UUID | None
) -> Folder:
    folder = await _live_folder(session, folder_id, workspace_id)
    await _require(session, folder.workspace_id, user_id, write=False)
    return folder


async def list_folders(
    session: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID, scope: ListScope
) -> list[tuple[Folder, int]]:
    """Live folders with their live document counts: all of them flat (Decision 10), roots, or children."""
    await _require(session, workspace_id, user_id, write=False)
    query = select(Folder).where(Folder.workspace_id == workspace_id, ~Folder.is_deleted)
    if scope == "roots":
        query = query.where(Folder.parent_id.is_(None))
    elif isinstance(scope, uuid.UUID):
        query = query.where(Folder.parent_id == scope)
    folders = list(await session.scalars(query.order_by(Folder.position, Folder.created_at, Folder.id)))
    counts = await _document_counts(session, workspace_id, [folder.id for folder in folders])
    return [(folder, counts.get(folder.id, 0)) for folder in folders]


async def _document_counts(
    session: AsyncSession, workspace_id: uuid.UUID, folder_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Counts what workspace document lists show: restricted documents are not revealed to members."""
    if not folder_ids:
        return {}
    rows = await session.execute(
        select(Document.folder_id, func.count())
        .where(
            Document.workspace_id == workspace_id,
            ~Document.is_deleted,
            Document.access_model == "inherited",
            Document.folder_id.in_(folder_ids),
        )
        .group_by(Document.folder_id)
    )
    return {folder_id: count for folder_id, count in rows if folder_id is not None}


async def folder_tree(
    session: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID
) -> list[FolderTreeNode]:
    """The live folders as a tree; a folder under a deleted (or unreachable) parent is left out."""
    await _require(session, workspace_id, user_id, write=False)
    folders = await session.scalars(
        select(Folder)
        .where(Folder.workspace_id == workspace_id, ~Folder.is_deleted)
        .order_by(Folder.position, Folder.created_at, Folder.id)
    )
    nodes = {folder.id: FolderTreeNode.model_validate(folder) for folder in folders}
    roots: list[FolderTreeNode] = []
    for node in nodes.values():
        if node.parent_id is None:
            roots.append(node)
        elif node.parent_id in nodes:
            nodes[node.parent_id].children.append(node)
    return roots


async def update_folder(
    session: AsyncSession,
    user_id: uuid.UUID,
    folder_id: uuid.UUID,
    workspace_id: uuid.UUID | None,
    changes: dict[str, Any],
) -> Folder:
    """Applies the given fields (PATCH and move); parent_id None is the root."""
    folder = await _live_folder(session, folder_id, workspace_id)
    await _require(session, folder.workspace_id, user_id, write=True)
    if "parent_id" in changes:
        parents = await _locked_tree_with(session, folder)
        _check_parent(parents, folder.id, changes["parent_id"])
    _apply(folder, changes)
    await session.flush()
    return folder


async def delete_folder(
    session: AsyncSession,
    user_id: uuid.UUID,
    folder_id: uuid.UUID,
    workspace_id: uuid.UUID | None,
    *,
    cascade: bool,
) -> None:
    """Soft delete. A folder holding documents or folders needs cascade, which reaches the whole subtree
    (Decision 11: the original left sub-folders orphaned)."""
    folder = await _live_folder(session, folder_id, workspace_id)
    await _require(session, folder.workspace_id, user_id, write=True)
    subtree = _subtree(await _locked_tree_with(session, folder), folder.id)
    in_subtree = (Document.folder_id.in_(subtree), ~Document.is_deleted)
    if not cascade:
        has_documents = await session.scalar(select(func.count()).select_from(Document).where(*in_subtree))
        if len(subtree) > 1 or has_documents:
            raise ApiError(400, NOT_EMPTY)
    now = utcnow()
    await session.execute(update(Document).where(*in_subtree).values(is_deleted=True, updated_at=now))
    await session.execute(
        update(Folder)
        .where(Folder.id.in_(subtree))
        .values(is_deleted=True, updated_at=now, version=Folder.version + 1)
    )
