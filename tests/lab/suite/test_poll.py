"""pr_native.poll against LIO: one round over every initiator's node gives
what per-device READ KEYS / READ RESERVATION give; with at least 32
initiators (the "loop-many-initiators" lab configuration) over 32+ nodes."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from unit.signal_storm import Raised, Storm

import pr_native as pr
from pr_native.poll import Poller, PollResult, poll

from .conftest import KEY_A, KEY_B, Initiator

T = pr.ReservationType


def expected(dev: pr.Device) -> PollResult:
    return PollResult(dev.path, dev.read_keys(), dev.read_reservation(), 0.0)


def same(result: object, dev: pr.Device) -> None:
    assert isinstance(result, PollResult), result
    want = expected(dev)
    assert (result.device, result.keys, result.reservation) == (
        want.device,
        want.keys,
        want.reservation,
    )


def test_poll_equals_per_device_reads(a: pr.Device, b: pr.Device, devices: list[pr.Device]) -> None:
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY)
    results = poll([d.path for d in devices], timeout=20.0)
    assert len(results) == len(devices)
    for result, dev in zip(results, devices):
        same(result, dev)


def test_sd_nodes_and_open_devices_mix(
    a: pr.Device, b: pr.Device, initiators: list[Initiator]
) -> None:
    """/dev/sdX has no asynchronous interface: its command runs synchronously
    while the sg commands are in flight; open Devices are used as they are."""
    a.register(KEY_A)
    results = poll([a, initiators[1].sd, b.path], ("keys",))
    assert [type(r) for r in results] == [PollResult] * 3
    assert all(isinstance(r, PollResult) and r.keys == a.read_keys() for r in results)
    assert not a.closed


def test_unit_attention_is_reported_per_device(a: pr.Device, b: pr.Device, c: pr.Device) -> None:
    a.register(KEY_A)
    b.register(KEY_B)
    b.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)
    with Poller([a.path, b.path, c.path], ("reservation",)) as poller:
        first = poller.poll()
        assert isinstance(first[0], pr.UnitAttention)
        assert first[0].condition is pr.UnitAttentionCondition.REGISTRATIONS_PREEMPTED
        assert isinstance(first[1], PollResult) and isinstance(first[2], PollResult)
        again = poller.poll()  # the unit attention was consumed
        assert all(isinstance(r, PollResult) for r in again)
        for result, dev in zip(again, (a, b, c)):
            assert isinstance(result, PollResult)
            assert result.reservation == dev.read_reservation()


def test_poll_32_nodes(a: pr.Device, b: pr.Device, devices: list[pr.Device]) -> None:
    if len(devices) < 32:
        pytest.skip(f"needs 32 initiators, the lab has {len(devices)} (loop-many-initiators)")
    a.register(KEY_A)
    b.register(KEY_B)
    devices[-1].register(0xEE)
    b.reserve(KEY_B, T.WRITE_EXCLUSIVE_ALL_REGISTRANTS)
    with Poller([d.path for d in devices], timeout=20.0) as poller:
        for _ in range(3):
            results = poller.poll()
            assert len(results) == len(devices) >= 32
            for result, dev in zip(results, devices):
                same(result, dev)


def test_raising_signal_storm_during_reads_leaves_no_lock_taken(a: pr.Device, c: pr.Device) -> None:
    """SIGALRM every 0.2 ms into a handler that raises (as KeyboardInterrupt
    does) while a second handle of the LU reads in a loop (READ KEYS, READ
    RESERVATION, a Poller round over that Device, and one over the path, as
    watch and the exporter poll): wherever the exception lands, the Device's
    lock is free after it, and afterwards both still read and close.
    (``acquire()`` before a ``try`` left the lock taken, and close() hung.)"""
    a.register(KEY_A)
    device = pr.Device(c.path)
    given = Poller([device], timeout=5.0)
    own = Poller([c.path], timeout=5.0)

    stages: dict[str, Callable[[], object]] = {
        "read_keys": device.read_keys,
        "read_reservation": device.read_reservation,
        "given Poller": given.poll,
        "own Poller": own.poll,
    }
    reached = dict.fromkeys(stages, 0)
    stage = [""]

    def step() -> None:
        for stage[0], call in stages.items():
            call()
        stage[0] = ""  # between the steps

    def check(raised: Raised) -> None:
        if stage[0]:
            reached[stage[0]] += 1
        assert not device._lock.locked(), "the lock stayed taken"

    with Storm() as storm:
        interrupted = storm.run(2.0, step, check, until=lambda: all(reached.values()))
    print(f"{interrupted} interruptions ({storm.raised} raised), per stage {reached}")
    assert all(reached.values()), f"the storm did not reach every stage: {reached}"
    assert device.read_keys().keys == (KEY_A,)
    for poller in (given, own):
        (entry,) = poller.poll()
        assert isinstance(entry, PollResult) and entry.keys == device.read_keys(), entry

    # In a thread: a lock left taken would hold close() for ever.
    def close() -> None:
        own.close()
        device.close()

    closing = threading.Thread(target=close, daemon=True)
    closing.start()
    closing.join(30)
    assert not closing.is_alive(), "close() waits for a lock left taken"
