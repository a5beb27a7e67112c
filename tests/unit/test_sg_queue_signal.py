"""A data-in command whose wait a signal ended, issued again (Device's PR IN
loop, identify(), a polling round's re-issue): the answer that came back
meanwhile is the re-issue's, unit attention included, and nothing is written
twice (SPC-4 5.14: the target clears a unit attention once it reports it, so
a second command would come back GOOD and the attention would be lost).  The
C core is linked with the sg driver's write/read/poll replaced
(sg_queue_signal.c)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from pr_native._native import lib

HERE = Path(__file__).resolve().parent
CSRC = HERE.parents[1] / "csrc"
LINUX = ["pr_linux.c", "pr_sg_queue.c", "pr_poll_linux.c", "pr_ops.c", "pr_cdb.c", "pr_decode.c"]
CHECK_CONDITION, UNIT_ATTENTION = 0x02, 0x06

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux transport"),
    # A wheel's tests run without the source tree (pyproject.toml, cibuildwheel).
    pytest.mark.skipif(not (CSRC / "pr_linux.c").is_file(), reason="needs the checkout's csrc/"),
]


@pytest.fixture
def driver(need_tool: Callable[[str], str], tmp_path: Path) -> Path:
    binary = tmp_path / "sg_queue_signal"
    subprocess.run(
        [
            need_tool("gcc"),
            "-std=c99",
            "-Wall",
            "-Werror",
            "-I",
            str(CSRC),
            str(HERE / "sg_queue_signal.c"),
            *(str(CSRC / name) for name in LINUX),
            str(CSRC / "pr_winbuf.c"),
            "-Wl,--wrap=write,--wrap=read,--wrap=poll",
            "-o",
            str(binary),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return binary


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
