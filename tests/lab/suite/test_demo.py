"""The README's demo (examples/fencing_demo.py) against the real target."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pr_native as pr

DEMO = Path(__file__).resolve().parents[3] / "examples" / "fencing_demo.py"


def test_fencing_demo(a: pr.Device, b: pr.Device) -> None:
    done = subprocess.run(
        [sys.executable, str(DEMO), a.path, b.path],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "A gets UNIT ATTENTION REGISTRATIONS_PREEMPTED" in out
    assert "RESERVATION CONFLICT, A is fenced" in out
    assert "HOLDER of WRITE_EXCLUSIVE_REGISTRANTS_ONLY" in out
    assert a.read_keys().keys == ()  # the demo leaves the LU as it found it
