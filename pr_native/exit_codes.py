"""sg3_utils exit codes (``include/sg_lib.h`` SG_LIB_*) for pr_native outcomes.

Scripts written around ``sg_persist`` branch on its exit status: 24 for a
reservation conflict, 6 for a unit attention, and so on.  ``exit_code()``
gives the status sg3_utils would have returned for the same outcome, derived
as ``sg_err_category_sense()`` (lib/sg_lib.c) derives it from the status and
sense data, and ``sg_convert_errno()`` for operating-system errors.
"""

from __future__ import annotations

import os
from enum import IntEnum

from .constants import ScsiStatus, SenseKey
from .errors import (
    CommandTimeout,
    IllegalRequest,
    MalformedResponse,
    OutcomeUnknown,
    PRError,
    ReservationConflict,
    TransportError,
    UnitAttention,
)
from .sense import Sense


class ExitCode(IntEnum):
    """The SG_LIB_* values pr_native can produce, with sg_lib.h's names."""

    OK = 0  # SG_LIB_CAT_CLEAN
    SYNTAX_ERROR = 1  # SG_LIB_SYNTAX_ERROR
    NOT_READY = 2  # SG_LIB_CAT_NOT_READY
    MEDIUM_HARD = 3  # SG_LIB_CAT_MEDIUM_HARD
    ILLEGAL_REQUEST = 5  # SG_LIB_CAT_ILLEGAL_REQ
    UNIT_ATTENTION = 6  # SG_LIB_CAT_UNIT_ATTENTION
    DATA_PROTECT = 7  # SG_LIB_CAT_DATA_PROTECT
    INVALID_OPCODE = 9  # SG_LIB_CAT_INVALID_OP
    COPY_ABORTED = 10  # SG_LIB_CAT_COPY_ABORTED
    ABORTED_COMMAND = 11  # SG_LIB_CAT_ABORTED_COMMAND
    STANDBY = 12  # SG_LIB_CAT_STANDBY
    UNAVAILABLE = 13  # SG_LIB_CAT_UNAVAILABLE
    MISCOMPARE = 14  # SG_LIB_CAT_MISCOMPARE
    FILE_ERROR = 15  # SG_LIB_FILE_ERROR
    PROGRESS_NOT_READY = 16  # SG_LIB_PROGRESS_NOT_READY
    INVALID_PARAMETER = 19  # SG_LIB_CAT_INVALID_PARAM
    NO_SENSE = 20  # SG_LIB_CAT_NO_SENSE
    RECOVERED = 21  # SG_LIB_CAT_RECOVERED
    LBA_OUT_OF_RANGE = 22  # SG_LIB_LBA_OUT_OF_RANGE
    RESERVATION_CONFLICT = 24  # SG_LIB_CAT_RES_CONFLICT
    CONDITION_MET = 25  # SG_LIB_CAT_CONDITION_MET
    BUSY = 26  # SG_LIB_CAT_BUSY
    TASK_SET_FULL = 27  # SG_LIB_CAT_TS_FULL
    ACA_ACTIVE = 28  # SG_LIB_CAT_ACA_ACTIVE
    TASK_ABORTED = 29  # SG_LIB_CAT_TASK_ABORTED
    CONTRADICT = 31  # SG_LIB_CONTRADICT
    TIMEOUT = 33  # SG_LIB_CAT_TIMEOUT
    TRANSPORT_ERROR = 35  # SG_LIB_TRANSPORT_ERROR
    PROTECTION = 40  # SG_LIB_CAT_PROTECTION
    OS_ERROR = 50  # SG_LIB_OS_BASE_ERR; 51..96 are 50 + errno
    MALFORMED = 97  # SG_LIB_CAT_MALFORMED
    SENSE = 98  # SG_LIB_CAT_SENSE
    OTHER = 99  # SG_LIB_CAT_OTHER


# sg_exit2str()'s short texts (lib/sg_lib_data.c sg_exit_str_arr).
_MEANINGS = {
    ExitCode.OK: "No errors",
    ExitCode.SYNTAX_ERROR: "Syntax error",
    ExitCode.NOT_READY: "Device not ready",
    ExitCode.MEDIUM_HARD: "Medium or hardware error",
    ExitCode.ILLEGAL_REQUEST: "Illegal request",
    ExitCode.UNIT_ATTENTION: "Unit attention",
    ExitCode.DATA_PROTECT: "Data protect",
    ExitCode.INVALID_OPCODE: "Illegal request, Invalid opcode",
    ExitCode.COPY_ABORTED: "Copy aborted",
    ExitCode.ABORTED_COMMAND: "Aborted command",
    ExitCode.STANDBY: "Device not ready, standby",
    ExitCode.UNAVAILABLE: "Device not ready, unavailable",
    ExitCode.MISCOMPARE: "Miscompare",
    ExitCode.FILE_ERROR: "File error",
    ExitCode.PROGRESS_NOT_READY: "Device not ready, something in progress",
    ExitCode.INVALID_PARAMETER: "Illegal request, Invalid field in parameter list",
    ExitCode.NO_SENSE: "No sense key",
    ExitCode.RECOVERED: "Recovered error (warning)",
    ExitCode.LBA_OUT_OF_RANGE: "LBA out of range",
    ExitCode.RESERVATION_CONFLICT: "Reservation conflict",
    ExitCode.CONDITION_MET: "Condition met",
    ExitCode.BUSY: "Busy",
    ExitCode.TASK_SET_FULL: "Task set full",
    ExitCode.ACA_ACTIVE: "ACA aactive",  # sic, as sg3_utils prints it
    ExitCode.TASK_ABORTED: "Task aborted",
    ExitCode.CONTRADICT: "CL options contradict",
    ExitCode.TIMEOUT: "SCSI command timeout",
    ExitCode.TRANSPORT_ERROR: "Transport error",
    ExitCode.PROTECTION: "Aborted command, protection error",
    ExitCode.OS_ERROR: "An OS error occurred",
    ExitCode.MALFORMED: "Malformed response to SCSI command",
    ExitCode.SENSE: "Some other sense data problem",
    ExitCode.OTHER: "Some other error/warning has occurred",
}

_OS_ERRNO_MAX = ExitCode.MALFORMED - ExitCode.OS_ERROR  # errno 1..46 fit


def meaning(code: int) -> str:
    """sg3_utils' text for an exit status, e.g. 24 -> "Reservation conflict"."""
    if ExitCode.OS_ERROR < code < ExitCode.MALFORMED:
        return f"OS error: {os.strerror(code - ExitCode.OS_ERROR)}"
    try:
        return _MEANINGS[ExitCode(code)]
    except ValueError:
        return f"Sense category: {code}"


def from_errno(number: int | None) -> int:
    """sg_convert_errno(): 50 + errno for errno 1..46, else 50 (0 stays 0)."""
    if number is None or number < 0:
        return ExitCode.OS_ERROR
    if number == 0:
        return ExitCode.OK
    return ExitCode.OS_ERROR + number if number < _OS_ERRNO_MAX else ExitCode.OS_ERROR


def from_sense(sense: Sense | None) -> ExitCode:
    """sg_err_category_sense(): the category of a CHECK CONDITION."""
    if sense is None:
        return ExitCode.SENSE
    key, asc, ascq = sense.sense_key, sense.asc, sense.ascq
    if key == SenseKey.NOT_READY:
        if asc == 0x04 and ascq in (0x04, 0x05, 0x06, 0x14, 0x1B, 0x1D, 0x24, 0x25):
            return ExitCode.PROGRESS_NOT_READY
        if asc == 0x04 and ascq == 0x0B:
            return ExitCode.STANDBY
        if asc == 0x04 and ascq == 0x0C:
            return ExitCode.UNAVAILABLE
        return ExitCode.NOT_READY
    if key == SenseKey.ILLEGAL_REQUEST:
        special = {
            (0x20, 0x00): ExitCode.INVALID_OPCODE,
            (0x21, 0x00): ExitCode.LBA_OUT_OF_RANGE,
            (0x26, 0x00): ExitCode.INVALID_PARAMETER,
        }
        return special.get((asc, ascq), ExitCode.ILLEGAL_REQUEST)
    if key == SenseKey.ABORTED_COMMAND:
        return ExitCode.PROTECTION if asc == 0x10 else ExitCode.ABORTED_COMMAND
    by_key = {
        SenseKey.NO_SENSE: ExitCode.NO_SENSE,
        SenseKey.RECOVERED_ERROR: ExitCode.RECOVERED,
        SenseKey.MEDIUM_ERROR: ExitCode.MEDIUM_HARD,
        SenseKey.HARDWARE_ERROR: ExitCode.MEDIUM_HARD,
        SenseKey.BLANK_CHECK: ExitCode.MEDIUM_HARD,
        SenseKey.UNIT_ATTENTION: ExitCode.UNIT_ATTENTION,
        SenseKey.MISCOMPARE: ExitCode.MISCOMPARE,
        SenseKey.DATA_PROTECT: ExitCode.DATA_PROTECT,
        SenseKey.COPY_ABORTED: ExitCode.COPY_ABORTED,
    }
    return by_key.get(key, ExitCode.SENSE)


_STATUS_CODES = {
    ScsiStatus.RESERVATION_CONFLICT: ExitCode.RESERVATION_CONFLICT,
    ScsiStatus.CONDITION_MET: ExitCode.CONDITION_MET,
    ScsiStatus.BUSY: ExitCode.BUSY,
    ScsiStatus.TASK_SET_FULL: ExitCode.TASK_SET_FULL,
    ScsiStatus.ACA_ACTIVE: ExitCode.ACA_ACTIVE,
    ScsiStatus.TASK_ABORTED: ExitCode.TASK_ABORTED,
}


def exit_code(error: BaseException | None) -> int:
    """The sg3_utils exit status for an outcome: 0 for None (success).

    ``OutcomeUnknown`` takes the status of its cause (a PR OUT that timed out
    exits 33, as sg_persist's would).  ``OSError`` follows sg_convert_errno()
    (ENOENT: 52, EACCES: 63), as sg_persist does when it cannot open a device;
    one without an errno is a file error (15).  ``ValueError``/``TypeError``
    (a rejected argument, nothing sent) is a syntax error (1).
    """
    if error is None:
        return ExitCode.OK
    if isinstance(error, OutcomeUnknown) and error.__cause__ is not None:
        return exit_code(error.__cause__)
    if isinstance(error, ReservationConflict):
        return ExitCode.RESERVATION_CONFLICT
    if isinstance(error, CommandTimeout):
        return ExitCode.TIMEOUT
    if isinstance(error, TransportError):
        return ExitCode.TRANSPORT_ERROR
    if isinstance(error, MalformedResponse):
        return ExitCode.MALFORMED
    if isinstance(error, PRError) and error.status in _STATUS_CODES:
        return _STATUS_CODES[ScsiStatus(error.status)]
    if isinstance(error, PRError) and error.status == ScsiStatus.CHECK_CONDITION:
        if error.sense is None and error.sense_data == b"":
            # Windows storage IOCTLs hide the sense: the class gives the category.
            return _hidden_sense_code(error)
        return from_sense(error.sense)
    if isinstance(error, PRError):
        return _hidden_sense_code(error)
    if isinstance(error, OSError):
        return from_errno(error.errno) if error.errno is not None else ExitCode.FILE_ERROR
    if isinstance(error, (ValueError, TypeError)):
        return ExitCode.SYNTAX_ERROR
    return ExitCode.OTHER


def _hidden_sense_code(error: PRError) -> int:
    if isinstance(error, IllegalRequest):
        return ExitCode.ILLEGAL_REQUEST
    if isinstance(error, UnitAttention):
        return ExitCode.UNIT_ATTENTION
    return ExitCode.OTHER


__all__ = ["ExitCode", "exit_code", "from_errno", "from_sense", "meaning"]
