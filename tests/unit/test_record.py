"""pr_native._record.Record: the tuple-based value type of every result."""

from __future__ import annotations

import pickle

import pytest

import pr_native as pr
from pr_native.results import Registrations, Reservation, ReservationStatus


def test_fields_constructor_and_repr() -> None:
    r = Registrations(generation=5, keys=(1, 2))
    assert (r.generation, r.keys) == (5, (1, 2))
    assert r == Registrations(5, (1, 2)) == Registrations._make(5, (1, 2))
    assert repr(r) == "Registrations(generation=5, keys=(0x1, 0x2))"
    assert Registrations._fields == ("generation", "keys")
    assert r._replace(generation=6) == Registrations(6, (1, 2))


def test_compared_by_class_and_value() -> None:
    assert Registrations(1, ()) != (1, ())
    assert Registrations(1, None) != ReservationStatus(1, None)  # type: ignore[arg-type]
    assert hash(Registrations(1, (2,))) == hash(Registrations(1, (2,)))
    assert len({Registrations(1, (2,)), Registrations(1, (2,))}) == 1


def test_immutable_and_picklable() -> None:
    held = ReservationStatus(3, Reservation(0xA1, pr.ReservationType.EXCLUSIVE_ACCESS, pr.Scope.LU))
    with pytest.raises(AttributeError):
        held.generation = 4  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(held)) == held


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1,), {}), ((1, (), 3), {}), ((), {"generation": 1, "keys": (), "extra": 0})],
)
def test_wrong_arguments(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    with pytest.raises(TypeError):
        Registrations(*args, **kwargs)  # type: ignore[arg-type]


def test_reprs_show_keys_in_hex_and_transport_ids_symbolically() -> None:
    """What a user prints matches what sg_persist prints."""
    assert repr(Registrations(7, (0xB2,))) == "Registrations(generation=7, keys=(0xb2,))"
    assert "key=0xa1" in repr(Reservation(0xA1, pr.ReservationType.EXCLUSIVE_ACCESS, pr.Scope.LU))
    sas = pr.SASTransportID(0x5001405000000001)
    assert repr(sas) == "TransportID.parse('sas,5001405000000001')"
    assert eval(repr(sas), {"TransportID": pr.TransportID}) == sas
    registrant = pr.Registrant(0xA1, False, False, None, None, 1, sas)
    assert "key=0xa1" in repr(registrant) and "sas,5001405000000001" in repr(registrant)
    assert repr(pr.RawTransportID(b"\x09")) == "RawTransportID(data=b'\\t')"
