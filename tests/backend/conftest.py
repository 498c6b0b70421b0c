"""Backend fixtures: the app on a migrated PostgreSQL database (emptied before each test), an HTTP client,
and helpers to create users, workspaces and documents through the API itself."""

from __future__ import annotations

import itertools
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
