"""Run the C PR IN decoders on caller bytes, and turn their structs into the
public result dataclasses.

Shared by ``Device`` (after a command), ``pr_native.cdb`` (on caller bytes)
and sg_persist's text (``_sgtext``, which also formats cut-short responses).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._native import ffi, lib
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


class Decoded(NamedTuple):
    """What one C PR IN decoder made of a response."""

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


def registrations(out: Any, keys: Any) -> Registrations:
    return Registrations(out.generation, tuple(ffi.unpack(keys, out.count)))


def reservation_status(out: Any) -> ReservationStatus:
    reservation = None
    if out.reserved:
        reservation = Reservation(out.key, ReservationType(out.type), Scope(out.scope))
    return ReservationStatus(out.generation, reservation)


def capabilities(out: Any) -> Capabilities:
    supported = frozenset(
        t for t, bit in TYPE_MASK_BITS.items() if out.type_mask_valid and out.type_mask & bit
    )
    return Capabilities(
        replace_lost_reservation_capable=bool(out.replace_lost_reservation_capable),
        compatible_reservation_handling=bool(out.compatible_reservation_handling),
        specify_initiator_ports_capable=bool(out.specify_initiator_ports_capable),
        all_target_ports_capable=bool(out.all_target_ports_capable),
        persist_through_power_loss_capable=bool(out.persist_through_power_loss_capable),
        type_mask_valid=bool(out.type_mask_valid),
        allow_commands=out.allow_commands,
        persist_through_power_loss_active=bool(out.persist_through_power_loss_active),
        type_mask=out.type_mask,
        supported_types=supported,
    )


def full_status(out: Any, registrants: Any, data: bytes) -> FullStatus:
    decoded = []
    for i in range(out.count):
        r = registrants[i]
        start = r.transport_id_offset
        decoded.append(
            Registrant(
                key=r.key,
                holder=bool(r.holder),
                all_target_ports=bool(r.all_target_ports),
                scope=Scope(r.scope) if r.holder else None,
                type=ReservationType(r.type) if r.holder else None,
                relative_target_port=r.relative_target_port,
                transport_id=TransportID.from_bytes(data[start : start + r.transport_id_length]),
            )
        )
    return FullStatus(out.generation, tuple(decoded))
