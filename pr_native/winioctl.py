"""The exact ``DeviceIoControl`` input buffers of the Windows storage PR IOCTLs.

``IOCTL_STORAGE_PERSISTENT_RESERVE_IN`` takes a 12-byte
``PERSISTENT_RESERVE_COMMAND``; ``IOCTL_STORAGE_PERSISTENT_RESERVE_OUT`` takes
36 bytes: that header followed, at ``PR_OUT.ParameterList`` (offset 10), by
the 24-byte ``PRO_PARAMETER_LIST``.  Built by the same portable C code the
Windows transport uses, so they can be compared with a DDK-based program on
any OS.  The class driver accepts only what these functions accept.
"""

from __future__ import annotations

from . import _validate
from ._native import ffi, lib
from .constants import PRInAction, PROutAction, ReservationType, Scope

#: CTL_CODE(IOCTL_STORAGE_BASE, 0x0406, METHOD_BUFFERED, FILE_READ_ACCESS): 002D5018h.
IOCTL_STORAGE_PERSISTENT_RESERVE_IN = 0x002D5018
#: CTL_CODE(IOCTL_STORAGE_BASE, 0x0407, METHOD_BUFFERED, FILE_READ_ACCESS |
#: FILE_WRITE_ACCESS): 002DD01Ch.
IOCTL_STORAGE_PERSISTENT_RESERVE_OUT = 0x002DD01C

# What classpnp's ClasspPersistentReserve lets through.
_IN_ACTIONS = frozenset({PRInAction.READ_KEYS, PRInAction.READ_RESERVATION})
_OUT_ACTIONS = frozenset(
    a for a in PROutAction if a <= PROutAction.REGISTER_AND_IGNORE_EXISTING_KEY
)
_OUT_TYPES = frozenset(
    {
        ReservationType.WRITE_EXCLUSIVE,
        ReservationType.EXCLUSIVE_ACCESS,
        ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY,
        ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY,
    }
)
_MIN_ALLOCATION = 8  # sizeof(PRI_REGISTRATION_LIST)


def pr_in_command(service_action: PRInAction | int, allocation_length: int) -> bytes:
    """The 12-byte input of IOCTL_STORAGE_PERSISTENT_RESERVE_IN.

    Only READ KEYS and READ RESERVATION pass the class driver; the allocation
    length (8 .. 65535) is stored in host (little-endian) order.
    """
    action = _validate.uint(service_action, 5, "service_action")
    if action not in _IN_ACTIONS:
        raise ValueError(
            "the storage PR IN IOCTL carries only READ KEYS (0) and READ RESERVATION (1); "
            "use SCSI pass-through for the others"
        )
    length = _validate.uint(allocation_length, 16, "allocation_length")
    if length < _MIN_ALLOCATION:
        raise ValueError(f"allocation_length must be at least {_MIN_ALLOCATION}, got {length}")
    buffer = ffi.new("uint8_t[]", lib.PR_WIN_IN_COMMAND_LEN)
    if lib.pr_win_in_command(buffer, action, length) != lib.PR_OK:
        raise ValueError("the C core rejected the arguments")
    return bytes(buffer)


def pr_out_command(
    service_action: PROutAction | int,
    type: ReservationType | int,
    scope: Scope | int,
    key: int | bytes,
    service_action_key: int | bytes,
    aptpl: bool = False,
    all_target_ports: bool = False,
) -> bytes:
    """The 36-byte input of IOCTL_STORAGE_PERSISTENT_RESERVE_OUT.

    ``key`` is the caller's own registered key; ``service_action_key`` is the
    new key (REGISTER) or the victim's key (PREEMPT).  PREEMPT is 4, CLEAR is 3.
    The class driver refuses REGISTER AND MOVE, REPLACE LOST RESERVATION,
    SPEC_I_PT and the all-registrants types, and so does this function.
    """
    action = _validate.uint(service_action, 5, "service_action")
    if action not in _OUT_ACTIONS:
        raise ValueError(
            "the storage PR OUT IOCTL carries service actions 0-6 only; "
            "use SCSI pass-through for REGISTER AND MOVE and REPLACE LOST RESERVATION"
        )
    type_ = _validate.uint(type, 4, "type")
    scope_ = _validate.uint(scope, 4, "scope")
    uses_type = action in (
        PROutAction.RESERVE,
        PROutAction.RELEASE,
        PROutAction.PREEMPT,
        PROutAction.PREEMPT_AND_ABORT,
    )
    if uses_type and type_ not in _OUT_TYPES:
        raise ValueError(f"the storage PR OUT IOCTL accepts types 1, 3, 5 and 6 only, got {type_}")
    if uses_type and scope_ not in (Scope.LU, Scope.ELEMENT):
        raise ValueError(f"scope must be 0 (LU) or 2 (element), got {scope_}")
    buffer = ffi.new("uint8_t[]", lib.PR_WIN_OUT_COMMAND_LEN)
    rc = lib.pr_win_out_command(
        buffer,
        action,
        type_,
        scope_,
        _validate.key(key, "key"),
        _validate.key(service_action_key, "service_action_key"),
        _validate.flag(aptpl, "aptpl"),
        _validate.flag(all_target_ports, "all_target_ports"),
    )
    if rc != lib.PR_OK:
        raise ValueError("the C core rejected the arguments")
    return bytes(buffer)
