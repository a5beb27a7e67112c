"""How the Windows transports' results become exceptions (errors.py).

The storage PR IOCTLs report a Win32 error instead of a SCSI status; the
C transport records which transport carried the command in the result.
"""

from __future__ import annotations

import errno
from typing import Any

import pytest

import pr_native as pr
from pr_native._native import ffi, lib
from pr_native.errors import raise_for_result

CDB = bytes.fromhex("5f 04 03 00 00 00 00 00 18 00")


def _result(transport: int, os_error: int, *, dispatched: int) -> Any:
    result = ffi.new("struct pr_result *")
    result.transport = transport
    result.os_error = os_error
    result.dispatched = dispatched
    result.cdb_len = len(CDB)
    ffi.memmove(result.cdb, CDB, len(CDB))
    return result


def _raise(rc: int, result: Any, *, is_out: bool = True) -> None:
    raise_for_result(rc, result, device=r"\\.\PhysicalDrive1", command="PREEMPT", is_out=is_out)


@pytest.mark.parametrize(
    ("code", "dispatched", "expected"),
    [
        (170, 1, pr.ReservationConflict),  # ERROR_BUSY
        (1, 1, pr.IllegalRequest),  # ERROR_INVALID_FUNCTION
        (50, 0, pr.UnsupportedOperation),  # ERROR_NOT_SUPPORTED
        (87, 0, pr.UnsupportedOperation),  # ERROR_INVALID_PARAMETER
    ],
)
def test_storage_ioctl_errors(code: int, dispatched: int, expected: type[Exception]) -> None:
    result = _result(lib.PR_TRANSPORT_STORAGE_IOCTL, code, dispatched=dispatched)
    with pytest.raises(expected) as info:
        _raise(lib.PR_ERR_OS, result)
    assert isinstance(info.value, pr.PRError)
    assert info.value.cdb == CDB
    assert info.value.sense is None and info.value.sense_data == b""
    if expected in (pr.ReservationConflict, pr.IllegalRequest):
        assert "hides the sense data" in str(info.value)


def test_access_denied_is_a_permission_error() -> None:
    result = _result(lib.PR_TRANSPORT_STORAGE_IOCTL, 5, dispatched=0)
    with pytest.raises(PermissionError) as info:
        _raise(lib.PR_ERR_OS, result)
    assert info.value.errno == errno.EACCES
    assert "Windows error 5" in str(info.value)


def test_device_failure_after_dispatch_of_a_pr_out_is_outcome_unknown() -> None:
    result = _result(lib.PR_TRANSPORT_PASS_THROUGH, 1117, dispatched=1)  # ERROR_IO_DEVICE
    with pytest.raises(pr.OutcomeUnknown) as info:
        _raise(lib.PR_ERR_OS, result)
    assert isinstance(info.value.__cause__, OSError)


def test_device_failure_of_a_pr_in_is_an_os_error() -> None:
    result = _result(lib.PR_TRANSPORT_PASS_THROUGH, 1117, dispatched=1)
    with pytest.raises(OSError) as info:
        _raise(lib.PR_ERR_OS, result, is_out=False)
    assert not isinstance(info.value, pr.PRError)


def test_timeout_of_a_pr_out_is_outcome_unknown_from_command_timeout() -> None:
    result = _result(lib.PR_TRANSPORT_STORAGE_IOCTL, 121, dispatched=1)  # ERROR_SEM_TIMEOUT
    with pytest.raises(pr.OutcomeUnknown) as info:
        _raise(lib.PR_ERR_TIMEOUT, result)
    assert isinstance(info.value.__cause__, pr.CommandTimeout)


def test_command_the_storage_ioctl_cannot_carry() -> None:
    result = _result(lib.PR_TRANSPORT_STORAGE_IOCTL, 0, dispatched=0)
    with pytest.raises(pr.UnsupportedOperation, match="pass-through"):
        _raise(lib.PR_ERR_UNSUPPORTED, result)


def test_sg_io_errno_is_not_read_as_a_windows_error() -> None:
    result = _result(lib.PR_TRANSPORT_SG_IO, errno.EPERM, dispatched=0)
    with pytest.raises(PermissionError, match="CAP_SYS_RAWIO"):
        _raise(lib.PR_ERR_OS, result)
