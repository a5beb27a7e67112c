"""``pr_native.aio``: awaitable devices and polling, on the event loop.

``aio.Device`` has the methods, arguments, results and exceptions of
``pr_native.Device``; its arguments are checked by ``Device``'s own code and
its outcomes decided by the same verdict (``errors.raise_for_result``), so
the two cannot disagree.

On Linux a ``/dev/sgN`` node opened read-write runs its commands through the
sg driver's asynchronous interface with the descriptor registered on the
event loop (``loop.add_reader``): the C core submits each command once
(``pr_submit``) and collects it when the descriptor is readable
(``pr_collect``), so waiting costs no thread.  Other nodes (``/dev/sdX``,
multipath nodes) and other platforms run the blocking ``Device`` method in a
bounded thread pool.

Cancellation is honest: cancelling an awaited PR IN abandons it (the
request stays with the driver and is discarded when it completes).
Cancelling an awaited PR OUT that was submitted and has not ended raises
``OutcomeUnknown`` in the canceller's place (``__cause__``: the
``CancelledError``), because the command may have run; it is never resent.
Read the state and decide.  One whose end is known when the cancellation
lands (it completed, or the device said it was not performed) lets the
``CancelledError`` through: ``errors.interrupted_out`` decides, as for a
blocking ``Device`` interrupted by a signal handler.

Commands on one ``aio.Device`` run one at a time (an ``asyncio.Lock``);
commands on different devices overlap.  That lock is the event loop's, not
the blocking ``Device``'s thread lock: use ``device`` (the blocking Device
underneath) from the event loop's thread only, between awaited commands.
From another thread, a command or ``close()`` on it could run while an
awaited command is in flight on the same sg queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime, timezone

from . import _decode, _prin, _validate
from . import cdb as _cdb
from ._native import ffi, lib
from ._record import TYPE_CHECKING
from .constants import PRInAction, PROutAction, Scope
from .device import Device as _BlockingDevice
from .device import _in_name, _out_name
from .errors import (
    MalformedResponse,
    OutcomeUnknown,
    PRError,
    interrupted_out,
    raise_for_result,
)
from .poll import _GONE, PollResult, _path, _what

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import ThreadPoolExecutor
    from typing import Any, TypeVar

    from .constants import ReservationType
    from .poll import PollEntry
    from .results import Capabilities, FullStatus, Registrations, ReservationStatus
    from .transport_id import TransportID
    from .watch import Event

    _T = TypeVar("_T")

__all__ = ["Device", "poll", "watch"]

_EXECUTOR_THREADS = 8
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """The bounded pool for nodes without an asynchronous interface."""
    global _executor
    if _executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _executor = ThreadPoolExecutor(_EXECUTOR_THREADS, thread_name_prefix="pr_native.aio")
    return _executor


class _OutCapture:
    """Stands in for a Device while one of its PR OUT methods checks its
    arguments: what the method would send is recorded, nothing is."""

    def _pr_out(self, action: PROutAction, timeout: float | None, **fields: Any) -> None:
        self.call = (action, timeout, fields)


def _validated(method: Callable[..., None], *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    capture = _OutCapture()
    method(capture, *args, **kwargs)
    return capture.call


async def _readable(fd: int, seconds: float) -> None:
    """Until ``fd`` is readable or ``seconds`` have passed."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    timer = loop.call_later(seconds, wake)
    try:
        await ready
    finally:
        timer.cancel()
        loop.remove_reader(fd)


class Device:
    """An awaitable ``pr_native.Device`` (same arguments); use
    ``async with aio.Device(path) as dev``.  Opening is immediate."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        timeout: float = 30.0,
        *,
        read_only: bool = False,
        transport: str = "auto",
    ) -> None:
        self._device = _BlockingDevice(path, timeout, read_only=read_only, transport=transport)
        self._native = bool(self._device._device.queue != ffi.NULL)
        self._lock = asyncio.Lock()
        self._result = ffi.new("struct pr_result *")
        self._ticket = ffi.new("int32_t *")
        self._wait_ms = ffi.new("uint32_t *")
        self._ended: int = lib.PR_ERR_PENDING  # the last command's end, for interrupted_out

    @property
    def path(self) -> str:
        """The path it was opened with."""
        return self._device.path

    @property
    def device(self) -> _BlockingDevice:
        """The blocking ``Device`` underneath (for what has no awaitable
        form), from the event loop's thread only: see the module's notes."""
        return self._device

    @property
    def closed(self) -> bool:
        """True after ``close()``."""
        return self._device.closed

    async def close(self) -> None:
        """Close the device (after the command in progress, if any)."""
        async with self._lock:
            self._device.close()

    async def __aenter__(self) -> Device:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<pr_native.aio.Device {self.path!r}{' closed' if self.closed else ''}>"

    # -- running one command ---------------------------------------------

    async def _blocking(self, call: Callable[[], _T]) -> _T:
        """Run a blocking Device call in the pool.  Cancelled before the call
        started, it never starts; cancelled while it runs, the wait goes on
        (the Device stays busy) and the call's own verdict decides: its
        ``OutcomeUnknown`` is raised, any other end (done, or refused by the
        device) lets the ``CancelledError`` through."""
        phase = ["queued"]
        guard = threading.Lock()

        def job() -> _T | None:
            with guard:
                if phase[0] == "cancelled":
                    return None
                phase[0] = "running"
            return call()

        async with self._lock:
            future = asyncio.get_running_loop().run_in_executor(_pool(), job)
            try:
                return await asyncio.shield(future)  # type: ignore[arg-type]
            except asyncio.CancelledError:
                with guard:
                    if phase[0] == "queued":
                        phase[0] = "cancelled"
                        raise
                while not future.done():
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait({future})
                # Device._pr_out applied errors.interrupted_out's rule already.
                ended = future.exception()
                if isinstance(ended, OutcomeUnknown):
                    raise ended from ended.__cause__
                raise

    async def _run(
        self, cdb: bytes, direction: int, data: Any, length: int, timeout_ms: int
    ) -> int:
        """Submit once, then collect whenever the descriptor is readable;
        cancelled or not, an unfinished request is left with the driver."""
        device, result = self._device._device, self._result
        self._ended = lib.PR_ERR_PENDING  # until a collect says otherwise
        rc = lib.pr_submit(device, cdb, len(cdb), direction, data, length, timeout_ms, result,
                           self._ticket)  # fmt: skip
        if rc != lib.PR_OK:
            return int(rc)
        ticket = self._ticket[0]
        collect_into = data if direction == lib.PR_DIR_FROM_DEVICE else ffi.NULL
        try:
            while True:
                rc = lib.pr_collect(device, ticket, collect_into, length if collect_into else 0,
                                    result, self._wait_ms)  # fmt: skip
                if rc != lib.PR_ERR_PENDING:
                    return int(rc)
                await _readable(device.handle, self._wait_ms[0] / 1000)
        except BaseException:
            # One last look, without waiting: a completion already there, or
            # collected as the exception came (the ticket is gone then: the
            # core's state has its end), is a known end.
            rc = lib.pr_collect(device, ticket, collect_into, length if collect_into else 0,
                                result, self._wait_ms)  # fmt: skip
            if rc == lib.PR_ERR_ARGUMENT:
                rc = lib.pr_settled(device, result)
            if rc == lib.PR_ERR_PENDING:
                lib.pr_abandon(device, ticket)
            self._ended = rc
            raise

    # -- PERSISTENT RESERVE IN ----------------------------------------------

    async def _pr_in(self, action: PRInAction, timeout: float | None) -> tuple[Any, Any, bytes]:
        """One whole PR IN, re-read as ``_prin`` says: the decoded record
        (``_decode.Decoded``) and the response bytes."""
        timeout_ms = self._device._timeout_for(timeout)
        command = _in_name(action)
        allocation = _prin.INITIAL_ALLOCATION
        while True:
            buffer = ffi.new("uint8_t[]", allocation)
            cdb = _cdb.pr_in_cdb(action, allocation)
            rc = await self._run(cdb, lib.PR_DIR_FROM_DEVICE, buffer, allocation, timeout_ms)
            if rc == lib.PR_OK:
                data = bytes(ffi.buffer(buffer, self._result.transferred))
                decoded = _DECODERS[action](data)
                if decoded.rc == lib.PR_ERR_SHORT:
                    allocation = _prin.next_allocation(
                        allocation, decoded.needed, device=self.path, command=command
                    )
                    continue
                if decoded.rc != lib.PR_OK:
                    raise MalformedResponse(
                        "response violates the SPC format", device=self.path, command=command
                    )
                if (
                    action == PRInAction.READ_FULL_STATUS
                    and allocation < lib.PR_ALLOCATION_MAX
                    and _prin.full_status_may_be_cut(allocation, decoded.out.additional_length)
                ):
                    allocation = min(lib.PR_ALLOCATION_MAX, 2 * allocation)
                    continue
                return decoded, allocation, data
            if not _prin.interrupted(rc, self._result):
                raise_for_result(rc, self._result, device=self.path, command=command,
                                 is_out=False, read_only=self._device.read_only)  # fmt: skip

    async def read_keys(self, *, timeout: float | None = None) -> Registrations:
        """READ KEYS, as ``Device.read_keys``."""
        if not self._native:
            return await self._blocking(lambda: self._device.read_keys(timeout=timeout))
        async with self._lock:
            self._device._check_open()
            decoded, _, _ = await self._pr_in(PRInAction.READ_KEYS, timeout)
            return _decode.registrations(decoded.out, decoded.items)

    async def read_reservation(self, *, timeout: float | None = None) -> ReservationStatus:
        """READ RESERVATION, as ``Device.read_reservation``."""
        if not self._native:
            return await self._blocking(lambda: self._device.read_reservation(timeout=timeout))
        async with self._lock:
            self._device._check_open()
            decoded, _, _ = await self._pr_in(PRInAction.READ_RESERVATION, timeout)
            return _decode.reservation_status(decoded.out)

    async def report_capabilities(self, *, timeout: float | None = None) -> Capabilities:
        """REPORT CAPABILITIES, as ``Device.report_capabilities``."""
        if not self._native:
            return await self._blocking(lambda: self._device.report_capabilities(timeout=timeout))
        async with self._lock:
            self._device._check_open()
            decoded, _, _ = await self._pr_in(PRInAction.REPORT_CAPABILITIES, timeout)
            return _decode.capabilities(decoded.out)

    async def read_full_status(self, *, timeout: float | None = None) -> FullStatus:
        """READ FULL STATUS, as ``Device.read_full_status`` (the same check
        against READ KEYS at the 65535-byte limit)."""
        if not self._native:
            return await self._blocking(lambda: self._device.read_full_status(timeout=timeout))
        command = _in_name(PRInAction.READ_FULL_STATUS)
        async with self._lock:
            self._device._check_open()
            for _ in range(_prin.FULL_STATUS_TRIES):
                decoded, allocation, data = await self._pr_in(PRInAction.READ_FULL_STATUS, timeout)
                status = _decode.full_status(decoded.out, decoded.items, data)
                if not _prin.full_status_may_be_cut(allocation, decoded.out.additional_length):
                    return status
                keys, _, _ = await self._pr_in(PRInAction.READ_KEYS, timeout)
                checked = _prin.full_status_checked(
                    status, _decode.registrations(keys.out, keys.items), device=self.path,
                    command=command,
                )  # fmt: skip
                if checked is not None:
                    return checked
        raise _prin.full_status_unsettled(device=self.path, command=command)

    async def test_unit_ready(self, *, timeout: float | None = None) -> None:
        """TEST UNIT READY, as ``Device.test_unit_ready``."""
        if not self._native:
            return await self._blocking(lambda: self._device.test_unit_ready(timeout=timeout))
        timeout_ms = self._device._timeout_for(timeout)
        async with self._lock:
            self._device._check_open()
            while True:
                rc = await self._run(bytes(6), lib.PR_DIR_NONE, ffi.NULL, 0, timeout_ms)
                if rc == lib.PR_OK:
                    return None
                if not _prin.interrupted(rc, self._result):
                    raise_for_result(rc, self._result, device=self.path,
                                     command="TEST UNIT READY", is_out=False)  # fmt: skip

    # -- PERSISTENT RESERVE OUT ---------------------------------------------

    async def _pr_out(self, name: str, *args: Any, **kwargs: Any) -> None:
        method = getattr(_BlockingDevice, name)
        action, timeout, fields = _validated(method, *args, **kwargs)  # checks, sends nothing
        command = _out_name(action)
        self._device._check_out_allowed(command)
        if not self._native:
            return await self._blocking(lambda: method(self._device, *args, **kwargs))
        timeout_ms = self._device._timeout_for(timeout)
        parameters, cdb = _out_bytes(action, fields)
        buffer = ffi.from_buffer("uint8_t[]", parameters)
        async with self._lock:
            self._device._check_open()
            self._result.dispatched = 0
            try:
                rc = await self._run(cdb, lib.PR_DIR_TO_DEVICE, buffer, len(parameters), timeout_ms)
            except BaseException as interruption:  # cancelled, or a handler's exception
                raised = interrupted_out(interruption, self._ended, self._result,
                                         device=self.path, command=command)  # fmt: skip
                if raised is interruption:
                    raise
                raise raised from interruption
            if rc != lib.PR_OK:
                raise_for_result(rc, self._result, device=self.path, command=command,
                                 is_out=True, read_only=self._device.read_only)  # fmt: skip

    async def register(
        self,
        new_key: int | bytes,
        key: int | bytes = 0,
        aptpl: bool = False,
        all_target_ports: bool = False,
        transport_ids: tuple[TransportID, ...] | list[TransportID] = (),
        *,
        timeout: float | None = None,
    ) -> None:
        """REGISTER, as ``Device.register``."""
        await self._pr_out("register", new_key, key, aptpl, all_target_ports, transport_ids,
                           timeout=timeout)  # fmt: skip

    async def register_and_ignore(
        self,
        new_key: int | bytes,
        aptpl: bool = False,
        all_target_ports: bool = False,
        *,
        timeout: float | None = None,
    ) -> None:
        """REGISTER AND IGNORE EXISTING KEY, as ``Device.register_and_ignore``."""
        await self._pr_out("register_and_ignore", new_key, aptpl, all_target_ports,
                           timeout=timeout)  # fmt: skip

    async def unregister(self, key: int | bytes, *, timeout: float | None = None) -> None:
        """REGISTER with a new key of 0, as ``Device.unregister``."""
        await self._pr_out("unregister", key, timeout=timeout)

    async def reserve(
        self, key: int | bytes, type: ReservationType, *, timeout: float | None = None
    ) -> None:
        """RESERVE, as ``Device.reserve``."""
        await self._pr_out("reserve", key, type, timeout=timeout)

    async def release(
        self, key: int | bytes, type: ReservationType, *, timeout: float | None = None
    ) -> None:
        """RELEASE, as ``Device.release``."""
        await self._pr_out("release", key, type, timeout=timeout)

    async def clear(self, key: int | bytes, *, timeout: float | None = None) -> None:
        """CLEAR, as ``Device.clear``."""
        await self._pr_out("clear", key, timeout=timeout)

    async def preempt(
        self,
        key: int | bytes,
        preempt_key: int | bytes,
        type: ReservationType,
        *,
        timeout: float | None = None,
    ) -> None:
        """PREEMPT, as ``Device.preempt``."""
        await self._pr_out("preempt", key, preempt_key, type, timeout=timeout)

    async def preempt_and_abort(
        self,
        key: int | bytes,
        preempt_key: int | bytes,
        type: ReservationType,
        *,
        timeout: float | None = None,
    ) -> None:
        """PREEMPT AND ABORT, as ``Device.preempt_and_abort``."""
        await self._pr_out("preempt_and_abort", key, preempt_key, type, timeout=timeout)

    async def register_and_move(
        self,
        key: int | bytes,
        new_key: int | bytes,
        relative_target_port: int,
        transport_id: TransportID,
        unregister: bool = False,
        aptpl: bool = False,
        *,
        type: ReservationType | None = None,
        timeout: float | None = None,
    ) -> None:
        """REGISTER AND MOVE, as ``Device.register_and_move``."""
        await self._pr_out("register_and_move", key, new_key, relative_target_port,
                           transport_id, unregister, aptpl, type=type, timeout=timeout)  # fmt: skip

    async def replace_lost_reservation(
        self, key: int | bytes, type: ReservationType, *, timeout: float | None = None
    ) -> None:
        """REPLACE LOST RESERVATION, as ``Device.replace_lost_reservation``."""
        await self._pr_out("replace_lost_reservation", key, type, timeout=timeout)


_DECODERS = {
    PRInAction.READ_KEYS: _decode.read_keys,
    PRInAction.READ_RESERVATION: _decode.read_reservation,
    PRInAction.REPORT_CAPABILITIES: _decode.report_capabilities,
    PRInAction.READ_FULL_STATUS: _decode.read_full_status,
}


def _out_bytes(action: PROutAction, fields: dict[str, Any]) -> tuple[bytes, bytes]:
    """The parameter list and CDB of a validated PR OUT, from the C builders
    (as ``lib.pr_out`` builds them for a blocking Device)."""
    request = ffi.new("struct pr_out_request *")
    tids = fields.get("transport_ids", b"")
    keep = ffi.from_buffer("uint8_t[]", tids)
    request.key = fields.get("key", 0)
    request.service_action_key = fields.get("service_action_key", 0)
    request.transport_ids = keep
    request.transport_ids_length = len(tids)
    request.relative_target_port = fields.get("relative_target_port", 0)
    request.service_action = action
    request.scope = Scope.LU
    request.type = fields.get("type", 0)
    request.aptpl = fields.get("aptpl", False)
    request.all_target_ports = fields.get("all_target_ports", False)
    request.unregister = fields.get("unregister", False)
    length = ffi.new("uint32_t *")
    if lib.pr_out_parameters_length(request, length) != lib.PR_OK:
        raise ValueError(f"{_out_name(action)}: the C core refused the request as invalid")
    buffer = ffi.new("uint8_t[]", max(1, length[0]))
    if lib.pr_build_out_parameters(request, buffer, length[0], length) != lib.PR_OK:
        raise ValueError(f"{_out_name(action)}: the C core refused the request as invalid")
    cdb = ffi.new("uint8_t[]", 10)
    lib.pr_build_out_cdb(cdb, action, Scope.LU, request.type, length[0])
    return bytes(ffi.buffer(buffer, length[0])), bytes(ffi.buffer(cdb, 10))


# -- many devices ------------------------------------------------------------


async def _entry(device: Device, actions: tuple[PRInAction, ...]) -> tuple[Any, ...] | PRError:
    try:
        keys = await device.read_keys() if PRInAction.READ_KEYS in actions else None
        reservation = (
            await device.read_reservation() if PRInAction.READ_RESERVATION in actions else None
        )
    except (PRError, OSError) as error:
        return error  # type: ignore[return-value]
    return keys, reservation


async def poll(
    devices: Sequence[str | os.PathLike[str] | Device],
    what: Iterable[str] = ("keys", "reservation"),
    *,
    timeout: float = 30.0,
) -> list[PollEntry]:
    """One polling round, as ``pr_native.poll``: every device's commands in
    flight together on the event loop; per device, in order, a
    ``PollResult`` or the exception (``PRError``, or the ``OSError`` of a path
    that cannot be opened).  Devices opened from paths are closed again."""
    if isinstance(devices, (str, bytes, Device)) or not isinstance(devices, Sequence):
        raise TypeError("devices must be a sequence of paths or aio.Devices")
    actions = _what(what)
    _validate.timeout_ms(timeout)
    paths = [item.path if isinstance(item, Device) else _path(item, i) for i, item in
             enumerate(devices)]  # fmt: skip
    given = {i: item for i, item in enumerate(devices) if isinstance(item, Device)}
    opened: dict[int, Device | None] = dict(given)
    try:
        return await _round(paths, opened, actions, timeout)
    finally:
        for i, device in opened.items():
            if device is not None and i not in given:
                await device.close()


async def _round(
    paths: list[str],
    opened: dict[int, Device | None],
    actions: tuple[PRInAction, ...],
    timeout: float,
) -> list[PollEntry]:
    """One round over ``paths``; opens what is not open in ``opened`` (and
    leaves it there); a device that went away is closed, to be reopened."""
    started = time.monotonic()
    failures: dict[int, OSError] = {}
    for i, path in enumerate(paths):
        if opened.get(i) is None:
            try:
                opened[i] = Device(path, timeout)
            except OSError as error:
                opened[i] = None
                failures[i] = error
    ready = [i for i in range(len(paths)) if i not in failures]
    got = await asyncio.gather(*(_entry(opened[i], actions) for i in ready))  # type: ignore[arg-type]
    duration = time.monotonic() - started
    results: dict[int, PollEntry] = dict(failures)
    for i, value in zip(ready, got):
        if isinstance(value, OSError) and value.errno in _GONE:
            device = opened[i]
            if device is not None:
                await device.close()
            opened[i] = None
        if isinstance(value, (PRError, OSError)):
            results[i] = value
        else:
            results[i] = PollResult(paths[i], value[0], value[1], duration)
    return [results[i] for i in range(len(paths))]


async def watch(
    devices: Sequence[str | os.PathLike[str]],
    interval: float = 1.0,
    *,
    timeout: float = 30.0,
) -> AsyncIterator[Event]:
    """The events ``pr-native watch`` prints (``pr_native.watch.Event``), as
    they happen: one polling round every ``interval`` seconds, the devices
    kept open between rounds (and reopened when they come back).  A watch
    consumes the unit attentions of the I_T nexuses it reads through (see
    ``pr_native.watch``)."""
    from .watch import Watcher

    if not isinstance(interval, (int, float)) or isinstance(interval, bool) or not interval > 0:
        raise ValueError(f"interval must be a number of seconds > 0, got {interval!r}")
    if isinstance(devices, (str, bytes)) or not isinstance(devices, Sequence):
        raise TypeError("devices must be a sequence of paths")
    paths = [_path(item, i) for i, item in enumerate(devices)]
    watcher = Watcher(paths)
    opened: dict[int, Device | None] = {}
    try:
        while True:
            entries = await _round(paths, opened, POLL_BOTH, timeout)
            for event in watcher.round(entries, datetime.now(timezone.utc)):
                yield event
            await asyncio.sleep(interval)
    finally:
        for device in opened.values():
            if device is not None:
                await device.close()


POLL_BOTH = (PRInAction.READ_KEYS, PRInAction.READ_RESERVATION)
