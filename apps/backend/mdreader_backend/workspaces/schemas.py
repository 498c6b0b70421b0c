"""Workspace and workspace-member bodies (the client's field names)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from mdreader_backend.schemas import ApiModel, ClientId, PatchModel, ResponseModel, UtcDatetime

MemberRole = Literal["admin", "editor", "viewer"]


class WorkspaceCreate(ApiModel):
    id: ClientId = None
    name: str = Field(min_length=1, max_length=100)
    slug: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[a-z0-9-]+$")
    description: str | None = Field(default=None, max_length=500)
    icon: str | None = Field(default=None, max_length=10)
    is_public: bool = False


class WorkspaceUpdate(PatchModel):
    not_null = ("name", "is_public")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    icon: str | None = Field(default=None, max_length=10)
    is_public: bool | None = Field(default=None)


class WorkspaceResponse(ResponseModel):
    id: uuid.UUID
    name: str
    slug: str
    description: str | None
    icon: str | None
    is_public: bool
    owner_id: uuid.UUID
    created_at: UtcDatetime
    updated_at: UtcDatetime
    document_count: int | None = None
    member_count: int | None = None


class WorkspaceList(ResponseModel):
    items: list[WorkspaceResponse]
    total: int
    page: int
    page_size: int
    has_more: bool


class WorkspaceOwner(ResponseModel):
    id: uuid.UUID
    username: str
    full_name: str | None
    avatar_url: str | None


class WorkspaceStats(ResponseModel):
    document_count: int
    folder_count: int
    member_count: int
    storage_used_bytes: int


class WorkspaceDetail(ResponseModel):
    id: uuid.UUID
    name: str
    slug: str
    description: str | None
    icon: str | None
    is_public: bool
    owner: WorkspaceOwner
    stats: WorkspaceStats
    created_at: UtcDatetime
    updated_at: UtcDatetime


class MemberAdd(ApiModel):
    user_id: uuid.UUID
    role: MemberRole = "viewer"
    expires_at: UtcDatetime | None = None


class MemberRoleChange(ApiModel):
    role: MemberRole


class OwnershipTransfer(ApiModel):
    new_owner_id: uuid.UUID
    demote_current_owner_to: MemberRole = "admin"


class MemberResponse(ResponseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    username: str
    full_name: str | None
    role: str
    granted_by: uuid.UUID | None
    granted_at: UtcDatetime
    expires_at: UtcDatetime | None
    status: str
    created_at: UtcDatetime
    updated_at: UtcDatetime


class MemberList(ResponseModel):
    data: list[MemberResponse]
    total: int
    workspace_id: uuid.UUID


class MyWorkspace(ResponseModel):
    id: uuid.UUID
    name: str
    slug: str
    description: str | None
    icon: str | None
    owner_id: uuid.UUID
    role: str
    member_count: int
    document_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class MyWorkspaceList(ResponseModel):
    data: list[MyWorkspace]
    total: int
