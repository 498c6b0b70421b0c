"""Backend fixtures: the app on a migrated PostgreSQL database (emptied before each test), an HTTP client,
and helpers to create users, workspaces and documents through the API itself."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from mdreader_backend.email import LogEmailSender
from mdreader_backend.main import create_app
from mdreader_backend.migrate import upgrade
from mdreader_backend.models import Base
from mdreader_backend.settings import Settings
from tests.conftest import asyncpg_url

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "Sup3r#secret"
_counter = itertools.count()


@pytest.fixture(scope="session")
def database_url(postgres_base_url: str) -> str:
    """The backend schema, built by the Alembic migrations (so every test run also proves them)."""
    url = asyncpg_url(postgres_base_url)
    upgrade(url)
    return url


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "environment": "test",
        "secret_key": TEST_SECRET,
        "bcrypt_rounds": 4,
        "rate_limit_auth_requests": 100_000,
    }
    values.update(overrides)
    return Settings(**values)


async def truncate_all(app: FastAPI) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with app.state.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url))
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await truncate_all(app)
    app.state.email.outbox.clear()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def outbox(app: FastAPI) -> LogEmailSender:
    sender: LogEmailSender = app.state.email
    return sender


@dataclass
class Account:
    """A registered user and their tokens, with a ready Authorization header."""

    id: str
    email: str
    username: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def register(client: httpx.AsyncClient, name: str | None = None) -> Account:
    name = name or f"user{next(_counter)}"
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": f"{name}@example.com",
            "username": name,
            "password": PASSWORD,
            "full_name": name.title(),
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(
        id=body["user"]["id"],
        email=body["user"]["email"],
        username=name,
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
    )


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Account:
    return await register(client, "alice")


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> Account:
    return await register(client, "bob")


def random_id() -> str:
    return str(uuid.uuid4())


async def create_workspace(
    client: httpx.AsyncClient, account: Account, name: str | None = None
) -> dict[str, Any]:
    name = name or f"Workspace {next(_counter)}"
    response = await client.post("/api/v1/workspaces", json={"name": name}, headers=account.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def create_document(
    client: httpx.AsyncClient, account: Account, workspace_id: str, **fields: Any
) -> dict[str, Any]:
    payload = {"title": f"Document {next(_counter)}", **fields}
    response = await client.post(
        "/api/v1/documents", params={"workspace_id": workspace_id}, json=payload, headers=account.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_workspace_member(
    client: httpx.AsyncClient, owner: Account, workspace_id: str, member: Account, role: str
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/workspaces/{workspace_id}/members",
        json={"user_id": member.id, "role": role},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# Document sharing helpers (invitations by email, then accept) and a team with one account per role.

INVITE_LINK = re.compile(r"http://localhost:5173/invite/([A-Za-z0-9_-]+)")


def api(document_id: str, tail: str = "") -> str:
    return f"/api/v1/documents/{document_id}{tail}"


def invite_token(outbox: LogEmailSender, address: str) -> str:
    """The token of the newest invitation email to `address` (the only place a token ever appears)."""
    for email in reversed(outbox.outbox):
        if email.to.lower() == address.lower():
            match = INVITE_LINK.search(email.text)
            assert match, email.text
            return match.group(1)
    raise AssertionError(f"no invitation email to {address}")


async def invite(
    client: httpx.AsyncClient,
    actor: Account,
    document_id: str,
    *emails: str,
    role: str = "editor",
    **extra: Any,
) -> httpx.Response:
    body = {"emails": list(emails), "role": role, **extra}
    return await client.post(api(document_id, "/invite"), json=body, headers=actor.headers)


async def share(
    client: httpx.AsyncClient,
    outbox: LogEmailSender,
    inviter: Account,
    document_id: str,
    member: Account,
    role: str,
) -> None:
    """Gives `member` a document share with `role` the way users do: invitation email, then accept."""
    response = await invite(client, inviter, document_id, member.email, role=role)
    assert response.status_code == 201, response.text
    accepted = await client.post(
        f"/api/v1/invitations/{invite_token(outbox, member.email)}/accept", headers=member.headers
    )
    assert accepted.status_code == 200, accepted.text


async def members(client: httpx.AsyncClient, actor: Account, document_id: str) -> dict[str, Any]:
    response = await client.get(api(document_id, "/members"), headers=actor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def share_row_id(client: httpx.AsyncClient, actor: Account, document_id: str, member: Account) -> str:
    rows = [
        row
        for row in (await members(client, actor, document_id))["members"]
        if row["principal_id"] == member.id
    ]
    assert len(rows) == 1, rows
    row_id: str = rows[0]["id"]
    return row_id


@dataclass
class Team:
    """A document in its owner's workspace and one account per role (commenter through a document share,
    which workspaces do not have)."""

    workspace_id: str
    document_id: str
    accounts: dict[str, Account]

    def __getitem__(self, role: str) -> Account:
        return self.accounts[role]


async def make_team(client: httpx.AsyncClient, outbox: LogEmailSender) -> Team:
    owner = await register(client, "owner_user")
    workspace = await create_workspace(client, owner)
    document = await create_document(client, owner, workspace["id"])
    accounts = {"owner": owner}
    for role in ("admin", "editor", "viewer"):
        accounts[role] = await register(client, f"{role}_user")
        await add_workspace_member(client, owner, workspace["id"], accounts[role], role)
    accounts["commenter"] = await register(client, "commenter_user")
    await share(client, outbox, owner, document["id"], accounts["commenter"], "commenter")
    accounts["outsider"] = await register(client, "outsider_user")
    return Team(workspace["id"], document["id"], accounts)
