"""Our lib0 codec and Hocuspocus framing against golden vectors from the real lib0/y-protocols/yjs encoders
and frames captured from the real providers (tests/sync/golden/lib0_vectors.json, written by
`node tests/sync/node/golden.mjs`; no Node needed to run these tests)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Awareness, Doc

from mdreader_sync import protocol
from mdreader_sync.lib0 import DecodeError, Decoder, Encoder
from mdreader_sync.protocol import MessageType, SyncStep, parse_frame

VECTORS_FILE = Path(__file__).resolve().parent / "golden" / "lib0_vectors.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
FRAMES: list[dict[str, Any]] = VECTORS["frames"]
FRAMES_BY_NAME = {f["name"]: f for f in FRAMES}
ENVELOPE_FRAMES = [f for f in FRAMES if not f["fields"].get("bare")]
AWARENESS_FRAMES = [f for f in ENVELOPE_FRAMES if f["fields"]["type"] == MessageType.AWARENESS]

HYPOTHESIS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ids(vectors: list[dict[str, Any]], key: str) -> list[str]:
    return [str(v[key])[:40] for v in vectors]


def test_vector_file_covers_the_protocol() -> None:
    """The golden file is the one golden.mjs writes, and it holds every case the codec must handle."""
    assert VECTORS["generator"] == "tests/sync/node/golden.mjs"
    assert VECTORS["versions"]["lib0"] == "0.2.120"
    assert VECTORS["capturedFrames"].keys() == {"v2", "v3", "v4"}
    values = {v["value"] for v in VECTORS["varUint"]}
    assert {0, 1, 127, 128, 16383, 16384, 2**32, 2**53 - 1} <= values
    assert {"", "dök-ü", "👍"} <= {v["value"] for v in VECTORS["varString"]}
    types = {f["fields"]["type"] for f in ENVELOPE_FRAMES}
    assert set(range(9)) <= types
    assert FRAMES_BY_NAME["provider-v4-00-auth"]["fields"]["providerVersion"] == "4.8.0"
    assert FRAMES_BY_NAME["provider-v3-00-auth"]["fields"]["providerVersion"] is None


# ---------- primitives ----------


@pytest.mark.parametrize("vector", VECTORS["varUint"], ids=_ids(VECTORS["varUint"], "value"))
def test_var_uint_matches_lib0(vector: dict[str, Any]) -> None:
    encoded = bytes.fromhex(vector["hex"])
    assert Encoder().write_var_uint(vector["value"]).to_bytes() == encoded
    decoder = Decoder(encoded)
    assert decoder.read_var_uint() == vector["value"]
    assert not decoder.has_more()


@pytest.mark.parametrize("vector", VECTORS["varString"], ids=_ids(VECTORS["varString"], "value"))
def test_var_string_matches_lib0(vector: dict[str, Any]) -> None:
    encoded = bytes.fromhex(vector["hex"])
    assert Encoder().write_var_string(vector["value"]).to_bytes() == encoded
    decoder = Decoder(encoded)
    assert decoder.read_var_string() == vector["value"]
    assert not decoder.has_more()
    # the prefix is the UTF-8 byte length, not the character count
    assert Decoder(encoded).read_var_uint() == vector["utf8Length"]


@pytest.mark.parametrize("vector", VECTORS["varUint8Array"], ids=_ids(VECTORS["varUint8Array"], "valueHex"))
def test_var_uint8_array_matches_lib0(vector: dict[str, Any]) -> None:
    value = bytes.fromhex(vector["valueHex"])
    encoded = bytes.fromhex(vector["hex"])
    assert Encoder().write_var_uint8_array(value).to_bytes() == encoded
    decoder = Decoder(encoded)
    assert decoder.read_var_uint8_array() == value
    assert not decoder.has_more()


def _primitive_cases() -> list[tuple[str, bytes]]:
    cases = [("uint", bytes.fromhex(v["hex"])) for v in VECTORS["varUint"]]
    cases += [("string", bytes.fromhex(v["hex"])) for v in VECTORS["varString"]]
    cases += [("bytes", bytes.fromhex(v["hex"])) for v in VECTORS["varUint8Array"]]
    return cases


def _read_primitive(kind: str, data: bytes) -> object:
    decoder = Decoder(data)
    if kind == "uint":
        return decoder.read_var_uint()
    if kind == "string":
        return decoder.read_var_string()
    return decoder.read_var_uint8_array()


@pytest.mark.parametrize(("kind", "encoded"), _primitive_cases())
def test_every_truncated_primitive_raises_decode_error(kind: str, encoded: bytes) -> None:
    for cut in range(len(encoded)):
        with pytest.raises(DecodeError):
            _read_primitive(kind, encoded[:cut])


# ---------- frames: our encoder reproduces the real bytes ----------


def encode_frame(fields: dict[str, Any]) -> bytes:
    """Build the frame described by lib0's decoding with our own code (protocol.py builders first)."""
    if fields.get("bare"):
        return bytes([fields["type"]])
    doc: str = fields["document"]
    kind = fields["type"]
    envelope = Encoder().write_var_string(doc).write_var_uint(kind)
    if kind == MessageType.SYNC:
        return protocol.sync_message(doc, SyncStep(fields["step"]), bytes.fromhex(fields["data"]))
    if kind == MessageType.SYNC_REPLY:
        return (
            envelope.write_var_uint(fields["step"])
            .write_var_uint8_array(bytes.fromhex(fields["data"]))
            .to_bytes()
        )
    if kind == MessageType.AWARENESS:
        return protocol.awareness(doc, bytes.fromhex(fields["update"]))
    if kind == MessageType.AUTH:
        if fields["authType"] == protocol.AuthMessage.AUTHENTICATED:
            assert fields["text"] in ("read-write", "readonly")
            return protocol.authenticated(doc, read_only=fields["text"] == "readonly")
        if fields["authType"] == protocol.AuthMessage.PERMISSION_DENIED:
            return protocol.permission_denied(doc, fields["text"])
        envelope.write_var_uint(protocol.AuthMessage.TOKEN).write_var_string(fields["token"])
        if fields["providerVersion"] is not None:
            envelope.write_var_string(fields["providerVersion"])
        return envelope.to_bytes()
    if kind == MessageType.STATELESS:
        return protocol.stateless(doc, fields["payload"])
    if kind == MessageType.BROADCAST_STATELESS:
        return envelope.write_var_string(fields["payload"]).to_bytes()
    if kind == MessageType.CLOSE:
        return protocol.close(doc, fields["reason"]) if fields["reason"] is not None else envelope.to_bytes()
    if kind == MessageType.SYNC_STATUS:
        return protocol.sync_status(doc, applied=fields["value"] == 1)
    if kind == MessageType.QUERY_AWARENESS:
        return envelope.to_bytes()
    raise AssertionError(f"unexpected type {kind}")


def decode_awareness_update(update: bytes) -> list[dict[str, Any]]:
    decoder = Decoder(update)
    entries = []
    for _ in range(decoder.read_var_uint()):
        client_id = decoder.read_var_uint()
        clock = decoder.read_var_uint()
        state_json = decoder.read_var_string()
        entries.append({"clientID": client_id, "clock": clock, "stateJson": state_json})
    if decoder.has_more():
        raise DecodeError("trailing bytes in awareness update")
    return entries


def decode_frame(data: bytes) -> dict[str, Any]:
    """Read a frame with our Decoder the way the server must (bare v4 Ping/Pong first). Raises DecodeError."""
    if len(data) == 1 and data[0] in (9, 10):
        return {"bare": True, "type": data[0]}
    frame = parse_frame(data)
    body = frame.body
    fields: dict[str, Any] = {"document": frame.document, "type": frame.type}
    if frame.type in (MessageType.SYNC, MessageType.SYNC_REPLY):
        fields["step"] = body.read_var_uint()
        fields["data"] = body.read_var_uint8_array().hex()
    elif frame.type == MessageType.AWARENESS:
        update = body.read_var_uint8_array()
        fields["update"] = update.hex()
        fields["entries"] = decode_awareness_update(update)
    elif frame.type == MessageType.AUTH:
        fields["authType"] = body.read_var_uint()
        if fields["authType"] == protocol.AuthMessage.TOKEN:
            fields["token"] = body.read_var_string() if body.has_more() else None
            fields["providerVersion"] = body.read_var_string() if body.has_more() else None
        else:
            fields["text"] = body.read_var_string()
    elif frame.type in (MessageType.STATELESS, MessageType.BROADCAST_STATELESS):
        fields["payload"] = body.read_var_string()
    elif frame.type == MessageType.CLOSE:
        fields["reason"] = body.read_var_string() if body.has_more() else None
    elif frame.type == MessageType.SYNC_STATUS:
        fields["value"] = body.read_var_uint()
    elif frame.type != MessageType.QUERY_AWARENESS:
        raise DecodeError(f"unknown type {frame.type}")
    if body.has_more():
        raise DecodeError("trailing bytes")
    return fields


def _comparable(fields: dict[str, Any]) -> dict[str, Any]:
    """lib0's decoding without the extras golden.mjs adds for other checks."""
    out = {k: v for k, v in fields.items() if k not in ("stateVector", "statesAfterApply")}
    if "entries" in out:
        out["entries"] = [{k: e[k] for k in ("clientID", "clock", "stateJson")} for e in out["entries"]]
    return out


@pytest.mark.parametrize("vector", FRAMES, ids=_ids(FRAMES, "name"))
def test_frame_encoding_matches_real_encoders(vector: dict[str, Any]) -> None:
    assert encode_frame(vector["fields"]).hex() == vector["hex"]


@pytest.mark.parametrize("vector", FRAMES, ids=_ids(FRAMES, "name"))
def test_frame_decoding_matches_lib0(vector: dict[str, Any]) -> None:
    assert decode_frame(bytes.fromhex(vector["hex"])) == _comparable(vector["fields"])


def test_pong_frame_constant_is_what_provider_v4_sends() -> None:
    assert bytes.fromhex(FRAMES_BY_NAME["provider-v4-07-bare-10"]["hex"]) == protocol.PONG_FRAME
    with pytest.raises(DecodeError):
        parse_frame(protocol.PONG_FRAME)  # not an envelope: the server must check it first


@pytest.mark.parametrize("vector", ENVELOPE_FRAMES, ids=_ids(ENVELOPE_FRAMES, "name"))
def test_truncated_frames_raise_decode_error(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    fields = vector["fields"]
    envelope_length = len(
        Encoder().write_var_string(fields["document"]).write_var_uint(fields["type"]).to_bytes()
    )
    # Bodies that end with an optional field (a v4 provider version, a CLOSE reason) may legitimately
    # be cut at that field's boundary; everything else must be rejected at every cut.
    optional_tail = fields["type"] == MessageType.CLOSE or (
        fields["type"] == MessageType.AUTH and fields["authType"] == protocol.AuthMessage.TOKEN
    )
    for cut in range(len(data)):
        prefix = data[:cut]
        if cut < envelope_length:
            with pytest.raises(DecodeError):
                parse_frame(prefix)
            continue
        if not optional_tail:
            with pytest.raises(DecodeError):
                decode_frame(prefix)
            continue
        try:
            decoded = decode_frame(prefix)
        except DecodeError:
            continue
        assert decoded != _comparable(fields)


@pytest.mark.parametrize("vector", VECTORS["invalidEnvelopes"], ids=_ids(VECTORS["invalidEnvelopes"], "name"))
def test_envelopes_lib0_rejects_are_rejected(vector: dict[str, Any]) -> None:
    assert vector["lib0Error"]
    with pytest.raises(DecodeError):
        parse_frame(bytes.fromhex(vector["hex"]))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x80" * 10 + b"\x01", id="varUint longer than 10 bytes"),
        pytest.param(b"\xff" * 64, id="64 continuation bytes"),
        pytest.param(b"\xff\xff\xff\xff\xff\xff\xff\xff\x3f", id="string length 2^62"),
        pytest.param(b"\x02\xc3\x28\x00", id="invalid UTF-8 in document name"),
        pytest.param(b"\x03\xed\xa0\x80\x00", id="UTF-8 surrogate in document name"),
        pytest.param(b"\x02\xc0\xaf\x00", id="overlong UTF-8"),
        pytest.param(b"\x01a" + b"\x80" * 11, id="type varUint too long"),
    ],
)
def test_malformed_envelopes_raise_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_frame(data)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\x00", id="sync step without payload"),
        pytest.param(b"\x00\x05\x00", id="sync payload shorter than announced"),
        pytest.param(b"\x02\xff\xff\xff\xff\xff\xff\xff\xff\x7f", id="sync payload of 2^63 bytes"),
    ],
)
def test_malformed_sync_bodies_raise_decode_error(body: bytes) -> None:
    frame = parse_frame(Encoder().write_var_string("d").write_var_uint(MessageType.SYNC).to_bytes() + body)
    step = frame.body.read_var_uint()
    assert step in (0, 2)
    with pytest.raises(DecodeError):
        frame.body.read_var_uint8_array()


def test_encoder_rejects_negative_var_uint() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        Encoder().write_var_uint(-1)


# ---------- awareness: pycrdt reads what y-protocols wrote ----------


def _pycrdt_states(*updates: bytes) -> dict[str, Any]:
    awareness = Awareness(Doc())
    awareness.set_local_state(None)
    for update in updates:
        awareness.apply_awareness_update(update, "test")
    return {str(client_id): state for client_id, state in awareness.states.items()}


@pytest.mark.parametrize("vector", AWARENESS_FRAMES, ids=_ids(AWARENESS_FRAMES, "name"))
def test_awareness_payload_applies_in_pycrdt_like_in_y_protocols(vector: dict[str, Any]) -> None:
    update = parse_frame(bytes.fromhex(vector["hex"])).body.read_var_uint8_array()
    assert _pycrdt_states(update) == vector["fields"]["statesAfterApply"]
    for ours, theirs in zip(decode_awareness_update(update), vector["fields"]["entries"], strict=True):
        assert json.loads(ours["stateJson"]) == theirs["state"]


@pytest.mark.parametrize("sequence", VECTORS["awarenessSequences"])
def test_awareness_sequences_apply_in_pycrdt_like_in_y_protocols(sequence: dict[str, Any]) -> None:
    updates = [bytes.fromhex(FRAMES_BY_NAME[name]["fields"]["update"]) for name in sequence["frames"]]
    assert _pycrdt_states(*updates) == sequence["states"]


def test_non_ascii_awareness_state_is_read_by_pycrdt() -> None:
    update = bytes.fromhex(FRAMES_BY_NAME["awareness-two-clients"]["fields"]["update"])
    assert _pycrdt_states(update)["7"]["user"]["name"] == "Zoë 👍"


# ---------- properties ----------


@HYPOTHESIS
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_var_uint_round_trip(value: int) -> None:
    encoded = Encoder().write_var_uint(value).to_bytes()
    assert len(encoded) == max(1, -(-value.bit_length() // 7))
    decoder = Decoder(encoded)
    assert decoder.read_var_uint() == value
    assert not decoder.has_more()


@HYPOTHESIS
@given(st.text(), st.binary(max_size=2048), st.integers(min_value=0, max_value=2**32))
def test_sequence_round_trip(text: str, data: bytes, number: int) -> None:
    encoded = (
        Encoder()
        .write_var_string(text)
        .write_var_uint8_array(data)
        .write_var_uint(number)
        .write_var_string("ü")
        .to_bytes()
    )
    decoder = Decoder(encoded)
    assert decoder.read_var_string() == text
    assert decoder.read_var_uint8_array() == data
    assert decoder.read_var_uint() == number
    assert decoder.read_var_string() == "ü"
    assert not decoder.has_more()


@HYPOTHESIS
@given(st.text(max_size=64), st.sampled_from(list(MessageType)), st.binary(max_size=512))
def test_frame_envelope_round_trip(document: str, message_type: MessageType, payload: bytes) -> None:
    data = Encoder().write_var_string(document).write_var_uint(message_type).write_bytes(payload).to_bytes()
    frame = parse_frame(data)
    assert (frame.document, frame.type) == (document, message_type)
    assert frame.body.read_rest() == payload


@HYPOTHESIS
@given(st.text(max_size=32), st.sampled_from(list(SyncStep)), st.binary(max_size=512))
def test_sync_message_round_trip(document: str, step: SyncStep, data: bytes) -> None:
    decoded = decode_frame(protocol.sync_message(document, step, data))
    assert decoded == {"document": document, "type": MessageType.SYNC, "step": step, "data": data.hex()}


@HYPOTHESIS
@given(st.binary(max_size=256))
def test_garbage_raises_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_frame(data)


@HYPOTHESIS
@given(st.sampled_from(ENVELOPE_FRAMES), st.data())
def test_mutated_real_frames_raise_only_decode_error(vector: dict[str, Any], data: st.DataObject) -> None:
    frame = bytearray.fromhex(vector["hex"])
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        index = data.draw(st.integers(min_value=0, max_value=len(frame) - 1))
        frame[index] = data.draw(st.integers(min_value=0, max_value=255))
    with contextlib.suppress(DecodeError):
        decode_frame(bytes(frame))
