"""A signal handler that raises (KeyboardInterrupt, watch's SIGTERM) leaves
no lock taken and no Device or Poller half updated, wherever it lands; and
watch's handler takes no lock.  No device: the scripted C core
(fake_device, fake_batch); tests/lab/suite/test_poll.py runs the same storm
against LIO."""

from __future__ import annotations

import contextlib
import errno
import faulthandler
import io
import os
import random
import signal
import threading
import time
from typing import Any

import pytest

import pr_native as pr
from pr_native._batch import holding
from pr_native._native import ffi, lib
from pr_native.poll import Poller, PollResult, poll
from pr_native.watch import watch

from .fake_batch import Failure, FakeBatch
from .fake_device import FakeLib, data
from .signal_storm import (
    HANG_LIMIT,
    Raised,
    Storm,
    close_leaked,
    frames,
    null_descriptors,
    with_statement_is_interruptible,
)

pytestmark = [
    pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX signals"),
    # The storm's exception also lands in gc callbacks, where Python ignores it.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

SECONDS = 1.5  # of storm per test


@pytest.fixture(scope="module")
def storms_apply() -> None:
    if with_statement_is_interruptible():
        pytest.skip("this interpreter's own with statement can leave a lock taken")


def _keys(count: int, generation: int = 9) -> bytes:
    keys = b"".join(k.to_bytes(8, "big") for k in range(1, count + 1))
    return generation.to_bytes(4, "big") + len(keys).to_bytes(4, "big") + keys


@pytest.mark.usefixtures("storms_apply")
def test_locks_held_for_a_round_are_released_wherever_a_handler_raises() -> None:
    """``holding`` (a polling round or a batch with its Devices' locks)."""
    locks = [threading.Lock() for _ in range(19)]  # two ``with`` of eight, then three of one

    def step() -> None:
        for _ in range(20):
            holding(locks, lambda: sum(range(20)))

    def check(raised: Raised) -> None:
        assert not any(lock.locked() for lock in locks), "a lock stayed taken"

    with Storm() as storm:
        interrupted = storm.run(SECONDS, step, check)
    print(f"{interrupted} interruptions ({storm.raised} raised)")
    assert interrupted > 50, "the storm did not interrupt the rounds"


class _Recorded:
    """A lock stand-in that records when it is taken and released."""

    def __init__(self, name: int, log: list[tuple[str, int]]) -> None:
        self.name, self.log = name, log

    def __enter__(self) -> None:
        self.log.append(("take", self.name))

    def __exit__(self, *exc_info: object) -> None:
        self.log.append(("release", self.name))


def test_holding_takes_the_locks_in_their_order_and_calls_once() -> None:
    """Every lock taken when the function runs, once; all released, in
    reverse, after it returns or raises.  The order is what keeps two rounds
    over the same Devices from deadlocking; hundreds of Devices stay far
    from the recursion limit."""

    def fails() -> int:
        raise KeyError

    for count in (0, 1, 2, 7, 8, 9, 15, 16, 17, 23, 500):
        log: list[tuple[str, int]] = []
        calls: list[int] = []
        locks = [_Recorded(i, log) for i in range(count)]
        taken = [("take", i) for i in range(count)]
        released = [("release", i) for i in reversed(range(count))]

        def function(log: list[tuple[str, int]] = log, calls: list[int] = calls) -> int:
            calls.append(len(log))
            return 7

        assert holding(locks, function) == 7
        assert calls == [count]  # once, every lock taken
        assert log == taken + released
        log.clear()
        with pytest.raises(KeyError):
            holding(locks, fails)
        assert log == taken + released


def _decoded_keys(kept: Any) -> pr.Registrations:
    """What the C decoder makes of a ``struct pr_previous``'s READ KEYS response."""
    keys, out = ffi.new("uint64_t[]", 1024), ffi.new("struct pr_keys *")
    rc = lib.pr_decode_read_keys(kept.data, kept.length, keys, 1024, out, ffi.new("uint64_t *"))
    assert rc == lib.PR_OK
    return pr.Registrations(out.generation, tuple(keys[0 : out.count]))


@pytest.mark.usefixtures("storms_apply")
def test_device_reads_and_buffers_survive_a_handler_raising_anywhere(
    fake_lib: FakeLib, device: pr.Device
) -> None:
    """READ KEYS, READ RESERVATION, the buffer growth of a response that did
    not fit, and open/close: after each interruption the lock is free, the
    capacity is the buffer's, the hot path's arguments are the current
    buffers, and a closed Device sends nothing."""
    short, long = _keys(2), _keys(700)  # 5,608 bytes: more than the first 4,096
    no_reservation = bytes.fromhex("00 00 00 09 00 00 00 00")
    other: list[pr.Device] = []
    before = null_descriptors()

    steps = [0]

    def step() -> None:
        # The keys' generation changes from step to step, so a result kept
        # for another response than the kept one would be seen (check).
        steps[0] += 1
        generation = steps[0] % 1000
        before_growth, after_growth = _keys(2, generation), _keys(3, generation)
        fake_lib.replies[:] = [data(before_growth), data(no_reservation), data(long), data(long)]
        fake_lib.in_flight = False
        fake_lib.calls.clear()
        assert device.read_keys() == pr.Registrations(generation, (1, 2))
        assert device.read_reservation() == pr.ReservationStatus(9, None)
        device.read_keys(timeout=5)  # the general path: grows the buffer
        fake_lib.replies[:] = [data(after_growth)]  # (one long reply is left if it had grown)
        assert device.read_keys() == pr.Registrations(generation, (1, 2, 3))  # grown buffers
        device._allocate(4096)  # back to the first size, for the next step
        other.append(pr.Device("/dev/sg-other"))
        other[0].close()
        other.clear()

    def check(raised: Raised) -> None:
        # Stops at the first: the next step would use the broken state.
        assert not device._lock.locked(), "the lock stayed taken"
        assert ffi.sizeof(device._buffer) == device._capacity, (
            f"capacity {device._capacity}, buffer {ffi.sizeof(device._buffer)}"
        )
        assert ffi.sizeof(device._keys) == 8 * device._max_keys
        call = device._keys_call
        assert call is None or (
            call[1] is device._buffer
            and call[4] is device._keys
            and call[8] is device._previous[0]
            and device._reservation_call[6] is device._previous[1]
        ), "the hot path's arguments are not the current buffers"
        serial, result = device._last_keys
        kept = device._previous[0]
        if serial == kept.serial:  # else the next call decodes: the serial differs
            assert result == _decoded_keys(kept), "the kept result is not the kept response's"
        for half_closed in other:
            assert not half_closed.closed or half_closed._keys_call is None
            half_closed.close()
        other.clear()

    with Storm() as storm:
        interrupted = storm.run(SECONDS, step, check, tidy=lambda: close_leaked(before, [device]))
    print(f"{interrupted} interruptions")
    assert interrupted > 50
    fake_lib.replies[:] = [data(short)]
    fake_lib.in_flight = False
    assert device.read_keys() == pr.Registrations(9, (1, 2))


@pytest.mark.usefixtures("storms_apply")
def test_polling_survives_a_handler_raising_anywhere(
    fake_batch: FakeBatch, fake_lib: FakeLib
) -> None:
    """``poll()`` over a given Device and a path, its first round cut short
    (so the re-read's batch runs too), and a kept Poller whose device goes
    away every other round (closed, reopened the round after): after each
    interruption the given Device's lock is free, and the kept Poller never
    keeps a closed device in use.  The interruptions must have reached the
    re-read's batch and the kept Poller's rounds."""
    long = _keys(700)
    gone = Failure(lib.PR_ERR_OS, os_error=errno.ENODEV)
    given = pr.Device("/dev/sg-given")
    kept = Poller(["/dev/sg-kept"], ("keys",))
    reached = {"batch": 0, "kept": 0, "closing": 0}
    before = null_descriptors() - {given._device.handle}
    stage = ["poll"]

    def step() -> None:
        fake_batch.answers[:] = [long] * 4 + [gone, long, long]
        fake_batch.sent.clear()
        stage[0] = "poll"
        poll([given, "/dev/sg-own"], ("keys",))
        stage[0] = "kept"
        kept._allocations.clear()  # as new: its first round is cut short again
        kept.poll()  # the device went away: closed
        kept.poll()  # reopened, and read again (cut short: the batch)

    def check(raised: Raised) -> None:
        names = frames(raised)
        reached["batch"] += "_batch._run" in names
        reached["kept"] += stage[0] == "kept" and "poll.poll" in names
        reached["closing"] += "poll._closed" in names
        assert not given._lock.locked(), "the given Device's lock stayed taken"
        device = kept._open[0]
        assert device is None or not device.closed, "the Poller keeps a closed device"

    try:
        with Storm() as storm:
            interrupted = storm.run(
                SECONDS,
                step,
                check,
                until=lambda: all(reached.values()),
                tidy=lambda: close_leaked(before, [given, kept._open[0]]),
            )
        print(f"{interrupted} interruptions, reached {reached}")
        assert interrupted > 50
        assert reached["batch"] > 0 and reached["kept"] > 0 and reached["closing"] > 0, reached
        fake_batch.answers[:] = [long] * 2
        (entry,) = kept.poll()
        assert isinstance(entry, PollResult) and entry.keys is not None, entry
        assert len(entry.keys.keys) == 700
    finally:
        kept.close()
        given.close()


def test_watch_ends_with_status_0_wherever_sigterm_lands() -> None:
    """SIGTERM at a random moment of a watch with a tiny interval (rounds of
    a path that does not exist, and the pauses between them) ends it with
    the "stopped" event, every time: the handler takes no lock, so it cannot
    wait for one the interrupted main thread holds."""
    rng = random.Random(20261201)
    # Around the runs a SIGTERM that comes late is harmless (never pytest's end).
    outer = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    faulthandler.dump_traceback_later(HANG_LIMIT, exit=True)
    try:
        for run in range(150):
            ready = threading.Event()
            installed = signal.getsignal(signal.SIGTERM)

            def terminate(delay: float, ready: threading.Event, installed: object) -> None:
                while signal.getsignal(signal.SIGTERM) is installed:  # until watch's is in
                    time.sleep(0.0001)
                ready.set()
                time.sleep(delay)
                os.kill(os.getpid(), signal.SIGTERM)

            sender = threading.Thread(
                target=terminate, args=(rng.uniform(0.0, 0.01), ready, installed), daemon=True
            )
            out = io.StringIO()
            sender.start()
            with contextlib.redirect_stdout(out):
                status = watch(["/nonexistent/pr-native-watch"], 1e-6, 1.0, True)
            sender.join(10)
            assert ready.is_set() and not sender.is_alive()
            lines = out.getvalue().splitlines()
            assert status == 0 and lines and '"event": "stopped"' in lines[-1], (run, lines[-3:])
            assert signal.getsignal(signal.SIGTERM) is installed
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGTERM, outer)
