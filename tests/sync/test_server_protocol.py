"""The sync service at the frame level: handshake order, acks, auth, read-only, close codes, limits."""

from __future__ import annotations

import asyncio
import base64
import uuid

import httpx
import pycrdt
import pytest
from sqlalchemy import func, select

from mdreader_backend.documents.models import DocumentUpdateLog
from mdreader_sync import protocol
from mdreader_sync.protocol import MessageType, SyncStep
from tests.backend.conftest import add_workspace_member
from tests.sync.harness import RawClient, SyncStack, auth_frame, new_document_name, open_document, text_update


def empty_state_vector() -> bytes:
    return pycrdt.Doc().get_state()


async def test_health_answers_plain_http(sync_stack: SyncStack) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{sync_stack.server.port}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_handshake_order_and_acks(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    document = await sync_stack.document(alice)
    name = document["id"]
    client = await RawClient.open(sync_stack.url, "/any/path?x=1")
    await client.send(auth_frame(name, alice.access_token))
    await client.send(protocol.sync_message(name, SyncStep.STEP1, empty_state_vector()))
    authenticated, step1, step2 = await client.next(), await client.next(), await client.next()
    assert authenticated.raw == protocol.authenticated(name, read_only=False)
    assert step1.raw.startswith(protocol.sync_message(name, SyncStep.STEP1, b"")[: len(name) + 3])
    assert (step1.type, step2.type) == (MessageType.SYNC, MessageType.SYNC)
    assert step2.frame.body.read_var_uint() == SyncStep.STEP2
    # The client answers our Step1 with its Step2, then sends an update: one SyncStatus(1) each.
    await client.send(protocol.sync_message(name, SyncStep.STEP2, protocol.EMPTY_UPDATE))
    assert (await client.next_of(MessageType.SYNC_STATUS)).raw == protocol.sync_status(name, True)
    await client.send(protocol.sync_message(name, SyncStep.UPDATE, text_update("hello")))
    assert (await client.next_of(MessageType.SYNC_STATUS)).raw == protocol.sync_status(name, True)
    await client.close()


async def test_update_is_durable_before_its_ack(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    client = await open_document(sync_stack.url, name, alice.access_token)
    update = text_update("durable")
    await client.send(protocol.sync_message(name, SyncStep.UPDATE, update))
    await client.next_of(MessageType.SYNC_STATUS)
    async with sync_stack.app.state.sessionmaker() as session:
        stored = await session.scalar(
            select(func.count()).where(DocumentUpdateLog.document_id == uuid.UUID(name))
        )
    documents = await sync_stack.http.get(f"/api/v1/documents/{name}", headers=alice.headers)
    # Either still in the log, or already compacted into the document: never only in memory.
    assert stored == 1 or documents.json()["yjs_version"] >= 1
    await client.close()


async def test_frames_before_auth_are_queued_and_replayed(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    client = await RawClient.open(sync_stack.url)
    await client.send(protocol.sync_message(name, SyncStep.STEP1, empty_state_vector()))
    await client.send(auth_frame(name, alice.access_token))
    assert (await client.next()).type == MessageType.AUTH
    assert (await client.next()).type == MessageType.SYNC
    await client.close()


async def test_permission_denied_keeps_the_socket_open_for_a_retry(sync_stack: SyncStack) -> None:
    alice, bob = await sync_stack.user("alice"), await sync_stack.user("bob")
    name = (await sync_stack.document(alice))["id"]
    client = await RawClient.open(sync_stack.url)
    await client.send(auth_frame(name, bob.access_token))
    denied = await client.next()
    assert denied.raw == protocol.permission_denied(name)
    await client.send(auth_frame(name, alice.access_token))  # same socket, right token
    assert (await client.next()).raw == protocol.authenticated(name, read_only=False)
    await client.close()


@pytest.mark.parametrize("token_kind", ["refresh", "garbage", "empty"])
async def test_tokens_that_are_not_access_tokens_are_refused(sync_stack: SyncStack, token_kind: str) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    token = {"refresh": alice.refresh_token, "garbage": "not-a-jwt", "empty": ""}[token_kind]
    client = await RawClient.open(sync_stack.url)
    await client.send(auth_frame(name, token))
    assert (await client.next()).raw == protocol.permission_denied(name, "unauthorized")
    await client.close()


async def test_viewer_is_read_only(sync_stack: SyncStack) -> None:
    alice, bob = await sync_stack.user("alice"), await sync_stack.user("bob")
    workspace = (
        await sync_stack.http.post("/api/v1/workspaces", json={"name": "W"}, headers=alice.headers)
    ).json()
    await add_workspace_member(sync_stack.http, alice, workspace["id"], bob, "viewer")
    document = (
        await sync_stack.http.post(
            "/api/v1/documents",
            params={"workspace_id": workspace["id"]},
            json={"title": "D"},
            headers=alice.headers,
        )
    ).json()
    name = document["id"]
    client = await RawClient.open(sync_stack.url)
    await client.send(auth_frame(name, bob.access_token))
    assert (await client.next()).raw == protocol.authenticated(name, read_only=True)
    await client.send(protocol.sync_message(name, SyncStep.UPDATE, text_update("vandalism")))
    assert (await client.next_of(MessageType.SYNC_STATUS)).raw == protocol.sync_status(name, False)
    await client.send(protocol.sync_message(name, SyncStep.STEP2, protocol.EMPTY_UPDATE))
    assert (await client.next_of(MessageType.SYNC_STATUS)).raw == protocol.sync_status(name, True)
    await client.send(protocol.sync_message(name, SyncStep.STEP2, text_update("sneaky")))
    assert (await client.next_of(MessageType.SYNC_STATUS)).raw == protocol.sync_status(name, False)
    room = sync_stack.server.rooms.rooms[name]
    assert str(room.doc.get("t", type=pycrdt.Text)) == ""
    await client.close()


async def test_undecodable_first_frame_closes_4401(sync_stack: SyncStack) -> None:
    client = await RawClient.open(sync_stack.url)
    await client.send(b"\xff\xff\xff\xff\xff")
    assert await client.closed() == (4401, "Unauthorized")


@pytest.mark.parametrize("sync_stack", [{"sync_max_message_bytes": 4096}], indirect=True)
async def test_oversized_message_closes_1009(sync_stack: SyncStack) -> None:
    client = await RawClient.open(sync_stack.url)
    await client.send(b"\x01a" + b"\x00" * 10_000)
    assert await client.closed() == (1009, "Message Too Big")


@pytest.mark.parametrize("sync_stack", [{"sync_timeout_seconds": 0.5}], indirect=True)
async def test_socket_without_a_document_closes_4401(sync_stack: SyncStack) -> None:
    client = await RawClient.open(sync_stack.url)
    assert await client.closed(within=5) == (4401, "Unauthorized")


@pytest.mark.parametrize("sync_stack", [{"sync_preauth_max_frames": 3}], indirect=True)
async def test_pre_auth_queue_limit_closes_4205(sync_stack: SyncStack) -> None:
    client = await RawClient.open(sync_stack.url)
    name = new_document_name()
    for _ in range(5):
        await client.send(protocol.sync_message(name, SyncStep.STEP1, empty_state_vector()))
    assert await client.closed() == (4205, "Reset Connection")


async def test_close_of_the_last_document_closes_the_socket_for_v2_v3(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    client = await open_document(sync_stack.url, name, alice.access_token)
    await client.send(protocol.stateless(name, "")[:-1] + b"")  # harmless: an unterminated stateless
    await client.send(protocol.Encoder().write_var_string(name).write_var_uint(MessageType.CLOSE).to_bytes())
    assert await client.closed() == (1000, "provider_initiated")


async def test_close_from_a_v4_provider_gets_a_close_frame_back(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    client = await RawClient.open(sync_stack.url)
    await client.send(auth_frame(name, alice.access_token, provider_version="4.8.0"))
    await client.next_of(MessageType.AUTH)
    await client.send(protocol.Encoder().write_var_string(name).write_var_uint(MessageType.CLOSE).to_bytes())
    assert (await client.next_of(MessageType.CLOSE)).raw == protocol.close(name, "provider_initiated")
    await client.close()


async def test_awareness_is_echoed_and_removed_on_disconnect(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    first = await open_document(sync_stack.url, name, alice.access_token)
    second = await open_document(sync_stack.url, name, alice.access_token)
    awareness = pycrdt.Awareness(pycrdt.Doc())
    awareness.set_local_state({"user": {"name": "Zoë", "color": "#f00"}})
    update = awareness.encode_awareness_update([awareness.client_id])
    await first.send(protocol.awareness(name, update))
    echoed = await first.next_of(MessageType.AWARENESS)  # back to the sender: the provider's keepalive
    relayed = await second.next_of(MessageType.AWARENESS)
    for received in (echoed, relayed):
        watcher = pycrdt.Awareness(pycrdt.Doc())
        watcher.apply_awareness_update(received.frame.body.read_var_uint8_array(), "test")
        assert watcher.states[awareness.client_id] == {"user": {"name": "Zoë", "color": "#f00"}}
    await first.close()
    removal = await second.next_of(MessageType.AWARENESS)
    watcher = pycrdt.Awareness(pycrdt.Doc())
    watcher.apply_awareness_update(update, "seed")
    watcher.apply_awareness_update(removal.frame.body.read_var_uint8_array(), "test")
    assert awareness.client_id not in watcher.states
    await second.close()


async def test_garbage_from_one_socket_does_not_disturb_another(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    healthy = await open_document(sync_stack.url, name, alice.access_token)
    rogue = await open_document(sync_stack.url, name, alice.access_token)
    await rogue.send(protocol.sync_message(name, SyncStep.UPDATE, b"\xff\xfe\xfd"))
    assert await rogue.closed() == (4205, "Reset Connection")
    await healthy.send(protocol.sync_message(name, SyncStep.UPDATE, text_update("still fine")))
    assert (await healthy.next_of(MessageType.SYNC_STATUS)).raw == protocol.sync_status(name, True)
    await healthy.close()


async def test_rest_write_reaches_a_connected_client(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    client = await open_document(sync_stack.url, name, alice.access_token)
    update = text_update("from REST")
    response = await sync_stack.http.patch(
        f"/api/v1/documents/{name}",
        json={"yjs_state_b64": base64.b64encode(update).decode()},
        headers=alice.headers,
    )
    assert response.status_code == 200
    pushed = await client.next_of(MessageType.SYNC, within=5)
    assert pushed.frame.body.read_var_uint() == SyncStep.UPDATE
    doc = pycrdt.Doc()
    doc.apply_update(pushed.frame.body.read_var_uint8_array())
    assert str(doc.get("t", type=pycrdt.Text)) == "from REST"
    await client.close()


async def test_compaction_merges_into_the_document(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    client = await open_document(sync_stack.url, name, alice.access_token)
    await client.send(protocol.sync_message(name, SyncStep.UPDATE, text_update("compact me")))
    await client.next_of(MessageType.SYNC_STATUS)
    for _ in range(50):
        document = (await sync_stack.http.get(f"/api/v1/documents/{name}", headers=alice.headers)).json()
        if document["yjs_version"] >= 1:
            break
        await asyncio.sleep(0.1)
    doc = pycrdt.Doc()
    doc.apply_update(base64.b64decode(document["yjs_state_b64"]))
    assert str(doc.get("t", type=pycrdt.Text)) == "compact me"
    await client.close()


@pytest.mark.parametrize("sync_stack", [{"sync_require_auth": False}], indirect=True)
async def test_without_auth_any_name_is_served_with_or_without_an_auth_frame(sync_stack: SyncStack) -> None:
    """Benchmark mode: v2 providers send no Auth frame without a token; v3/v4 always send one."""
    with_auth = await RawClient.open(sync_stack.url)
    await with_auth.send(auth_frame("bench-1", "any-token"))
    assert (await with_auth.next()).raw == protocol.authenticated("bench-1", read_only=False)
    without_auth = await RawClient.open(sync_stack.url)
    await without_auth.send(protocol.sync_message("bench-1", SyncStep.STEP1, empty_state_vector()))
    assert (await without_auth.next()).raw == protocol.authenticated("bench-1", read_only=False)
    await with_auth.close()
    await without_auth.close()
