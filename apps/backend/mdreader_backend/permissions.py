"""The permission model, implemented once: REST routes and the sync service both call these functions.

A user's role on a document is the higher of their workspace role and their document share role
(Decision 12). Viewers and commenters are read-only everywhere. A public workspace or document gives any
authenticated user the viewer role. Restricted documents ignore workspace roles (the creator is owner).
"""

from __future__ import annotations

import uuid
from enum import IntEnum
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.auth.models import User
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


def _role_inputs(document_id: Any, workspace_id: Any) -> tuple[Any, ...]:
    """The columns the rules need besides the document's own: the caller's (`:user_id`) active share role,
    their active membership role, and the workspace's flags (scalar subqueries: one query carries them)."""
    user_id: BindParameter[uuid.UUID] = bindparam("user_id")
    share_role = (
        select(DocumentShare.role)
        .where(
            DocumentShare.document_id == document_id,
            DocumentShare.principal_type == "user",
            DocumentShare.principal_id == user_id,
            DocumentShare.status == "active",
        )
        .scalar_subquery()
    )
    member_role = (
        select(WorkspaceMember.role)
        .where(
            WorkspaceMember.workspace_id == workspace_id,
            WorkspaceMember.user_id == user_id,
            WorkspaceMember.status == "active",
        )
        .scalar_subquery()
    )
    return share_role, member_role, Workspace.is_public, Workspace.is_deleted


# The statements are built once and reused with parameters: building a select and its cache key costs
# more CPU than PostgreSQL spends answering it.
@cache
def _role_statement() -> Select[Any]:
    """Role inputs for a loaded document (`:document_id`, `:workspace_id`, `:user_id`)."""
    return select(*_role_inputs(bindparam("document_id"), bindparam("workspace_id"))).where(
        Workspace.id == bindparam("workspace_id")
    )


@cache
def _document_with_role_statement(with_creator: bool) -> Select[Any]:
    """The document (`:document_id`), the role inputs for `:user_id` and optionally the creator."""
    statement = select(
        Document, *_role_inputs(Document.id, Document.workspace_id), *((User,) if with_creator else ())
    ).join(Workspace, Workspace.id == Document.workspace_id)
    if with_creator:
        statement = statement.join(User, User.id == Document.created_by_id)
    return statement.where(Document.id == bindparam("document_id"))


def _resolve_document_role(
    document: Document,
    user_id: uuid.UUID,
    shared: str | None,
    member: str | None,
    workspace_public: bool,
    workspace_deleted: bool,
    *,
    include_public: bool,
) -> Role | None:
    """The rules themselves (Decision 12), on values already fetched."""
    if document.is_deleted:
        return None
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


async def document_role(
    session: AsyncSession, document: Document, user_id: uuid.UUID, *, include_public: bool = True
) -> Role | None:
    """Effective role on a document: max(workspace role, share role), per its access model.

    `include_public=False` ignores the viewer role everyone has on a public document (and workspace),
    for what only real collaborators may see, such as who else has access. One query fetches the share
    role, the membership role and the workspace's flags.
    """
    if document.is_deleted:
        return None
    parameters = {"document_id": document.id, "workspace_id": document.workspace_id, "user_id": user_id}
    row = (await session.execute(_role_statement(), parameters)).one_or_none()
    if row is None:  # workspace_id is a foreign key: only a concurrent hard delete gets here
        return None
    return _resolve_document_role(document, user_id, *row, include_public=include_public)


async def require_document_role(
    session: AsyncSession,
    document_id: uuid.UUID,
    user_id: uuid.UUID,
    minimum: Role,
    *,
    denied: str | None = None,
    include_public: bool = True,
    with_creator: bool = False,
) -> tuple[Document, Role]:
    """Loads a live document and checks the caller has at least `minimum` on it.

    404 "Document not found" for a missing or deleted document (Decision 4); 403 with `denied`, or the
    original's "Forbidden: ..." wording, when the role is missing or too low. One query (this runs on
    every document request): the document, the role inputs and, with `with_creator`, the creating user
    (then in the session, so `session.get(User, document.created_by_id)` needs no query).
    """
    statement = _document_with_role_statement(with_creator)
    parameters = {"document_id": document_id, "user_id": user_id}
    row = (await session.execute(statement, parameters)).one_or_none()
    if row is None or row[0].is_deleted:
        raise ApiError(404, "Document not found")
    document = row[0]
    role = _resolve_document_role(document, user_id, *row[1:5], include_public=include_public)
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
