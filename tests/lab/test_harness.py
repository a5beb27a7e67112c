"""The lab harness itself: a command that never ends is stopped, reported as
a timeout with its output kept, and leaves no QEMU behind."""

from __future__ import annotations

from pathlib import Path

from . import prlab


def _qemu_processes_for(out_dir: Path) -> list[Path]:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "qemu" in cmdline and str(out_dir) in cmdline:
            found.append(proc)
    return found


def test_watchdog_powers_off_a_hung_guest(tmp_path: Path) -> None:
    prlab.require_lab("loop")
    result = prlab.run(
        "echo sleeping; sleep 1000",
        prlab.LabConfig(timeout=25, out_dir=str(tmp_path)),
    )
    assert result.timed_out and result.returncode == 124
    assert result.duration < 35
    assert "sleeping" in result.output
    assert _qemu_processes_for(tmp_path) == []
