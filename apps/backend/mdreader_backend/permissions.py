"""The permission model, implemented once: REST routes and the sync service both call these functions.

A user's role on a document is the higher of their workspace role and their document share role
(Decision 12). Viewers and commenters are read-only everywhere. A public workspace or document gives any
authenticated user the viewer role. Restricted documents ignore workspace roles (the creator is owner).
"""

from __future__ import annotations

import uuid
from enum import IntEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.documents.models import Document
from mdreader_backend.errors import ApiError
from mdreader_backend.sharing.models import DocumentShare
from mdreader_backend.workspaces.models import Workspace, WorkspaceMember


class Role(IntEnum):
    """Ordered roles: comparisons mean "at least"."""

    VIEWER = 1
    COMMENTER = 2
    EDITOR = 3
    ADMIN = 4
    OWNER = 5

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> Role:
        return cls[label.upper()]

    @property
    def can_write(self) -> bool:
        return self >= Role.EDITOR


WORKSPACE_ROLES = (Role.OWNER, Role.ADMIN, Role.EDITOR, Role.VIEWER)
SHARE_ROLES = (Role.OWNER, Role.ADMIN, Role.EDITOR, Role.COMMENTER, Role.VIEWER)


def higher(*roles: Role | None) -> Role | None:
    present = [role for role in roles if role is not None]
    return max(present) if present else None


async def workspace_membership_role(
    session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> Role | None:
    """The role from an active membership row, ignoring public access."""
    row = await session.scalar(
        select(WorkspaceMember.role).where(
            WorkspaceMember.workspace_id == workspace_id,
            WorkspaceMember.user_id == user_id,
            WorkspaceMember.status == "active",
        )
    )
    return Role.parse(row) if row else None


async def workspace_role(session: AsyncSession, workspace: Workspace, user_id: uuid.UUID) -> Role | None:
    """Effective role on a workspace: membership, or viewer on a public workspace."""
    if workspace.is_deleted:
        return None
    member = await workspace_membership_role(session, workspace.id, user_id)
    public = Role.VIEWER if workspace.is_public else None
    return higher(member, public)


async def document_role(
    session: AsyncSession, document: Document, user_id: uuid.UUID, *, include_public: bool = True
) -> Role | None:
    """Effective role on a document: max(workspace role, share role), per its access model.

    `include_public=False` ignores the viewer role everyone has on a public document (and workspace),
    for what only real collaborators may see, such as who else has access. One query fetches the share
    role, the membership role and the workspace's flags (this runs on every document request).
    """
    if document.is_deleted:
        return None
    share_role = (
        select(DocumentShare.role)
        .where(
            DocumentShare.document_id == document.id,
            DocumentShare.principal_type == "user",
            DocumentShare.principal_id == user_id,
            DocumentShare.status == "active",
        )
        .scalar_subquery()
    )
    member_role = (
        select(WorkspaceMember.role)
        .where(
            WorkspaceMember.workspace_id == document.workspace_id,
            WorkspaceMember.user_id == user_id,
            WorkspaceMember.status == "active",
        )
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(share_role, member_role, Workspace.is_public, Workspace.is_deleted).where(
                Workspace.id == document.workspace_id
            )
        )
    ).one_or_none()
    if row is None:  # workspace_id is a foreign key: only a concurrent hard delete gets here
        return None
    shared, member, workspace_public, workspace_deleted = row
    share = Role.parse(shared) if shared else None
    public = Role.VIEWER if document.is_public and include_public else None
    if document.access_model == "restricted":
        creator = Role.OWNER if document.created_by_id == user_id else None
        return higher(creator, share, public)
    inherited = None
    if not workspace_deleted:
        public_workspace = Role.VIEWER if workspace_public and include_public else None
        inherited = higher(Role.parse(member) if member else None, public_workspace)
    return higher(inherited, share, public)


async def require_document_role(
    session: AsyncSession,
    document_id: uuid.UUID,
    user_id: uuid.UUID,
    minimum: Role,
    *,
    denied: str | None = None,
    include_public: bool = True,
) -> tuple[Document, Role]:
    """Loads a live document and checks the caller has at least `minimum` on it.

    404 "Document not found" for a missing or deleted document (Decision 4); 403 with `denied`, or the
    original's "Forbidden: ..." wording, when the role is missing or too low.
    """
    document = await session.get(Document, document_id)
    if document is None or document.is_deleted:
        raise ApiError(404, "Document not found")
    role = await document_role(session, document, user_id, include_public=include_public)
    if role is None:
        raise ApiError(403, denied or "Forbidden: No access to this document")
    if role < minimum:
        raise ApiError(403, denied or f"Forbidden: Requires {minimum.label} role (you have: {role.label})")
    return document, role


async def require_workspace_role(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    minimum: Role,
    *,
    not_found: str = "Workspace not found",
    denied: str | None = None,
) -> tuple[Workspace, Role]:
    """Loads a live workspace and checks the caller's effective role on it (membership or public)."""
    workspace = await session.get(Workspace, workspace_id)
    if workspace is None or workspace.is_deleted:
        raise ApiError(404, not_found)
    role = await workspace_role(session, workspace, user_id)
    if role is None:
        raise ApiError(403, denied or "Forbidden: Not a workspace member")
    if role < minimum:
        raise ApiError(403, denied or f"Forbidden: Requires {minimum.label} role")
    return workspace, role
