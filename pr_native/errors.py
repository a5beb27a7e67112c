"""The exception tree, and the one function that turns a failed C call into it.

``PRError`` is the root of everything the device or the transport reports.
What the operating system refuses before a command reaches the device (no
permission, no such file, not a SCSI device) is a plain ``OSError`` subclass
with the device path as ``filename``, so ``except PermissionError`` works.
"""

from __future__ import annotations

import errno
import os
import sys
from enum import Enum

from ._native import ffi, lib
from ._record import TYPE_CHECKING
from .constants import ScsiStatus, SenseKey
from .sense import Sense, decode_sense

if TYPE_CHECKING:
    from typing import Any, NoReturn

    from .multipath import Path

_DID_NEXUS_FAILURE = 0x11


class PRError(Exception):
    """A persistent reservation command failed; carries all the evidence.

    Each piece of evidence is an attribute (None, 0 or empty when the
    command did not get that far); ``details()`` formats them.
    """

    def __init__(
        self,
        message: str,
        *,
        device: str | None = None,
        command: str | None = None,
        cdb: bytes = b"",
        status: int | None = None,
        host_status: int = 0,
        driver_status: int = 0,
        sense_data: bytes = b"",
        sense: Sense | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        """What went wrong; ``str()`` adds the command and the device."""
        self.device = device
        """Path of the device the command was sent to."""
        self.command = command
        """Name of the command, e.g. ``"PERSISTENT RESERVE OUT (PREEMPT)"``."""
        self.cdb = cdb
        """The CDB as sent (empty when none was built)."""
        self.status = status
        """SAM status byte, None when the command never completed."""
        self.host_status = host_status
        """Linux host status (``DID_*``), 0 elsewhere."""
        self.driver_status = driver_status
        """Linux driver status (``DRIVER_*``), 0 elsewhere."""
        self.sense_data = sense_data
        """The raw sense bytes as the device returned them."""
        self.sense = sense
        """The decoded ``Sense``, None without usable sense data."""

    def __str__(self) -> str:
        parts = [self.message]
        if self.command or self.device:
            parts.append(f"[{self.command or '?'} on {self.device or '?'}]")
        return " ".join(parts)

    def details(self) -> str:
        """Multi-line report: the CDB, status bytes and raw sense."""
        from .sense_codes import driver_status_name, host_status_name, status_name

        lines = [str(self)]
        if self.cdb:
            lines.append(f"  CDB: {self.cdb.hex(' ')}")
        if self.status is not None:
            lines.append(f"  status: 0x{self.status:02x} ({status_name(self.status)})")
        if self.host_status or self.driver_status:
            lines.append(
                f"  host: {host_status_name(self.host_status)}, "
                f"driver: {driver_status_name(self.driver_status)}"
            )
        if self.sense_data:
            lines.append(f"  sense: {self.sense_data.hex(' ')}")
        return "\n".join(lines)


class ReservationConflict(PRError):
    """RESERVATION CONFLICT status: another I_T nexus holds a conflicting reservation,
    or this nexus is not registered with the key it used.

    Also Linux host status DID_NEXUS_FAILURE, and Windows ``ERROR_BUSY`` from
    the storage PR IOCTLs (which hide the sense data)."""


class CheckCondition(PRError):
    """CHECK CONDITION status; ``sense`` says why."""


class IllegalRequest(CheckCondition):
    """ILLEGAL REQUEST: the device rejected a field of the CDB or parameter list,
    or does not support the command (ASC 20h or 24h/26h)."""


class UnitAttentionCondition(Enum):
    """Unit attention conditions that matter to reservation holders, valued
    (ASC, ASCQ): ``REGISTRATIONS_PREEMPTED`` is (2Ah, 05h)."""

    POWER_ON_RESET = (0x29, 0x00)
    POWER_ON = (0x29, 0x01)
    BUS_RESET = (0x29, 0x02)
    BUS_DEVICE_RESET = (0x29, 0x03)
    DEVICE_INTERNAL_RESET = (0x29, 0x04)
    I_T_NEXUS_LOSS = (0x29, 0x07)
    PARAMETERS_CHANGED = (0x2A, 0x00)
    MODE_PARAMETERS_CHANGED = (0x2A, 0x01)
    RESERVATIONS_PREEMPTED = (0x2A, 0x03)
    RESERVATIONS_RELEASED = (0x2A, 0x04)
    REGISTRATIONS_PREEMPTED = (0x2A, 0x05)
    ASYMMETRIC_ACCESS_STATE_CHANGED = (0x2A, 0x06)
    CAPACITY_DATA_CHANGED = (0x2A, 0x09)
    COMMANDS_CLEARED_BY_ANOTHER_INITIATOR = (0x2F, 0x00)
    MEDIUM_MAY_HAVE_CHANGED = (0x28, 0x00)
    INQUIRY_DATA_CHANGED = (0x3F, 0x03)
    REPORTED_LUNS_DATA_CHANGED = (0x3F, 0x0E)


class UnitAttention(CheckCondition):
    """UNIT ATTENTION: an event happened since this nexus's last command.

    The command itself was not executed; the condition is now cleared for this
    I_T nexus, so sending the command again is the caller's decision.
    """

    @property
    def condition(self) -> UnitAttentionCondition | None:
        """The named condition, e.g. ``REGISTRATIONS_PREEMPTED`` (2Ah/05h)."""
        if self.sense is None:
            return None
        try:
            return UnitAttentionCondition((self.sense.asc, self.sense.ascq))
        except ValueError:
            return None


class NotReady(CheckCondition):
    """NOT READY: the logical unit cannot execute commands now."""


class MediumError(CheckCondition):
    """MEDIUM ERROR sense key."""


class HardwareError(CheckCondition):
    """HARDWARE ERROR sense key."""


class DataProtect(CheckCondition):
    """DATA PROTECT sense key."""


class AbortedCommand(CheckCondition):
    """ABORTED COMMAND: the device server aborted the command; it was not executed."""


class DeviceBusy(PRError):
    """BUSY or TASK SET FULL status: the device could not accept the command now."""


class TaskAborted(PRError):
    """TASK ABORTED status: another initiator's PREEMPT AND ABORT (or a task
    management function) aborted this command."""


class TransportError(PRError):
    """The host adapter or driver failed the command (Linux host/driver status)."""


class CommandTimeout(PRError):
    """The command did not complete within its timeout."""


class OutcomeUnknown(PRError):
    """A PERSISTENT RESERVE OUT may or may not have been executed.

    Raised when a PR OUT was interrupted, timed out, was aborted or hit a
    transport failure after it was dispatched.  pr_native never resends it:
    read the state (``read_full_status``) and decide.  ``__cause__`` holds the
    underlying error.
    """


class MalformedResponse(PRError):
    """The device's response violates the SPC format; nothing was guessed."""


class ResponseTruncated(PRError):
    """The response does not fit: the complete one needs ``needed`` bytes,
    more than a PR IN can carry (65535, from ``Device``) or than the bytes
    given (the ``pr_native.cdb`` decoders)."""

    def __init__(
        self, message: str, *, needed: int, device: str | None = None, command: str | None = None
    ) -> None:
        super().__init__(message, device=device, command=command)
        self.needed = needed
        """The length of the complete response, in bytes."""


class UnsupportedPlatform(PRError):
    """This platform has no SCSI pass-through backend (macOS and others):
    ``Device`` raises it; the builders and decoders work."""


class UnsupportedOperation(PRError):
    """The command cannot be carried as asked, and nothing was sent: the
    Windows storage PR IOCTLs cannot carry it, the stack refuses SCSI
    pass-through for a PR OUT (``transport="auto"``), or a PR OUT was asked of
    a device-mapper (multipath) node, which would reach one path only."""


class PartialRegistration(PRError):
    """A REGISTER, REGISTER AND IGNORE EXISTING KEY or unregister through a
    ``MultipathDevice`` failed on some of the paths it was sent to.

    ``succeeded`` lists the paths it succeeded on, ``failed`` (path,
    exception) pairs (``OutcomeUnknown`` where it may have run), ``skipped``
    the paths it was not sent to (failed in device-mapper, not verified, or
    not reached after an interruption).  Nothing was rolled back: read the
    state (``read_full_status()``) and decide.  ``__cause__`` is the first
    failure.
    """

    def __init__(
        self,
        message: str,
        *,
        succeeded: tuple[Path, ...] = (),
        failed: tuple[tuple[Path, BaseException], ...] = (),
        skipped: tuple[Path, ...] = (),
        device: str | None = None,
        command: str | None = None,
    ) -> None:
        super().__init__(message, device=device, command=command)
        self.succeeded = succeeded
        """The paths (``pr_native.multipath.Path``) it succeeded on."""
        self.failed = failed
        """(path, exception) for each path it failed on."""
        self.skipped = skipped
        """The paths it was not sent to: they keep their registration state."""


_SENSE_KEY_ERRORS: dict[int, type[CheckCondition]] = {
    SenseKey.ILLEGAL_REQUEST: IllegalRequest,
    SenseKey.UNIT_ATTENTION: UnitAttention,
    SenseKey.NOT_READY: NotReady,
    SenseKey.MEDIUM_ERROR: MediumError,
    SenseKey.HARDWARE_ERROR: HardwareError,
    SenseKey.DATA_PROTECT: DataProtect,
    SenseKey.ABORTED_COMMAND: AbortedCommand,
}

_STATUS_ERRORS: dict[int, type[PRError]] = {
    ScsiStatus.RESERVATION_CONFLICT: ReservationConflict,
    ScsiStatus.BUSY: DeviceBusy,
    ScsiStatus.TASK_SET_FULL: DeviceBusy,
    ScsiStatus.TASK_ABORTED: TaskAborted,
}


def _os_error(code: int, path: str, command: str, read_only: bool) -> OSError:
    hint = ""
    if code in (errno.EPERM, errno.EACCES):
        if read_only:
            hint = "; the device was opened read-only, PR commands need read-write access"
        else:
            hint = (
                "; PR commands through /dev/sdX, /dev/stN or /dev/nstN need CAP_SYS_RAWIO,"
                " use /dev/sgN opened read-write instead"
            )
    elif code in (errno.ENODEV, errno.ENXIO):
        hint = "; the device is gone"
    return OSError(code, f"{command}: {os.strerror(code)}{hint}", path)


# Win32 error codes (winerror.h) the Windows transports report in os_error.
# Whether a failed command may have reached the device is decided from them
# by csrc/pr_windows.c (pr_win_dispatched), never here.
#: The storage PR IOCTLs' ILLEGAL REQUEST (``IllegalRequest``), or a stack
#: without pass-through (``UnsupportedOperation``).
ERROR_INVALID_FUNCTION = 1
#: ``FileNotFoundError``; classpnp's answer to LOGICAL UNIT NOT SUPPORTED (25h).
ERROR_FILE_NOT_FOUND = 2
ERROR_PATH_NOT_FOUND = 3  #: ``FileNotFoundError``: no such device.
#: ``PermissionError``: the handle lacks the access the command needs (a PR OUT
#: refused pass-through this way in ``auto`` mode: ``UnsupportedOperation``).
ERROR_ACCESS_DENIED = 5
ERROR_SHARING_VIOLATION = 32  #: ``OSError(EBUSY)``: the device is open elsewhere.
#: A stack without the IOCTL: ``UnsupportedOperation``, nothing was sent.
ERROR_NOT_SUPPORTED = 50
#: The class driver refused a field of a storage PR IOCTL (``UnsupportedOperation``);
#: elsewhere ``OSError(EINVAL)``.
ERROR_INVALID_PARAMETER = 87
ERROR_BUSY = 170  #: The storage PR IOCTLs' RESERVATION CONFLICT (``ReservationConflict``).
_ERROR_INVALID_HANDLE = 6
_ERROR_NOT_ENOUGH_MEMORY = 8
_WIN32_ERRNO = {
    ERROR_FILE_NOT_FOUND: errno.ENOENT,
    ERROR_PATH_NOT_FOUND: errno.ENOENT,
    ERROR_ACCESS_DENIED: errno.EACCES,
    _ERROR_INVALID_HANDLE: errno.EBADF,
    _ERROR_NOT_ENOUGH_MEMORY: errno.ENOMEM,
    ERROR_SHARING_VIOLATION: errno.EBUSY,
    ERROR_INVALID_PARAMETER: errno.EINVAL,
}
# How a driver stack refuses SCSI pass-through before dispatch: it has none,
# or the handle or a policy does not allow it (pr_win_pass_through_refused).
_PASS_THROUGH_ABSENT = (ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED)
_PASS_THROUGH_REFUSED = (*_PASS_THROUGH_ABSENT, ERROR_ACCESS_DENIED)
_HIDDEN_SENSE = (
    "; the Windows class driver's storage PR IOCTL hides the sense data"
    " (SCSI pass-through returns it)"
)


def windows_os_error(code: int, message: str, path: str) -> OSError:
    """An OSError for a Win32 error code: the native subclass on Windows
    (``winerror`` kept), the errno-equivalent subclass elsewhere."""
    if sys.platform == "win32":
        return OSError(None, f"{message} (Windows error {code})", path, code)
    return OSError(_WIN32_ERRNO.get(code, errno.EIO), f"{message} (Windows error {code})", path)


def _pass_through_refused(
    code: int, is_out: bool, evidence: dict[str, Any]
) -> UnsupportedOperation:
    """The stack refused SCSI pass-through before dispatch.  transport='auto'
    never resends a PR OUT through the storage IOCTL (whose class driver
    retries it and applies its own timeout); a PR IN it can carry was already
    read through it instead."""
    if is_out:
        hint = (
            "transport='storage-ioctl' sends the basic PR OUT service actions (0-6, types "
            "1, 3, 5, 6) through the class driver instead, accepting its own retries (the "
            "PR OUT may then run twice) and its fixed timeout"
        )
    else:
        hint = "only READ KEYS and READ RESERVATION are read without it (transport='storage-ioctl')"
    return UnsupportedOperation(
        f"the driver stack refused SCSI pass-through (Windows error {code}); nothing was "
        f"sent: {hint}",
        **evidence,
    )


def _windows_error(code: int, result: Any, evidence: dict[str, Any]) -> Exception:
    """A Win32 error of the Windows transports (GetLastError(), recorded by
    csrc/pr_windows.c, which also decided whether the command was dispatched)."""
    if result.transport == lib.PR_TRANSPORT_STORAGE_IOCTL and code in (
        ERROR_NOT_SUPPORTED,
        ERROR_INVALID_PARAMETER,
    ):
        return UnsupportedOperation(
            f"the storage PR IOCTL refused the command (Windows error {code}): the class "
            "driver does not support it, nothing was sent; SCSI pass-through "
            "(transport='auto' or 'pass-through') carries every PR command where the "
            "driver stack allows it",
            **evidence,
        )
    error = windows_os_error(code, evidence["command"], evidence["device"])
    if result.transport != lib.PR_TRANSPORT_PASS_THROUGH or result.dispatched:
        return error
    is_out = evidence["cdb"][:1] == bytes([lib.PR_OPCODE_OUT])
    # A PR IN denied pass-through for lack of access stays a PermissionError.
    if code not in (_PASS_THROUGH_REFUSED if is_out else _PASS_THROUGH_ABSENT):
        return error
    refused = _pass_through_refused(code, is_out, evidence)
    refused.__cause__ = error
    return refused


def _windows_status_error(result: Any, evidence: dict[str, Any]) -> PRError | None:
    """The storage PR IOCTLs answer a SCSI status with a Win32 error and
    consume the sense data; the C transport records the status it stands for
    (ERROR_BUSY: RESERVATION CONFLICT; ERROR_INVALID_FUNCTION: CHECK CONDITION
    with ILLEGAL REQUEST, which classpnp cannot tell from a request the port
    driver or the stack refused) and keeps the Win32 error in os_error."""
    if not result.sense_hidden:
        return None
    code = f" (Windows error {result.os_error})" if result.os_error else ""
    if result.scsi_status == ScsiStatus.RESERVATION_CONFLICT:
        return ReservationConflict(
            f"reservation conflict{code}{_HIDDEN_SENSE}", status=result.scsi_status, **evidence
        )
    if result.scsi_status == ScsiStatus.CHECK_CONDITION:
        return IllegalRequest(
            f"the device or the driver stack rejected the command (ILLEGAL REQUEST){code}"
            f"{_HIDDEN_SENSE}",
            status=result.scsi_status,
            **evidence,
        )
    return None


# What a core return code other than a device's answer means.
_CORE_ERRORS = {
    lib.PR_ERR_ARGUMENT: "the C core refused the request as invalid",
    lib.PR_ERR_NOT_SCSI: "the device does not accept SCSI commands",
}


# SCSI answers that say the command was not performed: the device refused it
# before acting (SAM-5 5.3: RESERVATION CONFLICT, BUSY, TASK SET FULL, ACA
# ACTIVE), or rejected a field (ILLEGAL REQUEST), reported an event first
# (UNIT ATTENTION) or a write-protected medium (DATA PROTECT).  Any other
# CHECK CONDITION may follow a PR OUT that took effect: LIO registers the key
# and then answers NOT READY (or HARDWARE ERROR) when it cannot write its
# APTPL file (target_core_pr.c, core_scsi3_update_and_write_aptpl).
_REFUSED_STATUSES = frozenset(
    {
        ScsiStatus.RESERVATION_CONFLICT,
        ScsiStatus.BUSY,
        ScsiStatus.TASK_SET_FULL,
        ScsiStatus.ACA_ACTIVE,
    }
)
_REFUSED_SENSE_KEYS = frozenset(
    {SenseKey.ILLEGAL_REQUEST, SenseKey.UNIT_ATTENTION, SenseKey.DATA_PROTECT}
)


def may_have_run(rc: int, result: Any) -> bool:
    """THE verdict for "did it reach the device", shared by every caller.

    A command the C core handed to the device (``result.dispatched``, set by
    the transport: sg write() accepted, SG_IO interrupted after queueing, a
    Win32 error not known to happen before dispatch) may have run unless the
    device's answer says it was not performed: RESERVATION CONFLICT, BUSY,
    TASK SET FULL, ACA ACTIVE, or CHECK CONDITION with current sense data of
    ILLEGAL REQUEST, UNIT ATTENTION or DATA PROTECT.  Every other answer
    (another sense key, deferred or missing sense, TASK ABORTED) may follow a
    command that took effect.
    """
    if not result.dispatched or rc == lib.PR_OK:
        return False
    if rc != lib.PR_ERR_STATUS:
        return True
    status = result.scsi_status
    if status in _REFUSED_STATUSES or result.host_status == _DID_NEXUS_FAILURE:
        return False
    if status == ScsiStatus.CHECK_CONDITION:
        if result.sense_hidden:  # Windows storage IOCTL: ILLEGAL REQUEST (classpnp)
            return False
        sense = decode_sense(bytes(ffi.buffer(result.sense, result.sense_len)))
        return sense is None or sense.deferred or sense.sense_key not in _REFUSED_SENSE_KEYS
    return True


def error_for_result(
    rc: int, result: Any, *, device: str, command: str, read_only: bool = False
) -> Exception:
    """The exception that describes a failed pr_* call, as the device or the
    operating system reported it (never ``OutcomeUnknown``)."""
    cdb = bytes(ffi.buffer(result.cdb, result.cdb_len))
    evidence: dict[str, Any] = {"device": device, "command": command, "cdb": cdb}
    windows = result.transport in (lib.PR_TRANSPORT_STORAGE_IOCTL, lib.PR_TRANSPORT_PASS_THROUGH)
    if rc == lib.PR_ERR_OS and windows:
        return _windows_error(result.os_error, result, evidence)
    if rc in (lib.PR_ERR_OS, lib.PR_ERR_INTERRUPTED):
        code = result.os_error or errno.EINTR
        return _os_error(code, device, command, read_only)
    if rc == lib.PR_ERR_UNSUPPORTED and result.transport == lib.PR_TRANSPORT_STORAGE_IOCTL:
        return UnsupportedOperation(
            "the storage PR IOCTLs cannot carry this command (only READ KEYS, READ "
            "RESERVATION and PR OUT 0-6 with types 1, 3, 5, 6); use transport='auto' "
            "or 'pass-through'",
            **evidence,
        )
    if rc == lib.PR_ERR_UNSUPPORTED:
        return UnsupportedPlatform(
            "this platform has no SCSI pass-through backend", device=device, command=command
        )
    if rc == lib.PR_ERR_MALFORMED:
        return MalformedResponse("response violates the SPC format", **evidence)
    if rc == lib.PR_ERR_SHORT:
        return ResponseTruncated(
            f"the response needs {result.needed} bytes", needed=result.needed, **evidence
        )
    if rc in _CORE_ERRORS:
        return ValueError(f"{command}: {_CORE_ERRORS[rc]}; nothing was sent")
    if rc == lib.PR_ERR_TIMEOUT and result.os_error == errno.ETIMEDOUT:
        # The core stopped waiting (timeout + PR_WAIT_MARGIN_MS); the
        # transport still holds the command (e.g. iSCSI session recovery).
        return CommandTimeout(
            "no completion within the timeout; the command was left with the driver",
            **evidence,
        )
    if rc == lib.PR_ERR_STATUS and windows:
        hidden = _windows_status_error(result, evidence)
        if hidden is not None:
            return hidden
    sense_data = bytes(ffi.buffer(result.sense, result.sense_len))
    sense = decode_sense(sense_data)
    cls, message = _classify(
        rc, result.scsi_status, result.host_status, result.driver_status, sense
    )
    return cls(
        message,
        status=result.scsi_status,
        host_status=result.host_status,
        driver_status=result.driver_status,
        sense_data=sense_data,
        sense=sense,
        **evidence,
    )


def outcome_unknown(
    cause: BaseException, *, device: str, command: str, cdb: bytes
) -> OutcomeUnknown:
    """``OutcomeUnknown`` for a PR OUT that may have run, ``cause`` kept as
    ``__cause__`` (and its status bytes, when the device sent any)."""
    evidence: dict[str, Any] = {}
    if isinstance(cause, PRError):
        evidence = {
            "status": cause.status,
            "host_status": cause.host_status,
            "driver_status": cause.driver_status,
            "sense_data": cause.sense_data,
            "sense": cause.sense,
        }
    reason = cause.message if isinstance(cause, PRError) else str(cause) or type(cause).__name__
    unknown = OutcomeUnknown(
        f"{reason}; the PR OUT was submitted and may have run (it is never resent: "
        "read the state and decide)",
        device=device,
        command=command,
        cdb=cdb,
        **evidence,
    )
    unknown.__cause__ = cause
    return unknown


def interrupted_out(
    cause: BaseException, rc: int, result: Any, *, device: str, command: str
) -> BaseException:
    """THE rule for a PR OUT whose caller was interrupted (a signal handler's
    exception, a cancellation): what to raise instead of its outcome.

    ``rc`` is the command's end as the C core knows it (``pr_settled``, or
    the code the call returned): ``PR_ERR_PENDING`` or
    ``PR_ERR_INTERRUPTED`` while it is still in flight.  ``OutcomeUnknown``
    (``cause`` as its cause) when the command may have run: submitted and
    still in flight, or ended as ``may_have_run`` says; otherwise ``cause``
    itself, for a command never sent or whose end is known (it completed, or
    the device's answer says it was not performed).
    """
    in_flight = rc in (lib.PR_ERR_PENDING, lib.PR_ERR_INTERRUPTED)
    if result.dispatched and (in_flight or may_have_run(rc, result)):
        cdb = bytes(ffi.buffer(result.cdb, result.cdb_len))
        return outcome_unknown(cause, device=device, command=command, cdb=cdb)
    return cause


def raise_for_result(
    rc: int,
    result: Any,
    *,
    device: str,
    command: str,
    is_out: bool,
    read_only: bool = False,
) -> NoReturn:
    """Raise the exception that describes a failed pr_* call.

    ``result`` is the ``struct pr_result *`` the call filled.  A PERSISTENT
    RESERVE OUT that may have run (``may_have_run``) raises ``OutcomeUnknown``
    with the underlying error as its cause.
    """
    error = error_for_result(rc, result, device=device, command=command, read_only=read_only)
    if is_out and may_have_run(rc, result):
        cdb = bytes(ffi.buffer(result.cdb, result.cdb_len))
        raise outcome_unknown(error, device=device, command=command, cdb=cdb)
    raise error


def _classify(
    rc: int, status: int, host: int, driver: int, sense: Sense | None
) -> tuple[type[PRError], str]:
    # The status-name tables load on the first error, not at import.
    from .sense_codes import driver_status_name, host_status_name, status_name

    if rc == lib.PR_ERR_TIMEOUT:
        return CommandTimeout, "command timed out"
    if rc == lib.PR_ERR_STATUS and host == _DID_NEXUS_FAILURE:
        return ReservationConflict, "reservation conflict (reported as host DID_NEXUS_FAILURE)"
    if rc == lib.PR_ERR_TRANSPORT:
        return TransportError, (
            f"transport failure: host {host_status_name(host)}, driver {driver_status_name(driver)}"
        )
    if status == ScsiStatus.CHECK_CONDITION:
        if sense is None:
            return CheckCondition, "check condition without usable sense data"
        return _SENSE_KEY_ERRORS.get(sense.sense_key, CheckCondition), f"check condition: {sense}"
    return _STATUS_ERRORS.get(status, PRError), f"SCSI status {status_name(status)}"
