"""Yjs state handling on the REST side: validation and CRDT merging (pycrdt).

Yjs state written over REST is merged into what is stored (Decision 15): the union of both updates, so a
stale client can never erase newer edits, whatever order the writes arrive in.
"""

from __future__ import annotations

from typing import Annotated

from pycrdt import Doc, merge_updates
from pydantic import BeforeValidator

from mdreader_backend.schemas import decode_base64

EMPTY_UPDATE = b"\x00\x00"


class InvalidYjsUpdateError(ValueError):
    pass


def validate_update(update: bytes) -> bytes:
    """Raises InvalidYjsUpdateError unless `update` decodes as a Yjs (v1) update."""
    try:
        Doc().apply_update(update)
    except Exception as exc:
        raise InvalidYjsUpdateError(f"not a valid Yjs update: {exc}") from None
    return update


def merge(stored: bytes | None, incoming: bytes) -> bytes:
    """The CRDT union of the stored state and an incoming (already validated) update."""
    if not stored:
        return incoming
    return bytes(merge_updates(stored, incoming))


def _decode_yjs_base64(value: object) -> object:
    if isinstance(value, str):
        return validate_update(decode_base64(value))
    return value


YjsUpdateBase64 = Annotated[bytes, BeforeValidator(_decode_yjs_base64)]
"""A request field: standard base64 of a Yjs update, decoded and checked (a 422 with a reason otherwise)."""
