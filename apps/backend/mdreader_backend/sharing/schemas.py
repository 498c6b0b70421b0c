"""Request and response bodies for document sharing, invitations and share links (the client's names)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from mdreader_backend.schemas import ApiModel, UtcDatetime

InviteRole = Literal["admin", "editor", "commenter", "viewer"]
MemberRole = Literal["owner", "admin", "editor", "commenter", "viewer"]
LinkMode = Literal["view", "comment", "edit"]
INT32_MAX = 2**31 - 1


class Outcome(BaseModel):
    """The `{success, message}` body of the mutations that return no resource."""

    success: bool = True
    message: str


# Invitations and members


class InviteRequest(ApiModel):
    emails: list[EmailStr] = Field(min_length=1, max_length=50)
    role: InviteRole
    message: str | None = Field(default=None, max_length=500)
    send_email: bool = True
    expires_at: UtcDatetime | None = None


class InvitedEntry(BaseModel):
    invitation_id: uuid.UUID
    email: str
    role: str
    status: str
    expires_at: UtcDatetime


class InviteFailure(BaseModel):
    email: str
    error: str


class InviteResponse(BaseModel):
    success: bool = True
    invited: list[InvitedEntry]
    errors: list[InviteFailure]


class MemberResponse(BaseModel):
    id: uuid.UUID
    document_id: uuid.UUID
    principal_type: str
    principal_id: uuid.UUID
    role: str
    granted_by: uuid.UUID | None
    granted_at: UtcDatetime
    expires_at: UtcDatetime | None
    status: str
    user_email: str | None
    user_name: str | None


class PendingInviteResponse(BaseModel):
    id: uuid.UUID
    document_id: uuid.UUID
    email: str
    role: str
    status: str
    message: str | None
    created_at: UtcDatetime
    expires_at: UtcDatetime
    invited_by: uuid.UUID
    inviter_name: str | None
    inviter_email: str | None


class MembersResponse(BaseModel):
    members: list[MemberResponse]
    pending_invites: list[PendingInviteResponse]


class AcceptInvitationResponse(BaseModel):
    success: bool = True
    document_id: uuid.UUID
    role: str
    message: str = "Invitation accepted successfully"


class ChangeRoleRequest(ApiModel):
    role: MemberRole


class TransferOwnershipRequest(ApiModel):
    new_owner_id: uuid.UUID


class TransferOwnershipResponse(BaseModel):
    success: bool = True
    new_owner_id: uuid.UUID
    message: str = "Ownership transferred successfully"


# Share links


class ShareLinkCreate(ApiModel):
    mode: LinkMode = "view"
    expires_at: UtcDatetime | None = None
    max_uses: int | None = Field(default=None, ge=1, le=INT32_MAX)
    password: str | None = Field(default=None, min_length=4, max_length=100)


class ShareLinkResponse(BaseModel):
    """Both the original's names (id, is_password_protected) and the client's (link_id, has_password).

    `token` is only known when the link is created: the database keeps its hash, so lists return null.
    """

    id: uuid.UUID
    link_id: uuid.UUID
    document_id: uuid.UUID
    token: str | None
    mode: str
    max_uses: int | None
    uses_count: int
    created_by: uuid.UUID
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    revoked_at: UtcDatetime | None
    is_password_protected: bool
    has_password: bool
    is_active: bool
    is_expired: bool


class ShareLinkList(BaseModel):
    success: bool = True
    links: list[ShareLinkResponse]


class ValidateRequest(ApiModel):
    token: str = Field(max_length=512)
    password: str | None = Field(default=None, max_length=1024)


class ValidateResponse(BaseModel):
    """`success` says the check ran; `valid` is its answer, `reason` a code and `error` its wording."""

    success: bool = True
    valid: bool
    document_id: uuid.UUID | None
    mode: str | None
    reason: str | None
    error: str | None
