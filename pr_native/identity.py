"""Which logical unit a device node reaches: the standard INQUIRY data and
the VPD pages 00h (supported pages), 80h (unit serial number) and 83h
(device identification), as immutable records.

``Device.identify()`` reads them; ``pr_native.cdb.decode_identity`` decodes
the same bytes given by hand.  INQUIRY changes nothing: it never touches the
persistent reservations and neither reports nor clears a unit attention
(SPC-4 5.14), so it is safe on the I_T nexus a cluster uses.

On Windows INQUIRY travels through SCSI pass-through, as every command does.
Where there is none, ``identify()`` reads the same data from the storage
stack with ``IOCTL_STORAGE_QUERY_PROPERTY`` (``Identity.source`` says which
it was, ``"storage-query-property"``): always on a device opened with
``transport="storage-ioctl"``, and in the automatic mode when the stack
refuses to pass the standard INQUIRY through before sending it
(ERROR_INVALID_FUNCTION, ERROR_NOT_SUPPORTED: no pass-through in the stack
or the miniport; ERROR_ACCESS_DENIED: a handle or policy without it).  A
pass-through that may have reached the device and failed (a timeout, a
transport error) is reported, not replaced.  ``StorageDeviceProperty``
gives the device type, removable bit, vendor, product, revision and serial
number; ``StorageDeviceIdProperty`` the VPD page 83h designators the port
driver copied, turned back into that page and decoded by the same decoder,
so ``lu_name``, ``str()`` and ``relative_target_port`` are the same.  What
the descriptors do not carry reads as unknown: ``version`` 0,
``multi_port`` False, ``target_port_group_support`` 0, ``supported_pages``
empty, and every designator's ``protocol_identifier`` None (the port
driver drops PIV and PROTOCOL IDENTIFIER).  A stack without
``StorageDeviceIdProperty`` gives no designators, so ``lu_name`` None.

The logical unit's name, ``Identity.lu_name``, is the text of its preferred
designator: among the well-formed designators associated with the logical
unit, NAA before EUI-64 before SCSI name string before T10 vendor ID (the
four types SPC-4 7.8.6.1 names for a logical unit); among NAA designators
IEEE Registered Extended (6h), then IEEE Registered (5h), IEEE Extended (2h)
and Locally Assigned (3h); among EUI-64 designators the longer first; the
first listed when two rank the same.  Two device nodes with the same
``lu_name`` reach the same logical unit.  Linux's sysfs ``wwid`` writes
designators the same way but prefers a SCSI name string to NAA; for a logical
unit without an LU-associated SCSI name string (LIO's, most arrays') the two
are the same string.
"""

from __future__ import annotations

from . import _prin
from ._decode import Decoded
from ._native import ffi, lib
from ._record import TYPE_CHECKING, Record
from .constants import Association, CodeSet, DesignatorType, PeripheralType, ProtocolIdentifier
from .errors import IllegalRequest, MalformedResponse, ResponseTruncated, raise_for_result

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .device import Device

__all__ = ["Designator", "Identity"]


def _sysfs_text(value: bytes) -> str:
    """``value`` as the kernel's ``%pE`` prints it (the T10 vendor ID in
    /sys/.../wwid): printable bytes as they are, \\n \\r \\t \\v \\f \\a \\e
    and \\0 by name, anything else as an octal escape."""
    named = {0x0A: "n", 0x0D: "r", 0x09: "t", 0x0B: "v", 0x0C: "f", 0x07: "a", 0x1B: "e", 0: "0"}
    out = []
    for byte in value:
        if 0x20 <= byte < 0x7F or byte >= 0xA0:  # the kernel's isprint(): Latin-1
            out.append(chr(byte))
        elif byte in named:
            out.append("\\" + named[byte])
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)


def _text(value: bytes) -> str:
    """ASCII (or UTF-8) text up to its first NUL, undecodable bytes escaped."""
    return value.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")


class Designator(Record):
    """One designation descriptor of VPD page 83h (SPC-4 7.8.6).

    ``str()`` is its usual text form: ``naa.`` and ``eui.`` with the value in
    lower-case hex, ``t10.`` with the identifier as Linux's sysfs ``wwid``
    prints it, a SCSI name string as its text (``iqn.…``, ``naa.…``,
    ``eui.…``, with its own prefix), ``uuid.`` with the canonical UUID,
    ``md5.`` with the hex digest, ``relative target port 0x1``, ``target
    port group 0x1``, ``logical unit group 0x1``; anything else (vendor
    specific, protocol specific, a malformed or reserved designator) as its
    text when the code set is ASCII or UTF-8, else in hex.
    """

    __slots__ = ()

    type: DesignatorType
    """DESIGNATOR TYPE: the format of ``value`` (NAA, EUI-64, T10 vendor
    ID, SCSI name string, relative target port, ...)."""
    association: Association
    """What it names: the logical unit, the target port or the target device."""
    code_set: CodeSet
    """CODE SET of ``value``: binary, ASCII or UTF-8."""
    protocol_identifier: ProtocolIdentifier | None
    """The transport protocol of a target port or target device designator
    with PIV set; None otherwise."""
    value: bytes
    """The DESIGNATOR field."""
    well_formed: bool
    """The length (and NAA or UUID TYPE field) is one SPC defines for the
    type; only well-formed designators become ``lu_name`` or
    ``relative_target_port``."""

    def __str__(self) -> str:
        kind, value = self.type, self.value
        if self.well_formed:
            if kind == DesignatorType.NAA:
                return "naa." + value.hex()
            if kind == DesignatorType.EUI_64:
                return "eui." + value.hex()
            if kind == DesignatorType.T10_VENDOR_ID:
                return "t10." + _sysfs_text(value)
            if kind == DesignatorType.SCSI_NAME_STRING:
                return _text(value)
            if kind == DesignatorType.UUID:
                h = value[2:].hex()
                return f"uuid.{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            if kind == DesignatorType.MD5_LOGICAL_UNIT_IDENTIFIER:
                return "md5." + value.hex()
            if kind in _NUMBERED:
                return f"{_NUMBERED[kind]} 0x{int.from_bytes(value[2:4], 'big'):x}"
        if self.code_set in (CodeSet.ASCII, CodeSet.UTF8):
            return _text(value).strip()
        return value.hex()


_NUMBERED = {
    DesignatorType.RELATIVE_TARGET_PORT: "relative target port",
    DesignatorType.TARGET_PORT_GROUP: "target port group",
    DesignatorType.LOGICAL_UNIT_GROUP: "logical unit group",
}


class Identity(Record):
    """What INQUIRY says about the logical unit behind a device node, and
    through which target port it answered."""

    __slots__ = ()

    peripheral_qualifier: int
    """0: a logical unit is connected; 1: it is not now, but can be; 3: none
    is reachable through this port."""
    peripheral_type: PeripheralType
    """PERIPHERAL DEVICE TYPE: ``DISK``, ``TAPE``, ``MEDIUM_CHANGER``, ..."""
    removable: bool
    """RMB: the medium is removable."""
    version: int
    """The standard it claims: 5 SPC-3, 6 SPC-4, 7 SPC-5."""
    multi_port: bool
    """MULTIP: the SCSI target device has more than one port."""
    target_port_group_support: int
    """TPGS: 0 no asymmetric access (ALUA), 1 implicit, 2 explicit, 3 both."""
    vendor: str
    """T10 VENDOR IDENTIFICATION, trailing spaces stripped."""
    product: str
    """PRODUCT IDENTIFICATION, trailing spaces stripped."""
    revision: str
    """PRODUCT REVISION LEVEL, trailing spaces stripped."""
    serial: str | None
    """VPD 80h PRODUCT SERIAL NUMBER without its padding; None when the page
    is not supported."""
    supported_pages: tuple[int, ...]
    """The VPD page codes page 00h lists; empty when the device refuses it."""
    designators: tuple[Designator, ...]
    """Every designation descriptor of VPD page 83h, in page order."""
    lu_name: str | None
    """The text of the logical unit's preferred designator (the module
    docstring has the rule): the key for "the same logical unit"; None when
    no designator qualifies."""
    relative_target_port: int | None
    """RELATIVE TARGET PORT IDENTIFIER of the port that answered (as READ
    FULL STATUS reports it); None without such a designator."""
    source: str
    """Where the data came from: ``"inquiry"`` (the device's own INQUIRY
    data and VPD pages), or on Windows ``"storage-query-property"`` (the
    storage stack's copy, through IOCTL_STORAGE_QUERY_PROPERTY: the module
    docstring says when, and what it lacks)."""


#: ``Identity.source`` values.
SOURCE_INQUIRY = "inquiry"
SOURCE_STORAGE_PROPERTY = "storage-query-property"


# lu_name: (type, NAA field or length) -> rank, lower is better.
_LU_NAME_RANKS = {
    (DesignatorType.NAA, 0x6): 0,
    (DesignatorType.NAA, 0x5): 1,
    (DesignatorType.NAA, 0x2): 2,
    (DesignatorType.NAA, 0x3): 3,
    (DesignatorType.EUI_64, 16): 4,
    (DesignatorType.EUI_64, 12): 5,
    (DesignatorType.EUI_64, 8): 6,
}
_SCSI_NAME_RANK, _T10_RANK = 7, 8


def _lu_name_rank(d: Designator) -> int | None:
    if not d.well_formed or d.association != Association.LOGICAL_UNIT:
        return None
    if d.type == DesignatorType.NAA:
        return _LU_NAME_RANKS[(d.type, d.value[0] >> 4)]
    if d.type == DesignatorType.EUI_64:
        return _LU_NAME_RANKS[(d.type, len(d.value))]
    if d.type == DesignatorType.SCSI_NAME_STRING:
        return _SCSI_NAME_RANK
    if d.type == DesignatorType.T10_VENDOR_ID:
        return _T10_RANK
    return None


def lu_name(designators: tuple[Designator, ...]) -> str | None:
    """The text of the preferred logical unit designator (module docstring)."""
    ranked = [
        (rank, i) for i, d in enumerate(designators) if (rank := _lu_name_rank(d)) is not None
    ]
    return str(designators[min(ranked)[1]]) if ranked else None


def relative_target_port(designators: tuple[Designator, ...]) -> int | None:
    for d in designators:
        if (
            d.type == DesignatorType.RELATIVE_TARGET_PORT
            and d.association == Association.TARGET_PORT
            and d.well_formed
        ):
            return int.from_bytes(d.value[2:4], "big")
    return None


# -- from the C structs ------------------------------------------------------


def _ascii(raw: bytes) -> str:
    return raw.decode("ascii", "backslashreplace").rstrip(" \0")


def _designators(out: Any, designators: Any, data: bytes) -> tuple[Designator, ...]:
    decoded = []
    for i in range(out.count):
        d = designators[i]
        association = Association(d.association)
        protocol = None
        if d.piv and association in (Association.TARGET_PORT, Association.TARGET_DEVICE):
            protocol = ProtocolIdentifier(d.protocol_identifier)
        decoded.append(
            Designator._make(
                DesignatorType(d.type),
                association,
                CodeSet(d.code_set),
                protocol,
                data[d.offset : d.offset + d.length],
                bool(d.well_formed),
            )
        )
    return tuple(decoded)


def _value(out: Any, data: bytes) -> bytes:
    return data[out.value_offset : out.value_offset + out.value_length]


def _identity(
    inquiry: Any,
    pages: tuple[int, ...],
    serial: str | None,
    designators: tuple[Designator, ...],
) -> Identity:
    return Identity._make(
        inquiry.peripheral_qualifier,
        PeripheralType(inquiry.peripheral_type),
        bool(inquiry.removable),
        inquiry.version,
        bool(inquiry.multi_port),
        inquiry.target_port_group_support,
        _ascii(bytes(inquiry.vendor)),
        _ascii(bytes(inquiry.product)),
        _ascii(bytes(inquiry.revision)),
        serial,
        pages,
        designators,
        lu_name(designators),
        relative_target_port(designators),
        SOURCE_INQUIRY,
    )


# -- decoding caller bytes (pr_native.cdb.decode_identity) --------------------

_INQUIRY = "INQUIRY"
_PAGE_NAMES = {
    lib.PR_VPD_SUPPORTED_PAGES: "INQUIRY (VPD 00h SUPPORTED VPD PAGES)",
    lib.PR_VPD_UNIT_SERIAL_NUMBER: "INQUIRY (VPD 80h UNIT SERIAL NUMBER)",
    lib.PR_VPD_DEVICE_IDENTIFICATION: "INQUIRY (VPD 83h DEVICE IDENTIFICATION)",
}


def _checked(decoded: Decoded, command: str) -> Decoded:
    if decoded.rc == lib.PR_ERR_SHORT:
        raise ResponseTruncated(
            f"{command}: the data is cut short: {decoded.needed} bytes needed",
            needed=decoded.needed,
            command=command,
        )
    if decoded.rc != lib.PR_OK:
        raise MalformedResponse(f"{command}: the data violates the SPC format", command=command)
    return decoded


def _decode_page(page_code: int, data: bytes) -> Decoded:
    out, needed = ffi.new("struct pr_vpd_page *"), ffi.new("uint64_t *")
    if page_code == lib.PR_VPD_DEVICE_IDENTIFICATION:
        items = ffi.new("struct pr_designator[]", len(data) // 4 + 1)
        rc = lib.pr_decode_device_identification(data, len(data), items, len(items), out, needed)
        return _checked(Decoded(rc, needed[0], out, items), _PAGE_NAMES[page_code])
    decoder = (
        lib.pr_decode_supported_vpd_pages
        if page_code == lib.PR_VPD_SUPPORTED_PAGES
        else lib.pr_decode_unit_serial_number
    )
    return _checked(
        Decoded(decoder(data, len(data), out, needed), needed[0], out), _PAGE_NAMES[page_code]
    )


def decode(
    inquiry: bytes,
    supported_pages: bytes | None = None,
    unit_serial_number: bytes | None = None,
    device_identification: bytes | None = None,
) -> Identity:
    """The Identity the given responses describe (each as the device
    returned it; a page not given counts as not supported)."""
    out, needed = ffi.new("struct pr_inquiry *"), ffi.new("uint64_t *")
    inquiry = bytes(inquiry)
    _checked(
        Decoded(lib.pr_decode_inquiry(inquiry, len(inquiry), out, needed), needed[0], out), _INQUIRY
    )
    pages: tuple[int, ...] = ()
    serial = None
    designators: tuple[Designator, ...] = ()
    if supported_pages is not None:
        data = bytes(supported_pages)
        pages = tuple(_value(_decode_page(lib.PR_VPD_SUPPORTED_PAGES, data).out, data))
    if unit_serial_number is not None:
        data = bytes(unit_serial_number)
        serial = _ascii(_value(_decode_page(lib.PR_VPD_UNIT_SERIAL_NUMBER, data).out, data))
    if device_identification is not None:
        data = bytes(device_identification)
        decoded = _decode_page(lib.PR_VPD_DEVICE_IDENTIFICATION, data)
        designators = _designators(decoded.out, decoded.items, data)
    return _identity(out, pages, serial, designators)


# -- reading a device (Device.identify) ----------------------------------------


class _ByProperty(Exception):
    """The standard INQUIRY cannot go to this device: read the storage
    properties instead (``pr_win_identify_by_property``)."""


def _read_page(
    device: Device,
    command: str,
    timeout_ms: int,
    issue: Callable[[int, int], int],
    by_property: bool = False,
) -> bytes:
    """One INQUIRY, read again until the data is whole (the PR IN sizing
    rules of ``_prin``): ``issue(allocation, timeout_ms)`` runs the pr_ops
    call.  Returns the bytes the decoded data came from.  ``by_property``:
    raise ``_ByProperty`` where the C core says the storage properties
    stand in for it."""
    allocation = lib.PR_INQUIRY_ALLOCATION
    while True:
        if allocation > device._capacity:
            device._allocate(allocation)
        rc = issue(allocation, timeout_ms)
        result = device._result
        if rc == lib.PR_OK:
            return bytes(ffi.buffer(device._buffer, result.transferred))
        if rc == lib.PR_ERR_SHORT:
            allocation = _prin.next_allocation(
                allocation, result.needed, device=device.path, command=command
            )
        elif by_property and lib.pr_win_identify_by_property(device._device, result):
            raise _ByProperty
        elif not _prin.interrupted(rc, result):
            raise_for_result(
                rc,
                result,
                device=device.path,
                command=command,
                is_out=False,
                read_only=device.read_only,
            )


def read(device: Device, timeout_ms: int) -> Identity:
    """``Device.identify()``, with the device's lock held: standard INQUIRY,
    VPD 00h, then 80h and 83h when 00h lists them."""
    device._check_open()
    handle, result = device._device, device._result
    inquiry = ffi.new("struct pr_inquiry *")
    page = ffi.new("struct pr_vpd_page *")
    try:
        _read_page(
            device,
            _INQUIRY,
            timeout_ms,
            lambda n, ms: lib.pr_inquiry(handle, device._buffer, n, ms, inquiry, result),
            by_property=True,
        )
    except _ByProperty:
        return _read_storage_properties(device)
    try:
        data = _read_page(
            device,
            _PAGE_NAMES[lib.PR_VPD_SUPPORTED_PAGES],
            timeout_ms,
            lambda n, ms: lib.pr_supported_vpd_pages(handle, device._buffer, n, ms, page, result),
        )
        pages = tuple(_value(page, data))
    except IllegalRequest:
        pages = ()  # no EVPD (SPC-2 and older devices)
    serial = None
    if lib.PR_VPD_UNIT_SERIAL_NUMBER in pages:
        data = _read_page(
            device,
            _PAGE_NAMES[lib.PR_VPD_UNIT_SERIAL_NUMBER],
            timeout_ms,
            lambda n, ms: lib.pr_unit_serial_number(handle, device._buffer, n, ms, page, result),
        )
        serial = _ascii(_value(page, data))
    designators: tuple[Designator, ...] = ()
    if lib.PR_VPD_DEVICE_IDENTIFICATION in pages:
        found = ffi.new("struct pr_designator[]", lib.PR_INQUIRY_ALLOCATION // 4 + 1)

        def identification(n: int, ms: int) -> int:
            nonlocal found
            if len(found) < n // 4 + 1:  # room for every designator n bytes can hold
                found = ffi.new("struct pr_designator[]", n // 4 + 1)
            return int(
                lib.pr_device_identification(
                    handle, device._buffer, n, ms, found, len(found), page, result
                )
            )

        data = _read_page(
            device, _PAGE_NAMES[lib.PR_VPD_DEVICE_IDENTIFICATION], timeout_ms, identification
        )
        designators = _designators(page, found, data)
    return _identity(inquiry, pages, serial, designators)


# -- Windows: IOCTL_STORAGE_QUERY_PROPERTY ------------------------------------

_PROPERTY_NAMES = {
    lib.PR_WIN_STORAGE_DEVICE_PROPERTY: "IOCTL_STORAGE_QUERY_PROPERTY (StorageDeviceProperty)",
    lib.PR_WIN_STORAGE_DEVICE_ID_PROPERTY: "IOCTL_STORAGE_QUERY_PROPERTY (StorageDeviceIdProperty)",
}


def _descriptor_string(data: bytes, offset: int, length: int) -> str | None:
    if offset == 0:
        return None
    return data[offset : offset + length].decode("ascii", "backslashreplace").strip(" ")


def _device_id_page(device_id: bytes) -> bytes:
    """The VPD page 83h a STORAGE_DEVICE_ID_DESCRIPTOR was built from (C)."""
    page = ffi.new("uint8_t[]", max(len(device_id), 4))
    page_length, needed = ffi.new("uint32_t *"), ffi.new("uint64_t *")
    rc = lib.pr_win_device_id_page(device_id, len(device_id), page, len(page), page_length, needed)
    _checked(Decoded(rc, needed[0], None), _PROPERTY_NAMES[lib.PR_WIN_STORAGE_DEVICE_ID_PROPERTY])
    return bytes(ffi.buffer(page, page_length[0]))


def decode_storage_properties(device: bytes, device_id: bytes | None = None) -> Identity:
    """The Identity a STORAGE_DEVICE_DESCRIPTOR (``device``) and a
    STORAGE_DEVICE_ID_DESCRIPTOR (``device_id``; None: the stack has none)
    describe, as IOCTL_STORAGE_QUERY_PROPERTY returned them."""
    out, needed = ffi.new("struct pr_win_device_descriptor *"), ffi.new("uint64_t *")
    device = bytes(device)
    rc = lib.pr_win_decode_device_descriptor(device, len(device), out, needed)
    _checked(Decoded(rc, needed[0], out), _PROPERTY_NAMES[lib.PR_WIN_STORAGE_DEVICE_PROPERTY])
    designators: tuple[Designator, ...] = ()
    if device_id is not None:
        page = _device_id_page(bytes(device_id))
        decoded = _decode_page(lib.PR_VPD_DEVICE_IDENTIFICATION, page)
        designators = _designators(decoded.out, decoded.items, page)
    return Identity._make(
        0,
        PeripheralType(out.device_type),
        bool(out.removable),
        0,
        False,
        0,
        _descriptor_string(device, out.vendor_offset, out.vendor_length) or "",
        _descriptor_string(device, out.product_offset, out.product_length) or "",
        _descriptor_string(device, out.revision_offset, out.revision_length) or "",
        _descriptor_string(device, out.serial_offset, out.serial_length) or None,
        (),
        designators,
        lu_name(designators),
        relative_target_port(designators),
        SOURCE_STORAGE_PROPERTY,
    )


def _short(property_id: int, data: bytes) -> int | None:
    """The Size a descriptor cut short by the buffer asks for; None when it
    arrived whole (its decoding is decode_storage_properties' business)."""
    needed = ffi.new("uint64_t *")
    if property_id == lib.PR_WIN_STORAGE_DEVICE_PROPERTY:
        out = ffi.new("struct pr_win_device_descriptor *")
        rc = lib.pr_win_decode_device_descriptor(data, len(data), out, needed)
    else:
        page, length = ffi.new("uint8_t[]", max(len(data), 4)), ffi.new("uint32_t *")
        rc = lib.pr_win_device_id_page(data, len(data), page, len(page), length, needed)
    return int(needed[0]) if rc == lib.PR_ERR_SHORT else None


def _query(device: Device, property_id: int, *, optional: bool = False) -> bytes | None:
    """One property, queried again with the room its descriptor's Size asks
    for.  ``optional``: None when the stack refuses it before anything was
    sent (it has no such property)."""
    command = _PROPERTY_NAMES[property_id]
    allocation = lib.PR_WIN_PROPERTY_ALLOCATION
    while True:
        if allocation > device._capacity:
            device._allocate(allocation)
        result = device._result
        rc = lib.pr_win_query_property(
            device._device, property_id, device._buffer, allocation, result
        )
        if rc != lib.PR_OK:
            if optional and rc == lib.PR_ERR_OS and not result.dispatched:
                return None
            raise_for_result(
                rc,
                result,
                device=device.path,
                command=command,
                is_out=False,
                read_only=device.read_only,
            )
        data = bytes(ffi.buffer(device._buffer, result.transferred))
        needed = _short(property_id, data)
        if needed is None:
            return data
        allocation = _prin.next_allocation(allocation, needed, device=device.path, command=command)


def _read_storage_properties(device: Device) -> Identity:
    """``identify()`` without INQUIRY (the module docstring says when)."""
    data = _query(device, lib.PR_WIN_STORAGE_DEVICE_PROPERTY)
    assert data is not None
    device_id = _query(device, lib.PR_WIN_STORAGE_DEVICE_ID_PROPERTY, optional=True)
    return decode_storage_properties(data, device_id)
