"""pr-native selftest through the Device seam (fake_device.FakeLib): the
refusals, the clean-up whatever happens, the report and the command line.

Behind the seam is ``LogicalUnit``, a small SPC-4 persistent reservation
model with one registration per I_T nexus: each node path is mapped to a
nexus, and every command the C core would have sent is answered from it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import pr_native as pr
import pr_native.device
from pr_native import cli, selftest
from pr_native._native import lib

from .fake_device import Call, FakeLib, data, fail, good

T = pr.ReservationType
ALL_REGISTRANTS = (T.WRITE_EXCLUSIVE_ALL_REGISTRANTS, T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS)
REGISTRANTS_ONLY = (T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY)
CONFLICT = "conflict"
FOREIGN_KEY = 0x1234


class Refusal(Exception):
    """What the model answers instead of GOOD."""

    def __init__(self, status: str | tuple[int, int, int]) -> None:
        super().__init__(status)
        self.status = status


def _sense(key: int, asc: int, ascq: int) -> bytes:
    return bytes([0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0])


class LogicalUnit:
    """One logical unit's PR state as SPC-4 5.14 describes it."""

    def __init__(self, lu_name: str = "naa.6001405000000001") -> None:
        self.lu_name = lu_name
        self.keys: dict[str, int] = {}  # nexus -> key, in registration order
        self.holder: str | None = None
        self.type: T | None = None
        self.generation = 0
        self.attentions: dict[str, list[tuple[int, int]]] = {}
        self.ptpl_active = False
        # Departures a test asks for.
        self.release_wrong_type_conflicts = False
        self.unregistered_not_ready = False  # LIO's 02/08/00 with no reservation held
        self.persistent_reservations = True  # False: PR IN/OUT are unknown opcodes

    # -- helpers --

    def _holds(self, nexus: str) -> bool:
        if self.type in ALL_REGISTRANTS:
            return nexus in self.keys
        return self.holder == nexus

    def _tell(self, nexus: str, ascq: int) -> None:
        self.attentions.setdefault(nexus, []).append((0x2A, ascq))

    def _drop(self, nexus: str) -> None:
        """Unregister ``nexus`` (SPC-4 5.14.11.3)."""
        del self.keys[nexus]
        if self.type is None or not self._held_by(nexus):
            return
        if self.type in ALL_REGISTRANTS:
            if self.keys:
                self.holder = next(iter(self.keys))
                return
        elif self.type in REGISTRANTS_ONLY:
            for other in self.keys:
                self._tell(other, 0x04)
        self.holder = self.type = None

    def _held_by(self, nexus: str) -> bool:
        return self.holder == nexus or self.type in ALL_REGISTRANTS

    # -- commands --

    def unit_attention(self, nexus: str) -> tuple[int, int] | None:
        queue = self.attentions.get(nexus)
        return queue.pop(0) if queue else None

    def pr_out(self, nexus: str, action: int, kind: int, params: bytes) -> None:
        rk, sark = int.from_bytes(params[0:8], "big"), int.from_bytes(params[8:16], "big")
        flags = params[20]
        registered = nexus in self.keys
        if action in (0x00, 0x06):  # REGISTER, REGISTER AND IGNORE EXISTING KEY
            if flags & 0x0C:
                raise Refusal((5, 0x26, 0))  # no SIP_C, no ATP_C
            if not registered:
                if action == 0x00 and rk:
                    raise Refusal(CONFLICT)
                if sark:
                    self.keys[nexus] = sark
                    self.generation += 1
                self.ptpl_active = bool(flags & 1)
                return
            if action == 0x00 and rk != self.keys[nexus]:
                raise Refusal(CONFLICT)
            if sark:
                self.keys[nexus] = sark
            else:
                self._drop(nexus)
            self.generation += 1
            self.ptpl_active = bool(flags & 1)
            return
        if action in (0x07, 0x08):
            raise Refusal((5, 0x24, 0))  # REGISTER AND MOVE, REPLACE LOST: not supported
        if not registered and self.unregistered_not_ready and self.type is None:
            raise Refusal((2, 0x08, 0))
        if not registered or rk != self.keys[nexus]:
            raise Refusal(CONFLICT)
        if action == 0x01:  # RESERVE
            if self.type is not None:
                if not self._holds(nexus) or self.type != kind:
                    raise Refusal(CONFLICT)
                return
            self.holder, self.type = nexus, T(kind)
        elif action == 0x02:  # RELEASE
            if self.type is None or not self._holds(nexus):
                return
            if self.type != kind:
                raise Refusal(CONFLICT if self.release_wrong_type_conflicts else (5, 0x26, 4))
            if self.type in (*REGISTRANTS_ONLY, *ALL_REGISTRANTS):
                for other in self.keys:
                    if other != nexus:
                        self._tell(other, 0x04)
            self.holder = self.type = None
        elif action == 0x03:  # CLEAR
            for other in self.keys:
                if other != nexus:
                    self._tell(other, 0x03)
            self.keys.clear()
            self.holder = self.type = None
            self.generation += 1
        elif action in (0x04, 0x05):  # PREEMPT, PREEMPT AND ABORT
            self._preempt(nexus, sark, T(kind))

    def _preempt(self, nexus: str, sark: int, kind: T) -> None:
        if self.type in ALL_REGISTRANTS and sark == 0:
            for other in [n for n in self.keys if n != nexus]:
                del self.keys[other]
                self._tell(other, 0x05)
            self.holder, self.type = nexus, kind
            self.generation += 1
            return
        if sark == 0:
            raise Refusal((5, 0x26, 0))
        victims = [n for n, k in self.keys.items() if k == sark and n != nexus]
        if not victims and sark not in self.keys.values():
            raise Refusal(CONFLICT)
        holder_preempted = (
            self.type is not None
            and self.type not in ALL_REGISTRANTS
            and self.holder is not None
            and self.keys[self.holder] == sark
        )
        for victim in victims:
            del self.keys[victim]
            self._tell(victim, 0x05)
        if holder_preempted:
            changed = self.type != kind
            self.holder, self.type = nexus, kind
            if changed:
                for other in self.keys:
                    if other != nexus:
                        self._tell(other, 0x04)
        self.generation += 1

    # -- PR IN --

    def read_keys(self) -> bytes:
        keys = b"".join(k.to_bytes(8, "big") for k in self.keys.values())
        return self.generation.to_bytes(4, "big") + len(keys).to_bytes(4, "big") + keys

    def read_reservation(self) -> bytes:
        head = self.generation.to_bytes(4, "big")
        if self.type is None or self.holder is None:
            return head + bytes(4)
        key = 0 if self.type in ALL_REGISTRANTS else self.keys[self.holder]
        return (
            head
            + (16).to_bytes(4, "big")
            + key.to_bytes(8, "big")
            + bytes([0] * 5 + [self.type, 0, 0])
        )

    def report_capabilities(self) -> bytes:
        return bytes([0, 8, 0x11, 0x90 | int(self.ptpl_active), 0xEA, 0x01, 0, 0])

    def read_full_status(self) -> bytes:
        descriptors = b""
        for number, (nexus, key) in enumerate(self.keys.items(), start=1):
            holder = self.type is not None and self._held_by(nexus)
            tid = (
                bytes([0x06, 0, 0, 0])
                + (0x50014050000000A0 + number).to_bytes(8, "big")
                + bytes(12)
            )
            descriptors += (
                key.to_bytes(8, "big")
                + bytes(4)
                + bytes([1 if holder else 0, int(self.type or 0) if holder else 0])
                + bytes(4)
                + RTPI[nexus].to_bytes(2, "big")
                + len(tid).to_bytes(4, "big")
                + tid
            )
        return (
            self.generation.to_bytes(4, "big") + len(descriptors).to_bytes(4, "big") + descriptors
        )

    def medium(self, nexus: str, write: bool) -> bool:
        """SPC-4 5.14.1 / SBC-3 4.17: may this nexus READ (or WRITE)?"""
        if self.type is None or self._holds(nexus):
            return True
        registered = nexus in self.keys
        if self.type == T.WRITE_EXCLUSIVE:
            return not write
        if self.type == T.EXCLUSIVE_ACCESS:
            return False
        if self.type in (T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, T.WRITE_EXCLUSIVE_ALL_REGISTRANTS):
            return registered or not write
        return registered


RTPI = {"A": 1, "B": 2, "C": 3, "D": 4}
Fault = Callable[[Call, str], "Callable[[Call, Any], int] | None"]


class LabLib(FakeLib):
    """FakeLib whose answers come from logical units: ``paths`` maps a node
    to (logical unit, nexus)."""

    def __init__(self, real: Any, paths: dict[str, tuple[LogicalUnit, str]]) -> None:
        super().__init__(real)
        self.paths = paths
        self.handles: dict[int, tuple[LogicalUnit, str]] = {}
        self.fault: Fault | None = None  # a test's interference, per call
        self.replies = Answers(self._answer)

    def pr_open(self, path: bytes, flags: int, device: Any, result: Any) -> int:
        rc = super().pr_open(path, flags, device, result)
        self.handles[int(device.handle)] = self.paths[path.decode()]
        return rc

    def _answer(self, call: Call, result: Any) -> int:
        if self.fault is not None:
            special = self.fault(call, self.handles[int(call.args[0].handle)][1])
            if special is not None:
                return special(call, result)
        return self.normal(call, result)

    def normal(self, call: Call, result: Any) -> int:
        """The logical unit's own answer (and its effect)."""
        lu, nexus = self.handles[int(call.args[0].handle)]
        pending = lu.unit_attention(nexus)
        if pending is not None:
            return fail(lib.PR_ERR_STATUS, status=2, sense=_sense(6, *pending))(call, result)
        try:
            if not lu.persistent_reservations and (call.name != "pr_test_unit_ready"):
                raise Refusal((5, 0x20, 0))
            return self._execute(lu, nexus, call)(call, result)
        except Refusal as refusal:
            if refusal.status == CONFLICT:
                return fail(lib.PR_ERR_STATUS, status=0x18)(call, result)
            assert isinstance(refusal.status, tuple)
            return fail(lib.PR_ERR_STATUS, status=2, sense=_sense(*refusal.status))(call, result)

    def _execute(self, lu: LogicalUnit, nexus: str, call: Call) -> Callable[[Call, Any], int]:
        readers = {
            "pr_read_keys": lu.read_keys,
            "pr_read_reservation": lu.read_reservation,
            "pr_report_capabilities": lu.report_capabilities,
            "pr_read_full_status": lu.read_full_status,
        }
        if call.name in readers:
            return data(readers[call.name]())
        if call.name == "pr_test_unit_ready":
            return good()
        if call.name == "pr_out":
            lu.pr_out(nexus, call.cdb[1] & 0x1F, call.cdb[2] & 0x0F, call.parameters)
            return good()
        assert call.name == "pr_execute"
        opcode = call.cdb[0]
        if opcode == 0x5E:
            action = call.cdb[1] & 0x1F
            if action > 3:
                raise Refusal((5, 0x24, 0))
            return data(
                [lu.read_keys, lu.read_reservation, lu.report_capabilities, lu.read_full_status][
                    action
                ]()
            )
        if opcode == 0x25:
            return data((99).to_bytes(4, "big") + (512).to_bytes(4, "big"))
        if opcode == 0x28:
            if not lu.medium(nexus, write=False):
                raise Refusal(CONFLICT)
            return data(bytes(range(256)) * 2)
        raise AssertionError(f"unexpected CDB {call.cdb.hex()}")


class Answers(list):  # type: ignore[type-arg]
    """FakeLib's replies: never empty, every pop the same dispatcher."""

    def __init__(self, answer: Callable[[Call, Any], int]) -> None:
        super().__init__([answer])

    def pop(self, index: Any = -1) -> Any:
        return self[0]


@pytest.fixture
def lu() -> LogicalUnit:
    return LogicalUnit()


@pytest.fixture
def other_lu() -> LogicalUnit:
    return LogicalUnit("naa.6001405000000002")


@pytest.fixture
def lab(monkeypatch: pytest.MonkeyPatch, lu: LogicalUnit, other_lu: LogicalUnit) -> LabLib:
    paths = {
        "/dev/sg-a": (lu, "A"),
        "/dev/sg-b": (lu, "B"),
        "/dev/sg-c": (lu, "C"),
        "/dev/sd-a": (lu, "A"),  # A's nexus through another node
        "/dev/sg-other": (other_lu, "B"),
    }
    fake = LabLib(lib, paths)
    monkeypatch.setattr(pr_native.device, "lib", fake)
    monkeypatch.setattr(pr_native.device, "_pr_read_keys", fake.pr_read_keys_serial)
    monkeypatch.setattr(pr_native.device, "_pr_read_reservation", fake.pr_read_reservation_serial)

    def identify(device: pr.Device, *, timeout: float | None = None) -> Any:
        unit, _ = paths[device.path]
        return SimpleNamespace(vendor="FAKE", product="LU", revision="1.0", lu_name=unit.lu_name)

    monkeypatch.setattr(pr_native.device.Device, "identify", identify, raising=False)
    return fake


def pr_outs(fake: LabLib) -> list[Call]:
    return [c for c in fake.calls if c.name == "pr_out"]


def assert_clean(unit: LogicalUnit) -> None:
    assert unit.keys == {} and unit.type is None
    assert not any(unit.attentions.values()), unit.attentions


ABC = ["/dev/sg-a", "/dev/sg-b", "/dev/sg-c"]


# -- a conformant logical unit -------------------------------------------------


def test_a_conformant_logical_unit_passes(lab: LabLib, lu: LogicalUnit) -> None:
    started: list[selftest.Plan] = []
    seen: list[selftest.CheckResult] = []
    report = selftest.run(ABC, on_start=started.append, on_check=seen.append)
    assert [c.id for c in report.departures] == []
    assert report.exit_status == selftest.Status.CONFORMANT
    assert list(report.checks) == seen and len(seen) == len(selftest.SPECS)
    not_applicable = {c.id for c in report.checks if c.outcome == selftest.NOT_APPLICABLE}
    assert not_applicable == {
        "register.all-target-ports",  # the model has no ATP_C, SIP_C, RLR_C
        "register.spec-i-pt",
        "move.register-and-move",  # refused as not supported: INVALID FIELD IN CDB
        "move.replace-lost",
        "access.data-unchanged",  # no --write-probes
    }
    (plan,) = started
    assert plan.unit == selftest.LogicalUnit("FAKE", "LU", "1.0", "naa.6001405000000001")
    assert dict((use, key) for use, key in plan.keys)["A"] == 0x70727374000000A1
    assert report.left_clean and report.leftover == ""
    assert_clean(lu)


def test_keys_are_announced_before_the_first_pr_out(lab: LabLib) -> None:
    outs_at_start: list[int] = []
    selftest.run(
        ABC[:2], only=["register"], on_start=lambda plan: outs_at_start.append(len(pr_outs(lab)))
    )
    assert outs_at_start == [0]
    sent = {int.from_bytes(c.parameters[8:16], "big") for c in pr_outs(lab)} - {0}
    sent |= {int.from_bytes(c.parameters[0:8], "big") for c in pr_outs(lab)} - {0}
    assert sent <= {*selftest.KEYS.values(), selftest.ALTERNATE_KEY, selftest.UNUSED_KEY}


def test_a_departure_carries_the_evidence(lab: LabLib, lu: LogicalUnit) -> None:
    lu.release_wrong_type_conflicts = True  # what LIO does
    report = selftest.run(ABC, only=["reserve"])
    (departure,) = report.departures
    assert departure.id == "reserve.release-wrong-type"
    assert departure.clause == "SPC-4 5.14.11.2"
    assert "INVALID RELEASE OF PERSISTENT RESERVATION" in departure.expected
    assert departure.observed == "RESERVATION CONFLICT"
    assert departure.nexus == "A" and departure.status == 0x18
    assert departure.cdb[:2] == bytes([0x5F, 0x02])
    assert report.exit_status == selftest.Status.DEPARTURES
    assert_clean(lu)
    text = "\n".join(selftest.check_text(departure))
    assert "SPC requires:" in text and "CDB 5f 02" in text


def test_a_not_ready_answer_to_a_pr_out_is_a_departure_not_a_stop(
    lab: LabLib, lu: LogicalUnit
) -> None:
    """02/08/00 on a PR OUT may follow one that ran (OutcomeUnknown, with the
    device's answer as its cause): the check reports that answer."""
    lu.unregistered_not_ready = True
    report = selftest.run(ABC, only=["reserve", "preempt"])
    assert report.error is None
    departures = {c.id: c for c in report.departures}
    assert set(departures) == {
        "reserve.unregistered-reserve",
        "reserve.unregistered-release",
        "preempt.clear-unregistered",
    }
    for check in departures.values():
        assert check.status == 2 and check.sense[2] == 0x02 and check.sense[12] == 0x08
        assert "LOGICAL UNIT COMMUNICATION FAILURE" in check.observed
        assert check.nexus == "C"
    assert_clean(lu)


# -- refusals -----------------------------------------------------------------------


def test_refuses_a_logical_unit_in_use(lab: LabLib, lu: LogicalUnit) -> None:
    lu.keys["D"] = FOREIGN_KEY
    lu.holder, lu.type = "D", T.WRITE_EXCLUSIVE
    with pytest.raises(selftest.SelftestRefused, match="in use") as info:
        selftest.run(ABC)
    assert "0x1234" in str(info.value) and "reservation: WE held with key 0x1234" in str(info.value)
    assert info.value.found is not None
    assert [r.key for r in info.value.found.registrants] == [FOREIGN_KEY]
    assert pr_outs(lab) == []
    assert lu.keys == {"D": FOREIGN_KEY}


def test_force_removes_what_it_found_and_leaves_the_logical_unit_clean(
    lab: LabLib, lu: LogicalUnit
) -> None:
    lu.keys["D"] = FOREIGN_KEY
    report = selftest.run(ABC, force=True, only=["register"])
    assert report.removed is not None and [r.key for r in report.removed.registrants] == [
        FOREIGN_KEY
    ]
    assert report.exit_status == selftest.Status.CONFORMANT
    assert lu.keys == {} and lu.type is None
    assert lu.attentions["D"] == [(0x2A, 0x03)]  # its registration went with the first CLEAR


def test_refuses_a_logical_unit_without_persistent_reservations(
    lab: LabLib, lu: LogicalUnit
) -> None:
    lu.persistent_reservations = False
    with pytest.raises(selftest.SelftestRefused, match="INVALID COMMAND OPERATION CODE"):
        selftest.run(ABC)
    assert pr_outs(lab) == []


def test_refuses_nodes_of_different_logical_units(lab: LabLib) -> None:
    with pytest.raises(selftest.SelftestRefused, match="different logical units"):
        selftest.run(["/dev/sg-a", "/dev/sg-other"])
    assert lab.calls == []  # INQUIRY only (identify), no PR command at all


def test_without_lu_names_another_logical_unit_is_refused_by_the_registration_probe(
    lab: LabLib, lu: LogicalUnit, other_lu: LogicalUnit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(pr_native.device.Device, "identify")
    with pytest.raises(selftest.SelftestRefused, match="not a node of the same logical unit"):
        selftest.run(["/dev/sg-a", "/dev/sg-other"])
    assert_clean(lu)
    assert other_lu.keys == {}


def test_refuses_the_same_node_twice(lab: LabLib) -> None:
    with pytest.raises(selftest.SelftestRefused, match="same device node"):
        selftest.run(["/dev/sg-a", "/dev/sg-b", "/dev/sg-a"])
    assert lab.opened == []


def test_refuses_one_nexus_through_two_nodes(lab: LabLib, lu: LogicalUnit) -> None:
    with pytest.raises(selftest.SelftestRefused, match="same I_T nexus as /dev/sg-a"):
        selftest.run(["/dev/sg-a", "/dev/sd-a"])
    assert_clean(lu)


def test_arguments_are_checked_before_anything_is_opened(lab: LabLib) -> None:
    with pytest.raises(ValueError, match="2 or 3 device nodes"):
        selftest.run(["/dev/sg-a"])
    with pytest.raises(ValueError, match="groups are"):
        selftest.run(ABC, only=["bogus"])
    assert lab.opened == []


# -- the clean-up, whatever happens ------------------------------------------------------


def after(count: int, name: str, answer: Callable[[Call, Any], int]) -> Fault:
    """A fault: the ``count``-th command named ``name`` gets ``answer``."""
    seen = [0]

    def fault(call: Call, nexus: str) -> Callable[[Call, Any], int] | None:
        if call.name != name:
            return None
        seen[0] += 1
        return answer if seen[0] == count else None

    return fault


def test_an_error_stops_the_run_and_the_logical_unit_is_left_clean(
    lab: LabLib, lu: LogicalUnit
) -> None:
    def ran_then_lost(call: Call, result: Any) -> int:
        lab.normal(call, result)  # the PR OUT ran; its status never came back
        return fail(lib.PR_ERR_TRANSPORT, host_status=0x01)(call, result)

    lab.fault = after(12, "pr_out", ran_then_lost)
    report = selftest.run(ABC)
    assert isinstance(report.error, pr.OutcomeUnknown)
    assert report.exit_status == selftest.Status.STOPPED
    assert 0 < len(report.checks) < len(selftest.SPECS)
    assert report.left_clean
    assert_clean(lu)


def test_keyboard_interrupt_part_way_cleans_up_first(lab: LabLib, lu: LogicalUnit) -> None:
    def interrupted(call: Call, result: Any) -> int:
        lab.normal(call, result)
        raise KeyboardInterrupt

    lab.fault = after(30, "pr_out", interrupted)
    with pytest.raises(selftest.SelftestInterrupted) as info:
        selftest.run(ABC)
    report = info.value.report
    assert report.interrupted and report.left_clean
    assert report.exit_status == selftest.Status.INTERRUPTED
    assert_clean(lu)


def test_sigint_during_the_clean_up_waits_for_it(lab: LabLib, lu: LogicalUnit) -> None:
    cleaning, sent = [False], []

    def sigint_in_clean_up(call: Call, nexus: str) -> Callable[[Call, Any], int] | None:
        if cleaning[0] and call.name == "pr_out":
            cleaning[0] = False
            sent.append(call.cdb)
            os.kill(os.getpid(), signal.SIGINT)
        return None

    def stop(call: Call, result: Any) -> int:
        lab.normal(call, result)
        cleaning[0] = True
        raise KeyboardInterrupt

    faults = [after(7, "pr_out", stop), sigint_in_clean_up]  # prin.lengths: B registers
    lab.fault = lambda call, nexus: next((a for f in faults if (a := f(call, nexus))), None)
    with pytest.raises(selftest.SelftestInterrupted) as info:
        selftest.run(ABC)
    assert len(sent) == 1 and info.value.report.left_clean
    assert_clean(lu)


def test_another_initiators_registration_is_left_alone(lab: LabLib, lu: LogicalUnit) -> None:
    def someone_registers(call: Call, result: Any) -> int:
        rc = lab.normal(call, result)
        lu.keys["D"] = FOREIGN_KEY  # another host registers meanwhile
        return rc

    # After the probe (3) and the first reset (2), register.new's REGISTER:
    # that check sees the extra key, the next reset stops the run.
    lab.fault = after(6, "pr_out", someone_registers)
    report = selftest.run(ABC, only=["register"])
    assert [c.id for c in report.checks] == ["register.new"]
    assert isinstance(report.error, selftest.SelftestStopped)
    assert "another initiator registered" in str(report.error)
    assert report.left_clean
    assert lu.keys == {"D": FOREIGN_KEY} and lu.type is None


def test_what_cannot_be_removed_is_reported(lab: LabLib, lu: LogicalUnit) -> None:
    def stuck(call: Call, nexus: str) -> Callable[[Call, Any], int] | None:
        """After the probe, CLEAR and REGISTER AND IGNORE EXISTING KEY fail."""
        if call.name == "pr_out" and call.cdb[1] & 0x1F in (0x03, 0x06):
            return fail(lib.PR_ERR_STATUS, status=2, sense=_sense(4, 0x44, 0))
        return None

    lab.fault = stuck
    report = selftest.run(ABC, only=["register"])
    assert isinstance(report.error, selftest.SelftestStopped)
    assert "cannot clear the logical unit from A" in str(report.error)
    assert not report.left_clean
    assert report.exit_status == selftest.Status.NOT_CLEAN
    assert "0x70727374000000a1" in report.leftover
    assert "LEFT ON THE LOGICAL UNIT" in "\n".join(selftest.summary_text(report))


# -- the command line --------------------------------------------------------------


def test_without_yes_nothing_is_sent(lab: LabLib, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["selftest", *ABC]) == selftest.Status.USAGE
    assert "refusing without --yes" in capsys.readouterr().err
    assert lab.opened == []


def test_json_report(lab: LabLib, lu: LogicalUnit, capsys: pytest.CaptureFixture[str]) -> None:
    lu.release_wrong_type_conflicts = True
    assert cli.main(["selftest", "--yes", "--json", "--only", "reserve", *ABC]) == 4
    doc = json.loads(capsys.readouterr().out)
    assert (doc["schema_version"], doc["command"], doc["ok"], doc["exit_code"]) == (
        1,
        "selftest",
        False,
        4,
    )
    result = doc["result"]
    assert result["report_version"] == selftest.REPORT_VERSION
    assert result["devices"] == {"A": ABC[0], "B": ABC[1], "C": ABC[2]}
    assert result["logical_unit"]["lu_name"] == "naa.6001405000000001"
    assert result["summary"]["departures"] == ["reserve.release-wrong-type"]
    (failed,) = [c for c in result["checks"] if c["outcome"] == "fail"]
    assert failed["status"] == 0x18 and failed["cdb"].startswith("5f02")
    assert result["left_clean"] is True and result["exit_status"] == 4
    assert {k["use"] for k in result["keys"]} >= {"A", "B", "C"}


def test_refusal_exit_status_and_json(
    lab: LabLib, lu: LogicalUnit, capsys: pytest.CaptureFixture[str]
) -> None:
    lu.keys["D"] = FOREIGN_KEY
    assert cli.main(["selftest", "--yes", "--json", *ABC]) == selftest.Status.REFUSED
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["exit_code"] == 8
    assert doc["error"]["type"] == "SelftestRefused"
    assert doc["error"]["found"]["registrants"][0]["key"] == "0x0000000000001234"


def test_text_report(lab: LabLib, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["selftest", "--yes", "--only", "prin", *ABC[:2]]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pr-native selftest of FAKE LU 1.0 (naa.6001405000000001)")
    assert "keys it uses: 0x70727374000000a1 (A)" in out
    assert "pass    prin.service-actions" in out
    assert "exit status 0: every check passed" in out


DOC = Path(__file__).resolve().parents[2] / "docs" / "selftest.md"


@pytest.mark.skipif(not DOC.is_file(), reason="the tests were copied without the source tree")
def test_the_documentation_lists_every_check_and_exit_status() -> None:
    """docs/selftest.md: each check (`reserve.we`, `.ea`, ... and
    `reserve.holder-unregisters-we`, `-ea`, ... name a type's family) and
    every exit status."""
    text = DOC.read_text("utf-8")
    documented, stem = set(), ""
    for token in re.findall(r"`([a-z][a-z.-]*|[.-][a-z-]+)`", text):
        if token.startswith("."):
            token = stem.split(".")[0] + token
        elif token.startswith("-"):
            token = stem.rsplit("-", 1)[0] + token
        else:
            stem = token
        documented.add(token)
    assert {spec.id for spec in selftest.SPECS} <= documented
    assert f"{len(selftest.SPECS)} checks" in text
    for status in selftest.Status:
        assert f"| {int(status)} |" in text


def test_reading_keys_does_not_load_the_selftest() -> None:
    code = (
        "import sys, pr_native.cli as c; c.build_parser('read-keys'); "
        "sys.exit('pr_native.selftest' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.fixture(autouse=True)
def _sigint_restored() -> Iterator[None]:
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)
