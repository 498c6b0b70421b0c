"""Document shares, invitations and share links.

Every permission check goes through `permissions.require_document_role`. Secrets (invitation and link
tokens) are random 256-bit strings that leave the server once (by email, or in the create response) and
are stored as their SHA-256, so a database leak exposes no usable link.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mdreader_backend.audit.service import record
from mdreader_backend.auth.models import User
from mdreader_backend.auth.passwords import hash_password, verify_password
from mdreader_backend.database import utcnow
from mdreader_backend.documents.models import Document
from mdreader_backend.email import Email
from mdreader_backend.errors import ApiError
from mdreader_backend.permissions import Role, document_role, require_document_role
from mdreader_backend.settings import Settings
from mdreader_backend.sharing.models import DocumentShare, Invitation, ShareLink
from mdreader_backend.sharing.schemas import (
    AcceptInvitationResponse,
    ChangeRoleRequest,
    InvitedEntry,
    InviteFailure,
    InviteRequest,
    InviteResponse,
    MemberResponse,
    MembersResponse,
    PendingInviteResponse,
    ShareLinkCreate,
    ShareLinkResponse,
)

INVITATION_TTL = timedelta(days=30)
SHARE_LINK_TTL = timedelta(days=30)
MODE_ROLES = {"view": Role.VIEWER, "comment": Role.COMMENTER, "edit": Role.EDITOR}
MEMBER_NOT_FOUND = "Member not found"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex of a token; `replace` so a malformed (non-encodable) token just matches nothing."""
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


# Invitations


@dataclass(frozen=True)
class InviteOutcome:
    """The response, plus the emails to send once the invitations are committed."""

    response: InviteResponse
    emails: list[Email]


async def invite(
    session: AsyncSession, settings: Settings, document_id: uuid.UUID, actor: User, body: InviteRequest
) -> InviteOutcome:
    """Creates one pending invitation per address.

    A pending invitation for the same document and address (case-insensitive) is refreshed in place: new
    token, role, message and expiry, and a new email. The old link stops working, which is the only way
    to "resend" since the token itself is never stored. An address whose account already has an active
    share is reported in `errors` (use the role endpoint to change it).
    """
    # Inviting needs admin and an invitation grants admin at most, so nobody can invite above their role.
    document, _ = await require_document_role(session, document_id, actor.id, Role.ADMIN)
    role = Role.parse(body.role)
    expires_at = body.expires_at or utcnow() + INVITATION_TTL
    invitations: list[Invitation] = []
    failures: list[InviteFailure] = []
    emails: list[Email] = []
    for address in _unique_addresses(body.emails):
        if await _has_active_share(session, document.id, address):
            failures.append(InviteFailure(email=address, error="User already has access to this document"))
            continue
        invitation = await _pending_invitation(session, document.id, address)
        if invitation is None:
            invitation = Invitation(id=uuid.uuid4(), document_id=document.id, email=address)
            session.add(invitation)
        token = new_token()
        invitation.token_hash = hash_token(token)
        invitation.invited_by = actor.id
        invitation.role = role.label
        invitation.status = "pending"
        invitation.message = body.message
        invitation.created_at = utcnow()
        invitation.expires_at = expires_at
        invitations.append(invitation)
        record(
            session,
            "invite_sent",
            actor_id=actor.id,
            document_id=document.id,
            metadata={"email": address, "role": role.label},
        )
        if body.send_email:
            emails.append(_invitation_email(settings, actor, document, invitation, token))
    await session.flush()
    invited = [
        InvitedEntry(
            invitation_id=item.id,
            email=item.email,
            role=item.role,
            status=item.status,
            expires_at=item.expires_at,
        )
        for item in invitations
    ]
    return InviteOutcome(InviteResponse(invited=invited, errors=failures), emails)


def _unique_addresses(addresses: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in addresses:
        seen.setdefault(address.lower(), address)
    return list(seen.values())


async def _has_active_share(session: AsyncSession, document_id: uuid.UUID, address: str) -> bool:
    share_id = await session.scalar(
        select(DocumentShare.id)
        .join(User, User.id == DocumentShare.principal_id)
        .where(
            DocumentShare.document_id == document_id,
            DocumentShare.principal_type == "user",
            DocumentShare.status == "active",
            func.lower(User.email) == address.lower(),
        )
    )
    return share_id is not None


async def _pending_invitation(
    session: AsyncSession, document_id: uuid.UUID, address: str
) -> Invitation | None:
    return await session.scalar(
        select(Invitation).where(
            Invitation.document_id == document_id,
            Invitation.status == "pending",
            func.lower(Invitation.email) == address.lower(),
        )
    )


def _invitation_email(
    settings: Settings, inviter: User, document: Document, invitation: Invitation, token: str
) -> Email:
    link = f"{settings.app_public_url.rstrip('/')}/invite/{token}"
    name = inviter.full_name or inviter.username
    lines = [
        f'{name} invited you to "{document.title}" on MDReader as {invitation.role}.',
        "",
        f"Accept the invitation: {link}",
        f"It expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC.",
    ]
    if invitation.message:
        lines[1:1] = ["", f"Message from {name}: {invitation.message}"]
    return Email(
        to=invitation.email, subject=f'{name} invited you to "{document.title}"', text="\n".join(lines)
    )


async def _invitation_for(session: AsyncSession, token: str, user: User) -> Invitation:
    """The caller's invitation by token, locked: two concurrent answers to it are serialised."""
    invitation = await session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(token)).with_for_update()
    )
    if invitation is None:
        raise ApiError(404, "Invitation not found")
    # Checked before the invitation's state, so someone holding a forwarded link learns nothing about it.
    if invitation.email.lower() != user.email.lower():
        raise ApiError(403, "Invitation email does not match your account")
    return invitation


async def accept_invitation(session: AsyncSession, token: str, user: User) -> AcceptInvitationResponse:
    invitation = await _invitation_for(session, token, user)
    if invitation.status != "pending":
        raise ApiError(403, f"Invitation already {invitation.status}")
    if invitation.expires_at <= utcnow():
        raise ApiError(410, "Invitation has expired")
    document = await session.get(Document, invitation.document_id)
    if document is None or document.is_deleted:
        raise ApiError(404, "Document not found")
    await _grant(session, document.id, user.id, Role.parse(invitation.role), granted_by=invitation.invited_by)
    invitation.status = "accepted"
    invitation.accepted_at = utcnow()
    record(
        session,
        "invite_accepted",
        actor_id=user.id,
        document_id=document.id,
        metadata={"invitation_id": invitation.id, "role": invitation.role},
    )
    return AcceptInvitationResponse(document_id=document.id, role=invitation.role)


async def decline_invitation(session: AsyncSession, token: str, user: User) -> None:
    """Unlike the original, only the invitee may decline (the same email check as accept)."""
    invitation = await _invitation_for(session, token, user)
    if invitation.status != "pending":
        raise ApiError(400, f"Invitation already {invitation.status}")
    invitation.status = "declined"
    record(
        session,
        "invite_declined",
        actor_id=user.id,
        document_id=invitation.document_id,
        metadata={"invitation_id": invitation.id},
    )


async def _grant(
    session: AsyncSession, document_id: uuid.UUID, user_id: uuid.UUID, role: Role, *, granted_by: uuid.UUID
) -> DocumentShare:
    """Gives `user_id` at least `role` on the document through their one share row.

    The row is unique per (document, user), so a revoked one is re-activated rather than duplicated, and
    an active one is never downgraded.
    """
    share = await session.scalar(
        select(DocumentShare)
        .where(
            DocumentShare.document_id == document_id,
            DocumentShare.principal_type == "user",
            DocumentShare.principal_id == user_id,
        )
        .with_for_update()
    )
    if share is None:
        share = DocumentShare(document_id=document_id, principal_type="user", principal_id=user_id)
        session.add(share)
    elif share.status == "active":
        role = max(role, Role.parse(share.role))
    share.role = role.label
    share.status = "active"
    share.granted_by = granted_by
    share.granted_at = utcnow()
    return share


# Members


async def list_members(session: AsyncSession, document_id: uuid.UUID, actor: User) -> MembersResponse:
    """Explicit document shares only (workspace members are not listed, as in the original).

    Public access alone does not show who has access (their emails) to everyone."""
    await require_document_role(session, document_id, actor.id, Role.VIEWER, include_public=False)
    shares = await session.execute(
        select(DocumentShare, User)
        .outerjoin(User, User.id == DocumentShare.principal_id)
        .where(DocumentShare.document_id == document_id, DocumentShare.status == "active")
        .order_by(DocumentShare.granted_at)
    )
    invites = await session.execute(
        select(Invitation, User)
        .outerjoin(User, User.id == Invitation.invited_by)
        .where(
            Invitation.document_id == document_id,
            Invitation.status == "pending",
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.created_at)
    )
    return MembersResponse(
        members=[
            MemberResponse(
                id=share.id,
                document_id=share.document_id,
                principal_type=share.principal_type,
                principal_id=share.principal_id,
                role=share.role,
                granted_by=share.granted_by,
                granted_at=share.granted_at,
                expires_at=share.expires_at,
                status=share.status,
                user_email=user.email if user else None,
                user_name=user.full_name if user else None,
            )
            for share, user in shares
        ],
        pending_invites=[
            PendingInviteResponse(
                id=invitation.id,
                document_id=invitation.document_id,
                email=invitation.email,
                role=invitation.role,
                status=invitation.status,
                message=invitation.message,
                created_at=invitation.created_at,
                expires_at=invitation.expires_at,
                invited_by=invitation.invited_by,
                inviter_name=inviter.full_name if inviter else None,
                inviter_email=inviter.email if inviter else None,
            )
            for invitation, inviter in invites
        ],
    )


async def _active_member(
    session: AsyncSession, document_id: uuid.UUID, member_id: uuid.UUID
) -> DocumentShare:
    """The active user share named by its row id or by its user id (Decision 5), on this document only."""
    share = await session.scalar(
        select(DocumentShare)
        .where(
            DocumentShare.document_id == document_id,
            DocumentShare.principal_type == "user",
            DocumentShare.status == "active",
            or_(DocumentShare.id == member_id, DocumentShare.principal_id == member_id),
        )
        .with_for_update()
    )
    if share is None:
        raise ApiError(403, MEMBER_NOT_FOUND)
    return share


async def remove_member(
    session: AsyncSession, document_id: uuid.UUID, actor: User, member_id: uuid.UUID
) -> None:
    await require_document_role(session, document_id, actor.id, Role.ADMIN)
    share = await _active_member(session, document_id, member_id)
    if share.role == Role.OWNER.label:
        if share.principal_id == actor.id:
            raise ApiError(403, "Owner cannot remove themselves. Transfer ownership first.")
        raise ApiError(403, "Cannot remove owner. Transfer ownership first.")
    share.status = "revoked"
    record(
        session,
        "member_removed",
        actor_id=actor.id,
        document_id=document_id,
        metadata={"member_id": share.principal_id, "role": share.role},
    )


async def change_member_role(
    session: AsyncSession, document_id: uuid.UUID, actor: User, member_id: uuid.UUID, body: ChangeRoleRequest
) -> None:
    """Admins manage roles up to their own; only an owner makes owners; an owner share moves by transfer."""
    _, actor_role = await require_document_role(session, document_id, actor.id, Role.ADMIN)
    share = await _active_member(session, document_id, member_id)
    new_role = Role.parse(body.role)
    # Changing roles needs admin, so owner is the only role above the caller's that can be asked for.
    if new_role == Role.OWNER and actor_role < Role.OWNER:
        raise ApiError(403, "Only owner can promote to owner")
    old_role = share.role
    if old_role == Role.OWNER.label and new_role != Role.OWNER:
        raise ApiError(403, "Cannot change owner role. Transfer ownership first.")
    share.role = new_role.label
    record(
        session,
        "role_changed",
        actor_id=actor.id,
        document_id=document_id,
        metadata={"member_id": share.principal_id, "old_role": old_role, "new_role": new_role.label},
    )


async def transfer_ownership(
    session: AsyncSession, document_id: uuid.UUID, actor: User, new_owner_id: uuid.UUID
) -> None:
    """The target (who must already have some access) gets an owner share; the actor's share becomes admin."""
    document, _ = await require_document_role(session, document_id, actor.id, Role.OWNER)
    if new_owner_id == actor.id:
        raise ApiError(400, "You already own this document")
    new_owner = await session.get(User, new_owner_id)
    if (
        new_owner is None
        or new_owner.is_deleted
        or await document_role(session, document, new_owner.id) is None
    ):
        raise ApiError(403, "New owner must already have access to document")
    await session.execute(
        update(DocumentShare)
        .where(
            DocumentShare.document_id == document.id,
            DocumentShare.principal_type == "user",
            DocumentShare.principal_id == actor.id,
            DocumentShare.status == "active",
        )
        .values(role=Role.ADMIN.label)
        .execution_options(synchronize_session="fetch")
    )
    await _grant(session, document.id, new_owner.id, Role.OWNER, granted_by=actor.id)
    record(
        session,
        "ownership_transferred",
        actor_id=actor.id,
        document_id=document.id,
        metadata={"old_owner_id": actor.id, "new_owner_id": new_owner.id},
    )


# Share links


def link_response(link: ShareLink, *, token: str | None = None) -> ShareLinkResponse:
    now = utcnow()
    expired = link.expires_at is not None and link.expires_at <= now
    protected = link.password_hash is not None
    return ShareLinkResponse(
        id=link.id,
        link_id=link.id,
        document_id=link.document_id,
        token=token,
        mode=link.mode,
        max_uses=link.max_uses,
        uses_count=link.uses_count,
        created_by=link.created_by,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        is_password_protected=protected,
        has_password=protected,
        is_active=link.revoked_at is None and not expired,
        is_expired=expired,
    )


async def create_share_link(
    session: AsyncSession, settings: Settings, document_id: uuid.UUID, actor: User, body: ShareLinkCreate
) -> ShareLinkResponse:
    """The only response that carries the raw token."""
    document, _ = await require_document_role(session, document_id, actor.id, Role.ADMIN)
    token = new_token()
    link = ShareLink(
        id=uuid.uuid4(),
        document_id=document.id,
        created_by=actor.id,
        token_hash=hash_token(token),
        mode=body.mode,
        max_uses=body.max_uses,
        uses_count=0,
        created_at=utcnow(),
        expires_at=body.expires_at or utcnow() + SHARE_LINK_TTL,
        password_hash=(
            await hash_password(body.password, rounds=settings.bcrypt_rounds) if body.password else None
        ),
    )
    session.add(link)
    record(
        session,
        "link_created",
        actor_id=actor.id,
        document_id=document.id,
        metadata={"link_id": link.id, "mode": link.mode},
    )
    await session.flush()
    return link_response(link, token=token)


async def list_share_links(
    session: AsyncSession, document_id: uuid.UUID, actor: User
) -> list[ShareLinkResponse]:
    await require_document_role(session, document_id, actor.id, Role.VIEWER, include_public=False)
    links = await session.scalars(
        select(ShareLink).where(ShareLink.document_id == document_id).order_by(ShareLink.created_at.desc())
    )
    return [link_response(link) for link in links]


async def revoke_share_link(
    session: AsyncSession, document_id: uuid.UUID, actor: User, link_id: uuid.UUID
) -> None:
    await require_document_role(session, document_id, actor.id, Role.ADMIN)
    link = await session.scalar(
        select(ShareLink)
        .where(ShareLink.id == link_id, ShareLink.document_id == document_id)
        .with_for_update()
    )
    if link is None:
        raise ApiError(404, "Share link not found")
    if link.revoked_at is not None:
        raise ApiError(403, "Share link already revoked")
    link.revoked_at = utcnow()
    record(
        session,
        "link_revoked",
        actor_id=actor.id,
        document_id=document_id,
        metadata={"link_id": link.id, "mode": link.mode},
    )


REASON_ERRORS = {
    "invalid_token": "Invalid share link",
    "revoked": "Share link has been revoked",
    "expired": "Share link has expired",
    "max_uses_exceeded": "Share link has reached its maximum number of uses",
    "password_required": "Password required",
    "invalid_password": "Invalid password",
}


@dataclass(frozen=True)
class ShareLinkValidation:
    """The answer for a share-link token: REST /share/validate and the sync service both use it."""

    valid: bool
    reason: str | None = None
    link_id: uuid.UUID | None = None
    document_id: uuid.UUID | None = None
    mode: str | None = None
    uses_count: int | None = None

    @property
    def role(self) -> Role | None:
        """The role a guest gets: view -> viewer, comment -> commenter, edit -> editor."""
        return MODE_ROLES[self.mode] if self.mode else None

    @property
    def error(self) -> str | None:
        return REASON_ERRORS[self.reason] if self.reason else None


def _unusable_reason(link: ShareLink, now: datetime, *, check_uses: bool) -> str | None:
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at is not None and link.expires_at <= now:
        return "expired"
    if check_uses and link.max_uses is not None and link.uses_count >= link.max_uses:
        return "max_uses_exceeded"
    return None


def _usable(now: datetime) -> ColumnElement[bool]:
    """The SQL twin of `_unusable_reason(...) is None`, evaluated on the row at update time."""
    return (
        ShareLink.revoked_at.is_(None)
        & or_(ShareLink.expires_at.is_(None), ShareLink.expires_at > now)
        & or_(ShareLink.max_uses.is_(None), ShareLink.uses_count < ShareLink.max_uses)
    )


async def validate_share_token(
    session: AsyncSession, token: str, password: str | None, *, count_use: bool = True
) -> ShareLinkValidation:
    """Checks token -> revoked -> expired -> max uses -> password required -> password match.

    With `count_use`, a valid answer also consumes one use and writes the `link_used` audit record (in
    the caller's transaction). The increment is one conditional UPDATE, so concurrent validations can
    never exceed `max_uses`. Without it nothing is written and the use limit is not checked: that mode
    is for re-checking a guest who already spent a use (revocation, expiry and password still apply).
    A link of a deleted document is an invalid token. Invalid answers name no document.
    """
    now = utcnow()
    link = await session.scalar(
        select(ShareLink)
        .join(Document, Document.id == ShareLink.document_id)
        .where(ShareLink.token_hash == hash_token(token), Document.is_deleted.is_(False))
    )
    if link is None:
        return ShareLinkValidation(valid=False, reason="invalid_token")
    reason = _unusable_reason(link, now, check_uses=count_use)
    if reason is not None:
        return ShareLinkValidation(valid=False, reason=reason)
    if link.password_hash is not None:
        if not password:
            return ShareLinkValidation(valid=False, reason="password_required")
        if not await verify_password(password, link.password_hash):
            return ShareLinkValidation(valid=False, reason="invalid_password")
    uses_count = link.uses_count
    if count_use:
        counted = await session.scalar(
            update(ShareLink)
            .where(ShareLink.id == link.id, _usable(now))
            .values(uses_count=ShareLink.uses_count + 1)
            .returning(ShareLink.uses_count)
            .execution_options(synchronize_session=False)
        )
        if counted is None:  # another request took the last use (or revoked the link) meanwhile
            await session.refresh(link)
            return ShareLinkValidation(
                valid=False, reason=_unusable_reason(link, now, check_uses=True) or "max_uses_exceeded"
            )
        uses_count = counted
        record(
            session,
            "link_used",
            actor_id=None,
            document_id=link.document_id,
            metadata={"link_id": link.id, "mode": link.mode, "uses_count": uses_count},
        )
    return ShareLinkValidation(
        valid=True,
        link_id=link.id,
        document_id=link.document_id,
        mode=link.mode,
        uses_count=uses_count,
    )
