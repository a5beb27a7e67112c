"""Every row of docs/bad-input.md against the real LU: the same error and
message as in the unit tests (tests/unit/test_bad_input.py), and nothing
reached the LU.  "Nothing" is counted by LIO itself: the LU's command
counter (statistics/scsi_lu/num_cmds) does not move during any row, and the
PR state another initiator reads at the end (generation, registrants,
reservation) is the one before the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from unit.test_bad_input import CASES, Case, outcome

import pr_native as pr

from .conftest import KEY_A, KEY_B, Initiator, reset_logical_unit


@pytest.fixture(scope="module")
def lu(initiators: list[Initiator], fabric: str) -> Iterator[pr.FullStatus]:
    """A registered and holding WRITE EXCLUSIVE REGISTRANTS ONLY, B registered
    (a state a PR OUT that got through would show in); checked unchanged at
    the end.  The rows do not depend on the fabric: the "loop" run has them."""
    if fabric != "loop":
        pytest.skip("run by the loop configuration")
    a, b = (pr.Device(i.sg, timeout=20.0) for i in initiators[:2])
    try:
        reset_logical_unit([a, b])
        a.register(KEY_A)
        b.register(KEY_B)
        a.reserve(KEY_A, pr.ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
        state = b.read_full_status()
        yield state
        assert b.read_full_status() == state
        reset_logical_unit([a, b])
    finally:
        a.close()
        b.close()


def commands_received(lu_dir: Path) -> int:
    return int((lu_dir / "statistics" / "scsi_lu" / "num_cmds").read_text())


def test_the_counter_counts(lu: pr.FullStatus, initiators: list[Initiator], lu_dir: Path) -> None:
    received = commands_received(lu_dir)
    with pr.Device(initiators[0].sg) as dev:
        assert dev.read_full_status() == lu
    assert commands_received(lu_dir) > received


@pytest.mark.parametrize("case", CASES, ids=[c.call for c in CASES])
def test_bad_input_reaches_nothing(
    lu: pr.FullStatus, initiators: list[Initiator], lu_dir: Path, tmp_path: Path, case: Case
) -> None:
    regular_file = tmp_path / "regular-file"
    regular_file.write_bytes(b"not a device\n")
    received = commands_received(lu_dir)
    assert outcome(case, initiators[0].sg, str(regular_file)) == (case.error, case.message)
    assert commands_received(lu_dir) == received, "a command reached the LU"
