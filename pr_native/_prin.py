"""The PERSISTENT RESERVE IN rules every reader shares (``Device``,
``pr_native.poll`` and the command lines): how much to ask for, when to read
again, and what a signal during a read means.  One place, so that no two
readers of the same device can disagree about the same bytes.
"""

from __future__ import annotations

import errno

from ._native import lib
from ._record import TYPE_CHECKING
from .errors import MalformedResponse, ResponseTruncated

if TYPE_CHECKING:
    from typing import Any

    from .results import FullStatus, Registrations

#: The first ALLOCATION LENGTH: room for 511 keys or ~15 iSCSI registrants.
INITIAL_ALLOCATION = 4096
_MIN_DESCRIPTOR_SIZE = 24  # READ FULL STATUS descriptor without its TransportID
# The largest READ FULL STATUS descriptor: 24 bytes and an iSCSI TransportID.
_MAX_FULL_STATUS_DESCRIPTOR = _MIN_DESCRIPTOR_SIZE + lib.PR_TRANSPORT_ID_MAX


def next_allocation(allocated: int, needed: int, *, device: str, command: str) -> int:
    """The allocation to read again with, after a response that filled
    ``allocated`` bytes while its ADDITIONAL LENGTH asks for ``needed``
    (SPC-4 6.15.1: the device truncates, ADDITIONAL LENGTH keeps the full size)."""
    if needed <= allocated:
        raise MalformedResponse(
            f"device announced {needed} bytes but transferred fewer of {allocated} allowed",
            device=device,
            command=command,
        )
    if allocated >= lib.PR_ALLOCATION_MAX:
        raise ResponseTruncated(
            f"the response needs {needed} bytes, more than the 65535 a PR IN can return",
            needed=needed,
            device=device,
            command=command,
        )
    return int(min(lib.PR_ALLOCATION_MAX, max(needed, 2 * allocated)))


def full_status_may_be_cut(allocated: int, additional_length: int) -> bool:
    """LIO leaves out READ FULL STATUS descriptors that do not fit and shrinks
    ADDITIONAL LENGTH to match, so a response is known complete only while
    the largest possible descriptor would still have fitted."""
    return bool(allocated - 8 - additional_length < _MAX_FULL_STATUS_DESCRIPTOR)


#: How often READ FULL STATUS and READ KEYS are read again while the
#: registrations keep changing between them.
FULL_STATUS_TRIES = 3


def full_status_checked(
    status: FullStatus, keys: Registrations, *, device: str, command: str
) -> FullStatus | None:
    """A READ FULL STATUS that may have been cut at 65535 bytes, checked
    against READ KEYS: the status when it lists every key, None when the
    registrations changed in between (read both again)."""
    if keys.generation != status.generation:
        return None
    if len(keys.keys) > len(status.registrants):
        raise ResponseTruncated(
            f"READ FULL STATUS lists {len(status.registrants)} of "
            f"{len(keys.keys)} registrations within 65535 bytes",
            needed=lib.PR_ALLOCATION_MAX + 1,
            device=device,
            command=command,
        )
    return status


def full_status_unsettled(*, device: str, command: str) -> ResponseTruncated:
    return ResponseTruncated(
        "registrations kept changing while READ FULL STATUS was checked",
        needed=lib.PR_ALLOCATION_MAX + 1,
        device=device,
        command=command,
    )


def interrupted(rc: int, result: Any) -> bool:
    """A signal ended the wait for a PR IN.  It is read again once the
    signal's handler has run (an exception from the handler propagates):
    PR IN changes nothing; on the sg queue the re-issue waits on for the
    same request (its answer, a unit attention included, is the re-issue's),
    and SG_IO elsewhere has orphaned the first one."""
    return bool(
        rc == lib.PR_ERR_INTERRUPTED
        or (
            rc == lib.PR_ERR_OS
            and result.transport == lib.PR_TRANSPORT_SG_IO
            and result.os_error == errno.EINTR
        )
    )
