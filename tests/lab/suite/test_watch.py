"""pr-native watch against LIO: another initiator changes the reservation
while ``watch`` runs in a subprocess; a watched node disappears and comes
back.  Runs last in the suite (it deletes and re-adds a SCSI device)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pr_native as pr

from .conftest import KEY_A, KEY_B

T = pr.ReservationType
WAIT = 60.0  # seconds; Python starts slowly under TCG


class Watch:
    """``pr-native watch --json`` in a subprocess, its events in a queue."""

    def __init__(self, *paths: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pr_native", "watch", *paths, "--interval", "0.1", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.events.put(json.loads(line))

    def next(
        self, event: str, device: str | None, until: Callable[[dict[str, Any]], bool] = bool
    ) -> dict[str, Any]:
        """The next event of this kind for this device for which ``until`` is
        true (others are skipped)."""
        deadline = time.monotonic() + WAIT
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {event} event for {device}"
            got = self.events.get(timeout=remaining)
            assert got["schema_version"] == 1 and got["command"] == "watch"
            if got["event"] == event and got["device"] == device and until(got):
                return got

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        self.next("stopped", None)
        return self.process.wait(timeout=WAIT)


@pytest.fixture
def watch_process(processes: list[subprocess.Popen[str]]) -> Iterator[list[Watch]]:
    started: list[Watch] = []
    yield started
    processes.extend(w.process for w in started)


def test_watch_reports_changes_made_by_another_initiator(
    a: pr.Device, b: pr.Device, c: pr.Device, watch_process: list[Watch]
) -> None:
    w = Watch(a.path, c.path)
    watch_process.append(w)
    name = c.identify().lu_name
    assert name is not None and a.identify().lu_name == name
    initial = w.next("initial", c.path)
    assert initial["lu_name"] == name  # read once, when watch opened the node
    assert initial["state"] == {
        "generation": c.read_keys().generation,
        "keys": [],
        "reservation": None,
    }
    b.register(KEY_B)
    changed = w.next("changed", c.path)
    assert changed["changes"] == ["generation", "keys"]
    assert changed["state"]["keys"] == [f"0x{KEY_B:016x}"]
    b.reserve(KEY_B, T.WRITE_EXCLUSIVE)
    changed = w.next("changed", c.path)
    assert changed["changes"] == ["holder", "type"]
    assert changed["state"]["reservation"]["type"] == "WRITE_EXCLUSIVE"
    a.register(KEY_A)
    b.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)  # A's registration goes: A gets a UA
    attention = w.next("unit_attention", a.path)
    assert attention["lu_name"] == name
    sense = attention["error"]["sense"]
    assert (sense["asc"], sense["ascq"]) == (0x2A, 0x05)  # REGISTRATIONS PREEMPTED
    assert attention["error"]["exit_code"] == 6
    # A was not the holder: its key goes, B keeps its WRITE EXCLUSIVE reservation.
    changed = w.next("changed", c.path, lambda e: e["state"]["keys"] == [f"0x{KEY_B:016x}"])
    assert changed["state"]["reservation"]["type"] == "WRITE_EXCLUSIVE"
    assert w.stop() == 0


class Unplug:
    """Take one initiator's SCSI device away and bring it back.

    tcm_loop: unlink the LUN in configfs (it removes the SCSI device) and link
    it again (tcm_loop refuses host rescans).  iSCSI: delete the device
    through sysfs and rescan the session's host.
    """

    def __init__(self, fabric: str, initiator: dict[str, str]) -> None:
        self.fabric, self.hctl = fabric, initiator["hctl"]
        if fabric == "loop":
            tpgs = Path("/sys/kernel/config/target/loopback").glob("*/tpgt_1")
            tpg = next(t for t in tpgs if (t / "nexus").read_text().strip() == initiator["name"])
            self.link = next(p for p in (tpg / "lun" / "lun_0").iterdir() if p.is_symlink())
            self.target = os.path.normpath(self.link.parent / os.readlink(self.link))

    def remove(self) -> None:
        if self.fabric == "loop":
            self.link.unlink()
        else:
            Path(f"/sys/class/scsi_device/{self.hctl}/device/delete").write_text("1")

    def restore(self) -> None:
        if self.fabric == "loop":
            os.symlink(self.target, self.link)
        else:
            host, channel, target, lun = self.hctl.split(":")
            Path(f"/sys/class/scsi_host/host{host}/scan").write_text(f"{channel} {target} {lun}")


def test_watch_survives_a_device_that_disappears(
    c: pr.Device, fabric: str, lab_info: dict[str, Any], watch_process: list[Watch]
) -> None:
    initiators = lab_info["initiators"]
    assert isinstance(initiators, list)
    unplug = Unplug(fabric, initiators[2])
    path = c.path
    name = c.identify().lu_name
    assert name is not None
    c.close()  # the node's number is reused only once nobody holds it open
    w = Watch(path)
    watch_process.append(w)
    assert w.next("initial", path)["lu_name"] == name
    unplug.remove()
    gone = w.next("gone", path)
    assert gone["error"]["errno"] is not None
    assert gone["lu_name"] == name  # the LU that went away
    unplug.restore()
    back = w.next("back", path)
    assert back["state"]["reservation"] is None
    assert back["lu_name"] == name  # read again after the reopen
    assert w.stop() == 0
