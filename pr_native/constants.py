"""Wire values of PERSISTENT RESERVE IN/OUT (SPC-4/SPC-5) and their DDK names.

The enums are ``IntEnum``s.  ``ReservationType``, ``Scope``,
``ProtocolIdentifier``, ``ScsiStatus`` and ``SenseKey`` decode a value SPC
does not name (obsolete, vendor-specific) as a pseudo-member ``UNKNOWN_0xNN``
instead of failing; commands never send one.
"""

from __future__ import annotations

from enum import IntEnum

from ._record import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeVar

    _E = TypeVar("_E", bound="_WireEnum")


class _WireEnum(IntEnum):
    """An IntEnum that keeps values a device reports but SPC does not name.

    A device may report an obsolete or vendor value; decoding it must not fail,
    so an unnamed value becomes a pseudo-member called ``UNKNOWN_0xNN``.
    Commands never send such values: the argument checks accept only the
    named members listed in each class's ``_sendable``.
    """

    @classmethod
    def _missing_(cls: type[_E], value: object) -> _E | None:
        if not isinstance(value, int) or not 0 <= value <= 0xFF:
            return None
        member = int.__new__(cls, value)
        member._name_ = f"UNKNOWN_0x{value:02X}"
        member._value_ = value
        return member


class ReservationType(_WireEnum):
    """PERSISTENT RESERVATION TYPE (SPC-4 table 212); 0, 2 and 4 are obsolete.

    In the all-registrants types (7, 8) every registrant holds the reservation.
    """

    WRITE_EXCLUSIVE = 0x1
    EXCLUSIVE_ACCESS = 0x3
    WRITE_EXCLUSIVE_REGISTRANTS_ONLY = 0x5
    EXCLUSIVE_ACCESS_REGISTRANTS_ONLY = 0x6
    WRITE_EXCLUSIVE_ALL_REGISTRANTS = 0x7
    EXCLUSIVE_ACCESS_ALL_REGISTRANTS = 0x8

    @property
    def all_registrants(self) -> bool:
        """True for the types every registrant holds (READ RESERVATION shows key 0)."""
        return self in (
            ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS,
            ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS,
        )


class Scope(_WireEnum):
    """Reservation SCOPE (SPC-4 table 213); only LU_SCOPE remains since SPC-3."""

    LU = 0x0
    ELEMENT = 0x2  # obsolete


class PRInAction(IntEnum):
    """PERSISTENT RESERVE IN service actions (SPC-4 table 211)."""

    READ_KEYS = 0x00
    READ_RESERVATION = 0x01
    REPORT_CAPABILITIES = 0x02
    READ_FULL_STATUS = 0x03


class PROutAction(IntEnum):
    """PERSISTENT RESERVE OUT service actions (SPC-5 table 229)."""

    REGISTER = 0x00
    RESERVE = 0x01
    RELEASE = 0x02
    CLEAR = 0x03
    PREEMPT = 0x04
    PREEMPT_AND_ABORT = 0x05
    REGISTER_AND_IGNORE_EXISTING_KEY = 0x06
    REGISTER_AND_MOVE = 0x07
    REPLACE_LOST_RESERVATION = 0x08


class ProtocolIdentifier(_WireEnum):
    """PROTOCOL IDENTIFIER of a TransportID (SPC-4 table 362)."""

    FCP = 0x0
    SPI = 0x1
    SSA = 0x2
    SBP = 0x3  # IEEE 1394
    SRP = 0x4
    ISCSI = 0x5
    SAS = 0x6
    ADT = 0x7
    ATA = 0x8
    UAS = 0x9
    SOP = 0xA
    PCIE = 0xB
    NONE = 0xF


class ScsiStatus(_WireEnum):
    """SAM-5 status codes."""

    GOOD = 0x00
    CHECK_CONDITION = 0x02
    CONDITION_MET = 0x04
    BUSY = 0x08
    RESERVATION_CONFLICT = 0x18
    TASK_SET_FULL = 0x28
    ACA_ACTIVE = 0x30
    TASK_ABORTED = 0x40


class SenseKey(_WireEnum):
    """SENSE KEY values (SPC-4 table 54)."""

    NO_SENSE = 0x0
    RECOVERED_ERROR = 0x1
    NOT_READY = 0x2
    MEDIUM_ERROR = 0x3
    HARDWARE_ERROR = 0x4
    ILLEGAL_REQUEST = 0x5
    UNIT_ATTENTION = 0x6
    DATA_PROTECT = 0x7
    BLANK_CHECK = 0x8
    VENDOR_SPECIFIC = 0x9
    COPY_ABORTED = 0xA
    ABORTED_COMMAND = 0xB
    VOLUME_OVERFLOW = 0xD
    MISCOMPARE = 0xE
    COMPLETED = 0xF


class PeripheralType(_WireEnum):
    """PERIPHERAL DEVICE TYPE of INQUIRY data (SPC-4 6.6.2)."""

    DISK = 0x00  # direct access block device (SBC)
    TAPE = 0x01  # sequential access device (SSC)
    PRINTER = 0x02  # obsolete
    PROCESSOR = 0x03
    WRITE_ONCE = 0x04
    CD_DVD = 0x05  # MMC
    SCANNER = 0x06  # obsolete
    OPTICAL_MEMORY = 0x07
    MEDIUM_CHANGER = 0x08  # SMC
    COMMUNICATIONS = 0x09  # obsolete
    STORAGE_ARRAY_CONTROLLER = 0x0C
    ENCLOSURE_SERVICES = 0x0D
    SIMPLIFIED_DIRECT_ACCESS = 0x0E  # RBC
    OPTICAL_CARD_READER_WRITER = 0x0F
    BRIDGE_CONTROLLER = 0x10
    OBJECT_BASED_STORAGE = 0x11  # OSD
    AUTOMATION_DRIVE_INTERFACE = 0x12  # ADC
    HOST_MANAGED_ZONED_BLOCK = 0x14  # ZBC
    WELL_KNOWN_LOGICAL_UNIT = 0x1E
    NONE = 0x1F  # unknown or no device type


class DesignatorType(_WireEnum):
    """DESIGNATOR TYPE of a VPD page 83h designation descriptor (SPC-4
    7.8.6.1; UUID: SPC-5)."""

    VENDOR_SPECIFIC = 0x0
    T10_VENDOR_ID = 0x1
    EUI_64 = 0x2
    NAA = 0x3
    RELATIVE_TARGET_PORT = 0x4
    TARGET_PORT_GROUP = 0x5
    LOGICAL_UNIT_GROUP = 0x6
    MD5_LOGICAL_UNIT_IDENTIFIER = 0x7
    SCSI_NAME_STRING = 0x8
    PROTOCOL_SPECIFIC_PORT_IDENTIFIER = 0x9
    UUID = 0xA


class Association(_WireEnum):
    """ASSOCIATION of a designation descriptor (SPC-4 7.8.6.1): what the
    designator names."""

    LOGICAL_UNIT = 0x0  # the addressed logical unit
    TARGET_PORT = 0x1  # the target port that received the INQUIRY
    TARGET_DEVICE = 0x2  # the SCSI target device holding the logical unit


class CodeSet(_WireEnum):
    """CODE SET of a designation descriptor (SPC-4 7.8.6.1)."""

    BINARY = 0x1
    ASCII = 0x2
    UTF8 = 0x3


#: The reservation types a PERSISTENT RESERVE OUT may carry: the six named ones.
SENDABLE_TYPES = frozenset(t for t in ReservationType if not t.name.startswith("UNKNOWN_"))

# The Windows DDK names (ddk/scsi.h, minitape.h), with the DDK's values, so
# code ported from DDK samples reads the same.
RESERVATION_ACTION_READ_KEYS = 0x00  #: DDK: ``PRInAction.READ_KEYS``.
RESERVATION_ACTION_READ_RESERVATIONS = 0x01  #: DDK: ``PRInAction.READ_RESERVATION``.
RESERVATION_ACTION_REGISTER = 0x00  #: DDK: ``PROutAction.REGISTER``.
RESERVATION_ACTION_RESERVE = 0x01  #: DDK: ``PROutAction.RESERVE``.
RESERVATION_ACTION_RELEASE = 0x02  #: DDK: ``PROutAction.RELEASE``.
RESERVATION_ACTION_CLEAR = 0x03  #: DDK: ``PROutAction.CLEAR``.
RESERVATION_ACTION_PREEMPT = 0x04  #: DDK: ``PROutAction.PREEMPT`` (4, not CLEAR's 3).
RESERVATION_ACTION_PREEMPT_ABORT = 0x05  #: DDK: ``PROutAction.PREEMPT_AND_ABORT``.
#: DDK: ``PROutAction.REGISTER_AND_IGNORE_EXISTING_KEY``.
RESERVATION_ACTION_REGISTER_IGNORE_EXISTING = 0x06
RESERVATION_SCOPE_LU = 0x00  #: DDK: ``Scope.LU``.
RESERVATION_SCOPE_ELEMENT = 0x02  #: DDK: ``Scope.ELEMENT`` (obsolete).
RESERVATION_TYPE_WRITE_EXCLUSIVE = 0x01  #: DDK: ``ReservationType.WRITE_EXCLUSIVE``.
RESERVATION_TYPE_EXCLUSIVE = 0x03  #: DDK: ``ReservationType.EXCLUSIVE_ACCESS``.
#: DDK: ``ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY``.
RESERVATION_TYPE_WRITE_EXCLUSIVE_REGISTRANTS = 0x05
#: DDK: ``ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY``.
RESERVATION_TYPE_EXCLUSIVE_REGISTRANTS = 0x06
