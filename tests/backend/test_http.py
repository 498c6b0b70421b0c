"""HTTP conventions: health, OpenAPI, error shapes, security headers, CORS, body limit, rate limiting."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from mdreader_backend.main import create_app
from tests.backend.conftest import PASSWORD, Account, make_settings


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_health_on_both_paths_get_and_head(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/api/v1/health"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {
            "status": "healthy",
            "version": "2.0.0",
            "environment": "test",
            "database": "up",
        }
        assert (await client.head(path)).status_code == 200


async def test_health_is_503_when_the_database_is_down() -> None:
    app = create_app(make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/none"))
    async with client_for(app) as http:
        response = await http.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unhealthy", "database": "down"}


async def test_root_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/")).json()["health"] == "/health"
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert spec["info"]["title"] == "MDReader API"
    assert "/api/v1/documents/{document_id}" in spec["paths"]
    assert "/api/v1/auth/login" in spec["paths"]


async def test_openapi_error_responses_refer_to_the_detail_schema(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert spec["components"]["schemas"]["Detail"]["required"] == ["detail"]
    errors = {
        (path, method, status): response
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith("4") and status != "422"
    }
    assert len(errors) > 150  # every route documents its errors
    assert errors[("/api/v1/auth/me", "get", "401")] == {
        "description": "Unauthorized",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}},
    }
    references = {response["content"]["application/json"]["schema"]["$ref"] for response in errors.values()}
    # {"detail": ...} everywhere; the restore conflict (409) documents its own body.
    assert references == {"#/components/schemas/Detail", "#/components/schemas/RestoreConflict"}
    assert all(reference.rsplit("/", 1)[1] in spec["components"]["schemas"] for reference in references)


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    wrong = await client.delete("/api/v1/auth/login")
    assert (wrong.status_code, wrong.json()) == (405, {"detail": "Method Not Allowed"})


async def test_security_headers_on_every_response(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/health"), await client.get("/api/v1/auth/me")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert response.headers["permissions-policy"] == "geolocation=(), microphone=(), camera=()"
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")


@pytest.mark.parametrize("origin", ["http://localhost:5173", "tauri://localhost", "http://tauri.localhost"])
async def test_cors_allows_the_client_origins(client: httpx.AsyncClient, origin: str) -> None:
    preflight = await client.options(
        "/api/v1/documents/batch",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert preflight.headers["access-control-allow-credentials"] == "true"
    error = await client.get("/api/v1/auth/me", headers={"Origin": origin})
    assert error.status_code == 401
    assert error.headers["access-control-allow-origin"] == origin


async def test_cors_refuses_other_origins(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/api/v1/auth/login",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers


async def test_oversized_bodies_get_413(database_url: str) -> None:
    app = create_app(make_settings(database_url, max_request_body_bytes=2048))
    async with client_for(app) as http:
        declared = await http.post(
            "/api/v1/auth/login", content=b"x" * 4096, headers={"content-type": "application/json"}
        )
        assert declared.status_code == 413
        assert declared.json() == {"detail": "Request body too large (limit 2048 bytes)"}

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(4):
                yield b"y" * 1024

        streamed = await http.post(
            "/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
    await app.state.engine.dispose()


async def test_login_rate_limit_in_process(
    database_url: str, client: httpx.AsyncClient, alice: Account
) -> None:
    app = create_app(
        make_settings(database_url, rate_limit_auth_requests=3, rate_limit_auth_window_seconds=60)
    )
    async with client_for(app) as http:
        body = {"email": alice.email, "password": "wrong-Password1!"}
        statuses = [(await http.post("/api/v1/auth/login", json=body)).status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        limited = await http.post("/api/v1/auth/login", json={"email": alice.email, "password": PASSWORD})
        assert limited.status_code == 429
        assert limited.json() == {"detail": "Too many requests, try again later"}
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # Other endpoints have their own budget.
        assert (await http.post("/api/v1/auth/refresh", json={"refresh_token": "x"})).status_code == 401
    await app.state.engine.dispose()


async def test_rate_limit_is_shared_through_redis(database_url: str, redis_url: str) -> None:
    settings = make_settings(database_url, redis_url=redis_url, rate_limit_auth_requests=2)
    first, second = create_app(settings), create_app(settings)  # two instances, one Redis
    async with client_for(first) as one, client_for(second) as two:
        body = {"email": "nobody@example.com", "password": "x"}
        assert (await one.post("/api/v1/auth/login", json=body)).status_code == 401
        assert (await two.post("/api/v1/auth/login", json=body)).status_code == 401
        assert (await one.post("/api/v1/auth/login", json=body)).status_code == 429
        assert (await two.post("/api/v1/auth/login", json=body)).status_code == 429
    for app in (first, second):
        await app.state.rate_limiter.aclose()
        await app.state.engine.dispose()


async def test_non_json_and_wrong_type_bodies_are_4xx(client: httpx.AsyncClient) -> None:
    garbage = await client.post(
        "/api/v1/auth/login", content=b"\xff\xfe{", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 400
    assert garbage.json() == {"detail": "There was an error parsing the body"}
    truncated = await client.post(
        "/api/v1/auth/login", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert truncated.status_code == 422
    assert truncated.json()["detail"][0]["type"] == "json_invalid"
    wrong_type = await client.post("/api/v1/auth/login", json=["not", "an", "object"])
    assert wrong_type.status_code == 422
    assert isinstance(wrong_type.json()["detail"], list)


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
async def test_unstorable_text_is_a_422(client: httpx.AsyncClient, alice: Account, text: str) -> None:
    import json

    raw = json.dumps({"name": text})  # json.dumps escapes the surrogate as \\ud800, as a client would
    response = await client.post(
        "/api/v1/workspaces", content=raw, headers={**alice.headers, "content-type": "application/json"}
    )
    assert response.status_code == 422
    login = await client.post(
        "/api/v1/auth/login",
        content=json.dumps({"email": alice.email, "password": text}),
        headers={"content-type": "application/json"},
    )
    assert login.status_code == 422


async def test_nul_in_a_query_parameter_is_a_422(client: httpx.AsyncClient, alice: Account) -> None:
    workspace = (await client.post("/api/v1/workspaces", json={"name": "Q"}, headers=alice.headers)).json()
    response = await client.get(
        f"/api/v1/documents/workspace/{workspace['id']}", params={"tags": "a\x00b"}, headers=alice.headers
    )
    assert response.status_code == 422


async def test_far_future_aware_datetime_is_a_422(client: httpx.AsyncClient, alice: Account) -> None:
    workspace = (await client.post("/api/v1/workspaces", json={"name": "T"}, headers=alice.headers)).json()
    response = await client.post(
        f"/api/v1/workspaces/{workspace['id']}/members",
        json={"user_id": alice.id, "role": "viewer", "expires_at": "9999-12-31T23:59:59-05:00"},
        headers=alice.headers,
    )
    assert response.status_code == 422
