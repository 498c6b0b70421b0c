"""Folder request and response bodies (§2.7, Decisions 9 and 10)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from mdreader_backend.schemas import ApiModel, ClientId, FolderRef, PatchModel, ResponseModel, UtcDatetime

FolderName = Annotated[str, Field(min_length=1, max_length=100)]
FolderIcon = Annotated[str, Field(max_length=10)]
FolderColor = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]
Position = Annotated[int, Field(ge=0)]


class FolderCreate(ApiModel):
    id: ClientId = None
    name: FolderName
    icon: FolderIcon | None = "📁"
    color: FolderColor | None = None
    parent_id: FolderRef = None
    position: Position = 0
    is_expanded: bool = False


class FolderUpdate(PatchModel):
    """Only the fields present are applied; null moves to the root (parent_id) or clears icon/color."""

    not_null = ("name", "position", "is_expanded")

    name: FolderName | None = None
    icon: FolderIcon | None = None
    color: FolderColor | None = None
    parent_id: FolderRef = None
    position: Position | None = None
    is_expanded: bool | None = None


class FolderMove(ApiModel):
    """Null or absent parent_id: the root. Absent or null position: unchanged."""

    parent_id: FolderRef = None
    position: Position | None = None


class FolderResponse(ResponseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    icon: str | None
    color: str | None
    parent_id: uuid.UUID | None
    position: int
    is_expanded: bool
    created_by_id: uuid.UUID
    created_at: UtcDatetime
    updated_at: UtcDatetime


class FolderListItem(FolderResponse):
    document_count: int


class FolderList(ResponseModel):
    items: list[FolderListItem]
    total: int


class FolderTreeNode(ResponseModel):
    id: uuid.UUID
    name: str
    icon: str | None
    color: str | None
    parent_id: uuid.UUID | None
    position: int
    is_expanded: bool
    children: list[FolderTreeNode] = Field(default_factory=list)


class FolderTree(ResponseModel):
    folders: list[FolderTreeNode]
