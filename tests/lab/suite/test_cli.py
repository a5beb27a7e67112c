"""pr-native against LIO: what the command line sends and reports, and
``pr-native sg-persist`` against sg_persist on the same device (the same
stdout and the same exit status for the same command sequence)."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from typing import Any

import pytest

import pr_native as pr
from pr_native import cli
from pr_native.exit_codes import exit_code

from . import sg_persist
from .conftest import KEY_A, KEY_B, drain_unit_attentions

T = pr.ReservationType


def ours(*argv: str) -> tuple[int, str, str]:
    """pr-native in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def ours_json(*argv: str) -> tuple[int, dict[str, Any]]:
    code, out, err = ours(*argv, "--json")
    doc: dict[str, Any] = json.loads(out)
    assert doc["exit_code"] == code, err
    return code, doc


def test_pr_in_json_matches_the_library(a: pr.Device, b: pr.Device) -> None:
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    code, doc = ours_json("read-keys", b.path)
    keys = b.read_keys()
    assert code == 0 and doc["result"]["generation"] == keys.generation
    assert doc["result"]["keys"] == [f"0x{k:016x}" for k in keys.keys]
    code, doc = ours_json("read-reservation", b.path, "--hex")
    assert doc["result"]["reservation"]["key"] == f"0x{KEY_A:016x}"
    assert doc["result"]["reservation"]["type_code"] == 5
    raw = bytes.fromhex(doc["result"]["raw"])
    assert pr.cdb.decode_read_reservation(raw) == b.read_reservation()
    code, doc = ours_json("read-full-status", b.path)
    assert [r["holder"] for r in doc["result"]["registrants"]] == [
        r.holder for r in b.read_full_status().registrants
    ]
    code, doc = ours_json("report-capabilities", b.path, "--read-only")
    assert code == 0 and doc["result"]["type_mask_valid"] is True


def test_pr_in_json_carries_the_lu_name_identify_gives(a: pr.Device, b: pr.Device) -> None:
    """Every PR IN's --json names the logical unit as identify() does, the
    same through every initiator."""
    name = b.identify().lu_name
    assert name is not None and a.identify().lu_name == name
    for command in ("read-keys", "read-reservation", "read-full-status", "report-capabilities"):
        for path in (a.path, b.path):
            code, doc = ours_json(command, path)
            assert (code, doc["lu_name"]) == (0, name), (command, path, doc)


def test_pr_out_through_the_command_line(a: pr.Device, b: pr.Device, c: pr.Device) -> None:
    assert ours("register", a.path, "--new-key", hex(KEY_A))[0] == 0
    code, _, _ = ours("reserve", a.path, "--key", hex(KEY_A), "--type", "write-exclusive")
    assert code == 0
    assert a.read_reservation().reservation == pr.Reservation(KEY_A, T.WRITE_EXCLUSIVE, pr.Scope.LU)
    # An unregistered initiator: RESERVATION CONFLICT, exit 24, one line on
    # stderr and a hint naming the keys registered now.
    code, out, err = ours("reserve", c.path, "--key", "0xc3", "--type", "WE")
    assert (code, out) == (24, "")
    line, hint = err.splitlines()
    assert "RESERVATION CONFLICT" in line
    assert hint.strip().startswith("hint:") and f"registered keys: {hex(KEY_A)}" in hint
    # RELEASE with the wrong type fails (LIO: RESERVATION CONFLICT) and changes
    # nothing: the same verdict as the library's.
    code, doc = ours_json("release", a.path, "--key", hex(KEY_A), "--type", "EA")
    with pytest.raises(pr.PRError) as raised:
        a.release(KEY_A, T.EXCLUSIVE_ACCESS)
    assert code == exit_code(raised.value) != 0
    assert doc["error"]["type"] == type(raised.value).__name__
    # --dry-run sends nothing: the generation does not move.
    before = b.read_keys().generation
    assert ours("register", b.path, "--new-key", hex(KEY_B), "--dry-run")[0] == 0
    assert b.read_keys().generation == before
    assert ours("register", b.path, "--new-key", hex(KEY_B))[0] == 0
    code, doc = ours_json(
        "preempt", b.path, "--key", hex(KEY_B), "--preempt-key", hex(KEY_A), "--type", "EA"
    )
    assert code == 0 and doc["result"]["sent"] is True
    code, _, err = ours("read-keys", a.path)
    assert code == 6 and "2Ah/05h" in err  # REGISTRATIONS PREEMPTED


def test_console_entry_point(a: pr.Device) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pr_native", "read-keys", a.path, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["keys"] == []


# -- sg-persist compatibility ----------------------------------------------------


def both(path: str, *options: str) -> tuple[int, str]:
    """The same PR IN through sg_persist and pr-native sg-persist: both must
    print the same stdout and exit with the same status."""
    theirs = subprocess.run(
        ["sg_persist", *options, path], capture_output=True, text=True, timeout=60, check=False
    )
    code, out, err = ours("sg-persist", *options, path)
    assert (code, out) == (theirs.returncode, theirs.stdout), (options, err, theirs.stderr)
    return code, out


def one(tool: str, path: str, *options: str) -> int:
    """A PR OUT through one of the two (it changes the state): its status."""
    if tool == "sg_persist":
        return sg_persist.run(*options, path).returncode
    return ours("sg-persist", "-n", *options, path)[0]


def reads(path: str) -> None:
    for options in (["-k"], ["-r"], ["-s"], ["-c"], ["-H", "-k"], ["-HH", "-r"], ["-HHH", "-s"]):
        both(path, "-n", "-i", *options)


def test_sg_persist_differential(a: pr.Device, b: pr.Device, c: pr.Device) -> None:
    reads(c.path)
    both(a.path, "-k")  # with INQUIRY's two lines
    assert one("ours", a.path, "-o", "-G", "-S", "0xa1") == 0
    assert one("sg_persist", b.path, "-o", "--register", "--param-sark=b2") == 0
    assert one("ours", c.path, "--out", "--register_ignore", "--param_sark", "c3") == 0
    reads(c.path)
    assert one("sg_persist", a.path, "-o", "-R", "-K", "a1", "-T", "5") == 0
    reads(b.path)
    # Failing PR OUTs change nothing: both tools, the same verdict.
    for options, verdict in (
        (["-o", "-R", "-K", "dd", "-T", "1"], 24),  # not registered with that key
        (["-o", "-G", "-K", "0x77", "-S", "0x99"], 24),  # wrong current key
        (["-o", "-L", "-K", "a1", "-T", "3"], 0),  # LIO: not the holder, so GOOD
    ):
        assert one("ours", c.path, *options) == one("sg_persist", c.path, *options) == verdict
    wrong_type = ["-o", "-L", "-K", "a1", "-T", "1"]
    assert one("ours", a.path, *wrong_type) == one("sg_persist", a.path, *wrong_type) != 0
    # B preempts A and C: each has a REGISTRATIONS PREEMPTED unit attention,
    # which the first command of each tool reports (exit 6) and consumes.
    assert one("ours", b.path, "-o", "-P", "-K", "b2", "-S", "a1", "-T", "3") == 0
    assert one("sg_persist", b.path, "-o", "-P", "-K", "b2", "-S", "c3", "-T", "3") == 0
    assert ours("sg-persist", "-n", "-k", a.path)[0] == 6
    assert sg_persist.run("-k", c.path).returncode == 6
    reads(a.path)
    assert one("sg_persist", b.path, "-o", "-L", "-K", "b2", "-T", "3") == 0
    reads(c.path)
    assert one("ours", b.path, "-o", "-C", "-K", "b2") == 0
    for dev in (a, b, c):
        drain_unit_attentions(dev)
    reads(a.path)
