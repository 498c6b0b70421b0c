"""Two sync processes behind nginx (round robin, WebSocket upgrade), joined by a real Redis, with the
real @hocuspocus/provider 3.4.4 (MDReader's): convergence, awareness, a late joiner, `kill -9` and
SIGTERM of an instance during typing, Redis killed and restarted, a subscriber that misses messages."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pycrdt
import pytest

from mdreader_sync import protocol
from tests.backend.conftest import Account
from tests.sync.fleet import NGINX_BINARY, Nginx, RedisProcess
from tests.sync.harness import SyncProcess, SyncStack, open_document
from tests.sync.node_driver import NodeDriver

pytestmark = pytest.mark.skipif(
    not NGINX_BINARY.exists(), reason="nginx is not installed (scripts/setup.sh dev installs nginx-light)"
)


@dataclass
class Fleet:
    stack: SyncStack
    redis: RedisProcess
    instances: list[SyncProcess]
    nginx: Nginx
    owner: Account
    name: str

    async def connections(self) -> list[int]:
        """Open sockets per instance (their /health)."""
        counts = []
        async with httpx.AsyncClient() as http:
            for instance in self.instances:
                try:
                    counts.append(
                        (await http.get(f"http://127.0.0.1:{instance.port}/health")).json()["connections"]
                    )
                except httpx.TransportError:
                    counts.append(-1)
        return counts


@pytest.fixture
async def nginx_fleet(sync_stack: SyncStack, private_redis: RedisProcess) -> AsyncIterator[Fleet]:
    instances = [
        SyncProcess(
            sync_stack.database_url,
            redis_url=private_redis.url,
            sync_instance_id=f"instance-{index}",
            sync_poll_interval_seconds="0.5",
            sync_migrate_on_start="false",
        )
        for index in range(2)
    ]
    await asyncio.gather(*(instance.start() for instance in instances))
    nginx = Nginx([instance.port for instance in instances])
    nginx.start()
    owner = await sync_stack.user("alice")
    name = (await sync_stack.document(owner))["id"]
    try:
        yield Fleet(sync_stack, private_redis, instances, nginx, owner, name)
    finally:
        nginx.stop()
        for instance in instances:
            await instance.kill()


async def connect(driver: NodeDriver, fleet: Fleet, client: str) -> None:
    await driver.call(
        "connect", client=client, url=fleet.nginx.url, document=fleet.name, token=fleet.owner.access_token
    )
    await driver.call("waitFor", client=client, condition="synced", timeoutMs=15000)


async def texts(driver: NodeDriver, clients: list[str]) -> list[str]:
    return [(await driver.call("getText", client=client, field="t"))["text"] for client in clients]


async def converge(driver: NodeDriver, clients: list[str], within: float = 20.0) -> tuple[str, float]:
    """Waits until every client is synced with nothing unacknowledged and all hold the same text."""
    started = time.monotonic()
    while True:
        statuses = [await driver.call("status", client=client) for client in clients]
        current = await texts(driver, clients)
        if all(s["synced"] and s["unsyncedChanges"] == 0 for s in statuses) and len(set(current)) == 1:
            return current[0], time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(
                f"no convergence within {within} s: {statuses}, lengths {[len(t) for t in current]}"
            )
        await asyncio.sleep(0.1)


def markers(text: str, prefix: str) -> list[int]:
    return [int(seq) for seq in re.findall(rf"~{prefix}:(\d+)~", text)]


async def test_clients_on_both_instances_converge_with_awareness_and_a_late_joiner(
    nginx_fleet: Fleet, node_driver: NodeDriver
) -> None:
    clients = ["a", "b", "c", "d"]
    for client in clients:
        await connect(node_driver, nginx_fleet, client)
    assert await nginx_fleet.connections() == [2, 2]  # round robin put two on each instance
    for client in clients:
        await node_driver.call(
            "appendParagraph", client=client, field="content", text=f"paragraph from {client}"
        )
        await node_driver.call("insertText", client=client, field="t", text=f"[{client}]")
    text, _ = await converge(node_driver, clients)
    assert sorted(re.findall(r"\[(\w)\]", text)) == clients
    xml = {(await node_driver.call("getXml", client=client, field="content"))["xml"] for client in clients}
    assert len(xml) == 1
    assert all(f"paragraph from {client}" in next(iter(xml)) for client in clients)

    await node_driver.call("setAwareness", client="a", state={"user": {"name": "Ann", "color": "#00f"}})
    for client in clients[1:]:  # b and d are on the other instance
        await node_driver.call("waitFor", client=client, condition="awareness:2", timeoutMs=10000)
    states = (await node_driver.call("awarenessStates", client="b"))["states"]
    assert {"user": {"name": "Ann", "color": "#00f"}} in states.values()

    await connect(node_driver, nginx_fleet, "late")  # the fifth connection: instance 0
    assert (await texts(node_driver, ["late"]))[0] == text
    xml_late = (await node_driver.call("getXml", client="late", field="content"))["xml"]
    assert xml_late == next(iter(xml))

    await node_driver.call("destroy", client="a")
    for _ in range(100):  # a's state leaves b (other instance) and c (same instance)
        remaining = [
            (await node_driver.call("awarenessStates", client=client))["states"] for client in ("b", "c")
        ]
        if all({"user": {"name": "Ann", "color": "#00f"}} not in states.values() for states in remaining):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"a's awareness was not removed: {remaining}")


async def type_on_both(driver: NodeDriver, fleet: Fleet) -> None:
    await connect(driver, fleet, "one")  # instance 0
    await connect(driver, fleet, "two")  # instance 1
    assert await fleet.connections() == [1, 1]
    for client, prefix in (("one", "p"), ("two", "q")):
        await driver.call("startTyping", client=client, field="t", prefix=prefix, intervalMs=15)


async def stop_typing(driver: NodeDriver) -> dict[str, dict[str, object]]:
    return {client: await driver.call("stopTyping", client=client) for client in ("one", "two")}


def assert_complete(text: str, typing: dict[str, dict[str, object]]) -> None:
    """Every keystroke typed is in the text exactly once (acknowledged ones first of all)."""
    for client, prefix in (("one", "p"), ("two", "q")):
        found = markers(text, prefix)
        typed = int(typing[client]["typed"])  # type: ignore[call-overload]
        acked = typing[client]["acked"]
        assert isinstance(acked, list)
        assert set(acked) <= set(found), f"{client}: acknowledged keystrokes lost"
        assert sorted(found) == list(range(typed)), f"{client}: keystrokes lost or duplicated"


async def test_kill_9_of_an_instance_during_typing_loses_no_acknowledged_update(
    nginx_fleet: Fleet, node_driver: NodeDriver
) -> None:
    await type_on_both(node_driver, nginx_fleet)
    await asyncio.sleep(1.5)
    before = {
        client: len((await node_driver.call("typingStatus", client=client))["acked"])
        for client in ("one", "two")
    }
    await nginx_fleet.instances[0].kill()  # SIGKILL: no flush, no goodbye
    await node_driver.call("waitFor", client="one", condition="reconnects:1", timeoutMs=20000)
    await asyncio.sleep(1.5)  # typing goes on through the surviving instance
    typing = await stop_typing(node_driver)
    text, took = await converge(node_driver, ["one", "two"])
    assert_complete(text, typing)
    print(
        f"kill -9: acked before the kill {before}, typed {[typing[c]['typed'] for c in typing]}, "
        f"converged {took:.2f} s after typing stopped"
    )


async def test_sigterm_drains_an_instance_and_clients_continue_elsewhere(
    nginx_fleet: Fleet, node_driver: NodeDriver
) -> None:
    await type_on_both(node_driver, nginx_fleet)
    await asyncio.sleep(1.0)
    await nginx_fleet.instances[0].signal(signal.SIGTERM)
    assert await nginx_fleet.instances[0].wait(within=15) == 0
    await node_driver.call("waitFor", client="one", condition="reconnects:1", timeoutMs=20000)
    status = await node_driver.call("status", client="one")
    assert status["lastClose"]["code"] == 4205
    await asyncio.sleep(1.0)
    typing = await stop_typing(node_driver)
    text, _ = await converge(node_driver, ["one", "two"])
    assert_complete(text, typing)
    assert (await nginx_fleet.connections())[1] == 2  # both on the surviving instance now


async def test_redis_killed_and_restarted_during_typing(nginx_fleet: Fleet, node_driver: NodeDriver) -> None:
    await type_on_both(node_driver, nginx_fleet)
    await asyncio.sleep(1.0)
    nginx_fleet.redis.kill()
    await asyncio.sleep(2.0)  # typing goes on; the instances still share through the durable log
    async with httpx.AsyncClient() as http:
        health = (await http.get(f"http://127.0.0.1:{nginx_fleet.instances[0].port}/health")).json()
    assert health["status"] == "degraded"
    nginx_fleet.redis.start()
    returned = time.monotonic()
    await asyncio.sleep(1.0)
    typing = await stop_typing(node_driver)
    text, _ = await converge(node_driver, ["one", "two"], within=10)
    print(f"Redis restart: converged {time.monotonic() - returned:.2f} s after Redis returned")
    assert_complete(text, typing)
    for _ in range(100):  # reconnected (with backoff) within 10 s of Redis's return
        async with httpx.AsyncClient() as http:
            states = [
                (await http.get(f"http://127.0.0.1:{instance.port}/health")).json()["redis"]
                for instance in nginx_fleet.instances
            ]
        if states == ["ok", "ok"]:
            break
        await asyncio.sleep(0.1)
    assert states == ["ok", "ok"]
    print(f"Redis restart: both instances reconnected {time.monotonic() - returned:.2f} s after its return")


async def test_a_subscriber_that_missed_messages_converges_through_the_repair(
    nginx_fleet: Fleet, node_driver: NodeDriver
) -> None:
    """Instance 1 is paused (SIGSTOP) while instance 0's client types, and Redis drops its subscriber
    connection meanwhile (as Redis does with a slow subscriber over its output buffer limit): the
    messages of that time are gone for instance 1, which repairs from the log after it resumes."""
    await connect(node_driver, nginx_fleet, "one")
    await connect(node_driver, nginx_fleet, "two")
    await node_driver.call("startTyping", client="one", field="t", prefix="p", intervalMs=15)
    await asyncio.sleep(0.5)
    paused = nginx_fleet.instances[1]
    await paused.signal(signal.SIGSTOP)
    try:
        await asyncio.sleep(1.0)
        redis = nginx_fleet.redis.client()
        killed = [
            redis.client_kill_filter(_id=client["id"])
            for client in redis.client_list(_type="pubsub")
            if client.get("name") == "mdreader-sync:instance-1"
        ]
        assert killed == [1]
        await asyncio.sleep(1.0)
    finally:
        await paused.signal(signal.SIGCONT)
    resumed = time.monotonic()
    typing = {"one": await node_driver.call("stopTyping", client="one")}
    text, _ = await converge(node_driver, ["one", "two"], within=15)
    print(f"missed messages: converged {time.monotonic() - resumed:.2f} s after the subscriber resumed")
    found = markers(text, "p")
    assert sorted(found) == list(range(int(typing["one"]["typed"])))  # type: ignore[call-overload]


async def test_awareness_of_clients_on_a_dead_instance_disappears_within_the_timeout(
    sync_stack: SyncStack, private_redis: RedisProcess, node_driver: NodeDriver
) -> None:
    """A raw client (which never reconnects) announces itself on instance A; A is killed with -9, so no
    removal is ever sent: the provider on instance B loses that state once it is not renewed in time."""
    settings = {"redis_url": private_redis.url, "sync_awareness_timeout_seconds": "3"}
    instances = [SyncProcess(sync_stack.database_url, sync_instance_id=f"i{i}", **settings) for i in range(2)]
    await asyncio.gather(*(instance.start() for instance in instances))
    try:
        owner = await sync_stack.user("alice")
        name = (await sync_stack.document(owner))["id"]
        raw = await open_document(instances[0].url, name, owner.access_token)
        presence = pycrdt.Awareness(pycrdt.Doc())
        presence.set_local_state({"user": {"name": "Ghost"}})
        await raw.send(protocol.awareness(name, presence.encode_awareness_update([presence.client_id])))
        await node_driver.call(
            "connect", client="b", url=instances[1].url, document=name, token=owner.access_token
        )
        await node_driver.call("waitFor", client="b", condition="awareness:2", timeoutMs=10000)
        states = (await node_driver.call("awarenessStates", client="b"))["states"]
        assert states[str(presence.client_id)] == {"user": {"name": "Ghost"}}
        await instances[0].kill()
        killed = time.monotonic()
        while str(presence.client_id) in (await node_driver.call("awarenessStates", client="b"))["states"]:
            assert time.monotonic() - killed < 3 + 5, "the dead instance's client state was never removed"
            await asyncio.sleep(0.1)
        print(
            f"dead instance: its client's awareness removed {time.monotonic() - killed:.1f} s after kill -9"
        )
    finally:
        for instance in instances:
            await instance.kill()
