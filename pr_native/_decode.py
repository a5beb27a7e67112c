"""Run the C PR IN decoders on caller bytes, and turn their structs into the
public result dataclasses.

Shared by ``Device`` (after a command), ``pr_native.cdb`` (on caller bytes)
and sg_persist's text (``_sgtext``, which also formats cut-short responses).
"""

from __future__ import annotations

from ._native import ffi, lib
from ._record import TYPE_CHECKING, Record
from .constants import ReservationType, Scope
from .results import (
    Capabilities,
    FullStatus,
    Registrant,
    Registrations,
    Reservation,
    ReservationStatus,
)
from .transport_id import TransportID

if TYPE_CHECKING:
    from typing import Any

# PERSISTENT RESERVATION TYPE MASK bits, bytes 4-5 read as one big-endian
# 16-bit value (SPC-4 table 218), in the order sg_persist prints them.
TYPE_MASK_BITS = {
    ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS: 0x8000,
    ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 0x4000,
    ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 0x2000,
    ReservationType.EXCLUSIVE_ACCESS: 0x0800,
    ReservationType.WRITE_EXCLUSIVE: 0x0200,
    ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 0x0001,
}


class Decoded(Record):
    """What one C PR IN decoder made of a response."""

    __slots__ = ()

    rc: int
    """PR_OK; PR_ERR_SHORT (cut short: what arrived whole is decoded); PR_ERR_MALFORMED."""
    needed: int
    """Bytes the complete response needs (8 + ADDITIONAL LENGTH)."""
    out: Any
    """The struct the decoder filled: pr_keys, pr_reservation, pr_capabilities, pr_full_status."""
    items: Any = None
    """The keys or registrants it decoded (``out.count`` of them)."""


def read_keys(data: bytes) -> Decoded:
    out, needed = ffi.new("struct pr_keys *"), ffi.new("uint64_t *")
    keys = ffi.new("uint64_t[]", len(data) // 8 + 1)
    rc = lib.pr_decode_read_keys(data, len(data), keys, len(keys), out, needed)
    return Decoded(rc, needed[0], out, keys)


def read_reservation(data: bytes) -> Decoded:
    out, needed = ffi.new("struct pr_reservation *"), ffi.new("uint64_t *")
    rc = lib.pr_decode_read_reservation(data, len(data), out, needed)
    return Decoded(rc, needed[0], out)


def report_capabilities(data: bytes) -> Decoded:
    out, needed = ffi.new("struct pr_capabilities *"), ffi.new("uint64_t *")
    rc = lib.pr_decode_report_capabilities(data, len(data), out, needed)
    return Decoded(rc, needed[0], out)


def read_full_status(data: bytes) -> Decoded:
    out, needed = ffi.new("struct pr_full_status *"), ffi.new("uint64_t *")
    registrants = ffi.new("struct pr_registrant[]", len(data) // 24 + 1)
    rc = lib.pr_decode_read_full_status(data, len(data), registrants, len(registrants), out, needed)
    return Decoded(rc, needed[0], out, registrants)


# Wire values to enum members, looked up rather than constructed (calling an
# Enum class runs its metaclass in Python); unknown values still raise.
_TYPES = {int(t): t for t in ReservationType}
_SCOPES = {int(s): s for s in Scope}


def reservation_type(value: int) -> ReservationType:
    found = _TYPES.get(value)
    return ReservationType(value) if found is None else found


def scope(value: int) -> Scope:
    found = _SCOPES.get(value)
    return Scope(value) if found is None else found


def registrations(out: Any, keys: Any) -> Registrations:
    return Registrations._make(out.generation, tuple(ffi.unpack(keys, out.count)))


def reservation_status(out: Any) -> ReservationStatus:
    reservation = None
    if out.reserved:
        reservation = Reservation._make(out.key, reservation_type(out.type), scope(out.scope))
    return ReservationStatus._make(out.generation, reservation)


def capabilities(out: Any) -> Capabilities:
    supported = frozenset(
        t for t, bit in TYPE_MASK_BITS.items() if out.type_mask_valid and out.type_mask & bit
    )
    return Capabilities._make(
        bool(out.replace_lost_reservation_capable),
        bool(out.compatible_reservation_handling),
        bool(out.specify_initiator_ports_capable),
        bool(out.all_target_ports_capable),
        bool(out.persist_through_power_loss_capable),
        bool(out.type_mask_valid),
        out.allow_commands,
        bool(out.persist_through_power_loss_active),
        out.type_mask,
        supported,
    )


# READ FULL STATUS descriptors decoded before, by their bytes (header and
# TransportID): a monitor re-reads the same registrations on every call, and
# a Registrant is a pure function of those bytes (checked by the C decoder).
# Bounded: at most 4096 descriptors with a TransportID of at most 264 bytes
# (more than SPC-4 7.6.4's longest: a 223-byte iSCSI name with its ISID is
# 248); longer ones, which only a misbehaving device sends, are not kept.
_REGISTRANTS: dict[bytes, Registrant] = {}
_REGISTRANTS_MAX = 4096
_DESCRIPTOR_HEADER = 24  # SPC-4 table 229: bytes 0-23, then the TransportID
_CACHED_DESCRIPTOR_MAX = _DESCRIPTOR_HEADER + 264


def _registrant(r: Any, transport_id: bytes) -> Registrant:
    return Registrant._make(
        r.key,
        bool(r.holder),
        bool(r.all_target_ports),
        scope(r.scope) if r.holder else None,
        reservation_type(r.type) if r.holder else None,
        r.relative_target_port,
        TransportID.from_bytes(transport_id),
    )


def full_status(out: Any, registrants: Any, data: bytes) -> FullStatus:
    decoded = []
    known = _REGISTRANTS
    for i in range(out.count):
        r = registrants[i]
        start = r.transport_id_offset
        end = start + r.transport_id_length
        descriptor = data[start - _DESCRIPTOR_HEADER : end]
        registrant = known.get(descriptor)
        if registrant is None:
            registrant = _registrant(r, data[start:end])
            if len(descriptor) <= _CACHED_DESCRIPTOR_MAX:
                if len(known) >= _REGISTRANTS_MAX:
                    known.clear()
                known[descriptor] = registrant
        decoded.append(registrant)
    return FullStatus._make(out.generation, tuple(decoded))
