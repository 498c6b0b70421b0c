"""One durable writer per process: accepted updates of every document are appended in one transaction
(group commit), and each is acknowledged only after that commit, in arrival order.

Under load many updates share a commit; alone, an update is written at once. A failed commit is retried
(with backoff) before anything newer; nothing is acknowledged before it is stored.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from mdreader_sync.store import DocumentStore, PendingUpdate

logger = logging.getLogger("mdreader_sync.writer")
MAX_BATCH = 1000


@dataclass(frozen=True)
class _Write:
    pending: PendingUpdate | None  # None: nothing to store, only an ack to keep in order
    document_id: uuid.UUID
    on_durable: Callable[[int | None], None]  # receives the log row id (None when nothing was stored)
    on_revoked: Callable[[], None]


class DurableWriter:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._queue: asyncio.Queue[_Write] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="durable-writer")

    async def stop(self) -> None:
        """Waits for everything submitted to be written (the caller bounds the time)."""
        await self._queue.join()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def submit(
        self,
        document_id: uuid.UUID,
        update: bytes | None,
        *,
        provisional_owner: uuid.UUID | None,
        on_durable: Callable[[int | None], None],
        on_revoked: Callable[[], None],
    ) -> None:
        pending = PendingUpdate(document_id, update, provisional_owner) if update else None
        self._queue.put_nowait(_Write(pending, document_id, on_durable, on_revoked))

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < MAX_BATCH:
                batch.append(self._queue.get_nowait())
            ids, revoked = await self._append([write.pending for write in batch if write.pending])
            row_ids = iter(ids)
            for write in batch:
                try:
                    if write.document_id in revoked:
                        write.on_revoked()
                    else:
                        write.on_durable(next(row_ids) if write.pending else None)
                except Exception:
                    logger.exception("document %s: acknowledging a stored update failed", write.document_id)
                finally:
                    self._queue.task_done()

    async def _append(self, pending: list[PendingUpdate]) -> tuple[list[int], set[uuid.UUID]]:
        backoff = 0.1
        while pending:
            try:
                return await self._store.append(pending)
            except Exception:
                logger.exception("storing %d updates failed; retrying in %.1f s", len(pending), backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        return [], set()
