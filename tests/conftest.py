"""Shared test harness: real PostgreSQL and Redis servers, started once per test session.

MDREADER_TEST_DATABASE_URL (a postgresql:// URL of an empty database) and MDREADER_TEST_REDIS_URL use
existing servers instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.servers import postgres_server, redis_server


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """A postgresql:// URL (no driver suffix) of a database the tests may create schemas in."""
    given = os.environ.get("MDREADER_TEST_DATABASE_URL")
    if given:
        yield given
        return
    with postgres_server() as base:
        yield f"{base}/postgres"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    given = os.environ.get("MDREADER_TEST_REDIS_URL")
    if given:
        yield given
        return
    with redis_server() as url:
        yield url


def asyncpg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)
