"""Error paths against the real target: PR disabled on the LU, arguments
rejected before any I/O, and the /dev/sdX path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import pr_native as pr

from .conftest import KEY_A, KEY_B, Initiator

T = pr.ReservationType


@pytest.fixture
def pr_disabled(lu_dir: Path, a: pr.Device) -> Iterator[None]:
    """attrib/emulate_pr=0: LIO then treats PR commands as unknown opcodes."""
    switch = lu_dir / "attrib" / "emulate_pr"
    switch.write_text("0\n")
    try:
        yield
    finally:
        switch.write_text("1\n")


def test_pr_disabled_on_the_lu(a: pr.Device, pr_disabled: None) -> None:
    for call in (a.read_keys, lambda: a.register(KEY_A)):
        with pytest.raises(pr.IllegalRequest) as info:
            call()
        assert info.value.sense is not None
        assert (info.value.sense.asc, info.value.sense.ascq) == (0x20, 0x00)
        assert "INVALID COMMAND OPERATION CODE" in str(info.value)


BAD_CALLS: list[tuple[str, Callable[[pr.Device], None], type[Exception]]] = [
    ("key", lambda d: d.register(-1), ValueError),
    ("new_key", lambda d: d.register(2**64), ValueError),
    ("new_key", lambda d: d.register(1.5), TypeError),  # type: ignore[arg-type]
    ("key", lambda d: d.reserve(b"\x01" * 7, T.EXCLUSIVE_ACCESS), ValueError),
    ("type", lambda d: d.reserve(KEY_A, 2), ValueError),  # type: ignore[arg-type]
    ("type", lambda d: d.preempt(KEY_B, KEY_A, 0), ValueError),  # type: ignore[arg-type]
    ("aptpl", lambda d: d.register(KEY_A, aptpl=1), TypeError),  # type: ignore[arg-type]
    ("transport_ids", lambda d: d.register(KEY_A, transport_ids="sas,1"), TypeError),  # type: ignore[arg-type]
    ("new_key", lambda d: d.register_and_move(KEY_A, 0, 1, pr.SASTransportID(1)), ValueError),
    (
        "relative_target_port",
        lambda d: d.register_and_move(KEY_A, KEY_B, 70000, pr.SASTransportID(1)),
        ValueError,
    ),
    ("timeout", lambda d: d.clear(KEY_A, timeout=0), ValueError),
]


@pytest.mark.parametrize(("argument", "call", "error"), BAD_CALLS)
def test_bad_arguments_send_nothing(
    a: pr.Device, argument: str, call: Callable[[pr.Device], None], error: type[Exception]
) -> None:
    """The checks run before any I/O: the PR state, generation included, is
    untouched after each rejected call."""
    a.register(KEY_A)
    a.reserve(KEY_A, T.EXCLUSIVE_ACCESS)
    before = a.read_full_status()
    with pytest.raises(error, match=argument):
        call(a)
    assert a.read_full_status() == before


def test_per_call_timeout_is_accepted(a: pr.Device) -> None:
    a.register(KEY_A, timeout=5)
    assert a.read_keys(timeout=0.5).keys == (KEY_A,)
    assert a.timeout == 20.0


def test_block_device_path(a: pr.Device, initiators: list[Initiator]) -> None:
    """/dev/sdX works for root (CAP_SYS_RAWIO); a read-only Device refuses
    PR OUT before any I/O, whatever the kernel would allow."""
    a.register(KEY_A)
    with pr.Device(initiators[0].sd, read_only=True) as sd:
        assert sd.read_keys().keys == (KEY_A,)
        generation = sd.read_keys().generation
        with pytest.raises(ValueError, match="read_only=True; nothing was sent"):
            sd.reserve(KEY_A, T.WRITE_EXCLUSIVE)
        assert sd.read_reservation().reservation is None
        assert sd.read_keys().generation == generation
    with pr.Device(initiators[0].sd) as sd:
        sd.reserve(KEY_A, T.WRITE_EXCLUSIVE)
    assert a.read_reservation().reservation == pr.Reservation(KEY_A, T.WRITE_EXCLUSIVE, pr.Scope.LU)


def test_not_a_scsi_device() -> None:
    with pytest.raises(OSError, match="not a SCSI device"):
        pr.Device("/dev/null")
    with pytest.raises(FileNotFoundError):
        pr.Device("/dev/sg999")
