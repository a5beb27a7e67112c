"""identify() on Windows without SCSI pass-through: the decoders of
IOCTL_STORAGE_QUERY_PROPERTY's STORAGE_DEVICE_DESCRIPTOR and
STORAGE_DEVICE_ID_DESCRIPTOR (csrc/pr_winbuf.c, compiled on every OS) on
hand-built bytes laid out as the DDK declares them (tests/windows checks
those offsets against the mingw-w64 headers), their bounds checks on what a
driver may return, and the fallback path of Device.identify()."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from pr_native import Device, MalformedResponse, ResponseTruncated
from pr_native._native import ffi, lib
from pr_native.cdb import decode_identity
from pr_native.identity import SOURCE_INQUIRY, SOURCE_STORAGE_PROPERTY, decode_storage_properties

from .fake_device import FakeLib, fail
from .test_identity import IDENTIFICATION, NAA6, PAGES, SERIAL, T10, standard


def device_descriptor(
    *strings: bytes | None,
    device_type: int = 0,
    removable: int = 0,
    size: int | None = None,
    offsets: tuple[int, int, int, int] | None = None,
) -> bytes:
    """STORAGE_DEVICE_DESCRIPTOR: Version, Size, DeviceType, DeviceTypeModifier,
    RemovableMedia, CommandQueueing, Vendor/Product/Revision/SerialNumber
    offsets, BusType, RawPropertiesLength (36 bytes), then the NUL-ended
    strings (None: offset 0)."""
    body, found = b"", []
    for text in (*strings, None, None, None, None)[:4]:
        found.append(0 if text is None else 36 + len(body))
        body += b"" if text is None else text + b"\0"
    where = offsets if offsets is not None else tuple(found)
    total = 36 + len(body) if size is None else size
    head = struct.pack("<II4B4III", 40, total, device_type, 0, removable, 1, *where, 9, 0)
    return head + body


def identifier(
    code_set: int, kind: int, association: int, value: bytes, next_offset: int | None = None
) -> bytes:
    """STORAGE_IDENTIFIER: CodeSet, Type, IdentifierSize, NextOffset,
    Association, Identifier[] (the next one 4-byte aligned)."""
    size = 16 + len(value)
    step = (size + 3) & ~3 if next_offset is None else next_offset
    entry = struct.pack("<IIHHI", code_set, kind, len(value), step, association) + value
    return entry + bytes(max(0, step - len(entry)))


def device_id_descriptor(
    *identifiers: bytes, count: int | None = None, size: int | None = None
) -> bytes:
    """STORAGE_DEVICE_ID_DESCRIPTOR: Version, Size, NumberOfIdentifiers, Identifiers[]."""
    body = b"".join(identifiers)
    total = 12 + len(body) if size is None else size
    number = len(identifiers) if count is None else count
    return struct.pack("<III", 16, total, number) + body


LIO = device_descriptor(b"LIO-ORG", b"RAMDISK-MCP", b"4.0", b"prlab0000000001")
LIO_IDS = device_id_descriptor(
    identifier(1, 3, 0, NAA6),
    identifier(2, 1, 0, T10),
    identifier(1, 4, 1, bytes.fromhex("00 00 00 02")),
)


def id_page(data: bytes, capacity: int | None = None) -> tuple[int, bytes, int]:
    page = ffi.new("uint8_t[]", capacity if capacity is not None else max(len(data), 4))
    length, needed = ffi.new("uint32_t *"), ffi.new("uint64_t *")
    rc = lib.pr_win_device_id_page(data, len(data), page, len(page), length, needed)
    return rc, bytes(ffi.buffer(page, length[0])), needed[0]


def test_golden_device_descriptor() -> None:
    assert LIO[:36].hex(" ") == (
        "28 00 00 00 4c 00 00 00 00 00 00 01 24 00 00 00 2c 00 00 00 38 00 00 00 "
        "3c 00 00 00 09 00 00 00 00 00 00 00"
    )
    assert LIO[36:] == b"LIO-ORG\0RAMDISK-MCP\0004.0\0prlab0000000001\0"
    out, needed = ffi.new("struct pr_win_device_descriptor *"), ffi.new("uint64_t *")
    assert lib.pr_win_decode_device_descriptor(LIO, len(LIO), out, needed) == lib.PR_OK
    assert needed[0] == out.size == 76 and out.bus_type == 9  # BusTypeiScsi
    assert (out.vendor_offset, out.vendor_length) == (36, 7)
    assert (out.product_offset, out.product_length) == (44, 11)
    assert (out.revision_offset, out.revision_length) == (56, 3)
    assert (out.serial_offset, out.serial_length) == (60, 15)
    assert (out.device_type, out.removable, out.command_queueing) == (0, 0, 1)


def test_golden_device_id_descriptor_becomes_the_vpd_page() -> None:
    """Each STORAGE_IDENTIFIER is the designation descriptor it was copied
    from, without PIV and PROTOCOL IDENTIFIER."""
    rc, page, _ = id_page(LIO_IDS)
    assert rc == lib.PR_OK
    assert page == bytes([0, 0x83, 0, 68]) + (
        bytes([0x01, 0x03, 0, 16]) + NAA6
        + bytes([0x02, 0x01, 0, len(T10)]) + T10
        + bytes.fromhex("01 14 00 04 00 00 00 02")
    )  # fmt: skip


def test_the_same_identity_as_inquiry_where_the_data_agree() -> None:
    """lu_name, every designator's str(), relative_target_port, vendor,
    product, revision and serial as the VPD pages give them; the source says
    where they came from."""
    windows = decode_storage_properties(LIO, LIO_IDS)
    scsi = decode_identity(standard(), PAGES, SERIAL, IDENTIFICATION)
    assert windows.source == SOURCE_STORAGE_PROPERTY and scsi.source == SOURCE_INQUIRY
    assert windows.lu_name == scsi.lu_name == "naa." + NAA6.hex()
    assert [str(d) for d in windows.designators] == [str(d) for d in scsi.designators]
    assert windows.relative_target_port == scsi.relative_target_port == 2
    assert [d.protocol_identifier for d in windows.designators] == [None, None, None]
    for name in ("vendor", "product", "revision", "serial", "peripheral_type", "removable"):
        assert getattr(windows, name) == getattr(scsi, name), name
    # what the descriptors do not carry
    assert (windows.version, windows.supported_pages, windows.multi_port) == (0, (), False)


def test_absent_strings_and_no_id_property() -> None:
    ident = decode_storage_properties(device_descriptor(None, b"DISK", device_type=1))
    assert (ident.vendor, ident.product, ident.revision, ident.serial) == ("", "DISK", "", None)
    assert int(ident.peripheral_type) == 1 and ident.designators == () and ident.lu_name is None


def test_an_offset_of_all_ones_is_absent_too() -> None:
    """Some controllers mark a missing string 0xFFFFFFFF instead of 0
    (Windows-driver-samples, spti.c, PrintDeviceDescriptor)."""
    data = device_descriptor(b"LIO-ORG", b"RAMDISK-MCP", offsets=(36, 44, 0xFFFFFFFF, 0xFFFFFFFF))
    ident = decode_storage_properties(data, LIO_IDS)
    assert (ident.vendor, ident.product, ident.revision, ident.serial) == (
        "LIO-ORG",
        "RAMDISK-MCP",
        "",
        None,
    )
    assert ident.lu_name == "naa." + NAA6.hex()


def test_an_empty_identifier_list() -> None:
    rc, page, _ = id_page(device_id_descriptor())
    assert (rc, page) == (lib.PR_OK, bytes([0, 0x83, 0, 0]))


@pytest.mark.parametrize(
    ("data", "rc", "needed"),
    [
        (LIO[:7], lib.PR_ERR_SHORT, 36),  # not even the header
        (LIO[:40], lib.PR_ERR_SHORT, 76),  # Size says 76
        (device_descriptor(b"X", size=20), lib.PR_ERR_MALFORMED, 36),  # Size below the fixed part
        (device_descriptor(offsets=(20, 0, 0, 0)), lib.PR_ERR_MALFORMED, 36),  # inside it
        (device_descriptor(b"X", offsets=(38, 0, 0, 0)), lib.PR_ERR_MALFORMED, 38),  # past Size
        (device_descriptor(b"X", size=37), lib.PR_ERR_MALFORMED, 37),  # its NUL beyond Size
        (device_descriptor(device_type=0x20), lib.PR_ERR_MALFORMED, 36),  # beyond 5 bits
    ],
)
def test_device_descriptor_bounds(data: bytes, rc: int, needed: int) -> None:
    out, got = ffi.new("struct pr_win_device_descriptor *"), ffi.new("uint64_t *")
    assert lib.pr_win_decode_device_descriptor(data, len(data), out, got) == rc
    assert got[0] == needed
    assert out.vendor_offset == out.product_offset == out.serial_offset == 0


NAA = identifier(1, 3, 0, NAA6)


@pytest.mark.parametrize(
    "data",
    [
        device_id_descriptor(size=11),  # below the fixed part
        device_id_descriptor(NAA, count=2),  # the second one is past Size
        device_id_descriptor(identifier(1, 3, 0, NAA6, next_offset=0), NAA),  # NextOffset 0
        device_id_descriptor(identifier(1, 3, 0, NAA6, next_offset=31), NAA),  # overlaps
        device_id_descriptor(identifier(1, 3, 0, NAA6, next_offset=400)[:32], NAA),  # past Size
        device_id_descriptor(NAA, size=12 + 20),  # Identifier overruns Size
        device_id_descriptor(identifier(1, 3, 0, bytes(256))),  # DESIGNATOR LENGTH is a byte
        device_id_descriptor(identifier(16, 3, 0, NAA6)),  # CODE SET is 4 bits
        device_id_descriptor(identifier(1, 16, 0, NAA6)),  # DESIGNATOR TYPE is 4 bits
        device_id_descriptor(identifier(1, 3, 4, NAA6)),  # ASSOCIATION is 2 bits
        device_id_descriptor(count=0xFFFFFFFF),  # a count the bytes cannot hold
    ],
)
def test_device_id_descriptor_bounds(data: bytes) -> None:
    rc, page, _ = id_page(data)
    assert (rc, page) == (lib.PR_ERR_MALFORMED, b"")
    with pytest.raises(MalformedResponse, match="StorageDeviceIdProperty"):
        decode_storage_properties(LIO, data)


def test_device_id_descriptor_cut_short_asks_for_its_size() -> None:
    rc, _, needed = id_page(LIO_IDS[:30])
    assert (rc, needed) == (lib.PR_ERR_SHORT, len(LIO_IDS))
    with pytest.raises(ResponseTruncated) as info:
        decode_storage_properties(LIO, LIO_IDS[:30])
    assert info.value.needed == len(LIO_IDS)


def test_room_for_the_page() -> None:
    assert id_page(LIO_IDS, capacity=len(LIO_IDS))[0] == lib.PR_OK  # capacity >= length suffices
    assert id_page(LIO_IDS, capacity=20)[0] == lib.PR_ERR_ARGUMENT


def test_no_query_property_off_windows() -> None:
    result = ffi.new("struct pr_result *")
    device = ffi.new("struct pr_device *")
    buffer = ffi.new("uint8_t[]", 64)
    assert lib.pr_win_query_property(device, 0, buffer, 64, result) == lib.PR_ERR_UNSUPPORTED
    assert lib.pr_win_identify_by_property(device, result) == 0


# -- Device.identify()'s fallback, with the Windows calls stood in for ------------


def test_identify_falls_back_when_pass_through_is_refused(
    device: Device, fake_lib: FakeLib, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The standard INQUIRY is refused before dispatch (as pr_windows.c
    reports ERROR_INVALID_FUNCTION); the C rule says "by property"; the two
    descriptors are queried, the first one again with the room its Size
    asks for; nothing else is sent."""
    queries: list[tuple[int, int]] = []
    long_serial = device_descriptor(b"LIO-ORG", b"RAMDISK-MCP", b"4.0", b"S" * 1100)
    descriptors = {0: long_serial, 2: LIO_IDS}

    def query(handle: Any, property_id: int, buffer: Any, capacity: int, result: Any) -> int:
        """As the stack answers: the part that fits (ERROR_MORE_DATA)."""
        queries.append((property_id, capacity))
        data = descriptors[property_id][:capacity]
        ffi.memmove(buffer, data, len(data))
        result.transferred = len(data)
        return int(lib.PR_OK)

    monkeypatch.setattr(fake_lib, "pr_win_query_property", query, raising=False)
    monkeypatch.setattr(
        fake_lib,
        "pr_win_identify_by_property",
        lambda handle, result: int(result.cdb[0] == 0x12 and not result.dispatched),
        raising=False,
    )
    fake_lib.replies.append(fail(lib.PR_ERR_OS, os_error=1, dispatched=0))
    ident = device.identify()
    assert [c.name for c in fake_lib.calls] == ["pr_inquiry"]
    assert queries == [(0, 1024), (0, 2048), (2, 1024)]
    assert ident == decode_storage_properties(long_serial, LIO_IDS)
    assert ident.serial == "S" * 1100 and ident.lu_name == "naa." + NAA6.hex()
    assert ident.source == SOURCE_STORAGE_PROPERTY


def test_identify_without_the_id_property(
    device: Device, fake_lib: FakeLib, monkeypatch: pytest.MonkeyPatch
) -> None:
    def query(handle: Any, property_id: int, buffer: Any, capacity: int, result: Any) -> int:
        if property_id == 2:  # the miniport has none: refused before anything was sent
            result.os_error, result.dispatched = 50, 0
            return int(lib.PR_ERR_OS)
        ffi.memmove(buffer, LIO, len(LIO))
        result.transferred = len(LIO)
        return int(lib.PR_OK)

    monkeypatch.setattr(fake_lib, "pr_win_query_property", query, raising=False)
    monkeypatch.setattr(fake_lib, "pr_win_identify_by_property", lambda h, r: 1, raising=False)
    fake_lib.replies.append(fail(lib.PR_ERR_UNSUPPORTED, dispatched=0))
    ident = device.identify()
    assert (ident.serial, ident.designators, ident.lu_name) == ("prlab0000000001", (), None)


def test_a_refused_inquiry_off_windows_is_reported(device: Device, fake_lib: FakeLib) -> None:
    """Off Windows the rule always says no: the INQUIRY's own error is raised."""
    fake_lib.replies.append(fail(lib.PR_ERR_OS, os_error=5, dispatched=0))
    with pytest.raises(OSError):
        device.identify()
