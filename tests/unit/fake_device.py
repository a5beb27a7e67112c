"""A stand-in for the device behind ``Device``: no SCSI device exists here.

``FakeLib`` replaces ``pr_native.device.lib``.  It delegates every attribute
to the real C core, but for each PR operation it runs the real C function
against /dev/null: the real CDB and parameter-list builders fill
``result.cdb`` and the data buffer, and the SG_IO ioctl fails harmlessly with
ENOTTY.  It records what would have been sent (``calls``) and answers with the
next scripted reply (``data``, ``fail``, ``good``).
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from pr_native._native import ffi, lib

# The decoder pr_ops.c runs after each PR IN, with its output arguments.
_DECODERS: dict[str, Callable[[tuple[Any, ...], int, Any], int]] = {
    "pr_read_keys": lambda a, n, needed: lib.pr_decode_read_keys(a[1], n, a[4], a[5], a[6], needed),
    "pr_read_reservation": lambda a, n, needed: lib.pr_decode_read_reservation(
        a[1], n, a[4], needed
    ),
    "pr_report_capabilities": lambda a, n, needed: lib.pr_decode_report_capabilities(
        a[1], n, a[4], needed
    ),
    "pr_read_full_status": lambda a, n, needed: lib.pr_decode_read_full_status(
        a[1], n, a[4], a[5], a[6], needed
    ),
    # INQUIRY (pr_native.identity): the same argument layout
    "pr_inquiry": lambda a, n, needed: lib.pr_decode_inquiry(a[1], n, a[4], needed),
    "pr_supported_vpd_pages": lambda a, n, needed: lib.pr_decode_supported_vpd_pages(
        a[1], n, a[4], needed
    ),
    "pr_unit_serial_number": lambda a, n, needed: lib.pr_decode_unit_serial_number(
        a[1], n, a[4], needed
    ),
    "pr_device_identification": lambda a, n, needed: lib.pr_decode_device_identification(
        a[1], n, a[4], a[5], a[6], needed
    ),
}


@dataclass
class Call:
    """One operation the Device asked for, as the C core would have sent it."""

    name: str
    args: tuple[Any, ...]
    cdb: bytes
    timeout_ms: int
    capacity: int | None = None
    buffer_size: int | None = None
    parameters: bytes = b""


Reply = Callable[[Call, Any], int]


@dataclass
class FakeLib:
    real: Any
    calls: list[Call] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    opened: list[tuple[bytes, int]] = field(default_factory=list)
    open_rc: int = 0
    open_errno: int = 0
    resumed: int = 0
    in_flight: bool = False
    """The last scripted command is still in flight (what ``pr_settled`` says)."""
    returned: int | None = None
    """The return code of the last command whose caller a handler's exception
    met as it returned (``on_return``)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def pr_open(self, path: bytes, flags: int, device: Any, result: Any) -> int:
        self.opened.append((bytes(path), flags))
        if self.open_rc != lib.PR_OK:
            result.os_error = self.open_errno
            return self.open_rc
        device.handle = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        device.transport = lib.PR_TRANSPORT_SG_IO
        device.flags = flags
        return int(lib.PR_OK)

    def pr_close(self, device: Any) -> int:
        fd, device.handle = device.handle, -1  # first, as the C core: never closed twice
        if fd >= 0:
            os.close(fd)
        return 0

    def _run(self, name: str, args: tuple[Any, ...], timeout_ms: int) -> int:
        result = args[-1]
        rc = getattr(self.real, name)(*args)
        assert rc == lib.PR_ERR_OS and result.os_error == errno.ENOTTY, (rc, result.os_error)
        call = Call(name, args, bytes(ffi.buffer(result.cdb, result.cdb_len)), timeout_ms)
        if name == "pr_out":
            call.capacity = args[3]
            length = int.from_bytes(call.cdb[5:9], "big")
            call.parameters = bytes(ffi.buffer(args[2], length))
        elif name in _DECODERS:
            call.capacity = args[2]
            call.buffer_size = ffi.sizeof(args[1])
        self.calls.append(call)
        if not self.replies:
            raise AssertionError(f"unexpected I/O: {name}")
        result.os_error = 0
        result.dispatched = 1
        return self._scripted(self.replies.pop(0), call, result)

    def _scripted(self, reply: Reply, call: Call, result: Any) -> int:
        """``reply``'s return code; an exception it raises stands for a signal
        handler's in the middle of the wait (the command stays in flight), an
        ``on_return`` one for a handler's as the call returned."""
        try:
            rc = reply(call, result)
        except _OnReturn as returned:
            self.in_flight = returned.rc == lib.PR_ERR_INTERRUPTED
            self.returned = returned.rc
            raise returned.exception from None
        except BaseException:
            self.in_flight = True
            raise
        self.in_flight = rc == lib.PR_ERR_INTERRUPTED
        return rc

    def pr_settled(self, device: Any, result: Any) -> int:
        """The core's verdict from its own state: PR_ERR_PENDING while the
        scripted command is in flight, else the real core's reading of result."""
        if self.in_flight:
            return int(lib.PR_ERR_PENDING)
        return int(self.real.pr_settled(device, result))

    def pr_read_keys(self, *args: Any) -> int:
        return self._run("pr_read_keys", args, args[3])

    def pr_read_reservation(self, *args: Any) -> int:
        return self._run("pr_read_reservation", args, args[3])

    # The hot path's variants (pr_ops.c): the same command, then the real
    # core's serial of the response that the reply wrote, which the C core
    # has taken also when a handler's exception meets the call as it returns.
    def pr_read_keys_serial(self, *args: Any) -> int:
        if args[8] == ffi.NULL:  # the C core's own refusal, before any I/O
            return int(self.real.pr_read_keys_serial(*args))
        return self._serial(lambda: self.pr_read_keys(*args[:8]), args[8], args[1], args[7])

    def pr_read_reservation_serial(self, *args: Any) -> int:
        if args[6] == ffi.NULL:
            return int(self.real.pr_read_reservation_serial(*args))
        return self._serial(lambda: self.pr_read_reservation(*args[:6]), args[6], args[1], args[5])

    def _serial(self, command: Callable[[], int], previous: Any, buffer: Any, result: Any) -> int:
        self.returned = None
        try:
            rc = command()
        except BaseException:
            if self.returned == lib.PR_OK:
                self.real.pr_response_serial(previous, buffer, result.transferred)
            raise
        if rc != lib.PR_OK:
            return rc
        return int(self.real.pr_response_serial(previous, buffer, result.transferred))

    def pr_report_capabilities(self, *args: Any) -> int:
        return self._run("pr_report_capabilities", args, args[3])

    def pr_read_full_status(self, *args: Any) -> int:
        return self._run("pr_read_full_status", args, args[3])

    def pr_out(self, *args: Any) -> int:
        return self._run("pr_out", args, args[4])

    def pr_test_unit_ready(self, *args: Any) -> int:
        return self._run("pr_test_unit_ready", args, args[1])

    def pr_inquiry(self, *args: Any) -> int:
        return self._run("pr_inquiry", args, args[3])

    def pr_supported_vpd_pages(self, *args: Any) -> int:
        return self._run("pr_supported_vpd_pages", args, args[3])

    def pr_unit_serial_number(self, *args: Any) -> int:
        return self._run("pr_unit_serial_number", args, args[3])

    def pr_device_identification(self, *args: Any) -> int:
        return self._run("pr_device_identification", args, args[3])

    def pr_resume(self, device: Any, result: Any) -> int:
        """Waiting on for the last call's command: the next reply, no new call."""
        self.resumed += 1
        if not self.replies:
            raise AssertionError("unexpected resume")
        return self._scripted(self.replies.pop(0), self.calls[-1], result)

    def pr_execute(self, *args: Any) -> int:
        """A raw data-in command (Device._read_response): recorded, answered
        by the next reply; ``data`` replies copy the response undecoded."""
        device, cdb, cdb_len, direction, buffer, length, timeout_ms, result = args
        assert direction == lib.PR_DIR_FROM_DEVICE, "PR OUT goes through pr_out"
        result.cdb_len = cdb_len
        ffi.memmove(result.cdb, cdb, cdb_len)
        call = Call("pr_execute", (device, buffer), bytes(cdb[:cdb_len]), timeout_ms, length)
        self.calls.append(call)
        if not self.replies:
            raise AssertionError("unexpected I/O: pr_execute")
        result.dispatched = 1
        return self._scripted(self.replies.pop(0), call, result)


def data(response: bytes) -> Reply:
    """GOOD status; the device returns ``response`` cut to the allocation length."""

    def reply(call: Call, result: Any) -> int:
        allocation = min(call.capacity or 0, lib.PR_ALLOCATION_MAX)
        n = min(len(response), allocation)
        ffi.memmove(call.args[1], response[:n], n)
        result.transferred = n
        result.resid = allocation - n
        if call.name == "pr_execute":
            return int(lib.PR_OK)
        return _DECODERS[call.name](call.args, n, ffi.addressof(result, "needed"))

    return reply


def fail(
    rc: int,
    *,
    status: int = 0,
    host_status: int = 0,
    driver_status: int = 0,
    sense: bytes = b"",
    os_error: int = 0,
    dispatched: int = 1,
    needed: int | None = None,
) -> Reply:
    """The command ends with return code ``rc`` and these result fields."""

    def reply(call: Call, result: Any) -> int:
        result.scsi_status = status
        result.host_status = host_status
        result.driver_status = driver_status
        result.os_error = os_error
        result.dispatched = dispatched
        ffi.memmove(result.sense, sense, len(sense))
        result.sense_len = len(sense)
        if needed is not None:
            result.needed = needed
        return rc

    return reply


def good() -> Reply:
    return fail(lib.PR_OK)


class _OnReturn(Exception):
    def __init__(self, rc: int, exception: BaseException) -> None:
        self.rc = rc
        self.exception = exception


def on_return(reply: Reply, exception: BaseException) -> Reply:
    """``reply``, then ``exception`` raised as the call returns: a signal
    handler's, before the caller could store the return code."""

    def answer(call: Call, result: Any) -> int:
        raise _OnReturn(reply(call, result), exception)

    return answer
