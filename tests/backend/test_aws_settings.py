"""Settings in AWS: secrets from Secrets Manager ARNs (moto server on loopback), composed database and
Redis URLs, RDS IAM auth tokens, and signing-key rotation (the rotation Lambda and the previous key)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from pydantic import ValidationError
from sqlalchemy import text

from mdreader_backend import secret_rotation
from mdreader_backend import settings as settings_module
from mdreader_backend.auth.tokens import InvalidTokenError, issue_token, verify_token
from mdreader_backend.database import asyncpg_dsn, create_engine
from mdreader_backend.settings import Settings
from tests.backend.aws import aws_client, moto_endpoint  # noqa: F401 - fixture

KEY_1 = "first-signing-key-0123456789abcdefghijklmnop"
KEY_2 = "second-signing-key-0123456789abcdefghijklmno"


@pytest.fixture
def secrets(moto_endpoint: str) -> Iterator[Any]:  # noqa: F811
    settings_module.reset_aws_clients()
    secret_rotation._client = None
    yield aws_client("secretsmanager", moto_endpoint)
    settings_module.reset_aws_clients()
    secret_rotation._client = None


def new_secret(client: Any, value: str) -> str:
    arn: str = client.create_secret(Name=f"mdreader/test/{uuid.uuid4()}", SecretString=value)["ARN"]
    return arn


def deployed(**values: Any) -> Settings:
    """Settings as the api Lambda builds them in production (no DATABASE_URL/SECRET_KEY values)."""
    return Settings(_env_file=None, environment="production", **values)  # type: ignore[call-arg]


def token_for(settings: Settings) -> str:
    token, _ = issue_token(settings, user_id=uuid.uuid4(), session_id=uuid.uuid4(), token_type="access")
    return token


def test_the_signing_key_comes_from_its_secret(secrets: Any) -> None:
    arn = new_secret(secrets, KEY_1)
    settings = deployed(secret_key_secret_arn=arn)
    assert settings.jwt_key == KEY_1
    assert settings.jwt_verification_keys == (KEY_1,)
    assert KEY_1 not in repr(settings)
    assert KEY_1 not in str(settings.model_dump())


def test_production_guards_still_hold(secrets: Any) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        deployed()
    with pytest.raises(ValidationError, match="not found"):
        deployed(secret_key_secret_arn="arn:aws:secretsmanager:eu-central-1:123456789012:secret:none-AbCdEf")
    with pytest.raises(ValidationError, match="at least 32"):
        deployed(secret_key_secret_arn=new_secret(secrets, "short"))


def test_tokens_signed_with_the_previous_key_stay_valid_for_one_rotation(secrets: Any) -> None:
    arn = new_secret(secrets, KEY_1)
    before = deployed(secret_key_secret_arn=arn)
    old_token = token_for(before)
    secrets.put_secret_value(SecretId=arn, SecretString=KEY_2)  # AWSCURRENT -> KEY_2, AWSPREVIOUS -> KEY_1
    after = deployed(secret_key_secret_arn=arn)
    assert after.jwt_verification_keys == (KEY_2, KEY_1)
    assert verify_token(after, old_token, expected_type="access")
    new_token = token_for(after)
    assert jwt.decode(new_token, KEY_2, algorithms=["HS256"])["type"] == "access"  # signed with the new key
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(new_token, KEY_1, algorithms=["HS256"])
    # A second rotation retires KEY_1.
    secrets.put_secret_value(SecretId=arn, SecretString="third-signing-key-0123456789abcdefghijklmno")
    later = deployed(secret_key_secret_arn=arn)
    with pytest.raises(InvalidTokenError):
        verify_token(later, old_token, expected_type="access")
    assert verify_token(later, new_token, expected_type="access")


def test_an_instance_from_before_a_rotation_learns_the_new_key(
    secrets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = new_secret(secrets, KEY_1)
    warm = deployed(secret_key_secret_arn=arn)
    secrets.put_secret_value(SecretId=arn, SecretString=KEY_2)
    fresh_token = token_for(deployed(secret_key_secret_arn=arn))
    with pytest.raises(InvalidTokenError):  # the keys were read less than the refresh interval ago
        verify_token(warm, fresh_token, expected_type="access")
    monkeypatch.setattr(settings_module, "KEY_REFRESH_INTERVAL_SECONDS", 0.0)
    assert verify_token(warm, fresh_token, expected_type="access")
    assert warm.jwt_key == KEY_2  # and signs with it from now on
    with pytest.raises(InvalidTokenError):  # a key nobody has is still refused
        verify_token(warm, jwt.encode({"sub": "x"}, "x" * 40, algorithm="HS256"), expected_type="access")


def host_and_port(url: str) -> tuple[str, str]:
    """postgresql://user@host:port/... -> (host, port)."""
    host, port = url.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)
    return host, port


def test_the_database_url_is_composed_from_host_and_secret(secrets: Any, postgres_base_url: str) -> None:
    host, port = host_and_port(postgres_base_url)
    password = "p@ss:/word?#%"  # trust auth accepts any password; the point is that it survives quoting
    arn = new_secret(secrets, f'{{"username": "postgres", "password": "{password}", "engine": "postgres"}}')
    settings = deployed(
        secret_key=KEY_1,
        database_host=host,
        database_port=int(port),
        database_name="postgres",
        database_user="postgres",
        database_secret_arn=arn,
        database_ssl="disable",
    )
    assert settings.database_url == (
        f"postgresql+asyncpg://postgres:p%40ss%3A%2Fword%3F%23%25@{host}:{port}/postgres?ssl=disable"
    )
    assert password not in repr(settings)
    assert "p%40ss" not in repr(settings)
    assert settings.database_connect_args() == {}
    _select_one(settings)
    # The raw asyncpg connection the sync service LISTENs on takes the same URL as a DSN.
    dsn = asyncpg_dsn(settings.database_url)
    assert dsn.endswith("/postgres?sslmode=disable")

    async def listen_connection() -> None:
        import asyncpg

        connection = await asyncpg.connect(dsn)
        try:
            assert await connection.fetchval("SELECT current_user") == "postgres"
        finally:
            await connection.close()

    import asyncio

    asyncio.run(listen_connection())


def test_rds_iam_auth_passes_a_fresh_token_per_connection(secrets: Any, postgres_base_url: str) -> None:
    host, port = host_and_port(postgres_base_url)
    settings = deployed(
        secret_key=KEY_1,
        database_host=host,
        database_port=int(port),
        database_name="postgres",
        database_user="postgres",
        database_iam_auth=True,
        database_secret_arn="arn:aws:secretsmanager:eu-central-1:123456789012:secret:unused-AbCdEf",
        database_ssl="prefer",
    )
    assert settings.database_url == f"postgresql+asyncpg://postgres@{host}:{port}/postgres?ssl=prefer"
    password = settings.database_connect_args()["password"]
    token = password()
    assert token.startswith(f"{host}:{port}/?")
    assert "Action=connect" in token
    assert "DBUser=postgres" in token
    assert "X-Amz-Signature=" in token
    assert "X-Amz-Expires=900" in token
    _select_one(settings)  # asyncpg calls the provider when it opens the connection


def _select_one(settings: Settings) -> None:
    import asyncio

    async def run() -> None:
        engine = create_engine(settings.database_url, connect_args=settings.database_connect_args())
        try:
            async with engine.connect() as connection:
                assert (await connection.execute(text("SELECT 1"))).scalar() == 1
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_the_redis_url_is_composed_with_tls_and_the_auth_token(secrets: Any) -> None:
    arn = new_secret(secrets, "tok/en+with:odd@chars-0123456789")
    settings = deployed(secret_key=KEY_1, redis_host="cache.example.internal", redis_auth_secret_arn=arn)
    assert (
        settings.redis_url
        == "rediss://:tok%2Fen%2Bwith%3Aodd%40chars-0123456789@cache.example.internal:6379/0"
    )
    assert "tok/en" not in repr(settings)
    assert "tok%2Fen" not in repr(settings)
    injected = deployed(secret_key=KEY_1, redis_host="h", redis_port=6380, redis_auth_token="plain-token")
    assert injected.redis_url == "rediss://:plain-token@h:6380/0"
    given = deployed(secret_key=KEY_1, redis_host="h", redis_url="redis://127.0.0.1:1/0")
    assert given.redis_url == "redis://127.0.0.1:1/0"


def test_database_host_without_credentials_is_refused() -> None:
    with pytest.raises(ValidationError, match="DATABASE_PASSWORD, DATABASE_SECRET_ARN or DATABASE_IAM_AUTH"):
        deployed(secret_key=KEY_1, database_host="db", database_name="n", database_user="u")
    with pytest.raises(ValidationError, match="DATABASE_NAME and DATABASE_USER"):
        deployed(secret_key=KEY_1, database_host="db")


# The rotation Lambda, step by step as Secrets Manager invokes it.


def _rotation_ready_secret(client: Any) -> str:
    arn = new_secret(client, KEY_1)
    # Enables rotation. moto, with no rotation Lambda to call, moves AWSCURRENT to an empty version: put
    # the key back as the current version (the state Secrets Manager starts a rotation from).
    client.rotate_secret(SecretId=arn, RotationRules={"AutomaticallyAfterDays": 30})
    client.put_secret_value(SecretId=arn, SecretString=KEY_1)
    assert client.get_secret_value(SecretId=arn)["SecretString"] == KEY_1
    return arn


def _step(arn: str, token: str, step: str) -> None:
    secret_rotation.handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, None)


def test_the_rotation_lambda_rotates_the_signing_key(secrets: Any) -> None:
    arn = _rotation_ready_secret(secrets)
    old_token = token_for(deployed(secret_key_secret_arn=arn))
    version = str(uuid.uuid4())
    _step(arn, version, "createSecret")
    pending = secrets.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")
    assert pending["VersionId"] == version
    assert len(pending["SecretString"]) >= 64
    _step(arn, version, "createSecret")  # a retried step keeps the pending key
    assert (
        secrets.get_secret_value(SecretId=arn, VersionStage="AWSPENDING")["SecretString"]
        == pending["SecretString"]
    )
    assert secrets.get_secret_value(SecretId=arn)["SecretString"] == KEY_1  # not current yet
    _step(arn, version, "setSecret")
    _step(arn, version, "testSecret")
    _step(arn, version, "finishSecret")
    current = secrets.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
    assert current["VersionId"] == version
    assert current["SecretString"] == pending["SecretString"]
    assert secrets.get_secret_value(SecretId=arn, VersionStage="AWSPREVIOUS")["SecretString"] == KEY_1
    _step(arn, version, "finishSecret")  # retried: already current, nothing to do

    rotated = deployed(secret_key_secret_arn=arn)
    assert rotated.jwt_key == pending["SecretString"]
    assert verify_token(rotated, old_token, expected_type="access")  # issued before the rotation


def test_the_rotation_lambda_refuses_what_it_must_not_do(secrets: Any) -> None:
    not_enabled = new_secret(secrets, KEY_1)
    with pytest.raises(secret_rotation.RotationError, match="not enabled"):
        _step(not_enabled, str(uuid.uuid4()), "createSecret")
    arn = _rotation_ready_secret(secrets)
    with pytest.raises(secret_rotation.RotationError, match="before createSecret"):
        _step(arn, str(uuid.uuid4()), "finishSecret")
    with pytest.raises(secret_rotation.RotationError, match="unknown rotation step"):
        _step(arn, str(uuid.uuid4()), "dropSecret")
    with pytest.raises(secret_rotation.RotationError, match="needs SecretId"):
        secret_rotation.handler({"Step": "createSecret"}, None)
    # testSecret fails on a pending key that is too short to sign with.
    version = str(uuid.uuid4())
    secrets.put_secret_value(
        SecretId=arn, ClientRequestToken=version, SecretString="short", VersionStages=["AWSPENDING"]
    )
    with pytest.raises(secret_rotation.RotationError, match="shorter than 32"):
        _step(arn, version, "testSecret")
    assert secrets.get_secret_value(SecretId=arn)["SecretString"] == KEY_1


async def test_ses_emails_go_through_the_configuration_set(moto_endpoint: str) -> None:  # noqa: F811
    import boto3

    from mdreader_backend.email import Email, SesEmailSender

    aws_client("sesv2", moto_endpoint).create_email_identity(EmailIdentity="no-reply@mdreader.app")
    sent: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    # Observes the request boto3 builds (moto's SESv2 accepts the parameter but keeps no record of it).
    session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
    assert session is not None
    session.events.register("provide-client-params.sesv2.SendEmail", capture)
    try:
        sender = SesEmailSender(deployed(secret_key=KEY_1, ses_configuration_set="mdreader-tls-required"))
        await sender.send(Email(to="someone@example.com", subject="Hi", text="Hello"))
    finally:
        session.events.unregister("provide-client-params.sesv2.SendEmail", capture)
    assert sent[0]["ConfigurationSetName"] == "mdreader-tls-required"
    assert sent[0]["FromEmailAddress"] == "no-reply@mdreader.app"


def _pg_host_port(postgres_base_url: str) -> tuple[str, str]:
    host, port = postgres_base_url.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)
    return host, port


async def test_the_api_lambda_environment_builds_a_working_app(
    secrets: Any, postgres_base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exactly the variables the api Lambda gets (infrastructure issue 5), plus DATABASE_SSL=disable for
    the test server, which has no TLS."""
    import httpx

    from mdreader_backend.main import create_app

    host, port = _pg_host_port(postgres_base_url)
    db_secret = new_secret(secrets, '{"username": "postgres", "password": "from-the-secret"}')
    environment = {
        "ENVIRONMENT": "production",
        "APP_PUBLIC_URL": "https://app.example.com",
        "CORS_ORIGINS": "https://app.example.com,tauri://localhost",
        "DATABASE_HOST": host,
        "DATABASE_PORT": port,
        "DATABASE_NAME": "postgres",
        "DATABASE_USER": "postgres",
        "DATABASE_IAM_AUTH": "false",
        "DATABASE_SECRET_ARN": db_secret,
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": "0",
        "DATABASE_SSL": "disable",
        "REDIS_HOST": "cache.example.internal",
        "REDIS_AUTH_SECRET_ARN": new_secret(secrets, "redis-auth-token-0123456789"),
        "SECRET_KEY_SECRET_ARN": new_secret(secrets, KEY_1),
        "STORAGE_BUCKET": "mdreader-prod-attachments",
        "EMAIL_BACKEND": "ses",
        "EMAIL_FROM": "no-reply@example.com",
        "SES_CONFIGURATION_SET": "mdreader-prod",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.jwt_key == KEY_1
    assert settings.database_url.startswith("postgresql+asyncpg://postgres:from-the-secret@")
    assert settings.redis_url == "rediss://:redis-auth-token-0123456789@cache.example.internal:6379/0"
    assert (settings.storage_bucket, settings.ses_configuration_set) == (
        "mdreader-prod-attachments",
        "mdreader-prod",
    )
    assert settings.cors_origins == ["https://app.example.com", "tauri://localhost"]
    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://api.example.com") as client:
            response = await client.get("/health")
        assert response.status_code == 200, response.text
    finally:
        await app.state.engine.dispose()
        await app.state.rate_limiter.aclose()


def test_the_sync_task_environment(secrets: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ECS task: plain DATABASE_*/REDIS_HOST and the two secrets ECS injects as values."""
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "ENVIRONMENT": "staging",
        "DATABASE_HOST": "db.internal",
        "DATABASE_NAME": "mdreader",
        "DATABASE_USER": "mdreader_sync",
        "DATABASE_PASSWORD": "injected/by:ecs",
        "REDIS_HOST": "cache.internal",
        "REDIS_AUTH_TOKEN": "injected-token",
        "SECRET_KEY_SECRET_ARN": new_secret(secrets, KEY_1),
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == (
        "postgresql+asyncpg://mdreader_sync:injected%2Fby%3Aecs@db.internal:5432/mdreader?ssl=require"
    )
    assert asyncpg_dsn(settings.database_url).endswith("/mdreader?sslmode=require")
    assert settings.redis_url == "rediss://:injected-token@cache.internal:6379/0"
    assert "injected" not in repr(settings)
