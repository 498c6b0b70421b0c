"""Auth: register, login, refresh rotation, logout revocation, token types, errors."""

from __future__ import annotations

import httpx
import jwt
import pytest

from tests.backend.conftest import PASSWORD, TEST_SECRET, Account, register


async def test_register_returns_user_and_token_bundle(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "Carol@Example.COM", "username": "carol", "password": PASSWORD},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    assert set(body["user"]) == {
        "id",
        "email",
        "username",
        "full_name",
        "avatar_url",
        "created_at",
        "updated_at",
    }
    assert body["user"]["email"] == "Carol@example.com"  # domain lower-cased only, like EmailStr
    assert len(body["user"]["created_at"].split(".")[-1]) == 6  # naive ISO with microseconds


async def test_access_token_claims_match_the_original(alice: Account) -> None:
    claims = jwt.decode(alice.access_token, TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == alice.id
    assert claims["type"] == "access"
    assert {"exp", "iat", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 30 * 60
    refresh = jwt.decode(alice.refresh_token, TEST_SECRET, algorithms=["HS256"])
    assert refresh["type"] == "refresh"
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600


async def test_register_conflicts(client: httpx.AsyncClient, alice: Account) -> None:
    again = await client.post(
        "/api/v1/auth/register", json={"email": alice.email, "username": "other", "password": PASSWORD}
    )
    assert again.status_code == 409
    assert again.json() == {"detail": f"Email '{alice.email}' is already registered"}
    taken = await client.post(
        "/api/v1/auth/register", json={"email": "new@example.com", "username": "alice", "password": PASSWORD}
    )
    assert taken.status_code == 409
    assert taken.json() == {"detail": "Username 'alice' is already taken"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "alllowercase1!"),  # custom validator: crashed with 500 in the original
        ("password", "NoSymbols123"),
        ("password", "short"),
        ("username", "Admin"),  # reserved, case-insensitive
        ("username", "bad name"),
        ("email", "not-an-email"),
    ],
)
async def test_register_rejects_bad_input_with_422(client: httpx.AsyncClient, field: str, value: str) -> None:
    body = {"email": "dave@example.com", "username": "dave", "password": PASSWORD, field: value}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert errors[0]["loc"][-1] == field
    assert errors[0]["msg"]


async def test_login_and_me(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["access_token"]
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["id"] == alice.id


@pytest.mark.parametrize("password", ["wrong-Password1!", ""])
async def test_login_failures(client: httpx.AsyncClient, alice: Account, password: str) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": password})
    if password:
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid email or password"}
    else:
        assert response.status_code == 422
    unknown = await client.post("/api/v1/auth/login", json={"email": "ghost@example.com", "password": "x"})
    assert unknown.status_code == 401


async def test_form_encoded_login_is_a_422_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/login", data={"email": "a@example.com", "password": "x"})
    assert response.status_code == 422


async def test_missing_or_bad_token_is_401_with_www_authenticate(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/auth/me")
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Not authenticated"}
    assert missing.headers["www-authenticate"] == "Bearer"
    garbage = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not-a-jwt"})
    assert garbage.status_code == 401
    basic = await client.get("/api/v1/auth/me", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401


async def test_refresh_and_access_tokens_are_not_interchangeable(
    client: httpx.AsyncClient, alice: Account
) -> None:
    as_access = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {alice.refresh_token}"}
    )
    assert as_access.status_code == 401
    as_refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.access_token})
    assert as_refresh.status_code == 401
    assert as_refresh.json() == {"detail": "Invalid or expired refresh token"}


async def test_refresh_rotates_and_reuse_ends_the_session(client: httpx.AsyncClient, alice: Account) -> None:
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert first.status_code == 200
    pair = first.json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200

    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert replay.status_code == 401
    # Reuse of a spent refresh token revokes the whole session, including the newest pair.
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert after.status_code == 401


async def test_logout_revokes_refresh_and_access_tokens(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.post("/api/v1/auth/logout", headers=alice.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get("/api/v1/auth/me", headers=alice.headers)).status_code == 401
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert refreshed.status_code == 401


async def test_other_sessions_survive_a_logout(client: httpx.AsyncClient, alice: Account) -> None:
    second = await client.post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD})
    other = {"Authorization": f"Bearer {second.json()['access_token']}"}
    await client.post("/api/v1/auth/logout", headers=alice.headers)
    assert (await client.get("/api/v1/auth/me", headers=other)).status_code == 200


async def test_expired_token_is_401(client: httpx.AsyncClient, alice: Account) -> None:
    claims = jwt.decode(alice.access_token, TEST_SECRET, algorithms=["HS256"])
    claims["exp"] = claims["iat"] - 10
    expired = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401


async def test_token_signed_with_another_key_is_401(client: httpx.AsyncClient, alice: Account) -> None:
    claims = jwt.decode(alice.access_token, TEST_SECRET, algorithms=["HS256"])
    forged = jwt.encode(claims, "another-secret-key-that-is-long-enough-000", algorithm="HS256")
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_two_accounts_are_distinct(client: httpx.AsyncClient) -> None:
    first, second = await register(client), await register(client)
    assert first.id != second.id
