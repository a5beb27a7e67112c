"""The public names and their wire values."""

from __future__ import annotations

import importlib

import pytest

import pr_native
from pr_native import (
    PRInAction,
    ProtocolIdentifier,
    PROutAction,
    ReservationType,
    Scope,
    ScsiStatus,
    SenseKey,
)


@pytest.mark.parametrize("name", pr_native.__all__)
def test_all_names_importable(name: str) -> None:
    module = importlib.import_module("pr_native")
    assert getattr(module, name) is not None


def test_all_has_no_duplicates() -> None:
    assert len(set(pr_native.__all__)) == len(pr_native.__all__)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RESERVATION_ACTION_READ_KEYS", 0),
        ("RESERVATION_ACTION_READ_RESERVATIONS", 1),
        ("RESERVATION_ACTION_REGISTER", 0),
        ("RESERVATION_ACTION_RESERVE", 1),
        ("RESERVATION_ACTION_RELEASE", 2),
        ("RESERVATION_ACTION_CLEAR", 3),
        ("RESERVATION_ACTION_PREEMPT", 4),
        ("RESERVATION_ACTION_PREEMPT_ABORT", 5),
        ("RESERVATION_ACTION_REGISTER_IGNORE_EXISTING", 6),
        ("RESERVATION_SCOPE_LU", 0),
        ("RESERVATION_SCOPE_ELEMENT", 2),
        ("RESERVATION_TYPE_WRITE_EXCLUSIVE", 1),
        ("RESERVATION_TYPE_EXCLUSIVE", 3),
        ("RESERVATION_TYPE_WRITE_EXCLUSIVE_REGISTRANTS", 5),
        ("RESERVATION_TYPE_EXCLUSIVE_REGISTRANTS", 6),
    ],
)
def test_ddk_constants(name: str, value: int) -> None:
    assert getattr(pr_native, name) == value


def test_reservation_types() -> None:
    assert {t.name: int(t) for t in ReservationType} == {
        "WRITE_EXCLUSIVE": 1,
        "EXCLUSIVE_ACCESS": 3,
        "WRITE_EXCLUSIVE_REGISTRANTS_ONLY": 5,
        "EXCLUSIVE_ACCESS_REGISTRANTS_ONLY": 6,
        "WRITE_EXCLUSIVE_ALL_REGISTRANTS": 7,
        "EXCLUSIVE_ACCESS_ALL_REGISTRANTS": 8,
    }
    assert [t for t in ReservationType if t.all_registrants] == [7, 8]


@pytest.mark.parametrize("value", [0, 2, 4, 9, 0xFF])
def test_unnamed_reservation_type_is_kept(value: int) -> None:
    kind = ReservationType(value)
    assert kind == value
    assert kind.name == f"UNKNOWN_0x{value:02X}"
    assert not kind.all_registrants


@pytest.mark.parametrize("value", [-1, 256, "1"])
def test_impossible_reservation_type_is_rejected(value: object) -> None:
    with pytest.raises(ValueError):
        ReservationType(value)  # type: ignore[arg-type]


def test_service_actions() -> None:
    assert [(a.name, int(a)) for a in PRInAction] == [
        ("READ_KEYS", 0),
        ("READ_RESERVATION", 1),
        ("REPORT_CAPABILITIES", 2),
        ("READ_FULL_STATUS", 3),
    ]
    assert [(a.name, int(a)) for a in PROutAction] == [
        ("REGISTER", 0),
        ("RESERVE", 1),
        ("RELEASE", 2),
        ("CLEAR", 3),
        ("PREEMPT", 4),
        ("PREEMPT_AND_ABORT", 5),
        ("REGISTER_AND_IGNORE_EXISTING_KEY", 6),
        ("REGISTER_AND_MOVE", 7),
        ("REPLACE_LOST_RESERVATION", 8),
    ]


def test_scope_protocol_status_sense_key_values() -> None:
    assert (Scope.LU, Scope.ELEMENT) == (0, 2)
    assert (
        ProtocolIdentifier.FCP,
        ProtocolIdentifier.SPI,
        ProtocolIdentifier.SBP,
        ProtocolIdentifier.SRP,
        ProtocolIdentifier.ISCSI,
        ProtocolIdentifier.SAS,
        ProtocolIdentifier.SOP,
    ) == (0, 1, 3, 4, 5, 6, 0xA)
    assert (
        ScsiStatus.GOOD,
        ScsiStatus.CHECK_CONDITION,
        ScsiStatus.BUSY,
        ScsiStatus.RESERVATION_CONFLICT,
        ScsiStatus.TASK_SET_FULL,
        ScsiStatus.TASK_ABORTED,
    ) == (0, 2, 8, 0x18, 0x28, 0x40)
    assert (
        SenseKey.NOT_READY,
        SenseKey.ILLEGAL_REQUEST,
        SenseKey.UNIT_ATTENTION,
        SenseKey.ABORTED_COMMAND,
    ) == (2, 5, 6, 0xB)


def test_exception_tree() -> None:
    for name in (
        "ReservationConflict",
        "CheckCondition",
        "IllegalRequest",
        "UnitAttention",
        "NotReady",
        "MediumError",
        "HardwareError",
        "DataProtect",
        "AbortedCommand",
        "DeviceBusy",
        "TaskAborted",
        "TransportError",
        "CommandTimeout",
        "OutcomeUnknown",
        "MalformedResponse",
        "ResponseTruncated",
        "UnsupportedPlatform",
    ):
        assert issubclass(getattr(pr_native, name), pr_native.PRError), name
    for name in ("IllegalRequest", "UnitAttention", "NotReady", "AbortedCommand"):
        assert issubclass(getattr(pr_native, name), pr_native.CheckCondition), name


def test_c_constants() -> None:
    from pr_native._native import lib

    assert (lib.PR_OPCODE_IN, lib.PR_OPCODE_OUT) == (0x5E, 0x5F)
    assert lib.PR_ALLOCATION_MAX == 65535
    assert lib.PR_BASIC_PARAMETERS_LEN == 24
    assert lib.PR_SENSE_MAX == 252
    assert (lib.PR_WIN_IN_COMMAND_LEN, lib.PR_WIN_OUT_COMMAND_LEN) == (12, 36)
