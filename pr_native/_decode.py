"""Turn the C decoders' structs into the public result dataclasses.

Shared by ``Device`` (after a command) and ``pr_native.cdb`` (on caller bytes).
"""

from __future__ import annotations

from typing import Any

from ._native import ffi
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
# 16-bit value (SPC-4 table 218).
_TYPE_MASK_BITS = {
    ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS: 0x8000,
    ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: 0x4000,
    ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY: 0x2000,
    ReservationType.EXCLUSIVE_ACCESS: 0x0800,
    ReservationType.WRITE_EXCLUSIVE: 0x0200,
    ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS: 0x0001,
}


def registrations(out: Any, keys: Any) -> Registrations:
    return Registrations(out.generation, tuple(ffi.unpack(keys, out.count)))


def reservation_status(out: Any) -> ReservationStatus:
    reservation = None
    if out.reserved:
        reservation = Reservation(out.key, ReservationType(out.type), Scope(out.scope))
    return ReservationStatus(out.generation, reservation)


def capabilities(out: Any) -> Capabilities:
    supported = frozenset(
        t for t, bit in _TYPE_MASK_BITS.items() if out.type_mask_valid and out.type_mask & bit
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
