"""A storm of signals whose handler raises, as KeyboardInterrupt would: for
the tests that nothing is left locked or half done wherever it lands."""

from __future__ import annotations

import faulthandler
import gc
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

#: Seconds after which a storm test that hangs (a lock left taken: the next
#: ``with`` on it waits for ever) ends the whole run with every thread's
#: traceback, instead of holding CI until its own limit.
HANG_LIMIT = 120.0


class Raised(BaseException):
    """What the storm's handler raises (as KeyboardInterrupt would)."""


class Storm:
    """SIGALRM every ``interval`` seconds (an interval timer: the kernel
    sends it whatever the threads do, so it lands anywhere in the Python
    code, not only where the GIL was let go).  ``run()`` arms the handler
    for one step at a time, to raise Raised once, at a random point of the
    step."""

    def __init__(self, interval: float = 0.0002, seed: int = 20261201) -> None:
        self.interval = interval
        self.armed = False
        self.raised = 0
        self._fire_at = 0.0
        self._rng = random.Random(seed)

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.armed and time.perf_counter() >= self._fire_at:
            self.armed = False  # not again in the except clause
            self.raised += 1
            raise Raised

    def __enter__(self) -> Storm:
        faulthandler.dump_traceback_later(HANG_LIMIT, exit=True)
        self._previous = signal.signal(signal.SIGALRM, self._handler)
        signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        # Ignored first: a SIGALRM still on its way is dropped, not delivered
        # to a default handler that would end the process.
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.signal(signal.SIGALRM, self._previous)
        faulthandler.cancel_dump_traceback_later()

    def run(
        self,
        seconds: float,
        step: Callable[[], object],
        check: Callable[[Raised], None],
        *,
        at_least: int = 0,
        until: Callable[[], bool] | None = None,
        tidy: Callable[[], None] | None = None,
    ) -> int:
        """``step()`` over and over for ``seconds`` (and on until ``at_least``
        interruptions and ``until()``, 30 s more at most), each time
        interrupted at a random point of it (from how long the steps that
        ended unsignalled took) or not at all when it ends first;
        ``check(raised)`` after each interruption; ``tidy()`` after every
        200th, and at the end, out of the except clause (the exception and
        the frames it held are gone).  Returns how many there were."""
        took = []
        for _ in range(3):
            started = time.perf_counter()
            step()
            took.append(time.perf_counter() - started)
        span = sorted(took)[1]
        interrupted = 0
        end = time.monotonic() + seconds
        limit = end + 30.0  # the test's assertions say the rest

        def more() -> bool:
            now = time.monotonic()
            wanted = interrupted < at_least or (until is not None and not until())
            return now < end or (wanted and now < limit)

        while True:
            try:
                while more():
                    started = time.perf_counter()
                    self._fire_at = started + self._rng.uniform(0.0, span)
                    self.armed = True
                    step()
                    self.armed = False
                    span = 0.8 * span + 0.2 * (time.perf_counter() - started)
                break
            except Raised as raised:
                interrupted += 1
                check(raised)
            if tidy is not None and interrupted % 200 == 0:
                tidy()
        if tidy is not None:
            tidy()
        return interrupted


def frames(raised: BaseException) -> set[str]:
    """``module.function`` of every frame the exception went through."""
    names = set()
    tb = raised.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        names.add(f"{Path(code.co_filename).stem}.{code.co_name}")
        tb = tb.tb_next
    return names


def with_statement_is_interruptible() -> bool:
    """This interpreter can itself leave a ``with`` statement's lock taken
    when a handler raises right after ``__enter__`` (CPython 3.9: bpo-29988;
    3.14 releases without the fix of gh-148874): nothing a library does
    prevents it there, so the storm tests do not apply."""
    lock = threading.Lock()
    leaked = []

    def step() -> None:
        for _ in range(50):
            with lock:
                pass

    def check(raised: Raised) -> None:
        if lock.locked():
            leaked.append(1)
            lock.release()

    with Storm() as storm:
        storm.run(0.2, step, check, at_least=500)
    return bool(leaked)


def null_descriptors() -> set[int]:
    """The open descriptors of /dev/null (what the scripted C core opens for a
    device)."""
    null = os.stat(os.devnull)
    found = set()
    for name in os.listdir("/dev/fd"):
        try:
            st = os.fstat(int(name))
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (null.st_dev, null.st_ino):
            found.add(int(name))
    return found


def close_leaked(before: set[int], devices: list[Any]) -> None:
    """Close the /dev/null descriptors opened since ``before`` that no open
    Device of ``devices`` holds, once every unreachable Device is finalized:
    the scripted open() interrupted between opening and storing its
    descriptor (the C core's is one call) leaks one, and a storm would leak
    hundreds."""
    gc.collect()
    held = {d._device.handle for d in devices if d is not None}
    for fd in null_descriptors() - before - held:
        os.close(fd)
