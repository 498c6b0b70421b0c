"""The sync service process: WebSocket server (any path), GET /health, and the background loops."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import json
import logging
import os
import signal
import time
import uuid
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

from mdreader_backend.database import asyncpg_dsn, create_engine, is_postgres, make_sessionmaker
from mdreader_backend.documents.live import LIVE_UPDATES_CHANNEL
from mdreader_backend.documents.provisional import purge_expired
from mdreader_sync.access import Access, authorize
from mdreader_sync.connection import ClientSocket, CloseEvent
from mdreader_sync.fanout import create_fanout
from mdreader_sync.room import Room
from mdreader_sync.rooms import RoomRegistry
from mdreader_sync.settings import SyncSettings
from mdreader_sync.store import DocumentStore
from mdreader_sync.writer import DurableWriter

logger = logging.getLogger("mdreader_sync")

STALE_LOG_ROWS_AFTER = timedelta(minutes=5)  # merged rows stay readable for peers this long
MAINTENANCE_SECONDS = 60
AWARENESS_SWEEP_SECONDS = 3
#: gc.set_threshold for the serving process (CPython's default: 700, 10, 10); see `run`.
GC_THRESHOLDS = (10_000, 10, 10)
# The log poll re-lists ids from this many polls back: a row committed after a higher id is still seen.
POLL_LOOKBACK = 5


class HocuspocusConnection(ServerConnection):
    """Closes an oversized message with Hocuspocus's reason, "Message Too Big" (websockets says more)."""

    def __init__(self, protocol: ServerProtocol, *args: Any, **kwargs: Any) -> None:
        fail = protocol.fail

        def fail_with_hocuspocus_reason(code: int, reason: str = "") -> None:
            fail(code, "Message Too Big" if code == CloseCode.MESSAGE_TOO_BIG else reason)

        protocol.fail = fail_with_hocuspocus_reason  # type: ignore[method-assign]
        super().__init__(protocol, *args, **kwargs)


class SyncServer:
    def __init__(self, settings: SyncSettings, engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self.engine = engine or create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            connect_args=settings.database_connect_args(),
        )
        self.sessions = make_sessionmaker(self.engine)
        self.store = DocumentStore(self.engine, self.sessions)
        self.writer = DurableWriter(self.store)
        self.fanout = create_fanout(
            settings.redis_url,
            instance_id=settings.sync_instance_id,
            join_timeout=settings.sync_redis_join_timeout_seconds,
            on_resubscribed=self._schedule_repair,
        )
        self.rooms = RoomRegistry(self.store, self.writer, self.fanout, settings)
        self.sockets: set[ClientSocket] = set()
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._repairs: set[asyncio.Task[None]] = set()
        self._listener: Any = None  # the asyncpg connection LISTENing for REST writes

    # --- access --------------------------------------------------------------------------------------

    async def authorize(self, document_name: str, token: str, share_token: str | None) -> Access:
        if not self.settings.sync_require_auth:
            return self.anonymous_access(document_name)
        return await authorize(
            self.sessions,
            self.settings,
            document_name=document_name,
            token=token,
            share_token=share_token,
            provisional_ttl=timedelta(hours=self.settings.sync_provisional_ttl_hours),
        )

    def anonymous_access(self, document_name: str) -> Access:
        """Auth off (benchmarks): every name maps to a stable id, read-write, never provisional."""
        return Access(
            document_id=uuid.uuid5(uuid.NAMESPACE_URL, document_name),
            read_only=False,
            user_id=None,
            provisional=False,
        )

    # --- WebSocket and HTTP ----------------------------------------------------------------------------

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None  # any path upgrades; the document name comes from each frame
        body = json.dumps(self.health())
        response = connection.respond(HTTPStatus.OK, body + "\n")
        response.headers["Content-Type"] = "application/json"
        return response

    def health(self) -> dict[str, Any]:
        """200 either way (the load balancer must not drain every task when Redis is down): a task
        without Redis still serves its documents, and its peers still reach it through the log."""
        redis = "disabled" if not self.fanout.enabled else "ok" if self.fanout.healthy else "unavailable"
        return {
            "status": "degraded" if redis == "unavailable" else "ok",
            "instance": self.settings.sync_instance_id,
            "redis": redis,
            "documents": len(self.rooms.rooms),
            "connections": len(self.sockets),
        }

    async def _handle(self, websocket: ServerConnection) -> None:
        query = parse_qs(urlsplit(websocket.request.path if websocket.request else "/").query)
        share_tokens = query.get("share_token") or []
        client = ClientSocket(self, websocket, share_token=share_tokens[0] if share_tokens else None)
        self.sockets.add(client)
        try:
            await client.serve()
        finally:
            self.sockets.discard(client)

    async def start(self) -> None:
        self.writer.start()
        await self.fanout.start()
        self._server = await serve(
            self._handle,
            self.settings.sync_host,
            self.settings.sync_port,
            process_request=self._process_request,
            max_size=self.settings.sync_max_message_bytes,
            ping_interval=None,  # our own keepalive closes with the Hocuspocus codes
            ping_timeout=None,
            compression=None,
            create_connection=HocuspocusConnection,
        )
        self._tasks = [
            asyncio.create_task(self._poll_log(), name="poll-log"),
            asyncio.create_task(self._presence(), name="presence"),
            asyncio.create_task(self._maintenance(), name="maintenance"),
            asyncio.create_task(self._sweep_awareness(), name="awareness-sweep"),
        ]
        if self.settings.sync_metrics_interval_seconds:
            self._tasks.append(asyncio.create_task(self._emit_metrics(), name="metrics"))
        if is_postgres(self.engine):
            await self._listen()
        logger.info(
            "sync service %s listening on %s:%s",
            self.settings.sync_instance_id,
            self.settings.sync_host,
            self.port,
        )

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(next(iter(self._server.sockets)).getsockname()[1])

    async def stop(self) -> None:
        """SIGTERM: stop accepting, send clients elsewhere (4205), flush every document, then exit."""
        if self._server is not None:
            self._server.close(close_connections=False)
        for client in list(self.sockets):
            client.close(*CloseEvent.RESET)
        try:
            async with asyncio.timeout(self.settings.sync_shutdown_seconds):
                await self.rooms.close_all()
                await self.writer.stop()
        except TimeoutError:
            logger.error("shutdown: documents not flushed within %ss", self.settings.sync_shutdown_seconds)
        for task in [*self._tasks, *self._repairs]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._repairs, return_exceptions=True)
        await self.fanout.stop()
        if self._server is not None:
            await self._server.wait_closed()
        with contextlib.suppress(Exception):
            await self.store.forget_instance(self.settings.sync_instance_id)
        if self._listener is not None:
            await self._listener.close()
        await self.store.close()
        await self.engine.dispose()

    # --- background loops ----------------------------------------------------------------------------

    async def _catch_up(self, rooms: list[Room], *, after_id: int = 0) -> int:
        """Applies log rows the rooms have not seen (REST writes, overwrite-restores, other instances)."""
        unseen, highest = await self.store.unseen(
            {room.document_id: room.seen_log_ids for room in rooms}, after_id=after_id
        )
        for room in rooms:
            if room.document_id in unseen:
                room.apply_logged(unseen[room.document_id])
        return highest

    async def _poll_log(self) -> None:
        """Every period, the log rows the rooms have not seen: REST writes, other instances' updates whose
        pub/sub message was lost (or, without Redis, all of them; compacted rows stay listed for a while).
        Ids are re-listed from POLL_LOOKBACK polls back, so a row committing after a higher id is still
        found. A stall longer than half the retention of merged rows (they may be deleted unseen)
        triggers a full repair."""
        interval = self.settings.sync_poll_interval_seconds
        stall = max(3 * interval, STALE_LOG_ROWS_AFTER.total_seconds() / 2)
        cursors = collections.deque([0], maxlen=POLL_LOOKBACK)
        last = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            rooms = list(self.rooms.rooms.values())
            if (gap := time.monotonic() - last) > stall:
                logger.warning("log poll stalled for %.1f s; re-reading open documents", gap)
                self._schedule_repair()
            try:
                cursors.append(max(await self._catch_up(rooms, after_id=cursors[0]), cursors[-1]))
                last = time.monotonic()
                for room in rooms:
                    room.forget_seen_up_to(cursors[0])
            except Exception:
                logger.exception("polling the update log failed")

    def _schedule_repair(self) -> None:
        """Messages may have been lost (Redis reconnected, the loop stalled): re-read every open document
        from the store and ask the peers for what they hold."""
        task = asyncio.get_running_loop().create_task(self._repair(list(self.rooms.rooms.values())))
        self._repairs.add(task)
        task.add_done_callback(self._repairs.discard)

    async def _repair(self, rooms: list[Room]) -> None:
        for room in rooms:
            try:
                room.resync(await self.store.load(room.document_id))
            except Exception:
                logger.exception("document %s: repair from the store failed", room.name)
        await asyncio.gather(*(self.fanout.request_state(room) for room in rooms), return_exceptions=True)

    async def _listen(self) -> None:
        """PostgreSQL NOTIFY from REST writes: catch up at once instead of at the next poll."""
        import asyncpg

        try:
            connection = await asyncpg.connect(
                asyncpg_dsn(self.settings.database_url), **self.settings.database_connect_args()
            )
        except Exception:
            logger.exception("LISTEN connection failed; relying on polling")
            return

        def notified(_connection: object, _pid: int, _channel: str, payload: str) -> None:
            with contextlib.suppress(ValueError):
                document_id = uuid.UUID(payload)
                rooms = [room for room in self.rooms.rooms.values() if room.document_id == document_id]
                if rooms:
                    asyncio.create_task(self._catch_up(rooms))  # noqa: RUF006

        await connection.add_listener(LIVE_UPDATES_CHANNEL, notified)
        self._listener = connection

    async def _presence(self) -> None:
        """Heartbeats this instance's connection counts; at once after a change, else every period."""
        while True:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for loses a cancellation that arrives as the
            # event is set (the very moment stop() closes the clients), and the loop would never end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.sync_presence_interval_seconds):
                    await self.rooms.changed.wait()
            self.rooms.changed.clear()
            try:
                await self.store.heartbeat(self.settings.sync_instance_id, self.rooms.connection_counts())
            except Exception:
                logger.exception("presence heartbeat failed")

    async def _maintenance(self) -> None:
        while True:
            await asyncio.sleep(MAINTENANCE_SECONDS)
            try:
                open_ids = {room.document_id for room in self.rooms.rooms.values()}
                async with self.sessions() as session:
                    purged = await purge_expired(session, keep=open_ids)
                if purged:
                    logger.info("purged %d expired provisional documents", purged)
                await self.store.drop_stale_rows(older_than=STALE_LOG_ROWS_AFTER)
            except Exception:
                logger.exception("maintenance failed")

    async def _sweep_awareness(self) -> None:
        while True:
            await asyncio.sleep(AWARENESS_SWEEP_SECONDS)
            now_ms = int(time.time() * 1000)
            for room in list(self.rooms.rooms.values()):
                room.sweep_awareness(now_ms)

    async def _emit_metrics(self) -> None:
        """CloudWatch Embedded Metric Format on stdout, read by the awslogs driver: the sync layer's
        autoscaling policy and alarms use these names (modules/sync.py)."""
        while True:
            await asyncio.sleep(self.settings.sync_metrics_interval_seconds)
            print(json.dumps(self.metrics()), flush=True)

    def metrics(self) -> dict[str, Any]:
        return {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.settings.sync_metrics_namespace,
                        "Dimensions": [["Environment"]],
                        "Metrics": [
                            {"Name": "Connections", "Unit": "Count"},
                            {"Name": "Documents", "Unit": "Count"},
                        ],
                    }
                ],
            },
            "Environment": self.settings.environment,
            "Connections": len(self.sockets),
            "Documents": len(self.rooms.rooms),
            "instance": self.settings.sync_instance_id,
            "redis": self.health()["redis"],
        }


async def run(settings: SyncSettings, *, print_ready: bool = False) -> None:
    server = SyncServer(settings)
    await server.start()
    # Some 130,000 objects made while starting (modules, classes, SQLAlchemy and websockets state) live as
    # long as the process: out of the collector's reach, a full collection walks only what serving made.
    # Before, each full collection (every ~10 s at S7's 500 edits/s) stopped the loop for 70-200 ms, and
    # that was S7's p99 (214 ms before, 20 ms after, same run). Serving allocates fast (frames, updates,
    # rows) and frees by reference counting; collecting young objects every 10,000 allocations instead of
    # 700 took S1's p99 from 9.5 to 4.5 ms and S3's (2000 edits/s) from ~40 to ~23 ms, at no memory cost.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    if print_ready:
        print(json.dumps({"port": server.port, "pid": os.getpid(), "name": "mdreader-sync"}), flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    logger.info("shutting down: closing clients and flushing documents")
    await server.stop()
