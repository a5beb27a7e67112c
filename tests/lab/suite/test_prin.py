"""PERSISTENT RESERVE IN against LIO (conformance rows L01-L04, P01)."""

from __future__ import annotations

import pytest

import pr_native as pr
from pr_native.cdb import decode_read_keys, pr_in_cdb
from pr_native.constants import SENDABLE_TYPES

from .conftest import KEY_A, KEY_B
from .scsi import execute


def test_read_keys_on_a_clean_unit_is_empty(a: pr.Device) -> None:
    """L01: GOOD, no keys; ADDITIONAL LENGTH matches what came back."""
    assert a.read_keys().keys == ()


def test_short_allocation_returns_the_header_with_the_full_length(a: pr.Device) -> None:
    """L02: with ALLOCATION LENGTH 8 LIO returns only the header, whose
    ADDITIONAL LENGTH still counts every key (SPC-4 6.15.1)."""
    a.register(KEY_A)
    data = execute(a, pr_in_cdb(pr.PRInAction.READ_KEYS, 8), data_in=8)
    assert len(data) == 8
    assert int.from_bytes(data[4:8], "big") == 8
    with pytest.raises(pr.ResponseTruncated) as info:
        decode_read_keys(data + b"\0")
    assert info.value.needed == 16


@pytest.mark.parametrize("action", range(4, 0x20))
def test_undefined_service_actions_are_illegal(a: pr.Device, action: int) -> None:
    """L03: SA 04h-1Fh → CHECK CONDITION 05/24/00 INVALID FIELD IN CDB."""
    with pytest.raises(pr.IllegalRequest) as info:
        execute(a, pr_in_cdb(action, 16384), data_in=16384)
    assert info.value.sense is not None
    assert (info.value.sense.asc, info.value.sense.ascq) == (0x24, 0x00)


def test_report_capabilities_matches_lio(a: pr.Device) -> None:
    """L04: LIO reports 00 08 1D 90 EA 01: CRH, SIP_C, ATP_C, PTPL_C, TMV,
    ALLOW COMMANDS 1, all six types, and no REPLACE LOST RESERVATION."""
    caps = a.report_capabilities()
    assert caps == pr.Capabilities(
        replace_lost_reservation_capable=False,
        compatible_reservation_handling=True,
        specify_initiator_ports_capable=True,
        all_target_ports_capable=True,
        persist_through_power_loss_capable=True,
        type_mask_valid=True,
        allow_commands=1,
        persist_through_power_loss_active=False,
        type_mask=0xEA01,
        supported_types=frozenset(SENDABLE_TYPES),
    )


def test_every_initiator_sees_every_key(devices: list[pr.Device]) -> None:
    """P01: registered and unregistered initiators read the same key list."""
    a, b, c = devices[:3]
    a.register(KEY_A)
    b.register(KEY_B)
    seen = [sorted(d.read_keys().keys) for d in (a, b, c)]
    assert seen == [[KEY_A, KEY_B]] * 3
