"""PREEMPT (04h): fencing another initiator (L20, W01-W06, conformance 3.3)."""

from __future__ import annotations

import pytest

import pr_native as pr

from .conftest import KEY_A, KEY_B, drain_unit_attentions
from .scsi import access

T = pr.ReservationType
UA = pr.UnitAttentionCondition


def test_preempt_without_reservation_removes_the_registration(a: pr.Device, b: pr.Device) -> None:
    """L20: only the victim's registration goes; the victim gets 2A/05 once."""
    a.register(KEY_A)
    b.register(KEY_B)
    g = a.read_keys().generation
    b.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)
    with pytest.raises(pr.UnitAttention) as info:
        a.test_unit_ready()
    assert info.value.condition is UA.REGISTRATIONS_PREEMPTED
    a.test_unit_ready()
    assert drain_unit_attentions(b) == []
    assert b.read_keys() == pr.Registrations(g + 1, (KEY_B,))
    assert b.read_reservation().reservation is None


@pytest.mark.parametrize(
    "kind", [T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY]
)
def test_fencing_takes_over_the_reservation(
    a: pr.Device, b: pr.Device, c: pr.Device, kind: T
) -> None:
    """W01-W05: an unregistered initiator cannot preempt; a registered one
    preempts the holder's key with its own key and becomes the holder."""
    a.register(KEY_A)
    a.reserve(KEY_A, kind)
    assert b.read_reservation().reservation == pr.Reservation(KEY_A, kind, pr.Scope.LU)
    with pytest.raises(pr.ReservationConflict):
        b.preempt(KEY_B, KEY_A, kind)  # W04: B is not registered yet
    b.register(KEY_B)
    b.preempt(KEY_B, KEY_A, kind)
    assert c.read_reservation().reservation == pr.Reservation(KEY_B, kind, pr.Scope.LU)
    with pytest.raises(pr.UnitAttention) as info:
        a.read_keys()
    assert info.value.condition is UA.REGISTRATIONS_PREEMPTED
    assert info.value.command == "PERSISTENT RESERVE IN (READ KEYS)"
    assert info.value.cdb[0] == 0x5E
    assert not access(a, "write")  # A is fenced
    with pytest.raises(pr.ReservationConflict):
        a.reserve(KEY_A, kind)


def test_preempt_changing_the_type_notifies_remaining_registrants(
    a: pr.Device, b: pr.Device, c: pr.Device
) -> None:
    """Conformance 3.3: when the holder is preempted and the type changes, the
    remaining registrants (not the caller) get 2A/04 RESERVATIONS RELEASED."""
    a.register(KEY_A)
    b.register(KEY_B)
    c.register(0xC3)
    a.reserve(KEY_A, T.WRITE_EXCLUSIVE)
    b.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)
    assert [u.condition for u in drain_unit_attentions(a)] == [UA.REGISTRATIONS_PREEMPTED]
    assert [u.condition for u in drain_unit_attentions(c)] == [UA.RESERVATIONS_RELEASED]
    assert drain_unit_attentions(b) == []
    assert b.read_reservation().reservation == pr.Reservation(
        KEY_B, T.EXCLUSIVE_ACCESS, pr.Scope.LU
    )


def test_unregister_with_key_zero_as_clusters_do(a: pr.Device, b: pr.Device) -> None:
    """W06: REGISTER AND IGNORE with key 0 from B, then from A (the holder of
    an RO type): no registrations and no reservation remain."""
    a.register_and_ignore(KEY_A)
    a.reserve(KEY_A, T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    b.register_and_ignore(KEY_B)
    b.register_and_ignore(0)
    a.register_and_ignore(0)
    assert a.read_keys().keys == ()
    assert a.read_reservation().reservation is None


def test_preempt_of_all_registrants_reservation_with_key_zero(
    a: pr.Device, b: pr.Device, c: pr.Device
) -> None:
    """SPC-4 5.14.11.4.3: for an all-registrants type, PREEMPT with key 0
    removes every other registration and makes the caller the only holder."""
    for dev, key in ((a, KEY_A), (b, KEY_B), (c, 0xC3)):
        dev.register(key)
    a.reserve(KEY_A, T.WRITE_EXCLUSIVE_ALL_REGISTRANTS)
    b.preempt(KEY_B, 0, T.WRITE_EXCLUSIVE_ALL_REGISTRANTS)
    assert b.read_keys().keys == (KEY_B,)
    held = b.read_reservation().reservation
    assert held == pr.Reservation(0, T.WRITE_EXCLUSIVE_ALL_REGISTRANTS, pr.Scope.LU)
    for dev in (a, c):
        assert UA.REGISTRATIONS_PREEMPTED in [u.condition for u in drain_unit_attentions(dev)]
