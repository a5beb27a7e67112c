"""pr_native: SCSI-3 Persistent Reservations (SPC PERSISTENT RESERVE IN/OUT).

Take, inspect and break persistent reservations on shared disks and tapes
through Linux SG_IO or Windows DeviceIoControl, with a small C core that owns
the wire bytes.

Throughout: a reservation key is an int in 0 .. 2**64-1 or exactly 8
big-endian bytes; a timeout is in seconds; a bad argument raises
``ValueError`` or ``TypeError`` naming it, before anything is sent.

The enums and DDK names of ``pr_native.constants``, the result records
(``Identity`` and ``Designator`` included), the TransportID classes, the
exceptions and ``UnitAttentionCondition``, and ``poll``, ``Poller`` and
``PollResult`` are importable from here too.  The public API is this package
and its modules ``constants``, ``results``, ``identity``, ``transport_id``,
``errors``, ``cdb``, ``winioctl``, ``layout`` and ``poll``; the rest
(``pr_native.device``, ``pr_native.sense``, names starting with ``_``) is
internal.
"""

# _version first of what loads the compiled core: it refuses one built for
# another version (see _version.py); _record never touches the core.
from ._record import TYPE_CHECKING
from ._version import __version__ as __version__
from .constants import (
    RESERVATION_ACTION_CLEAR,
    RESERVATION_ACTION_PREEMPT,
    RESERVATION_ACTION_PREEMPT_ABORT,
    RESERVATION_ACTION_READ_KEYS,
    RESERVATION_ACTION_READ_RESERVATIONS,
    RESERVATION_ACTION_REGISTER,
    RESERVATION_ACTION_REGISTER_IGNORE_EXISTING,
    RESERVATION_ACTION_RELEASE,
    RESERVATION_ACTION_RESERVE,
    RESERVATION_SCOPE_ELEMENT,
    RESERVATION_SCOPE_LU,
    RESERVATION_TYPE_EXCLUSIVE,
    RESERVATION_TYPE_EXCLUSIVE_REGISTRANTS,
    RESERVATION_TYPE_WRITE_EXCLUSIVE,
    RESERVATION_TYPE_WRITE_EXCLUSIVE_REGISTRANTS,
    Association,
    CodeSet,
    DesignatorType,
    PeripheralType,
    PRInAction,
    ProtocolIdentifier,
    PROutAction,
    ReservationType,
    Scope,
    ScsiStatus,
    SenseKey,
)
from .device import Device
from .errors import (
    AbortedCommand,
    CheckCondition,
    CommandTimeout,
    DataProtect,
    DeviceBusy,
    HardwareError,
    IllegalRequest,
    MalformedResponse,
    MediumError,
    NotReady,
    OutcomeUnknown,
    PartialRegistration,
    PRError,
    ReservationConflict,
    ResponseTruncated,
    TaskAborted,
    TransportError,
    UnitAttention,
    UnitAttentionCondition,
    UnsupportedOperation,
    UnsupportedPlatform,
)
from .identity import Designator, Identity
from .poll import Poller, PollResult, poll
from .results import (
    Capabilities,
    FullStatus,
    Registrant,
    Registrations,
    Reservation,
    ReservationStatus,
)
from .sense import Sense
from .transport_id import (
    FCPTransportID,
    ISCSITransportID,
    RawTransportID,
    SASTransportID,
    SBPTransportID,
    SOPTransportID,
    SPITransportID,
    SRPTransportID,
    TransportID,
)

if TYPE_CHECKING:
    from .multipath import MultipathDevice


def __getattr__(name: str) -> object:
    # Imported at first use: reading keys from a script or the command line
    # does not pay for device-mapper's sysfs walking (PEP 562).
    if name == "MultipathDevice":
        from .multipath import MultipathDevice

        return MultipathDevice
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_include() -> str:
    """The directory holding ``pr_native.h``, the C core's header.

    C code built against the same structs, constants and prototypes adds it
    to its include path (``-I``).  Wheels ship the header as
    ``pr_native/include/pr_native.h``; in a source checkout it is
    ``csrc/pr_native.h``, the one copy in the repository.
    """
    from pathlib import Path

    package = Path(__file__).resolve().parent
    for directory in (package / "include", package.parent / "csrc"):
        if (directory / "pr_native.h").is_file():
            return str(directory)
    raise FileNotFoundError(f"pr_native.h is neither in {package / 'include'} nor in a checkout")


__all__ = [
    "RESERVATION_ACTION_CLEAR",
    "RESERVATION_ACTION_PREEMPT",
    "RESERVATION_ACTION_PREEMPT_ABORT",
    "RESERVATION_ACTION_READ_KEYS",
    "RESERVATION_ACTION_READ_RESERVATIONS",
    "RESERVATION_ACTION_REGISTER",
    "RESERVATION_ACTION_REGISTER_IGNORE_EXISTING",
    "RESERVATION_ACTION_RELEASE",
    "RESERVATION_ACTION_RESERVE",
    "RESERVATION_SCOPE_ELEMENT",
    "RESERVATION_SCOPE_LU",
    "RESERVATION_TYPE_EXCLUSIVE",
    "RESERVATION_TYPE_EXCLUSIVE_REGISTRANTS",
    "RESERVATION_TYPE_WRITE_EXCLUSIVE",
    "RESERVATION_TYPE_WRITE_EXCLUSIVE_REGISTRANTS",
    "AbortedCommand",
    "Association",
    "Capabilities",
    "CheckCondition",
    "CodeSet",
    "CommandTimeout",
    "DataProtect",
    "Designator",
    "DesignatorType",
    "Device",
    "DeviceBusy",
    "FCPTransportID",
    "FullStatus",
    "HardwareError",
    "ISCSITransportID",
    "Identity",
    "IllegalRequest",
    "MalformedResponse",
    "MediumError",
    "MultipathDevice",
    "NotReady",
    "OutcomeUnknown",
    "PRError",
    "PRInAction",
    "PROutAction",
    "PartialRegistration",
    "PeripheralType",
    "PollResult",
    "Poller",
    "ProtocolIdentifier",
    "RawTransportID",
    "Registrant",
    "Registrations",
    "Reservation",
    "ReservationConflict",
    "ReservationStatus",
    "ReservationType",
    "ResponseTruncated",
    "SASTransportID",
    "SBPTransportID",
    "SOPTransportID",
    "SPITransportID",
    "SRPTransportID",
    "Scope",
    "ScsiStatus",
    "Sense",
    "SenseKey",
    "TaskAborted",
    "TransportError",
    "TransportID",
    "UnitAttention",
    "UnitAttentionCondition",
    "UnsupportedOperation",
    "UnsupportedPlatform",
    "get_include",
    "poll",
]
