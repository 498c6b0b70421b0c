"""Workspace members: add, list, remove, change role, transfer ownership, /users/me/workspaces."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from mdreader_backend.audit.models import AuditLog
from tests.backend.conftest import Account, add_workspace_member, create_workspace, random_id, register


async def test_owner_adds_lists_and_removes_a_member(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    workspace = await create_workspace(client, alice)
    member = await add_workspace_member(client, alice, workspace["id"], bob, "editor")
    assert member["user_id"] == bob.id
    assert member["role"] == "editor"
    assert member["status"] == "active"
    assert member["email"] == bob.email
    listing = await client.get(f"/api/v1/workspaces/{workspace['id']}/members", headers=bob.headers)
    assert listing.status_code == 200
    body = listing.json()
    assert body["total"] == 2
    assert body["workspace_id"] == workspace["id"]
    assert [row["role"] for row in body["data"]] == ["owner", "editor"]

    removed = await client.delete(
        f"/api/v1/workspaces/{workspace['id']}/members/{bob.id}", headers=alice.headers
    )
    assert removed.status_code == 204
    gone = await client.get(f"/api/v1/workspaces/{workspace['id']}/members", headers=bob.headers)
    assert gone.status_code == 403


async def test_add_member_errors(client: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    workspace = await create_workspace(client, alice)
    url = f"/api/v1/workspaces/{workspace['id']}/members"
    owner_role = await client.post(url, json={"user_id": bob.id, "role": "owner"}, headers=alice.headers)
    assert owner_role.status_code == 422
    unknown = await client.post(url, json={"user_id": random_id(), "role": "viewer"}, headers=alice.headers)
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "User not found"}
    await add_workspace_member(client, alice, workspace["id"], bob, "viewer")
    twice = await client.post(url, json={"user_id": bob.id, "role": "viewer"}, headers=alice.headers)
    assert twice.status_code == 409
    assert twice.json() == {"detail": "User is already a member"}
    by_viewer = await client.post(url, json={"user_id": alice.id, "role": "viewer"}, headers=bob.headers)
    assert by_viewer.status_code == 403
    missing = await client.post(
        f"/api/v1/workspaces/{random_id()}/members",
        json={"user_id": bob.id, "role": "viewer"},
        headers=alice.headers,
    )
    assert missing.status_code == 404


async def test_removed_member_can_be_added_again(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    workspace = await create_workspace(client, alice)
    await add_workspace_member(client, alice, workspace["id"], bob, "viewer")
    await client.delete(f"/api/v1/workspaces/{workspace['id']}/members/{bob.id}", headers=alice.headers)
    again = await add_workspace_member(client, alice, workspace["id"], bob, "editor")
    assert again["role"] == "editor"


async def test_owner_cannot_be_removed_or_demoted(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    workspace = await create_workspace(client, alice)
    await add_workspace_member(client, alice, workspace["id"], bob, "admin")
    base = f"/api/v1/workspaces/{workspace['id']}/members/{alice.id}"
    removed = await client.delete(base, headers=bob.headers)
    assert removed.status_code == 403
    assert removed.json() == {"detail": "Cannot remove workspace owner. Transfer ownership first."}
    demoted = await client.patch(f"{base}/role", json={"role": "viewer"}, headers=bob.headers)
    assert demoted.status_code == 403
    assert demoted.json() == {"detail": "Cannot change owner role. Use transfer_ownership instead."}


async def test_change_role_and_admin_limits(client: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    carol = await register(client, "carol")
    workspace = await create_workspace(client, alice)
    await add_workspace_member(client, alice, workspace["id"], bob, "admin")
    await add_workspace_member(client, alice, workspace["id"], carol, "viewer")
    url = f"/api/v1/workspaces/{workspace['id']}/members/{carol.id}/role"
    changed = await client.patch(url, json={"role": "editor"}, headers=bob.headers)
    assert changed.status_code == 200
    assert changed.json()["role"] == "editor"
    owner = await client.patch(url, json={"role": "owner"}, headers=bob.headers)
    assert owner.status_code == 422
    missing = await client.patch(
        f"/api/v1/workspaces/{workspace['id']}/members/{random_id()}/role",
        json={"role": "viewer"},
        headers=bob.headers,
    )
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Member not found"}
    # An admin can't demote another admin; only the owner manages admins.
    await client.patch(url, json={"role": "admin"}, headers=alice.headers)
    peer = await client.patch(url, json={"role": "viewer"}, headers=bob.headers)
    assert peer.status_code == 403


async def test_transfer_ownership(client: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    workspace = await create_workspace(client, alice)
    url = f"/api/v1/workspaces/{workspace['id']}/transfer-ownership"
    by_other = await client.post(url, json={"new_owner_id": alice.id}, headers=bob.headers)
    assert by_other.status_code == 403
    assert by_other.json() == {"detail": "Forbidden: Only owner can transfer ownership"}
    unknown = await client.post(url, json={"new_owner_id": random_id()}, headers=alice.headers)
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "New owner not found"}
    done = await client.post(url, json={"new_owner_id": bob.id}, headers=alice.headers)
    assert done.status_code == 204
    detail = await client.get(f"/api/v1/workspaces/{workspace['id']}", headers=bob.headers)
    assert detail.json()["owner"]["id"] == bob.id
    roles = {
        row["user_id"]: row["role"]
        for row in (
            await client.get(f"/api/v1/workspaces/{workspace['id']}/members", headers=alice.headers)
        ).json()["data"]
    }
    assert roles == {bob.id: "owner", alice.id: "admin"}


async def test_users_me_workspaces(client: httpx.AsyncClient, alice: Account, bob: Account) -> None:
    workspace = await create_workspace(client, alice, "Mine")
    await add_workspace_member(client, alice, workspace["id"], bob, "viewer")
    response = await client.get("/api/v1/users/me/workspaces", headers=bob.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    row = body["data"][0]
    assert row["role"] == "viewer"
    assert row["member_count"] == 2
    assert row["document_count"] == 0
    assert set(row) == {
        "id", "name", "slug", "description", "icon", "owner_id", "role",
        "member_count", "document_count", "created_at", "updated_at",
    }  # fmt: skip
    assert (await client.get("/api/v1/users/me/workspaces")).status_code == 401


async def test_membership_audit_is_recorded(
    client: httpx.AsyncClient, alice: Account, bob: Account, app: FastAPI
) -> None:
    workspace = await create_workspace(client, alice)
    await add_workspace_member(client, alice, workspace["id"], bob, "viewer")
    async with app.state.sessionmaker() as session:
        actions = list(await session.scalars(select(AuditLog.action)))
    assert actions == ["workspace_member_added"]
