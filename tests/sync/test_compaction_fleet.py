"""Compaction across the fleet: two instances' stores (their own engines) compacting one document while
both append, with some appends committing late (a writer transaction still open while a higher id
commits), in many random interleavings; no update is ever lost (nor left out of the compacted state)."""

from __future__ import annotations

import asyncio
import random
import uuid

import pycrdt
from sqlalchemy import insert

from mdreader_backend.database import create_engine, make_sessionmaker, utcnow
from mdreader_backend.documents.models import DocumentUpdateLog
from mdreader_sync.store import DocumentStore
from mdreader_sync.writer import DurableWriter
from tests.sync.harness import SyncStack, stored_doc, text_update

ROUNDS = 40


async def test_concurrent_compactions_on_two_instances_never_lose_an_update(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    document_id = uuid.UUID(name)
    engines = [create_engine(sync_stack.database_url, pool_size=4, max_overflow=0) for _ in range(2)]
    stores = [DocumentStore(engine, make_sessionmaker(engine)) for engine in engines]
    writers = [DurableWriter(store) for store in stores]  # one per instance, as in the service
    for writer in writers:
        writer.start()
    rng = random.Random(8)
    markers: list[str] = []

    async def append(writer: DurableWriter, marker: str) -> None:
        durable = asyncio.get_running_loop().create_future()
        writer.submit(
            document_id,
            text_update(marker),
            provisional_owner=None,
            on_durable=lambda row_id: durable.set_result(row_id),
            on_revoked=lambda: durable.set_exception(AssertionError("revoked")),
        )
        assert await durable is not None

    async def append_late(engine_index: int, marker: str) -> None:
        """Inserted, then committed after a pause: ids of later rows may already be compacted."""
        async with make_sessionmaker(engines[engine_index])() as session, session.begin():
            await session.execute(
                insert(DocumentUpdateLog).values(
                    document_id=document_id, update=text_update(marker), source="sync", created_at=utcnow()
                )
            )
            await asyncio.sleep(rng.uniform(0, 0.02))

    async def compact(store: DocumentStore) -> None:
        await asyncio.sleep(rng.uniform(0, 0.01))
        await store.compact(document_id)

    try:
        for round_index in range(ROUNDS):
            operations = []
            for step in range(6):
                marker = f"<{round_index}.{step}>"
                markers.append(marker)
                if rng.random() < 0.4:
                    operations.append(append_late(rng.randrange(2), marker))
                else:
                    operations.append(append(writers[rng.randrange(2)], marker))
            operations += [compact(stores[0]), compact(stores[1])]
            rng.shuffle(operations)
            await asyncio.gather(*operations)
        await stores[0].compact(document_id)
    finally:
        for writer in writers:
            await writer.stop()
        for store in stores:
            await store.close()
        for engine in engines:
            await engine.dispose()

    text = str((await stored_doc(sync_stack, name, alice.headers)).get("t", type=pycrdt.Text))
    lost = [marker for marker in markers if marker not in text]
    assert lost == [], f"{len(lost)} of {len(markers)} updates lost: {lost[:5]}"
