"""Folders: create/upsert, get, flat list / roots / children, tree, update and move with cycle checks,
delete with cascade through the subtree, permissions per workspace role and across tenants."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mdreader_backend.errors import ApiError
from mdreader_backend.folders import service
from tests.backend.conftest import (
    Account,
    add_workspace_member,
    create_document,
    create_workspace,
    random_id,
    register,
)

FOLDERS = "/api/v1/folders"
WRITE_DENIED = {"detail": "No permission to modify folders in workspace"}
READ_DENIED = {"detail": "No access to workspace"}
FOLDER_NOT_FOUND = {"detail": "Folder not found"}
PARENT_NOT_FOUND = {"detail": "Parent folder not found"}
CYCLE = {"detail": "Cannot move folder into itself or create circular hierarchy"}


async def create_folder(
    client: httpx.AsyncClient, account: Account, workspace_id: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        FOLDERS,
        params={"workspace_id": workspace_id},
        json={"name": "Folder", **fields},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def get_folder(client: httpx.AsyncClient, account: Account, folder_id: str) -> httpx.Response:
    return await client.get(f"{FOLDERS}/{folder_id}", headers=account.headers)


async def list_folders(
    client: httpx.AsyncClient, account: Account, workspace_id: str, **params: str
) -> httpx.Response:
    return await client.get(f"{FOLDERS}/workspace/{workspace_id}", params=params, headers=account.headers)


@pytest.fixture
async def workspace(client: httpx.AsyncClient, alice: Account) -> dict[str, Any]:
    return await create_workspace(client, alice, "Folders")


async def test_create_returns_the_full_folder(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    folder = await create_folder(
        client, alice, workspace["id"], name="Notes", color="#A1b2C3", is_expanded=True
    )
    assert set(folder) == {
        "id", "workspace_id", "name", "icon", "color", "parent_id", "position", "is_expanded",
        "created_by_id", "created_at", "updated_at",
    }  # fmt: skip
    assert folder["workspace_id"] == workspace["id"]
    assert (folder["name"], folder["icon"], folder["color"]) == ("Notes", "📁", "#A1b2C3")
    assert (folder["parent_id"], folder["position"], folder["is_expanded"]) == (None, 0, True)
    assert folder["created_by_id"] == alice.id
    assert len(folder["updated_at"].split(".")[-1]) == 6  # naive ISO with microseconds
    assert not folder["created_at"].endswith("Z")
    child = await create_folder(client, alice, workspace["id"], parent_id=folder["id"], position=3, icon="🗂")
    assert (child["parent_id"], child["position"], child["icon"]) == (folder["id"], 3, "🗂")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("color", "red"),  # the original's validator answered 500
        ("color", "#12345"),
        ("name", ""),
        ("name", "x" * 101),
        ("icon", "x" * 11),
        ("position", -1),
        ("parent_id", "not-a-uuid"),
        ("is_expanded", "sometimes"),
    ],
)
async def test_create_rejects_bad_fields_with_422(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any], field: str, value: Any
) -> None:
    response = await client.post(
        FOLDERS,
        params={"workspace_id": workspace["id"]},
        json={"name": "Folder", field: value},
        headers=alice.headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


async def test_create_needs_a_workspace_it_may_write(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, Any]
) -> None:
    missing = await client.post(FOLDERS, json={"name": "x"}, headers=alice.headers)
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["query", "workspace_id"]
    bad = await client.post(
        FOLDERS, params={"workspace_id": "nope"}, json={"name": "x"}, headers=alice.headers
    )
    assert bad.status_code == 422
    unknown = await client.post(
        FOLDERS, params={"workspace_id": random_id()}, json={"name": "x"}, headers=alice.headers
    )
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Workspace not found"})
    stranger = await client.post(
        FOLDERS, params={"workspace_id": workspace["id"]}, json={"name": "x"}, headers=bob.headers
    )
    assert (stranger.status_code, stranger.json()) == (403, WRITE_DENIED)
    anonymous = await client.post(FOLDERS, params={"workspace_id": workspace["id"]}, json={"name": "x"})
    assert anonymous.status_code == 401


async def test_create_ignores_unknown_fields_and_replaces_a_non_uuid_id(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    folder = await create_folder(
        client, alice, workspace["id"], id="folder_1", is_starred=True, extra={"a": 1}
    )
    assert folder["id"] != "folder_1"
    assert (await get_folder(client, alice, folder["id"])).status_code == 200


async def test_parent_must_be_a_live_folder_of_the_same_workspace(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, Any]
) -> None:
    alices = await create_folder(client, alice, workspace["id"])
    bobs_workspace = await create_workspace(client, bob, "Bob's")
    # Bob can not hang a folder under Alice's folder from his own workspace.
    response = await client.post(
        FOLDERS,
        params={"workspace_id": bobs_workspace["id"]},
        json={"name": "sneaky", "parent_id": alices["id"]},
        headers=bob.headers,
    )
    assert (response.status_code, response.json()) == (404, PARENT_NOT_FOUND)
    unknown = await client.post(
        FOLDERS,
        params={"workspace_id": workspace["id"]},
        json={"name": "x", "parent_id": random_id()},
        headers=alice.headers,
    )
    assert (unknown.status_code, unknown.json()) == (404, PARENT_NOT_FOUND)
    await client.delete(f"{FOLDERS}/{alices['id']}", headers=alice.headers)
    deleted = await client.post(
        FOLDERS,
        params={"workspace_id": workspace["id"]},
        json={"name": "x", "parent_id": alices["id"]},
        headers=alice.headers,
    )
    assert (deleted.status_code, deleted.json()) == (404, PARENT_NOT_FOUND)


async def test_create_with_a_known_id_upserts_the_callers_folder(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    folder_id = random_id()
    first = await create_folder(client, alice, workspace["id"], id=folder_id, name="Draft", color="#000000")
    assert first["id"] == folder_id
    parent = await create_folder(client, alice, workspace["id"], name="Parent")
    again = await create_folder(
        client, alice, workspace["id"], id=folder_id, name="Final", parent_id=parent["id"]
    )
    assert again["id"] == folder_id
    assert (again["name"], again["parent_id"], again["color"]) == ("Final", parent["id"], "#000000")
    assert again["created_at"] == first["created_at"]
    listed = (await list_folders(client, alice, workspace["id"])).json()
    assert listed["total"] == 2
    cycle = await client.post(
        FOLDERS,
        params={"workspace_id": workspace["id"]},
        json={"id": parent["id"], "name": "Parent", "parent_id": folder_id},
        headers=alice.headers,
    )
    assert (cycle.status_code, cycle.json()) == (400, CYCLE)


async def test_upsert_never_overwrites_across_tenants_or_workspaces(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, Any]
) -> None:
    alices = await create_folder(client, alice, workspace["id"], name="Private")
    bobs_workspace = await create_workspace(client, bob, "Bob's")
    hijack = await client.post(
        FOLDERS,
        params={"workspace_id": bobs_workspace["id"]},
        json={"id": alices["id"], "name": "Mine now"},
        headers=bob.headers,
    )
    assert (hijack.status_code, hijack.json()) == (403, WRITE_DENIED)
    assert (await get_folder(client, alice, alices["id"])).json()["name"] == "Private"

    other_workspace = await create_workspace(client, alice, "Second")
    moved = await client.post(
        FOLDERS,
        params={"workspace_id": other_workspace["id"]},
        json={"id": alices["id"], "name": "Moved"},
        headers=alice.headers,
    )
    assert moved.status_code == 409
    assert (await get_folder(client, alice, alices["id"])).json()["workspace_id"] == workspace["id"]

    await client.delete(f"{FOLDERS}/{alices['id']}", headers=alice.headers)
    revived = await client.post(
        FOLDERS,
        params={"workspace_id": workspace["id"]},
        json={"id": alices["id"], "name": "Back"},
        headers=alice.headers,
    )
    assert revived.status_code == 409


async def test_get_one_checks_workspace_and_access(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, Any]
) -> None:
    folder = await create_folder(client, alice, workspace["id"], name="Notes")
    found = await client.get(
        f"{FOLDERS}/{folder['id']}", params={"workspace_id": workspace["id"]}, headers=alice.headers
    )
    assert (found.status_code, found.json()) == (200, folder)
    other = await create_workspace(client, alice, "Other")
    mismatch = await client.get(
        f"{FOLDERS}/{folder['id']}", params={"workspace_id": other["id"]}, headers=alice.headers
    )
    assert (mismatch.status_code, mismatch.json()) == (404, FOLDER_NOT_FOUND)
    stranger = await get_folder(client, bob, folder["id"])
    assert (stranger.status_code, stranger.json()) == (403, READ_DENIED)
    unknown = await get_folder(client, alice, random_id())
    assert (unknown.status_code, unknown.json()) == (404, FOLDER_NOT_FOUND)
    assert (await get_folder(client, alice, "folder_123")).status_code == 422
    assert (await client.get(f"{FOLDERS}/{folder['id']}")).status_code == 401


async def test_list_is_flat_without_parent_id_and_filters_with_it(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    second = await create_folder(client, alice, workspace["id"], name="Second", position=2)
    first = await create_folder(client, alice, workspace["id"], name="First", position=1)
    child = await create_folder(client, alice, workspace["id"], name="Child", parent_id=first["id"])
    grandchild = await create_folder(client, alice, workspace["id"], name="Grandchild", parent_id=child["id"])
    await create_document(client, alice, workspace["id"], folder_id=first["id"])
    await create_document(client, alice, workspace["id"], folder_id=first["id"])
    await create_document(client, alice, workspace["id"], folder_id=child["id"])

    everything = (await list_folders(client, alice, workspace["id"])).json()
    assert everything["total"] == 4
    assert [item["name"] for item in everything["items"]] == ["Child", "Grandchild", "First", "Second"]
    counts = {item["name"]: item["document_count"] for item in everything["items"]}
    assert counts == {"First": 2, "Second": 0, "Child": 1, "Grandchild": 0}
    item = everything["items"][2]
    assert {"updated_at", "is_expanded", "document_count", "parent_id", "created_at"} <= set(item)

    roots = (await list_folders(client, alice, workspace["id"], parent_id="")).json()
    assert [item["id"] for item in roots["items"]] == [first["id"], second["id"]]
    children = (await list_folders(client, alice, workspace["id"], parent_id=child["id"])).json()
    assert [item["id"] for item in children["items"]] == [grandchild["id"]]
    assert (await list_folders(client, alice, workspace["id"], parent_id="nope")).status_code == 422


async def test_list_and_tree_need_read_access(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, Any]
) -> None:
    await create_folder(client, alice, workspace["id"])
    for response in (
        await list_folders(client, bob, workspace["id"]),
        await client.get(f"{FOLDERS}/tree", params={"workspace_id": workspace["id"]}, headers=bob.headers),
    ):
        assert (response.status_code, response.json()) == (403, READ_DENIED)
    unknown = await list_folders(client, alice, random_id())
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Workspace not found"})
    assert (await client.get(f"{FOLDERS}/tree", headers=alice.headers)).status_code == 422
    assert (await client.get(f"{FOLDERS}/workspace/{workspace['id']}")).status_code == 401


async def test_a_public_workspace_is_readable_but_not_writable(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    response = await client.post(
        "/api/v1/workspaces", json={"name": "Open", "is_public": True}, headers=alice.headers
    )
    public = response.json()
    folder = await create_folder(client, alice, public["id"])
    assert (await get_folder(client, bob, folder["id"])).status_code == 200
    assert (await list_folders(client, bob, public["id"])).json()["total"] == 1
    patch = await client.patch(f"{FOLDERS}/{folder['id']}", json={"name": "x"}, headers=bob.headers)
    assert (patch.status_code, patch.json()) == (403, WRITE_DENIED)


async def test_tree_nests_children_in_position_order(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    root = await create_folder(client, alice, workspace["id"], name="Root")
    late = await create_folder(client, alice, workspace["id"], name="Late", parent_id=root["id"], position=5)
    early = await create_folder(
        client, alice, workspace["id"], name="Early", parent_id=root["id"], position=1
    )
    leaf = await create_folder(client, alice, workspace["id"], name="Leaf", parent_id=early["id"])
    response = await client.get(
        f"{FOLDERS}/tree", params={"workspace_id": workspace["id"]}, headers=alice.headers
    )
    assert response.status_code == 200
    [node] = response.json()["folders"]
    assert set(node) == {"id", "name", "icon", "color", "parent_id", "position", "is_expanded", "children"}
    assert node["id"] == root["id"]
    assert [child["id"] for child in node["children"]] == [early["id"], late["id"]]
    assert [grandchild["id"] for grandchild in node["children"][0]["children"]] == [leaf["id"]]


async def test_patch_applies_every_field_the_client_sends(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    parent = await create_folder(client, alice, workspace["id"], name="Parent")
    folder = await create_folder(client, alice, workspace["id"], name="Old", color="#111111")
    body = {"name": "New", "icon": "📝", "color": "#222222", "parent_id": parent["id"], "position": 4,
            "is_expanded": True, "workspace_id": workspace["id"]}  # fmt: skip
    response = await client.patch(
        f"{FOLDERS}/{folder['id']}",
        params={"workspace_id": workspace["id"]},
        json=body,
        headers=alice.headers,
    )
    assert response.status_code == 200
    updated = response.json()
    for field in ("name", "icon", "color", "parent_id", "position", "is_expanded"):
        assert updated[field] == body[field], field
    assert updated["updated_at"] > folder["updated_at"]

    to_root = await client.patch(
        f"{FOLDERS}/{folder['id']}", json={"parent_id": None, "color": None}, headers=alice.headers
    )
    assert (to_root.json()["parent_id"], to_root.json()["color"], to_root.json()["name"]) == (
        None,
        None,
        "New",
    )
    for bad in ({"name": None}, {"position": None}, {"color": "blue"}, {"position": -2}):
        rejected = await client.patch(f"{FOLDERS}/{folder['id']}", json=bad, headers=alice.headers)
        assert rejected.status_code == 422, bad


async def test_patch_refuses_cycles_and_foreign_parents(
    client: httpx.AsyncClient, alice: Account, bob: Account, workspace: dict[str, Any]
) -> None:
    top = await create_folder(client, alice, workspace["id"], name="Top")
    middle = await create_folder(client, alice, workspace["id"], name="Middle", parent_id=top["id"])
    bottom = await create_folder(client, alice, workspace["id"], name="Bottom", parent_id=middle["id"])
    for parent in (top, bottom):
        response = await client.patch(
            f"{FOLDERS}/{top['id']}", json={"parent_id": parent["id"]}, headers=alice.headers
        )
        assert (response.status_code, response.json()) == (400, CYCLE)
    bobs = await create_folder(client, bob, (await create_workspace(client, bob, "Bob's"))["id"])
    foreign = await client.patch(
        f"{FOLDERS}/{top['id']}", json={"parent_id": bobs["id"]}, headers=alice.headers
    )
    assert (foreign.status_code, foreign.json()) == (404, PARENT_NOT_FOUND)
    assert (await get_folder(client, alice, top["id"])).json()["parent_id"] is None


async def test_per_folder_routes_check_the_workspace_id_the_client_sends(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    folder = await create_folder(client, alice, workspace["id"])
    other = await create_workspace(client, alice, "Other")
    params = {"workspace_id": other["id"]}
    for response in (
        await client.patch(
            f"{FOLDERS}/{folder['id']}", params=params, json={"name": "x"}, headers=alice.headers
        ),
        await client.post(f"{FOLDERS}/{folder['id']}/move", params=params, json={}, headers=alice.headers),
        await client.delete(f"{FOLDERS}/{folder['id']}", params=params, headers=alice.headers),
    ):
        assert (response.status_code, response.json()) == (404, FOLDER_NOT_FOUND)
    assert (await get_folder(client, alice, folder["id"])).json()["name"] == "Folder"


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_move_under_a_parent_and_back_to_the_root(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any], method: str
) -> None:
    parent = await create_folder(client, alice, workspace["id"], name="Parent")
    folder = await create_folder(client, alice, workspace["id"], name="Folder", position=7)
    url = f"{FOLDERS}/{folder['id']}/move"
    moved = await client.request(method, url, json={"parent_id": parent["id"]}, headers=alice.headers)
    assert moved.status_code == 200
    assert (moved.json()["parent_id"], moved.json()["position"]) == (parent["id"], 7)
    back = await client.request(method, url, json={"parent_id": None, "position": 0}, headers=alice.headers)
    assert (back.json()["parent_id"], back.json()["position"]) == (None, 0)
    into_itself = await client.request(method, url, json={"parent_id": folder["id"]}, headers=alice.headers)
    assert (into_itself.status_code, into_itself.json()) == (400, CYCLE)
    assert (
        await client.request(method, url, json={"position": -1}, headers=alice.headers)
    ).status_code == 422


async def test_move_into_another_workspaces_folder_is_refused(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    folder = await create_folder(client, alice, workspace["id"])
    elsewhere = await create_folder(client, alice, (await create_workspace(client, alice, "Elsewhere"))["id"])
    response = await client.post(
        f"{FOLDERS}/{folder['id']}/move", json={"parent_id": elsewhere["id"]}, headers=alice.headers
    )
    assert (response.status_code, response.json()) == (404, PARENT_NOT_FOUND)


async def test_delete_an_empty_folder(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    folder = await create_folder(client, alice, workspace["id"])
    response = await client.delete(
        f"{FOLDERS}/{folder['id']}", params={"workspace_id": workspace["id"]}, headers=alice.headers
    )
    assert (response.status_code, response.content) == (204, b"")
    assert (await get_folder(client, alice, folder["id"])).status_code == 404
    assert (await list_folders(client, alice, workspace["id"])).json() == {"items": [], "total": 0}
    again = await client.delete(f"{FOLDERS}/{folder['id']}", headers=alice.headers)
    assert (again.status_code, again.json()) == (404, FOLDER_NOT_FOUND)


async def test_delete_without_cascade_refuses_a_non_empty_folder(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    with_document = await create_folder(client, alice, workspace["id"])
    await create_document(client, alice, workspace["id"], folder_id=with_document["id"])
    with_folder = await create_folder(client, alice, workspace["id"])
    await create_folder(client, alice, workspace["id"], parent_id=with_folder["id"])
    for folder in (with_document, with_folder):
        response = await client.delete(
            f"{FOLDERS}/{folder['id']}", params={"cascade": "false"}, headers=alice.headers
        )
        assert (response.status_code, response.json()) == (
            400,
            {"detail": "Folder is not empty. Use cascade=true to delete all documents."},
        )
    assert (await list_folders(client, alice, workspace["id"])).json()["total"] == 3


async def test_cascade_delete_reaches_sub_folders_and_their_documents(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    top = await create_folder(client, alice, workspace["id"], name="Top")
    sub = await create_folder(client, alice, workspace["id"], name="Sub", parent_id=top["id"])
    subsub = await create_folder(client, alice, workspace["id"], name="SubSub", parent_id=sub["id"])
    kept = await create_folder(client, alice, workspace["id"], name="Kept")
    doomed = [
        await create_document(client, alice, workspace["id"], folder_id=folder["id"])
        for folder in (top, sub, subsub)
    ]
    survivor = await create_document(client, alice, workspace["id"], folder_id=kept["id"])
    loose = await create_document(client, alice, workspace["id"])

    response = await client.delete(
        f"{FOLDERS}/{top['id']}", params={"cascade": "true"}, headers=alice.headers
    )
    assert response.status_code == 204
    listed = (await list_folders(client, alice, workspace["id"])).json()
    assert [item["id"] for item in listed["items"]] == [kept["id"]]
    for document in doomed:
        gone = await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)
        assert gone.status_code == 404
    for document in (survivor, loose):
        assert (
            await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)
        ).status_code == 200


@pytest.mark.parametrize(
    ("role", "can_write"),
    [("owner", True), ("admin", True), ("editor", True), ("viewer", False), (None, False)],
)
async def test_permissions_per_workspace_role(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any], role: str | None, can_write: bool
) -> None:
    """Viewers read, editors and up write; non-members neither (zero unauthorized successes)."""
    folder = await create_folder(client, alice, workspace["id"], name="Shared")
    parent = await create_folder(client, alice, workspace["id"], name="Parent")
    if role == "owner":
        caller = alice
    else:
        caller = await register(client)
        if role is not None:
            await add_workspace_member(client, alice, workspace["id"], caller, role)
    reads = [
        await get_folder(client, caller, folder["id"]),
        await list_folders(client, caller, workspace["id"]),
        await client.get(f"{FOLDERS}/tree", params={"workspace_id": workspace["id"]}, headers=caller.headers),
    ]
    writes = [
        await client.post(
            FOLDERS, params={"workspace_id": workspace["id"]}, json={"name": "New"}, headers=caller.headers
        ),
        await client.patch(f"{FOLDERS}/{folder['id']}", json={"name": "Renamed"}, headers=caller.headers),
        await client.post(
            f"{FOLDERS}/{folder['id']}/move", json={"parent_id": parent["id"]}, headers=caller.headers
        ),
        await client.delete(f"{FOLDERS}/{folder['id']}", params={"cascade": "true"}, headers=caller.headers),
    ]
    if role is None:
        assert [(r.status_code, r.json()) for r in reads] == [(403, READ_DENIED)] * 3
    else:
        assert [r.status_code for r in reads] == [200, 200, 200]
    if can_write:
        assert [r.status_code for r in writes] == [201, 200, 200, 204]
    else:
        assert [(r.status_code, r.json()) for r in writes] == [(403, WRITE_DENIED)] * 4
        assert (await get_folder(client, alice, folder["id"])).json()["name"] == "Shared"


async def test_hierarchy_changes_in_a_workspace_are_serialised(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]
) -> None:
    """A into B and B into A at once: the second waits for the first and then sees the cycle."""
    first = await create_folder(client, alice, workspace["id"], name="A")
    second = await create_folder(client, alice, workspace["id"], name="B")
    user_id, a_id, b_id = (uuid.UUID(value) for value in (alice.id, first["id"], second["id"]))
    async with app.state.sessionmaker() as holding, app.state.sessionmaker() as waiting:
        await service.update_folder(holding, user_id, a_id, None, {"parent_id": b_id})
        crossing = asyncio.create_task(
            service.update_folder(waiting, user_id, b_id, None, {"parent_id": a_id})
        )
        await asyncio.sleep(0.5)
        assert not crossing.done()  # blocked on the workspace lock
        await holding.commit()
        with pytest.raises(ApiError) as refused:
            await crossing
    assert (refused.value.status_code, refused.value.detail) == (400, CYCLE["detail"])
    listed = (await list_folders(client, alice, workspace["id"])).json()["items"]
    assert {item["id"]: item["parent_id"] for item in listed} == {
        first["id"]: second["id"],
        second["id"]: None,
    }
