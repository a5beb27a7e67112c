"""pr_native.aio against LIO: the PR IN/OUT checks through aio.Device, aio.poll
equal to per-device reads, aio.watch seeing another initiator's change, many
devices awaited from one thread, and a cancelled in-flight PR OUT (iSCSI
with netem delay: the "iscsi-delay" configuration)."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest

import pr_native as pr
from pr_native import aio

from .conftest import KEY_A, KEY_B, Initiator

T = pr.ReservationType


def test_pr_in_and_out_through_aio(a: pr.Device, b: pr.Device, c: pr.Device) -> None:
    async def main() -> None:
        async with aio.Device(a.path) as da, aio.Device(b.path) as db:
            assert da._native and db._native  # /dev/sgN: the asynchronous interface
            await da.register(KEY_A)
            await db.register(KEY_B)
            await da.reserve(KEY_A, T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
            keys = await db.read_keys()
            assert keys == c.read_keys()
            assert set(keys.keys) == {KEY_A, KEY_B}
            held = await db.read_reservation()
            assert held == c.read_reservation()
            status = await db.read_full_status()
            assert status == c.read_full_status()
            assert await db.report_capabilities() == c.report_capabilities()
            generation = keys.generation
            await db.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)
            after = c.read_full_status()
            assert after.generation == generation + 1
            assert [(r.key, r.holder) for r in after.registrants] == [(KEY_B, True)]
            with pytest.raises(pr.UnitAttention) as ua:  # REGISTRATIONS PREEMPTED, for A
                await da.test_unit_ready()
            assert ua.value.condition is pr.UnitAttentionCondition.REGISTRATIONS_PREEMPTED
            with pytest.raises(pr.ReservationConflict):
                await da.reserve(KEY_A, T.EXCLUSIVE_ACCESS)  # A is no longer registered

    asyncio.run(main())


def test_aio_poll_equals_per_device_reads(
    a: pr.Device, b: pr.Device, devices: list[pr.Device]
) -> None:
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, T.WRITE_EXCLUSIVE)
    entries = asyncio.run(aio.poll([d.path for d in devices]))
    for device, entry in zip(devices, entries):
        assert isinstance(entry, pr.PollResult), entry
        assert entry.device == device.path
        assert entry.keys == device.read_keys()
        assert entry.reservation == device.read_reservation()


def test_aio_watch_sees_another_initiators_change(a: pr.Device, b: pr.Device) -> None:
    a.register(KEY_A)

    async def main() -> list[str]:
        kinds: list[str] = []
        async for event in aio.watch([b.path], interval=0.05):
            kinds.append(event.event)
            if event.event == "initial":
                a.reserve(KEY_A, T.EXCLUSIVE_ACCESS)  # another initiator acts
            elif event.event == "changed":
                assert event.state is not None and event.state["reservation"] is not None
                return kinds
        raise AssertionError("the watch ended")

    assert asyncio.run(asyncio.wait_for(main(), 60)) == ["initial", "changed"]


def test_many_devices_awaited_from_one_thread(a: pr.Device, initiators: list[Initiator]) -> None:
    if len(initiators) < 32:
        pytest.skip(f"needs 32 initiators, the lab has {len(initiators)} (loop-many-initiators)")
    a.register(KEY_A)

    async def main() -> list[pr.Registrations]:
        opened = [aio.Device(i.sg) for i in initiators[:32]]
        try:
            return await asyncio.gather(*(d.read_keys() for d in opened))
        finally:
            for d in opened:
                await d.close()

    threads = threading.active_count()
    results = asyncio.run(main())
    assert threading.active_count() == threads  # no executor thread was started
    assert all(r.keys == (KEY_A,) for r in results)


def _in_flight_seconds(lab_info: dict[str, object]) -> float:
    latency = str(lab_info.get("latency") or "")
    if lab_info["fabric"] != "iscsi" or not latency:
        pytest.skip("needs the iSCSI fabric with netem latency (lab configuration iscsi-delay)")
    found = re.fullmatch(r"([\d.]+)(ms|us|s)", latency)
    assert found, latency
    scale = {"s": 1.0, "ms": 1e-3, "us": 1e-6}[found[2]]
    return 2 * float(found[1]) * scale  # a command's round trip


def test_cancelled_pr_out_in_flight_is_outcome_unknown_and_ran_once(
    a: pr.Device, c: pr.Device, lab_info: dict[str, object]
) -> None:
    round_trip = _in_flight_seconds(lab_info)
    a.register(KEY_A)
    before = c.read_keys().generation

    async def main() -> BaseException:
        async with aio.Device(a.path) as da:
            task = asyncio.create_task(da.register(KEY_B, key=KEY_A))
            await asyncio.sleep(round_trip / 3)  # submitted, not yet answered
            task.cancel()
            try:
                await task
            except BaseException as raised:
                return raised
        raise AssertionError("the cancelled PR OUT returned")

    raised = asyncio.run(main())
    assert isinstance(raised, pr.OutcomeUnknown), raised
    assert isinstance(raised.__cause__, asyncio.CancelledError)
    # Left with the driver, the command completes: once.
    for _ in range(50):
        keys = c.read_keys()
        if keys.generation != before:
            break
        asyncio.run(asyncio.sleep(round_trip))
    assert keys.generation == before + 1 and keys.keys == (KEY_B,)
