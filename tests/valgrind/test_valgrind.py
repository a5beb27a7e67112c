"""valgrind's memcheck finds nothing in the C core: every function of it, run
by driver.c against the lab's LU (through /dev/sgN, read-write and read-only,
and /dev/sdX), with no invalid read or write, no use of an uninitialised
byte and no leak.

By hand, in the lab:
    python tests/lab/prlab.py run -- python -m pytest tests/valgrind -v
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "csrc"
SOURCES = (
    "pr_cdb.c",
    "pr_decode.c",
    "pr_winbuf.c",
    "pr_ops.c",
    "pr_layout.c",
    "pr_linux.c",
    "pr_sg_queue.c",
    "pr_poll_linux.c",
)
MEMCHECK = [
    "--error-exitcode=99",
    "--leak-check=full",
    "--errors-for-leak-kinds=definite,indirect",
    "--track-fds=no",
]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (scripts/setup-env installs it)")
    return path


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    binary = tmp_path_factory.mktemp("valgrind") / "driver"
    subprocess.run(
        [
            tool("gcc"),
            "-std=c99",
            "-g",
            "-O0",
            "-Wall",
            "-Wextra",
            "-Werror",
            # driver.c tells memcheck what the sg driver's read() writes
            "-Wl,--wrap=read",
            '-DPR_NATIVE_VERSION="valgrind"',
            "-I",
            str(CSRC),
            str(Path(__file__).with_name("driver.c")),
            *(str(CSRC / s) for s in SOURCES),
            "-o",
            str(binary),
        ],
        check=True,
        timeout=300,
    )
    return binary


def test_memcheck_finds_nothing(driver: Path) -> None:
    devices = [os.environ["A_SG"], os.environ["B_SG"], os.environ["A_SD"]]
    done = subprocess.run(
        [tool("valgrind"), "-q", *MEMCHECK, str(driver), *devices],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "driver: 0 failures" in done.stdout
    # -q: memcheck prints nothing unless it found something.
    assert "==" not in done.stderr, done.stderr


def test_driver_fails_without_the_device(driver: Path) -> None:
    # The positive control: the driver does report a failure.
    done = subprocess.run(
        [str(driver), "/nonexistent/a", "/nonexistent/b"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
