"""REST Yjs writes are appended to the update log (for live editors), and provisional documents
(Decision 19) are merged into the owner's REST create and never exposed to anyone else."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import httpx
import pycrdt
from fastapi import FastAPI
from sqlalchemy import func, select

from mdreader_backend.documents.models import DocumentUpdateLog, ProvisionalDocument
from mdreader_backend.documents.provisional import open_provisional, purge_expired
from tests.backend.conftest import Account, create_document, create_workspace


def text_update(text: str) -> bytes:
    doc = pycrdt.Doc()
    doc.get("t", type=pycrdt.Text).insert(0, text)
    return doc.get_update()


def text_of(state_b64: str) -> str:
    doc = pycrdt.Doc()
    doc.apply_update(base64.b64decode(state_b64))
    return str(doc.get("t", type=pycrdt.Text))


async def log_rows(app: FastAPI, document_id: str) -> list[DocumentUpdateLog]:
    async with app.state.sessionmaker() as session:
        return list(
            await session.scalars(
                select(DocumentUpdateLog).where(DocumentUpdateLog.document_id == uuid.UUID(document_id))
            )
        )


async def provisional_edit(app: FastAPI, document_id: uuid.UUID, owner: Account, text: str) -> None:
    """What the sync service does for an unknown id: open it for its user and log an accepted update."""
    async with app.state.sessionmaker() as session:
        assert await open_provisional(session, document_id, uuid.UUID(owner.id), ttl=timedelta(hours=24))
        session.add(DocumentUpdateLog(document_id=document_id, update=text_update(text), source="sync"))
        await session.commit()


async def test_rest_yjs_writes_are_logged_for_live_editors(
    client: httpx.AsyncClient, app: FastAPI, alice: Account
) -> None:
    workspace = await create_workspace(client, alice)
    update = text_update("rest")
    encoded = base64.b64encode(update).decode()
    document = await create_document(client, alice, workspace["id"])
    assert await log_rows(app, document["id"]) == []  # no Yjs in the create: nothing to hand over
    await client.patch(
        f"/api/v1/documents/{document['id']}", json={"yjs_state_b64": encoded}, headers=alice.headers
    )
    await client.post(
        f"/api/v1/documents/{document['id']}/snapshot", json={"yjs_state": encoded}, headers=alice.headers
    )
    rows = await log_rows(app, document["id"])
    assert [row.source for row in rows] == ["rest", "rest"]
    assert rows[0].update == update


async def test_owner_create_merges_provisional_content(
    client: httpx.AsyncClient, app: FastAPI, alice: Account
) -> None:
    workspace = await create_workspace(client, alice)
    document_id = uuid.uuid4()
    await provisional_edit(app, document_id, alice, "typed before create")
    created = await create_document(client, alice, workspace["id"], id=str(document_id), title="New")
    assert text_of(created["yjs_state_b64"]) == "typed before create"
    assert created["yjs_version"] == 1
    fetched = await client.get(f"/api/v1/documents/{document_id}", headers=alice.headers)
    assert text_of(fetched.json()["yjs_state_b64"]) == "typed before create"
    async with app.state.sessionmaker() as session:
        assert await session.get(ProvisionalDocument, document_id) is None
    assert await log_rows(app, str(document_id)) == []


async def test_another_users_create_never_sees_provisional_content(
    client: httpx.AsyncClient, app: FastAPI, alice: Account, bob: Account
) -> None:
    document_id = uuid.uuid4()
    await provisional_edit(app, document_id, alice, "alice's secret draft")
    async with app.state.sessionmaker() as session:
        assert not await open_provisional(session, document_id, uuid.UUID(bob.id), ttl=timedelta(hours=24))
    bobs = await create_workspace(client, bob)
    created = await create_document(client, bob, bobs["id"], id=str(document_id), title="Bob's")
    assert created["yjs_state_b64"] is None
    assert await log_rows(app, str(document_id)) == []


async def test_expired_provisional_documents_are_purged(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    expired, kept_open = uuid.uuid4(), uuid.uuid4()
    for document_id in (expired, kept_open):
        await provisional_edit(app, document_id, alice, "draft")
    async with app.state.sessionmaker() as session:
        for document_id in (expired, kept_open):
            row = await session.get(ProvisionalDocument, document_id)
            assert row is not None
            row.expires_at = row.created_at - timedelta(seconds=1)
        await session.commit()
        assert await purge_expired(session, keep={kept_open}) == 1
        remaining = await session.scalar(select(func.count()).select_from(ProvisionalDocument))
    assert remaining == 1
    assert await log_rows(app, str(expired)) == []
    assert len(await log_rows(app, str(kept_open))) == 1
