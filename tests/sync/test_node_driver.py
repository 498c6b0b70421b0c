"""The Node driver itself (no sync service needed): command protocol, robustness, raw sockets, golden file."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve

from tests.sync.conftest import require_node_driver
from tests.sync.node_driver import NODE_DIR, DriverError, NodeDriver, b64decode, b64encode, node_binary


async def test_unknown_commands_and_bad_arguments_fail_without_killing_the_driver(
    node_driver: NodeDriver,
) -> None:
    assert (await node_driver.call("ping"))["pong"] is True
    with pytest.raises(DriverError, match="unknown command 'nope'"):
        await node_driver.call("nope")
    with pytest.raises(DriverError, match="no client 'ghost'"):
        await node_driver.call("getText", client="ghost", field="t")
    with pytest.raises(DriverError, match="'url'"):
        await node_driver.call("connect", client="c", document="d")
    with pytest.raises(DriverError, match="version must be"):
        await node_driver.call("connect", client="c", url="ws://127.0.0.1:9", document="d", version="v9")
    assert (await node_driver.call("list")) == {"clients": [], "sockets": [], "raw": []}


async def test_wait_for_times_out_with_the_client_status(node_driver: NodeDriver) -> None:
    # Port 9 (discard) is closed on loopback: the provider keeps retrying, never connects.
    await node_driver.call("connect", client="c", url="ws://127.0.0.1:9", document="d", version="v3")
    with pytest.raises(DriverError, match="timeout after 200 ms waiting for 'synced'") as info:
        await node_driver.call("waitFor", client="c", condition="synced", timeoutMs=200)
    assert '"acks":0' in str(info.value)
    with pytest.raises(DriverError, match="unknown condition"):
        await node_driver.call("waitFor", client="c", condition="bogus", timeoutMs=100)
    # local edits work while offline; they count as unsynced, not as sent
    await node_driver.call("insertText", client="c", field="t", index=0, text="offline ü")
    await node_driver.call("appendParagraph", client="c", field="content", text="para")
    assert (await node_driver.call("getText", client="c", field="t"))["text"] == "offline ü"
    assert (await node_driver.call("getXml", client="c", field="content"))[
        "xml"
    ] == "<paragraph>para</paragraph>"
    status = await node_driver.call("status", client="c")
    assert status["synced"] is False
    assert status["sentUpdates"] == 0
    final = await node_driver.call("destroy", client="c")
    assert final["final"]["acks"] == 0
    assert (await node_driver.call("list"))["clients"] == []


async def test_state_round_trips_between_clients_without_a_server(node_driver: NodeDriver) -> None:
    for name in ("a", "b"):
        await node_driver.call("connect", client=name, url="ws://127.0.0.1:9", document="d", version="v4")
    await node_driver.call("insertText", client="a", field="t", text="from a ✓")
    update = (await node_driver.call("encodeState", client="a"))["update"]
    await node_driver.call("applyUpdate", client="b", update=update)
    assert (await node_driver.call("getText", client="b", field="t"))["text"] == "from a ✓"
    vectors = [(await node_driver.call("stateVector", client=c))["stateVector"] for c in ("a", "b")]
    assert vectors[0] == vectors[1]
    assert b64decode(vectors[0])[0] == 1  # one client in the state vector
    await node_driver.call("waitFor", client="b", condition="text:t=from a ✓", timeoutMs=100)


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A loopback WebSocket server: echoes binary frames, closes 4401 "Unauthorized" on b"close"."""
    received: list[bytes] = []

    async def handler(connection: ServerConnection) -> None:
        async for message in connection:
            data = message if isinstance(message, bytes) else message.encode()
            received.append(data)
            if data == b"close":
                await connection.close(4401, "Unauthorized")
                return
            await connection.send(data)

    server: Server = await serve(handler, "127.0.0.1", 0, max_size=2**20)
    port = next(iter(server.sockets)).getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}", received
    finally:
        server.close()
        await server.wait_closed()


async def test_raw_sockets_send_receive_and_report_close_codes(
    node_driver: NodeDriver, echo_server: tuple[str, list[bytes]]
) -> None:
    url, received = echo_server
    await node_driver.call("rawOpen", socket="r", url=url)
    payload = bytes(range(256))
    assert (await node_driver.call("rawSend", socket="r", data=b64encode(payload)))["sent"] == 256
    frames = (await node_driver.call("rawWaitFrames", socket="r", count=1, timeoutMs=5000))["frames"]
    assert b64decode(frames[0]["data"]) == payload
    assert received == [payload]
    await node_driver.call("rawSend", socket="r", data=b64encode(b"close"))
    closed = await node_driver.call("rawWaitClose", socket="r", timeoutMs=5000)
    assert (closed["code"], closed["reason"]) == (4401, "Unauthorized")
    event = await node_driver.wait_event(lambda e: e["event"] == "rawClose", include_past=True)
    assert (event["socket"], event["code"]) == ("r", 4401)
    with pytest.raises(DriverError, match="not open"):
        await node_driver.call("rawSend", socket="r", data="")


async def test_oversized_raw_frame_gets_1009(
    node_driver: NodeDriver, echo_server: tuple[str, list[bytes]]
) -> None:
    url, _ = echo_server
    await node_driver.call("rawOpen", socket="big", url=url)
    await node_driver.call("rawSend", socket="big", fill={"length": 2**20 + 1, "byte": 0})
    closed = await node_driver.call("rawWaitClose", socket="big", timeoutMs=5000)
    assert closed["code"] == 1009


async def test_driver_survives_a_refused_raw_connection(node_driver: NodeDriver) -> None:
    with pytest.raises(DriverError, match="ECONNREFUSED"):
        await node_driver.call("rawOpen", socket="x", url="ws://127.0.0.1:9", timeoutMs=2000)
    assert (await node_driver.call("ping"))["pong"] is True


async def test_awareness_encoding_helper_uses_y_protocols(node_driver: NodeDriver) -> None:
    result = await node_driver.call("encodeAwareness", clientID=7, state={"user": {"name": "Zoë"}})
    update = b64decode(result["update"])
    # one entry, client 7, clock 1 (setLocalState after the constructor's {}), JSON state
    assert update[:3] == b"\x01\x07\x01"
    assert update[4:].decode() == '{"user":{"name":"Zoë"}}'


async def test_stop_is_idempotent_and_calls_after_stop_fail() -> None:
    require_node_driver()
    driver = NodeDriver()
    await driver.start()
    await driver.stop()
    await driver.stop()
    with pytest.raises(DriverError, match="not running"):
        await driver.call("ping")


def test_golden_vectors_are_up_to_date() -> None:
    """tests/sync/golden/lib0_vectors.json is what the pinned packages produce today."""
    require_node_driver()
    node = node_binary()
    assert node is not None
    run = subprocess.run(
        [node, str(NODE_DIR / "golden.mjs"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr


async def test_many_concurrent_calls_get_their_own_answers(node_driver: NodeDriver) -> None:
    await node_driver.call("connect", client="c", url="ws://127.0.0.1:9", document="d", version="v2")
    inserts = [
        node_driver.call("insertText", client="c", field="t", index=-1, text=str(i % 10)) for i in range(200)
    ]
    lengths = sorted(r["length"] for r in await asyncio.gather(*inserts))
    assert lengths == list(range(1, 201))


@pytest.fixture
async def close_frame_server() -> AsyncIterator[str]:
    """Answers every frame with CLOSE(7, "hi") for document "x", which a v2 provider cannot handle."""

    async def handler(connection: ServerConnection) -> None:
        async for _ in connection:
            await connection.send(b"\x01x\x07\x02hi")

    server: Server = await serve(handler, "127.0.0.1", 0)
    port = next(iter(server.sockets)).getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def test_provider_exceptions_are_reported_as_events(
    node_driver: NodeDriver, close_frame_server: str
) -> None:
    for version in ("v2", "v4"):
        await node_driver.call(
            "connect", client=version, url=close_frame_server, document="x", version=version
        )
    event = await node_driver.wait_event(lambda e: e["event"] == "providerError", include_past=True)
    assert event["clients"] == ["v2"]
    assert event["frameType"] == 7
    assert "unknown type: 7" in event["error"]
    await node_driver.call("waitFor", client="v4", condition="received:7", timeoutMs=5000)
    v2 = await node_driver.call("status", client="v2")
    v4 = await node_driver.call("status", client="v4")
    assert v2["errors"]
    assert v4["errors"] == []  # v4 handles CLOSE(7)
    assert v4["receivedByType"]["7"] >= 1
    assert (await node_driver.call("ping"))["pong"] is True
