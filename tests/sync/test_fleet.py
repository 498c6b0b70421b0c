"""Two sync instances joined by Redis (in-process, real PostgreSQL and Redis): updates, awareness and
stateless frames cross with one PUBLISH per update, a late joiner gets everything (also what a peer holds
but has not stored yet), lost messages are repaired, and Redis outages degrade without losing anything."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sys
import uuid

import asyncpg
import httpx
import pycrdt
import pytest

from mdreader_sync import protocol
from mdreader_sync.lib0 import Encoder
from mdreader_sync.logs import JsonFormatter
from mdreader_sync.protocol import MessageType
from mdreader_sync.server import SyncServer
from tests.sync.fleet import RedisProcess, Replica, awareness_states, url_of, wait_until
from tests.sync.harness import RawClient, SyncStack, auth_frame, stored_doc, sync_settings
from tests.sync.test_presence_and_fuzz import overwrite_restore


def instances(stack: SyncStack) -> tuple[SyncServer, SyncServer]:
    return stack.server, stack.extra_servers[0]


async def test_updates_cross_instances_with_one_publish_each(
    fleet: SyncStack, private_redis: RedisProcess
) -> None:
    a, b = instances(fleet)
    alice = await fleet.user("alice")
    name = (await fleet.document(alice))["id"]
    writer = await Replica.open(url_of(a), name, alice.access_token)
    readers = [await Replica.open(url_of(b), name, alice.access_token) for _ in range(2)]
    await asyncio.sleep(0.3)  # joins (state requests and replies) are done
    before = private_redis.publishes()
    for index in range(50):
        await writer.type(f"<{index}>")
    expected = "".join(f"<{index}>" for index in range(50))
    await wait_until(lambda: writer.acks == 50, what="acks")
    for reader in readers:
        await wait_until(lambda reader=reader: reader.content() == expected, what="convergence on B")
    assert private_redis.publishes() - before == 50  # one message per update, whatever the fleet size
    for replica in (writer, *readers):
        await replica.close()


async def test_awareness_and_stateless_cross_and_removal_follows_disconnect(fleet: SyncStack) -> None:
    a, b = instances(fleet)
    alice = await fleet.user("alice")
    name = (await fleet.document(alice))["id"]
    on_a = await Replica.open(url_of(a), name, alice.access_token)
    on_b = await Replica.open(url_of(b), name, alice.access_token)
    await asyncio.sleep(0.2)
    presence = pycrdt.Awareness(pycrdt.Doc())
    presence.set_local_state({"user": {"name": "Zoë", "color": "#0a0"}})
    await on_a.client.send(protocol.awareness(name, presence.encode_awareness_update([presence.client_id])))
    await wait_until(
        lambda: presence.client_id in awareness_states(on_b.awareness_frames), what="awareness on B"
    )
    assert awareness_states(on_b.awareness_frames)[presence.client_id] == {
        "user": {"name": "Zoë", "color": "#0a0"}
    }

    broadcast = Encoder().write_var_string(name).write_var_uint(MessageType.BROADCAST_STATELESS)
    await on_a.client.send(broadcast.write_var_string('{"event":"saved"}').to_bytes())
    await wait_until(lambda: on_b.stateless == ['{"event":"saved"}'], what="stateless on B")

    # A late joiner on B sees A's client in its first awareness frame.
    late = await Replica.open(url_of(b), name, alice.access_token)
    await wait_until(lambda: presence.client_id in awareness_states(late.awareness_frames), what="late")

    await on_a.close()  # the client on A disconnects: its state disappears on B too
    await wait_until(
        lambda: presence.client_id not in awareness_states(on_b.awareness_frames), what="removal on B"
    )
    for replica in (on_b, late):
        await replica.close()


async def test_late_joiner_gets_what_a_peer_holds_but_has_not_stored(fleet: SyncStack) -> None:
    """A's writes are blocked in PostgreSQL (a table lock held by the test): B, loading the document,
    gets A's accepted-but-not-yet-durable update from A itself, before its client's sync completes."""
    a, b = instances(fleet)
    alice = await fleet.user("alice")
    name = (await fleet.document(alice))["id"]
    writer = await Replica.open(url_of(a), name, alice.access_token)
    await writer.type("stored")
    await wait_until(lambda: writer.acks == 1, what="first ack")

    blocker = await asyncpg.connect(fleet.database_url.replace("postgresql+asyncpg", "postgresql"))
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE document_updates IN EXCLUSIVE MODE")  # INSERTs wait, reads don't
    try:
        await writer.type(" in flight")
        await asyncio.sleep(0.3)
        assert writer.acks == 1  # not durable yet, so not acknowledged
        joiner = await Replica.open(url_of(b), name, alice.access_token)  # returns after its Step2
        assert joiner.content() == "stored in flight"
    finally:
        await transaction.rollback()
        await blocker.close()
    await wait_until(lambda: writer.acks == 2, what="second ack after the lock")
    for replica in (writer, joiner):
        await replica.close()
    await a.rooms.close_all()
    await b.rooms.close_all()
    stored = await stored_doc(fleet, name, alice.headers)
    assert str(stored.get("t", type=pycrdt.Text)) == "stored in flight"


async def test_missed_messages_are_repaired_after_the_subscriber_reconnects(
    fleet: SyncStack, private_redis: RedisProcess
) -> None:
    """B's pub/sub connection is killed by Redis (CLIENT KILL) while A's client types, and B's log poll is
    too slow to help (60 s): the updates published meanwhile are lost for B, and the repair after B
    resubscribes (a full re-read of the document) brings B and its clients up to date."""
    a = fleet.server
    await fleet.extra_servers[0].stop()
    b = SyncServer(
        sync_settings(
            fleet.database_url,
            sync_instance_id="B-slow-poll",
            redis_url=private_redis.url,
            sync_poll_interval_seconds=60,
            sync_debounce_seconds=60,
        )
    )
    await b.start()
    fleet.extra_servers[0] = b
    await wait_until(lambda: b.fanout.healthy, what="B connected")
    alice = await fleet.user("alice")
    name = (await fleet.document(alice))["id"]
    writer = await Replica.open(url_of(a), name, alice.access_token)
    reader = await Replica.open(url_of(b), name, alice.access_token)
    await writer.type("before;")
    await wait_until(lambda: reader.content() == "before;", what="first update on B")

    redis = private_redis.client()
    killed = 0
    for client in redis.client_list(_type="pubsub"):  # B's subscriber only: connections carry the instance
        if client.get("name") == "mdreader-sync:B-slow-poll":
            redis.client_kill_filter(_id=client["id"])
            killed += 1
    assert killed == 1
    for index in range(20):
        await writer.type(f"during-{index};")
    await wait_until(lambda: writer.acks == 21, what="acks on A")
    expected = "before;" + "".join(f"during-{index};" for index in range(20))
    await wait_until(lambda: reader.content() == expected, within=10, what="repair on B")
    for replica in (writer, reader):
        await replica.close()


async def test_redis_outage_degrades_and_recovers_without_loss(
    fleet: SyncStack, private_redis: RedisProcess
) -> None:
    a, b = instances(fleet)
    alice = await fleet.user("alice")
    name = (await fleet.document(alice))["id"]
    on_a = await Replica.open(url_of(a), name, alice.access_token)
    on_b = await Replica.open(url_of(b), name, alice.access_token)
    await on_a.type("up;")
    await wait_until(lambda: on_b.content() == "up;", what="before the outage")

    private_redis.kill()
    await wait_until(lambda: not a.fanout.healthy and not b.fanout.healthy, what="degraded")
    async with httpx.AsyncClient() as http:
        health = (await http.get(f"http://127.0.0.1:{a.port}/health")).json()
    assert (health["status"], health["redis"]) == ("degraded", "unavailable")
    # Both keep serving; the durable log still joins them (slower: the poll period).
    await on_a.type("down-a;")
    await on_b.type("down-b;")
    await wait_until(lambda: on_a.acks == 2 and on_b.acks == 1, what="acks while Redis is down")
    await wait_until(lambda: on_a.content() == on_b.content() and "down-b" in on_a.content(), what="log")

    private_redis.start()
    took = await wait_until(lambda: a.fanout.healthy and b.fanout.healthy, within=15, what="reconnected")
    print(f"both instances reconnected {took:.2f} s after Redis returned")
    await on_b.type("back;")
    await wait_until(lambda: "back;" in on_a.content(), what="fan-out after the outage")
    assert on_a.content() == on_b.content()
    for replica in (on_a, on_b):
        await replica.close()


async def test_restore_409_and_rest_pushes_see_the_whole_fleet(fleet: SyncStack) -> None:
    a, b = instances(fleet)
    alice = await fleet.user("alice")
    name = (await fleet.document(alice))["id"]
    on_b = await Replica.open(url_of(b), name, alice.access_token)  # the only collaborator: on B
    refused = None
    for _ in range(50):
        refused = await overwrite_restore(fleet, name, alice.headers)
        if refused.status_code == 409:
            break
        await asyncio.sleep(0.1)
    assert refused is not None
    assert refused.status_code == 409
    on_a = await Replica.open(url_of(a), name, alice.access_token)
    other = pycrdt.Doc()
    other.get("t", type=pycrdt.Text).insert(0, "pushed over REST")
    pushed = await fleet.http.post(
        f"/api/v1/documents/{name}/snapshot",
        json={"yjs_state": base64.b64encode(other.get_update()).decode(), "html": "<p>x</p>"},
        headers=alice.headers,
    )
    assert pushed.status_code == 204
    for replica in (on_a, on_b):
        await wait_until(lambda replica=replica: "pushed over REST" in replica.content(), what="push")
        await replica.close()


async def test_provisional_document_belongs_to_its_creator_on_every_instance(fleet: SyncStack) -> None:
    a, b = instances(fleet)
    alice, bob = await fleet.user("alice"), await fleet.user("bob")
    name = str(uuid.uuid4())
    draft = await Replica.open(url_of(a), name, alice.access_token)
    await draft.type("draft typed on A")
    await wait_until(lambda: draft.acks == 1, what="ack")
    intruder, answer = await connect_as_on(b, name, bob.access_token)
    assert answer == protocol.permission_denied(name)
    await intruder.close()
    await draft.close()
    again = await Replica.open(url_of(b), name, alice.access_token)  # the creator reconnects elsewhere
    assert again.content() == "draft typed on A"
    await again.close()


async def connect_as_on(server: SyncServer, name: str, token: str) -> tuple[RawClient, bytes]:
    client = await RawClient.open(url_of(server))
    await client.send(auth_frame(name, token))
    return client, (await client.next()).raw


async def test_redis_tls_and_auth_work_and_the_token_is_never_logged(
    sync_stack: SyncStack, caplog: pytest.LogCaptureFixture
) -> None:
    """As against ElastiCache with in-transit encryption and an AUTH token: rediss:// with a password."""
    secured = RedisProcess(password="s3cret-auth-token", tls=True)
    secured.start()
    servers = [
        SyncServer(sync_settings(sync_stack.database_url, sync_instance_id=name, redis_url=secured.url))
        for name in ("A", "B")
    ]
    try:
        with caplog.at_level(logging.DEBUG):
            for server in servers:
                await server.start()
            await wait_until(lambda: all(server.fanout.healthy for server in servers), what="AUTH accepted")
            alice = await sync_stack.user("alice")
            name = (await sync_stack.document(alice))["id"]
            writer = await Replica.open(url_of(servers[0]), name, alice.access_token)
            reader = await Replica.open(url_of(servers[1]), name, alice.access_token)
            await writer.type("authenticated fan-out")
            await wait_until(lambda: reader.content() == "authenticated fan-out", what="crossing")
            for replica in (writer, reader):
                await replica.close()
        assert "127.0.0.1" in caplog.text  # the URL is logged, redacted
        assert "s3cret-auth-token" not in caplog.text
    finally:
        for server in servers:
            await server.stop()
        secured.close()


async def test_metrics_are_embedded_metric_format_with_the_scaling_names(fleet: SyncStack) -> None:
    alice = await fleet.user("alice")
    name = (await fleet.document(alice))["id"]
    replica = await Replica.open(url_of(fleet.server), name, alice.access_token)
    line = json.loads(json.dumps(fleet.server.metrics()))
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "MDReader/Sync"
    assert {metric["Name"] for metric in directive["Metrics"]} == {"Connections", "Documents"}
    assert directive["Dimensions"] == [["Environment"]]
    assert (line["Connections"], line["Documents"], line["Environment"]) == (1, 1, "test")
    await replica.close()


def test_json_log_lines_carry_level_logger_instance_and_exception() -> None:
    formatter = JsonFormatter("sync-a")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("mdreader_sync.test").makeRecord(
            "mdreader_sync.test", logging.ERROR, __file__, 1, "failed %s", ("once",), sys.exc_info()
        )
    entry = json.loads(formatter.format(record))
    assert (entry["level"], entry["logger"], entry["message"], entry["instance"]) == (
        "ERROR",
        "mdreader_sync.test",
        "failed once",
        "sync-a",
    )
    assert "RuntimeError: boom" in entry["exception"]
