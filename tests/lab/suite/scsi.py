"""Plain SCSI commands the lab suite needs besides PR: READ(10)/WRITE(10)
probes for the reservation access matrix, and raw PR IN CDBs.

They go through the same C transport as every PR command (``pr_execute``),
and failures become the same exceptions.
"""

from __future__ import annotations

from typing import Literal

import pr_native as pr
from pr_native._native import ffi, lib
from pr_native.errors import raise_for_result

BLOCK = 512  # rd_mcp's logical block size
LBA = 1


def execute(dev: pr.Device, cdb: bytes, *, data_in: int = 0, data_out: bytes = b"") -> bytes:
    """Run one CDB on ``dev``; returns the data read; raises like Device does."""
    if data_out:
        direction, buf = lib.PR_DIR_TO_DEVICE, ffi.from_buffer("uint8_t[]", data_out)
        length = len(data_out)
    elif data_in:
        direction, buf, length = lib.PR_DIR_FROM_DEVICE, ffi.new("uint8_t[]", data_in), data_in
    else:
        direction, buf, length = lib.PR_DIR_NONE, ffi.NULL, 0
    result = ffi.new("struct pr_result *")
    rc = lib.pr_execute(dev._device, cdb, len(cdb), direction, buf, length, 20_000, result)
    if rc != lib.PR_OK:
        raise_for_result(rc, result, device=dev.path, command=f"CDB {cdb[0]:02X}h", is_out=False)
    return bytes(ffi.buffer(buf, result.transferred)) if data_in else b""


def _rw10(opcode: int) -> bytes:
    return bytes([opcode, 0]) + LBA.to_bytes(4, "big") + bytes([0, 0, 1, 0])


def read_block(dev: pr.Device) -> bytes:
    return execute(dev, _rw10(0x28), data_in=BLOCK)


def write_block(dev: pr.Device, fill: int = 0x5A) -> None:
    execute(dev, _rw10(0x2A), data_out=bytes([fill]) * BLOCK)


def access(dev: pr.Device, operation: Literal["read", "write"]) -> bool:
    """True when the medium access succeeds, False on RESERVATION CONFLICT."""
    try:
        if operation == "read":
            read_block(dev)
        else:
            write_block(dev)
    except pr.ReservationConflict:
        return False
    return True
