"""A storm of signals whose handler raises, as KeyboardInterrupt would: for
the tests that nothing is left locked or half done wherever it lands."""

from __future__ import annotations

import signal
from types import FrameType


class Raised(BaseException):
    """What the storm's handler raises (as KeyboardInterrupt would)."""


class Storm:
    """SIGALRM every ``interval`` seconds (an interval timer: the kernel
    sends it whatever the threads do, so it lands anywhere in the Python
    code, not only where the GIL was let go); while ``armed``, its handler
    raises Raised, once per arming.  Arm it inside the ``try`` that catches
    it."""

    def __init__(self, interval: float = 0.0002) -> None:
        self.interval = interval
        self.armed = False
        self.raised = 0

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.armed:
            self.armed = False  # once per arming: not again in the except clause
            self.raised += 1
            raise Raised

    def __enter__(self) -> Storm:
        self._previous = signal.signal(signal.SIGALRM, self._handler)
        signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._previous)
