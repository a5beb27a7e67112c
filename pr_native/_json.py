"""The JSON form of results, errors and events (schema in docs/cli-json.md).

Reservation keys are strings of 16 hex digits with ``0x`` (``"0x00000000000000a1"``)
so that no JSON reader loses bits of a 64-bit key; generations are numbers.
Reservation types appear by name (``"WRITE_EXCLUSIVE_REGISTRANTS_ONLY"``) and
by code (``type_code``).  Bump ``SCHEMA_VERSION`` when a field changes
meaning or disappears; adding a field does not change it.
"""

from __future__ import annotations

from ._record import TYPE_CHECKING
from .constants import ReservationType, Scope
from .errors import PRError
from .exit_codes import exit_code, meaning
from .identity import Designator, Identity
from .results import Capabilities, FullStatus, Registrations, ReservationStatus
from .sense import Sense
from .transport_id import TransportID

if TYPE_CHECKING:
    from typing import Any

    Json = dict[str, Any]

SCHEMA_VERSION = 1


def key(value: int) -> str:
    return f"0x{value:016x}"


def _type(value: ReservationType | None) -> str | None:
    return None if value is None else value.name


def _scope(value: Scope | None) -> str | None:
    return None if value is None else value.name


def registrations(result: Registrations) -> Json:
    return {"generation": result.generation, "keys": [key(k) for k in result.keys]}


def reservation_status(result: ReservationStatus) -> Json:
    held = result.reservation
    return {
        "generation": result.generation,
        "reservation": None
        if held is None
        else {
            "key": key(held.key),
            "type": held.type.name,
            "type_code": int(held.type),
            "scope": held.scope.name,
        },
    }


def capabilities(result: Capabilities) -> Json:
    return {
        "replace_lost_reservation_capable": result.replace_lost_reservation_capable,
        "compatible_reservation_handling": result.compatible_reservation_handling,
        "specify_initiator_ports_capable": result.specify_initiator_ports_capable,
        "all_target_ports_capable": result.all_target_ports_capable,
        "persist_through_power_loss_capable": result.persist_through_power_loss_capable,
        "type_mask_valid": result.type_mask_valid,
        "allow_commands": result.allow_commands,
        "persist_through_power_loss_active": result.persist_through_power_loss_active,
        "type_mask": result.type_mask,
        "supported_types": [t.name for t in sorted(result.supported_types)],
    }


def transport_id(tid: TransportID) -> Json:
    return {"protocol": tid.protocol.name, "text": str(tid), "hex": tid.to_bytes().hex()}


def full_status(result: FullStatus) -> Json:
    return {
        "generation": result.generation,
        "registrants": [
            {
                "key": key(r.key),
                "holder": r.holder,
                "all_target_ports": r.all_target_ports,
                "relative_target_port": r.relative_target_port,
                "scope": _scope(r.scope),
                "type": _type(r.type),
                "type_code": None if r.type is None else int(r.type),
                "transport_id": transport_id(r.transport_id),
            }
            for r in result.registrants
        ],
    }


def designator(value: Designator) -> Json:
    return {
        "type": value.type.name,
        "type_code": int(value.type),
        "association": value.association.name,
        "code_set": value.code_set.name,
        "protocol": None if value.protocol_identifier is None else value.protocol_identifier.name,
        "text": str(value),
        "hex": value.value.hex(),
        "well_formed": value.well_formed,
    }


def identity(result: Identity) -> Json:
    return {
        "peripheral_qualifier": result.peripheral_qualifier,
        "peripheral_type": result.peripheral_type.name,
        "peripheral_type_code": int(result.peripheral_type),
        "removable": result.removable,
        "version": result.version,
        "multi_port": result.multi_port,
        "target_port_group_support": result.target_port_group_support,
        "vendor": result.vendor,
        "product": result.product,
        "revision": result.revision,
        "serial": result.serial,
        "supported_pages": list(result.supported_pages),
        "lu_name": result.lu_name,
        "relative_target_port": result.relative_target_port,
        "designators": [designator(d) for d in result.designators],
        "source": result.source,
    }


def sense(value: Sense | None) -> Json | None:
    if value is None:
        return None
    return {
        "sense_key": value.sense_key.name,
        "asc": value.asc,
        "ascq": value.ascq,
        "description": value.description,
        "information": value.information,
    }


def error(value: BaseException) -> Json:
    """``type`` (the exception class), ``message``, ``exit_code`` and its
    sg3_utils meaning; for device errors the command, CDB, status bytes and
    sense; for OS errors the errno."""
    code = exit_code(value)
    data: Json = {
        "type": type(value).__name__,
        "message": str(value),
        "exit_code": code,
        "exit_meaning": meaning(code),
    }
    if isinstance(value, PRError):
        data.update(
            {
                "command": value.command,
                "cdb": value.cdb.hex(),
                "status": value.status,
                "status_name": None if value.status is None else _status_name(value.status),
                "host_status": value.host_status,
                "driver_status": value.driver_status,
                "sense_data": value.sense_data.hex(),
                "sense": sense(value.sense),
            }
        )
        parameters = getattr(value, "parameters", b"")
        data["parameters"] = parameters.hex() if parameters else None
    elif isinstance(value, OSError):
        data["errno"] = value.errno
    data["hint"] = getattr(value, "hint", None)
    return data


def envelope(command: str, device: str | None, **fields: Any) -> Json:
    """The top-level object every ``--json`` output line is."""
    return {"schema_version": SCHEMA_VERSION, "command": command, "device": device, **fields}


def _status_name(status: int) -> str:
    from .sense_codes import status_name  # T10's tables load on the first error

    return status_name(status)
