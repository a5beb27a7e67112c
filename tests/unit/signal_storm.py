"""A storm of signals whose handler raises, as KeyboardInterrupt would: for
the tests that nothing is left locked or half done wherever it lands."""

from __future__ import annotations

import faulthandler
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

#: Seconds after which a storm test that hangs (a lock left taken: the next
#: ``with`` on it waits for ever) ends the whole run with every thread's
#: traceback, instead of holding CI until its own limit.
HANG_LIMIT = 120.0


class Raised(BaseException):
    """What the storm's handler raises (as KeyboardInterrupt would)."""


class Storm:
    """SIGALRM every ``interval`` seconds (an interval timer: the kernel
    sends it whatever the threads do, so it lands anywhere in the Python
    code, not only where the GIL was let go); while ``armed``, its handler
    raises Raised, once per arming.  ``run()`` arms it where it is caught."""

    def __init__(self, interval: float = 0.0002) -> None:
        self.interval = interval
        self.armed = False
        self.raised = 0

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.armed:
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

    def run(self, seconds: float, step: Callable[[], object], check: Callable[[], None]) -> int:
        """``step()`` over and over for ``seconds``, interrupted wherever the
        signals land; ``check()`` after each interruption.  Returns how many
        interruptions there were."""
        interrupted = 0
        end = time.monotonic() + seconds
        while True:
            try:
                while time.monotonic() < end:
                    # Armed again at every step: an exception that lands where
                    # Python ignores it (a gc callback) disarms only one step.
                    self.armed = True
                    step()
                self.armed = False
                return interrupted
            except Raised:
                interrupted += 1
                check()


def with_statement_is_interruptible() -> bool:
    """This interpreter can itself leave a ``with`` statement's lock taken
    when a handler raises right after ``__enter__`` (CPython 3.9: bpo-29988;
    3.14 releases without the fix of gh-148874): nothing a library does
    prevents it there, so the storm tests do not apply."""
    lock = threading.Lock()
    leaked = []

    def step() -> None:
        with lock:
            pass

    def check() -> None:
        if lock.locked():
            leaked.append(1)
            lock.release()

    with Storm() as storm:
        storm.run(0.5, step, check)
    return bool(leaked)
