"""What a fault may not leave behind in the process that met it: open
descriptors (/proc/self/fd), resident memory (VmRSS) and CPU time burnt
while it only waited (a wait that spins shows as CPU time close to the wall
time, or above it with several threads spinning on two vCPUs).

``Usage.now()`` before and after a fault, ``Usage.since(before)`` for the
difference, ``check()`` for the assertion with a report of all three.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

# Thresholds, with the lab's TCG guest in mind (Python ~10x slower than on
# the host): a leak of one descriptor per command, of a few hundred bytes per
# command over the hundreds a test sends, or one thread spinning through a
# wait all exceed them; allocator noise and the work the tests do stay below.
RSS_GROWTH_KIB = 4096
CPU_SHARE = 0.5  # process CPU seconds per wall-clock second, all threads


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


@dataclass(frozen=True)
class Usage:
    fds: int  #: open descriptors
    rss_kib: int  #: resident set
    cpu: float  #: process CPU time, user + system, every thread
    wall: float  #: time.monotonic()

    @classmethod
    def now(cls) -> Usage:
        times = os.times()
        return cls(
            len(os.listdir("/proc/self/fd")),
            _rss_kib(),
            times.user + times.system,
            time.monotonic(),
        )

    def since(self, before: Usage) -> Usage:
        return Usage(
            self.fds - before.fds,
            self.rss_kib - before.rss_kib,
            self.cpu - before.cpu,
            self.wall - before.wall,
        )

    def line(self) -> str:
        share = self.cpu / self.wall if self.wall > 0 else 0.0
        return (
            f"descriptors {self.fds:+d}, RSS {self.rss_kib:+d} KiB, CPU {self.cpu:.2f} s "
            f"over {self.wall:.2f} s ({share:.0%})"
        )


def check(before: Usage, *, cpu_share: float | None = CPU_SHARE, what: str = "") -> Usage:
    """Assert no descriptor growth, RSS growth under RSS_GROWTH_KIB and CPU
    time under ``cpu_share`` of the wall time since ``before`` (None: the
    time was spent working, not waiting; only reported); returns the
    difference (printed too)."""
    delta = Usage.now().since(before)
    report = f"{what}: {delta.line()}" if what else delta.line()
    print(report)
    assert delta.fds <= 0, f"descriptors leaked: {report}"
    assert delta.rss_kib < RSS_GROWTH_KIB, f"memory grew: {report}"
    if cpu_share is not None:
        assert delta.cpu <= cpu_share * delta.wall, f"CPU spent while waiting: {report}"
    return delta
