"""``Device``: an open SCSI device and every persistent reservation operation.

Each method validates its arguments, makes one call into the C core (which
builds the CDB, runs it and decodes the response with the GIL released) and
returns a frozen result or raises from ``pr_native.errors``.
"""

from __future__ import annotations

import errno
import os
import stat
import struct as _struct
import sys
import threading
import time
import weakref

from . import _decode, _prin, _validate
from . import cdb as _cdb
from . import identity as _identity
from ._native import ffi, lib
from ._record import TYPE_CHECKING
from .constants import PRInAction, PROutAction, ReservationType, Scope
from .errors import (
    CommandTimeout,
    UnsupportedOperation,
    UnsupportedPlatform,
    interrupted_out,
    raise_for_result,
    windows_os_error,
)
from .identity import Identity
from .results import Capabilities, FullStatus, Registrations, ReservationStatus
from .transport_id import TransportID

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    _T = TypeVar("_T")

_KEY_SIZE = 8
# The hot path's names, bound once (module globals are found faster than
# attributes of lib, ffi and tuple).
_pr_read_keys = lib.pr_read_keys_serial
_pr_read_reservation = lib.pr_read_reservation_serial
_unpack = ffi.unpack
_tuple_new = tuple.__new__

# struct.Struct(f"={n}Q").unpack_from per key count: the C decoder's keys
# (native uint64_t) as a tuple in one call.  At most capacity // 8 of them.
_KEYS_UNPACK: dict[int, Callable[[Any], tuple[int, ...]]] = {}


def _keys_unpack(count: int) -> Callable[[Any], tuple[int, ...]]:
    unpack = _KEYS_UNPACK[count] = _struct.Struct(f"={count}Q").unpack_from
    return unpack


def _previous(capacity: int) -> Any:
    """A ``struct pr_previous`` with room for one response of ``capacity``
    bytes, which lives as long as the struct does (ffi.gc's destructor holds
    it): an argument tuple kept after the Device's buffers grew stays valid."""
    room = ffi.new("uint8_t[]", capacity)
    previous = ffi.new("struct pr_previous *", {"data": room, "capacity": capacity})
    return ffi.gc(previous, lambda _previous, room=room: None)


# The fast paths' "serial of the last response and its result" before any:
# None is no serial (the C core's are 1 and up, its errors negative).
_NO_LAST_KEYS: tuple[int | None, Registrations] = (None, Registrations(0, ()))
_NO_LAST_RESERVATION: tuple[int | None, ReservationStatus] = (None, ReservationStatus(0, None))

_MIN_DESCRIPTOR_SIZE = 24  # READ FULL STATUS descriptor without its TransportID
_SPEC_I_PT_HEADER = 28
# Device(transport=...) on Windows: both IOCTL families, chosen per command,
# or one forced.
_TRANSPORT_FLAGS = {
    "auto": 0,
    "storage-ioctl": lib.PR_OPEN_FORCE_STORAGE_IOCTL,
    "pass-through": lib.PR_OPEN_FORCE_PASS_THROUGH,
}
_TRANSPORT_NAMES = {
    lib.PR_TRANSPORT_AUTO: "auto",
    lib.PR_TRANSPORT_SG_IO: "sg-io",
    lib.PR_TRANSPORT_STORAGE_IOCTL: "storage-ioctl",
    lib.PR_TRANSPORT_PASS_THROUGH: "pass-through",
}


def _in_name(action: PRInAction) -> str:
    return f"PERSISTENT RESERVE IN ({action.name.replace('_', ' ')})"


def _out_name(action: PROutAction) -> str:
    return f"PERSISTENT RESERVE OUT ({action.name.replace('_', ' ')})"


def _open_error(code: int, path: str) -> OSError:
    hint = ""
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "; PR commands need read-write access to the device node (root, or its group)"
    elif code == errno.ENOENT:
        hint = "; no such device node"
    elif code == errno.EBUSY and _is_tape(path):
        # st allows one opener at a time, and rewinds /dev/stN when it closes.
        hint = (
            "; the tape drive is open elsewhere (st allows one opener): reach tape "
            "drives through their /dev/sgN node, or /dev/nstN, which does not rewind"
        )
    return OSError(code, f"cannot open SCSI device: {os.strerror(code)}{hint}", path)


def _is_tape(path: str) -> bool:
    name = os.path.basename(path)
    return name.startswith(("st", "nst")) and name.lstrip("nst")[:1].isdigit()


def _signal_handlers_run_here() -> None:
    """Entering a Python function is where CPython runs pending signal handlers."""


def multipath_paths(path: str) -> tuple[str, ...] | None:
    """The path devices (``/dev/sdX``) under a device-mapper node, or None when
    ``path`` is not one (Linux: /sys/dev/block/MAJ:MIN/dm and .../slaves)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISBLK(st.st_mode):
        return None
    sysfs = f"/sys/dev/block/{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
    if not os.path.isdir(f"{sysfs}/dm"):
        return None
    try:
        slaves = sorted(os.listdir(f"{sysfs}/slaves"))
    except OSError:
        slaves = []
    return tuple(f"/dev/{name}" for name in slaves)


def _multipath_refusal(command: str, path: str, paths: tuple[str, ...]) -> UnsupportedOperation:
    # SG_IO on a dm node goes down one path: a REGISTER there covers one
    # I_T nexus, and every other path then gets RESERVATION CONFLICT.
    listed = ", ".join(paths) if paths else "none found"
    return UnsupportedOperation(
        f"{path} is a device-mapper (multipath) node: a PR OUT through it would reach one "
        f"path only; nothing was sent.  Use pr_native.MultipathDevice({path!r}), which "
        f"registers every path and sends the other PR OUTs through a registered one "
        f"(paths: {listed})",
        device=path,
        command=command,
    )


class Device:
    """A SCSI device opened for persistent reservation commands.

    ``path`` is ``/dev/sgN`` (preferred: any user with read-write access may
    send PR commands), or ``/dev/sdX``, ``/dev/stN``, ``/dev/nstN`` (the kernel
    then requires CAP_SYS_RAWIO).  ``timeout`` is the default per-command
    timeout in seconds; every method also takes ``timeout=``.

    On Windows ``path`` is ``\\\\.\\PhysicalDriveN``, ``\\\\.\\TapeN`` or
    ``\\\\.\\CdRomN`` and ``transport`` chooses how commands travel:
    ``"auto"`` sends every command through SCSI pass-through (once, with
    ``timeout``, real sense data) and reads READ KEYS or READ RESERVATION
    through the class driver's storage PR IOCTL only when the driver stack
    refuses pass-through; a PR OUT it refuses raises ``UnsupportedOperation``
    unsent.  ``"storage-ioctl"`` accepts the class driver's own retries
    (a PR OUT may run twice), its fixed timeout and hidden sense data;
    ``"pass-through"`` never uses the storage IOCTLs.

    Opening fails with ``FileNotFoundError``, ``PermissionError`` or
    ``OSError(ENOTTY)`` (not a SCSI device), and on a platform without a
    backend (macOS and others) with ``UnsupportedPlatform``.  A Device is a
    context manager that closes it.

    A PR OUT whose outcome cannot be known (its wait timed out, the path was
    lost, a signal handler raised while it was in flight) raises
    ``OutcomeUnknown`` and is never resent: read the state and decide.  On
    Linux a PR OUT through a device-mapper (multipath) node raises
    ``UnsupportedOperation`` naming its paths, before any I/O: through the
    node it would reach one path only.

    A Device may be shared between threads: commands on one Device run one at
    a time, because they share its buffers.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        timeout: float = 30.0,
        *,
        read_only: bool = False,
        transport: str = "auto",
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
        self._path = os.fspath(path)
        if not isinstance(self._path, str) or not self._path or "\0" in self._path:
            raise ValueError(f"path must be a non-empty device path, got {path!r}")
        self._timeout_ms = _validate.timeout_ms(timeout)
        self._read_only = _validate.flag(read_only, "read_only")
        if transport not in _TRANSPORT_FLAGS:
            raise ValueError(
                f"transport must be one of {sorted(_TRANSPORT_FLAGS)}, got {transport!r}"
            )
        if transport != "auto" and sys.platform != "win32":
            raise ValueError(f"transport={transport!r} exists only on Windows")
        self._lock = threading.Lock()
        self._device = ffi.new("struct pr_device *")
        self._result = ffi.new("struct pr_result *")
        self._request = ffi.new("struct pr_out_request *")
        self._keys_out = ffi.new("struct pr_keys *")
        self._reservation_out = ffi.new("struct pr_reservation *")
        self._capabilities_out = ffi.new("struct pr_capabilities *")
        self._full_status_out = ffi.new("struct pr_full_status *")
        self._registrants: Any = None
        self._last_full_status: tuple[bytes, FullStatus] | None = None
        self._last_capabilities: tuple[bytes, Capabilities] | None = None
        self._keep_response = False
        self._response = b""
        self._closed = False
        self._allocate(_prin.INITIAL_ALLOCATION)
        flags = _TRANSPORT_FLAGS[transport] | (lib.PR_OPEN_READ_ONLY if self._read_only else 0)
        # The finalizer first, on a handle pr_close() ignores (-1, Windows'
        # INVALID_HANDLE_VALUE): a signal handler's exception as pr_open()
        # returns then leaves an open descriptor that the finalizer closes.
        # Not at interpreter exit: a daemon thread may still be inside a
        # command on this device (the OS closes the descriptor anyway).
        self._device.handle = -1
        self._closer = weakref.finalize(self, lib.pr_close, self._device)
        self._closer.atexit = False
        rc = lib.pr_open(os.fsencode(self._path), flags, self._device, self._result)
        if rc == lib.PR_ERR_UNSUPPORTED:
            raise UnsupportedPlatform(
                "this platform has no SCSI pass-through backend: pr_native can build and "
                "decode PR data here, but cannot send commands",
                device=self._path,
            )
        if rc == lib.PR_ERR_NOT_SCSI:
            raise OSError(
                errno.ENOTTY,
                "not a SCSI device (it refused SG_GET_VERSION_NUM): "
                "use /dev/sgN, /dev/sdX, /dev/stN or /dev/nstN",
                self._path,
            )
        if rc != lib.PR_OK and sys.platform == "win32":
            raise windows_os_error(self._result.os_error, "cannot open SCSI device", self._path)
        if rc != lib.PR_OK:
            raise _open_error(self._result.os_error, self._path)
        self._multipath_paths = multipath_paths(self._path) if sys.platform == "linux" else None

    # -- housekeeping ------------------------------------------------------

    @property
    def path(self) -> str:
        """The path the device was opened with."""
        return self._path

    @property
    def read_only(self) -> bool:
        """Opened with ``read_only=True``: PR IN only, every PR OUT raises
        ``ValueError`` before any I/O (and the kernel may refuse even PR IN
        through a read-only ``/dev/sgN``: ``PermissionError`` says so)."""
        return self._read_only

    @property
    def timeout(self) -> float:
        """Default command timeout in seconds."""
        return self._timeout_ms / 1000

    @property
    def transport(self) -> str:
        """How commands reach the device: ``"sg-io"`` on Linux; on Windows
        ``"auto"``, ``"storage-ioctl"`` or ``"pass-through"``."""
        return _TRANSPORT_NAMES[self._device.transport]

    @property
    def last_transport(self) -> str | None:
        """What carried the most recent command (on Windows ``"auto"`` picks
        ``"storage-ioctl"`` or ``"pass-through"`` per command); None before
        the first command."""
        return _TRANSPORT_NAMES.get(self._result.transport) if self._result.cdb_len else None

    @property
    def closed(self) -> bool:
        """True after ``close()``."""
        return self._closed

    def close(self) -> None:
        """Close the device; further commands raise ValueError."""
        with self._lock:
            # Closed and the hot path off with no call in between (where a
            # signal handler's exception could land), then one C call, which
            # the finalizer's later one finds done (the handle is -1).
            self._closed, self._keys_call, self._reservation_call = True, None, None
            lib.pr_close(self._device)
            self._closer.detach()  # nothing left for it (were it to run, a no-op)

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else self.transport
        return f"<pr_native.Device {self._path!r} {state}>"

    def _allocate(self, capacity: int) -> None:
        # Everything is built first and then assigned with no call in
        # between: a signal handler's exception lands only at a call or a
        # loop's back edge (CPython 3.10 and later), so it leaves the old set
        # of buffers or the new one, never a capacity larger than its buffer.
        buffer = ffi.new("uint8_t[]", capacity)
        max_keys = capacity // _KEY_SIZE
        keys = ffi.new("uint64_t[]", max_keys)
        keys_bytes = ffi.buffer(keys)
        registrants = self._registrants
        if registrants is not None:
            registrants = self._registrants_for(capacity)
        previous = (_previous(capacity), _previous(capacity))
        keys_call, reservation_call = self._calls(
            buffer, capacity, keys, max_keys, previous, self._keep_response
        )
        self._capacity, self._buffer, self._previous = capacity, buffer, previous
        self._max_keys, self._keys, self._keys_bytes = max_keys, keys, keys_bytes
        self._registrants = registrants
        self._last_keys, self._last_reservation = _NO_LAST_KEYS, _NO_LAST_RESERVATION
        self._keys_call, self._reservation_call = keys_call, reservation_call

    def _keep_responses(self, keep: bool) -> None:
        """Keep each response's bytes in ``_response`` (or stop): the hot
        path is off meanwhile.  The flag and the hot path's arguments are
        assigned in one step."""
        calls = self._calls(
            self._buffer, self._capacity, self._keys, self._max_keys, self._previous, keep
        )
        self._keep_response, (self._keys_call, self._reservation_call) = keep, calls

    def _calls(
        self, buffer: Any, capacity: int, keys: Any, max_keys: int, previous: Any, keep: bool
    ) -> tuple[Any, Any]:
        """The argument tuples of the hot path's C calls at the default
        timeout, for these buffers and the previous responses they compare
        with (READ KEYS', READ RESERVATION's); None while every command must
        take the general path (closed, or responses kept: ``keep``)."""
        if self._closed or keep:
            return None, None
        common = (self._device, buffer, capacity, self._timeout_ms)
        return (
            (*common, keys, max_keys, self._keys_out, self._result, previous[0]),
            (*common, self._reservation_out, self._result, previous[1]),
        )

    @staticmethod
    def _registrants_for(capacity: int) -> Any:
        return ffi.new("struct pr_registrant[]", capacity // _MIN_DESCRIPTOR_SIZE)

    def _timeout_for(self, timeout: float | None) -> int:
        return self._timeout_ms if timeout is None else _validate.timeout_ms(timeout)

    def _check_out_allowed(self, command: str) -> None:
        """The refusals every PR OUT meets before any I/O."""
        if self._read_only:
            raise ValueError(
                f"{command}: the device was opened with read_only=True; nothing was sent"
            )
        if self._multipath_paths is not None:
            raise _multipath_refusal(command, self._path, self._multipath_paths)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"I/O on closed device {self._path!r}")

    # -- PERSISTENT RESERVE IN ---------------------------------------------

    def _pr_in(
        self,
        action: PRInAction,
        timeout_ms: int,
        issue: Callable[[int], int],
        decode: Callable[[], _T],
        may_be_cut: Callable[[int], bool] | None = None,
        rc: int | None = None,
    ) -> tuple[_T, bool]:
        """The one PR IN path of a Device (its lock held): issue, re-read
        until the response is whole (the sizing rules of ``_prin``), decode.
        Returns the result and whether it may still be cut short (READ FULL
        STATUS at the 65535-byte limit: ``may_be_cut``).  The decoded
        response's bytes stay in ``_response`` when ``_keep_response`` is set.
        ``rc`` is the outcome of a first command already issued."""
        self._check_open()
        interrupted_since = 0.0
        while True:
            first = issue(timeout_ms) if rc is None else rc
            rc = None
            allocated = min(self._capacity, lib.PR_ALLOCATION_MAX)
            if first == lib.PR_OK:
                cut = may_be_cut is not None and may_be_cut(allocated)
                if cut and allocated < lib.PR_ALLOCATION_MAX:
                    self._allocate(min(lib.PR_ALLOCATION_MAX, 2 * self._capacity))
                    continue
                if self._keep_response:
                    self._response = bytes(ffi.buffer(self._buffer, self._result.transferred))
                return decode(), cut
            if first == lib.PR_ERR_SHORT:
                self._allocate(
                    _prin.next_allocation(
                        allocated,
                        self._result.needed,
                        device=self._path,
                        command=_in_name(action),
                    )
                )
            elif _prin.interrupted(first, self._result):
                # Re-issued after each signal, but not past the command's own
                # timeout: a stream of signals must not make the wait endless.
                now = time.monotonic()
                interrupted_since = interrupted_since or now
                if now - interrupted_since > (timeout_ms + lib.PR_WAIT_MARGIN_MS) / 1000:
                    raise CommandTimeout(
                        "signals kept interrupting the command past its timeout",
                        device=self._path,
                        command=_in_name(action),
                    )
            else:
                raise_for_result(
                    first,
                    self._result,
                    device=self._path,
                    command=_in_name(action),
                    is_out=False,
                    read_only=self._read_only,
                )

    def _read_keys(self, timeout_ms: int, rc: int | None = None) -> Registrations:
        return self._pr_in(
            PRInAction.READ_KEYS,
            timeout_ms,
            lambda ms: lib.pr_read_keys(
                self._device,
                self._buffer,
                self._capacity,
                ms,
                self._keys,
                self._max_keys,
                self._keys_out,
                self._result,
            ),
            lambda: _decode.registrations(self._keys_out, self._keys),
            rc=rc,
        )[0]

    # read_keys() and read_reservation() are what monitoring daemons call
    # most: their common case (GOOD, the response whole) is one C call and one
    # record built in place; anything else takes the general path above.
    # The C call returns the response's serial (pr_response_serial): the
    # last one's when the bytes are the same, whose result is reused.  The
    # result is kept with the serial it was built for, so a result that a
    # signal handler's exception kept from being stored is never stale: the
    # serial then differs and the response is decoded.

    def read_keys(self, *, timeout: float | None = None) -> Registrations:
        """READ KEYS: the PR generation and every registered key."""
        # ``with``, never acquire() before a ``try``: a signal handler's
        # exception (KeyboardInterrupt) between the two would leave the lock
        # taken and every later call, close() included, waiting for ever.
        with self._lock:
            call, rc = self._keys_call, None
            if call is not None and timeout is None:
                rc = _pr_read_keys(*call)
                last = self._last_keys
                if rc == last[0]:
                    # The same response bytes as last time (a monitor's common
                    # case) give the same immutable result, undecoded.
                    return last[1]
                if rc > 0:
                    out = call[6]
                    n = out.count
                    unpack = _KEYS_UNPACK.get(n) or _keys_unpack(n)
                    keys = _tuple_new(Registrations, (out.generation, unpack(self._keys_bytes)))
                    self._last_keys = (rc, keys)
                    return keys
            return self._read_keys(self._timeout_for(timeout), rc)

    def read_reservation(self, *, timeout: float | None = None) -> ReservationStatus:
        """READ RESERVATION: the PR generation and the reservation, if any."""
        with self._lock:  # as read_keys
            call, rc = self._reservation_call, None
            if call is not None and timeout is None:
                rc = _pr_read_reservation(*call)
                last = self._last_reservation
                if rc == last[0]:  # as read_keys
                    return last[1]
                if rc > 0:
                    status = _decode.reservation_status(call[4])
                    self._last_reservation = (rc, status)
                    return status
            out = self._reservation_out
            return self._pr_in(
                PRInAction.READ_RESERVATION,
                self._timeout_for(timeout),
                lambda ms: lib.pr_read_reservation(
                    self._device, self._buffer, self._capacity, ms, out, self._result
                ),
                lambda: _decode.reservation_status(out),
                rc=rc,
            )[0]

    def report_capabilities(self, *, timeout: float | None = None) -> Capabilities:
        """REPORT CAPABILITIES: which PR features and types the device supports."""
        timeout_ms = self._timeout_for(timeout)
        with self._lock:
            return self._pr_in(
                PRInAction.REPORT_CAPABILITIES,
                timeout_ms,
                lambda ms: lib.pr_report_capabilities(
                    self._device,
                    self._buffer,
                    self._capacity,
                    ms,
                    self._capabilities_out,
                    self._result,
                ),
                self._decoded_capabilities,
            )[0]

    def _decoded_capabilities(self) -> Capabilities:
        """REPORT CAPABILITIES decoded; a device answers the same 8 bytes
        every time, so the same bytes give the same result undecoded."""
        data = ffi.buffer(self._buffer, self._result.transferred)[:]
        last = self._last_capabilities
        if last is not None and last[0] == data:
            return last[1]
        capabilities = _decode.capabilities(self._capabilities_out)
        self._last_capabilities = (data, capabilities)
        return capabilities

    def read_full_status(self, *, timeout: float | None = None) -> FullStatus:
        """READ FULL STATUS: every registration with its I_T nexus (TransportID),
        target port, and which one holds the reservation.

        Some targets (LIO) leave out descriptors that do not fit the
        allocation length and shrink ADDITIONAL LENGTH to match, so a short
        response cannot be told from a complete one.  The response is
        therefore re-read with a larger allocation until the largest possible
        descriptor would still have fitted; at the 65535-byte limit the
        registrant count is checked against READ KEYS instead (all under the
        device's lock, so no other thread's command comes in between).
        """
        timeout_ms = self._timeout_for(timeout)
        command = _in_name(PRInAction.READ_FULL_STATUS)
        with self._lock:
            for _ in range(_prin.FULL_STATUS_TRIES):
                status, may_be_cut = self._read_full_status(timeout_ms)
                if not may_be_cut:
                    return status
                response = self._response  # READ FULL STATUS', for --hex
                keys = self._read_keys(timeout_ms)
                self._response = response
                checked = _prin.full_status_checked(
                    status, keys, device=self._path, command=command
                )
                if checked is not None:
                    return checked
        raise _prin.full_status_unsettled(device=self._path, command=command)

    def _read_full_status(self, timeout_ms: int) -> tuple[FullStatus, bool]:
        if self._registrants is None:
            self._registrants = self._registrants_for(self._capacity)
        return self._pr_in(
            PRInAction.READ_FULL_STATUS,
            timeout_ms,
            lambda ms: lib.pr_read_full_status(
                self._device,
                self._buffer,
                self._capacity,
                ms,
                self._registrants,
                len(self._registrants),
                self._full_status_out,
                self._result,
            ),
            self._decoded_full_status,
            lambda allocated: _prin.full_status_may_be_cut(
                allocated, self._full_status_out.additional_length
            ),
        )

    def _decoded_full_status(self) -> FullStatus:
        """The response just read, decoded; the same bytes as the last time
        give the same (immutable) result without decoding them again, which
        is what a monitor re-reading an unchanged state meets."""
        data = ffi.buffer(self._buffer, self._result.transferred)[:]
        last = self._last_full_status
        if last is not None and last[0] == data:
            return last[1]
        status = _decode.full_status(self._full_status_out, self._registrants, data)
        self._last_full_status = (data, status)
        return status

    def _read_with_response(self, action: PRInAction) -> tuple[Any, bytes]:
        """The reader of ``action`` (the whole path above), and the bytes of
        the response it decoded: for the command line's ``--hex``."""
        readers: dict[PRInAction, Callable[[], Any]] = {
            PRInAction.READ_KEYS: self.read_keys,
            PRInAction.READ_RESERVATION: self.read_reservation,
            PRInAction.REPORT_CAPABILITIES: self.report_capabilities,
            PRInAction.READ_FULL_STATUS: self.read_full_status,
        }
        try:
            with self._lock:
                self._response = b""
                self._keep_responses(True)
            result = readers[action]()
            return result, self._response
        finally:
            with self._lock:
                self._keep_responses(False)

    def _read_response(self, action: PRInAction, allocation: int, timeout_ms: int) -> bytes:
        """One PR IN with exactly ``allocation`` bytes allowed and no re-read:
        the bytes as transferred, for sg_persist's ``-l`` (the sg-persist mode
        formats them from the C decoders)."""
        allocation = _validate.uint(allocation, 16, "allocation")
        with self._lock:
            self._check_open()
            if allocation > self._capacity:
                self._allocate(allocation)
            cdb = _cdb.pr_in_cdb(action, allocation)
            # The one PR IN loop (errors, signals); pr_execute never asks for
            # a re-read, so exactly this allocation is sent.
            return self._pr_in(
                action,
                timeout_ms,
                lambda ms: lib.pr_execute(
                    self._device,
                    cdb,
                    len(cdb),
                    lib.PR_DIR_FROM_DEVICE,
                    self._buffer,
                    allocation,
                    ms,
                    self._result,
                ),
                lambda: bytes(ffi.buffer(self._buffer, self._result.transferred)),
            )[0]

    # -- PERSISTENT RESERVE OUT --------------------------------------------

    def _pr_out(
        self,
        action: PROutAction,
        timeout: float | None,
        *,
        key: int = 0,
        service_action_key: int = 0,
        type: ReservationType | int = 0,
        aptpl: bool = False,
        all_target_ports: bool = False,
        unregister: bool = False,
        relative_target_port: int = 0,
        transport_ids: bytes = b"",
    ) -> None:
        timeout_ms = self._timeout_for(timeout)
        command = _out_name(action)
        self._check_out_allowed(command)
        with self._lock:
            self._check_open()
            needed = _SPEC_I_PT_HEADER + len(transport_ids)
            if needed > self._capacity:
                self._allocate(needed)
            tids = ffi.from_buffer("uint8_t[]", transport_ids)
            request = self._request
            request.key = key
            request.service_action_key = service_action_key
            request.transport_ids = tids
            request.transport_ids_length = len(transport_ids)
            request.relative_target_port = relative_target_port
            request.service_action = action
            request.scope = Scope.LU
            request.type = type
            request.aptpl = aptpl
            request.all_target_ports = all_target_ports
            request.unregister = unregister
            self._result.dispatched = 0
            rc: int | None = None
            try:
                rc = lib.pr_out(
                    self._device, request, self._buffer, self._capacity, timeout_ms, self._result
                )
                request.transport_ids = ffi.NULL
                while rc == lib.PR_ERR_INTERRUPTED:
                    # A signal ended the wait; the command is still in flight.
                    # Its handler runs here (a Python-level call), then the
                    # wait goes on for the same request: nothing is resent.
                    rc = None
                    _signal_handlers_run_here()
                    rc = lib.pr_resume(self._device, self._result)
            except BaseException as interruption:  # KeyboardInterrupt, a handler's exception
                request.transport_ids = ffi.NULL
                # A handler may raise as the C call returns, before rc is
                # stored: the core's own state says how the command ended.
                if rc is None or rc == lib.PR_ERR_INTERRUPTED:
                    rc = lib.pr_settled(self._device, self._result)
                raised = interrupted_out(
                    interruption, rc, self._result, device=self._path, command=command
                )
                if raised is interruption:
                    raise
                raise raised from interruption
            if rc != lib.PR_OK:
                raise_for_result(
                    rc,
                    self._result,
                    device=self._path,
                    command=command,
                    is_out=True,
                    read_only=self._read_only,
                )

    def register(
        self,
        new_key: int | bytes,
        key: int | bytes = 0,
        aptpl: bool = False,
        all_target_ports: bool = False,
        transport_ids: tuple[TransportID, ...] | list[TransportID] = (),
        *,
        timeout: float | None = None,
    ) -> None:
        """REGISTER: register ``new_key`` for this I_T nexus, or change its key.

        ``key`` is the key this nexus is registered with now (0 if none); a
        wrong one gets ``ReservationConflict``.  ``transport_ids`` registers
        other initiator ports too (SPEC_I_PT).  ``new_key=0`` unregisters.
        """
        new = _validate.key(new_key, "new_key")
        current = _validate.key(key, "key")
        persist = _validate.flag(aptpl, "aptpl")
        all_ports = _validate.flag(all_target_ports, "all_target_ports")
        tids = b"".join(t.to_bytes() for t in _validate.transport_ids(transport_ids))
        self._pr_out(
            PROutAction.REGISTER,
            timeout,
            key=current,
            service_action_key=new,
            aptpl=persist,
            all_target_ports=all_ports,
            transport_ids=tids,
        )

    def register_and_ignore(
        self,
        new_key: int | bytes,
        aptpl: bool = False,
        all_target_ports: bool = False,
        *,
        timeout: float | None = None,
    ) -> None:
        """REGISTER AND IGNORE EXISTING KEY: set this nexus's key to ``new_key``
        whatever it was (0 unregisters)."""
        new = _validate.key(new_key, "new_key")
        persist = _validate.flag(aptpl, "aptpl")
        all_ports = _validate.flag(all_target_ports, "all_target_ports")
        self._pr_out(
            PROutAction.REGISTER_AND_IGNORE_EXISTING_KEY,
            timeout,
            service_action_key=new,
            aptpl=persist,
            all_target_ports=all_ports,
        )

    def unregister(self, key: int | bytes, *, timeout: float | None = None) -> None:
        """REGISTER with a new key of 0: remove this nexus's registration.  If it
        held a reservation that only it holds, the reservation is released."""
        current = _validate.key(key, "key")
        self._pr_out(PROutAction.REGISTER, timeout, key=current)

    def reserve(
        self, key: int | bytes, type: ReservationType, *, timeout: float | None = None
    ) -> None:
        """RESERVE: take the reservation of ``type`` with this nexus's ``key``."""
        current = _validate.key(key, "key")
        kind = _validate.reservation_type(type)
        self._pr_out(PROutAction.RESERVE, timeout, key=current, type=kind)

    def release(
        self, key: int | bytes, type: ReservationType, *, timeout: float | None = None
    ) -> None:
        """RELEASE: give up the reservation; ``type`` must match the reservation's."""
        current = _validate.key(key, "key")
        kind = _validate.reservation_type(type)
        self._pr_out(PROutAction.RELEASE, timeout, key=current, type=kind)

    def clear(self, key: int | bytes, *, timeout: float | None = None) -> None:
        """CLEAR: remove the reservation and EVERY registration of the logical unit."""
        current = _validate.key(key, "key")
        self._pr_out(PROutAction.CLEAR, timeout, key=current)

    def preempt(
        self,
        key: int | bytes,
        preempt_key: int | bytes,
        type: ReservationType,
        *,
        timeout: float | None = None,
    ) -> None:
        """PREEMPT (04h): remove the registrations of ``preempt_key`` (the victim)
        using this nexus's own ``key``; if the victim held the reservation, this
        nexus takes it with ``type``."""
        current = _validate.key(key, "key")
        victim = _validate.key(preempt_key, "preempt_key")
        kind = _validate.reservation_type(type)
        self._pr_out(
            PROutAction.PREEMPT, timeout, key=current, service_action_key=victim, type=kind
        )

    def preempt_and_abort(
        self,
        key: int | bytes,
        preempt_key: int | bytes,
        type: ReservationType,
        *,
        timeout: float | None = None,
    ) -> None:
        """PREEMPT AND ABORT (05h): as ``preempt``, and also abort the victim's
        outstanding commands."""
        current = _validate.key(key, "key")
        victim = _validate.key(preempt_key, "preempt_key")
        kind = _validate.reservation_type(type)
        self._pr_out(
            PROutAction.PREEMPT_AND_ABORT,
            timeout,
            key=current,
            service_action_key=victim,
            type=kind,
        )

    def register_and_move(
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
        """REGISTER AND MOVE: register ``new_key`` for the I_T nexus named by
        ``transport_id`` and ``relative_target_port`` and move this nexus's
        reservation to it; ``unregister`` also drops this nexus's registration.

        ``type`` fills the CDB's TYPE field (the reservation being moved);
        when None it is sent as 0, as sg_persist does.
        """
        current = _validate.key(key, "key")
        new = _validate.key(new_key, "new_key")
        if new == 0:
            raise ValueError("new_key must not be 0 for REGISTER AND MOVE (SPC-4 6.16.4)")
        port = _validate.uint(relative_target_port, 16, "relative_target_port")
        tid = _validate.transport_id(transport_id, "transport_id").to_bytes()
        drop = _validate.flag(unregister, "unregister")
        persist = _validate.flag(aptpl, "aptpl")
        kind = 0 if type is None else _validate.reservation_type(type)
        self._pr_out(
            PROutAction.REGISTER_AND_MOVE,
            timeout,
            key=current,
            service_action_key=new,
            type=kind,
            aptpl=persist,
            unregister=drop,
            relative_target_port=port,
            transport_ids=tid,
        )

    def replace_lost_reservation(
        self, key: int | bytes, type: ReservationType, *, timeout: float | None = None
    ) -> None:
        """REPLACE LOST RESERVATION (SPC-5): re-establish a reservation the device
        lost, with this nexus's ``key``."""
        current = _validate.key(key, "key")
        kind = _validate.reservation_type(type)
        self._pr_out(PROutAction.REPLACE_LOST_RESERVATION, timeout, key=current, type=kind)

    # -- other -------------------------------------------------------------

    def test_unit_ready(self, *, timeout: float | None = None) -> None:
        """TEST UNIT READY: returns if the unit is ready; a pending unit
        attention for this nexus is reported (and thereby cleared) as
        ``UnitAttention``."""
        timeout_ms = self._timeout_for(timeout)
        with self._lock:
            self._check_open()
            rc = lib.pr_test_unit_ready(self._device, timeout_ms, self._result)
            while rc == lib.PR_ERR_INTERRUPTED:
                # A signal ended the wait (its handler runs here; an exception
                # from it propagates): wait on for the same command, whose
                # answer may be the unit attention this command exists to see.
                _signal_handlers_run_here()
                rc = lib.pr_resume(self._device, self._result)
            if rc != lib.PR_OK:
                raise_for_result(
                    rc,
                    self._result,
                    device=self._path,
                    command="TEST UNIT READY",
                    is_out=False,
                    read_only=self._read_only,
                )

    def identify(self, *, timeout: float | None = None) -> Identity:
        """INQUIRY: which logical unit this node reaches (vendor, product,
        serial number, every VPD 83h designator, ``lu_name``) and through
        which target port.  Standard INQUIRY, then the VPD pages 00h, 80h and
        83h, each read again until whole; it never changes the PR state and
        neither reports nor consumes a unit attention (SPC-4 5.14).  See
        ``pr_native.identity``."""
        timeout_ms = self._timeout_for(timeout)
        with self._lock:
            return _identity.read(self, timeout_ms)
