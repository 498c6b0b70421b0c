"""Document sharing: invitations (hashed tokens, email, accept/decline), members, roles, ownership, and the
permission matrix of every sharing, share-link and audit endpoint."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from mdreader_backend.email import LogEmailSender
from tests.backend.conftest import (
    Account,
    Team,
    api,
    create_document,
    create_workspace,
    invite,
    invite_token,
    make_team,
    members,
    random_id,
    register,
    share,
    share_row_id,
)


@pytest.fixture
async def team(client: httpx.AsyncClient, outbox: LogEmailSender) -> Team:
    return await make_team(client, outbox)


@pytest.fixture
async def document(client: httpx.AsyncClient, alice: Account) -> dict[str, Any]:
    workspace = await create_workspace(client, alice)
    return await create_document(client, alice, workspace["id"], title="Plans")


# Invitations


async def test_invite_creates_pending_invitations_and_emails_a_link(
    client: httpx.AsyncClient, app: FastAPI, outbox: LogEmailSender, alice: Account, document: dict[str, Any]
) -> None:
    response = await invite(
        client,
        alice,
        document["id"],
        "bob@example.com",
        "carol@example.com",
        role="viewer",
        message="Have a look",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["success"] is True
    assert body["errors"] == []
    assert [entry["email"] for entry in body["invited"]] == ["bob@example.com", "carol@example.com"]
    entry = body["invited"][0]
    assert set(entry) == {"invitation_id", "email", "role", "status", "expires_at"}
    assert (entry["role"], entry["status"]) == ("viewer", "pending")
    expires = datetime.fromisoformat(entry["expires_at"])
    assert expires.tzinfo is None  # naive UTC, microseconds
    assert timedelta(days=29) < expires - datetime.now(UTC).replace(tzinfo=None) <= timedelta(days=30)
    assert "token" not in response.text

    email = next(item for item in outbox.outbox if item.to == "bob@example.com")
    assert email.subject == 'Alice invited you to "Plans"'
    assert "Have a look" in email.text
    token = invite_token(outbox, "bob@example.com")
    assert len(token) == 43
    async with app.state.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT token_hash FROM invitations"))).scalars().all()
        dump = (await connection.execute(text("SELECT CAST(i AS text) FROM invitations i"))).scalars().all()
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert not any(token in row for row in dump)


async def test_invite_without_email_sends_nothing(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, document: dict[str, Any]
) -> None:
    response = await invite(client, alice, document["id"], "bob@example.com", send_email=False)
    assert response.status_code == 201
    assert len(response.json()["invited"]) == 1
    assert not [email for email in outbox.outbox if email.to == "bob@example.com"]


async def test_reinviting_refreshes_the_pending_invitation(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    first = (await invite(client, alice, document["id"], bob.email, role="viewer")).json()["invited"][0]
    old_token = invite_token(outbox, bob.email)
    again = await invite(client, alice, document["id"], "BOB@example.com", bob.email, role="editor")
    assert again.status_code == 201
    invited = again.json()["invited"]
    assert len(invited) == 1  # one address, however it is spelled
    assert invited[0]["invitation_id"] == first["invitation_id"]
    assert invited[0]["role"] == "editor"
    pending = (await members(client, alice, document["id"]))["pending_invites"]
    assert [(item["id"], item["role"]) for item in pending] == [(first["invitation_id"], "editor")]

    stale = await client.post(f"/api/v1/invitations/{old_token}/accept", headers=bob.headers)
    assert stale.status_code == 404
    fresh = await client.post(
        f"/api/v1/invitations/{invite_token(outbox, bob.email)}/accept", headers=bob.headers
    )
    assert fresh.json()["role"] == "editor"


async def test_inviting_someone_who_already_has_a_share_is_reported(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    await share(client, outbox, alice, document["id"], bob, "viewer")
    response = await invite(client, alice, document["id"], bob.email, "dave@example.com")
    assert response.status_code == 201
    body = response.json()
    assert [entry["email"] for entry in body["invited"]] == ["dave@example.com"]
    assert body["errors"] == [{"email": bob.email, "error": "User already has access to this document"}]


@pytest.mark.parametrize(
    "body",
    [
        {"emails": ["bob@example.com"], "role": "owner"},  # crashed with 500 in the original
        {"emails": ["bob@example.com"], "role": "superuser"},
        {"emails": [], "role": "viewer"},
        {"emails": [f"user{i}@example.com" for i in range(51)], "role": "viewer"},
        {"emails": ["not-an-email"], "role": "viewer"},
        {"emails": "bob@example.com", "role": "viewer"},
        {"emails": ["bob@example.com"], "role": "viewer", "message": "x" * 501},
        {"emails": ["bob@example.com"], "role": "viewer", "message": "nul\x00byte"},
        {"emails": ["bob@example.com"], "role": "viewer", "expires_at": "tomorrow"},
        {"emails": ["bob@example.com"], "role": "viewer", "send_email": "perhaps"},
        {"role": "viewer"},
    ],
)
async def test_invite_rejects_bad_input_with_422(
    client: httpx.AsyncClient, alice: Account, document: dict[str, Any], body: dict[str, Any]
) -> None:
    response = await client.post(api(document["id"], "/invite"), json=body, headers=alice.headers)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)


async def test_invite_accepts_aware_and_naive_expiry(
    client: httpx.AsyncClient, alice: Account, document: dict[str, Any]
) -> None:
    aware = await invite(
        client, alice, document["id"], "a@example.com", expires_at="2030-01-02T03:04:05+02:00"
    )
    naive = await invite(client, alice, document["id"], "b@example.com", expires_at="2030-01-02T03:04:05")
    assert aware.json()["invited"][0]["expires_at"] == "2030-01-02T01:04:05.000000"
    assert naive.json()["invited"][0]["expires_at"] == "2030-01-02T03:04:05.000000"


# Accept and decline


async def test_accepting_an_invitation_grants_a_document_share(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    await invite(client, alice, document["id"], "Bob@Example.com", role="commenter")  # case differs
    response = await client.post(
        f"/api/v1/invitations/{invite_token(outbox, bob.email)}/accept", json={}, headers=bob.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "success": True,
        "document_id": document["id"],
        "role": "commenter",
        "message": "Invitation accepted successfully",
    }
    listing = await members(client, bob, document["id"])  # bob may now read the member list
    assert listing["pending_invites"] == []
    [member] = listing["members"]
    assert member["principal_id"] == bob.id
    assert (member["role"], member["status"], member["principal_type"]) == ("commenter", "active", "user")
    assert (member["user_email"], member["user_name"]) == (bob.email, "Bob")
    assert member["granted_by"] == alice.id
    assert set(member) == {
        "id",
        "document_id",
        "principal_type",
        "principal_id",
        "role",
        "granted_by",
        "granted_at",
        "expires_at",
        "status",
        "user_email",
        "user_name",
    }
    doc = await client.get(api(document["id"]), headers=bob.headers)
    assert doc.status_code == 200


async def test_accept_errors(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    await invite(client, alice, document["id"], bob.email)
    token = invite_token(outbox, bob.email)
    unknown = await client.post("/api/v1/invitations/not-a-real-token/accept", headers=bob.headers)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Invitation not found"})
    anonymous = await client.post(f"/api/v1/invitations/{token}/accept")
    assert anonymous.status_code == 401
    carol = await register(client, "carol")
    mismatch = await client.post(f"/api/v1/invitations/{token}/accept", headers=carol.headers)
    assert mismatch.status_code == 403
    assert mismatch.json() == {"detail": "Invitation email does not match your account"}
    assert (await client.post(f"/api/v1/invitations/{token}/accept", headers=bob.headers)).status_code == 200
    twice = await client.post(f"/api/v1/invitations/{token}/accept", headers=bob.headers)
    assert (twice.status_code, twice.json()) == (403, {"detail": "Invitation already accepted"})


async def test_an_expired_invitation_is_gone(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    await invite(client, alice, document["id"], bob.email, expires_at="2020-01-01T00:00:00Z")
    assert (await members(client, alice, document["id"]))["pending_invites"] == []
    response = await client.post(
        f"/api/v1/invitations/{invite_token(outbox, bob.email)}/accept", headers=bob.headers
    )
    assert (response.status_code, response.json()) == (410, {"detail": "Invitation has expired"})


async def test_an_invitation_to_a_deleted_document_cannot_be_accepted(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    await invite(client, alice, document["id"], bob.email)
    assert (await client.delete(api(document["id"]), headers=alice.headers)).status_code == 204
    response = await client.post(
        f"/api/v1/invitations/{invite_token(outbox, bob.email)}/accept", headers=bob.headers
    )
    assert (response.status_code, response.json()) == (404, {"detail": "Document not found"})


async def test_accepting_after_removal_reactivates_the_share(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    """The share row is unique per user and document: the original answered 500 here."""
    await share(client, outbox, alice, document["id"], bob, "editor")
    removed = await client.delete(api(document["id"], f"/members/{bob.id}"), headers=alice.headers)
    assert removed.status_code == 200
    assert (await client.get(api(document["id"], "/members"), headers=bob.headers)).status_code == 403
    await share(client, outbox, alice, document["id"], bob, "viewer")
    [member] = (await members(client, alice, document["id"]))["members"]
    assert (member["principal_id"], member["role"], member["status"]) == (bob.id, "viewer", "active")


async def test_declining_an_invitation(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    await invite(client, alice, document["id"], bob.email)
    token = invite_token(outbox, bob.email)
    carol = await register(client, "carol")
    stranger = await client.post(f"/api/v1/invitations/{token}/decline", headers=carol.headers)
    assert stranger.status_code == 403  # only the invitee may decline (the original let anyone)
    response = await client.post(f"/api/v1/invitations/{token}/decline", headers=bob.headers)
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Invitation declined"}
    again = await client.post(f"/api/v1/invitations/{token}/decline", headers=bob.headers)
    assert (again.status_code, again.json()) == (400, {"detail": "Invitation already declined"})
    accept = await client.post(f"/api/v1/invitations/{token}/accept", headers=bob.headers)
    assert (accept.status_code, accept.json()) == (403, {"detail": "Invitation already declined"})
    assert (await members(client, alice, document["id"]))["pending_invites"] == []
    unknown = await client.post("/api/v1/invitations/nope/decline", headers=bob.headers)
    assert unknown.status_code == 404
    assert (await client.post(f"/api/v1/invitations/{token}/decline")).status_code == 401


async def test_concurrent_accepts_grant_one_share(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    await invite(client, alice, document["id"], bob.email)
    url = f"/api/v1/invitations/{invite_token(outbox, bob.email)}/accept"
    responses = await asyncio.gather(*(client.post(url, headers=bob.headers) for _ in range(4)))
    assert sorted(response.status_code for response in responses) == [200, 403, 403, 403]
    assert len((await members(client, alice, document["id"]))["members"]) == 1


# Members


async def test_member_list_shows_document_shares_and_pending_invites(
    client: httpx.AsyncClient, team: Team
) -> None:
    await invite(client, team["admin"], team.document_id, "dave@example.com", role="viewer", message="hi")
    listing = await members(client, team["viewer"], team.document_id)
    # Workspace members are not listed: only explicit document shares.
    assert [member["principal_id"] for member in listing["members"]] == [team["commenter"].id]
    [pending] = listing["pending_invites"]
    assert set(pending) == {
        "id",
        "document_id",
        "email",
        "role",
        "status",
        "message",
        "created_at",
        "expires_at",
        "invited_by",
        "inviter_name",
        "inviter_email",
    }
    assert (pending["email"], pending["role"], pending["status"], pending["message"]) == (
        "dave@example.com",
        "viewer",
        "pending",
        "hi",
    )
    assert (pending["invited_by"], pending["inviter_name"], pending["inviter_email"]) == (
        team["admin"].id,
        "Admin_User",
        team["admin"].email,
    )


@pytest.mark.parametrize("by", ["share_id", "user_id"])
async def test_removing_a_member_by_share_id_or_user_id(
    client: httpx.AsyncClient, team: Team, by: str
) -> None:
    commenter = team["commenter"]
    member_id = (
        await share_row_id(client, team["owner"], team.document_id, commenter)
        if by == "share_id"
        else commenter.id
    )
    response = await client.delete(
        api(team.document_id, f"/members/{member_id}"), headers=team["admin"].headers
    )
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Member removed successfully"}
    assert (await members(client, team["owner"], team.document_id))["members"] == []
    assert (await client.get(api(team.document_id), headers=commenter.headers)).status_code == 403
    again = await client.delete(api(team.document_id, f"/members/{member_id}"), headers=team["admin"].headers)
    assert (again.status_code, again.json()) == (403, {"detail": "Member not found"})


async def test_the_owner_share_cannot_be_removed_or_demoted(
    client: httpx.AsyncClient, outbox: LogEmailSender, team: Team
) -> None:
    owner, admin = team["owner"], team["admin"]
    await share(client, outbox, owner, team.document_id, team["editor"], "viewer")
    promoted = await client.post(
        api(team.document_id, f"/members/{team['editor'].id}/role"),
        json={"role": "owner"},
        headers=owner.headers,
    )
    assert promoted.status_code == 200
    removed = await client.delete(
        api(team.document_id, f"/members/{team['editor'].id}"), headers=admin.headers
    )
    assert (removed.status_code, removed.json()) == (
        403,
        {"detail": "Cannot remove owner. Transfer ownership first."},
    )
    itself = await client.delete(
        api(team.document_id, f"/members/{team['editor'].id}"), headers=team["editor"].headers
    )
    assert itself.json() == {"detail": "Owner cannot remove themselves. Transfer ownership first."}
    demoted = await client.post(
        api(team.document_id, f"/members/{team['editor'].id}/role"),
        json={"role": "viewer"},
        headers=owner.headers,
    )
    assert (demoted.status_code, demoted.json()) == (
        403,
        {"detail": "Cannot change owner role. Transfer ownership first."},
    )


async def test_changing_a_member_role(client: httpx.AsyncClient, team: Team) -> None:
    commenter = team["commenter"]
    row_id = await share_row_id(client, team["owner"], team.document_id, commenter)
    response = await client.post(
        api(team.document_id, f"/members/{row_id}/role"),
        json={"role": "admin"},
        headers=team["admin"].headers,
    )
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Member role changed successfully"}
    [member] = (await members(client, team["owner"], team.document_id))["members"]
    assert member["role"] == "admin"
    # The commenter is now an admin of the document and may manage links.
    link = await client.post(api(team.document_id, "/share-links"), json={}, headers=commenter.headers)
    assert link.status_code == 201


async def test_only_an_owner_promotes_to_owner(client: httpx.AsyncClient, team: Team) -> None:
    url = api(team.document_id, f"/members/{team['commenter'].id}/role")
    denied = await client.post(url, json={"role": "owner"}, headers=team["admin"].headers)
    assert (denied.status_code, denied.json()) == (403, {"detail": "Only owner can promote to owner"})
    allowed = await client.post(url, json={"role": "owner"}, headers=team["owner"].headers)
    assert allowed.status_code == 200


@pytest.mark.parametrize("body", [{"role": "superuser"}, {"role": None}, {}, {"role": ["admin"]}])
async def test_role_change_rejects_bad_input_with_422(
    client: httpx.AsyncClient, team: Team, body: dict[str, Any]
) -> None:
    response = await client.post(
        api(team.document_id, f"/members/{team['commenter'].id}/role"),
        json=body,
        headers=team["owner"].headers,
    )
    assert response.status_code == 422


async def test_member_ids_of_another_document_are_not_found(
    client: httpx.AsyncClient, outbox: LogEmailSender, team: Team, bob: Account
) -> None:
    """Cross-tenant: bob owns another document with a share; its row id means nothing on team's document."""
    workspace = await create_workspace(client, bob)
    other = await create_document(client, bob, workspace["id"])
    victim = await register(client, "victim")
    await share(client, outbox, bob, other["id"], victim, "editor")
    foreign_row = await share_row_id(client, bob, other["id"], victim)
    for member_id in (foreign_row, victim.id):
        removed = await client.delete(
            api(team.document_id, f"/members/{member_id}"), headers=team["owner"].headers
        )
        assert (removed.status_code, removed.json()) == (403, {"detail": "Member not found"})
        changed = await client.post(
            api(team.document_id, f"/members/{member_id}/role"),
            json={"role": "viewer"},
            headers=team["owner"].headers,
        )
        assert changed.json() == {"detail": "Member not found"}
    # Team's owner can't touch bob's document either.
    foreign = await client.delete(api(other["id"], f"/members/{foreign_row}"), headers=team["owner"].headers)
    assert foreign.status_code == 403
    assert (await members(client, bob, other["id"]))["members"][0]["status"] == "active"


# Ownership


async def test_transferring_ownership(client: httpx.AsyncClient, outbox: LogEmailSender, team: Team) -> None:
    owner, commenter, viewer = team["owner"], team["commenter"], team["viewer"]
    response = await client.post(
        api(team.document_id, "/transfer-ownership"),
        json={"new_owner_id": commenter.id},
        headers=owner.headers,
    )
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "new_owner_id": commenter.id,
        "message": "Ownership transferred successfully",
    }
    roles = {
        m["principal_id"]: m["role"] for m in (await members(client, owner, team.document_id))["members"]
    }
    assert roles == {commenter.id: "owner"}
    # The new owner hands it on to the workspace viewer (no share yet): their own share drops to admin.
    onward = await client.post(
        api(team.document_id, "/transfer-ownership"),
        json={"new_owner_id": viewer.id},
        headers=commenter.headers,
    )
    assert onward.status_code == 200
    roles = {
        m["principal_id"]: m["role"] for m in (await members(client, owner, team.document_id))["members"]
    }
    assert roles == {commenter.id: "admin", viewer.id: "owner"}


async def test_transfer_errors(client: httpx.AsyncClient, team: Team) -> None:
    url = api(team.document_id, "/transfer-ownership")
    owner = team["owner"]
    for target in (team["outsider"].id, random_id()):
        response = await client.post(url, json={"new_owner_id": target}, headers=owner.headers)
        assert (response.status_code, response.json()) == (
            403,
            {"detail": "New owner must already have access to document"},
        )
    itself = await client.post(url, json={"new_owner_id": owner.id}, headers=owner.headers)
    assert itself.status_code == 400
    admin = await client.post(url, json={"new_owner_id": team["editor"].id}, headers=team["admin"].headers)
    assert admin.status_code == 403
    assert admin.json()["detail"].startswith("Forbidden: Requires owner role")
    for body in ({}, {"new_owner_id": "not-a-uuid"}, {"new_owner_id": 5}):
        assert (await client.post(url, json=body, headers=owner.headers)).status_code == 422


# Permission matrix: every sharing, share-link and audit endpoint x every role.

MIN_ROLE = {"viewer": 1, "commenter": 2, "editor": 3, "admin": 4, "owner": 5}
ROLES = ["owner", "admin", "editor", "commenter", "viewer", "outsider"]


def endpoints(document_id: str, role: str) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(minimum role, method, path, body). Mutations that pass the permission check hit a harmless miss
    (a random member or link id) or create something new, so one run can try every role."""
    missing = random_id()
    return [
        (
            "admin",
            "POST",
            api(document_id, "/invite"),
            {"emails": [f"{role}-guest@example.com"], "role": "viewer"},
        ),
        ("viewer", "GET", api(document_id, "/members"), None),
        ("admin", "DELETE", api(document_id, f"/members/{missing}"), None),
        ("admin", "POST", api(document_id, f"/members/{missing}/role"), {"role": "viewer"}),
        ("owner", "POST", api(document_id, "/transfer-ownership"), {"new_owner_id": missing}),
        ("admin", "POST", api(document_id, "/share-links"), {"mode": "edit"}),
        ("viewer", "GET", api(document_id, "/share-links"), None),
        ("admin", "DELETE", api(document_id, f"/share-links/{missing}"), None),
        ("admin", "GET", api(document_id, "/audit-logs"), None),
    ]


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
async def test_permission_matrix(client: httpx.AsyncClient, team: Team, role: str) -> None:
    headers = team[role].headers if role != "anonymous" else {}
    level = MIN_ROLE.get(role, 0)
    for minimum, method, path, body in endpoints(team.document_id, role):
        response = await client.request(method, path, json=body, headers=headers)
        where = f"{role} {method} {path}: {response.status_code} {response.text}"
        if role == "anonymous":
            assert response.status_code == 401, where
        elif level >= MIN_ROLE[minimum]:
            assert response.status_code < 500, where
            assert not response.json().get("detail", "").startswith("Forbidden"), where
            assert response.status_code in {200, 201} or response.json()["detail"] in {
                "Member not found",
                "Share link not found",
                "New owner must already have access to document",
            }, where
        else:
            assert response.status_code == 403, where
            expected = "Forbidden: No access" if role == "outsider" else f"Forbidden: Requires {minimum} role"
            assert response.json()["detail"].startswith(expected), where


@pytest.mark.parametrize("deleted", [False, True])
async def test_unknown_or_deleted_document_is_404_everywhere(
    client: httpx.AsyncClient, alice: Account, document: dict[str, Any], deleted: bool
) -> None:
    if deleted:
        assert (await client.delete(api(document["id"]), headers=alice.headers)).status_code == 204
    document_id = document["id"] if deleted else random_id()
    for _, method, path, body in endpoints(document_id, "owner"):
        response = await client.request(method, path, json=body, headers=alice.headers)
        assert (response.status_code, response.json()) == (404, {"detail": "Document not found"}), path


async def test_non_uuid_path_ids_are_422(
    client: httpx.AsyncClient, alice: Account, document: dict[str, Any]
) -> None:
    for _, method, path, body in endpoints("doc_123", "owner"):
        response = await client.request(method, path, json=body, headers=alice.headers)
        assert response.status_code == 422, path
        assert response.json()["detail"][0]["type"] == "uuid_parsing"
    for path in (f"/members/{'x' * 5}", f"/members/{'x' * 5}/role", "/share-links/undefined"):
        method = "POST" if path.endswith("/role") else "DELETE"
        response = await client.request(
            method, api(document["id"], path), json={"role": "viewer"}, headers=alice.headers
        )
        assert response.status_code == 422, path
