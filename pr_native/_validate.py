"""Argument checks run before any I/O: bad input never reaches a device."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ._native import lib
from .constants import SENDABLE_TYPES, ReservationType
from .transport_id import TransportID

_KEY_MAX = (1 << 64) - 1
_TIMEOUT_MAX_S = (2**32 - 1) / 1000  # sg_io_hdr.timeout is 32-bit milliseconds


def key(value: object, name: str) -> int:
    """A reservation key: an int in 0 .. 2**64-1, or exactly 8 big-endian bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if len(raw) != 8:
            raise ValueError(f"{name} as bytes must be 8 bytes long, got {len(raw)}")
        return int.from_bytes(raw, "big")
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int or 8 bytes, not {type(value).__name__}")
    if not 0 <= value <= _KEY_MAX:
        raise ValueError(f"{name} must be in 0 .. 2**64-1, got {value}")
    return int(value)


def flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


def reservation_type(value: object, name: str = "type") -> ReservationType:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be a ReservationType, not {type(value).__name__}")
    if value not in SENDABLE_TYPES:
        raise ValueError(
            f"{name} must be one of the SPC reservation types "
            f"{sorted(int(t) for t in SENDABLE_TYPES)}, got {value}"
        )
    return ReservationType(value)


def uint(value: object, bits: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{name} must be in 0 .. {(1 << bits) - 1}, got {value}")
    return int(value)


def timeout_ms(value: object, name: str = "timeout") -> int:
    """Seconds (int or float, > 0) to whole milliseconds, rounded up."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not (0 < value <= _TIMEOUT_MAX_S):  # also rejects nan; inf and huge ints are > max
        raise ValueError(f"{name} must be > 0 and <= {_TIMEOUT_MAX_S} seconds, got {value}")
    return max(1, math.ceil(value * 1000))


_TRANSPORT_ID_MIN = 24  # SPC-4 7.6.4.1: every TransportID is at least 24 bytes
_ISCSI = 5


def _transport_id_problem(raw: bytes) -> str | None:
    """What makes ``raw`` an invalid TransportID (SPC-4 7.6.4), or None."""
    if len(raw) < _TRANSPORT_ID_MIN:
        return f"{len(raw)} bytes, a TransportID has at least {_TRANSPORT_ID_MIN}"
    if len(raw) > lib.PR_TRANSPORT_ID_MAX:
        return f"{len(raw)} bytes, a TransportID has at most {lib.PR_TRANSPORT_ID_MAX}"
    if len(raw) % 4:
        return f"{len(raw)} bytes, not a multiple of 4"
    if raw[0] & 0x0F == _ISCSI:
        announced = 4 + int.from_bytes(raw[2:4], "big")
        if announced != len(raw):
            return f"ADDITIONAL LENGTH announces {announced} bytes, the TransportID has {len(raw)}"
    elif raw[0] >> 6 == 0 and len(raw) != _TRANSPORT_ID_MIN:
        return f"{len(raw)} bytes, format code 00b is exactly {_TRANSPORT_ID_MIN}"
    return None


def transport_id(value: object, name: str) -> TransportID:
    """A TransportID whose bytes SPC allows: nothing wrong is ever sent."""
    if not isinstance(value, TransportID) or type(value) is TransportID:
        raise TypeError(f"{name} must be a TransportID, not {type(value).__name__}")
    problem = _transport_id_problem(value.to_bytes())
    if problem is not None:
        raise ValueError(f"{name} is not a valid TransportID (SPC-4 7.6.4): {problem}")
    return value


def transport_ids(values: object, name: str = "transport_ids") -> list[TransportID]:
    """A list of TransportIDs (the SPEC_I_PT list sends them back to back)."""
    if isinstance(values, (str, bytes, TransportID)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be an iterable of TransportID")
    return [transport_id(v, f"{name}[{i}]") for i, v in enumerate(values)]
