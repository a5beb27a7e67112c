"""A data-in command whose wait a signal ended, issued again (Device's PR IN
loop, identify(), a polling round's re-issue): the answer that came back
meanwhile is the re-issue's, unit attention included, and nothing is written
twice (SPC-4 5.14: the target clears a unit attention once it reports it, so
a second command would come back GOOD and the attention would be lost).  The
C core is linked with the sg driver's write/read/poll replaced
(sg_queue_signal.c; sg_queue_takeover.c also replaces the clock): and which
earlier request may answer for a later command at all."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable

import pytest

from pr_native._native import lib

from .c_seam import build, needs_linux_core

CHECK_CONDITION, UNIT_ATTENTION = 0x02, 0x06

pytestmark = needs_linux_core


@pytest.fixture
def driver(need_tool: Callable[[str], str], tmp_path: Path) -> Path:
    return build(need_tool("gcc"), tmp_path, "sg_queue_signal", "write", "read", "poll")


@pytest.fixture
def takeover(need_tool: Callable[[str], str], tmp_path: Path) -> Path:
    calls = ("write", "read", "poll", "clock_gettime")
    return build(need_tool("gcc"), tmp_path, "sg_queue_takeover", *calls)


def run(driver: Path, mode: str) -> list[int]:
    done = subprocess.run(
        [str(driver), mode], capture_output=True, text=True, timeout=30, check=True
    )
    return [int(v) for v in done.stdout.split()]


@pytest.mark.parametrize("mode", ["execute", "batch"])
def test_the_reissue_gets_the_answer_that_came_back_meanwhile(driver: Path, mode: str) -> None:
    rc, status, key, asc, ascq, writes = run(driver, mode)
    assert (rc, status, key) == (lib.PR_ERR_STATUS, CHECK_CONDITION, UNIT_ATTENTION)
    assert (asc, ascq) == (0x2A, 0x05)  # REGISTRATIONS PREEMPTED
    assert writes == 1


def test_another_command_after_the_signal_is_a_command_of_its_own(driver: Path) -> None:
    rc, status, _, _, _, writes = run(driver, "other")
    assert (rc, status, writes) == (0, 0, 2)


def test_reads_that_time_out_never_fill_the_request_slots(takeover: Path) -> None:
    """17 READ KEYS timing out on a target that never answers take over the
    one request still in flight: the PR OUT after them finds a slot and is
    written (and times out too: OutcomeUnknown in Python)."""
    writes, slots, rc = run(takeover, "pileup")
    assert (writes, slots, rc) == (2, 2, lib.PR_ERR_TIMEOUT)


@pytest.mark.parametrize("mode", ["late", "round"])
def test_an_answer_nobody_reissued_for_answers_no_later_command(takeover: Path, mode: str) -> None:
    """A signal's handler raised instead of re-issuing: the answer that came
    back is no later command's, an hour later (written again, left waiting
    for its own answer until its deadline)."""
    writes, _, rc = run(takeover, mode)
    assert (writes, rc) == (2, lib.PR_ERR_TIMEOUT)
