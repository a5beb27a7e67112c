"""Windows IOCTL_STORAGE_PERSISTENT_RESERVE_IN/OUT input buffers (DDK
PERSISTENT_RESERVE_COMMAND + PRO_PARAMETER_LIST), as classpnp accepts them."""

from __future__ import annotations

from typing import Any

import pytest

from pr_native import PRInAction, PROutAction, ReservationType, Scope
from pr_native.winioctl import (
    IOCTL_STORAGE_PERSISTENT_RESERVE_IN,
    IOCTL_STORAGE_PERSISTENT_RESERVE_OUT,
    pr_in_command,
    pr_out_command,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def test_ioctl_codes() -> None:
    # CTL_CODE(0x2D, 0x406, METHOD_BUFFERED, FILE_READ_ACCESS) and 0x407 with read|write.
    assert IOCTL_STORAGE_PERSISTENT_RESERVE_IN == (0x2D << 16) | (1 << 14) | (0x406 << 2)
    assert IOCTL_STORAGE_PERSISTENT_RESERVE_OUT == (0x2D << 16) | (3 << 14) | (0x407 << 2)
    assert (IOCTL_STORAGE_PERSISTENT_RESERVE_IN, IOCTL_STORAGE_PERSISTENT_RESERVE_OUT) == (
        0x002D5018,
        0x002DD01C,
    )


# Version=12 LE32, Size=12 LE32, ServiceAction at 8, 0 at 9, AllocationLength LE16 at 10.
@pytest.mark.parametrize(
    ("action", "allocation", "expected"),
    [
        (0, 8, "0c 00 00 00 0c 00 00 00 00 00 08 00"),
        (0, 0x1234, "0c 00 00 00 0c 00 00 00 00 00 34 12"),
        (1, 65535, "0c 00 00 00 0c 00 00 00 01 00 ff ff"),
        (PRInAction.READ_RESERVATION, 0x0100, "0c 00 00 00 0c 00 00 00 01 00 00 01"),
    ],
)
def test_pr_in_command(action: int, allocation: int, expected: str) -> None:
    assert pr_in_command(action, allocation) == h(expected)


RK = "01 02 03 04 05 06 07 08"
SARK = "a1 a2 a3 a4 a5 a6 a7 a8"
HEADER = "0c 00 00 00 24 00 00 00"  # Version 12, Size 36 (not 12)


def out_buffer(byte8: str, byte9: str, rk: str, sark: str, flags: str) -> bytes:
    # PRO_PARAMETER_LIST at 10: RK 10-17, SARK 18-25, scope address 26-29,
    # flags 30, reserved 31, obsolete 32-33; then 34-35 unused.
    return h(f"{HEADER} {byte8} {byte9} {rk} {sark} 00 00 00 00 {flags} 00 00 00 00 00")


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((0, 0, 0, 0, 0x0102030405060708), {}, out_buffer("00", "00", "00" * 8, RK, "00")),
        (
            (PROutAction.REGISTER, 0, 0, 0x0102030405060708, 0xA1A2A3A4A5A6A7A8),
            {"aptpl": True},
            out_buffer("00", "00", RK, SARK, "01"),
        ),
        (
            (6, 0, 0, 0, 0xA1A2A3A4A5A6A7A8),
            {"all_target_ports": True},
            out_buffer("06", "00", "00" * 8, SARK, "04"),
        ),
        (
            (6, 0, 0, 0, 0xA1A2A3A4A5A6A7A8),
            {"aptpl": True, "all_target_ports": True},
            out_buffer("06", "00", "00" * 8, SARK, "05"),
        ),
        ((1, 1, 0, 0x0102030405060708, 0), {}, out_buffer("01", "01", RK, "00" * 8, "00")),
        ((1, 3, 2, 0x0102030405060708, 0), {}, out_buffer("01", "23", RK, "00" * 8, "00")),
        ((2, 5, 0, 0x0102030405060708, 0), {}, out_buffer("02", "05", RK, "00" * 8, "00")),
        ((3, 0, 0, 0x0102030405060708, 0), {}, out_buffer("03", "00", RK, "00" * 8, "00")),
        (
            (5, 6, 0, 0x0102030405060708, 0xA1A2A3A4A5A6A7A8),
            {},
            out_buffer("05", "06", RK, SARK, "00"),
        ),
    ],
)
def test_pr_out_command(args: tuple[Any, ...], kwargs: dict[str, Any], expected: bytes) -> None:
    assert len(expected) == 36
    assert pr_out_command(*args, **kwargs) == expected


def test_preempt_is_four_with_own_key_then_victim() -> None:
    own, victim = 0x1111111111111111, 0x2222222222222222
    buffer = pr_out_command(
        PROutAction.PREEMPT, ReservationType.EXCLUSIVE_ACCESS, Scope.LU, own, victim
    )
    assert buffer == h(
        "0c 00 00 00 24 00 00 00 04 03"
        " 11 11 11 11 11 11 11 11 22 22 22 22 22 22 22 22"
        " 00 00 00 00 00 00 00 00 00 00"
    )
    assert buffer[8] == 4  # PREEMPT; CLEAR (3) is another action
    assert int.from_bytes(buffer[4:8], "little") == 36  # Size covers the whole buffer
    # The parameter list starts at 10, not after a stray 0x00 0x18 (a CDB length).
    assert buffer[10:12] != h("00 18")
    assert buffer[10:18] == own.to_bytes(8, "big")


def test_keys_as_bytes() -> None:
    assert pr_out_command(4, 1, 0, h(RK), h(SARK)) == pr_out_command(
        4, 1, 0, 0x0102030405060708, 0xA1A2A3A4A5A6A7A8
    )


@pytest.mark.parametrize("action", [2, 3, 4, 32, -1])
def test_pr_in_rejects_other_actions(action: int) -> None:
    with pytest.raises(ValueError):
        pr_in_command(action, 8)


@pytest.mark.parametrize("allocation", [0, 7, 65536, -1])
def test_pr_in_rejects_allocation_length(allocation: int) -> None:
    with pytest.raises(ValueError, match="allocation_length"):
        pr_in_command(0, allocation)


@pytest.mark.parametrize("action", [7, 8, 9, 32, -1])
def test_pr_out_rejects_move_and_replace(action: int) -> None:
    with pytest.raises(ValueError):
        pr_out_command(action, 1, 0, 1, 0)


@pytest.mark.parametrize("action", [1, 2, 4, 5])
@pytest.mark.parametrize("type_", [0, 2, 4, 7, 8, 9, 15])
def test_pr_out_rejects_types_classpnp_refuses(action: int, type_: int) -> None:
    with pytest.raises(ValueError, match="type"):
        pr_out_command(action, type_, 0, 1, 2)


@pytest.mark.parametrize("scope", [1, 3, 15])
def test_pr_out_rejects_scope(scope: int) -> None:
    with pytest.raises(ValueError, match="scope"):
        pr_out_command(1, 1, scope, 1, 0)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"key": -1}, ValueError, "key"),
        ({"key": 2**64}, ValueError, "key"),
        ({"key": b"\x00" * 7}, ValueError, "key"),
        ({"service_action_key": 1.5}, TypeError, "service_action_key"),
        ({"aptpl": 1}, TypeError, "aptpl"),
        ({"all_target_ports": None}, TypeError, "all_target_ports"),
        ({"type": "WE"}, TypeError, "type"),
        ({"type": 16}, ValueError, "type"),
        ({"scope": 16}, ValueError, "scope"),
    ],
)
def test_pr_out_bad_arguments(kwargs: dict[str, object], error: type[Exception], name: str) -> None:
    args: dict[str, object] = {
        "service_action": 1,
        "type": 1,
        "scope": 0,
        "key": 1,
        "service_action_key": 0,
    }
    args.update(kwargs)
    with pytest.raises(error, match=name):
        pr_out_command(**args)  # type: ignore[arg-type]
