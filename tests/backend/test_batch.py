"""POST /api/v1/documents/batch: camelCase and snake_case, ordering, conflicts, real atomicity."""

from __future__ import annotations

import httpx
import pytest

from tests.backend.conftest import Account, create_document, create_workspace, random_id


@pytest.fixture
async def workspace(client: httpx.AsyncClient, alice: Account) -> dict[str, str]:
    return await create_workspace(client, alice, "Batch")


async def test_camel_case_request_gets_both_spellings_back(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str]
) -> None:
    existing = await create_document(client, alice, workspace["id"])
    new_id = random_id()
    response = await client.post(
        "/api/v1/documents/batch",
        json={
            "workspaceId": workspace["id"],
            "atomic": False,
            "operations": [
                # Updates are listed first but run after creates; an update may carry a title.
                {
                    "operation": "update",
                    "clientId": "u1",
                    "documentId": existing["id"],
                    "data": {"title": "Renamed"},
                },
                {"operation": "create", "clientId": "c1", "data": {"id": new_id, "title": "New"}},
                {"operation": "delete", "clientId": "d1", "documentId": new_id},
            ],
        },
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["total"], body["successful"], body["failed"]) == (3, 3, 0)
    assert "processingTimeMs" in body
    assert "processing_time_ms" in body
    assert [result["clientId"] for result in body["results"]] == ["c1", "u1", "d1"]
    first = body["results"][0]
    assert first["client_id"] == "c1"
    assert first["documentId"] == first["document_id"] == new_id
    renamed = await client.get(f"/api/v1/documents/{existing['id']}", headers=alice.headers)
    assert renamed.json()["title"] == "Renamed"
    assert (await client.get(f"/api/v1/documents/{new_id}", headers=alice.headers)).status_code == 404


async def test_snake_case_update_resolves_a_created_client_id(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/documents/batch",
        json={
            "workspace_id": workspace["id"],
            "operations": [
                {"operation": "create", "client_id": "tmp-1", "data": {"title": "Draft"}},
                {"operation": "update", "client_id": "tmp-1", "data": {"content": "body"}},
            ],
        },
        headers=alice.headers,
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["success", "success"]
    assert results[0]["document_id"] == results[1]["document_id"]
    assert results[1]["version"] == 2


async def test_expected_version_conflict(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str]
) -> None:
    document = await create_document(client, alice, workspace["id"])
    response = await client.post(
        "/api/v1/documents/batch",
        json={
            "workspaceId": workspace["id"],
            "operations": [
                {
                    "operation": "update",
                    "clientId": "u",
                    "documentId": document["id"],
                    "data": {"title": "x"},
                    "expectedVersion": 7,
                },
            ],
        },
        headers=alice.headers,
    )
    result = response.json()["results"][0]
    assert result["status"] == "conflict"
    assert result["conflictData"]["server_version"] == 1
    unchanged = await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)
    assert unchanged.json()["title"] == document["title"]


async def test_non_atomic_failures_are_isolated(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/documents/batch",
        json={
            "workspaceId": workspace["id"],
            "operations": [
                {"operation": "create", "clientId": "ok", "data": {"title": "Fine"}},
                {"operation": "create", "clientId": "bad", "data": {"content": "no title"}},
                {
                    "operation": "update",
                    "clientId": "gone",
                    "documentId": random_id(),
                    "data": {"title": "x"},
                },
            ],
        },
        headers=alice.headers,
    )
    body = response.json()
    statuses = {r["client_id"]: (r["status"], r["error"]) for r in body["results"]}
    assert statuses["ok"] == ("success", None)
    assert statuses["bad"][0] == "error"
    assert "title" in statuses["bad"][1]
    assert statuses["gone"] == ("error", "Document not found")
    listing = await client.get(f"/api/v1/documents/workspace/{workspace['id']}", headers=alice.headers)
    assert listing.json()["total"] == 1


async def test_atomic_batch_rolls_back_everything(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/documents/batch",
        json={
            "workspaceId": workspace["id"],
            "atomic": True,
            "operations": [
                {"operation": "create", "clientId": "a", "data": {"title": "Kept?"}},
                {"operation": "update", "clientId": "b", "documentId": random_id(), "data": {"title": "x"}},
            ],
        },
        headers=alice.headers,
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "Atomic batch failed: Operation b failed: Document not found"}
    listing = await client.get(f"/api/v1/documents/workspace/{workspace['id']}", headers=alice.headers)
    assert listing.json()["total"] == 0


async def test_batch_permissions_and_validation(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, str]
) -> None:
    document = await create_document(client, alice, workspace["id"])
    response = await client.post(
        "/api/v1/documents/batch",
        json={
            "workspaceId": workspace["id"],
            "operations": [
                {"operation": "create", "clientId": "c", "data": {"title": "x"}},
                {"operation": "delete", "clientId": "d", "documentId": document["id"]},
            ],
        },
        headers=bob.headers,
    )
    assert [r["status"] for r in response.json()["results"]] == ["error", "error"]
    assert (await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)).status_code == 200
    empty = await client.post(
        "/api/v1/documents/batch",
        json={"workspaceId": workspace["id"], "operations": []},
        headers=alice.headers,
    )
    assert empty.status_code == 422
    wrong = await client.post(
        "/api/v1/documents/batch",
        json={"workspaceId": workspace["id"], "operations": [{"operation": "rename", "clientId": "x"}]},
        headers=alice.headers,
    )
    assert wrong.status_code == 422
