"""The libFuzzer targets of tests/fuzz: one for every C decoder and builder,
each with seeds, and a bounded run of all of them finds nothing.

The run is scripts/fuzz with about a minute in total (``--seconds`` per
target, two at a time); scripts/fuzz --seconds 3600 is the long run.  It
skips where clang cannot build a fuzzer, except under CI=true, where
scripts/setup-env has installed clang's runtime and a skip would hide a gap.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUZZ = ROOT / "tests" / "fuzz"
HEADER = ROOT / "csrc" / "pr_native.h"
TOTAL_SECONDS = 60
JOBS = min(2, os.cpu_count() or 1)

if not (FUZZ / "fuzz.h").is_file() or not HEADER.is_file():
    pytest.skip(
        "the tests were copied without the source tree (testing an installed wheel)",
        allow_module_level=True,
    )

TARGETS = sorted(p.stem.removeprefix("fuzz_") for p in FUZZ.glob("fuzz_*.c"))


def _pure_functions() -> set[str]:
    """Every decoder and builder the header declares (pr_cdb.c, pr_decode.c)."""
    text = HEADER.read_text(encoding="utf-8")
    return set(re.findall(r"^int (pr_(?:decode|build)_\w+|pr_out_parameters_length)\(", text, re.M))


def test_every_decoder_and_builder_has_a_target() -> None:
    called: set[str] = set()
    for source in FUZZ.glob("fuzz_*.c"):
        called |= set(re.findall(r"\b(pr_\w+)\(", source.read_text(encoding="utf-8")))
    functions = _pure_functions()
    assert len(functions) >= 10
    assert functions - called == set(), "C decoders or builders no fuzz target calls"


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_has_seeds(target: str) -> None:
    seeds = sorted((FUZZ / "corpus" / target).glob("*"))
    assert seeds, f"tests/fuzz/corpus/{target} is empty"
    assert all(s.stat().st_size <= 4096 for s in seeds), "seeds are kept small"


def test_fuzzing_finds_nothing(need_tool: Callable[[str], str], tmp_path: Path) -> None:
    need_tool("clang")
    rounds = -(-len(TARGETS) // JOBS)
    # libFuzzer checks its clock once a second: a run takes about one more.
    seconds = max(1, TOTAL_SECONDS // rounds - 1)
    command = ["bash", str(ROOT / "scripts" / "fuzz"), "--seconds", str(seconds)]
    done = subprocess.run(
        [*command, "--jobs", str(JOBS), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=TOTAL_SECONDS * 3 + 120,
        cwd=ROOT,
    )
    if done.returncode == 3:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but clang cannot build a fuzzer:\n{done.stderr}")
        pytest.skip(f"clang cannot build a libFuzzer target here: {done.stderr.splitlines()[0]}")
    assert done.returncode == 0, done.stdout + done.stderr[-6000:]
    for target in TARGETS:
        assert f"  {target}: ok" in done.stdout
