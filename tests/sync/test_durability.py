"""Durability across process ends: SIGTERM flushes and sends clients away with 4205 within 10 s, and a
`kill -9` during continuous typing loses no update that was acknowledged with SyncStatus(1)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time

import pycrdt
from websockets.exceptions import ConnectionClosed

from mdreader_sync import protocol
from mdreader_sync.protocol import MessageType, SyncStep
from tests.sync.harness import RawClient, SyncProcess, SyncStack, auth_frame, open_document, stored_doc


async def test_sigterm_flushes_and_closes_clients_with_4205(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    service = SyncProcess(sync_stack.database_url, sync_debounce_seconds="30", sync_max_debounce_seconds="60")
    await service.start()
    try:
        client = await open_document(service.url, name, alice.access_token)
        doc = pycrdt.Doc()
        doc.get("t", type=pycrdt.Text).insert(0, "flushed on SIGTERM")
        await client.send(protocol.sync_message(name, SyncStep.UPDATE, doc.get_update()))
        await client.next_of(MessageType.SYNC_STATUS)
        started = time.monotonic()
        await service.signal(signal.SIGTERM)
        assert await client.closed() == (4205, "Reset Connection")
        assert await service.wait(within=10) == 0
        assert time.monotonic() - started < 10
    finally:
        await service.kill()
    # Compaction was 30 s away: the shutdown flush merged it into the document.
    stored = await stored_doc(sync_stack, name, alice.headers)
    assert str(stored.get("t", type=pycrdt.Text)) == "flushed on SIGTERM"


async def test_kill_9_loses_no_acknowledged_update(sync_stack: SyncStack) -> None:
    alice = await sync_stack.user("alice")
    name = (await sync_stack.document(alice))["id"]
    service = SyncProcess(sync_stack.database_url)
    await service.start()
    client = await open_document(service.url, name, alice.access_token)
    doc = pycrdt.Doc()
    text = doc.get("t", type=pycrdt.Text)
    acked: list[int] = []  # indices of keystrokes acknowledged with SyncStatus(1)
    sent = 0

    async def type_continuously() -> None:
        nonlocal sent
        while True:
            before = doc.get_state()
            text.insert(len(str(text)), f"<{sent}>")
            await client.send(protocol.sync_message(name, SyncStep.UPDATE, doc.get_update(before)))
            sent += 1
            await asyncio.sleep(0.002)

    async def count_acks() -> None:
        while True:
            received = await client.next_of(MessageType.SYNC_STATUS, within=30)
            assert received.raw == protocol.sync_status(name, True)
            acked.append(len(acked))  # acks come in order: the n-th ack is keystroke n

    typing, counting = asyncio.create_task(type_continuously()), asyncio.create_task(count_acks())
    await asyncio.sleep(1.5)
    await service.kill()  # SIGKILL: no flush, no goodbye
    for task in (typing, counting):
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(acked) > 20, f"only {len(acked)} acks in 1.5 s"

    restarted = SyncProcess(sync_stack.database_url)
    await restarted.start()
    try:
        reader = await RawClient.open(restarted.url)
        await reader.send(auth_frame(name, alice.access_token))
        await reader.send(protocol.sync_message(name, SyncStep.STEP1, pycrdt.Doc().get_state()))
        await reader.next_of(MessageType.AUTH)
        await reader.next_of(MessageType.SYNC)  # server Step1
        step2 = await reader.next_of(MessageType.SYNC)
        step2.frame.body.read_var_uint()
        recovered = pycrdt.Doc()
        recovered.apply_update(step2.frame.body.read_var_uint8_array())
        content = str(recovered.get("t", type=pycrdt.Text))
        missing = [index for index in acked if f"<{index}>" not in content]
        assert missing == [], f"{len(missing)} of {len(acked)} acknowledged keystrokes lost"
        print(f"kill -9: {sent} sent, {len(acked)} acknowledged, all {len(acked)} recovered")
        with contextlib.suppress(ConnectionClosed):
            await reader.close()
    finally:
        await restarted.kill()
