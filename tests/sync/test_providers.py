"""The sync service with the real @hocuspocus/provider 2.15.3, 3.4.4 (MDReader's) and 4.8.0."""

from __future__ import annotations

import asyncio
import base64
import uuid

import pycrdt
import pytest

from tests.backend.conftest import add_workspace_member
from tests.sync.harness import SyncStack, create_with_id, stored_doc
from tests.sync.node_driver import DriverError, NodeDriver

VERSIONS = ["v2", "v3", "v4"]


async def status(driver: NodeDriver, client: str) -> dict[str, object]:
    return await driver.call("status", client=client)


async def connect_synced(
    driver: NodeDriver, stack: SyncStack, client: str, name: str, token: str, version: str = "v3"
) -> None:
    await driver.call("connect", client=client, url=stack.url, document=name, token=token, version=version)
    await driver.call("waitFor", client=client, condition="synced", timeoutMs=10000)


async def assert_clean(driver: NodeDriver, client: str) -> None:
    """No frame the provider could not handle (v2 throws on CLOSE, v2/v3 on unknown types)."""
    assert (await status(driver, client))["errors"] == []


@pytest.mark.parametrize("version", VERSIONS)
async def test_two_clients_converge_and_everything_is_acknowledged(
    sync_stack: SyncStack, node_driver: NodeDriver, version: str
) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    for client in ("a", "b"):
        await connect_synced(node_driver, sync_stack, client, name, alice.access_token, version)
    await node_driver.call("appendParagraph", client="a", field="content", text="Hello from TipTap")
    await node_driver.call("insertText", client="b", field="t", text="plain text")
    await node_driver.call(
        "waitFor", client="b", condition="xmlIncludes:content=Hello from TipTap", timeoutMs=10000
    )
    await node_driver.call("waitFor", client="a", condition="text:t=plain text", timeoutMs=10000)
    for client in ("a", "b"):
        await node_driver.call("waitFor", client=client, condition="synced", timeoutMs=10000)
        current = await status(node_driver, client)
        assert current["unsyncedChanges"] == 0
        assert current["authorizedScope"] == "read-write"
        await assert_clean(node_driver, client)
    a_state = (await node_driver.call("stateVector", client="a"))["stateVector"]
    b_state = (await node_driver.call("stateVector", client="b"))["stateVector"]
    assert a_state == b_state


@pytest.mark.parametrize("version", ["v3", "v4"])
async def test_two_documents_multiplexed_on_one_socket(
    sync_stack: SyncStack, node_driver: NodeDriver, version: str
) -> None:
    alice = await sync_stack.user("alice")
    first, second = (await sync_stack.document(alice))["id"], (await sync_stack.document(alice))["id"]
    for client, name in (("one", first), ("two", second)):
        await node_driver.call(
            "connect",
            client=client,
            url=sync_stack.url,
            document=name,
            token=alice.access_token,
            version=version,
            socket="shared",
        )
    for client in ("one", "two"):
        await node_driver.call("waitFor", client=client, condition="synced", timeoutMs=10000)
    await node_driver.call("insertText", client="one", field="t", text="first")
    await node_driver.call("insertText", client="two", field="t", text="second")
    await node_driver.call(
        "connect", client="reader", url=sync_stack.url, document=second, token=alice.access_token
    )
    await node_driver.call("waitFor", client="reader", condition="text:t=second", timeoutMs=10000)
    assert len(sync_stack.server.sockets) == 2  # the shared socket and the reader's
    for client in ("one", "two"):
        await node_driver.call("waitFor", client=client, condition="synced", timeoutMs=10000)
        await assert_clean(node_driver, client)


async def test_viewer_gets_a_read_only_connection(sync_stack: SyncStack, node_driver: NodeDriver) -> None:
    alice, bob = await sync_stack.user("alice"), await sync_stack.user("bob")
    workspace = (
        await sync_stack.http.post("/api/v1/workspaces", json={"name": "W"}, headers=alice.headers)
    ).json()
    await add_workspace_member(sync_stack.http, alice, workspace["id"], bob, "viewer")
    name = (
        await sync_stack.http.post(
            "/api/v1/documents",
            params={"workspace_id": workspace["id"]},
            json={"title": "D"},
            headers=alice.headers,
        )
    ).json()["id"]
    await node_driver.call(
        "connect", client="owner", url=sync_stack.url, document=name, token=alice.access_token
    )
    await node_driver.call(
        "connect", client="viewer", url=sync_stack.url, document=name, token=bob.access_token
    )
    await node_driver.call("waitFor", client="viewer", condition="authenticated", timeoutMs=10000)
    await node_driver.call("insertText", client="viewer", field="t", text="not allowed")
    await node_driver.call("insertText", client="owner", field="t", text="owner text")
    await node_driver.call("waitFor", client="viewer", condition="textIncludes:t=owner text", timeoutMs=10000)
    viewer = await status(node_driver, "viewer")
    assert viewer["authorizedScope"] == "readonly"
    assert viewer["rejected"] >= 1
    assert viewer["hasUnsyncedChanges"] is True  # the provider keeps the refused edit as unsynced
    await asyncio.sleep(0.5)
    assert (await node_driver.call("getText", client="owner", field="t"))["text"] == "owner text"


async def test_no_access_and_refresh_tokens_fail_authentication(
    sync_stack: SyncStack, node_driver: NodeDriver
) -> None:
    alice, bob = await sync_stack.user("alice"), await sync_stack.user("bob")
    name = (await sync_stack.document(alice))["id"]
    await node_driver.call("connect", client="bob", url=sync_stack.url, document=name, token=bob.access_token)
    await node_driver.call(
        "connect", client="refresh", url=sync_stack.url, document=name, token=alice.refresh_token
    )
    for client in ("bob", "refresh"):
        await node_driver.call("waitFor", client=client, condition="authenticationFailed", timeoutMs=10000)
        assert (await status(node_driver, client))["synced"] is False


async def test_provisional_document_typed_before_its_rest_create(
    sync_stack: SyncStack, node_driver: NodeDriver
) -> None:
    alice, bob = await sync_stack.user("alice"), await sync_stack.user("bob")
    name = str(uuid.uuid4())  # the client opens the socket before POST /documents
    await node_driver.call(
        "connect", client="alice", url=sync_stack.url, document=name, token=alice.access_token
    )
    await node_driver.call("waitFor", client="alice", condition="synced", timeoutMs=10000)
    await node_driver.call("appendParagraph", client="alice", field="content", text="draft before create")
    await node_driver.call("waitFor", client="alice", condition="synced", timeoutMs=10000)
    await node_driver.call("connect", client="bob", url=sync_stack.url, document=name, token=bob.access_token)
    await node_driver.call("waitFor", client="bob", condition="authenticationFailed", timeoutMs=10000)

    created = await create_with_id(sync_stack, alice, name)
    assert created.status_code == 201
    doc = await stored_doc(sync_stack, name, alice.headers)
    assert "draft before create" in str(doc.get("content", type=pycrdt.XmlFragment))

    # Shared by the normal rules from now on: a workspace member can join.
    await add_workspace_member(sync_stack.http, alice, created.json()["workspace_id"], bob, "editor")
    await node_driver.call(
        "connect", client="bob2", url=sync_stack.url, document=name, token=bob.access_token
    )
    await node_driver.call(
        "waitFor", client="bob2", condition="xmlIncludes:content=draft before create", timeoutMs=10000
    )


async def test_synced_content_reaches_rest_and_rest_pushes_reach_clients(
    sync_stack: SyncStack, node_driver: NodeDriver
) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    await node_driver.call("connect", client="a", url=sync_stack.url, document=name, token=alice.access_token)
    await node_driver.call("waitFor", client="a", condition="synced", timeoutMs=10000)
    await node_driver.call("insertText", client="a", field="t", text="typed live")
    await node_driver.call("waitFor", client="a", condition="synced", timeoutMs=10000)

    async def rest_text() -> str:
        return str((await stored_doc(sync_stack, name, alice.headers)).get("t", type=pycrdt.Text))

    for _ in range(60):  # compaction runs within the (test) debounce of 0.2-1 s
        if await rest_text() == "typed live":
            break
        await asyncio.sleep(0.1)
    assert await rest_text() == "typed live"

    # A live-snapshot push from another device merges into the live document and reaches the client.
    other = pycrdt.Doc()
    other.get("m", type=pycrdt.Map)["pushed"] = "over REST"
    pushed = await sync_stack.http.post(
        f"/api/v1/documents/{name}/snapshot",
        json={"yjs_state": base64.b64encode(other.get_update()).decode(), "html": "<p>typed live</p>"},
        headers=alice.headers,
    )
    assert pushed.status_code == 204

    async def pushed_value() -> object:
        shared_map = (await node_driver.call("getMap", client="a", field="m"))["value"]
        return shared_map.get("pushed")

    for _ in range(50):
        if await pushed_value() == "over REST":
            break
        await asyncio.sleep(0.1)
    assert await pushed_value() == "over REST"
    assert (await node_driver.call("getText", client="a", field="t"))["text"] == "typed live"


@pytest.mark.parametrize("sync_stack", [{"sync_timeout_seconds": 30}], indirect=True)
async def test_idle_providers_stay_connected_for_70_seconds(
    sync_stack: SyncStack, node_driver: NodeDriver
) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    for version in VERSIONS:
        await connect_synced(node_driver, sync_stack, version, name, alice.access_token, version)
    await asyncio.sleep(70)
    for version in VERSIONS:
        current = await status(node_driver, version)
        assert current["reconnects"] == 0, f"{version} reconnected: {current['lastClose']}"
        assert current["status"] == "connected"
        await assert_clean(node_driver, version)


async def test_the_client_never_sees_a_permission_denied_it_can_not_retry(
    sync_stack: SyncStack, node_driver: NodeDriver
) -> None:
    """After PermissionDenied, MDReader refreshes its token and builds a new provider: that must work."""
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    await node_driver.call(
        "connect", client="stale", url=sync_stack.url, document=name, token="expired.jwt.token"
    )
    await node_driver.call("waitFor", client="stale", condition="authenticationFailed", timeoutMs=10000)
    await node_driver.call("destroy", client="stale")
    await node_driver.call(
        "connect", client="fresh", url=sync_stack.url, document=name, token=alice.access_token
    )
    await node_driver.call("waitFor", client="fresh", condition="synced", timeoutMs=10000)
    with pytest.raises(DriverError):
        await node_driver.call("status", client="stale")
