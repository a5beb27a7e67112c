"""Scripted answers (fake_device replies) to ``Device.identify()``: the
standard INQUIRY data and VPD pages 00h, 80h and 83h of a logical unit with
one NAA designator, as LIO returns them."""

from __future__ import annotations

import errno

from pr_native._native import lib

from .fake_device import Reply, data, fail

_INQUIRY = bytes([0, 0, 6, 0x12, 31, 0x10, 0x10, 0x02]) + b"LIO-ORG RAMDISK-MCP     4.0 "
_PAGES = bytes([0, 0x00, 0, 3, 0x00, 0x80, 0x83])


def naa(number: int) -> bytes:
    """A 16-byte NAA 6h designator (IEEE Registered Extended, LIO's OUI)."""
    return bytes.fromhex("6001405ab0000000") + number.to_bytes(8, "big")


def lu_name(number: int) -> str:
    return "naa." + naa(number).hex()


def identity(number: int) -> list[Reply]:
    """The four INQUIRYs of identify() on the logical unit ``naa(number)``."""
    serial = b"prlab%010d" % number
    designator = bytes([0x01, 0x03, 0, 16]) + naa(number)
    return [
        data(_INQUIRY),
        data(_PAGES),
        data(bytes([0, 0x80, 0, len(serial)]) + serial),
        data(bytes([0, 0x83, 0, len(designator)]) + designator),
    ]


def unanswered() -> list[Reply]:
    """identify() whose standard INQUIRY fails in the transport (EIO)."""
    return [fail(lib.PR_ERR_OS, os_error=errno.EIO)]
