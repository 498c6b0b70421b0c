"""Audit logs: every sharing action leaves one record with the documented metadata, readable by document
admins, newest first, paginated, with the actor's name and email."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mdreader_backend.email import LogEmailSender
from tests.backend.conftest import (
    Account,
    api,
    create_document,
    create_workspace,
    invite,
    invite_token,
    register,
    share,
    share_row_id,
)


async def audit_logs(
    client: httpx.AsyncClient, actor: Account, document_id: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(api(document_id, "/audit-logs"), params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def document(client: httpx.AsyncClient, alice: Account) -> dict[str, Any]:
    workspace = await create_workspace(client, alice)
    return await create_document(client, alice, workspace["id"])


async def test_every_sharing_action_is_recorded(
    client: httpx.AsyncClient, outbox: LogEmailSender, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    doc_id = document["id"]
    carol = await register(client, "carol")
    await invite(client, alice, doc_id, bob.email, role="viewer")
    invitation_id = (await client.get(api(doc_id, "/members"), headers=alice.headers)).json()[
        "pending_invites"
    ][0]["id"]
    await client.post(f"/api/v1/invitations/{invite_token(outbox, bob.email)}/accept", headers=bob.headers)
    await invite(client, alice, doc_id, carol.email, role="editor")
    carol_invitation = (await client.get(api(doc_id, "/members"), headers=alice.headers)).json()[
        "pending_invites"
    ][0]
    await client.post(
        f"/api/v1/invitations/{invite_token(outbox, carol.email)}/decline", headers=carol.headers
    )
    row_id = await share_row_id(client, alice, doc_id, bob)
    await client.post(api(doc_id, f"/members/{row_id}/role"), json={"role": "editor"}, headers=alice.headers)
    await client.post(
        api(doc_id, "/transfer-ownership"), json={"new_owner_id": bob.id}, headers=alice.headers
    )
    link = (
        await client.post(api(doc_id, "/share-links"), json={"mode": "edit"}, headers=alice.headers)
    ).json()
    await client.post("/api/v1/share/validate", json={"token": link["token"]})
    await client.delete(api(doc_id, f"/share-links/{link['id']}"), headers=alice.headers)
    await share(client, outbox, alice, doc_id, carol, "viewer")
    await client.delete(api(doc_id, f"/members/{carol.id}"), headers=bob.headers)

    body = await audit_logs(client, alice, doc_id)
    assert (body["total"], body["limit"], body["offset"]) == (12, 100, 0)
    logs = list(reversed(body["logs"]))  # oldest first, for reading
    expected = [
        ("invite_sent", alice, {"email": bob.email, "role": "viewer"}),
        ("invite_accepted", bob, {"invitation_id": invitation_id, "role": "viewer"}),
        ("invite_sent", alice, {"email": carol.email, "role": "editor"}),
        ("invite_declined", carol, {"invitation_id": carol_invitation["id"]}),
        ("role_changed", alice, {"member_id": bob.id, "old_role": "viewer", "new_role": "editor"}),
        ("ownership_transferred", alice, {"old_owner_id": alice.id, "new_owner_id": bob.id}),
        ("link_created", alice, {"link_id": link["id"], "mode": "edit"}),
        ("link_used", None, {"link_id": link["id"], "mode": "edit", "uses_count": 1}),
        ("link_revoked", alice, {"link_id": link["id"], "mode": "edit"}),
        ("invite_sent", alice, {"email": carol.email, "role": "viewer"}),
        ("invite_accepted", carol, None),
        ("member_removed", bob, {"member_id": carol.id, "role": "viewer"}),
    ]
    assert [log["action"] for log in logs] == [action for action, _, _ in expected]
    for log, (action, actor, metadata) in zip(logs, expected, strict=True):
        assert log["document_id"] == doc_id
        assert log["actor_id"] == (actor.id if actor else None), action
        assert log["actor_email"] == (actor.email if actor else None), action
        assert log["actor_name"] == (actor.username.title() if actor else None), action
        if metadata is not None:
            assert log["metadata"] == metadata, action
    assert set(logs[0]) == {
        "id",
        "action",
        "actor_id",
        "document_id",
        "metadata",
        "created_at",
        "actor_name",
        "actor_email",
    }
    created = [log["created_at"] for log in body["logs"]]
    assert created == sorted(created, reverse=True)
    assert all(len(stamp.split(".")[-1]) == 6 for stamp in created)


async def test_pagination(client: httpx.AsyncClient, alice: Account, document: dict[str, Any]) -> None:
    for index in range(5):
        await invite(client, alice, document["id"], f"guest{index}@example.com", send_email=False)
    everything = await audit_logs(client, alice, document["id"])
    page = await audit_logs(client, alice, document["id"], limit=2, offset=1)
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [log["id"] for log in page["logs"]] == [log["id"] for log in everything["logs"][1:3]]
    assert [log["metadata"]["email"] for log in everything["logs"]] == [
        f"guest{index}@example.com" for index in reversed(range(5))
    ]
    beyond = await audit_logs(client, alice, document["id"], offset=10)
    assert (beyond["logs"], beyond["total"]) == ([], 5)


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 501}, {"limit": "ten"}, {"offset": -1}, {"offset": 2**31}, {"offset": 10**30}],
)
async def test_out_of_range_paging_is_422(
    client: httpx.AsyncClient, alice: Account, document: dict[str, Any], params: dict[str, Any]
) -> None:
    response = await client.get(api(document["id"], "/audit-logs"), params=params, headers=alice.headers)
    assert response.status_code == 422


async def test_logs_are_scoped_to_the_document_and_failed_actions_leave_none(
    client: httpx.AsyncClient, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    workspace = await create_workspace(client, bob)
    other = await create_document(client, bob, workspace["id"])
    await invite(client, bob, other["id"], "someone@example.com", send_email=False)
    denied = await invite(client, bob, document["id"], "intruder@example.com", send_email=False)
    assert denied.status_code == 403
    assert (await audit_logs(client, alice, document["id"]))["logs"] == []
    assert (await audit_logs(client, bob, other["id"]))["total"] == 1
    cross = await client.get(api(other["id"], "/audit-logs"), headers=alice.headers)
    assert cross.status_code == 403
