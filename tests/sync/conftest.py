"""Fixtures for the sync service tests: the Node driver of real Hocuspocus providers (tests/sync/node).

`node_driver` is a fresh driver process per test (about 0.2 s to start), so clients, sockets and events
never leak between tests. Without `node` on PATH the tests that use it are skipped; without the npm
dependencies they are skipped locally (run `bash scripts/setup_sync_tools.sh`) and fail in CI (CI=true).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from tests.sync.node_driver import NodeDriver, missing_node_packages, node_binary


def require_node_driver() -> None:
    """Skip (no node) or fail/skip (no node_modules) as described in the module docstring."""
    if node_binary() is None:
        reason = "node is not on PATH: the sync provider tests need Node >= 20"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    missing = missing_node_packages()
    if missing:
        reason = (
            f"tests/sync/node/node_modules lacks {', '.join(missing)}: run `bash scripts/setup_sync_tools.sh`"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)
        print(f"SKIP: {reason}")
        pytest.skip(reason)


@pytest.fixture
async def node_driver() -> AsyncIterator[NodeDriver]:
    require_node_driver()
    driver = NodeDriver()
    await driver.start()
    try:
        yield driver
    finally:
        await driver.stop()


# The sync service harness (real service + real backend on their own database); see harness.py.
from tests.sync.fleet import fleet, private_redis  # noqa: E402, F401
from tests.sync.harness import sync_database_url, sync_stack  # noqa: E402, F401
