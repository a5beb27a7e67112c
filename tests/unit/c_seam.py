"""The Linux C core built into a test program with some of its system calls
replaced (``-Wl,--wrap=NAME``: the program defines ``__wrap_NAME``), for the
driver behaviour no real device can be made to show on cue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CSRC = HERE.parents[1] / "csrc"
LINUX = ["pr_linux.c", "pr_sg_queue.c", "pr_poll_linux.c", "pr_ops.c", "pr_cdb.c", "pr_decode.c"]

needs_linux_core = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux transport"),
    # A wheel's tests run without the source tree (pyproject.toml, cibuildwheel).
    pytest.mark.skipif(not (CSRC / "pr_linux.c").is_file(), reason="needs the checkout's csrc/"),
]


def compile_program(cc: str, binary: Path, *arguments: str) -> Path:
    """``cc ARGUMENTS -o BINARY`` (flags and sources); CalledProcessError on failure."""
    subprocess.run(
        [cc, *arguments, "-o", str(binary)], check=True, capture_output=True, timeout=120
    )
    return binary


def build(gcc: str, directory: Path, name: str, *wrapped: str) -> Path:
    """tests/unit/NAME.c linked with the core, the calls in ``wrapped`` replaced."""
    return compile_program(
        gcc,
        directory / name,
        "-std=c99",
        "-Wall",
        "-Werror",
        "-I",
        str(CSRC),
        str(HERE / f"{name}.c"),
        *(str(CSRC / source) for source in LINUX),
        str(CSRC / "pr_winbuf.c"),
        "-Wl," + ",".join(f"--wrap={call}" for call in wrapped),
    )
