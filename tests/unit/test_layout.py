"""Sizes and offsets reported by the compiled C (``pr_native.layout``)."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from pr_native.layout import LayoutField, layout

ROOT = Path(__file__).resolve().parents[2]

PORTABLE = {
    ("PERSISTENT_RESERVE_COMMAND", "sizeof"): (0, 12),
    ("PERSISTENT_RESERVE_COMMAND", "Version"): (0, 4),
    ("PERSISTENT_RESERVE_COMMAND", "Size"): (4, 4),
    ("PERSISTENT_RESERVE_COMMAND", "ServiceAction"): (8, 1),
    ("PERSISTENT_RESERVE_COMMAND", "PR_OUT.Type|Scope"): (9, 1),
    ("PERSISTENT_RESERVE_COMMAND", "PR_IN.AllocationLength"): (10, 2),
    ("PERSISTENT_RESERVE_COMMAND", "PR_OUT.ParameterList"): (10, 0),
    ("PRO_PARAMETER_LIST", "sizeof"): (0, 24),
    ("PRO_PARAMETER_LIST", "ReservationKey"): (0, 8),
    ("PRO_PARAMETER_LIST", "ServiceActionReservationKey"): (8, 8),
    ("PRO_PARAMETER_LIST", "ScopeSpecificAddress"): (16, 4),
    ("PRO_PARAMETER_LIST", "APTPL|ALL_TG_PT|SPEC_I_PT"): (20, 1),
    ("PRO_PARAMETER_LIST", "Obsolete"): (22, 2),
    ("PRI_REGISTRATION_LIST", "sizeof"): (0, 8),
    ("PRI_REGISTRATION_LIST", "Generation"): (0, 4),
    ("PRI_REGISTRATION_LIST", "AdditionalLength"): (4, 4),
    ("PRI_REGISTRATION_LIST", "ReservationKeyList"): (8, 0),
    ("PRI_RESERVATION_LIST", "sizeof"): (0, 8),
    ("PRI_RESERVATION_LIST", "Generation"): (0, 4),
    ("PRI_RESERVATION_LIST", "AdditionalLength"): (4, 4),
    ("PRI_RESERVATION_LIST", "Reservations"): (8, 0),
    ("PRI_RESERVATION_DESCRIPTOR", "sizeof"): (0, 16),
    ("PRI_RESERVATION_DESCRIPTOR", "ReservationKey"): (0, 8),
    ("PRI_RESERVATION_DESCRIPTOR", "ScopeSpecificAddress"): (8, 4),
    ("PRI_RESERVATION_DESCRIPTOR", "Type|Scope"): (13, 1),
}

# platform-facts.md D.1: (offset on x86_64, offset on i386, size on x86_64, size on i386)
SG_IO_HDR = {
    "interface_id": (0, 0, 4, 4),
    "dxfer_direction": (4, 4, 4, 4),
    "cmd_len": (8, 8, 1, 1),
    "mx_sb_len": (9, 9, 1, 1),
    "iovec_count": (10, 10, 2, 2),
    "dxfer_len": (12, 12, 4, 4),
    "dxferp": (16, 16, 8, 4),
    "cmdp": (24, 20, 8, 4),
    "sbp": (32, 24, 8, 4),
    "timeout": (40, 28, 4, 4),
    "flags": (44, 32, 4, 4),
    "pack_id": (48, 36, 4, 4),
    "usr_ptr": (56, 40, 8, 4),
    "status": (64, 44, 1, 1),
    "masked_status": (65, 45, 1, 1),
    "msg_status": (66, 46, 1, 1),
    "sb_len_wr": (67, 47, 1, 1),
    "host_status": (68, 48, 2, 2),
    "driver_status": (70, 50, 2, 2),
    "resid": (72, 52, 4, 4),
    "duration": (76, 56, 4, 4),
    "info": (80, 60, 4, 4),
}


def table(rows: list[tuple[str, str, int, int]]) -> dict[tuple[str, str], tuple[int, int]]:
    return {(s, f): (o, n) for s, f, o, n in rows}


def test_portable_layout() -> None:
    rows = table([(r.structure, r.field, r.offset, r.size) for r in layout()])
    assert {k: v for k, v in rows.items() if k[0] != "sg_io_hdr"} == PORTABLE


def test_rows_are_layout_fields() -> None:
    assert all(isinstance(r, LayoutField) for r in layout())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SG_IO is Linux only")
def test_sg_io_hdr_layout() -> None:
    wide = struct.calcsize("P") == 8
    expected = {("sg_io_hdr", "sizeof"): (0, 88 if wide else 64)}
    for name, (off64, off32, size64, size32) in SG_IO_HDR.items():
        expected["sg_io_hdr", name] = (off64, size64) if wide else (off32, size32)
    rows = table([(r.structure, r.field, r.offset, r.size) for r in layout()])
    assert {k: v for k, v in rows.items() if k[0] == "sg_io_hdr"} == expected


def test_command_line_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pr_native.layout", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    rows = json.loads(out)
    assert all(set(r) == {"structure", "field", "offset", "size"} for r in rows)
    found = table([(r["structure"], r["field"], r["offset"], r["size"]) for r in rows])
    for key, value in PORTABLE.items():
        assert found[key] == value
    if sys.platform.startswith("linux") and struct.calcsize("P") == 8:
        assert found["sg_io_hdr", "sizeof"] == (0, 88)
        assert found["sg_io_hdr", "info"] == (80, 4)
        assert found["sg_io_hdr", "host_status"] == (68, 2)


def test_command_line_text() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pr_native.layout"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    lines = out.splitlines()
    assert lines[0] == "PERSISTENT_RESERVE_COMMAND"
    assert lines[1].split() == ["sizeof", "12"]
