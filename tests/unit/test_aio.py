"""pr_native.aio without a device: a pipe stands in for the sg descriptor's
readiness (the C core's pr_submit/pr_collect are scripted), the blocking
Device seam for the executor path; argument checks and cancellation."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import pr_native as pr
from pr_native import aio
from pr_native._native import ffi, lib

from .fake_device import FakeLib, data, fail, good

KEYS = bytes.fromhex("00 00 00 07 00 00 00 08 00 00 00 00 00 00 00 a1")


@dataclass
class PipeCore:
    """pr_submit/pr_collect/pr_abandon over a pipe: a command completes when
    a byte is written to the pipe (``complete``), with ``response``."""

    real: Any
    read_fd: int
    write_fd: int
    response: bytes = KEYS
    rc: int = 0
    submitted: list[bytes] = field(default_factory=list)
    abandoned: list[int] = field(default_factory=list)
    collects: int = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def pr_submit(self, device: Any, cdb: bytes, cdb_len: int, direction: int, data: Any,
                  length: int, timeout_ms: int, result: Any, ticket: Any) -> int:  # fmt: skip
        self.submitted.append(bytes(cdb[:cdb_len]))
        ffi.memmove(result.cdb, cdb, cdb_len)
        result.cdb_len = cdb_len
        result.dispatched = 1
        ticket[0] = len(self.submitted)
        return 0

    def pr_collect(self, device: Any, ticket: int, data: Any, length: int, result: Any,
                   wait_ms: Any) -> int:  # fmt: skip
        self.collects += 1
        try:
            os.read(self.read_fd, 1)
        except BlockingIOError:
            wait_ms[0] = 60_000
            return int(lib.PR_ERR_PENDING)
        if self.rc:
            return self.rc
        ffi.memmove(data, self.response, len(self.response))
        result.transferred = len(self.response)
        return 0

    def pr_abandon(self, device: Any, ticket: int) -> None:
        self.abandoned.append(ticket)

    def complete(self) -> None:
        os.write(self.write_fd, b"x")


@pytest.fixture
def core(monkeypatch: pytest.MonkeyPatch) -> Iterator[PipeCore]:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    fake = PipeCore(lib, read_fd, write_fd)
    monkeypatch.setattr(aio, "lib", fake)
    yield fake
    os.close(read_fd)
    os.close(write_fd)


def _native(core: PipeCore) -> aio.Device:
    dev = aio.Device("/dev/sg-fake")
    dev._native = True
    os.close(dev._device._device.handle)
    dev._device._device.handle = os.dup(core.read_fd)  # readiness comes from the pipe
    return dev


async def _raised(task: asyncio.Task[Any]) -> BaseException:
    """What awaiting the cancelled PR OUT raises (it must raise)."""
    try:
        await task
    except BaseException as raised:
        return raised
    raise AssertionError("the cancelled PR OUT returned")


def test_a_read_waits_on_the_loop_until_the_descriptor_is_readable(
    fake_lib: FakeLib, core: PipeCore
) -> None:
    async def main() -> pr.Registrations:
        dev = _native(core)
        task = asyncio.create_task(dev.read_keys())
        await asyncio.sleep(0.05)
        assert not task.done() and core.collects == 1  # parked on add_reader, no thread
        core.complete()
        return await task

    threads = threading.active_count()
    assert asyncio.run(main()) == pr.Registrations(7, (0xA1,))
    assert threading.active_count() == threads
    assert core.submitted == [bytes.fromhex("5e 00 00 00 00 00 00 10 00 00")]


def test_cancelled_pr_in_is_abandoned(fake_lib: FakeLib, core: PipeCore) -> None:
    async def main() -> None:
        dev = _native(core)
        task = asyncio.create_task(dev.read_keys())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert core.abandoned == [1]


def test_cancelled_pr_out_is_outcome_unknown_and_never_resent(
    fake_lib: FakeLib, core: PipeCore
) -> None:
    async def main() -> BaseException:
        dev = _native(core)
        task = asyncio.create_task(dev.preempt(0xB2, 0xA1, pr.ReservationType.EXCLUSIVE_ACCESS))
        await asyncio.sleep(0.05)
        task.cancel()
        return await _raised(task)  # the canceller sees what the task raised

    raised = asyncio.run(main())
    assert isinstance(raised, pr.OutcomeUnknown)
    assert isinstance(raised.__cause__, asyncio.CancelledError)
    assert raised.cdb == bytes.fromhex("5f 04 03 00 00 00 00 00 18 00")  # PREEMPT, EA
    assert core.submitted == [raised.cdb] and core.abandoned == [1]


@pytest.mark.parametrize(
    ("rc", "raised_type"),
    [(0, asyncio.CancelledError), (int(lib.PR_ERR_TIMEOUT), pr.OutcomeUnknown)],
    ids=["completed", "timed-out"],
)
def test_a_pr_out_whose_completion_is_there_when_cancelled_ends_as_it_did(
    fake_lib: FakeLib, core: PipeCore, rc: int, raised_type: type[BaseException]
) -> None:
    """The completion arrived and the cancellation lands before the loop
    collected it: one last look collects it, and its end decides."""
    core.rc, core.response = rc, b""

    async def main() -> BaseException:
        dev = _native(core)
        task = asyncio.create_task(dev.clear(0xA1))
        await asyncio.sleep(0.05)
        core.complete()
        task.cancel()
        return await _raised(task)

    raised = asyncio.run(main())
    assert type(raised) is raised_type
    assert len(core.submitted) == 1 and core.abandoned == []


def test_pr_out_verdict_is_the_blocking_devices(fake_lib: FakeLib, core: PipeCore) -> None:
    core.rc = int(lib.PR_ERR_TIMEOUT)

    async def main() -> None:
        dev = _native(core)
        task = asyncio.create_task(dev.clear(0xA1))
        await asyncio.sleep(0.01)
        core.complete()
        await task

    with pytest.raises(pr.OutcomeUnknown) as info:
        asyncio.run(main())
    assert isinstance(info.value.__cause__, pr.CommandTimeout)


@pytest.mark.parametrize(
    ("method", "args", "error"),
    [
        ("register", (-1,), ValueError),
        ("reserve", (1, 2), ValueError),  # type 2 is obsolete
        ("preempt", (1, "a1", pr.ReservationType.WRITE_EXCLUSIVE), TypeError),
        ("clear", (1 << 64,), ValueError),
    ],
)
def test_bad_arguments_send_nothing(
    fake_lib: FakeLib, core: PipeCore, method: str, args: tuple[Any, ...], error: type
) -> None:
    async def main() -> None:
        await getattr(_native(core), method)(*args)

    with pytest.raises(error):
        asyncio.run(main())
    assert core.submitted == [] and fake_lib.calls == []


def test_read_only_refuses_pr_out_before_io(fake_lib: FakeLib, core: PipeCore) -> None:
    async def main() -> None:
        dev = aio.Device("/dev/sg-fake", read_only=True)
        dev._native = True
        await dev.register(1)

    with pytest.raises(ValueError, match="read_only=True"):
        asyncio.run(main())
    assert core.submitted == []


def test_nodes_without_an_asynchronous_interface_use_the_executor(fake_lib: FakeLib) -> None:
    fake_lib.replies.append(data(KEYS))

    async def main() -> pr.Registrations:
        async with aio.Device("/dev/sg-fake") as dev:  # /dev/null below: no sg queue
            assert not dev._native
            return await dev.read_keys()

    assert asyncio.run(main()) == pr.Registrations(7, (0xA1,))
    assert [c.name for c in fake_lib.calls] == ["pr_read_keys"]


def test_poll_and_watch_check_their_arguments() -> None:
    with pytest.raises(TypeError):
        asyncio.run(aio.poll("/dev/sg1"))
    with pytest.raises(ValueError):
        asyncio.run(aio.poll(["/dev/sg1"], ("status",)))

    async def first_event() -> None:
        async for _ in aio.watch(["/dev/sg1"], interval=0):
            break

    with pytest.raises(ValueError, match="interval"):
        asyncio.run(first_event())


@pytest.mark.parametrize(
    ("end", "raised_type"),
    [
        (good(), asyncio.CancelledError),  # it completed: the end is known
        (fail(lib.PR_ERR_STATUS, status=0x18), asyncio.CancelledError),  # not performed
        (fail(lib.PR_ERR_TIMEOUT, os_error=errno.ETIMEDOUT), pr.OutcomeUnknown),
    ],
    ids=["completed", "conflict", "timed-out"],
)
def test_cancelled_pr_out_on_the_executor_path_ends_as_the_blocking_device_decides(
    fake_lib: FakeLib, end: Any, raised_type: type[BaseException]
) -> None:
    """A blocking PR OUT that was running when its awaiter was cancelled:
    the wait goes on, the Device stays busy, and the command's own end
    decides: OutcomeUnknown only when that end leaves it unknown."""
    running, release = threading.Event(), threading.Event()

    def slow(call: Any, result: Any) -> int:
        running.set()
        release.wait(10)
        return end(call, result)  # type: ignore[no-any-return]

    fake_lib.replies.append(slow)

    async def main() -> BaseException:
        dev = aio.Device("/dev/sg-fake")
        task = asyncio.create_task(dev.clear(0xA1))
        while not running.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.05)
        assert not task.done()  # still waiting for the thread
        release.set()
        return await _raised(task)

    raised = asyncio.run(main())
    assert type(raised) is raised_type
    if raised_type is pr.OutcomeUnknown:
        assert isinstance(raised.__cause__, pr.CommandTimeout)
        assert isinstance(raised.__context__, asyncio.CancelledError)
    assert len(fake_lib.calls) == 1
