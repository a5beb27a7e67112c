"""The C core compiles warning-free, and its decoders never read out of bounds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from .c_seam import compile_program

ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "csrc"
HERE = Path(__file__).resolve().parent
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wconversion", "-Wshadow"]
# Everything but the Windows transport, which needs <windows.h>.
SOURCES = sorted(p.name for p in CSRC.glob("*.c") if p.name != "pr_windows.c")


def test_sources_found() -> None:
    assert {"pr_cdb.c", "pr_decode.c", "pr_linux.c", "pr_ops.c"} <= set(SOURCES)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_compiles_without_warnings(
    need_tool: Callable[[str], str], tmp_path: Path, compiler: str, source: str
) -> None:
    if source in ("pr_linux.c", "pr_poll_linux.c", "pr_sg_queue.c") and not sys.platform.startswith(
        "linux"
    ):
        pytest.skip("Linux transport")
    cc = need_tool(compiler)
    done = subprocess.run(
        [cc, *WARNINGS, "-I", str(CSRC), "-c", str(CSRC / source), "-o", str(tmp_path / "x.o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def build_fuzzer(cc: str, tmp_path: Path, *defines: str) -> Path:
    return compile_program(
        cc,
        tmp_path / "fuzz_decode",
        "-std=c99",
        "-g",
        "-O1",
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all",
        "-fno-omit-frame-pointer",
        *defines,
        "-I",
        str(CSRC),
        str(HERE / "fuzz_decode.c"),
        str(CSRC / "pr_decode.c"),
    )


def run_fuzzer(binary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0"}
    return subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sanitizers used on Linux")
def test_decoders_stay_in_bounds(need_tool: Callable[[str], str], tmp_path: Path) -> None:
    binary = build_fuzzer(need_tool("gcc"), tmp_path)
    for seed in ("1", "0xdecafbad", "20240601"):
        done = run_fuzzer(binary, "30000", seed)
        assert done.returncode == 0, done.stderr[-4000:]
        assert "30000 buffers decoded" in done.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sanitizers used on Linux")
def test_fuzzer_catches_an_overread(need_tool: Callable[[str], str], tmp_path: Path) -> None:
    binary = build_fuzzer(need_tool("gcc"), tmp_path, "-DFUZZ_SELF_TEST")
    done = run_fuzzer(binary, "0")
    assert done.returncode != 0
    assert "heap-buffer-overflow" in done.stderr
