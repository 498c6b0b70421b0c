"""History snapshot bodies (§2.10, §5.3). The Yjs state travels as standard base64 in, raw bytes out."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from mdreader_backend.schemas import ApiModel, ResponseModel, UtcDatetime

SnapshotType = Literal["auto", "manual", "restore-backup"]
RestoreAction = Literal["new_document", "overwrite"]


class SnapshotCreate(ApiModel):
    yjs_state_base64: str
    note: str | None = Field(default=None, max_length=500)
    html_preview: str | None = None
    type: SnapshotType = "manual"


class SnapshotCreated(ResponseModel):
    success: bool = True
    snapshot_id: uuid.UUID
    created_at: UtcDatetime
    size_bytes: int


class SnapshotMetadata(ResponseModel):
    id: uuid.UUID
    document_id: uuid.UUID
    type: SnapshotType
    created_at: UtcDatetime
    created_by: uuid.UUID | None
    note: str | None
    size_bytes: int | None
    html_preview: str | None
    creator_name: None = None
    creator_email: None = None


class SnapshotList(ResponseModel):
    snapshots: list[SnapshotMetadata]
    total: int
    limit: int
    offset: int


class RestoreRequest(ApiModel):
    action: RestoreAction = "new_document"
    title: str | None = Field(default=None, min_length=1, max_length=200)
    backup_snapshot_id: uuid.UUID | None = Field(default=None, validate_default=True)
    force: bool = False

    @field_validator("backup_snapshot_id")
    @classmethod
    def _required_for_overwrite(cls, value: uuid.UUID | None, info: ValidationInfo) -> uuid.UUID | None:
        if value is None and info.data.get("action") == "overwrite":
            raise PydanticCustomError("missing", "backup_snapshot_id is required when action is 'overwrite'")
        return value


class RestoreResponse(ResponseModel):
    success: bool = True
    action: RestoreAction
    new_document_id: uuid.UUID | None = None
    backup_snapshot_id: uuid.UUID | None = None
    message: str
    warning: str | None = None


class ProviderActive(BaseModel):
    """The 409 `detail` object the client reads (`detail.message`, `active_connections`)."""

    success: Literal[False] = False
    reason: Literal["provider_active"] = "provider_active"
    suggested_action: Literal["restore_as_new"] = "restore_as_new"
    message: str = "Document may have active collaborators. Use 'restore_as_new' or confirm with force=true."
    active_connections: int


class RestoreConflict(BaseModel):
    detail: ProviderActive
