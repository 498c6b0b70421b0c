"""Workspaces: create/upsert, list, get, update (PATCH and PUT), delete with cascade, slugs."""

from __future__ import annotations

import httpx

from tests.backend.conftest import Account, add_workspace_member, create_document, create_workspace, random_id


async def test_create_returns_the_workspace_shape(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.post(
        "/api/v1/workspaces", json={"name": "My Notes!", "description": "d"}, headers=alice.headers
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id", "name", "slug", "description", "icon", "is_public", "owner_id",
        "created_at", "updated_at", "document_count", "member_count",
    }  # fmt: skip
    assert body["slug"] == "my-notes"
    assert body["icon"] == "📁"
    assert body["owner_id"] == alice.id


async def test_duplicate_slug_is_409_already_exists(client: httpx.AsyncClient, alice: Account) -> None:
    await create_workspace(client, alice, "Team")
    again = await client.post("/api/v1/workspaces", json={"name": "Team"}, headers=alice.headers)
    assert again.status_code == 409
    assert again.json() == {"detail": "Workspace with slug 'team' already exists"}


async def test_slug_of_a_deleted_workspace_can_be_reused(client: httpx.AsyncClient, alice: Account) -> None:
    first = await create_workspace(client, alice, "Reuse")
    assert (
        await client.delete(f"/api/v1/workspaces/{first['id']}", headers=alice.headers)
    ).status_code == 204
    second = await client.post("/api/v1/workspaces", json={"name": "Reuse"}, headers=alice.headers)
    assert second.status_code == 201


async def test_client_id_upsert_updates_own_workspace(client: httpx.AsyncClient, alice: Account) -> None:
    workspace_id = random_id()
    created = await client.post(
        "/api/v1/workspaces", json={"id": workspace_id, "name": "One"}, headers=alice.headers
    )
    assert created.json()["id"] == workspace_id
    again = await client.post(
        "/api/v1/workspaces", json={"id": workspace_id, "name": "Two"}, headers=alice.headers
    )
    assert again.status_code == 201
    assert again.json()["name"] == "Two"


async def test_client_id_of_someone_elses_workspace_is_refused(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    workspace = await create_workspace(client, alice, "Alice's")
    hijack = await client.post(
        "/api/v1/workspaces", json={"id": workspace["id"], "name": "Pwned"}, headers=bob.headers
    )
    assert hijack.status_code == 403
    detail = await client.get(f"/api/v1/workspaces/{workspace['id']}", headers=alice.headers)
    assert detail.json()["name"] == "Alice's"


async def test_invalid_client_id_gets_a_fresh_uuid(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.post(
        "/api/v1/workspaces", json={"id": "ws_123", "name": "X"}, headers=alice.headers
    )
    assert response.status_code == 201
    assert response.json()["id"] != "ws_123"


async def test_list_includes_memberships_with_counts(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    own = await create_workspace(client, bob, "Bob's")
    shared = await create_workspace(client, alice, "Shared")
    await add_workspace_member(client, alice, shared["id"], bob, "editor")
    await create_document(client, alice, shared["id"])
    response = await client.get("/api/v1/workspaces", headers=bob.headers)
    assert response.status_code == 200
    body = response.json()
    assert {item["id"] for item in body["items"]} == {own["id"], shared["id"]}
    assert body["total"] == 2
    assert body["has_more"] is False
    listed = {item["id"]: item for item in body["items"]}
    assert listed[shared["id"]]["document_count"] == 1
    assert listed[shared["id"]]["member_count"] == 2


async def test_list_paging(client: httpx.AsyncClient, alice: Account) -> None:
    for index in range(3):
        await create_workspace(client, alice, f"W{index}")
    page = await client.get("/api/v1/workspaces", params={"page": 2, "page_size": 2}, headers=alice.headers)
    body = page.json()
    assert (body["total"], len(body["items"]), body["has_more"]) == (3, 1, False)
    bad = await client.get("/api/v1/workspaces", params={"page_size": 101}, headers=alice.headers)
    assert bad.status_code == 422


async def test_get_detail_and_no_access(client: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    workspace = await create_workspace(client, alice, "Detail")
    detail = await client.get(f"/api/v1/workspaces/{workspace['id']}", headers=alice.headers)
    assert detail.status_code == 200
    body = detail.json()
    assert body["owner"]["id"] == alice.id
    assert set(body["stats"]) == {"document_count", "folder_count", "member_count", "storage_used_bytes"}
    hidden = await client.get(f"/api/v1/workspaces/{workspace['id']}", headers=bob.headers)
    assert hidden.status_code == 404
    assert hidden.json() == {"detail": "Workspace not found or no access"}
    assert (await client.get(f"/api/v1/workspaces/{random_id()}", headers=alice.headers)).status_code == 404
    assert (await client.get("/api/v1/workspaces/not-a-uuid", headers=alice.headers)).status_code == 422


async def test_public_workspace_is_readable_by_others(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    response = await client.post(
        "/api/v1/workspaces", json={"name": "Open", "is_public": True}, headers=alice.headers
    )
    workspace_id = response.json()["id"]
    assert (await client.get(f"/api/v1/workspaces/{workspace_id}", headers=bob.headers)).status_code == 200
    patch = await client.patch(
        f"/api/v1/workspaces/{workspace_id}", json={"name": "Mine"}, headers=bob.headers
    )
    assert patch.status_code == 403


async def test_patch_and_put_update(client: httpx.AsyncClient, alice: Account) -> None:
    workspace = await create_workspace(client, alice, "Before")
    patched = await client.patch(
        f"/api/v1/workspaces/{workspace['id']}", json={"description": "new"}, headers=alice.headers
    )
    assert patched.status_code == 200
    assert patched.json()["description"] == "new"
    put = await client.put(
        f"/api/v1/workspaces/{workspace['id']}",
        json={"name": "After", "description": "x"},
        headers=alice.headers,
    )
    assert put.status_code == 200
    assert put.json()["name"] == "After"
    assert put.json()["slug"] == workspace["slug"]  # slugs never change on update


async def test_patch_null_name_is_422(client: httpx.AsyncClient, alice: Account) -> None:
    workspace = await create_workspace(client, alice)
    response = await client.patch(
        f"/api/v1/workspaces/{workspace['id']}", json={"name": None}, headers=alice.headers
    )
    assert response.status_code == 422


async def test_editor_cannot_update_or_delete(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    workspace = await create_workspace(client, alice)
    await add_workspace_member(client, alice, workspace["id"], bob, "editor")
    patch = await client.patch(
        f"/api/v1/workspaces/{workspace['id']}", json={"name": "B"}, headers=bob.headers
    )
    assert patch.status_code == 403
    delete = await client.delete(f"/api/v1/workspaces/{workspace['id']}", headers=bob.headers)
    assert delete.status_code == 403
    assert delete.json() == {"detail": "Only workspace owner can delete workspace"}


async def test_delete_with_documents_needs_cascade(client: httpx.AsyncClient, alice: Account) -> None:
    workspace = await create_workspace(client, alice)
    document = await create_document(client, alice, workspace["id"])
    refused = await client.delete(f"/api/v1/workspaces/{workspace['id']}", headers=alice.headers)
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "Cannot delete workspace with 1 documents. Use cascade=true to delete all documents."
    }
    cascaded = await client.delete(
        f"/api/v1/workspaces/{workspace['id']}", params={"cascade": "true"}, headers=alice.headers
    )
    assert cascaded.status_code == 204
    assert (await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)).status_code == 404
    assert (
        await client.get(f"/api/v1/workspaces/{workspace['id']}", headers=alice.headers)
    ).status_code == 404
