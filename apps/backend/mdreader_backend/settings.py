"""Configuration from environment variables (and an optional .env file), with embedded defaults.

Defaults run the whole backend on one machine: a SQLite file, in-process rate limiting, emails to the log.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
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


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{LOCAL_DATA_DIR / 'mdreader.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["local", "development", "test", "staging", "production"] = "local"
    debug: bool = False
    log_level: str = "INFO"
    host: str = "127.0.0.1"
    port: int = 7001

    database_url: str = Field(default_factory=_default_database_url)
    # Connections kept open per process (beyond them, up to the overflow, are opened and closed per use).
    # A Lambda instance serves one request at a time: set 1 / 0 there.
    database_pool_size: int = Field(default=10, ge=1, le=100)
    database_max_overflow: int = Field(default=10, ge=0, le=100)
    redis_url: str | None = None

    # Tokens. SECRET_KEY is required outside local/test/development; there a random one is generated per
    # process unless given (tokens then don't survive a restart, which is the safe default).
    secret_key: SecretStr | None = None
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
    app_public_url: str = "http://localhost:5173"

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
    def _secret_and_production_guards(self) -> Settings:
        deployed = self.environment in {"staging", "production"}
        if deployed and self.debug:
            raise ValueError("DEBUG must be false in staging/production")
        if self.secret_key is None:
            if deployed:
                raise ValueError("SECRET_KEY must be set in staging/production")
            self.secret_key = SecretStr(secrets.token_urlsafe(48))
        if len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters")
        return self

    @property
    def jwt_key(self) -> str:
        assert self.secret_key is not None  # set by the validator
        return self.secret_key.get_secret_value()


@lru_cache
def get_settings() -> Settings:
    return Settings()
