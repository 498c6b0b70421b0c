"""Who gets which connection: roles through the backend's permission model, share links, revocation on
reconnect, and provisional documents (Decision 19)."""

from __future__ import annotations

import base64
import uuid

import pycrdt
import pytest

from mdreader_backend.email import LogEmailSender
from mdreader_sync import protocol
from mdreader_sync.protocol import MessageType, SyncStep
from tests.backend.conftest import share
from tests.sync.harness import RawClient, SyncStack, auth_frame, create_with_id, stored_doc, text_update


async def connect_as(stack: SyncStack, name: str, token: str, path: str = "/") -> tuple[RawClient, bytes]:
    """Opens a socket, sends Auth and Step1; returns the client and the server's answer to Auth."""
    client = await RawClient.open(stack.url, path)
    await client.send(auth_frame(name, token))
    await client.send(protocol.sync_message(name, SyncStep.STEP1, pycrdt.Doc().get_state()))
    return client, (await client.next_of(MessageType.AUTH)).raw


def scope(name: str, *, read_only: bool) -> bytes:
    return protocol.authenticated(name, read_only=read_only)


@pytest.mark.parametrize(("role", "read_only"), [("editor", False), ("commenter", True), ("viewer", True)])
async def test_document_share_roles(sync_stack: SyncStack, role: str, read_only: bool) -> None:
    alice, bob = await sync_stack.user("alice"), await sync_stack.user("bob")
    name = (await sync_stack.document(alice))["id"]
    outbox: LogEmailSender = sync_stack.app.state.email
    await share(sync_stack.http, outbox, alice, name, bob, role)
    client, answer = await connect_as(sync_stack, name, bob.access_token)
    assert answer == scope(name, read_only=read_only)
    await client.close()


async def test_revoked_share_loses_access_on_reconnect(sync_stack: SyncStack) -> None:
    alice, bob = await sync_stack.user("alice"), await sync_stack.user("bob")
    name = (await sync_stack.document(alice))["id"]
    await share(sync_stack.http, sync_stack.app.state.email, alice, name, bob, "editor")
    client, answer = await connect_as(sync_stack, name, bob.access_token)
    assert answer == scope(name, read_only=False)
    await client.close()
    removed = await sync_stack.http.delete(
        f"/api/v1/documents/{name}/members/{bob.id}", headers=alice.headers
    )
    assert removed.status_code == 200
    again, answer = await connect_as(sync_stack, name, bob.access_token)
    assert answer == protocol.permission_denied(name)
    await again.close()


@pytest.mark.parametrize(("mode", "read_only"), [("edit", False), ("comment", True), ("view", True)])
async def test_share_link_guests(sync_stack: SyncStack, mode: str, read_only: bool) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    link = await sync_stack.http.post(
        f"/api/v1/documents/{name}/share-links", json={"mode": mode}, headers=alice.headers
    )
    token = link.json()["token"]
    assert (await sync_stack.http.post("/api/v1/share/validate", json={"token": token})).json()["valid"]
    # The client sends the guest's link in the query string and no JWT (an empty Auth token).
    guest, answer = await connect_as(sync_stack, name, "", path=f"/?share_token={token}")
    assert answer == scope(name, read_only=read_only)
    await guest.close()
    other = (await sync_stack.document(alice))["id"]  # the link opens its own document only
    elsewhere, answer = await connect_as(sync_stack, other, "", path=f"/?share_token={token}")
    assert answer == protocol.permission_denied(other)
    await elsewhere.close()


async def test_revoked_share_link_is_refused(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    link = (
        await sync_stack.http.post(f"/api/v1/documents/{name}/share-links", json={}, headers=alice.headers)
    ).json()
    await sync_stack.http.delete(f"/api/v1/documents/{name}/share-links/{link['id']}", headers=alice.headers)
    guest, answer = await connect_as(sync_stack, name, "", path=f"/?share_token={link['token']}")
    assert answer == protocol.permission_denied(name)
    await guest.close()


async def test_non_uuid_and_deleted_documents_are_refused(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    client, answer = await connect_as(sync_stack, "doc_not-a-uuid", alice.access_token)
    assert answer == protocol.permission_denied("doc_not-a-uuid", "invalid-document-name")
    await client.close()
    name = (await sync_stack.document(alice))["id"]
    await sync_stack.http.delete(f"/api/v1/documents/{name}", headers=alice.headers)
    client, answer = await connect_as(sync_stack, name, alice.access_token)
    assert answer == protocol.permission_denied(name)
    await client.close()


async def test_provisional_document_lifecycle(sync_stack: SyncStack) -> None:
    """Typed and acknowledged before the REST create, private, then merged into the created document."""
    alice, bob = await sync_stack.user("alice"), await sync_stack.user("bob")
    name = str(uuid.uuid4())
    writer, answer = await connect_as(sync_stack, name, alice.access_token)
    assert answer == scope(name, read_only=False)
    await writer.send(protocol.sync_message(name, SyncStep.UPDATE, text_update("before create")))
    assert (await writer.next_of(MessageType.SYNC_STATUS)).raw == protocol.sync_status(name, True)

    intruder, answer = await connect_as(sync_stack, name, bob.access_token)
    assert answer == protocol.permission_denied(name)
    await intruder.close()

    assert (await create_with_id(sync_stack, alice, name)).status_code == 201
    doc = await stored_doc(sync_stack, name, alice.headers)
    assert str(doc.get("t", type=pycrdt.Text)) == "before create"

    # From now on the normal rules apply: Bob still has no access, and Alice keeps editing.
    intruder, answer = await connect_as(sync_stack, name, bob.access_token)
    assert answer == protocol.permission_denied(name)
    await intruder.close()
    await writer.send(protocol.sync_message(name, SyncStep.UPDATE, text_update(" after")))
    assert (await writer.next_of(MessageType.SYNC_STATUS)).raw == protocol.sync_status(name, True)
    await writer.close()


async def test_provisional_content_is_never_given_to_another_creator(sync_stack: SyncStack) -> None:
    alice, bob = await sync_stack.user("alice"), await sync_stack.user("bob")
    name = str(uuid.uuid4())
    writer, _ = await connect_as(sync_stack, name, alice.access_token)
    await writer.send(protocol.sync_message(name, SyncStep.UPDATE, text_update("alice's draft")))
    await writer.next_of(MessageType.SYNC_STATUS)
    workspace = (
        await sync_stack.http.post("/api/v1/workspaces", json={"name": "B"}, headers=bob.headers)
    ).json()
    created = await sync_stack.http.post(
        "/api/v1/documents",
        params={"workspace_id": workspace["id"]},
        json={"id": name, "title": "B"},
        headers=bob.headers,
    )
    assert created.json()["yjs_state_b64"] is None
    # Alice's next keystroke can't land in Bob's document: her room is closed with PermissionDenied.
    await writer.send(protocol.sync_message(name, SyncStep.UPDATE, text_update("more secrets")))
    assert (await writer.next_of(MessageType.AUTH)).raw == protocol.permission_denied(name)
    await writer.close()
    await sync_stack.server.rooms.close_all()
    fetched = (await sync_stack.http.get(f"/api/v1/documents/{name}", headers=bob.headers)).json()
    assert fetched["yjs_state_b64"] is None or "secret" not in base64.b64decode(
        fetched["yjs_state_b64"]
    ).decode(errors="replace")
