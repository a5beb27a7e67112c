"""The C core's pure functions on bytes: CDB and parameter-list builders and
the PR IN and sense decoders, for checking them against SPC by hand.

Nothing here does I/O; ``Device`` uses exactly the same C code.  A builder
raises ``ValueError`` or ``TypeError`` for a value that does not fit its
field.  A decoder raises ``ResponseTruncated`` when the response is cut short
(``needed`` says how long the whole one is) and ``MalformedResponse`` when it
violates SPC; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import _decode, _validate
from . import identity as _identity
from ._native import ffi, lib
from .constants import PRInAction, PROutAction, ReservationType, Scope
from .errors import MalformedResponse, ResponseTruncated
from .identity import Identity
from .results import Capabilities, FullStatus, Registrations, ReservationStatus
from .sense import Sense, decode_sense
from .transport_id import TransportID

__all__ = [
    "Sense",
    "decode_identity",
    "decode_read_full_status",
    "decode_read_keys",
    "decode_read_reservation",
    "decode_report_capabilities",
    "decode_sense",
    "inquiry_cdb",
    "pr_in_cdb",
    "pr_out_cdb",
    "pr_out_parameters",
]

_CDB_LEN = 10


def pr_in_cdb(service_action: PRInAction | int, allocation_length: int) -> bytes:
    """The 10-byte PERSISTENT RESERVE IN CDB (opcode 5Eh)."""
    action = _validate.uint(service_action, 5, "service_action")
    length = _validate.uint(allocation_length, 16, "allocation_length")
    cdb = ffi.new("uint8_t[]", _CDB_LEN)
    _check(lib.pr_build_in_cdb(cdb, action, length))
    return bytes(cdb)


def pr_out_cdb(
    service_action: PROutAction | int,
    scope: Scope | int,
    type: ReservationType | int,
    parameter_list_length: int,
) -> bytes:
    """The 10-byte PERSISTENT RESERVE OUT CDB (opcode 5Fh)."""
    action = _validate.uint(service_action, 5, "service_action")
    scope_ = _validate.uint(scope, 4, "scope")
    type_ = _validate.uint(type, 4, "type")
    length = _validate.uint(parameter_list_length, 32, "parameter_list_length")
    cdb = ffi.new("uint8_t[]", _CDB_LEN)
    _check(lib.pr_build_out_cdb(cdb, action, scope_, type_, length))
    return bytes(cdb)


def pr_out_parameters(
    service_action: PROutAction | int,
    key: int | bytes = 0,
    service_action_key: int | bytes = 0,
    *,
    aptpl: bool = False,
    all_target_ports: bool = False,
    transport_ids: Iterable[TransportID] = (),
    unregister: bool = False,
    relative_target_port: int = 0,
) -> bytes:
    """The PR OUT parameter list: the basic 24-byte list, the SPEC_I_PT list
    when ``transport_ids`` are given, or for REGISTER AND MOVE (07h) its own
    list with the one TransportID in ``transport_ids``.

    ``key`` is the RESERVATION KEY (the sender's own), ``service_action_key``
    the SERVICE ACTION RESERVATION KEY (the new key, or the victim's)."""
    request = ffi.new("struct pr_out_request *")
    request.service_action = _validate.uint(service_action, 5, "service_action")
    request.key = _validate.key(key, "key")
    request.service_action_key = _validate.key(service_action_key, "service_action_key")
    request.aptpl = _validate.flag(aptpl, "aptpl")
    request.all_target_ports = _validate.flag(all_target_ports, "all_target_ports")
    request.unregister = _validate.flag(unregister, "unregister")
    request.relative_target_port = _validate.uint(relative_target_port, 16, "relative_target_port")
    listed = _validate.transport_ids(transport_ids)
    if request.service_action == PROutAction.REGISTER_AND_MOVE and len(listed) != 1:
        raise ValueError("REGISTER AND MOVE needs exactly one TransportID in transport_ids")
    tids = b"".join(t.to_bytes() for t in listed)
    keep_alive = ffi.from_buffer("uint8_t[]", tids)
    request.transport_ids = keep_alive
    request.transport_ids_length = len(tids)
    length = ffi.new("uint32_t *")
    _check(lib.pr_out_parameters_length(request, length))
    buffer = ffi.new("uint8_t[]", length[0])
    _check(lib.pr_build_out_parameters(request, buffer, length[0], length))
    return bytes(buffer)


def decode_read_keys(data: bytes) -> Registrations:
    """Decode a READ KEYS response."""
    decoded = _decoded(_decode.read_keys(bytes(data)), "READ KEYS")
    return _decode.registrations(decoded.out, decoded.items)


def decode_read_reservation(data: bytes) -> ReservationStatus:
    """Decode a READ RESERVATION response."""
    decoded = _decoded(_decode.read_reservation(bytes(data)), "READ RESERVATION")
    return _decode.reservation_status(decoded.out)


def decode_report_capabilities(data: bytes) -> Capabilities:
    """Decode a REPORT CAPABILITIES response."""
    decoded = _decoded(_decode.report_capabilities(bytes(data)), "REPORT CAPABILITIES")
    return _decode.capabilities(decoded.out)


def decode_read_full_status(data: bytes) -> FullStatus:
    """Decode a READ FULL STATUS response, TransportIDs included (as
    ``TransportID.from_bytes`` decodes them)."""
    data = bytes(data)
    decoded = _decoded(_decode.read_full_status(data), "READ FULL STATUS")
    return _decode.full_status(decoded.out, decoded.items, data)


def inquiry_cdb(
    page_code: int | None = None, allocation_length: int = lib.PR_INQUIRY_ALLOCATION
) -> bytes:
    """The 6-byte INQUIRY CDB (opcode 12h): the standard INQUIRY data, or
    with ``page_code`` that VPD page (EVPD set).  ALLOCATION LENGTH is the
    16-bit field of bytes 3-4 (SPC-4 6.6.1); the default, 255, reads the
    same on devices that know only the 8-bit field of byte 4."""
    length = _validate.uint(allocation_length, 16, "allocation_length")
    page = 0 if page_code is None else _validate.uint(page_code, 8, "page_code")
    cdb = ffi.new("uint8_t[]", 6)
    _check(lib.pr_build_inquiry_cdb(cdb, int(page_code is not None), page, length))
    return bytes(cdb)


def decode_identity(
    inquiry: bytes,
    supported_pages: bytes | None = None,
    unit_serial_number: bytes | None = None,
    device_identification: bytes | None = None,
) -> Identity:
    """Decode the standard INQUIRY data and the VPD pages 00h, 80h and 83h
    (each as the device returned it, None when not read) into the
    ``Identity`` that ``Device.identify()`` returns: ``lu_name`` and
    ``relative_target_port`` included.  Raises ``ResponseTruncated`` when one
    is cut short, ``MalformedResponse`` when one violates SPC (a VPD page
    with another PAGE CODE, a designator overrunning PAGE LENGTH)."""
    return _identity.decode(inquiry, supported_pages, unit_serial_number, device_identification)


def _check(rc: int) -> None:
    if rc != lib.PR_OK:
        raise ValueError("the C core rejected the arguments")


def _decoded(decoded: _decode.Decoded, what: str) -> _decode.Decoded:
    if decoded.rc == lib.PR_ERR_SHORT:
        raise ResponseTruncated(
            f"{what} response is cut short: {decoded.needed} bytes needed",
            needed=decoded.needed,
            command=f"PERSISTENT RESERVE IN ({what})",
        )
    if decoded.rc != lib.PR_OK:
        raise MalformedResponse(
            f"{what} response violates the SPC format",
            command=f"PERSISTENT RESERVE IN ({what})",
        )
    return decoded
