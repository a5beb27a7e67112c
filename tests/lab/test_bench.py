"""benchmarks/percall.py end to end in the lab, on its --quick setting: every
method yields a number for every query and key count, and the result files
are written.  Timings are the benchmark's to report, never asserted here.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from . import prlab

PERCALL = prlab.PROJECT_ROOT / "benchmarks" / "percall.py"
EVERY_METHOD = {"c_floor", "pr_native", "cython_sgio", "ctypes", "sg_persist"}
# The layers of a pr_native call, measured where the peers are, and their reference.
STAGES = {"c_core", "cffi_call", "cffi_locked"}
REFERENCES = {"sgio_call"}
# The Python peers decode READ KEYS and READ RESERVATION only.
METHODS = {
    "read_keys": EVERY_METHOD | STAGES | REFERENCES,
    "read_reservation": EVERY_METHOD | STAGES | REFERENCES,
    "read_full_status": EVERY_METHOD - {"cython_sgio", "ctypes"},
    "report_capabilities": EVERY_METHOD - {"cython_sgio", "ctypes"},
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def test_percall_benchmark_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("sgio") is None:
        why = "cython-sgio is not installed (pip install cython-sgio; scripts/setup-env does)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    if shutil.which("gcc") is None:
        pytest.skip("no gcc to build the benchmark's C floor")
    prlab.require_lab("loop")
    command = [sys.executable, str(PERCALL), "--lab", "--quick", f"--out={tmp_path}"]
    with capsys.disabled():
        print(f"\n--- {' '.join(command[1:])}")
        done = subprocess.run(command, timeout=600)
    assert done.returncode == 0

    data = json.loads((tmp_path / "percall.json").read_text())
    rows = {(r["keys"], r["query"], r["method"]): r for r in data["per_call"]}
    assert {keys for keys, _, _ in rows} == set(data["settings"]["keys"])
    for keys in data["settings"]["keys"]:
        for query, methods in METHODS.items():
            assert {m for k, q, m in rows if (k, q) == (keys, query)} == methods
    for row in rows.values():
        assert all(_is_number(row[f]) for f in ("median_us", "min_us", "ratio_to_floor"))
        assert len(row["samples_us"]) == data["settings"]["rounds"]
    for phase in ("read_keys", "open_close"):
        delta = data["memory"][phase]["delta"]
        assert _is_number(delta["rss_kib"]) and _is_number(delta["fds"])
    assert len(data["startup"]) == 4
    assert all(_is_number(row["median_ms"]) for row in data["startup"])

    table = (tmp_path / "percall.md").read_text()
    assert "| pr_native Device |" in table and "READ RESERVATION" in table
    assert "| + the Device's lock |" in table
    assert table.count("For reference, cython-sgio's sgio.execute() alone") == len(
        data["settings"]["keys"]
    )
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "percall.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


POLL = prlab.PROJECT_ROOT / "benchmarks" / "poll.py"
POLL_METHODS = {"C async floor", "Poller", "one by one", "sg_persist"}


def test_poll_benchmark_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("no gcc to build the benchmark's C floor")
    prlab.require_lab("loop")
    command = [
        sys.executable,
        str(POLL),
        "--lab",
        "--fabric=loop",
        "--initiators=3",
        "--sizes=1,3",
        "--rounds=2",
        "--batch=2",
        "--forks=1",
        f"--out={tmp_path}",
    ]
    with capsys.disabled():
        print(f"\n--- {' '.join(command[1:])}")
        done = subprocess.run(command, timeout=600)
    assert done.returncode == 0

    data = json.loads((tmp_path / "poll.json").read_text())
    assert data["sizes"] == ["1", "3"]
    for size in data["sizes"]:
        rows = data["results"][size]
        assert set(rows) == POLL_METHODS
        for name, row in rows.items():
            assert row["rounds"] == (1 if name == "sg_persist" else 2)  # batches
            assert all(_is_number(row[f]) for f in ("median_ms", "min_ms", "ratio"))
    assert (tmp_path / "poll.md").read_text().startswith("# READ KEYS over many LUN paths")
