"""How the Windows transports' results become exceptions (errors.py).

csrc/pr_windows.c records the Win32 error, the transport that carried the
command and whether it may have reached the device (``dispatched``, from the
one table of pr_win_dispatched; tests/windows/driver.c checks that table under
Wine).  These tests feed errors.py the results the C transport produces.
"""

from __future__ import annotations

import errno
from typing import Any

import pytest

import pr_native as pr
from pr_native._native import ffi, lib
from pr_native.errors import raise_for_result

OUT_CDB = bytes.fromhex("5f 04 03 00 00 00 00 00 18 00")
IN_CDB = bytes.fromhex("5e 00 00 00 00 00 00 10 00 00")
STORAGE = lib.PR_TRANSPORT_STORAGE_IOCTL
PASS_THROUGH = lib.PR_TRANSPORT_PASS_THROUGH

# The before-dispatch table of pr_win_dispatched, whole: dispatched == 0.
BEFORE_DISPATCH = {
    1: "ERROR_INVALID_FUNCTION",
    3: "ERROR_PATH_NOT_FOUND",
    5: "ERROR_ACCESS_DENIED",
    6: "ERROR_INVALID_HANDLE",
    8: "ERROR_NOT_ENOUGH_MEMORY",
    14: "ERROR_OUTOFMEMORY",
    24: "ERROR_BAD_LENGTH",
    50: "ERROR_NOT_SUPPORTED",
    87: "ERROR_INVALID_PARAMETER",
    122: "ERROR_INSUFFICIENT_BUFFER",
    998: "ERROR_NOACCESS",
    1314: "ERROR_PRIVILEGE_NOT_HELD",
    1784: "ERROR_INVALID_USER_BUFFER",
}
# A sample of every other error: dispatched == 1.
AFTER_DISPATCH = {
    2: "ERROR_FILE_NOT_FOUND",  # STATUS_NO_SUCH_DEVICE on an open handle
    21: "ERROR_NOT_READY",
    23: "ERROR_CRC",
    31: "ERROR_GEN_FAILURE",
    121: "ERROR_SEM_TIMEOUT",
    170: "ERROR_BUSY",  # from pass-through: SRB_STATUS_BUSY, not a SCSI status
    433: "ERROR_NO_SUCH_DEVICE",
    1117: "ERROR_IO_DEVICE",
    1167: "ERROR_DEVICE_NOT_CONNECTED",
    1235: "ERROR_REQUEST_ABORTED",
    12345: "an unknown error",
}
# The storage IOCTLs report these two device answers as PR_ERR_STATUS.
STORAGE_ANSWERS = (1, 170)


def _result(
    transport: int, os_error: int, *, dispatched: int, cdb: bytes = OUT_CDB, status: int = 0
) -> Any:
    result = ffi.new("struct pr_result *")
    result.transport = transport
    result.os_error = os_error
    result.dispatched = dispatched
    result.scsi_status = status
    result.sense_hidden = int(transport == STORAGE)
    result.cdb_len = len(cdb)
    ffi.memmove(result.cdb, cdb, len(cdb))
    return result


def _raise(rc: int, result: Any, *, is_out: bool = True) -> None:
    raise_for_result(rc, result, device=r"\\.\PhysicalDrive1", command="PREEMPT", is_out=is_out)


def _rc(code: int) -> int:
    return int(lib.PR_ERR_TIMEOUT if code == 121 else lib.PR_ERR_OS)


def _cases(codes: dict[int, str]) -> list[Any]:
    """(code, transport) for each transport that reports ``code`` as a Win32
    error (test_storage_ioctl_device_answers has the storage IOCTL's others)."""
    return [
        pytest.param(code, transport, id=f"{name}-{label}")
        for code, name in codes.items()
        for transport, label in ((STORAGE, "storage"), (PASS_THROUGH, "pass-through"))
        if not (transport == STORAGE and code in STORAGE_ANSWERS)
    ]


@pytest.mark.parametrize("is_out", [True, False], ids=["out", "in"])
@pytest.mark.parametrize(("code", "transport"), _cases(BEFORE_DISPATCH))
def test_error_before_dispatch_is_never_outcome_unknown(
    code: int, transport: int, is_out: bool
) -> None:
    result = _result(transport, code, dispatched=0, cdb=OUT_CDB if is_out else IN_CDB)
    with pytest.raises(Exception) as info:
        _raise(lib.PR_ERR_OS, result, is_out=is_out)
    error = info.value
    refused = transport == PASS_THROUGH and code in ((1, 5, 50) if is_out else (1, 50))
    if (transport == STORAGE and code in (50, 87)) or refused:
        assert type(error) is pr.UnsupportedOperation
        assert "nothing was sent" in str(error)
        assert error.cdb == (OUT_CDB if is_out else IN_CDB)
    elif code == 5:
        assert isinstance(error, PermissionError)
        assert error.errno == errno.EACCES and "Windows error 5" in str(error)
    else:
        assert isinstance(error, OSError) and not isinstance(error, pr.PRError)
        assert f"Windows error {code}" in str(error)


@pytest.mark.parametrize(("code", "transport"), _cases(AFTER_DISPATCH))
def test_error_after_dispatch(code: int, transport: int) -> None:
    timeout = code == 121
    result = _result(transport, code, dispatched=1)
    with pytest.raises(pr.OutcomeUnknown) as unknown:
        _raise(_rc(code), result)
    cause = unknown.value.__cause__
    assert isinstance(cause, pr.CommandTimeout if timeout else OSError)
    assert "may have run" in str(unknown.value)
    result = _result(transport, code, dispatched=1, cdb=IN_CDB)
    with pytest.raises(Exception) as error:
        _raise(_rc(code), result, is_out=False)
    if timeout:
        assert type(error.value) is pr.CommandTimeout
    else:
        assert isinstance(error.value, OSError) and not isinstance(error.value, pr.PRError)
        assert f"Windows error {code}" in str(error.value)


@pytest.mark.parametrize("is_out", [True, False], ids=["out", "in"])
@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        (170, 0x18, pr.ReservationConflict),  # ERROR_BUSY
        (1, 0x02, pr.IllegalRequest),  # ERROR_INVALID_FUNCTION
    ],
)
def test_storage_ioctl_device_answers(
    code: int, status: int, expected: type[pr.PRError], is_out: bool
) -> None:
    """PR_ERR_STATUS with the status byte the Win32 error stands for: the
    device answered, so never OutcomeUnknown."""
    cdb = OUT_CDB if is_out else IN_CDB
    result = _result(STORAGE, code, dispatched=1, cdb=cdb, status=status)
    with pytest.raises(pr.PRError) as info:
        _raise(lib.PR_ERR_STATUS, result, is_out=is_out)
    assert type(info.value) is expected
    assert info.value.status == status and info.value.cdb == cdb
    assert info.value.sense is None and info.value.sense_data == b""
    assert "hides the sense data" in str(info.value)
    assert f"Windows error {code}" in str(info.value)


def test_pass_through_refused_for_a_pr_out_says_nothing_was_sent() -> None:
    result = _result(PASS_THROUGH, 1, dispatched=0)
    with pytest.raises(pr.UnsupportedOperation) as info:
        _raise(lib.PR_ERR_OS, result)
    message = str(info.value)
    assert "refused SCSI pass-through (Windows error 1); nothing was sent" in message
    assert "transport='storage-ioctl'" in message and "retries" in message
    assert "timeout" in message
    assert isinstance(info.value.__cause__, OSError)


def test_pass_through_refused_for_a_pr_in_names_what_the_storage_ioctl_reads() -> None:
    result = _result(PASS_THROUGH, 50, dispatched=0, cdb=IN_CDB)
    with pytest.raises(pr.UnsupportedOperation, match="only READ KEYS and READ RESERVATION"):
        _raise(lib.PR_ERR_OS, result, is_out=False)


def test_storage_ioctl_refusal_points_to_pass_through() -> None:
    result = _result(STORAGE, 87, dispatched=0)
    with pytest.raises(pr.UnsupportedOperation, match="SCSI pass-through"):
        _raise(lib.PR_ERR_OS, result)


def test_command_the_storage_ioctl_cannot_carry() -> None:
    result = _result(STORAGE, 0, dispatched=0)
    with pytest.raises(pr.UnsupportedOperation, match="pass-through"):
        _raise(lib.PR_ERR_UNSUPPORTED, result)


def test_sg_io_errno_is_not_read_as_a_windows_error() -> None:
    result = _result(lib.PR_TRANSPORT_SG_IO, errno.EPERM, dispatched=0)
    with pytest.raises(PermissionError, match="CAP_SYS_RAWIO"):
        _raise(lib.PR_ERR_OS, result)
