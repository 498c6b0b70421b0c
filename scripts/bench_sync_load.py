"""How long a 1 MB document takes from PostgreSQL to "synced" in the real provider (v3).

Builds a document of about 1 MB of Yjs state (a ProseMirror-like XmlFragment "content"), stores it through
the REST backend, starts the sync service cold, and times connect -> synced for a fresh provider.

    .venv/bin/python scripts/bench_sync_load.py [--size-mb 1] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import time
from pathlib import Path

import httpx
import pycrdt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mdreader_backend.main import create_app  # noqa: E402
from mdreader_backend.migrate import upgrade  # noqa: E402
from tests.backend.conftest import create_document, create_workspace, make_settings, register  # noqa: E402
from tests.servers import postgres_server  # noqa: E402
from tests.sync.harness import SyncProcess  # noqa: E402
from tests.sync.node_driver import NodeDriver  # noqa: E402


def big_document(size_bytes: int) -> bytes:
    doc = pycrdt.Doc()
    fragment = doc.get("content", type=pycrdt.XmlFragment)
    paragraph = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 4
    while len(doc.get_update()) < size_bytes:
        for _ in range(200):
            fragment.children.append(pycrdt.XmlElement("paragraph", {}, [pycrdt.XmlText(paragraph)]))
    return doc.get_update()


async def measure(database_url: str, size_mb: float, runs: int) -> None:
    app = create_app(make_settings(database_url))
    state = big_document(int(size_mb * 1024 * 1024))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
        owner = await register(http, "loadbench")
        workspace = await create_workspace(http, owner)
        document = await create_document(
            http, owner, workspace["id"], title="Big", yjs_state_b64=base64.b64encode(state).decode()
        )
    timings = []
    for _ in range(runs):
        service = SyncProcess(database_url)
        await service.start()
        try:
            async with NodeDriver() as driver:
                started = time.perf_counter()
                await driver.call(
                    "connect", client="c", url=service.url, document=document["id"], token=owner.access_token
                )
                await driver.call("waitFor", client="c", condition="synced", timeoutMs=30000)
                timings.append(time.perf_counter() - started)
        finally:
            await service.kill()
    await app.state.engine.dispose()
    print(
        f"{len(state) / 1024 / 1024:.2f} MB document, cold service: connect -> synced "
        f"median {statistics.median(timings) * 1000:.0f} ms, min {min(timings) * 1000:.0f} ms, "
        f"max {max(timings) * 1000:.0f} ms ({runs} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with postgres_server() as base:
        url = base.replace("postgresql://", "postgresql+asyncpg://") + "/postgres"
        upgrade(url)
        asyncio.run(measure(url, args.size_mb, args.runs))


if __name__ == "__main__":
    main()
