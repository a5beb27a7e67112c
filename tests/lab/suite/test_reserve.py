"""RESERVE, RELEASE, CLEAR and the access each reservation type grants
(conformance L06-L19, P04-P08)."""

from __future__ import annotations

import pytest

import pr_native as pr

from .conftest import KEY_A, KEY_B, drain_unit_attentions
from .scsi import access

T = pr.ReservationType
ALL_TYPES = sorted(pr.constants.SENDABLE_TYPES)

# L07-L12: (registered read, registered write, unregistered read, unregistered write)
# for an initiator that does not hold the reservation.
ACCESS = {
    T.EXCLUSIVE_ACCESS: (False, False, False, False),
    T.WRITE_EXCLUSIVE: (True, False, True, False),
    T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: (True, True, False, False),
    T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY: (True, True, True, False),
    T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS: (True, True, False, False),
    T.WRITE_EXCLUSIVE_ALL_REGISTRANTS: (True, True, True, False),
}


@pytest.mark.parametrize("kind", ALL_TYPES, ids=lambda t: t.name)
def test_reserve_read_release(a: pr.Device, b: pr.Device, c: pr.Device, kind: T) -> None:
    """L06, P04: everyone reads the same reservation; key 0 for all-registrants."""
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, kind)
    expected = pr.Reservation(0 if kind.all_registrants else KEY_A, kind, pr.Scope.LU)
    for dev in (a, b, c):
        assert dev.read_reservation().reservation == expected
    a.release(KEY_A, kind)
    assert a.read_reservation().reservation is None


@pytest.mark.parametrize("kind", ALL_TYPES, ids=lambda t: t.name)
def test_access_matrix(a: pr.Device, b: pr.Device, c: pr.Device, kind: T) -> None:
    """L07-L12, P08: the holder reads and writes; B (registered, then not) and
    C (never registered) get what the type allows, RESERVATION CONFLICT else."""
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, kind)
    assert access(a, "read") and access(a, "write")
    reg_read, reg_write, unreg_read, unreg_write = ACCESS[kind]
    assert (access(b, "read"), access(b, "write")) == (reg_read, reg_write)
    assert (access(c, "read"), access(c, "write")) == (unreg_read, unreg_write)
    if kind.all_registrants:
        b.release(KEY_B, kind)  # any registrant of an AR type may release it
        conditions = [ua.condition for ua in drain_unit_attentions(a)]
        assert conditions == [pr.UnitAttentionCondition.RESERVATIONS_RELEASED]
        assert a.read_reservation().reservation is None
        return
    b.unregister(KEY_B)
    assert (access(b, "read"), access(b, "write")) == (unreg_read, unreg_write)
    assert drain_unit_attentions(b) == []  # B was no holder: no UA on its unregister
    a.release(KEY_A, kind)


@pytest.mark.parametrize("kind", ALL_TYPES, ids=lambda t: t.name)
def test_holder_unregisters(a: pr.Device, b: pr.Device, kind: T) -> None:
    """L13-L18, P07: what happens to the reservation when its holder leaves."""
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, kind)
    a.unregister(KEY_A)
    held = a.read_reservation().reservation
    if kind.all_registrants:
        # AR: the reservation stays with the remaining registrants (key 0) ...
        assert held == pr.Reservation(0, kind, pr.Scope.LU)
        assert drain_unit_attentions(b) == []
        b.unregister(KEY_B)  # ... until the last one leaves (no one left to notify)
        assert a.read_reservation().reservation is None
        return
    assert held is None
    conditions = [ua.condition for ua in drain_unit_attentions(b)]
    if kind in (T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY):
        assert conditions == [pr.UnitAttentionCondition.RESERVATIONS_RELEASED]
    else:
        assert conditions == []


@pytest.mark.parametrize("kind", [T.WRITE_EXCLUSIVE, T.EXCLUSIVE_ACCESS])
def test_release_by_a_non_holder_does_nothing(a: pr.Device, b: pr.Device, kind: T) -> None:
    """P05: RELEASE from a registrant that does not hold the reservation is GOOD
    and changes nothing (SPC-4 5.14.11.2)."""
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, kind)
    b.release(KEY_B, kind)
    assert a.read_reservation().reservation == pr.Reservation(KEY_A, kind, pr.Scope.LU)


@pytest.mark.parametrize(
    "kind", [T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, T.WRITE_EXCLUSIVE_ALL_REGISTRANTS]
)
def test_release_notifies_other_registrants(a: pr.Device, b: pr.Device, kind: T) -> None:
    """P06 / conformance 3.3: releasing an RO or AR reservation gives the other
    registrants UNIT ATTENTION 2A/04 RESERVATIONS RELEASED; the caller gets none."""
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, kind)
    a.release(KEY_A, kind)
    with pytest.raises(pr.UnitAttention) as info:
        b.read_keys()
    assert info.value.condition is pr.UnitAttentionCondition.RESERVATIONS_RELEASED
    assert drain_unit_attentions(a) == []


def test_release_with_the_wrong_type(a: pr.Device) -> None:
    """SPC-4 5.14.11.2 asks for 05/26/04 INVALID RELEASE OF PERSISTENT
    RESERVATION; LIO answers RESERVATION CONFLICT instead
    (core_scsi3_emulate_pro_release).  The reservation stays."""
    a.register(KEY_A)
    a.reserve(KEY_A, T.EXCLUSIVE_ACCESS)
    with pytest.raises(pr.ReservationConflict):
        a.release(KEY_A, T.WRITE_EXCLUSIVE)
    assert a.read_reservation().reservation == pr.Reservation(
        KEY_A, T.EXCLUSIVE_ACCESS, pr.Scope.LU
    )


def test_reserve_conflicts(a: pr.Device, b: pr.Device, c: pr.Device) -> None:
    """A second registrant cannot take a held reservation, nor the holder
    change its type; the holder may re-reserve the same type.

    An unregistered nexus gets RESERVATION CONFLICT from SPC-4 5.14.10, but
    while no reservation is held LIO answers CHECK CONDITION 02/08/00 LOGICAL
    UNIT COMMUNICATION FAILURE ("Unable to locate PR_REGISTERED *pr_reg for
    RESERVE" in core_scsi3_pro_reserve).  NOT READY can also follow a PR OUT
    that took effect (LIO's APTPL write failure), so pr_native reports it as
    OutcomeUnknown, with the NOT READY as its cause; the state shows nothing
    changed."""
    generation = c.read_keys().generation
    with pytest.raises(pr.OutcomeUnknown) as info:
        c.reserve(KEY_A, T.EXCLUSIVE_ACCESS)
    cause = info.value.__cause__
    assert isinstance(cause, pr.NotReady) and cause.sense is not None
    assert (cause.sense.asc, cause.sense.ascq) == (0x08, 0x00)
    assert c.read_reservation().reservation is None
    assert c.read_keys().generation == generation
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, T.EXCLUSIVE_ACCESS)
    a.reserve(KEY_A, T.EXCLUSIVE_ACCESS)
    with pytest.raises(pr.ReservationConflict):
        b.reserve(KEY_B, T.EXCLUSIVE_ACCESS)
    with pytest.raises(pr.ReservationConflict):
        a.reserve(KEY_A, T.WRITE_EXCLUSIVE)  # a different type from the holder
    with pytest.raises(pr.ReservationConflict):
        c.reserve(KEY_A, T.EXCLUSIVE_ACCESS)  # now the access check answers first


def test_clear(a: pr.Device, b: pr.Device) -> None:
    """L19, conformance 3.3: CLEAR drops the reservation and all keys, bumps the
    generation once, and gives every other registrant 2A/03."""
    a.register(KEY_A)
    b.register(KEY_B)
    g = a.read_keys().generation
    a.reserve(KEY_A, T.EXCLUSIVE_ACCESS)
    a.clear(KEY_A)
    assert a.read_reservation() == pr.ReservationStatus(g + 1, None)
    assert a.read_keys() == pr.Registrations(g + 1, ())
    conditions = [ua.condition for ua in drain_unit_attentions(b)]
    assert conditions == [pr.UnitAttentionCondition.RESERVATIONS_PREEMPTED]
    assert drain_unit_attentions(a) == []
