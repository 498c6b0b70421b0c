"""Workspace lifecycle and membership."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.audit.service import record
from mdreader_backend.auth.models import User
from mdreader_backend.database import utcnow
from mdreader_backend.documents.models import Document
from mdreader_backend.errors import ApiError
from mdreader_backend.folders.models import Folder
from mdreader_backend.permissions import Role, require_workspace_role, workspace_membership_role
from mdreader_backend.workspaces.models import Workspace, WorkspaceMember
from mdreader_backend.workspaces.schemas import MemberAdd, WorkspaceCreate


def slugify(name: str) -> str:
    slug = re.sub(r"\s+", "-", name.lower())
    slug = re.sub(r"[^a-z0-9-]", "", slug)
    slug = re.sub(r"-+", "-", slug).strip("-")[:100]
    return slug or f"workspace-{secrets.token_hex(4)}"


async def _ensure_slug_free(
    session: AsyncSession, owner_id: uuid.UUID, slug: str, except_id: uuid.UUID | None = None
) -> None:
    query = select(Workspace.id).where(
        Workspace.owner_id == owner_id, Workspace.slug == slug, Workspace.is_deleted.is_(False)
    )
    if except_id is not None:
        query = query.where(Workspace.id != except_id)
    if await session.scalar(query):
        raise ApiError(409, f"Workspace with slug '{slug}' already exists")


async def create_or_upsert(
    session: AsyncSession, user: User, body: WorkspaceCreate
) -> tuple[Workspace, bool]:
    """Creates a workspace, or (client-supplied id of the caller's own workspace) updates it in place.

    Returns (workspace, created). An id naming someone else's workspace is refused, never overwritten.
    """
    if body.id is not None:
        existing = await session.get(Workspace, body.id)
        if existing is not None:
            if existing.is_deleted:
                raise ApiError(409, "A deleted workspace already uses this id")
            await require_workspace_role(
                session, existing.id, user.id, Role.ADMIN, denied="No permission to update workspace"
            )
            if body.slug and body.slug != existing.slug:
                await _ensure_slug_free(session, existing.owner_id, body.slug, except_id=existing.id)
                existing.slug = body.slug
            existing.name, existing.description = body.name, body.description
            existing.icon = body.icon or existing.icon
            existing.is_public = body.is_public
            existing.version += 1
            existing.updated_at = utcnow()
            return existing, False

    slug = body.slug or slugify(body.name)
    await _ensure_slug_free(session, user.id, slug)
    workspace = Workspace(
        id=body.id or uuid.uuid4(),
        name=body.name,
        slug=slug,
        description=body.description,
        icon=body.icon or "📁",
        is_public=body.is_public,
        owner_id=user.id,
    )
    session.add(workspace)
    session.add(WorkspaceMember(workspace_id=workspace.id, user_id=user.id, role="owner", granted_by=user.id))
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise ApiError(409, f"Workspace with slug '{slug}' already exists") from None
    return workspace, True


def member_of(user_id: uuid.UUID) -> ColumnElement[bool]:
    """Workspaces where the user has an active membership."""
    return Workspace.id.in_(
        select(WorkspaceMember.workspace_id).where(
            WorkspaceMember.user_id == user_id, WorkspaceMember.status == "active"
        )
    )


async def counts(session: AsyncSession, workspace_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """document_count and member_count per workspace, two grouped queries for any number of workspaces."""
    result: dict[uuid.UUID, dict[str, int]] = {
        wid: {"document_count": 0, "member_count": 0} for wid in workspace_ids
    }
    if not workspace_ids:
        return result
    documents = await session.execute(
        select(Document.workspace_id, func.count())
        .where(Document.workspace_id.in_(workspace_ids), Document.is_deleted.is_(False))
        .group_by(Document.workspace_id)
    )
    for wid, count in documents:
        result[wid]["document_count"] = count
    members = await session.execute(
        select(WorkspaceMember.workspace_id, func.count())
        .where(WorkspaceMember.workspace_id.in_(workspace_ids), WorkspaceMember.status == "active")
        .group_by(WorkspaceMember.workspace_id)
    )
    for wid, count in members:
        result[wid]["member_count"] = count
    return result


async def list_for_user(
    session: AsyncSession, user: User, *, page: int, page_size: int
) -> tuple[list[Workspace], int]:
    condition = (Workspace.is_deleted.is_(False), member_of(user.id))
    total = await session.scalar(select(func.count()).select_from(Workspace).where(*condition)) or 0
    rows = await session.scalars(
        select(Workspace)
        .where(*condition)
        .order_by(Workspace.updated_at.desc(), Workspace.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return list(rows), total


async def detail_stats(session: AsyncSession, workspace: Workspace) -> dict[str, int]:
    folder_count = await session.scalar(
        select(func.count())
        .select_from(Folder)
        .where(Folder.workspace_id == workspace.id, Folder.is_deleted.is_(False))
    )
    storage = await session.scalar(
        select(func.coalesce(func.sum(func.length(Document.content)), 0)).where(
            Document.workspace_id == workspace.id, Document.is_deleted.is_(False)
        )
    )
    stats = (await counts(session, [workspace.id]))[workspace.id]
    return {**stats, "folder_count": folder_count or 0, "storage_used_bytes": int(storage or 0)}


def apply_update(workspace: Workspace, changes: dict[str, Any]) -> None:
    for field, value in changes.items():
        setattr(workspace, field, value)
    workspace.version += 1
    workspace.updated_at = utcnow()


async def delete(session: AsyncSession, workspace: Workspace, *, cascade: bool) -> None:
    live_documents = select(Document.id).where(
        Document.workspace_id == workspace.id, Document.is_deleted.is_(False)
    )
    count = await session.scalar(select(func.count()).select_from(live_documents.subquery())) or 0
    if count and not cascade:
        raise ApiError(
            400, f"Cannot delete workspace with {count} documents. Use cascade=true to delete all documents."
        )
    now = utcnow()
    await session.execute(
        update(Document).where(Document.workspace_id == workspace.id).values(is_deleted=True, updated_at=now)
    )
    await session.execute(
        update(Folder).where(Folder.workspace_id == workspace.id).values(is_deleted=True, updated_at=now)
    )
    workspace.is_deleted = True
    workspace.updated_at = now


# --- members ---------------------------------------------------------------------------------------


async def member_rows(
    session: AsyncSession, workspace_id: uuid.UUID, *, user_id: uuid.UUID | None = None
) -> list[tuple[WorkspaceMember, User]]:
    query = (
        select(WorkspaceMember, User)
        .join(User, User.id == WorkspaceMember.user_id)
        .where(WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.status == "active")
    )
    if user_id is not None:
        query = query.where(WorkspaceMember.user_id == user_id)
    rows = await session.execute(query.order_by(WorkspaceMember.granted_at))
    members = [(member, user) for member, user in rows]
    members.sort(key=lambda pair: -Role.parse(pair[0].role))  # owner first
    return members


async def require_member_manager(
    session: AsyncSession, workspace_id: uuid.UUID, actor: User
) -> tuple[Workspace, Role]:
    """Admin+ by membership (public access never lets anyone manage members)."""
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None or workspace.is_deleted:
        raise ApiError(404, "Workspace not found")
    role = await workspace_membership_role(session, workspace_id, actor.id)
    if role is None:
        raise ApiError(403, "Forbidden: Not a workspace member")
    if role < Role.ADMIN:
        raise ApiError(403, "Forbidden: Requires admin role")
    return workspace, role


def _check_can_grant(actor_role: Role, role: Role) -> None:
    if role > actor_role:
        raise ApiError(
            403, f"Forbidden: Cannot grant role '{role.label}' (higher than your role '{actor_role.label}')"
        )


async def add_member(
    session: AsyncSession, workspace: Workspace, actor: User, actor_role: Role, body: MemberAdd
) -> WorkspaceMember:
    _check_can_grant(actor_role, Role.parse(body.role))
    target = await session.get(User, body.user_id)
    if target is None or target.is_deleted:
        raise ApiError(404, "User not found")
    member = await session.scalar(
        select(WorkspaceMember).where(
            WorkspaceMember.workspace_id == workspace.id, WorkspaceMember.user_id == body.user_id
        )
    )
    if member is not None and member.status == "active":
        raise ApiError(409, "User is already a member")
    if member is None:
        member = WorkspaceMember(workspace_id=workspace.id, user_id=body.user_id)
        session.add(member)
    member.role, member.status, member.granted_by = body.role, "active", actor.id
    member.granted_at, member.expires_at, member.updated_at = utcnow(), body.expires_at, utcnow()
    record(
        session,
        "workspace_member_added",
        actor_id=actor.id,
        workspace_id=workspace.id,
        metadata={"workspace_id": workspace.id, "user_id": body.user_id, "role": body.role},
    )
    await session.flush()
    return member


async def _target_member(
    session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> WorkspaceMember:
    member = await session.scalar(
        select(WorkspaceMember).where(
            WorkspaceMember.workspace_id == workspace_id,
            WorkspaceMember.user_id == user_id,
            WorkspaceMember.status == "active",
        )
    )
    if member is None:
        raise ApiError(404, "Member not found")
    return member


def _check_outranks(actor: User, actor_role: Role, member: WorkspaceMember) -> None:
    """Admins manage editors and viewers; only the owner manages admins."""
    if member.user_id != actor.id and Role.parse(member.role) >= actor_role:
        raise ApiError(403, f"Forbidden: Cannot manage a member with role '{member.role}'")


async def remove_member(
    session: AsyncSession, workspace: Workspace, actor: User, actor_role: Role, user_id: uuid.UUID
) -> None:
    member = await _target_member(session, workspace.id, user_id)
    if member.role == "owner":
        raise ApiError(403, "Cannot remove workspace owner. Transfer ownership first.")
    _check_outranks(actor, actor_role, member)
    member.status, member.updated_at = "revoked", utcnow()
    record(
        session,
        "workspace_member_removed",
        actor_id=actor.id,
        workspace_id=workspace.id,
        metadata={"workspace_id": workspace.id, "user_id": user_id, "role": member.role},
    )


async def change_role(
    session: AsyncSession, workspace: Workspace, actor: User, actor_role: Role, user_id: uuid.UUID, role: str
) -> WorkspaceMember:
    member = await _target_member(session, workspace.id, user_id)
    if member.role == "owner":
        raise ApiError(403, "Cannot change owner role. Use transfer_ownership instead.")
    _check_outranks(actor, actor_role, member)
    _check_can_grant(actor_role, Role.parse(role))
    old_role = member.role
    member.role, member.updated_at = role, utcnow()
    record(
        session,
        "workspace_member_role_changed",
        actor_id=actor.id,
        workspace_id=workspace.id,
        metadata={"workspace_id": workspace.id, "user_id": user_id, "old_role": old_role, "new_role": role},
    )
    await session.flush()
    return member


async def transfer_ownership(
    session: AsyncSession, workspace_id: uuid.UUID, actor: User, new_owner_id: uuid.UUID, demote_to: str
) -> None:
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None or workspace.is_deleted:
        raise ApiError(404, "Workspace not found")
    if workspace.owner_id != actor.id:
        raise ApiError(403, "Forbidden: Only owner can transfer ownership")
    new_owner = await session.get(User, new_owner_id)
    if new_owner is None or new_owner.is_deleted:
        raise ApiError(404, "New owner not found")
    if new_owner_id == actor.id:
        raise ApiError(400, "You already own this workspace")
    members = {
        member.user_id: member
        for member in await session.scalars(
            select(WorkspaceMember).where(
                WorkspaceMember.workspace_id == workspace_id,
                WorkspaceMember.user_id.in_([actor.id, new_owner_id]),
            )
        )
    }
    target = members.get(new_owner_id)
    if target is None:
        target = WorkspaceMember(workspace_id=workspace_id, user_id=new_owner_id, granted_by=actor.id)
        session.add(target)
    target.role, target.status, target.updated_at = "owner", "active", utcnow()
    current = members[actor.id]
    current.role, current.updated_at = demote_to, utcnow()
    workspace.owner_id, workspace.updated_at = new_owner_id, utcnow()
    record(
        session,
        "workspace_ownership_transferred",
        actor_id=actor.id,
        workspace_id=workspace_id,
        metadata={"workspace_id": workspace_id, "old_owner_id": actor.id, "new_owner_id": new_owner_id},
    )


async def my_workspaces(session: AsyncSession, user: User) -> list[tuple[Workspace, str]]:
    rows = await session.execute(
        select(Workspace, WorkspaceMember.role)
        .join(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id)
        .where(
            WorkspaceMember.user_id == user.id,
            WorkspaceMember.status == "active",
            Workspace.is_deleted.is_(False),
        )
        .order_by(Workspace.created_at.desc())
    )
    return [(workspace, role) for workspace, role in rows]
