"""Database engine, sessions and the column types shared by every model.

One code path for PostgreSQL (asyncpg) and the embedded SQLite default (aiosqlite): portable types only,
timestamps stored as naive UTC (the client's wire format), JSON/array columns chosen per dialect.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import JSON, DateTime, MetaData, String, event
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry
from starlette.requests import HTTPConnection

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

StringList = JSON().with_variant(ARRAY(String(50)), "postgresql")
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Naive UTC now: every timestamp column is `timestamp without time zone`, filled in UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=False)}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    connect_args: dict[str, Any] | None = None,
) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys on and a busy timeout so concurrent writers wait.

    `connect_args` go to asyncpg's connect() (Settings.database_connect_args: the IAM token callable)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping (it costs a round trip on every checkout): connections are recycled after 5 minutes
    # instead, well inside server-side idle timeouts (RDS Proxy: 30 min), and one that broke anyway is
    # invalidated by the pool on its first error.
    return create_async_engine(
        url,
        pool_pre_ping=False,
        pool_recycle=300,
        pool_size=pool_size,
        max_overflow=max_overflow,
        connect_args=connect_args or {},
    )


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN for a raw asyncpg connection (e.g. LISTEN) from a SQLAlchemy asyncpg URL.

    SQLAlchemy wants `?ssl=require` (it passes query keys to asyncpg.connect as arguments); a DSN needs
    `sslmode=require` (asyncpg would send an unknown DSN key to the server as a setting)."""
    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    query = [("sslmode" if key == "ssl" else key, value) for key, value in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def is_postgres(engine: AsyncEngine | Engine) -> bool:
    return engine.dialect.name == "postgresql"


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def get_session(connection: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """One session per request; the handler commits what it wants kept, anything else is rolled back."""
    sessionmaker: async_sessionmaker[AsyncSession] = connection.app.state.sessionmaker
    async with sessionmaker() as session:
        yield session
