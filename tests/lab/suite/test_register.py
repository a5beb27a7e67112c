"""REGISTER, REGISTER AND IGNORE EXISTING KEY, unregister (L05, P02, P03)
and the generation counter rules LIO follows (conformance 3.2)."""

from __future__ import annotations

import pytest

import pr_native as pr

from .conftest import KEY_A, KEY_B


def test_register_and_unregister(a: pr.Device) -> None:
    """L05: REGISTER(0, k) adds k; REGISTER(0, k') from a registered nexus
    conflicts; unregister removes k."""
    a.register(KEY_A)
    assert a.read_keys().keys == (KEY_A,)
    with pytest.raises(pr.ReservationConflict):
        a.register(KEY_A + 1)  # key=0 while registered: SPC-4 5.14.7
    assert a.read_keys().keys == (KEY_A,)
    a.unregister(KEY_A)
    assert a.read_keys().keys == ()


def test_register_with_the_wrong_current_key_conflicts(a: pr.Device, b: pr.Device) -> None:
    """P02: re-registering with a key that is not this nexus's conflicts."""
    a.register(KEY_A)
    b.register(KEY_B)
    with pytest.raises(pr.ReservationConflict):
        a.register(0x1, key=KEY_B)
    assert sorted(a.read_keys().keys) == [KEY_A, KEY_B]


def test_change_key_with_register(a: pr.Device) -> None:
    """P03: REGISTER(k, k') replaces the key; each change bumps the generation."""
    a.register(KEY_A)
    g = a.read_keys().generation
    a.register(0x1234, key=KEY_A)
    assert a.read_keys() == pr.Registrations(g + 1, (0x1234,))
    a.register(KEY_A, key=0x1234)
    assert a.read_keys() == pr.Registrations(g + 2, (KEY_A,))


def test_register_and_ignore_replaces_whatever_key(a: pr.Device) -> None:
    a.register(KEY_A)
    a.register_and_ignore(0x77)
    assert a.read_keys().keys == (0x77,)
    a.register_and_ignore(0)  # key 0 unregisters (what Windows clusters send)
    assert a.read_keys().keys == ()


def test_keys_as_bytes_and_the_largest_key(a: pr.Device) -> None:
    a.register(b"\xff" * 8)
    assert a.read_keys().keys == (2**64 - 1,)
    a.unregister(2**64 - 1)


def test_generation_counter(a: pr.Device, b: pr.Device) -> None:
    """Conformance 3.2: +1 per new registration, key change, CLEAR, PREEMPT;
    unchanged by unregister, RESERVE, RELEASE, PR IN and failed commands."""
    g0 = a.read_keys().generation
    a.register(KEY_A)
    b.register(KEY_B)
    assert a.read_keys().generation == g0 + 2
    a.reserve(KEY_A, pr.ReservationType.WRITE_EXCLUSIVE)
    a.release(KEY_A, pr.ReservationType.WRITE_EXCLUSIVE)
    a.read_full_status()
    with pytest.raises(pr.ReservationConflict):
        a.register(0x99)  # fails: a is registered
    assert a.read_keys().generation == g0 + 2
    b.unregister(KEY_B)
    assert a.read_keys().generation == g0 + 2  # LIO: unregister does not count
    b.register(KEY_B)
    a.preempt(KEY_A, KEY_B, pr.ReservationType.WRITE_EXCLUSIVE)
    assert a.read_keys().generation == g0 + 4
    a.clear(KEY_A)
    assert a.read_keys() == pr.Registrations(g0 + 5, ())
