"""The Hocuspocus wire format: `varString(document) varUint(type) payload` per WebSocket message."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from mdreader_sync.lib0 import Decoder, Encoder


class MessageType(IntEnum):
    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3
    SYNC_REPLY = 4
    STATELESS = 5
    BROADCAST_STATELESS = 6
    CLOSE = 7
    SYNC_STATUS = 8


class SyncStep(IntEnum):
    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


class AuthMessage(IntEnum):
    TOKEN = 0
    PERMISSION_DENIED = 1
    AUTHENTICATED = 2


PONG_FRAME = b"\x0a"  # v4 providers answer pings with a bare one-byte frame (no document name)


@dataclass(frozen=True)
class Frame:
    document: str
    type: int
    body: Decoder  # positioned after the type


def parse_frame(data: bytes) -> Frame:
    """Raises lib0.DecodeError when the envelope can't be read."""
    decoder = Decoder(data)
    document = decoder.read_var_string()
    return Frame(document=document, type=decoder.read_var_uint(), body=decoder)


def _envelope(document: str, message_type: MessageType) -> Encoder:
    return Encoder().write_var_string(document).write_var_uint(message_type)


def sync_message(document: str, step: SyncStep, data: bytes) -> bytes:
    """Step1 carries a state vector; Step2 and Update carry a Yjs update. Always sent as type 0."""
    return _envelope(document, MessageType.SYNC).write_var_uint(step).write_var_uint8_array(data).to_bytes()


def sync_status(document: str, applied: bool) -> bytes:
    return _envelope(document, MessageType.SYNC_STATUS).write_var_uint(1 if applied else 0).to_bytes()


def authenticated(document: str, *, read_only: bool) -> bytes:
    scope = "readonly" if read_only else "read-write"
    return (
        _envelope(document, MessageType.AUTH)
        .write_var_uint(AuthMessage.AUTHENTICATED)
        .write_var_string(scope)
        .to_bytes()
    )


def permission_denied(document: str, reason: str = "permission-denied") -> bytes:
    return (
        _envelope(document, MessageType.AUTH)
        .write_var_uint(AuthMessage.PERMISSION_DENIED)
        .write_var_string(reason)
        .to_bytes()
    )


def awareness(document: str, update: bytes) -> bytes:
    return _envelope(document, MessageType.AWARENESS).write_var_uint8_array(update).to_bytes()


def stateless(document: str, payload: str) -> bytes:
    return _envelope(document, MessageType.STATELESS).write_var_string(payload).to_bytes()


def close(document: str, reason: str) -> bytes:
    """v3+ providers only: v2 throws on type 7."""
    return _envelope(document, MessageType.CLOSE).write_var_string(reason).to_bytes()


EMPTY_UPDATE = b"\x00\x00"
