"""Configuration from environment variables (and an optional .env file), with embedded defaults.

Defaults run the whole backend on one machine: a SQLite file, in-process rate limiting, emails to the log.

In AWS the secrets arrive as Secrets Manager ARNs (SECRET_KEY_SECRET_ARN, DATABASE_SECRET_ARN,
REDIS_AUTH_SECRET_ARN) or, on ECS, as values the task definition injects (DATABASE_PASSWORD,
REDIS_AUTH_TOKEN); they are resolved once, when the settings are built (the Lambda init phase), and the
database and Redis URLs are composed from DATABASE_HOST/... and REDIS_HOST/... unless DATABASE_URL /
REDIS_URL are given. boto3 is imported only then. Secrets never appear in logs or reprs: they are
SecretStr, and the composed URLs are excluded from the repr.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_CORS_ORIGINS = [
    "http://localhost:5173",
    "http://localhost:5174",
    "http://127.0.0.1:5173",
    "http://127.0.0.1:5174",
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
]
LOCAL_DATA_DIR = Path(".local")
logger = logging.getLogger("mdreader_backend.settings")
# A token signed with a key we don't know may be signed with a key rotated in after our cold start: the
# keys are fetched again then, at most this often.
KEY_REFRESH_INTERVAL_SECONDS = 300.0

_aws_clients: dict[str, Any] = {}
_aws_lock = threading.Lock()


def aws_client(service: str) -> Any:
    """A boto3 client, made on first use (boto3 costs ~0.3 s to import; never at module import)."""
    with _aws_lock:
        client = _aws_clients.get(service)
        if client is None:
            import boto3

            client = _aws_clients[service] = boto3.client(service)
        return client


def reset_aws_clients() -> None:
    """Forget the cached clients (tests point AWS_ENDPOINT_URL elsewhere)."""
    with _aws_lock:
        _aws_clients.clear()


def read_secret(arn: str, stage: str = "AWSCURRENT") -> str | None:
    """The SecretString of a secret's version in `stage`; None when no version has that stage."""
    client = aws_client("secretsmanager")
    try:
        value = client.get_secret_value(SecretId=arn, VersionStage=stage)
    except client.exceptions.ResourceNotFoundException:
        if stage == "AWSCURRENT":
            raise ValueError(f"secret {arn} not found") from None
        return None
    except client.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise ValueError(f"could not read secret {arn} ({stage}): {code}") from None
    secret = value.get("SecretString")
    if not isinstance(secret, str):
        raise ValueError(f"secret {arn} has no SecretString")
    return secret


def _json_field(arn: str, text: str, field: str) -> str | None:
    """A field of a JSON secret (RDS/ElastiCache style: {"username": ..., "password": ...}), else the text."""
    try:
        document = json.loads(text)
    except ValueError:
        return text if field in {"password", "token"} else None
    if not isinstance(document, dict):
        raise ValueError(f"secret {arn}: expected a JSON object or a plain string")
    value = document.get(field)
    return str(value) if value is not None else None


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{LOCAL_DATA_DIR / 'mdreader.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["local", "development", "test", "staging", "production"] = "local"
    debug: bool = False
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 7001

    # repr=False: a composed URL carries the password.
    database_url: str = Field(default_factory=_default_database_url, repr=False)
    # PostgreSQL in AWS: the URL is composed from these when DATABASE_URL is not given.
    database_host: str | None = None
    database_port: int = Field(default=5432, ge=1, le=65535)
    database_name: str | None = None
    database_user: str | None = None
    database_password: SecretStr | None = None  # ECS injects it from Secrets Manager
    database_secret_arn: str | None = None  # else its JSON "password" (or whole string) is read at start
    database_iam_auth: bool = False  # RDS IAM auth: a fresh auth token is the password of each connection
    database_ssl: Literal["disable", "prefer", "require", "verify-ca", "verify-full"] = "require"
    # Connections kept open per process (beyond them, up to the overflow, are opened and closed per use).
    # A Lambda instance serves one request at a time: set 1 / 0 there.
    database_pool_size: int = Field(default=10, ge=1, le=100)
    database_max_overflow: int = Field(default=10, ge=0, le=100)
    redis_url: str | None = Field(default=None, repr=False)
    # ElastiCache in AWS (TLS always): rediss://:<token>@host:port/0 unless REDIS_URL is given.
    redis_host: str | None = None
    redis_port: int = Field(default=6379, ge=1, le=65535)
    redis_auth_token: SecretStr | None = None  # ECS injects it from Secrets Manager
    redis_auth_secret_arn: str | None = None  # else read from this secret at start

    storage_bucket: str | None = None  # the attachments/snapshots bucket

    # Tokens. SECRET_KEY is required outside local/test/development; there a random one is generated per
    # process unless given (tokens then don't survive a restart, which is the safe default).
    secret_key: SecretStr | None = None
    # In AWS: the secret whose AWSCURRENT version is the key (and whose AWSPREVIOUS version, kept for one
    # rotation, still verifies tokens signed before the last rotation).
    secret_key_secret_arn: str | None = None
    # Tokens signed with this key are still accepted (never used to sign): the key before a rotation.
    secret_key_previous: SecretStr | None = None
    algorithm: Literal["HS256"] = "HS256"
    access_token_expire_minutes: int = Field(default=30, ge=1, le=24 * 60)
    refresh_token_expire_days: int = Field(default=7, ge=1, le=90)
    bcrypt_rounds: int = Field(default=12, ge=4, le=14)

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_CORS_ORIGINS))
    max_request_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)

    rate_limit_auth_requests: int = Field(default=20, ge=1)
    rate_limit_auth_window_seconds: int = Field(default=60, ge=1)

    email_backend: Literal["log", "smtp", "ses"] = "log"
    email_from: str = "no-reply@mdreader.app"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    ses_configuration_set: str | None = None  # SES: every email is sent through this configuration set
    app_public_url: str = "http://localhost:5173"

    _keys_loaded_at: float | None = PrivateAttr(default=None)  # when the keys were read from the secret
    _database_url_composed: bool = PrivateAttr(default=False)  # from DATABASE_HOST/..., not DATABASE_URL

    # Sync service presence: a connection heartbeat older than this no longer counts as "live".
    live_presence_ttl_seconds: int = Field(default=90, ge=5)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a JSON list (the original's format) or a comma-separated string."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _resolve_and_guard(self) -> Settings:
        """Resolves secrets and composed URLs (cold start), then checks the production guards."""
        if self.secret_key is None and self.secret_key_secret_arn:
            self._load_signing_keys()
        if self.database_host and "database_url" not in self.model_fields_set:
            self.database_url = self._compose_database_url()
            self._database_url_composed = True
        if self.redis_host and "redis_url" not in self.model_fields_set:
            self.redis_url = self._compose_redis_url()

        deployed = self.environment in {"staging", "production"}
        if deployed and self.debug:
            raise ValueError("DEBUG must be false in staging/production")
        if self.secret_key is None:
            if deployed:
                raise ValueError("SECRET_KEY must be set in staging/production")
            self.secret_key = SecretStr(secrets.token_urlsafe(48))
        for key in (self.secret_key, self.secret_key_previous):
            if key is not None and len(key.get_secret_value()) < 32:
                raise ValueError("SECRET_KEY must be at least 32 characters")
        return self

    def _load_signing_keys(self) -> None:
        assert self.secret_key_secret_arn
        current = read_secret(self.secret_key_secret_arn)
        previous = read_secret(self.secret_key_secret_arn, "AWSPREVIOUS")
        self.secret_key = SecretStr(current) if current else None
        self.secret_key_previous = SecretStr(previous) if previous and previous != current else None
        self._keys_loaded_at = time.monotonic()

    def refresh_signing_keys(self) -> bool:
        """Re-reads the keys from SECRET_KEY_SECRET_ARN (a token signed with an unknown key may come from an
        instance that started after a rotation); at most every KEY_REFRESH_INTERVAL_SECONDS. True when the
        keys changed."""
        loaded_at = self._keys_loaded_at
        if not self.secret_key_secret_arn or loaded_at is None:
            return False
        if time.monotonic() - loaded_at < KEY_REFRESH_INTERVAL_SECONDS:
            return False
        before = self.jwt_verification_keys
        try:
            self._load_signing_keys()
        except ValueError:
            logger.exception("could not refresh the signing keys")
            self._keys_loaded_at = time.monotonic()
            return False
        changed = self.jwt_verification_keys != before
        if changed:
            logger.info("signing keys refreshed from %s", self.secret_key_secret_arn)
        return changed

    def _compose_database_url(self) -> str:
        if not (self.database_name and self.database_user):
            raise ValueError("DATABASE_HOST needs DATABASE_NAME and DATABASE_USER")
        user = self.database_user
        password: str | None = None
        if self.database_password is not None:
            password = self.database_password.get_secret_value()
        elif self.database_secret_arn and not self.database_iam_auth:
            text = read_secret(self.database_secret_arn)
            assert text is not None
            password = _json_field(self.database_secret_arn, text, "password")
            if not password:
                raise ValueError(f"secret {self.database_secret_arn} has no password")
        elif not self.database_iam_auth:
            raise ValueError(
                "DATABASE_HOST needs DATABASE_PASSWORD, DATABASE_SECRET_ARN or DATABASE_IAM_AUTH"
            )
        credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
        return (
            f"postgresql+asyncpg://{credentials}@{self.database_host}:{self.database_port}/"
            f"{quote(self.database_name, safe='')}?ssl={self.database_ssl}"
        )

    def _compose_redis_url(self) -> str:
        token: str | None = None
        if self.redis_auth_token is not None:
            token = self.redis_auth_token.get_secret_value()
        elif self.redis_auth_secret_arn:
            text = read_secret(self.redis_auth_secret_arn)
            assert text is not None
            token = _json_field(self.redis_auth_secret_arn, text, "token") or _json_field(
                self.redis_auth_secret_arn, text, "password"
            )
        auth = f":{quote(token, safe='')}@" if token else ""
        return f"rediss://{auth}{self.redis_host}:{self.redis_port}/0"

    def database_connect_args(self) -> dict[str, Any]:
        """Extra asyncpg connect() arguments: with IAM auth, a password callable that asyncpg calls for
        every new connection (an RDS auth token is valid for 15 minutes; connections outlive it)."""
        if not (self.database_iam_auth and self._database_url_composed):
            return {}
        assert self.database_host  # checked when the URL was composed
        assert self.database_user
        return {"password": _iam_token_provider(self.database_host, self.database_port, self.database_user)}

    @property
    def jwt_key(self) -> str:
        """The signing key (AWSCURRENT)."""
        assert self.secret_key is not None  # set by the validator
        return self.secret_key.get_secret_value()

    @property
    def jwt_verification_keys(self) -> tuple[str, ...]:
        """Keys a token may be signed with: the current one, then the one before the last rotation."""
        previous = self.secret_key_previous
        return (self.jwt_key,) + ((previous.get_secret_value(),) if previous is not None else ())


def _iam_token_provider(host: str, port: int, user: str) -> Callable[[], str]:
    def token() -> str:
        auth_token: str = aws_client("rds").generate_db_auth_token(
            DBHostname=host, Port=port, DBUsername=user
        )
        return auth_token

    return token


@lru_cache
def get_settings() -> Settings:
    return Settings()
