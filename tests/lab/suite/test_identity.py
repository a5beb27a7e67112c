"""Device.identify() against LIO: the same data sg3_utils reads (sg_inq,
sg_vpd), one lu_name through every initiator and another one for another
logical unit, and INQUIRY changing nothing: neither the PR generation nor a
pending unit attention."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pr_native as pr
from pr_native.cdb import decode_identity

from .conftest import KEY_A, KEY_B, KEY_C, Initiator

UA = pr.UnitAttentionCondition


def tool(*argv: str) -> bytes:
    return subprocess.run(argv, capture_output=True, check=True, timeout=60).stdout


def sg_inq_fields(node: str) -> dict[str, str]:
    """What sg_inq's text says about the standard INQUIRY data and VPD 80h."""
    text = tool("sg_inq", node).decode("ascii", "replace")
    fields = {}
    for key, pattern in {
        "vendor": r"Vendor identification: *(.*)",
        "product": r"Product identification: *(.*)",
        "revision": r"Product revision level: *(.*)",
        "serial": r"Unit serial number: *(.*)",
        "pqual": r"PQual=(\d+)",
        "pdt": r"PDT=(\d+)",
    }.items():
        match = re.search(pattern, text)
        assert match, f"sg_inq {node}: no {key} in\n{text}"
        fields[key] = match[1].rstrip()
    return fields


def raw_designators(page: bytes) -> list[tuple[int, int, int, int, int, bytes]]:
    """(protocol identifier, code set, PIV, association, type, value) of each
    descriptor of a raw VPD 83h page, read here without pr_native."""
    assert page[1] == 0x83
    end = 4 + int.from_bytes(page[2:4], "big")
    found, offset = [], 4
    while offset < end:
        d = page[offset:]
        found.append(
            (d[0] >> 4, d[0] & 0xF, d[1] >> 7, (d[1] >> 4) & 3, d[1] & 0xF, d[4 : 4 + d[3]])
        )
        offset += 4 + d[3]
    assert offset == end
    return found


D = pr.DesignatorType
# sg_vpd -p di's words for designator types, associations and code sets
SG_VPD_TYPES = {
    "vendor specific [0x0]": D.VENDOR_SPECIFIC,
    "T10 vendor identification": D.T10_VENDOR_ID,
    "EUI-64 based": D.EUI_64,
    "NAA": D.NAA,
    "Relative target port": D.RELATIVE_TARGET_PORT,
    "Target port group": D.TARGET_PORT_GROUP,
    "Logical unit group": D.LOGICAL_UNIT_GROUP,
    "MD5 logical unit identifier": D.MD5_LOGICAL_UNIT_IDENTIFIER,
    "SCSI name string": D.SCSI_NAME_STRING,
    "Protocol specific port identifier": D.PROTOCOL_SPECIFIC_PORT_IDENTIFIER,
    "UUID identifier": D.UUID,
}
SG_VPD_ASSOCIATIONS = {
    "Addressed logical unit:": pr.Association.LOGICAL_UNIT,
    "Target port:": pr.Association.TARGET_PORT,
    "Target device that contains addressed lu:": pr.Association.TARGET_DEVICE,
}
SG_VPD_CODE_SETS = {
    "Binary": pr.CodeSet.BINARY,
    "ASCII": pr.CodeSet.ASCII,
    "UTF-8": pr.CodeSet.UTF8,
}


def sg_vpd_designators(text: str) -> list[tuple[pr.Association, pr.DesignatorType, pr.CodeSet]]:
    """(association, type, code set) of each designator sg_vpd -p di lists
    (grouped by association, page order within each)."""
    found, association = [], None
    for line in text.splitlines():
        if line.strip() in SG_VPD_ASSOCIATIONS:
            association = SG_VPD_ASSOCIATIONS[line.strip()]
        match = re.fullmatch(r"\s*designator type: (.*?),\s+code set: (.*?)\s*", line)
        if match:
            assert association is not None, text
            found.append((association, SG_VPD_TYPES[match[1]], SG_VPD_CODE_SETS[match[2]]))
    return found


def sysfs_wwid(node: str) -> str | None:
    path = Path("/sys/class/scsi_generic", Path(node).name, "device", "wwid")
    return path.read_text().strip("\n\0") if path.exists() else None


@pytest.fixture
def nodes(initiators: list[Initiator]) -> list[str]:
    return [i.sg for i in initiators]


def test_identify_matches_sg_inq_and_sg_vpd(nodes: list[str], lab_info: dict[str, Any]) -> None:
    for node in nodes:
        with pr.Device(node) as dev:
            ident = dev.identify()
        inq = sg_inq_fields(node)
        assert (ident.vendor, ident.product, ident.revision) == (
            inq["vendor"],
            inq["product"],
            inq["revision"],
        )
        assert ident.peripheral_qualifier == int(inq["pqual"]) == 0
        assert ident.peripheral_type == int(inq["pdt"]) == pr.PeripheralType.DISK
        assert ident.serial == inq["serial"] == lab_info["serial"]
        serial_text = tool("sg_vpd", "-p", "sn", node).decode()
        assert f"Unit serial number: {ident.serial}" in serial_text

        # Byte for byte: what sg3_utils read decodes to what identify() returned.
        standard = tool("sg_inq", "-o", "-r", "-l", "255", node)
        pages = tool("sg_vpd", "-p", "sv", "-r", node)
        serial = tool("sg_vpd", "-p", "sn", "-r", node)
        identification = tool("sg_vpd", "-p", "di", "-r", "-m", "4096", node)
        assert decode_identity(standard, pages, serial, identification) == ident
        assert ident.supported_pages == tuple(pages[4:])
        assert {0x00, 0x80, 0x83} <= set(ident.supported_pages)

        # Every designator, as read without pr_native, and sg_vpd's text of them.
        assert [
            (
                int(d.protocol_identifier) if d.protocol_identifier is not None else None,
                int(d.code_set),
                int(d.association),
                int(d.type),
                d.value,
            )
            for d in ident.designators
        ] == [
            (proto if piv and assoc in (1, 2) else None, code_set, assoc, kind, value)
            for proto, code_set, piv, assoc, kind, value in raw_designators(identification)
        ]
        assert all(d.well_formed for d in ident.designators)
        text = tool("sg_vpd", "-p", "di", node).decode("utf-8", "replace")
        assert sg_vpd_designators(text) == [
            (d.association, d.type, d.code_set)
            for d in sorted(ident.designators, key=lambda d: int(d.association))
        ]
        lines = [line.strip() for line in text.splitlines()]
        for d in ident.designators:
            if d.type == D.NAA:
                assert f"0x{d.value.hex()}" in lines
            elif d.type == D.T10_VENDOR_ID:
                specific = d.value[8:].rstrip(b"\0").decode()
                assert f"vendor specific: {specific}" in lines
            elif d.type == D.RELATIVE_TARGET_PORT:
                assert f"Relative target port: 0x{ident.relative_target_port:x}" in lines
            elif d.type == D.SCSI_NAME_STRING:
                assert str(d) in lines
        kinds = {d.type for d in ident.designators}
        assert {pr.DesignatorType.NAA, pr.DesignatorType.T10_VENDOR_ID} <= kinds
        assert pr.DesignatorType.RELATIVE_TARGET_PORT in kinds


def test_the_same_lu_name_through_every_initiator(
    initiators: list[Initiator], devices: list[pr.Device]
) -> None:
    identities = [dev.identify() for dev in devices]
    names = {ident.lu_name for ident in identities}
    assert len(names) == 1 and None not in names, names
    (lu_name,) = names
    assert lu_name is not None
    assert lu_name.startswith("naa.6001405")  # LIO's NAA IEEE Registered Extended
    for i in initiators:
        wwid = sysfs_wwid(i.sg)
        if wwid is not None:  # Linux's name for it
            assert wwid == lu_name
    # relative_target_port: the port READ FULL STATUS reports for the nexus
    for dev, key in zip(devices, (KEY_A, KEY_B, KEY_C)):
        dev.register(key)
    registrants = {r.key: r for r in devices[0].read_full_status().registrants}
    for ident, key in zip(identities, (KEY_A, KEY_B, KEY_C)):
        assert ident.relative_target_port == registrants[key].relative_target_port


def test_another_logical_unit_has_another_lu_name(lab_info: dict[str, Any], a: pr.Device) -> None:
    extra = lab_info.get("extra_lus") or []
    if not extra:
        pytest.skip("this lab has one LU (LabConfig.extra_lus=0)")
    shared = a.identify().lu_name
    seen = {shared}
    for lu in extra:
        identities = []
        for initiator in lu["initiators"]:
            with pr.Device(initiator["sg"]) as dev:
                identities.append(dev.identify())
        names = {ident.lu_name for ident in identities}
        assert len(names) == 1 and None not in names, names
        assert {ident.serial for ident in identities} == {lu["serial"]}
        (name,) = names
        assert name not in seen
        seen.add(name)


def test_identify_changes_nothing_and_keeps_the_unit_attention(
    a: pr.Device, b: pr.Device, c: pr.Device
) -> None:
    a.register(KEY_A)
    b.register(KEY_B)
    before = a.identify()
    b.preempt(KEY_B, KEY_A, pr.ReservationType.EXCLUSIVE_ACCESS)  # A now has 2A/05 pending
    generation = c.read_keys().generation
    for _ in range(3):
        assert a.identify() == before
        assert b.identify().lu_name == before.lu_name
    assert c.read_keys() == pr.Registrations(generation, (KEY_B,))
    with pytest.raises(pr.UnitAttention) as info:
        a.test_unit_ready()  # INQUIRY neither reported nor cleared it
    assert info.value.condition is UA.REGISTRATIONS_PREEMPTED
    a.test_unit_ready()


def test_identify_command_line(initiators: list[Initiator], a: pr.Device) -> None:
    node = initiators[0].sg
    done = subprocess.run(
        [sys.executable, "-m", "pr_native", "identify", node, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    ident = a.identify()
    assert doc["ok"] and doc["schema_version"] == 1
    assert doc["result"]["lu_name"] == ident.lu_name
    assert doc["result"]["serial"] == ident.serial
    assert [d["hex"] for d in doc["result"]["designators"]] == [
        d.value.hex() for d in ident.designators
    ]
