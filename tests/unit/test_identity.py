"""Device identity: the INQUIRY CDB, the standard INQUIRY data (SPC-4 6.6.2)
and the VPD pages 00h, 80h and 83h (SPC-4 7.8) on hand-built bytes, every
designator type of SPC-4 7.8.6 (and SPC-5's UUID), cut-short and malformed
pages, and what Device.identify() sends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pr_native import (
    Association,
    CodeSet,
    Designator,
    DesignatorType,
    Device,
    IllegalRequest,
    MalformedResponse,
    PeripheralType,
    ProtocolIdentifier,
    ResponseTruncated,
    UnitAttention,
)
from pr_native import cli as cli_module
from pr_native._native import lib
from pr_native.cdb import decode_identity, inquiry_cdb

from .fake_device import FakeLib, data, fail


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def standard(
    pdt: int = 0x00,
    *,
    byte1: int = 0,
    version: int = 6,
    byte5: int = 0x10,
    byte6: int = 0x10,
    additional: int = 31,
    vendor: bytes = b"LIO-ORG ",
    product: bytes = b"RAMDISK-MCP     ",
    revision: bytes = b"4.0 ",
) -> bytes:
    """Standard INQUIRY data, SPC-4 table 'Standard INQUIRY data format'."""
    head = bytes([pdt, byte1, version, 0x12, additional, byte5, byte6, 0x02])
    body = head + vendor + product + revision
    return (body + bytes(max(0, 5 + additional - len(body))))[: 5 + additional]


def vpd(page: int, body: bytes, pdt: int = 0) -> bytes:
    return bytes([pdt, page]) + len(body).to_bytes(2, "big") + body


def descriptor(
    kind: int,
    value: bytes,
    *,
    association: int = 0,
    code_set: int = 1,
    protocol: int = 0,
    piv: bool = False,
) -> bytes:
    """A designation descriptor: PROTOCOL IDENTIFIER | CODE SET, PIV |
    ASSOCIATION | DESIGNATOR TYPE, reserved, DESIGNATOR LENGTH, designator."""
    return (
        bytes(
            [
                (protocol << 4) | code_set,
                (0x80 if piv else 0) | (association << 4) | kind,
                0,
                len(value),
            ]
        )
        + value
    )


NAA6 = h("60 01 40 5a b0 00 00 00 00 01 00 00 00 00 00 00")
NAA5 = h("50 01 40 50 00 00 00 01")
NAA2 = h("20 00 00 0e 1e 09 ab cd")
NAA3 = h("33 33 33 30 00 00 00 07")
EUI8 = h("00 14 05 ff fe 00 00 01")
EUI12 = h("00 14 05 ff fe 00 00 01 00 00 00 02")
EUI16 = h("00 14 05 ff fe 00 00 01 00 00 00 02 00 00 00 03")
T10 = b"LIO-ORG RAMDISK-MCP:prlab0000000001\0"  # LIO NUL-terminates it
MD5 = bytes(range(0x10, 0x20))
UUID = h("10 00 f8 1d 4f ae 7d ec 11 d0 a7 65 00 a0 c9 1e 6b f6")
TARGET = b"iqn.2003-01.org.linux-iscsi.prlab:target,t,0x0001\0\0\0"
TARGET_DEVICE = b"iqn.2003-01.org.linux-iscsi.prlab:target\0\0\0\0"

# Every designator type, in the order SPC-4 7.8.6 defines them.
EVERY_TYPE = [
    descriptor(0x0, b"vendor thing", code_set=2),
    descriptor(0x1, T10, code_set=2),
    descriptor(0x2, EUI8),
    descriptor(0x2, EUI12),
    descriptor(0x2, EUI16),
    descriptor(0x3, NAA2),
    descriptor(0x3, NAA3),
    descriptor(0x3, NAA5),
    descriptor(0x3, NAA6),
    descriptor(0x4, h("00 00 00 01"), association=1, protocol=6, piv=True),
    descriptor(0x5, h("00 00 00 02"), association=1, protocol=6, piv=True),
    descriptor(0x6, h("00 00 00 03")),
    descriptor(0x7, MD5),
    descriptor(0x8, TARGET, association=1, code_set=3, protocol=5, piv=True),
    descriptor(0x8, TARGET_DEVICE, association=2, code_set=3, protocol=5, piv=True),
    descriptor(0x9, h("05 00 02 00"), association=1, protocol=9, piv=True),
    descriptor(0xA, UUID),
]


# -- the CDB -----------------------------------------------------------------


def test_inquiry_cdb_standard() -> None:
    # OPERATION CODE 12h, EVPD 0, PAGE CODE 0, ALLOCATION LENGTH (2 bytes), CONTROL
    assert inquiry_cdb() == h("12 00 00 00 ff 00")
    assert inquiry_cdb(allocation_length=36) == h("12 00 00 00 24 00")


def test_inquiry_cdb_vpd_page() -> None:
    assert inquiry_cdb(0x83) == h("12 01 83 00 ff 00")
    assert inquiry_cdb(0x80, 0x1234) == h("12 01 80 12 34 00")
    assert inquiry_cdb(0x00, 65535) == h("12 01 00 ff ff 00")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"page_code": 256}, ValueError),
        ({"page_code": -1}, ValueError),
        ({"allocation_length": 65536}, ValueError),
        ({"page_code": "83"}, TypeError),
    ],
)
def test_inquiry_cdb_rejects(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        inquiry_cdb(**kwargs)


def test_c_builder_refuses_a_page_code_without_evpd() -> None:
    from pr_native._native import ffi

    cdb = ffi.new("uint8_t[]", 6)
    assert lib.pr_build_inquiry_cdb(cdb, 0, 0x83, 255) == lib.PR_ERR_ARGUMENT
    assert lib.pr_build_inquiry_cdb(cdb, 2, 0, 255) == lib.PR_ERR_ARGUMENT


# -- standard INQUIRY data ----------------------------------------------------


def test_standard_inquiry() -> None:
    ident = decode_identity(standard())
    assert ident.peripheral_qualifier == 0
    assert ident.peripheral_type is PeripheralType.DISK
    assert (ident.vendor, ident.product, ident.revision) == ("LIO-ORG", "RAMDISK-MCP", "4.0")
    assert ident.version == 6
    assert ident.target_port_group_support == 1  # byte 5 bits 5-4
    assert ident.multi_port  # byte 6 bit 4
    assert not ident.removable
    assert ident.serial is None
    assert ident.supported_pages == ()
    assert ident.designators == ()
    assert ident.lu_name is None
    assert ident.relative_target_port is None


def test_tape_not_connected_removable() -> None:
    # PERIPHERAL QUALIFIER 001b, PERIPHERAL DEVICE TYPE 01h; RMB
    ident = decode_identity(standard(0x21, byte1=0x80, byte5=0, byte6=0))
    assert ident.peripheral_qualifier == 1
    assert ident.peripheral_type is PeripheralType.TAPE
    assert ident.removable
    assert ident.target_port_group_support == 0
    assert not ident.multi_port


@pytest.mark.parametrize(
    ("pdt", "name"),
    [
        (0x08, "MEDIUM_CHANGER"),
        (0x0D, "ENCLOSURE_SERVICES"),
        (0x1F, "NONE"),
        (0x15, "UNKNOWN_0x15"),
    ],
)
def test_peripheral_types(pdt: int, name: str) -> None:
    assert decode_identity(standard(pdt)).peripheral_type.name == name


def test_fields_past_additional_length_are_not_decoded() -> None:
    # ADDITIONAL LENGTH 27: 32 bytes, no PRODUCT REVISION LEVEL
    ident = decode_identity(standard(additional=27) + b"9.99")
    assert ident.product == "RAMDISK-MCP"
    assert ident.revision == ""


def test_vendor_padding_and_nuls_are_stripped() -> None:
    ident = decode_identity(standard(vendor=b"ACME\0\0\0\0", product=b"DISK" + b" " * 12))
    assert (ident.vendor, ident.product) == ("ACME", "DISK")


def test_standard_inquiry_cut_short() -> None:
    with pytest.raises(ResponseTruncated) as info:
        decode_identity(standard()[:20])
    assert info.value.needed == 36


@pytest.mark.parametrize("length", [0, 4])
def test_standard_inquiry_without_its_header(length: int) -> None:
    with pytest.raises(MalformedResponse):
        decode_identity(standard()[:length])


# -- VPD 00h and 80h -----------------------------------------------------------


def test_supported_pages() -> None:
    ident = decode_identity(standard(), vpd(0x00, h("00 80 83 86 b0")))
    assert ident.supported_pages == (0x00, 0x80, 0x83, 0x86, 0xB0)


def test_supported_pages_cut_short() -> None:
    with pytest.raises(ResponseTruncated) as info:
        decode_identity(standard(), vpd(0x00, h("00 80 83 86 b0"))[:6])
    assert info.value.needed == 9


def test_unit_serial_number_padding() -> None:
    # PRODUCT SERIAL NUMBER: ASCII, right-aligned here, NUL-terminated as LIO does
    page = vpd(0x80, b"   prlab0000000001\0")
    assert decode_identity(standard(), unit_serial_number=page).serial == "prlab0000000001"


def test_unit_serial_number_of_spaces() -> None:
    page = vpd(0x80, b"        ")
    assert decode_identity(standard(), unit_serial_number=page).serial == ""


def test_a_cut_serial_number_is_not_decoded() -> None:
    page = vpd(0x80, b"prlab0000000001")
    with pytest.raises(ResponseTruncated) as info:
        decode_identity(standard(), unit_serial_number=page[:10])
    assert info.value.needed == 19


@pytest.mark.parametrize(
    "argument",
    ["supported_pages", "unit_serial_number", "device_identification"],
)
def test_a_page_with_another_page_code_is_malformed(argument: str) -> None:
    with pytest.raises(MalformedResponse):
        decode_identity(standard(), **{argument: vpd(0xB0, b"\0\0\0\0")})


# -- VPD 83h -------------------------------------------------------------------


def every_type() -> tuple[Designator, ...]:
    return decode_identity(
        standard(), device_identification=vpd(0x83, b"".join(EVERY_TYPE))
    ).designators


def test_every_designator_type() -> None:
    found = every_type()
    assert [(d.type, d.association, d.code_set) for d in found] == [
        (DesignatorType.VENDOR_SPECIFIC, Association.LOGICAL_UNIT, CodeSet.ASCII),
        (DesignatorType.T10_VENDOR_ID, Association.LOGICAL_UNIT, CodeSet.ASCII),
        (DesignatorType.EUI_64, Association.LOGICAL_UNIT, CodeSet.BINARY),
        (DesignatorType.EUI_64, Association.LOGICAL_UNIT, CodeSet.BINARY),
        (DesignatorType.EUI_64, Association.LOGICAL_UNIT, CodeSet.BINARY),
        (DesignatorType.NAA, Association.LOGICAL_UNIT, CodeSet.BINARY),
        (DesignatorType.NAA, Association.LOGICAL_UNIT, CodeSet.BINARY),
        (DesignatorType.NAA, Association.LOGICAL_UNIT, CodeSet.BINARY),
        (DesignatorType.NAA, Association.LOGICAL_UNIT, CodeSet.BINARY),
        (DesignatorType.RELATIVE_TARGET_PORT, Association.TARGET_PORT, CodeSet.BINARY),
        (DesignatorType.TARGET_PORT_GROUP, Association.TARGET_PORT, CodeSet.BINARY),
        (DesignatorType.LOGICAL_UNIT_GROUP, Association.LOGICAL_UNIT, CodeSet.BINARY),
        (DesignatorType.MD5_LOGICAL_UNIT_IDENTIFIER, Association.LOGICAL_UNIT, CodeSet.BINARY),
        (DesignatorType.SCSI_NAME_STRING, Association.TARGET_PORT, CodeSet.UTF8),
        (DesignatorType.SCSI_NAME_STRING, Association.TARGET_DEVICE, CodeSet.UTF8),
        (
            DesignatorType.PROTOCOL_SPECIFIC_PORT_IDENTIFIER,
            Association.TARGET_PORT,
            CodeSet.BINARY,
        ),
        (DesignatorType.UUID, Association.LOGICAL_UNIT, CodeSet.BINARY),
    ]
    assert [d.value for d in found] == [e[4:] for e in EVERY_TYPE]
    assert all(d.well_formed for d in found)


def test_designator_texts() -> None:
    assert [str(d) for d in every_type()] == [
        "vendor thing",
        "t10.LIO-ORG RAMDISK-MCP:prlab0000000001\\0",  # as /sys/.../wwid shows it
        "eui.001405fffe000001",
        "eui.001405fffe00000100000002",
        "eui.001405fffe0000010000000200000003",
        "naa.2000000e1e09abcd",
        "naa.3333333000000007",
        "naa.5001405000000001",
        "naa.6001405ab00000000001000000000000",
        "relative target port 0x1",
        "target port group 0x2",
        "logical unit group 0x3",
        "md5.101112131415161718191a1b1c1d1e1f",
        "iqn.2003-01.org.linux-iscsi.prlab:target,t,0x0001",
        "iqn.2003-01.org.linux-iscsi.prlab:target",
        "05000200",
        "uuid.f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
    ]


def test_protocol_identifier_only_for_ports_and_devices_with_piv() -> None:
    found = every_type()
    assert found[9].protocol_identifier is ProtocolIdentifier.SAS
    assert found[13].protocol_identifier is ProtocolIdentifier.ISCSI
    assert found[15].protocol_identifier is ProtocolIdentifier.UAS
    assert found[8].protocol_identifier is None  # logical unit
    page = vpd(0x83, descriptor(0x3, NAA6, protocol=6, piv=True))  # PIV on an LU designator
    (naa,) = decode_identity(standard(), device_identification=page).designators
    assert naa.protocol_identifier is None
    page = vpd(0x83, descriptor(0x4, h("00 00 00 01"), association=1, protocol=6))  # no PIV
    (port,) = decode_identity(standard(), device_identification=page).designators
    assert port.protocol_identifier is None


def test_lu_name_and_relative_target_port_of_every_type() -> None:
    ident = decode_identity(standard(), device_identification=vpd(0x83, b"".join(EVERY_TYPE)))
    assert ident.lu_name == "naa.6001405ab00000000001000000000000"
    assert ident.relative_target_port == 1


def test_lio_device_identification() -> None:
    # What LIO returns over iSCSI with ALUA's default groups: NAA 6h and T10
    # vendor ID for the LU, then the port's designators.
    page = vpd(
        0x83,
        descriptor(0x3, NAA6)
        + descriptor(0x1, T10, code_set=2)
        + descriptor(0x4, h("00 00 00 01"), association=1, protocol=5, piv=True)
        + descriptor(0x5, h("00 00 00 00"), association=1, protocol=5, piv=True)
        + descriptor(0x6, h("00 00 00 00"))
        + descriptor(0x8, TARGET, association=1, code_set=3, protocol=5, piv=True)
        + descriptor(0x8, TARGET_DEVICE, association=2, code_set=3, protocol=5, piv=True),
    )
    ident = decode_identity(standard(), vpd(0x00, h("00 80 83")), vpd(0x80, b"x\0"), page)
    # Linux's wwid for this page is the NAA one too (the SCSI name strings
    # name the port and the target, not the LU).
    assert ident.lu_name == "naa." + NAA6.hex()
    assert ident.relative_target_port == 1
    assert ident.serial == "x"
    assert len(ident.designators) == 7


@pytest.mark.parametrize(
    ("designators", "expected"),
    [
        ([(0x1, T10), (0x2, EUI8)], "eui.001405fffe000001"),
        ([(0x2, EUI8), (0x2, EUI16), (0x2, EUI12)], "eui.001405fffe0000010000000200000003"),
        ([(0x3, NAA3), (0x3, NAA2), (0x2, EUI16)], "naa.2000000e1e09abcd"),
        ([(0x3, NAA3), (0x3, NAA5)], "naa.5001405000000001"),
        ([(0x8, b"eui.0123456789ABCDEF\0\0\0\0"), (0x1, T10)], "eui.0123456789ABCDEF"),
        ([(0x8, b"naa.60014051\0\0\0\0"), (0x2, EUI8)], "eui.001405fffe000001"),
        ([(0x1, T10)], "t10.LIO-ORG RAMDISK-MCP:prlab0000000001\\0"),
        ([(0x7, MD5), (0xA, UUID), (0x0, b"x")], None),
        ([(0x3, NAA6), (0x3, NAA6[:8] + b"\xff" * 8)], "naa." + NAA6.hex()),  # the first
    ],
)
def test_lu_name_preference(designators: list[tuple[int, bytes]], expected: str | None) -> None:
    page = vpd(
        0x83, b"".join(descriptor(k, v, code_set=3 if k == 8 else 1) for k, v in designators)
    )
    assert decode_identity(standard(), device_identification=page).lu_name == expected


def test_lu_name_ignores_other_associations_and_ill_formed_designators() -> None:
    page = vpd(
        0x83,
        descriptor(0x3, NAA6, association=1)  # names the target port
        + descriptor(0x3, NAA6, association=2)  # names the target device
        + descriptor(0x3, NAA6[:12])  # NAA 6h is 16 bytes
        + descriptor(0x2, EUI8[:6])  # EUI-64: 8, 12 or 16
        + descriptor(0x1, b"SHORT", code_set=2),  # T10: at least the vendor's 8 bytes
    )
    ident = decode_identity(standard(), device_identification=page)
    assert [d.well_formed for d in ident.designators] == [True, True, False, False, False]
    assert ident.lu_name is None
    assert str(ident.designators[2]) == NAA6[:12].hex()  # ill-formed: just the bytes
    assert str(ident.designators[4]) == "SHORT"


@pytest.mark.parametrize(
    ("kind", "value", "well_formed"),
    [
        (0x3, h("10 00 00 00 00 00 00 01"), False),  # NAA 1h: not defined
        (0x3, NAA5 + b"\0" * 8, False),  # NAA 5h is 8 bytes
        (0x3, b"", False),
        (0x4, h("00 01"), False),
        (0x5, h("00 00 00 00 00"), False),
        (0x6, h("00 00 00 01"), True),
        (0x7, MD5[:15], False),
        (0x8, b"iqn.x\0", False),  # not padded to a multiple of 4
        (0x8, b"iqn.x\0\0\0", True),
        (0x9, h("00 00 00 00 00 00 00 00"), True),
        (0x9, h("00 00 00 00 00 00"), False),
        (0xA, b"\x20\x00" + UUID[2:], False),  # UUID TYPE 2h: not defined
        (0xA, UUID[:17], False),
        (0xB, b"\x01\x02", False),  # reserved type
        (0x0, b"", True),
    ],
)
def test_designator_well_formed(kind: int, value: bytes, well_formed: bool) -> None:
    page = vpd(0x83, descriptor(kind, value))
    (found,) = decode_identity(standard(), device_identification=page).designators
    assert found.well_formed is well_formed
    assert found.value == value


def test_reserved_values_are_kept() -> None:
    page = vpd(0x83, bytes([0x07, 0x3B, 0, 2, 0xAB, 0xCD]))  # code set 7, association 3, type Bh
    (found,) = decode_identity(standard(), device_identification=page).designators
    assert found.code_set.name == "UNKNOWN_0x07"
    assert found.association.name == "UNKNOWN_0x03"
    assert found.type.name == "UNKNOWN_0x0B"
    assert str(found) == "abcd"


def test_t10_vendor_id_text_escapes_as_the_kernel_does() -> None:
    value = b"VENDOR  a\\b\tc\nd\x07\x1b\x01\x7f\xe9\0"
    page = vpd(0x83, descriptor(0x1, value, code_set=2))
    (found,) = decode_identity(standard(), device_identification=page).designators
    assert str(found) == "t10.VENDOR  a\\b\\tc\\nd\\a\\e\\001\\177\xe9\\0"


def test_empty_device_identification_page() -> None:
    ident = decode_identity(standard(), device_identification=vpd(0x83, b""))
    assert ident.designators == ()
    assert ident.lu_name is None


def test_designator_cut_by_the_allocation_is_not_decoded() -> None:
    page = vpd(0x83, b"".join(EVERY_TYPE))
    cut = len(page) - 10  # inside the UUID designator
    with pytest.raises(ResponseTruncated) as info:
        decode_identity(standard(), device_identification=page[:cut])
    assert info.value.needed == len(page)


def test_c_decoder_keeps_the_designators_that_arrived_whole() -> None:
    from pr_native._native import ffi

    page = vpd(0x83, descriptor(0x3, NAA6) + descriptor(0x1, T10, code_set=2))
    out, needed = ffi.new("struct pr_vpd_page *"), ffi.new("uint64_t *")
    found = ffi.new("struct pr_designator[]", 8)
    cut = page[:30]  # the NAA designator (24 bytes) and part of the T10 one's
    rc = lib.pr_decode_device_identification(cut, len(cut), found, 8, out, needed)
    assert rc == lib.PR_ERR_SHORT
    assert needed[0] == len(page)
    assert out.count == 1
    assert (found[0].offset, found[0].length, found[0].type) == (8, 16, 3)
    # the header alone: nothing decoded, the full size reported
    rc = lib.pr_decode_device_identification(page[:6], 6, found, 8, out, needed)
    assert (rc, out.count, needed[0]) == (lib.PR_ERR_SHORT, 0, len(page))
    # no room in the caller's array
    rc = lib.pr_decode_device_identification(page, len(page), found, 1, out, needed)
    assert rc == lib.PR_ERR_ARGUMENT


def test_designator_overrunning_page_length_is_malformed() -> None:
    page = vpd(0x83, descriptor(0x3, NAA6))
    too_short = page[:2] + (len(page) - 4 - 1).to_bytes(2, "big") + page[4:]
    with pytest.raises(MalformedResponse):
        decode_identity(standard(), device_identification=too_short)


def test_bytes_left_over_after_the_descriptors_are_malformed() -> None:
    page = vpd(0x83, descriptor(0x3, NAA6) + b"\x01\x03")
    with pytest.raises(MalformedResponse):
        decode_identity(standard(), device_identification=page)


def test_bytes_past_page_length_are_ignored() -> None:
    page = vpd(0x83, descriptor(0x3, NAA6)) + b"\xff" * 12
    (found,) = decode_identity(standard(), device_identification=page).designators
    assert found.value == NAA6


def test_designator_records() -> None:
    (naa,) = decode_identity(
        standard(), device_identification=vpd(0x83, descriptor(0x3, NAA6))
    ).designators
    assert naa == Designator(
        DesignatorType.NAA, Association.LOGICAL_UNIT, CodeSet.BINARY, None, NAA6, True
    )
    assert hash(naa) == hash(naa._replace())
    assert naa != tuple(naa)
    with pytest.raises(AttributeError):
        naa.value = b""  # type: ignore[misc]


# -- Device.identify() -----------------------------------------------------------

PAGES = vpd(0x00, h("00 80 83"))
SERIAL = vpd(0x80, b"prlab0000000001\0")
IDENTIFICATION = vpd(
    0x83,
    descriptor(0x3, NAA6)
    + descriptor(0x1, T10, code_set=2)
    + descriptor(0x4, h("00 00 00 02"), association=1, protocol=6, piv=True),
)
ILLEGAL_REQUEST = bytes.fromhex("70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 00 00 00")
UNIT_ATTENTION = bytes.fromhex("70 00 06 00 00 00 00 0a 00 00 00 00 2a 05 00 00 00 00")


def test_identify(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies += [data(standard()), data(PAGES), data(SERIAL), data(IDENTIFICATION)]
    ident = device.identify(timeout=5)
    assert [(c.name, c.cdb.hex(" "), c.timeout_ms) for c in fake_lib.calls] == [
        ("pr_inquiry", "12 00 00 00 ff 00", 5000),
        ("pr_supported_vpd_pages", "12 01 00 00 ff 00", 5000),
        ("pr_unit_serial_number", "12 01 80 00 ff 00", 5000),
        ("pr_device_identification", "12 01 83 00 ff 00", 5000),
    ]
    assert ident == decode_identity(standard(), PAGES, SERIAL, IDENTIFICATION)
    assert ident.serial == "prlab0000000001"
    assert ident.lu_name == "naa." + NAA6.hex()
    assert ident.relative_target_port == 2
    assert ident.supported_pages == (0x00, 0x80, 0x83)


def test_identify_reads_a_long_page_again(device: Device, fake_lib: FakeLib) -> None:
    many = [descriptor(0x0, bytes([i]) * 20, code_set=1) for i in range(20)]  # 480 bytes
    page = vpd(0x83, descriptor(0x3, NAA6) + b"".join(many))
    fake_lib.replies += [data(standard()), data(vpd(0x00, h("00 83"))), data(page), data(page)]
    ident = device.identify()
    assert [c.cdb.hex(" ") for c in fake_lib.calls[2:]] == [
        "12 01 83 00 ff 00",
        "12 01 83 01 fe 00",  # max(needed 528, 2 x 255)
    ]
    assert len(ident.designators) == 21
    assert ident.lu_name == "naa." + NAA6.hex()


def test_identify_reads_only_the_pages_listed(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies += [data(standard()), data(vpd(0x00, h("00 83"))), data(IDENTIFICATION)]
    ident = device.identify()
    assert [c.name for c in fake_lib.calls] == [
        "pr_inquiry",
        "pr_supported_vpd_pages",
        "pr_device_identification",
    ]
    assert ident.serial is None


def test_identify_without_vpd_pages(device: Device, fake_lib: FakeLib) -> None:
    # An SPC-2 device refuses EVPD with ILLEGAL REQUEST, INVALID FIELD IN CDB.
    fake_lib.replies += [
        data(standard(version=3)),
        fail(lib.PR_ERR_STATUS, status=2, sense=ILLEGAL_REQUEST),
    ]
    ident = device.identify()
    assert (ident.supported_pages, ident.serial, ident.designators) == ((), None, ())
    assert ident.lu_name is None


def test_identify_errors_come_from_the_one_verdict(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies += [
        data(standard()),
        data(PAGES),
        fail(lib.PR_ERR_STATUS, status=2, sense=UNIT_ATTENTION),
    ]
    with pytest.raises(UnitAttention) as info:
        device.identify()
    assert info.value.command == "INQUIRY (VPD 80h UNIT SERIAL NUMBER)"
    assert info.value.cdb == h("12 01 80 00 ff 00")


def test_identify_refuses_a_standard_inquiry_error(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies += [fail(lib.PR_ERR_STATUS, status=2, sense=ILLEGAL_REQUEST)]
    with pytest.raises(IllegalRequest):
        device.identify()


def test_identify_on_a_closed_device(device: Device, fake_lib: FakeLib) -> None:
    device.close()
    with pytest.raises(ValueError, match="closed"):
        device.identify()
    assert fake_lib.calls == []


def test_identify_command_line(capsys: pytest.CaptureFixture[str], fake_lib: FakeLib) -> None:
    fake_lib.replies += [data(standard()), data(PAGES), data(SERIAL), data(IDENTIFICATION)]
    assert cli_module.main(["identify", "/dev/sg-fake", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1 and doc["command"] == "identify" and doc["ok"]
    result = doc["result"]
    assert result["lu_name"] == "naa." + NAA6.hex()
    assert result["serial"] == "prlab0000000001"
    assert result["peripheral_type"] == "DISK" and result["peripheral_type_code"] == 0
    assert result["supported_pages"] == [0, 128, 131]
    assert result["relative_target_port"] == 2
    assert result["designators"][2] == {
        "type": "RELATIVE_TARGET_PORT",
        "type_code": 4,
        "association": "TARGET_PORT",
        "code_set": "BINARY",
        "protocol": "SAS",
        "text": "relative target port 0x2",
        "hex": "00000002",
        "well_formed": True,
    }
    fake_lib.replies += [data(standard()), data(PAGES), data(SERIAL), data(IDENTIFICATION)]
    assert cli_module.main(["identify", "/dev/sg-fake"]) == 0
    text = capsys.readouterr().out
    assert "LIO-ORG RAMDISK-MCP 4.0, DISK (0)" in text
    assert f"lu_name: naa.{NAA6.hex()}" in text
    assert "RELATIVE_TARGET_PORT, target port (SAS): relative target port 0x2" in text
