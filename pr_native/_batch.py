"""Run data-in commands on several open Devices with one C call.

``execute()`` fills an array of ``struct pr_batch_command`` and calls
``pr_execute_batch()`` (csrc/pr_poll_linux.c on Linux: the sg driver's
asynchronous interface; csrc/pr_poll_fallback.c elsewhere) with the GIL
released.  Each Device's lock is held for the whole batch, so no other thread
uses its descriptor meanwhile.  Used by ``pr_native.poll`` and by the
sg_persist mode's INQUIRY.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import _prin
from . import cdb as _cdb
from ._native import ffi, lib
from ._record import TYPE_CHECKING, Record
from .constants import PRInAction
from .device import Device
from .errors import error_for_result

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Command(Record):
    """One data-in command: ``cdb`` to ``device``, at most ``allocation`` bytes back."""

    __slots__ = ()

    device: Device
    cdb: bytes
    allocation: int
    name: str
    """How errors name the command, e.g. "PERSISTENT RESERVE IN (READ KEYS)"."""


class Outcome(Record):
    """What one command returned: ``data`` (the bytes transferred) or ``error``."""

    __slots__ = ()

    data: bytes
    error: Exception | None


def holding(locks: Sequence[Any], function: Callable[[], int], start: int = 0) -> int:
    """``function()`` with ``locks[start:]`` held, each taken by a ``with``
    statement, eight per statement while eight are left (in the order given,
    which every caller sorts the same way, so two never deadlock).
    A lock taken by ``with`` is released whatever happens, a signal
    handler's exception (KeyboardInterrupt) right after it was taken
    included; one taken by ``acquire()`` before a ``try``, or by
    ``ExitStack.enter_context()``, is not, and would stay taken: the
    Device's next command and its close() would wait for ever."""
    left = len(locks) - start
    if left <= 0:
        return function()
    if left < 8:
        # One per frame: padding a ``with`` of eight with no-op context
        # managers cost two Python calls each (one lock taken that way:
        # 60-100 µs in the lab guest, by one with statement: 9-18 µs).
        with locks[start]:
            return holding(locks, function, start + 1)
    a, b, c, d, e, f, g, h = locks[start : start + 8]
    with a, b, c, d, e, f, g, h:
        return holding(locks, function, start + 8)


def pr_in_command(device: Device, action: PRInAction, allocation: int) -> Command:
    name = f"PERSISTENT RESERVE IN ({action.name.replace('_', ' ')})"
    return Command(device, _cdb.pr_in_cdb(action, allocation), allocation, name)


def execute(
    commands: Sequence[Command], timeout_ms: int, *, resuming: bool = False
) -> list[Outcome]:
    """Run every command (concurrently where the platform can) and return one
    Outcome per command, in order.  Never raises for a failed command: its
    exception (as ``Device`` would raise it) is in ``Outcome.error``.

    A command whose wait a signal ended is issued again once the signal's
    handler has run (``_prin.interrupted``); the C core then takes the request
    still in flight over instead of queueing another, and keeps its deadline
    (``resuming``: these commands re-issue interrupted ones already)."""
    outcomes: list[Outcome | None] = [None] * len(commands)
    todo = list(range(len(commands)))
    while todo:
        again = []
        for i, rc, result, data in _run([commands[i] for i in todo], timeout_ms, resuming):
            if _prin.interrupted(rc, result):
                again.append(todo[i])
            else:
                outcomes[todo[i]] = _outcome(rc, result, data, commands[todo[i]])
        todo, resuming = again, True  # the same waits, with the same deadlines
    return [o for o in outcomes if o is not None]


def _run(
    commands: Sequence[Command], timeout_ms: int, resuming: bool = False
) -> list[tuple[int, int, Any, Any]]:
    """One pr_execute_batch() call: (index, rc, result, buffer) per command."""
    if not commands:
        return []
    batch = ffi.new("struct pr_batch_command[]", len(commands))
    buffers = [ffi.new("uint8_t[]", max(1, c.allocation)) for c in commands]
    for entry, command, buffer in zip(batch, commands, buffers):
        entry.device = command.device._device
        entry.data = buffer
        entry.data_len = command.allocation
        entry.timeout_ms = timeout_ms
        entry.cdb[0 : len(command.cdb)] = command.cdb
        entry.cdb_len = len(command.cdb)
        entry.resuming = resuming
    devices = [device for _, device in sorted({id(c.device): c.device for c in commands}.items())]

    def run() -> int:
        for device in devices:
            device._check_open()
        return lib.pr_execute_batch(batch, len(commands))  # type: ignore[no-any-return]

    rc = holding([device._lock for device in devices], run)
    if rc != lib.PR_OK:
        raise ValueError("the C core rejected the batch")
    return [(i, batch[i].rc, batch[i].result, buffers[i]) for i in range(len(commands))]


def _outcome(rc: int, result: Any, buffer: Any, command: Command) -> Outcome:
    if rc == lib.PR_OK:
        return Outcome(bytes(ffi.buffer(buffer, result.transferred)), None)
    error = error_for_result(rc, result, device=command.device.path, command=command.name)
    return Outcome(b"", error)
