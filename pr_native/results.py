"""What the PERSISTENT RESERVE IN service actions report, as immutable
records (``pr_native._record``: tuple-based, cheap to build, compared by
class and value).

A record is built from its fields by position or keyword
(``Registrations(generation=1, keys=(0xA1,))``), is a sequence of them,
equals only a record of its own class with the same values, hashes and
pickles; its repr shows reservation keys in hex, as sg_persist prints them.
"""

from __future__ import annotations

from ._record import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from .constants import ReservationType, Scope
    from .transport_id import TransportID


class Registrations(Record):
    """READ KEYS: the PR generation and every registered reservation key."""

    __slots__ = ()
    _hex_fields = frozenset({"keys"})

    generation: int
    """PRGENERATION: a 32-bit wrapping counter the device increments on each
    REGISTER (AND IGNORE EXISTING KEY), CLEAR, PREEMPT (AND ABORT) and
    REGISTER AND MOVE that succeeds; RESERVE and RELEASE leave it."""
    keys: tuple[int, ...]
    """Every registered key, as ints: one per registered I_T nexus, so a key
    registered through several nexuses appears several times."""


class Reservation(Record):
    """The persistent reservation of the logical unit.

    ``key`` is 0 for the all-registrants types, where every registrant holds it.
    """

    __slots__ = ()
    _hex_fields = frozenset({"key"})

    key: int
    """The holder's reservation key; 0 for the all-registrants types."""
    type: ReservationType
    """The ``ReservationType``."""
    scope: Scope
    """The ``Scope`` (``LU``; ``ELEMENT`` is obsolete)."""


class ReservationStatus(Record):
    """READ RESERVATION: the PR generation and the reservation, if any."""

    __slots__ = ()

    generation: int
    """PRGENERATION, as in ``Registrations.generation``."""
    reservation: Reservation | None
    """The ``Reservation``, or None when the logical unit has none."""


class Capabilities(Record):
    """REPORT CAPABILITIES (SPC-4 6.15.4), every bit of the response."""

    __slots__ = ()

    replace_lost_reservation_capable: bool
    """RLR_C: REPLACE LOST RESERVATION is supported."""
    compatible_reservation_handling: bool
    """CRH: RESERVE(6)/(10) are handled as SPC-4 5.13.3 describes."""
    specify_initiator_ports_capable: bool
    """SIP_C: REGISTER accepts SPEC_I_PT with TransportIDs."""
    all_target_ports_capable: bool
    """ATP_C: REGISTER accepts ALL_TG_PT."""
    persist_through_power_loss_capable: bool
    """PTPL_C: APTPL is supported."""
    type_mask_valid: bool
    """TMV: ``type_mask`` is meaningful."""
    allow_commands: int
    """ALLOW COMMANDS (0-7): which commands a WRITE EXCLUSIVE type lets through."""
    persist_through_power_loss_active: bool
    """PTPL_A: the last valid APTPL bit received was one."""
    type_mask: int
    """PERSISTENT RESERVATION TYPE MASK, bytes 4-5 as a big-endian integer."""
    supported_types: frozenset[ReservationType]
    """The types the type mask marks as supported (empty when TMV is zero)."""


class Registrant(Record):
    """One READ FULL STATUS descriptor: a registration of one I_T nexus."""

    __slots__ = ()
    _hex_fields = frozenset({"key"})

    key: int
    """The reservation key this I_T nexus is registered with."""
    holder: bool
    """R_HOLDER: this I_T nexus holds the reservation."""
    all_target_ports: bool
    """ALL_TG_PT: the registration covers every target port."""
    scope: Scope | None
    """The reservation's scope when ``holder`` is true, else None."""
    type: ReservationType | None
    """The reservation's type when ``holder`` is true, else None."""
    relative_target_port: int
    """RELATIVE TARGET PORT IDENTIFIER of the nexus's target port (undefined
    when ``all_target_ports``)."""
    transport_id: TransportID
    """The initiator port, a ``TransportID`` (``RawTransportID`` for a
    protocol or an encoding pr_native does not decode)."""


class FullStatus(Record):
    """READ FULL STATUS: the PR generation and every registration."""

    __slots__ = ()

    generation: int
    """PRGENERATION, as in ``Registrations.generation``."""
    registrants: tuple[Registrant, ...]
    """One ``Registrant`` per registered I_T nexus, in the device's order."""
