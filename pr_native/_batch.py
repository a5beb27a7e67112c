"""Run data-in commands on several open Devices with one C call.

``execute()`` fills an array of ``struct pr_batch_command`` and calls
``pr_execute_batch()`` (csrc/pr_poll_linux.c on Linux: the sg driver's
asynchronous interface; csrc/pr_poll_fallback.c elsewhere) with the GIL
released.  Each Device's lock is held for the whole batch, so no other thread
uses its descriptor meanwhile.  Used by ``pr_native.poll`` and, for the raw
response bytes, by the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from . import cdb as _cdb
from ._native import ffi, lib
from .constants import PRInAction
from .device import Device
from .errors import raise_for_result


@dataclass(frozen=True)
class Command:
    """One data-in command: ``cdb`` to ``device``, at most ``allocation`` bytes back."""

    device: Device
    cdb: bytes
    allocation: int
    name: str
    """How errors name the command, e.g. "PERSISTENT RESERVE IN (READ KEYS)"."""


@dataclass(frozen=True)
class Outcome:
    """What one command returned: ``data`` (the bytes transferred) or ``error``."""

    data: bytes
    error: Exception | None


def pr_in_command(device: Device, action: PRInAction, allocation: int) -> Command:
    name = f"PERSISTENT RESERVE IN ({action.name.replace('_', ' ')})"
    return Command(device, _cdb.pr_in_cdb(action, allocation), allocation, name)


def execute(commands: Sequence[Command], timeout_ms: int) -> list[Outcome]:
    """Run every command (concurrently where the platform can) and return one
    Outcome per command, in order.  Never raises for a failed command: its
    exception (as ``Device`` would raise it) is in ``Outcome.error``."""
    if not commands:
        return []
    batch = ffi.new("struct pr_batch_command[]", len(commands))
    buffers = [ffi.new("uint8_t[]", max(1, c.allocation)) for c in commands]
    unique = {id(c.device): c.device for c in commands}
    with ExitStack() as stack:
        for _, device in sorted(unique.items()):
            stack.enter_context(device._lock)
            device._check_open()
        for entry, command, buffer in zip(batch, commands, buffers):
            entry.device = command.device._device
            entry.data = buffer
            entry.data_len = command.allocation
            entry.timeout_ms = timeout_ms
            entry.cdb[0 : len(command.cdb)] = command.cdb
            entry.cdb_len = len(command.cdb)
        rc = lib.pr_execute_batch(batch, len(commands))
    if rc != lib.PR_OK:
        raise ValueError("the C core rejected the batch")
    return [
        _outcome(entry, command, buffer) for entry, command, buffer in zip(batch, commands, buffers)
    ]


def _outcome(entry: object, command: Command, buffer: object) -> Outcome:
    result = entry.result  # type: ignore[attr-defined]
    rc = entry.rc  # type: ignore[attr-defined]
    if rc == lib.PR_OK:
        return Outcome(bytes(ffi.buffer(buffer, result.transferred)), None)
    try:
        raise_for_result(rc, result, device=command.device.path, command=command.name, is_out=False)
    except Exception as error:  # raise_for_result always raises: keep what it raised
        return Outcome(b"", error)
