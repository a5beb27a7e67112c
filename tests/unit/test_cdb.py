"""PERSISTENT RESERVE IN/OUT CDBs (SPC-4 6.15.1, 6.16.1), byte for byte."""

from __future__ import annotations

import pytest

from pr_native import PRInAction, PROutAction, ReservationType, Scope
from pr_native.cdb import pr_in_cdb, pr_out_cdb


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# SERVICE ACTION in byte 1, ALLOCATION LENGTH BE16 at bytes 7-8.
PR_IN_CASES = [
    (0, 0, "5e 00 00 00 00 00 00 00 00 00"),
    (0, 8, "5e 00 00 00 00 00 00 00 08 00"),
    (0, 0x1234, "5e 00 00 00 00 00 00 12 34 00"),
    (0, 65535, "5e 00 00 00 00 00 00 ff ff 00"),
    (1, 0, "5e 01 00 00 00 00 00 00 00 00"),
    (1, 8, "5e 01 00 00 00 00 00 00 08 00"),
    (1, 0x1234, "5e 01 00 00 00 00 00 12 34 00"),
    (1, 65535, "5e 01 00 00 00 00 00 ff ff 00"),
    (2, 0, "5e 02 00 00 00 00 00 00 00 00"),
    (2, 8, "5e 02 00 00 00 00 00 00 08 00"),
    (2, 0x1234, "5e 02 00 00 00 00 00 12 34 00"),
    (2, 65535, "5e 02 00 00 00 00 00 ff ff 00"),
    (3, 0, "5e 03 00 00 00 00 00 00 00 00"),
    (3, 8, "5e 03 00 00 00 00 00 00 08 00"),
    (3, 0x1234, "5e 03 00 00 00 00 00 12 34 00"),
    (3, 65535, "5e 03 00 00 00 00 00 ff ff 00"),
]


@pytest.mark.parametrize(("action", "allocation", "expected"), PR_IN_CASES)
def test_pr_in_cdb(action: int, allocation: int, expected: str) -> None:
    assert pr_in_cdb(action, allocation) == h(expected)


def test_pr_in_cdb_takes_enum() -> None:
    assert pr_in_cdb(PRInAction.READ_FULL_STATUS, 0x2000) == h("5e 03 00 00 00 00 00 20 00 00")


# SERVICE ACTION byte 1, SCOPE<<4|TYPE byte 2, PARAMETER LIST LENGTH BE32 at 5-8.
PR_OUT_CASES = [
    ("REGISTER", 0, 0, 0, 24, "5f 00 00 00 00 00 00 00 18 00"),
    ("REGISTER, SPEC_I_PT + 1 SAS TransportID", 0, 0, 0, 28 + 24, "5f 00 00 00 00 00 00 00 34 00"),
    ("REGISTER, SPEC_I_PT + 2 TransportIDs", 0, 0, 0, 28 + 48, "5f 00 00 00 00 00 00 00 4c 00"),
    ("RESERVE WR_EX", 1, 0, 1, 24, "5f 01 01 00 00 00 00 00 18 00"),
    ("RELEASE EX_AC", 2, 0, 3, 24, "5f 02 03 00 00 00 00 00 18 00"),
    ("CLEAR", 3, 0, 0, 24, "5f 03 00 00 00 00 00 00 18 00"),
    ("PREEMPT WR_EX_RO", 4, 0, 5, 24, "5f 04 05 00 00 00 00 00 18 00"),
    ("PREEMPT AND ABORT EX_AC_RO", 5, 0, 6, 24, "5f 05 06 00 00 00 00 00 18 00"),
    ("REGISTER AND IGNORE", 6, 0, 0, 24, "5f 06 00 00 00 00 00 00 18 00"),
    ("REGISTER AND MOVE WR_EX_AR", 7, 0, 7, 24 + 24, "5f 07 07 00 00 00 00 00 30 00"),
    ("REPLACE LOST EX_AC_AR", 8, 0, 8, 24, "5f 08 08 00 00 00 00 00 18 00"),
    ("scope ELEMENT, type EX_AC", 1, 2, 3, 24, "5f 01 23 00 00 00 00 00 18 00"),
    ("all nibbles", 1, 0xF, 0xF, 24, "5f 01 ff 00 00 00 00 00 18 00"),
    ("BE32 length", 0, 0, 0, 0x01020304, "5f 00 00 00 00 01 02 03 04 00"),
    ("max length", 0, 0, 0, 0xFFFFFFFF, "5f 00 00 00 00 ff ff ff ff 00"),
    ("max service action", 0x1F, 0, 0, 0, "5f 1f 00 00 00 00 00 00 00 00"),
]


@pytest.mark.parametrize(
    ("action", "scope", "type_", "length", "expected"),
    [c[1:] for c in PR_OUT_CASES],
    ids=[c[0] for c in PR_OUT_CASES],
)
def test_pr_out_cdb(action: int, scope: int, type_: int, length: int, expected: str) -> None:
    assert pr_out_cdb(action, scope, type_, length) == h(expected)


def test_pr_out_cdb_takes_enums() -> None:
    cdb = pr_out_cdb(
        PROutAction.PREEMPT, Scope.LU, ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY, 24
    )
    assert cdb == h("5f 04 06 00 00 00 00 00 18 00")


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((32, 8), "service_action"),
        ((-1, 8), "service_action"),
        ((0, 65536), "allocation_length"),
        ((0, -1), "allocation_length"),
    ],
)
def test_pr_in_cdb_out_of_range(args: tuple[int, int], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        pr_in_cdb(*args)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("0", 8), "service_action"),
        ((True, 8), "service_action"),
        ((0.0, 8), "service_action"),
        ((None, 8), "service_action"),
        ((0, 8.0), "allocation_length"),
        ((0, "8"), "allocation_length"),
        ((0, False), "allocation_length"),
    ],
)
def test_pr_in_cdb_wrong_type(args: tuple[object, object], name: str) -> None:
    with pytest.raises(TypeError, match=name):
        pr_in_cdb(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((32, 0, 0, 24), "service_action"),
        ((-1, 0, 0, 24), "service_action"),
        ((0, 16, 0, 24), "scope"),
        ((0, -1, 0, 24), "scope"),
        ((0, 0, 16, 24), "type"),
        ((0, 0, -1, 24), "type"),
        ((0, 0, 0, 2**32), "parameter_list_length"),
        ((0, 0, 0, -1), "parameter_list_length"),
    ],
)
def test_pr_out_cdb_out_of_range(args: tuple[int, int, int, int], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        pr_out_cdb(*args)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("4", 0, 0, 24), "service_action"),
        ((4, 0.0, 0, 24), "scope"),
        ((4, 0, "WE", 24), "type"),
        ((4, 0, True, 24), "type"),
        ((4, 0, 1, 24.0), "parameter_list_length"),
        ((4, 0, 1, None), "parameter_list_length"),
    ],
)
def test_pr_out_cdb_wrong_type(args: tuple[object, ...], name: str) -> None:
    with pytest.raises(TypeError, match=name):
        pr_out_cdb(*args)  # type: ignore[arg-type]
