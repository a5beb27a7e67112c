"""Signal handlers that raise (KeyboardInterrupt, watch's SIGTERM) never leave
a lock taken, and never take one (no device: the locks and the watch's
signal handling on their own; tests/lab/suite/test_exactly_once.py has the
same storm against a real device)."""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import threading
import time

import pytest

from pr_native.poll import _holding
from pr_native.watch import watch

from .signal_storm import Raised, Storm

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX signals")


def test_locks_held_for_a_round_are_released_wherever_a_handler_raises() -> None:
    """``_holding`` (the Poller's round with its given Devices' locks) under a
    storm of raising signals: after every interruption, no lock is taken."""
    locks = [threading.Lock() for _ in range(19)]  # three ``with`` levels, the last one short
    calls = 0

    def work() -> int:
        nonlocal calls
        calls += 1
        return sum(range(20))

    interrupted = leaked = 0
    with Storm() as storm:
        end = time.monotonic() + 1.5
        while True:
            try:
                storm.armed = True
                while time.monotonic() < end:
                    assert _holding(locks, work, 0) == 190
                storm.armed = False
                break
            except Raised:
                interrupted += 1
                taken = [lock for lock in locks if lock.locked()]
                leaked += len(taken)
                for lock in taken:  # so that the count goes on
                    lock.release()
    print(f"{calls} rounds, {interrupted} interrupted ({storm.raised} raised), {leaked} leaked")
    assert interrupted > 50, "the storm did not interrupt the rounds"
    assert leaked == 0


def test_holding_runs_the_function_with_every_lock_taken() -> None:
    locks = [threading.Lock() for _ in range(9)]
    seen = _holding(locks, lambda: sum(lock.locked() for lock in locks), 0)
    assert seen == 9 and not any(lock.locked() for lock in locks)
    assert _holding([], lambda: 7, 0) == 7


def test_watch_ends_with_status_0_wherever_sigterm_lands() -> None:
    """SIGTERM at a random moment of a watch with a tiny interval (rounds of
    a path that does not exist, and the pauses between them) ends it with
    the "stopped" event, every time: the handler takes no lock, so it cannot
    wait for one the interrupted main thread holds."""
    rng = random.Random(20261201)
    for run in range(150):
        ready = threading.Event()
        previous = signal.getsignal(signal.SIGTERM)

        def terminate(delay: float, ready: threading.Event, previous: object) -> None:
            # Only once watch's handler is in place (else SIGTERM kills pytest).
            while signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, previous):
                time.sleep(0.0001)
            ready.set()
            time.sleep(delay)
            os.kill(os.getpid(), signal.SIGTERM)

        sender = threading.Thread(
            target=terminate, args=(rng.uniform(0.0, 0.01), ready, previous), daemon=True
        )
        out = io.StringIO()
        sender.start()
        with contextlib.redirect_stdout(out):
            status = watch(["/nonexistent/pr-native-watch"], 1e-6, 1.0, True)
        sender.join(10)
        assert ready.is_set() and not sender.is_alive()
        lines = out.getvalue().splitlines()
        assert status == 0 and lines and '"event": "stopped"' in lines[-1], (run, lines[-3:])
        assert signal.getsignal(signal.SIGTERM) == previous
