"""Wire types shared by every domain's schemas."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer, model_validator
from pydantic_core import PydanticCustomError


def _to_naive_utc(value: datetime) -> datetime:
    """Accept naive (taken as UTC) and offset-aware input; store naive UTC (Decision 14)."""
    if value.tzinfo is not None:
        try:
            return value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValueError("datetime out of range") from None
    return value


def _iso_microseconds(value: datetime) -> str:
    """The client's format: naive ISO-8601, always with microseconds, no offset."""
    return _to_naive_utc(value).isoformat(timespec="microseconds")


UtcDatetime = Annotated[
    datetime,
    AfterValidator(_to_naive_utc),
    PlainSerializer(_iso_microseconds, return_type=str, when_used="json"),
]


# Paging bounds: (page - 1) * page_size and offsets must fit the database's integer offsets.
MAX_PAGE = 1_000_000
MAX_OFFSET = 2**31 - 1


def _client_uuid_or_none(value: object) -> object:
    """A client-supplied id that is not a UUID is replaced by a fresh one, as the original did."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _empty_as_none(value: object) -> object:
    """The client sends "" for "none" in places (folder_id, parent_id); the original answered a 500."""
    return None if value == "" else value


ClientId = Annotated[uuid.UUID | None, BeforeValidator(_client_uuid_or_none)]
"""The optional client-chosen `id` of a create (an idempotent upsert key)."""

FolderRef = Annotated[uuid.UUID | None, BeforeValidator(_empty_as_none)]
"""A reference to a folder where null or "" means the root."""


def decode_base64(value: str) -> bytes:
    """Strict standard base64 (what the client's btoa produces); raises ValueError with a reason."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not valid base64: {exc}") from None


def encode_base64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def unsafe_text_reason(value: object) -> str | None:
    """Why a request value can't be stored as text, if it can't: PostgreSQL text holds no NUL, and UTF-8
    can't encode the lone surrogates that JSON escapes (\\ud800) let through."""
    if isinstance(value, str):
        if "\x00" in value:
            return "text must not contain NUL characters"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "text must be valid UTF-8"
        return None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        reason = unsafe_text_reason(item)
        if reason:
            return reason
    return None


class ApiModel(BaseModel):
    """Request bodies: unknown fields are ignored (the client sends extra ones, e.g. is_expanded), and
    text that no database could store is refused with a 422 up front."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    @model_validator(mode="before")
    @classmethod
    def _storable_text_only(cls, data: Any) -> Any:
        reason = unsafe_text_reason(data)
        if reason:
            raise PydanticCustomError("unsafe_text", reason)
        return data


class PatchModel(ApiModel):
    """Partial updates: a field may be omitted, but the ones listed in `not_null` may not be null
    (the original stored an explicit null and answered 500)."""

    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _reject_nulls(self) -> PatchModel:
        nulls = [
            name for name in self.not_null if name in self.model_fields_set and getattr(self, name) is None
        ]
        if nulls:
            raise PydanticCustomError(
                "not_null", "{fields} may be omitted but not null", {"fields": ", ".join(nulls)}
            )
        return self


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Detail(BaseModel):
    """The error body of every 4xx/5xx: {"detail": "<reason>"}."""

    detail: str


DETAIL_SCHEMA_REF = "#/components/schemas/Detail"


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for routes whose errors carry a {"detail": ...} body.

    A schema reference, not `{"model": Detail}`: for a model FastAPI builds a serializer per route and
    status (some 200 here) that only the OpenAPI document uses, about a fifth of the Lambda's import time.
    `errors.install_error_handlers` adds the one `Detail` component the references point to.
    """
    return {
        code: {
            "description": HTTPStatus(code).phrase,
            "content": {"application/json": {"schema": {"$ref": DETAIL_SCHEMA_REF}}},
        }
        for code in status_codes
    }
