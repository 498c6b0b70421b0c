"""The embedded default (SQLite file, same models and code paths) passes the main client flows."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pycrdt
import pytest
from fastapi import FastAPI

from mdreader_backend.main import create_app
from mdreader_backend.migrate import upgrade
from tests.backend.conftest import Account, make_settings, register


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "mdreader.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture
async def sqlite_app(sqlite_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(sqlite_url))
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def http(sqlite_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sqlite_app), base_url="http://local"
    ) as client:
        yield client


def text_update(text: str) -> str:
    doc = pycrdt.Doc()
    doc.get("t", type=pycrdt.Text).insert(0, text)
    return base64.b64encode(doc.get_update()).decode()


def text_of(state_b64: str) -> str:
    doc = pycrdt.Doc()
    doc.apply_update(base64.b64decode(state_b64))
    return str(doc.get("t", type=pycrdt.Text))


async def test_auth_lifecycle(http: httpx.AsyncClient) -> None:
    user = await register(http)
    assert (await http.get("/api/v1/auth/me", headers=user.headers)).status_code == 200
    refreshed = await http.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert refreshed.status_code == 200
    headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert (await http.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await http.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def test_workspace_documents_yjs_and_tags(http: httpx.AsyncClient) -> None:
    user: Account = await register(http)
    workspace = (await http.post("/api/v1/workspaces", json={"name": "Local"}, headers=user.headers)).json()
    create = await http.post(
        "/api/v1/documents",
        params={"workspace_id": workspace["id"]},
        json={"title": "Note", "tags": ["a", "b"], "yjs_state_b64": text_update("one")},
        headers=user.headers,
    )
    assert create.status_code == 201
    document = create.json()
    patched = await http.patch(
        f"/api/v1/documents/{document['id']}",
        json={"yjs_state_b64": text_update("two")},
        headers=user.headers,
    )
    merged = text_of(patched.json()["yjs_state_b64"])
    assert "one" in merged
    assert "two" in merged
    listing = await http.get(
        f"/api/v1/documents/workspace/{workspace['id']}", params={"tags": "b,z"}, headers=user.headers
    )
    assert [item["id"] for item in listing.json()["items"]] == [document["id"]]
    none = await http.get(
        f"/api/v1/documents/workspace/{workspace['id']}", params={"tags": "z"}, headers=user.headers
    )
    assert none.json()["total"] == 0


async def test_atomic_batch_rolls_back(http: httpx.AsyncClient) -> None:
    user = await register(http)
    workspace = (await http.post("/api/v1/workspaces", json={"name": "Batch"}, headers=user.headers)).json()
    response = await http.post(
        "/api/v1/documents/batch",
        json={
            "workspaceId": workspace["id"],
            "atomic": True,
            "operations": [
                {"operation": "create", "clientId": "a", "data": {"title": "x"}},
                {
                    "operation": "delete",
                    "clientId": "b",
                    "documentId": "00000000-0000-4000-8000-000000000000",
                },
            ],
        },
        headers=user.headers,
    )
    assert response.status_code == 409
    listing = await http.get(f"/api/v1/documents/workspace/{workspace['id']}", headers=user.headers)
    assert listing.json()["total"] == 0


async def test_share_link_validation(http: httpx.AsyncClient) -> None:
    user = await register(http)
    workspace = (await http.post("/api/v1/workspaces", json={"name": "Links"}, headers=user.headers)).json()
    document = (
        await http.post(
            "/api/v1/documents",
            params={"workspace_id": workspace["id"]},
            json={"title": "S"},
            headers=user.headers,
        )
    ).json()
    link = await http.post(
        f"/api/v1/documents/{document['id']}/share-links",
        json={"mode": "edit", "max_uses": 1},
        headers=user.headers,
    )
    assert link.status_code == 201
    token = link.json()["token"]
    first = (await http.post("/api/v1/share/validate", json={"token": token})).json()
    assert (first["valid"], first["mode"]) == (True, "edit")
    second = (await http.post("/api/v1/share/validate", json={"token": token})).json()
    assert (second["valid"], second["reason"]) == (False, "max_uses_exceeded")
