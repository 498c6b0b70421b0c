"""Document bodies: the client's field names, with Yjs state as standard base64."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_serializer

from mdreader_backend.schemas import (
    ApiModel,
    ClientId,
    FolderRef,
    PatchModel,
    ResponseModel,
    UtcDatetime,
    encode_base64,
)
from mdreader_backend.yjs import YjsUpdateBase64

MAX_CONTENT_CHARS = 10_485_760
ContentType = Literal["markdown", "html"]
StorageMode = Literal["LocalOnly", "HybridSync", "CloudOnly"]
Tag = Annotated[str, Field(max_length=50)]


class DocumentCreate(ApiModel):
    id: ClientId = None
    title: str = Field(min_length=1, max_length=200)
    content: str = Field(default="", max_length=MAX_CONTENT_CHARS)
    content_type: ContentType = "markdown"
    folder_id: FolderRef = None
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    is_public: bool = False
    is_template: bool = False
    is_starred: bool = False
    storage_mode: StorageMode = "HybridSync"
    yjs_state_b64: YjsUpdateBase64 | None = None
    expected_yjs_version: int | None = Field(default=None, description="accepted; Yjs writes merge")


class DocumentUpdate(PatchModel):
    """Only the fields present are applied; `folder_id: null` (or "") moves the document to the root."""

    not_null = (
        "title",
        "content",
        "content_type",
        "tags",
        "is_public",
        "is_template",
        "is_starred",
        "storage_mode",
    )

    title: str | None = Field(default=None, min_length=1, max_length=200)
    content: str | None = Field(default=None, max_length=MAX_CONTENT_CHARS)
    content_type: ContentType | None = Field(default=None)
    folder_id: FolderRef = None
    tags: list[Tag] | None = Field(default=None, max_length=20)
    is_public: bool | None = Field(default=None)
    is_template: bool | None = Field(default=None)
    is_starred: bool | None = Field(default=None)
    storage_mode: StorageMode | None = Field(default=None)
    yjs_state_b64: YjsUpdateBase64 | None = None
    expected_yjs_version: int | None = Field(default=None, description="accepted; Yjs writes merge")


class LiveSnapshotPush(ApiModel):
    yjs_state: YjsUpdateBase64 | None = None
    html: str | None = Field(default=None, max_length=MAX_CONTENT_CHARS)
    updated_at: Any = Field(default=None, description="ignored (the server's clock decides)")


class LiveSnapshot(ResponseModel):
    yjs_state: str
    html: str
    updated_at: UtcDatetime


class _DocumentFields(ResponseModel):
    model_config = ConfigDict(from_attributes=True, validate_by_name=True, validate_by_alias=True)

    id: uuid.UUID
    title: str
    slug: str
    content: str
    content_type: str
    workspace_id: uuid.UUID
    folder_id: uuid.UUID | None
    tags: list[str]
    is_public: bool
    is_template: bool
    is_starred: bool
    storage_mode: str
    version: int
    yjs_version: int
    yjs_state_b64: bytes | None = Field(default=None, validation_alias="yjs_state")
    word_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @field_serializer("yjs_state_b64", when_used="json")
    def _base64(self, value: bytes | None) -> str | None:
        return encode_base64(value)


class DocumentResponse(_DocumentFields):
    created_by_id: uuid.UUID


class DocumentCreator(ResponseModel):
    id: uuid.UUID
    username: str
    full_name: str | None


class DocumentDetail(_DocumentFields):
    created_by: DocumentCreator
    access_model: str


class DocumentListItem(ResponseModel):
    id: uuid.UUID
    title: str
    slug: str
    content_type: str
    workspace_id: uuid.UUID
    folder_id: uuid.UUID | None
    tags: list[str]
    is_starred: bool
    storage_mode: str
    version: int
    yjs_version: int
    word_count: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class DocumentList(ResponseModel):
    items: list[DocumentListItem]
    total: int
    page: int
    page_size: int
    has_more: bool


class StarResponse(ResponseModel):
    id: uuid.UUID
    is_starred: bool
    updated_at: UtcDatetime
