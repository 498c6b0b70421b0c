"""History snapshots: create, list, metadata, download, and restore (as a new document, or overwrite as a
new Yjs transaction with the provider_active conflict), with permissions per role."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pycrdt import Doc, XmlElement, XmlFragment, XmlText
from sqlalchemy import select, update

from mdreader_backend.audit.models import AuditLog
from mdreader_backend.database import utcnow
from mdreader_backend.documents.models import Document, LivePresence
from mdreader_backend.sharing.models import DocumentShare
from mdreader_backend.snapshots.models import DocumentSnapshot
from tests.backend.conftest import (
    Account,
    add_workspace_member,
    create_document,
    create_workspace,
    random_id,
    register,
)

PROVIDER_ACTIVE = {
    "success": False,
    "reason": "provider_active",
    "suggested_action": "restore_as_new",
    "message": "Document may have active collaborators. Use 'restore_as_new' or confirm with force=true.",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def editor_state(*paragraphs: str, base: bytes | None = None) -> bytes:
    """A TipTap-like full state: paragraphs in the XmlFragment "content", appended to `base`."""
    doc: Doc[Any] = Doc()
    if base:
        doc.apply_update(base)
    fragment = doc.get("content", type=XmlFragment)
    for text in paragraphs:
        fragment.children.append(XmlElement("paragraph", {}, [XmlText(text)]))
    return doc.get_update()


def editor_text(*states: bytes) -> str:
    doc: Doc[Any] = Doc()
    for state in states:
        doc.apply_update(state)
    return str(doc.get("content", type=XmlFragment))


def snapshots_url(document_id: str) -> str:
    return f"/api/v1/documents/{document_id}/snapshots"


async def create_snapshot(
    client: httpx.AsyncClient, account: Account, document_id: str, state: bytes, **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        snapshots_url(document_id), json={"yjs_state_base64": b64(state), **fields}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def restore(
    client: httpx.AsyncClient, account: Account, document_id: str, snapshot_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"{snapshots_url(document_id)}/{snapshot_id}/restore", json=body, headers=account.headers
    )


async def audit_actions(app: FastAPI, document_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditLog)
            .where(AuditLog.document_id == uuid.UUID(document_id))
            .order_by(AuditLog.created_at)
        )
        return [(row.action, row.log_metadata) for row in rows]


async def member(client: httpx.AsyncClient, owner: Account, workspace: dict[str, Any], role: str) -> Account:
    account = await register(client)
    await add_workspace_member(client, owner, workspace["id"], account, role)
    return account


async def set_presence(app: FastAPI, document_id: str, connections: int, age: timedelta) -> None:
    async with app.state.sessionmaker() as session:
        session.add(
            LivePresence(
                document_id=uuid.UUID(document_id),
                instance_id=f"sync-{uuid.uuid4()}",
                connections=connections,
                heartbeat_at=utcnow() - age,
            )
        )
        await session.commit()


@pytest.fixture
async def workspace(client: httpx.AsyncClient, alice: Account) -> dict[str, Any]:
    return await create_workspace(client, alice, "History")


V1 = editor_state("version one")


@pytest.fixture
async def document(client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any]) -> dict[str, Any]:
    return await create_document(client, alice, workspace["id"], title="Essay", yjs_state_b64=b64(V1))


async def test_create_returns_id_time_and_size_and_is_audited(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, document: dict[str, Any]
) -> None:
    created = await create_snapshot(
        client, alice, document["id"], V1, note="first", html_preview="<p>version one</p>", type="auto"
    )
    assert set(created) == {"success", "snapshot_id", "created_at", "size_bytes"}
    assert (created["success"], created["size_bytes"]) == (True, len(V1))
    assert len(created["created_at"].split(".")[-1]) == 6
    assert await audit_actions(app, document["id"]) == [
        ("snapshot_created", {"snapshot_id": created["snapshot_id"], "type": "auto", "size_bytes": len(V1)})
    ]


@pytest.mark.parametrize(
    ("body", "status", "detail_start"),
    [
        ({"yjs_state_base64": "not base64!"}, 400, "Invalid yjs_state_base64: "),
        ({"yjs_state_base64": "AAE"}, 400, "Invalid yjs_state_base64: "),  # bad padding
        ({"yjs_state_base64": b64(b"\xff\xfe\xfd junk")}, 400, "Invalid yjs_state_base64: "),  # not Yjs
    ],
)
async def test_create_rejects_bad_state_with_a_reason(
    client: httpx.AsyncClient,
    alice: Account,
    document: dict[str, Any],
    body: dict[str, Any],
    status: int,
    detail_start: str,
) -> None:
    response = await client.post(snapshots_url(document["id"]), json=body, headers=alice.headers)
    assert response.status_code == status
    assert response.json()["detail"].startswith(detail_start)


@pytest.mark.parametrize(
    ("field", "value"),
    [("type", "weekly"), ("note", "x" * 501), ("yjs_state_base64", None), ("html_preview", 12)],
)
async def test_create_rejects_bad_fields_with_422(
    client: httpx.AsyncClient, alice: Account, document: dict[str, Any], field: str, value: Any
) -> None:
    body = {"yjs_state_base64": b64(V1), field: value}
    response = await client.post(snapshots_url(document["id"]), json=body, headers=alice.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


async def test_unknown_or_malformed_documents(client: httpx.AsyncClient, alice: Account) -> None:
    for response in (
        await client.get(snapshots_url(random_id()), headers=alice.headers),
        await client.post(
            snapshots_url(random_id()), json={"yjs_state_base64": b64(V1)}, headers=alice.headers
        ),
        await client.get(f"{snapshots_url(random_id())}/{random_id()}", headers=alice.headers),
        await restore(client, alice, random_id(), random_id()),
    ):
        assert (response.status_code, response.json()) == (404, {"detail": "Document not found"})
    assert (await client.get(snapshots_url("doc_123"), headers=alice.headers)).status_code == 422
    assert (await client.get(snapshots_url(random_id()))).status_code == 401


async def test_list_is_newest_first_and_paged(
    client: httpx.AsyncClient, alice: Account, document: dict[str, Any]
) -> None:
    ids = [
        (await create_snapshot(client, alice, document["id"], V1, note=str(n)))["snapshot_id"]
        for n in range(3)
    ]
    response = await client.get(snapshots_url(document["id"]), headers=alice.headers)
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 50, 0)
    assert [item["id"] for item in body["snapshots"]] == ids[::-1]
    assert set(body["snapshots"][0]) == {
        "id", "document_id", "type", "created_at", "created_by", "note", "size_bytes", "html_preview",
        "creator_name", "creator_email",
    }  # fmt: skip
    newest = body["snapshots"][0]
    assert (newest["type"], newest["note"], newest["created_by"]) == ("manual", "2", alice.id)
    page = (
        await client.get(
            snapshots_url(document["id"]), params={"limit": 1, "offset": 1}, headers=alice.headers
        )
    ).json()
    assert ([item["id"] for item in page["snapshots"]], page["total"], page["limit"], page["offset"]) == (
        [ids[1]],
        3,
        1,
        1,
    )
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "many"}):
        assert (
            await client.get(snapshots_url(document["id"]), params=params, headers=alice.headers)
        ).status_code == 422


async def test_metadata_and_download(
    client: httpx.AsyncClient, alice: Account, document: dict[str, Any]
) -> None:
    created = await create_snapshot(client, alice, document["id"], V1, html_preview="<p>version one</p>")
    url = f"{snapshots_url(document['id'])}/{created['snapshot_id']}"
    metadata = (await client.get(url, headers=alice.headers)).json()
    assert metadata["id"] == created["snapshot_id"]
    assert (metadata["document_id"], metadata["size_bytes"], metadata["html_preview"]) == (
        document["id"],
        len(V1),
        "<p>version one</p>",
    )
    assert (metadata["creator_name"], metadata["creator_email"]) == (None, None)
    download = await client.get(f"{url}/download", headers=alice.headers)
    assert download.status_code == 200
    assert download.content == V1
    assert download.headers["content-type"] == "application/octet-stream"
    assert (
        download.headers["content-disposition"]
        == f"attachment; filename=snapshot_{created['snapshot_id']}.bin"
    )


async def test_a_snapshot_is_only_found_through_its_own_document(
    client: httpx.AsyncClient, alice: Account, workspace: dict[str, Any], document: dict[str, Any]
) -> None:
    created = await create_snapshot(client, alice, document["id"], V1)
    other = await create_document(client, alice, workspace["id"])
    for response in (
        await client.get(f"{snapshots_url(other['id'])}/{created['snapshot_id']}", headers=alice.headers),
        await client.get(
            f"{snapshots_url(other['id'])}/{created['snapshot_id']}/download", headers=alice.headers
        ),
        await restore(client, alice, other["id"], created["snapshot_id"]),
        await client.get(f"{snapshots_url(document['id'])}/{random_id()}", headers=alice.headers),
    ):
        assert (response.status_code, response.json()) == (404, {"detail": "Snapshot not found"})


async def test_restore_as_new_document(
    app: FastAPI,
    client: httpx.AsyncClient,
    alice: Account,
    workspace: dict[str, Any],
    document: dict[str, Any],
) -> None:
    created = await create_snapshot(client, alice, document["id"], V1, html_preview="<p>version one</p>")
    response = await restore(
        client, alice, document["id"], created["snapshot_id"], action="new_document", force=False
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["action"]) == (True, "new_document")
    assert {"new_document_id", "message", "backup_snapshot_id", "warning"} <= set(body)
    new = (await client.get(f"/api/v1/documents/{body['new_document_id']}", headers=alice.headers)).json()
    assert (new["title"], new["workspace_id"], new["content"]) == (
        "Essay (Restored)",
        workspace["id"],
        "<p>version one</p>",
    )
    assert editor_text(base64.b64decode(new["yjs_state_b64"])) == editor_text(V1)
    async with app.state.sessionmaker() as session:
        share = await session.scalar(
            select(DocumentShare).where(DocumentShare.document_id == uuid.UUID(body["new_document_id"]))
        )
    assert share is not None
    assert (str(share.principal_id), share.role, share.status) == (alice.id, "owner", "active")
    assert ("snapshot_restored_new_document", {
        "snapshot_id": created["snapshot_id"], "restore_action": "new_document",
        "new_document_id": body["new_document_id"],
    }) in await audit_actions(app, document["id"])  # fmt: skip

    titled = await restore(client, alice, document["id"], created["snapshot_id"], title="Old essay")
    assert titled.status_code == 200  # action defaults to new_document
    named = await client.get(f"/api/v1/documents/{titled.json()['new_document_id']}", headers=alice.headers)
    assert named.json()["title"] == "Old essay"


async def test_restore_as_new_needs_editor_on_the_workspace_too(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account, document: dict[str, Any]
) -> None:
    """An editor by document share alone may edit the document but not create documents in its workspace."""
    created = await create_snapshot(client, alice, document["id"], V1)
    await share_document(app, document, bob, "editor")
    response = await restore(client, bob, document["id"], created["snapshot_id"])
    assert (response.status_code, response.json()) == (403, {"detail": "No access to workspace"})


async def test_restore_as_new_keeps_a_restricted_document_restricted(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, document: dict[str, Any]
) -> None:
    created = await create_snapshot(client, alice, document["id"], V1)
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(Document).where(Document.id == uuid.UUID(document["id"])).values(access_model="restricted")
        )
        await session.commit()
    response = await restore(client, alice, document["id"], created["snapshot_id"])
    assert response.status_code == 200
    async with app.state.sessionmaker() as session:
        copy = await session.get(Document, uuid.UUID(response.json()["new_document_id"]))
    assert copy is not None
    assert copy.access_model == "restricted"


async def test_restore_rejects_bad_bodies_with_422(
    client: httpx.AsyncClient, alice: Account, document: dict[str, Any]
) -> None:
    created = await create_snapshot(client, alice, document["id"], V1)
    for body, field in (
        ({"action": "rollback"}, "action"),
        ({"action": "overwrite", "force": True}, "backup_snapshot_id"),  # the original answered 500
        ({"action": "overwrite", "backup_snapshot_id": "nope"}, "backup_snapshot_id"),
        ({"title": ""}, "title"),
        ({"force": "maybe"}, "force"),
    ):
        response = await restore(client, alice, document["id"], created["snapshot_id"], **body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"][-1] == field


async def overwrite_setup(
    client: httpx.AsyncClient, alice: Account, document: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """A snapshot of version one, later edits stored on the document, and a fresh restore-backup."""
    snapshot = await create_snapshot(client, alice, document["id"], V1, html_preview="<p>version one</p>")
    current = editor_state("version two", base=V1)
    patched = await client.patch(
        f"/api/v1/documents/{document['id']}", json={"yjs_state_b64": b64(current)}, headers=alice.headers
    )
    assert patched.status_code == 200
    backup = await create_snapshot(client, alice, document["id"], current, type="restore-backup")
    return snapshot, backup, current


async def test_overwrite_restores_as_a_new_transaction_every_client_converges_to(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, document: dict[str, Any]
) -> None:
    snapshot, backup, current = await overwrite_setup(client, alice, document)
    before = (await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)).json()
    assert editor_text(current) == "<paragraph>version one</paragraph><paragraph>version two</paragraph>"

    response = await restore(
        client, alice, document["id"], snapshot["snapshot_id"], action="overwrite",
        backup_snapshot_id=backup["snapshot_id"],
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["success"], body["action"], body["backup_snapshot_id"]) == (
        True,
        "overwrite",
        backup["snapshot_id"],
    )
    assert body["new_document_id"] is None

    after = (await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)).json()
    stored = base64.b64decode(after["yjs_state_b64"])
    assert after["yjs_version"] == before["yjs_version"] + 1
    assert after["updated_at"] > before["updated_at"]
    assert after["content"] == "<p>version one</p>"
    # An open editor holding the pre-restore state converges once it receives the stored state.
    assert editor_text(current, stored) == editor_text(V1) == "<paragraph>version one</paragraph>"
    # The stored state is a merge: the pre-restore history is still part of it.
    assert editor_text(stored, current) == editor_text(V1)
    assert stored != V1
    assert ("snapshot_restored_overwrite", {
        "snapshot_id": snapshot["snapshot_id"], "restore_action": "overwrite",
        "backup_snapshot_id": backup["snapshot_id"],
    }) in await audit_actions(app, document["id"])  # fmt: skip


async def test_overwrite_checks_the_backup(
    app: FastAPI,
    client: httpx.AsyncClient,
    alice: Account,
    workspace: dict[str, Any],
    document: dict[str, Any],
) -> None:
    snapshot, backup, current = await overwrite_setup(client, alice, document)
    manual = await create_snapshot(client, alice, document["id"], current)
    other = await create_document(client, alice, workspace["id"], yjs_state_b64=b64(V1))
    foreign = await create_snapshot(client, alice, other["id"], V1, type="restore-backup")
    cases = [
        (manual["snapshot_id"], "Backup snapshot must be of type 'restore-backup'"),
        (foreign["snapshot_id"], "Backup snapshot not found"),
        (random_id(), "Backup snapshot not found"),
    ]
    for backup_id, detail in cases:
        response = await restore(
            client,
            alice,
            document["id"],
            snapshot["snapshot_id"],
            action="overwrite",
            backup_snapshot_id=backup_id,
        )
        assert (response.status_code, response.json()) == (400, {"detail": detail})
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(DocumentSnapshot)
            .where(DocumentSnapshot.id == uuid.UUID(backup["snapshot_id"]))
            .values(created_at=utcnow() - timedelta(minutes=6))
        )
        await session.commit()
    stale = await restore(
        client, alice, document["id"], snapshot["snapshot_id"], action="overwrite",
        backup_snapshot_id=backup["snapshot_id"],
    )  # fmt: skip
    assert (stale.status_code, stale.json()) == (
        400,
        {"detail": "Backup snapshot is too old (>5 minutes). Create a fresh backup."},
    )
    unchanged = (await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)).json()
    assert editor_text(base64.b64decode(unchanged["yjs_state_b64"])) == editor_text(current)


async def test_overwrite_with_live_collaborators_is_a_409_unless_forced(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, document: dict[str, Any]
) -> None:
    snapshot, backup, current = await overwrite_setup(client, alice, document)
    await set_presence(app, document["id"], connections=2, age=timedelta(seconds=5))
    await set_presence(app, document["id"], connections=1, age=timedelta(seconds=1))
    body = {"action": "overwrite", "backup_snapshot_id": backup["snapshot_id"]}
    conflict = await restore(client, alice, document["id"], snapshot["snapshot_id"], **body, force=False)
    assert conflict.status_code == 409
    assert conflict.json() == {"detail": {**PROVIDER_ACTIVE, "active_connections": 3}}
    unchanged = (await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)).json()
    assert editor_text(base64.b64decode(unchanged["yjs_state_b64"])) == editor_text(current)

    forced = await restore(client, alice, document["id"], snapshot["snapshot_id"], **body, force=True)
    assert forced.status_code == 200, forced.text
    assert forced.json()["warning"]
    restored = (await client.get(f"/api/v1/documents/{document['id']}", headers=alice.headers)).json()
    assert editor_text(base64.b64decode(restored["yjs_state_b64"])) == editor_text(V1)


async def test_stale_presence_does_not_block_the_overwrite(
    app: FastAPI,
    client: httpx.AsyncClient,
    alice: Account,
    workspace: dict[str, Any],
    document: dict[str, Any],
) -> None:
    snapshot, backup, _ = await overwrite_setup(client, alice, document)
    await set_presence(app, document["id"], connections=4, age=timedelta(minutes=10))
    other = await create_document(client, alice, workspace["id"])
    await set_presence(app, other["id"], connections=1, age=timedelta(seconds=1))  # another document's
    response = await restore(
        client, alice, document["id"], snapshot["snapshot_id"], action="overwrite",
        backup_snapshot_id=backup["snapshot_id"],
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["warning"] is None


async def share_document(app: FastAPI, document: dict[str, Any], account: Account, role: str) -> None:
    async with app.state.sessionmaker() as session:
        session.add(
            DocumentShare(
                document_id=uuid.UUID(document["id"]),
                principal_id=uuid.UUID(account.id),
                role=role,
                status="active",
            )
        )
        await session.commit()


@pytest.mark.parametrize("role", ["owner", "admin", "editor", "commenter", "viewer", None])
async def test_permissions_per_role(
    app: FastAPI,
    client: httpx.AsyncClient,
    alice: Account,
    workspace: dict[str, Any],
    document: dict[str, Any],
    role: str | None,
) -> None:
    """Viewers and commenters read, editors create and restore as new, only owners overwrite; non-members
    nothing (workspace roles, and commenter as a document share: workspaces have no commenter role)."""
    snapshot, backup, _ = await overwrite_setup(client, alice, document)
    caller = alice if role == "owner" else await register(client)
    if role == "commenter":
        await share_document(app, document, caller, role)
    elif role not in ("owner", None):
        await add_workspace_member(client, alice, workspace["id"], caller, role)
    url = f"{snapshots_url(document['id'])}/{snapshot['snapshot_id']}"
    reads = [
        await client.get(snapshots_url(document["id"]), headers=caller.headers),
        await client.get(url, headers=caller.headers),
        await client.get(f"{url}/download", headers=caller.headers),
    ]
    create = await client.post(
        snapshots_url(document["id"]), json={"yjs_state_base64": b64(V1)}, headers=caller.headers
    )
    as_new = await restore(client, caller, document["id"], snapshot["snapshot_id"])
    overwrite = await restore(
        client, caller, document["id"], snapshot["snapshot_id"], action="overwrite",
        backup_snapshot_id=backup["snapshot_id"],
    )  # fmt: skip
    can_read = role is not None
    can_edit = role in ("owner", "admin", "editor")
    assert [r.status_code for r in reads] == [200 if can_read else 403] * 3
    assert create.status_code == (201 if can_edit else 403)
    assert as_new.status_code == (200 if can_edit else 403)
    assert overwrite.status_code == (200 if role == "owner" else 403)
    if can_read and role != "owner":
        assert overwrite.json() == {"detail": f"Forbidden: Requires owner role (you have: {role})"}


async def test_every_route_needs_authentication(client: httpx.AsyncClient, document: dict[str, Any]) -> None:
    url = f"{snapshots_url(document['id'])}/{random_id()}"
    for response in (
        await client.get(snapshots_url(document["id"])),
        await client.post(snapshots_url(document["id"]), json={"yjs_state_base64": b64(V1)}),
        await client.get(url),
        await client.get(f"{url}/download"),
        await client.post(f"{url}/restore", json={}),
    ):
        assert (response.status_code, response.json()) == (401, {"detail": "Not authenticated"})
