"""PR OUT parameter lists (SPC-4 6.16.3 basic/SPEC_I_PT, 6.16.4 REGISTER AND MOVE)."""

from __future__ import annotations

from typing import Any

import pytest

from pr_native import ISCSITransportID, PROutAction, SASTransportID, TransportID
from pr_native.cdb import pr_out_parameters


def h(text: str) -> bytes:
    return bytes.fromhex(text)


RK = 0x0102030405060708
SARK = 0x1112131415161718
RK_HEX = "01 02 03 04 05 06 07 08"
SARK_HEX = "11 12 13 14 15 16 17 18"
SAS = SASTransportID(0x5001405000000001)
SAS_HEX = "06 00 00 00 50 01 40 50 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00"
ISCSI = ISCSITransportID("iqn.a")  # 5 characters + NUL, padded to the minimum 20
ISCSI_HEX = "05 00 00 14 69 71 6e 2e 61 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"


@pytest.mark.parametrize(
    ("flags", "byte20"),
    [
        ({}, "00"),
        ({"aptpl": True}, "01"),
        ({"all_target_ports": True}, "04"),
        ({"aptpl": True, "all_target_ports": True}, "05"),
    ],
)
def test_basic_list(flags: dict[str, Any], byte20: str) -> None:
    expected = h(f"{RK_HEX} {SARK_HEX} 00 00 00 00 {byte20} 00 00 00")
    assert pr_out_parameters(PROutAction.REGISTER, RK, SARK, **flags) == expected


@pytest.mark.parametrize("action", [1, 2, 3, 4, 5, 6, 8])
def test_basic_list_is_24_bytes_for_every_other_action(action: int) -> None:
    expected = h(f"{RK_HEX} {SARK_HEX} 00 00 00 00 00 00 00 00")
    assert pr_out_parameters(action, RK, SARK) == expected


def test_spec_i_pt_one_transport_id() -> None:
    expected = h(f"{RK_HEX} {SARK_HEX} 00 00 00 00 08 00 00 00 00 00 00 18 {SAS_HEX}")
    assert pr_out_parameters(0, RK, SARK, transport_ids=[SAS]) == expected


def test_spec_i_pt_keeps_other_flags() -> None:
    expected = h(f"{RK_HEX} {SARK_HEX} 00 00 00 00 0d 00 00 00 00 00 00 18 {SAS_HEX}")
    params = pr_out_parameters(0, RK, SARK, aptpl=True, all_target_ports=True, transport_ids=(SAS,))
    assert params == expected


def test_spec_i_pt_two_transport_ids() -> None:
    expected = h(f"{RK_HEX} {SARK_HEX} 00 00 00 00 08 00 00 00 00 00 00 30 {SAS_HEX} {ISCSI_HEX}")
    assert pr_out_parameters(0, RK, SARK, transport_ids=iter([SAS, ISCSI])) == expected


@pytest.mark.parametrize(
    ("flags", "byte17"),
    [
        ({}, "00"),
        ({"aptpl": True}, "01"),
        ({"unregister": True}, "02"),
        ({"aptpl": True, "unregister": True}, "03"),
    ],
)
def test_register_and_move_list(flags: dict[str, Any], byte17: str) -> None:
    expected = h(f"{RK_HEX} {SARK_HEX} 00 {byte17} 01 02 00 00 00 18 {SAS_HEX}")
    params = pr_out_parameters(
        PROutAction.REGISTER_AND_MOVE,
        RK,
        SARK,
        relative_target_port=0x0102,
        transport_ids=[SAS],
        **flags,
    )
    assert params == expected


def test_register_and_move_iscsi_destination() -> None:
    expected = h(f"{RK_HEX} {SARK_HEX} 00 00 ff ff 00 00 00 18 {ISCSI_HEX}")
    params = pr_out_parameters(7, RK, SARK, relative_target_port=0xFFFF, transport_ids=[ISCSI])
    assert params == expected


def test_register_and_move_needs_a_transport_id() -> None:
    with pytest.raises(ValueError, match="transport_ids"):
        pr_out_parameters(7, RK, SARK)


def test_register_and_move_takes_exactly_one_transport_id() -> None:
    # SPC-4 6.16.4: the list carries one TransportID; the error text says "exactly one".
    with pytest.raises(ValueError, match="transport_ids"):
        pr_out_parameters(7, RK, SARK, transport_ids=[SAS, ISCSI])


@pytest.mark.parametrize("as_bytes", [bytes, bytearray, memoryview])
def test_keys_as_bytes_equal_keys_as_ints(as_bytes: type) -> None:
    by_bytes = pr_out_parameters(0, as_bytes(h(RK_HEX)), as_bytes(h(SARK_HEX)))
    assert by_bytes == pr_out_parameters(0, RK, SARK)
    assert by_bytes[:16] == h(RK_HEX + SARK_HEX)


def test_largest_key() -> None:
    expected = h("ff ff ff ff ff ff ff ff 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00")
    assert pr_out_parameters(0, 2**64 - 1, 1) == expected
    assert pr_out_parameters(0, b"\xff" * 8, 1) == expected


@pytest.mark.parametrize("name", ["key", "service_action_key"])
@pytest.mark.parametrize(
    ("value", "error"),
    [
        (-1, ValueError),
        (2**64, ValueError),
        (b"\x00" * 7, ValueError),
        (b"\x00" * 9, ValueError),
        (1.5, TypeError),
        ("1", TypeError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_bad_keys(name: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=name):
        pr_out_parameters(0, **{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"aptpl": 1}, TypeError, "aptpl"),
        ({"all_target_ports": "yes"}, TypeError, "all_target_ports"),
        ({"unregister": None}, TypeError, "unregister"),
        ({"relative_target_port": -1}, ValueError, "relative_target_port"),
        ({"relative_target_port": 65536}, ValueError, "relative_target_port"),
        ({"relative_target_port": True}, TypeError, "relative_target_port"),
        ({"transport_ids": [bytes.fromhex(SAS_HEX)]}, TypeError, "transport_ids"),
        ({"transport_ids": bytes.fromhex(SAS_HEX)}, TypeError, "transport_ids"),
        ({"transport_ids": "sas,5001405000000001"}, TypeError, "transport_ids"),
        ({"transport_ids": SAS}, TypeError, "transport_ids"),
        ({"transport_ids": [TransportID()]}, TypeError, "transport_ids"),
        ({"transport_ids": None}, TypeError, "transport_ids"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type[Exception], name: str) -> None:
    with pytest.raises(error, match=name):
        pr_out_parameters(0, 1, 2, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("action", [-1, 32, "0", None])
def test_bad_service_action(action: object) -> None:
    with pytest.raises((ValueError, TypeError), match="service_action"):
        pr_out_parameters(action)  # type: ignore[arg-type]
