"""pr_native against sg_persist on the same device: decoded state after a
varied sequence of operations, and exit codes of failing commands."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import pr_native as pr

from . import sg_persist
from .conftest import KEY_A, KEY_B, Initiator, drain_unit_attentions

T = pr.ReservationType


def assert_same_state(dev: pr.Device) -> None:
    assert dev.read_keys() == sg_persist.read_keys(dev.path)
    assert dev.read_reservation() == sg_persist.read_reservation(dev.path)
    assert dev.report_capabilities() == sg_persist.report_capabilities(dev.path)
    assert sg_persist.describe(dev.read_full_status()) == sg_persist.read_full_status(dev.path)


def test_state_after_a_sequence(a: pr.Device, b: pr.Device, c: pr.Device) -> None:
    assert_same_state(c)
    a.register(KEY_A)
    b.register_and_ignore(KEY_B, all_target_ports=True)
    assert_same_state(c)
    a.reserve(KEY_A, T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    assert_same_state(a)
    b.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)
    assert_same_state(b)
    assert [u.condition for u in drain_unit_attentions(a)] == [
        pr.UnitAttentionCondition.REGISTRATIONS_PREEMPTED
    ]
    a.register(0x1122334455667788)
    a.register(0xFFFFFFFFFFFFFFFE, key=0x1122334455667788, aptpl=True)
    assert_same_state(c)
    b.release(KEY_B, T.EXCLUSIVE_ACCESS)
    b.reserve(KEY_B, T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS)
    assert_same_state(c)
    b.register(0, key=KEY_B, all_target_ports=True)  # LIO insists on the bit, see test_full_status
    assert_same_state(c)


Step = Callable[[pr.Device], None]


def _our_outcome(step: Step, dev: pr.Device) -> Exception | None:
    try:
        step(dev)
    except pr.PRError as error:
        return error
    return None


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda d: d.reserve(KEY_A, T.EXCLUSIVE_ACCESS), ["-o", "-R", "-K", "0xa1", "-T", "3"]),
        (lambda d: d.register(KEY_A, key=0x77), ["-o", "-G", "-K", "0x77", "-S", "0xa1"]),
        (lambda d: d.clear(KEY_A), ["-o", "-C", "-K", "0xa1"]),
        (lambda d: d.release(KEY_B, T.WRITE_EXCLUSIVE), ["-o", "-L", "-K", "0xb2", "-T", "1"]),
        (
            lambda d: d.replace_lost_reservation(KEY_B, T.WRITE_EXCLUSIVE),
            ["-o", "-z", "-K", "0xb2", "-T", "1"],
        ),
    ],
    ids=[
        "reserve-unregistered",
        "register-wrong-key",
        "clear-unregistered",
        "release-wrong-type",
        "replace-lost",
    ],
)
def test_failing_commands_give_the_same_verdict(
    b: pr.Device, c: pr.Device, initiators: list[Initiator], ours: Step, theirs: list[str]
) -> None:
    """The same failing command from the same initiator (C: unregistered, or B
    holding an EXCLUSIVE ACCESS reservation) fails the same way."""
    b.register(KEY_B)
    b.reserve(KEY_B, T.EXCLUSIVE_ACCESS)
    target = b if "0xb2" in theirs else c
    error = _our_outcome(ours, target)
    assert error is not None
    done = sg_persist.run(*theirs, target.path)
    assert done.returncode == sg_persist.expected_exit_code(error), (done.stdout, done.stderr)


def _read_keys(dev: pr.Device) -> None:
    dev.read_keys()


def test_unit_attention_verdict(a: pr.Device, b: pr.Device, c: pr.Device) -> None:
    """A pending UA: pr_native raises UnitAttention, sg_persist exits 6 — each
    consumes one UA, so both initiators are preempted the same way."""
    a.register(KEY_A)
    c.register(0xC3)
    b.register(KEY_B)
    b.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)
    b.preempt(KEY_B, 0xC3, T.EXCLUSIVE_ACCESS)
    error = _our_outcome(_read_keys, a)
    assert isinstance(error, pr.UnitAttention)
    assert sg_persist.run("-i", "-k", c.path).returncode == sg_persist.expected_exit_code(error)
