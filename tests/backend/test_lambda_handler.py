"""The Lambda entry point, driven in-process with real API Gateway HTTP API (payload v2) events."""

from __future__ import annotations

import base64
import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from mdreader_backend.settings import get_settings
from tests.backend.conftest import PASSWORD, TEST_SECRET


def http_api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    base64_body: bool = False,
) -> dict[str, Any]:
    """An event shaped exactly like API Gateway's HTTP API sends to Lambda (payload format 2.0)."""
    raw = b"" if body is None else json.dumps(body).encode()
    all_headers = {
        "accept": "application/json",
        "content-length": str(len(raw)),
        "host": "abc123.execute-api.eu-central-1.amazonaws.com",
        "user-agent": "pytest",
        "x-amzn-trace-id": "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        **({"content-type": "application/json"} if body is not None else {}),
        **(headers or {}),
    }
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-central-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": "$default",
            "time": "10/Mar/2026:05:16:23 +0000",
            "timeEpoch": 1773119783000,
        },
        "body": base64.b64encode(raw).decode() if base64_body else raw.decode(),
        "isBase64Encoded": base64_body,
    }


class FakeContext:
    """The attributes of the LambdaContext object that handlers commonly read."""

    function_name = "mdreader-dev-api"
    memory_limit_in_mb = 1024
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:mdreader-dev-api"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture(scope="module")
def lambda_module(database_url: str) -> Iterator[ModuleType]:
    patch = pytest.MonkeyPatch()
    patch.setenv("DATABASE_URL", database_url)
    patch.setenv("SECRET_KEY", TEST_SECRET)
    patch.setenv("BCRYPT_ROUNDS", "4")
    patch.setenv("ENVIRONMENT", "test")
    get_settings.cache_clear()
    module = importlib.import_module("mdreader_backend.lambda_handler")
    yield importlib.reload(module)
    patch.undo()
    get_settings.cache_clear()


def invoke(module: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = module.handler(event, FakeContext())
    payload = base64.b64decode(response["body"]) if response.get("isBase64Encoded") else response["body"]
    body = (
        json.loads(payload)
        if payload and response["headers"].get("content-type", "").startswith("application/json")
        else payload
    )
    return response["statusCode"], response["headers"], body


def test_health_through_the_http_api(lambda_module: ModuleType) -> None:
    status, headers, body = invoke(lambda_module, http_api_event("GET", "/health"))
    assert status == 200
    assert body["database"] == "up"
    assert headers["x-content-type-options"] == "nosniff"


def test_register_login_and_authenticated_call(lambda_module: ModuleType) -> None:
    name = f"lambda{uuid.uuid4().hex[:8]}"
    email = f"{name}@example.com"
    status, _, body = invoke(
        lambda_module,
        http_api_event(
            "POST", "/api/v1/auth/register", body={"email": email, "username": name, "password": PASSWORD}
        ),
    )
    assert status == 201, body
    # API Gateway base64-encodes bodies it considers binary; the handler must accept both.
    status, _, login = invoke(
        lambda_module,
        http_api_event(
            "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD}, base64_body=True
        ),
    )
    assert status == 200
    auth = {"authorization": f"Bearer {login['access_token']}"}
    status, _, me = invoke(lambda_module, http_api_event("GET", "/api/v1/auth/me", headers=auth))
    assert (status, me["email"]) == (200, email)
    status, _, listing = invoke(
        lambda_module, http_api_event("GET", "/api/v1/workspaces", headers=auth, query="page=1&page_size=5")
    )
    assert (status, listing["page_size"]) == (200, 5)


def test_errors_keep_their_shape(lambda_module: ModuleType) -> None:
    status, headers, body = invoke(lambda_module, http_api_event("GET", "/api/v1/auth/me"))
    assert (status, body) == (401, {"detail": "Not authenticated"})
    assert headers["www-authenticate"] == "Bearer"
    status, _, body = invoke(lambda_module, http_api_event("GET", "/api/v1/nope"))
    assert status == 404


def test_cors_preflight_from_the_tauri_origin(lambda_module: ModuleType) -> None:
    event = http_api_event(
        "OPTIONS",
        "/api/v1/auth/login",
        headers={"origin": "tauri://localhost", "access-control-request-method": "POST"},
    )
    status, headers, _ = invoke(lambda_module, event)
    assert status == 200
    assert headers["access-control-allow-origin"] == "tauri://localhost"


def test_handler_module_imports_neither_the_aws_sdk_nor_redis() -> None:
    """Cold-start cost: boto3 only to resolve secret ARNs, redis only on the first rate-limited request."""
    code = (
        "import sys, mdreader_backend.lambda_handler; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'redis'}))"
    )
    environment = {
        "SECRET_KEY": TEST_SECRET,
        "ENVIRONMENT": "test",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # never connected to here
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment
    )
    assert result.stdout.strip() == "[]"
