"""PREEMPT AND ABORT (05h).  Over tcm_loop LIO deadlocks on it (the LUN reset
it triggers flushes the very work item running the command), so these tests
need the iSCSI fabric."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import pr_native as pr

from .conftest import KEY_A, KEY_B, drain_unit_attentions
from .scsi import access, read_block

T = pr.ReservationType
UA = pr.UnitAttentionCondition


@pytest.fixture(autouse=True)
def iscsi_only(fabric: str) -> None:
    if fabric != "iscsi":
        pytest.skip("PREEMPT AND ABORT self-deadlocks in LIO over tcm_loop; runs over iSCSI")


def test_preempt_and_abort_fences_the_holder(a: pr.Device, b: pr.Device, c: pr.Device) -> None:
    a.register(KEY_A)
    a.reserve(KEY_A, T.WRITE_EXCLUSIVE)
    b.register(KEY_B)
    g = b.read_keys().generation
    b.preempt_and_abort(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)
    assert c.read_keys() == pr.Registrations(g + 1, (KEY_B,))
    assert c.read_reservation().reservation == pr.Reservation(
        KEY_B, T.EXCLUSIVE_ACCESS, pr.Scope.LU
    )
    assert [u.condition for u in drain_unit_attentions(a)] == [UA.REGISTRATIONS_PREEMPTED]
    assert not access(a, "read")
    assert not access(c, "read")
    assert access(b, "read")


def test_preempt_and_abort_without_reservation(a: pr.Device, b: pr.Device) -> None:
    a.register(KEY_A)
    b.register(KEY_B)
    b.preempt_and_abort(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)
    assert b.read_keys().keys == (KEY_B,)
    assert [u.condition for u in drain_unit_attentions(a)] == [UA.REGISTRATIONS_PREEMPTED]


def test_commands_in_flight_are_aborted(
    a: pr.Device, b: pr.Device, lab_info: dict[str, object]
) -> None:
    """The victim's commands still running at the target end with TASK
    ABORTED (emulate_tas=1, LIO's default); pr_native raises TaskAborted."""
    if lab_info.get("backstore") != "nullb":
        pytest.skip("needs the lab's slow backstore (--backstore nullb:MS)")
    delay = int(Path("/sys/module/null_blk/parameters/completion_nsec").read_text()) / 1e6
    a.register(KEY_A)
    a.reserve(KEY_A, T.WRITE_EXCLUSIVE)
    b.register(KEY_B)
    outcome: list[BaseException | None] = []

    def victim_read() -> None:
        try:
            read_block(a)
        except BaseException as error:  # collected for the assertion below
            outcome.append(error)
        else:
            outcome.append(None)

    reader = threading.Thread(target=victim_read)
    reader.start()
    time.sleep(delay / 4000)  # the READ is now waiting in the backstore
    b.preempt_and_abort(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)
    reader.join(timeout=60)
    assert not reader.is_alive()
    (error,) = outcome
    assert isinstance(error, pr.TaskAborted), repr(error)
    assert error.status == pr.ScsiStatus.TASK_ABORTED
    assert b.read_keys().keys == (KEY_B,)
