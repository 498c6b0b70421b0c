"""Alembic migrations: upgrade from empty to head matches the models exactly, and downgrade undoes it,
on PostgreSQL and on the embedded SQLite default."""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread
import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from mdreader_backend.database import create_engine
from mdreader_backend.migrate import downgrade, upgrade
from mdreader_backend.models import Base
from tests.conftest import asyncpg_url

EXPECTED_TABLES = set(Base.metadata.tables)


async def fresh_postgres_database(base_url: str) -> str:
    """A brand-new database in the throwaway cluster (not the one the other backend tests share)."""
    connection = await asyncpg.connect(base_url)
    try:
        await connection.execute("DROP DATABASE IF EXISTS migrations_check")
        await connection.execute("CREATE DATABASE migrations_check")
    finally:
        await connection.close()
    return asyncpg_url(base_url.rsplit("/", 1)[0] + "/migrations_check")


def _tables_and_drift(connection: Connection) -> tuple[set[str], list[object]]:
    tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
    drift = compare_metadata(
        MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
    )
    return tables, drift


async def _inspect(url: str) -> tuple[set[str], list[object]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_tables_and_drift)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
async def test_upgrade_builds_the_model_schema_and_downgrade_removes_it(
    dialect: str, postgres_base_url: str, tmp_path: Path
) -> None:
    if dialect == "postgresql":
        url = await fresh_postgres_database(postgres_base_url)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    # Alembic's env.py runs its own event loop, so migrations run in a worker thread here.
    await anyio.to_thread.run_sync(upgrade, url)
    tables, drift = await _inspect(url)
    assert tables == EXPECTED_TABLES
    assert drift == [], f"models and migrations disagree: {drift}"

    await anyio.to_thread.run_sync(downgrade, url)
    tables, _ = await _inspect(url)
    assert tables == set()

    await anyio.to_thread.run_sync(upgrade, url)  # and the way back up works again on a downgraded database
    tables, _ = await _inspect(url)
    assert tables == EXPECTED_TABLES
