"""Documents: create/upsert, get, lists and filters, update with Yjs merging, delete, star, live snapshot."""

from __future__ import annotations

import base64

import httpx
import pycrdt
import pytest
from fastapi import FastAPI

from mdreader_backend.sharing.models import DocumentShare
from tests.backend.conftest import Account, add_workspace_member, create_document, create_workspace, random_id


def yjs_text_update(text: str, *, base: bytes | None = None) -> bytes:
    """A full-state Yjs update whose Text "t" holds `text` appended to whatever `base` had."""
    doc = pycrdt.Doc()
    if base:
        doc.apply_update(base)
    doc.get("t", type=pycrdt.Text).insert(len(str(doc.get("t", type=pycrdt.Text))), text)
    return doc.get_update()


def yjs_text(state: bytes) -> str:
    doc = pycrdt.Doc()
    doc.apply_update(state)
    return str(doc.get("t", type=pycrdt.Text))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
async def workspace(client: httpx.AsyncClient, alice: Account) -> dict[str, str]:
    return await create_workspace(client, alice, "Docs")


async def test_create_shape_slug_and_word_count(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str]
) -> None:
    document = await create_document(
        client, alice, workspace["id"], title="Hello World!", content="# Hello World\n\nThis is my document."
    )
    assert document["slug"] == "hello-world"
    assert document["word_count"] == 7
    assert (document["version"], document["yjs_version"], document["yjs_state_b64"]) == (1, 0, None)
    assert document["created_by_id"] == alice.id
    assert set(document) == {
        "id", "title", "slug", "content", "content_type", "workspace_id", "folder_id", "tags", "is_public",
        "is_template", "is_starred", "storage_mode", "version", "yjs_version", "yjs_state_b64", "word_count",
        "created_by_id", "created_at", "updated_at",
    }  # fmt: skip


async def test_create_requires_workspace_query_and_access(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, str]
) -> None:
    missing = await client.post("/api/v1/documents", json={"title": "x"}, headers=alice.headers)
    assert missing.status_code == 422
    forbidden = await client.post(
        "/api/v1/documents",
        params={"workspace_id": workspace["id"]},
        json={"title": "x"},
        headers=bob.headers,
    )
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "No access to workspace"}
    unknown = await client.post(
        "/api/v1/documents", params={"workspace_id": random_id()}, json={"title": "x"}, headers=alice.headers
    )
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Workspace not found"}


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "x", "tags": [f"t{i}" for i in range(21)]},
        {"title": "x", "tags": ["x" * 51]},
        {"title": "x", "content_type": "pdf"},
        {"title": "x", "yjs_state_b64": "not base64!"},
        {"title": "x", "yjs_state_b64": base64.b64encode(b"\xff\xff\xff").decode()},
        {"title": "x", "folder_id": "nope"},
        {"title": 12},
    ],
)
async def test_create_rejects_bad_input_with_422(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str], body: dict[str, object]
) -> None:
    response = await client.post(
        "/api/v1/documents", params={"workspace_id": workspace["id"]}, json=body, headers=alice.headers
    )
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)


async def test_client_id_upsert_merges_yjs(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str]
) -> None:
    document_id = random_id()
    first = yjs_text_update("hello")
    await create_document(client, alice, workspace["id"], id=document_id, title="A", yjs_state_b64=b64(first))
    other_client = yjs_text_update(" world")  # an independent edit, from another replica
    again = await create_document(
        client, alice, workspace["id"], id=document_id, title="B", yjs_state_b64=b64(other_client)
    )
    assert again["id"] == document_id
    assert again["title"] == "B"
    assert (again["version"], again["yjs_version"]) == (2, 2)
    merged = yjs_text(base64.b64decode(again["yjs_state_b64"]))
    assert "hello" in merged
    assert " world" in merged


async def test_client_id_of_another_users_document_is_refused(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, str]
) -> None:
    document = await create_document(client, alice, workspace["id"], title="Secret", content="s3cret")
    bobs = await create_workspace(client, bob)
    hijack = await client.post(
        "/api/v1/documents",
        params={"workspace_id": bobs["id"]},
        json={"id": document["id"], "title": "Mine now", "content": ""},
        headers=bob.headers,
    )
    assert hijack.status_code == 403
    kept = await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)
    assert kept.json()["content"] == "s3cret"


async def test_get_detail_and_access(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, str]
) -> None:
    document = await create_document(client, alice, workspace["id"], content="c")
    detail = await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)
    assert detail.status_code == 200
    body = detail.json()
    assert body["created_by"] == {"id": alice.id, "username": "alice", "full_name": "Alice"}
    assert body["access_model"] == "inherited"
    assert "created_by_id" not in body
    denied = await client.get(f"/api/v1/documents/{document['id']}", headers=bob.headers)
    assert denied.status_code == 403
    assert denied.json() == {"detail": "No access to document"}
    assert (await client.get(f"/api/v1/documents/{random_id()}", headers=alice.headers)).status_code == 404
    assert (await client.get("/api/v1/documents/doc_123", headers=alice.headers)).status_code == 422


async def test_workspace_member_reads_and_edits_by_role(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, str]
) -> None:
    document = await create_document(client, alice, workspace["id"])
    await add_workspace_member(client, alice, workspace["id"], bob, "viewer")
    url = f"/api/v1/documents/{document['id']}"
    assert (await client.get(url, headers=bob.headers)).status_code == 200
    denied = await client.patch(url, json={"title": "x"}, headers=bob.headers)
    assert denied.status_code == 403
    assert denied.json() == {"detail": "No permission to update document"}
    await client.patch(
        f"/api/v1/workspaces/{workspace['id']}/members/{bob.id}/role",
        json={"role": "editor"},
        headers=alice.headers,
    )
    assert (await client.patch(url, json={"title": "x"}, headers=bob.headers)).status_code == 200


async def test_list_filters_sort_and_paging(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str]
) -> None:
    await create_document(client, alice, workspace["id"], title="b", tags=["red"], is_starred=True)
    await create_document(client, alice, workspace["id"], title="a", tags=["blue"])
    await create_document(client, alice, workspace["id"], title="c", tags=["green", "red"], is_template=True)
    url = f"/api/v1/documents/workspace/{workspace['id']}"

    async def titles(**params: object) -> list[str]:
        response = await client.get(url, params=params, headers=alice.headers)
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()["items"]]

    assert await titles(sort_by="title", sort_order="asc") == ["a", "b", "c"]
    assert await titles(tags="red", sort_by="title", sort_order="asc") == ["b", "c"]
    assert await titles(tags="blue,green", sort_by="title", sort_order="asc") == ["a", "c"]
    assert await titles(is_starred="true") == ["b"]
    assert await titles(is_template="true") == ["c"]
    page = (await client.get(url, params={"page": 2, "page_size": 2}, headers=alice.headers)).json()
    assert (page["total"], len(page["items"]), page["has_more"]) == (3, 1, False)
    item = page["items"][0]
    assert "content" not in item
    assert "yjs_state_b64" not in item
    bad = await client.get(url, params={"sort_by": "owner"}, headers=alice.headers)
    assert bad.status_code == 422


async def test_patch_bumps_versions_and_moves_to_root(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str]
) -> None:
    document = await create_document(client, alice, workspace["id"])
    url = f"/api/v1/documents/{document['id']}"
    patched = await client.patch(
        url,
        json={"content": "one two", "is_starred": True, "unknown": 1, "expected_yjs_version": 0},
        headers=alice.headers,
    )
    assert patched.status_code == 200
    body = patched.json()
    assert (body["version"], body["word_count"], body["is_starred"]) == (2, 2, True)
    folder_root = await client.patch(url, json={"folder_id": None}, headers=alice.headers)
    assert folder_root.status_code == 200
    assert folder_root.json()["folder_id"] is None
    empty = await client.patch(url, json={"folder_id": ""}, headers=alice.headers)
    assert empty.status_code == 200
    null_title = await client.patch(url, json={"title": None}, headers=alice.headers)
    assert null_title.status_code == 422
    unknown_folder = await client.patch(url, json={"folder_id": random_id()}, headers=alice.headers)
    assert unknown_folder.status_code == 404
    assert unknown_folder.json() == {"detail": "Folder not found"}


async def test_stale_yjs_write_never_erases_newer_edits(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str]
) -> None:
    base = yjs_text_update("base")
    document = await create_document(client, alice, workspace["id"], yjs_state_b64=b64(base))
    url = f"/api/v1/documents/{document['id']}"
    newer = yjs_text_update(" newer", base=base)
    assert (
        await client.patch(url, json={"yjs_state_b64": b64(newer)}, headers=alice.headers)
    ).status_code == 200
    stale = await client.patch(url, json={"yjs_state_b64": b64(base)}, headers=alice.headers)
    assert stale.status_code == 200
    assert stale.json()["yjs_version"] == 3
    assert yjs_text(base64.b64decode(stale.json()["yjs_state_b64"])) == "base newer"


async def test_delete_then_404(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, str]
) -> None:
    document = await create_document(client, alice, workspace["id"])
    url = f"/api/v1/documents/{document['id']}"
    await add_workspace_member(client, alice, workspace["id"], bob, "editor")
    not_creator = await client.delete(url, headers=bob.headers)
    assert not_creator.status_code == 403
    assert (await client.delete(url, headers=alice.headers)).status_code == 204
    assert (await client.get(url, headers=alice.headers)).status_code == 404
    assert (await client.delete(url, headers=alice.headers)).status_code == 404


async def test_star_and_unstar(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, str]
) -> None:
    document = await create_document(client, alice, workspace["id"])
    url = f"/api/v1/documents/{document['id']}/star"
    starred = await client.post(url, headers=alice.headers)
    assert starred.status_code == 200
    assert set(starred.json()) == {"id", "is_starred", "updated_at"}
    assert starred.json()["is_starred"] is True
    assert (await client.delete(url, headers=alice.headers)).json()["is_starred"] is False
    assert (await client.post(url, headers=bob.headers)).status_code == 403


async def test_live_snapshot_push_and_fetch(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, str]
) -> None:
    document = await create_document(client, alice, workspace["id"], content="# md")
    url = f"/api/v1/documents/{document['id']}/snapshot"
    assert (await client.get(url, headers=alice.headers)).status_code == 404
    state = yjs_text_update("live")
    pushed = await client.post(
        url,
        json={"yjs_state": b64(state), "html": "<p>hi</p>", "updated_at": "2026-01-01T00:00:00Z"},
        headers=alice.headers,
    )
    assert pushed.status_code == 204
    fetched = (await client.get(url, headers=alice.headers)).json()
    assert fetched["html"] == "<p>hi</p>"
    assert yjs_text(base64.b64decode(fetched["yjs_state"])) == "live"
    detail = (await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)).json()
    assert (detail["content"], detail["version"], detail["yjs_version"]) == ("<p>hi</p>", 2, 1)

    assert (await client.post(url, json={"html": "x"}, headers=alice.headers)).json() == {
        "detail": "yjs_state is required"
    }
    bad = await client.post(url, json={"yjs_state": "%%%"}, headers=alice.headers)
    assert bad.status_code == 422
    assert (await client.post(url, json={"yjs_state": b64(state)}, headers=bob.headers)).status_code == 403
    missing = await client.post(
        f"/api/v1/documents/{random_id()}/snapshot", json={"yjs_state": b64(state)}, headers=alice.headers
    )
    assert missing.status_code == 404


async def test_shared_with_me_lists_direct_shares_outside_my_workspaces(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, str], app: FastAPI
) -> None:
    document = await create_document(client, alice, workspace["id"])
    async with app.state.sessionmaker() as session:
        session.add(
            DocumentShare(document_id=document["id"], principal_id=bob.id, role="viewer", granted_by=alice.id)
        )
        await session.commit()
    response = await client.get("/api/v1/documents/shared-with-me", headers=bob.headers)
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [document["id"]]
    assert (body["total"], body["has_more"]) == (1, False)
    assert (await client.get("/api/v1/documents/shared-with-me", headers=alice.headers)).json()["total"] == 0
