"""The backend sees live collaborators through the sync service's presence (the restore 409), a client
that stops answering pings is closed with 4408, and random or broken frames never hurt other sockets."""

from __future__ import annotations

import asyncio
import base64
import os
import random

import httpx
import pycrdt
import pytest

from mdreader_sync import protocol
from mdreader_sync.lib0 import Encoder
from mdreader_sync.protocol import MessageType, SyncStep
from tests.sync.harness import SyncStack, auth_frame, open_document


async def overwrite_restore(stack: SyncStack, name: str, headers: dict[str, str]) -> httpx.Response:
    state = base64.b64encode(pycrdt.Doc().get_update()).decode()
    snapshot = await stack.http.post(
        f"/api/v1/documents/{name}/snapshots", json={"yjs_state_base64": state}, headers=headers
    )
    backup = await stack.http.post(
        f"/api/v1/documents/{name}/snapshots",
        json={"yjs_state_base64": state, "type": "restore-backup"},
        headers=headers,
    )
    return await stack.http.post(
        f"/api/v1/documents/{name}/snapshots/{snapshot.json()['snapshot_id']}/restore",
        json={"action": "overwrite", "backup_snapshot_id": backup.json()["snapshot_id"], "force": False},
        headers=headers,
    )


async def test_restore_is_refused_while_collaborators_are_connected(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    client = await open_document(sync_stack.url, name, alice.access_token)
    for _ in range(50):  # the presence heartbeat follows a join at once
        refused = await overwrite_restore(sync_stack, name, alice.headers)
        if refused.status_code == 409:
            break
        await asyncio.sleep(0.1)
    assert refused.status_code == 409
    assert refused.json()["detail"]["reason"] == "provider_active"
    assert refused.json()["detail"]["active_connections"] == 1
    await client.close()
    for _ in range(50):
        allowed = await overwrite_restore(sync_stack, name, alice.headers)
        if allowed.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert allowed.status_code == 200


@pytest.mark.parametrize("sync_stack", [{"sync_timeout_seconds": 0.5}], indirect=True)
async def test_a_client_that_stops_answering_pings_is_closed_with_4408(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    # A hand-made WebSocket client that never answers pings (every library client answers them).
    reader, writer = await asyncio.open_connection("127.0.0.1", sync_stack.server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert b"101" in await reader.readuntil(b"\r\n\r\n")
    writer.write(masked_binary_frame(auth_frame(name, alice.access_token)))
    await writer.drain()
    close_payload = await read_until_close_frame(reader, within=10)
    assert int.from_bytes(close_payload[:2], "big") == 4408
    assert close_payload[2:].decode() == "Connection Timeout"
    writer.close()


def masked_binary_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    header = bytes([0x82])
    length = len(payload)
    if length < 126:
        header += bytes([0x80 | length])
    else:
        header += bytes([0x80 | 126]) + length.to_bytes(2, "big")
    return header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


async def read_until_close_frame(reader: asyncio.StreamReader, within: float) -> bytes:
    async def read() -> bytes:
        while True:
            first, second = await reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            payload = await reader.readexactly(length)
            if first & 0x0F == 0x8:
                return payload

    return await asyncio.wait_for(read(), within)


def fuzz_frames(name: str, seed: int, count: int) -> list[bytes]:
    """Random bytes, truncated real frames, and real envelopes around random payloads."""
    generator = random.Random(seed)
    doc = pycrdt.Doc()
    doc.get("t", type=pycrdt.Text).insert(0, "fuzz")
    real = [
        auth_frame(name, "token"),
        protocol.sync_message(name, SyncStep.STEP1, doc.get_state()),
        protocol.sync_message(name, SyncStep.UPDATE, doc.get_update()),
        protocol.awareness(name, b"\x01\x05\x01\x02{}"),
        protocol.stateless(name, "hi"),
    ]
    frames: list[bytes] = []
    for _ in range(count):
        kind = generator.randrange(4)
        if kind == 0:
            frames.append(generator.randbytes(generator.randrange(1, 64)))
        elif kind == 1:
            frame = generator.choice(real)
            frames.append(frame[: generator.randrange(1, len(frame))])
        elif kind == 2:
            envelope = Encoder().write_var_string(name).write_var_uint(generator.randrange(12)).to_bytes()
            frames.append(envelope + generator.randbytes(generator.randrange(0, 48)))
        else:
            frames.append(b"\xff" * generator.randrange(1, 16) + generator.randbytes(8))
    return frames


async def test_random_and_truncated_frames_never_hurt_other_sockets(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    healthy = await open_document(sync_stack.url, name, alice.access_token)
    sockets = closed = 0
    for seed in range(40):
        frames = fuzz_frames(name, seed, 25)
        fuzzer = await open_document(sync_stack.url, name, alice.access_token)  # an authenticated attacker
        sockets += 1
        for frame in frames:
            try:
                await fuzzer.send(frame)
            except Exception:
                closed += 1
                break
        await fuzzer.websocket.close()
        # The healthy client is still served after every attack.
        doc = pycrdt.Doc()
        doc.get("t", type=pycrdt.Text).insert(0, f"ok {seed}")
        await healthy.send(protocol.sync_message(name, SyncStep.UPDATE, doc.get_update()))
        assert (await healthy.next_of(MessageType.SYNC_STATUS)).raw == protocol.sync_status(name, True)
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"http://127.0.0.1:{sync_stack.server.port}/health")).status_code == 200
    print(f"protocol fuzz: {sockets} sockets x 25 frames; {closed} closed by the server mid-way")
    await healthy.close()


@pytest.mark.parametrize("sync_stack", [{"sync_outbound_queue_frames": 16}], indirect=True)
async def test_a_consumer_that_stops_reading_is_reset_with_4205(sync_stack: SyncStack) -> None:
    """The per-socket send queue is bounded: a client that stops reading is reset, not buffered forever."""
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    reader, writer = await asyncio.open_connection("127.0.0.1", sync_stack.server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert b"101" in await reader.readuntil(b"\r\n\r\n")
    writer.write(masked_binary_frame(auth_frame(name, alice.access_token)))
    await writer.drain()
    await asyncio.sleep(0.3)  # authenticated; from now on this client reads nothing
    typist = await open_document(sync_stack.url, name, alice.access_token)
    for index in range(200):  # large updates fill the slow socket's TCP buffers, then its queue
        doc = pycrdt.Doc()
        doc.get("t", type=pycrdt.Text).insert(0, f"{index}:" + "x" * 100_000)
        await typist.send(protocol.sync_message(name, SyncStep.UPDATE, doc.get_update()))
        await typist.next_of(MessageType.SYNC_STATUS)
    close_payload = await read_until_close_frame(reader, within=30)
    assert int.from_bytes(close_payload[:2], "big") == 4205
    assert close_payload[2:].decode() == "Reset Connection"
    writer.close()
    await typist.close()
