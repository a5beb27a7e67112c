"""pr_native.fencing through the Device seam: a simulated logical unit
(SPC-4's registration, reservation and unit attention rules) answers every
command, so each test counts the PR OUT commands that reached it and reads
the state it was left in."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest

import pr_native.device
from pr_native import Device, ISCSITransportID, ReservationType, fencing
from pr_native._native import ffi, lib
from pr_native.fencing import Verdict

from .fake_device import Call, FakeLib, data, fail, good

T = ReservationType
K1, K2, K3 = 0xB1431645, 0xB1437888, 0xB1431315  # node_key("prlab", "node1".."node3")
NAME = "iqn.2003-01.org.linux-iscsi.prlab:init-"

# SPC-4 PR OUT service actions and the flags byte of the parameter list
REGISTER, RESERVE, RELEASE, CLEAR, PREEMPT, PREEMPT_AND_ABORT, REGISTER_AND_IGNORE = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
)
REGISTRATIONS_PREEMPTED = (0x2A, 0x05)
RESERVATIONS_RELEASED = (0x2A, 0x04)
POWER_ON = (0x29, 0x01)


def sense(key: int, asc: int, ascq: int) -> bytes:
    """Fixed-format sense data (SPC-4 4.5.3)."""
    return bytes([0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0])


def response(generation: int, body: bytes) -> bytes:
    return generation.to_bytes(4, "big") + len(body).to_bytes(4, "big") + body


@dataclass
class Nexus:
    name: str
    transport_id: ISCSITransportID
    target_port: int = 1
    unit_attentions: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Unknown:
    """The next PR OUT with this service action brings back no status;
    ``ran``: whether the device executed it."""

    action: int
    ran: bool


@dataclass
class SimLU:
    """One logical unit: registrations by I_T nexus, the reservation, a
    unit attention queue per nexus (SPC-4 5.14)."""

    lu_name: str = "naa.6001405000000001"
    generation: int = 0
    registrations: dict[str, int] = field(default_factory=dict)  # nexus -> key
    holder: str | None = None
    type: int = 0
    full_status: bool = True
    preempt_removes_sender: bool = False
    nexuses: dict[str, Nexus] = field(default_factory=dict)
    unknown: list[Unknown] = field(default_factory=list)
    pr_out: list[tuple[str, int, int, int]] = field(default_factory=list)
    """Every PR OUT executed: (nexus, service action, key, service action key)."""

    def nexus(self, name: str) -> Nexus:
        return self.nexuses[name]

    def keys(self) -> list[int]:
        return sorted(self.registrations.values())

    def reserved(self) -> tuple[int, int] | None:
        """(holder's key, type) as READ RESERVATION reports it."""
        if self.holder is None:
            return None
        key = 0 if self.type in (7, 8) else self.registrations[self.holder]
        return key, self.type

    def attention(self, nexus: str, condition: tuple[int, int]) -> None:
        self.nexuses[nexus].unit_attentions.append(condition)

    # -- PR IN --------------------------------------------------------------

    def read_keys(self) -> bytes:
        body = b"".join(k.to_bytes(8, "big") for k in self.registrations.values())
        return response(self.generation, body)

    def read_reservation(self) -> bytes:
        held = self.reserved()
        if held is None:
            return response(self.generation, b"")
        key, kind = held
        return response(self.generation, key.to_bytes(8, "big") + bytes(5) + bytes([kind, 0, 0]))

    def read_full_status(self) -> bytes:
        body = b""
        for name, key in self.registrations.items():
            nexus = self.nexuses[name]
            holder = self.holder is not None and (name == self.holder or self.type in (7, 8))
            tid = nexus.transport_id.to_bytes()
            body += (
                key.to_bytes(8, "big")
                + bytes(4)
                + bytes([1 if holder else 0, self.type if holder else 0])
                + bytes(4)
                + nexus.target_port.to_bytes(2, "big")
                + len(tid).to_bytes(4, "big")
                + tid
            )
        return response(self.generation, body)

    # -- PR OUT ---------------------------------------------------------------

    def execute(self, nexus: str, action: int, kind: int, parameters: bytes) -> int:
        """Run one PR OUT; returns the SCSI status (0 GOOD, 0x18 conflict)."""
        key = int.from_bytes(parameters[0:8], "big")
        sa_key = int.from_bytes(parameters[8:16], "big")
        mine = self.registrations.get(nexus)
        if action in (REGISTER, REGISTER_AND_IGNORE):
            if action == REGISTER and (mine or 0) != key:
                return 0x18
            if sa_key == 0:
                if mine is not None:
                    del self.registrations[nexus]
                    if self.holder == nexus:
                        self.holder = None
                    self.generation += 1
            else:
                self.registrations[nexus] = sa_key
                self.generation += 1
        elif mine is None or mine != key:
            return 0x18
        elif action == RESERVE:
            if self.holder is not None and (self.holder != nexus or self.type != kind):
                return 0x18
            self.holder, self.type = nexus, kind
        elif action in (PREEMPT, PREEMPT_AND_ABORT):
            victims = [
                n
                for n, k in self.registrations.items()
                if k == sa_key and (n != nexus or self.preempt_removes_sender)
            ]
            holder_key = None if self.holder is None else self.registrations[self.holder]
            if not victims and holder_key != sa_key:
                return 0x18
            for victim in victims:
                del self.registrations[victim]
                self.attention(victim, REGISTRATIONS_PREEMPTED)
            if holder_key == sa_key:
                self.holder, self.type = (nexus, kind) if nexus in self.registrations else (None, 0)
            elif self.holder is not None and self.holder not in self.registrations:
                self.holder = None
            self.generation += 1
        else:
            raise AssertionError(f"service action {action} is not simulated")
        self.pr_out.append((nexus, action, key, sa_key))
        return 0


class Answer:
    """FakeLib's reply queue, answered by the simulated logical units."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim

    def __bool__(self) -> bool:
        return True

    def pop(self, index: int) -> Callable[[Call, Any], int]:
        return self.sim.reply


class Sim:
    """The seam: FakeLib records each command's real bytes, and the logical
    unit behind its path (``attach``) answers it."""

    def __init__(self, fake: FakeLib) -> None:
        self.fake = fake
        self.paths: dict[str, tuple[SimLU, str]] = {}
        self.unreachable: set[str] = set()  # paths whose open fails (ENXIO)
        # paths whose commands do not come back until the event is set (an
        # SG_IO held by the SCSI error handler)
        self.held: dict[str, threading.Event] = {}
        self.held_out: threading.Event | None = None  # the same, for every PR OUT
        self._opened: dict[int, str] = {}
        self._open = fake.pr_open
        fake.replies = Answer(self)  # type: ignore[assignment]
        fake.pr_open = self.pr_open  # type: ignore[method-assign]

    def attach(self, path: str, lu: SimLU, nexus: str, isid: int = 1) -> Nexus:
        """``path`` reaches ``lu`` through the I_T nexus named ``nexus``
        (initiator port NAME + nexus, with ``isid``)."""
        port = ISCSITransportID(NAME + nexus.split("#")[0], 0x00023D000000 | isid)
        lu.nexuses.setdefault(nexus, Nexus(nexus, port))
        self.paths[path] = (lu, nexus)
        return lu.nexuses[nexus]

    def port(self, path: str) -> ISCSITransportID:
        lu, nexus = self.paths[path]
        return lu.nexus(nexus).transport_id

    def pr_open(self, path: bytes, flags: int, device: Any, result: Any) -> int:
        if path.decode() in self.unreachable:
            result.os_error = errno.ENXIO
            return int(lib.PR_ERR_OS)
        rc = self._open(path, flags, device, result)
        self._opened[int(ffi.cast("uintptr_t", device))] = path.decode()
        return rc

    def pr_outs(self) -> list[Call]:
        return [c for c in self.fake.calls if c.name == "pr_out"]

    def reply(self, call: Call, result: Any) -> int:
        path = self._opened[int(ffi.cast("uintptr_t", call.args[0]))]
        if path in self.held:
            assert self.held[path].wait(30), "the held command was never released"
        if call.name == "pr_out" and self.held_out is not None:
            assert self.held_out.wait(30), "the held PR OUT was never released"
        lu, name = self.paths[path]
        nexus = lu.nexus(name)
        is_out = call.name == "pr_out"
        if is_out and lu.unknown and lu.unknown[0].action == call.cdb[1] & 0x1F:
            unknown = lu.unknown.pop(0)
            if unknown.ran:
                lu.execute(name, call.cdb[1] & 0x1F, call.cdb[2] & 0x0F, call.parameters)
            return fail(lib.PR_ERR_TIMEOUT, os_error=errno.ETIMEDOUT)(call, result)
        if nexus.unit_attentions:
            asc, ascq = nexus.unit_attentions.pop(0)
            return fail(lib.PR_ERR_STATUS, status=2, sense=sense(6, asc, ascq))(call, result)
        if call.name == "pr_test_unit_ready":
            return good()(call, result)
        if call.name == "pr_read_keys":
            return data(lu.read_keys())(call, result)
        if call.name == "pr_read_reservation":
            return data(lu.read_reservation())(call, result)
        if call.name == "pr_read_full_status":
            if not lu.full_status:
                return fail(lib.PR_ERR_STATUS, status=2, sense=sense(5, 0x24, 0))(call, result)
            return data(lu.read_full_status())(call, result)
        assert is_out, call.name
        status = lu.execute(name, call.cdb[1] & 0x1F, call.cdb[2] & 0x0F, call.parameters)
        return (
            good()(call, result)
            if status == 0
            else fail(lib.PR_ERR_STATUS, status=status)(call, result)
        )


@dataclass
class FakeIdentity:
    lu_name: str | None
    relative_target_port: int | None


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """Simulated logical units behind Device; sysfs's initiator ports are
    the simulated nexuses' (``Sim.port``)."""
    fake = FakeLib(lib)
    monkeypatch.setattr(pr_native.device, "lib", fake)
    monkeypatch.setattr(pr_native.device, "_pr_read_keys", fake.pr_read_keys_serial)
    monkeypatch.setattr(pr_native.device, "_pr_read_reservation", fake.pr_read_reservation_serial)
    simulated = Sim(fake)

    def identify(self: Device, *, timeout: float | None = None) -> FakeIdentity:
        lu, nexus = simulated.paths[self.path]
        return FakeIdentity(lu.lu_name, lu.nexus(nexus).target_port)

    monkeypatch.setattr(Device, "identify", identify, raising=False)
    monkeypatch.setattr(
        fencing,
        "_path_port",
        lambda node: simulated.port(node) if node in simulated.paths else None,
    )
    monkeypatch.setattr(fencing, "_host_ports", lambda: [])
    monkeypatch.setattr(fencing, "multipath_paths", lambda path: None)
    yield simulated


def two_nodes(sim: Sim, devices: int = 1) -> tuple[list[SimLU], list[str], list[str]]:
    """``devices`` logical units, each reached by node 1 (initiator a) and
    node 2 (initiator b): the LUs and each node's paths."""
    lus = [SimLU(lu_name=f"naa.600140500000000{i + 1}") for i in range(devices)]
    node1, node2 = [], []
    for i, lu in enumerate(lus):
        sim.attach(f"/dev/sg-a{i}", lu, "a")
        sim.attach(f"/dev/sg-b{i}", lu, "b", isid=2)
        node1.append(f"/dev/sg-a{i}")
        node2.append(f"/dev/sg-b{i}")
    return lus, node1, node2


def service_actions(calls: list[Call]) -> list[int]:
    return [c.cdb[1] & 0x1F for c in calls]


# -- unfence -------------------------------------------------------------------


@pytest.mark.parametrize("devices", [1, 3])
def test_unfence_registers_and_reserves_then_sends_nothing_the_second_time(
    sim: Sim, devices: int
) -> None:
    lus, node1, _ = two_nodes(sim, devices)
    first = fencing.unfence(node1, K1)
    assert first.ok, first
    # Devices are worked on concurrently: their PR OUTs interleave in any order.
    assert sorted(service_actions(sim.pr_outs())) == sorted(
        [REGISTER_AND_IGNORE, RESERVE] * devices
    )
    for lu, report in zip(lus, first.devices):
        assert lu.registrations == {"a": K1} and lu.reserved() == (K1, 5)
        assert report.verdict == Verdict.DONE
        assert report.before is not None and report.after is not None
        assert (report.before.generation, report.after.generation) == (0, 1)
        assert [a.command for a in report.actions] == [
            "REGISTER AND IGNORE EXISTING KEY",
            "RESERVE",
        ]
        assert report.registered and report.paths[0].registered
        assert report.paths[0].initiator_port == sim.port(report.device)
    assert first.sent == 2 * devices
    sent = len(sim.pr_outs())
    second = fencing.unfence(node1, K1)
    assert second.ok and second.sent == 0
    assert len(sim.pr_outs()) == sent  # no PR OUT reached any device
    assert all(d.verdict == Verdict.ALREADY for d in second.devices)
    assert all(d.after == d.before for d in second.devices)
    assert [lu.generation for lu in lus] == [1] * devices


def test_second_node_registers_and_leaves_the_reservation(sim: Sim) -> None:
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    report = fencing.unfence(node2, K2)
    assert report.ok
    assert service_actions(sim.pr_outs()) == [REGISTER_AND_IGNORE, RESERVE, REGISTER_AND_IGNORE]
    assert lu.registrations == {"a": K1, "b": K2} and lu.reserved() == (K1, 5)


def test_other_reservation_type_is_left_alone(sim: Sim) -> None:
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1, T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY).ok
    report = fencing.unfence(node2, K2)
    assert report.ok and lu.reserved() == (K1, 6)
    assert any(
        "EXCLUSIVE_ACCESS_REGISTRANTS_ONLY reservation is held" in d
        for d in report.devices[0].decisions
    )


def test_stale_isid_is_removed_and_the_live_nexus_registered(sim: Sim) -> None:
    """Node 1's session was logged out and in again: its registration (and
    the reservation) stay with the old ISID, the new nexus has none."""
    (lu,), node1, _ = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    old = lu.nexus("a").transport_id
    sim.attach(node1[0], lu, "a#2", isid=3)  # the new session: initiator a, ISID ...03
    report = fencing.unfence(node1, K1)
    assert report.ok, report
    device = report.devices[0]
    assert [a.command for a in device.actions] == ["REGISTER AND IGNORE EXISTING KEY", "PREEMPT"]
    assert str(old) in device.actions[1].reason
    assert lu.registrations == {"a#2": K1}
    assert lu.holder == "a#2" and lu.type == 5  # PREEMPT moved the reservation to the live nexus
    assert device.paths[0].registered and device.paths[0].initiator_port == sim.port(node1[0])
    assert fencing.unfence(node1, K1).sent == 0


def test_stale_removal_that_takes_the_sender_too_registers_again(sim: Sim) -> None:
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node2, K2).ok  # node 2 holds the reservation
    assert fencing.unfence(node1, K1).ok
    sim.attach(node1[0], lu, "a#2", isid=3)
    lu.preempt_removes_sender = True
    report = fencing.unfence(node1, K1)
    assert report.ok, report
    assert [a.command for a in report.devices[0].actions] == [
        "REGISTER AND IGNORE EXISTING KEY",
        "PREEMPT",
        "REGISTER AND IGNORE EXISTING KEY",
    ]
    assert lu.registrations == {"b": K2, "a#2": K1} and lu.reserved() == (K2, 5)


def test_without_full_status_register_is_sent_each_time(sim: Sim) -> None:
    """The nexus of a key cannot be seen: REGISTER AND IGNORE EXISTING KEY
    (harmless when registered) goes out once per operation."""
    (lu,), node1, _ = two_nodes(sim)
    lu.full_status = False
    for _ in range(2):
        report = fencing.unfence(node1, K1)
        assert report.ok
        assert report.devices[0].before is not None
        assert report.devices[0].before.registrants is None
        assert report.devices[0].paths[0].registered is None
    assert service_actions(sim.pr_outs()) == [REGISTER_AND_IGNORE, RESERVE, REGISTER_AND_IGNORE]
    assert any("READ FULL STATUS refused" in d for d in report.devices[0].decisions)


def test_multipath_node_registers_every_path(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    lu = SimLU()
    sim.attach("/dev/sd-p1", lu, "a")
    sim.attach("/dev/sd-p2", lu, "c", isid=7)
    monkeypatch.setattr(
        fencing,
        "multipath_paths",
        lambda path: ("/dev/sd-p1", "/dev/sd-p2") if path == "/dev/mapper/mp0" else None,
    )
    report = fencing.unfence(["/dev/mapper/mp0"], K1)
    assert report.ok, report
    assert [(a.command, a.path) for a in report.devices[0].actions] == [
        ("REGISTER AND IGNORE EXISTING KEY", "/dev/sd-p1"),
        ("REGISTER AND IGNORE EXISTING KEY", "/dev/sd-p2"),
        ("RESERVE", "/dev/sd-p1"),
    ]
    assert lu.registrations == {"a": K1, "c": K1}
    assert [p.registered for p in report.devices[0].paths] == [True, True]
    assert fencing.unfence(["/dev/mapper/mp0"], K1).sent == 0
    assert fencing.status(["/dev/mapper/mp0"], K1).ok


def test_a_path_that_cannot_be_used_is_reported_and_left(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    lu = SimLU()
    sim.attach("/dev/sd-p1", lu, "a")
    sim.attach("/dev/sd-p2", lu, "c", isid=7)
    sim.unreachable.add("/dev/sd-p2")
    monkeypatch.setattr(
        fencing,
        "multipath_paths",
        lambda path: ("/dev/sd-p1", "/dev/sd-p2") if "mapper" in path else None,
    )
    report = fencing.unfence(["/dev/mapper/mp0"], K1)
    device = report.devices[0]
    assert report.ok and device.verdict == Verdict.DONE and device.registered is False
    assert [p.registered for p in device.paths] == [True, False]
    assert (device.paths[1].error or "").startswith("OSError")
    assert any("/dev/sd-p2 cannot be used" in d for d in device.decisions)
    assert lu.registrations == {"a": K1}
    assert not fencing.status(["/dev/mapper/mp0"], K1).ok  # not registered through every path


def test_a_multipath_device_stands_for_its_node(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    lu = SimLU()
    sim.attach("/dev/sd-p1", lu, "a")
    sim.attach("/dev/sd-p2", lu, "c", isid=7)

    class MultipathDevice:
        path = "/dev/mapper/mp0"

    module = SimpleNamespace(MultipathDevice=MultipathDevice, is_multipath=lambda node: False)
    monkeypatch.setattr(fencing, "_multipath", lambda: module)
    monkeypatch.setattr(
        fencing,
        "multipath_paths",
        lambda path: ("/dev/sd-p1", "/dev/sd-p2") if "mapper" in path else None,
    )
    report = fencing.unfence([MultipathDevice()], K1)  # type: ignore[list-item]
    assert report.ok and report.devices[0].device == "/dev/mapper/mp0"
    assert lu.registrations == {"a": K1, "c": K1}


def test_a_multipath_node_whose_paths_cannot_be_listed_fails_alone(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    (lu,), node1, _ = two_nodes(sim)

    def paths(node: str, timeout: float) -> None:
        raise ValueError(f"{node}: its paths are not one logical unit")

    module = SimpleNamespace(MultipathDevice=None, is_multipath=lambda node: True, paths=paths)
    monkeypatch.setattr(fencing, "_multipath", lambda: module)
    monkeypatch.setattr(
        fencing, "multipath_paths", lambda path: ("/dev/sdx",) if "mapper" in path else None
    )
    report = fencing.unfence(["/dev/mapper/bad", *node1], K1)
    assert [d.verdict for d in report.devices] == [Verdict.FAILED, Verdict.DONE]
    assert "not one logical unit" in (report.devices[0].error or "")
    assert lu.registrations == {"a": K1}


# -- unit attentions ------------------------------------------------------------


def test_unfence_refuses_after_being_fenced(sim: Sim) -> None:
    lus, node1, node2 = two_nodes(sim, 2)
    assert fencing.unfence(node1, K1).ok
    assert fencing.unfence(node2, K2).ok
    assert fencing.fence(node2[:1], K2, K1).ok  # node 1 fenced on the first LU only
    sent = len(sim.pr_outs())
    report = fencing.unfence(node1, K1)
    assert not report.ok and report.sent == 0 and len(sim.pr_outs()) == sent
    assert [d.verdict for d in report.devices] == [Verdict.FENCED, Verdict.FENCED]
    assert report.devices[0].unit_attentions == (
        fencing.UnitAttentionSeen(node1[0], "TEST UNIT READY", "REGISTRATIONS_PREEMPTED"),
    )
    assert "after_fenced=True" in (report.devices[0].error or "")
    assert "fenced on /dev/sg-a0" in report.devices[1].decisions[-1]
    # The unit attention is consumed now; the key's absence alone is no evidence.
    again = fencing.unfence(node1, K1, after_fenced=True)
    assert again.ok and lus[0].registrations == {"b": K2, "a": K1}


def test_after_fenced_lets_the_host_back_in(sim: Sim) -> None:
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    assert fencing.unfence(node2, K2).ok
    assert fencing.fence(node2, K2, K1).ok
    report = fencing.unfence(node1, K1, after_fenced=True)
    assert report.ok
    assert [u.condition for u in report.devices[0].unit_attentions] == ["REGISTRATIONS_PREEMPTED"]
    assert [a.command for a in report.devices[0].actions] == ["REGISTER AND IGNORE EXISTING KEY"]
    assert lu.registrations == {"b": K2, "a": K1} and lu.reserved() == (K2, 5)


def test_status_sends_no_test_unit_ready(sim: Sim) -> None:
    """status leaves the unit attentions alone (its PR IN may still meet one)."""
    (_lu,), node1, _ = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    before = len(sim.fake.calls)
    assert fencing.status(node1, K1).ok
    assert "pr_test_unit_ready" not in [c.name for c in sim.fake.calls[before:]]


def test_a_fenced_host_stays_refused_after_a_status_consumed_the_unit_attention(
    sim: Sim,
) -> None:
    """The REGISTRATIONS PREEMPTED unit attention went to a monitor's READ
    FULL STATUS; registered_on (what the caller kept after its unfence)
    still tells that this host was fenced."""
    (lu,), node1, node2 = two_nodes(sim)
    joined = fencing.unfence(node1, K1)
    known = [d.lu_name for d in joined.devices if d.registered and d.lu_name]
    assert known == [lu.lu_name]
    assert fencing.unfence(node2, K2).ok
    assert fencing.fence(node2, K2, K1).ok
    seen = fencing.status(node1, K1)
    assert seen.devices[0].unit_attentions == (
        fencing.UnitAttentionSeen(node1[0], "READ FULL STATUS", "REGISTRATIONS_PREEMPTED"),
    )
    assert lu.nexus("a").unit_attentions == []  # nothing left for unfence to see
    sent = len(sim.pr_outs())
    refused = fencing.unfence(node1, K1, registered_on=[known[0].upper()])
    assert refused.devices[0].verdict == Verdict.FENCED and refused.sent == 0
    assert "registered on naa." in (refused.devices[0].error or "")
    assert len(sim.pr_outs()) == sent and lu.registrations == {"b": K2}
    back = fencing.unfence(node1, K1, registered_on=known, after_fenced=True)
    assert back.ok and lu.registrations == {"b": K2, "a": K1}
    assert "this host was fenced; after_fenced lets it back in" in back.devices[0].decisions


def test_registered_on_another_logical_unit_is_no_evidence(sim: Sim) -> None:
    (lu,), node1, _ = two_nodes(sim)
    report = fencing.unfence(node1, K1, registered_on=["naa.6001405000000099"])
    assert report.ok and lu.registrations == {"a": K1}


def test_own_preempt_excuses_only_the_unit_attention_it_caused(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """unfence removes a stale registration with a PREEMPT of its own key;
    later in the same operation node 2 fences node 1: that REGISTRATIONS
    PREEMPTED is a fence, and unfence stops instead of registering again."""
    (lu,), node1, _ = two_nodes(sim)
    sim.attach("/dev/sg-b0", lu, "b", isid=2)
    lu.registrations = {"a": K1, "b": K2}  # the old session's K1, node 2 registered
    lu.generation = 2
    sim.attach(node1[0], lu, "a#2", isid=3)  # node 1's new session
    read = fencing._Worker._read

    def read_then_fenced(worker: fencing._Worker) -> fencing.State:
        state = read(worker)
        done = [a.command for a in worker.actions]
        if done == ["REGISTER AND IGNORE EXISTING KEY", "PREEMPT"] and lu.holder is None:
            # node 2 fences node 1 before the RESERVE is sent
            lu.execute("b", PREEMPT, 5, K2.to_bytes(8, "big") + K1.to_bytes(8, "big"))
            lu.holder, lu.type = "b", 5
        return state

    monkeypatch.setattr(fencing._Worker, "_read", read_then_fenced)
    report = fencing.unfence(node1, K1)
    device = report.devices[0]
    assert device.verdict == Verdict.FENCED, device
    assert [a.command for a in device.actions] == [
        "REGISTER AND IGNORE EXISTING KEY",
        "PREEMPT",
        "RESERVE",  # met node 2's unit attention: not executed
    ]
    assert [u.condition for u in device.unit_attentions] == ["REGISTRATIONS_PREEMPTED"]
    assert lu.registrations == {"b": K2}


def test_reservations_released_is_recorded_and_the_reservation_taken_again(sim: Sim) -> None:
    (lu,), node1, _ = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    lu.holder, lu.type = None, 0
    lu.attention("a", RESERVATIONS_RELEASED)
    report = fencing.unfence(node1, K1)
    assert report.ok
    assert [u.condition for u in report.devices[0].unit_attentions] == ["RESERVATIONS_RELEASED"]
    assert [a.command for a in report.devices[0].actions] == ["RESERVE"]
    assert lu.reserved() == (K1, 5)


def test_unit_attention_on_a_pr_out_means_read_again_and_plan_again(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POWER ON arrives between the first read and the REGISTER: the
    REGISTER was not executed; the state is read again, and the plan made
    from it sends it."""
    (lu,), node1, _ = two_nodes(sim)
    read = fencing._Worker._read
    calls: list[fencing.State] = []

    def read_then_power_on(worker: fencing._Worker) -> fencing.State:
        state = read(worker)
        if not calls:
            lu.attention("a", POWER_ON)
        calls.append(state)
        return state

    monkeypatch.setattr(fencing._Worker, "_read", read_then_power_on)
    report = fencing.unfence(node1, K1)
    assert report.ok
    device = report.devices[0]
    assert [(a.command, a.outcome) for a in device.actions] == [
        ("REGISTER AND IGNORE EXISTING KEY", "unit attention"),
        ("REGISTER AND IGNORE EXISTING KEY", "done"),
        ("RESERVE", "done"),
    ]
    assert [u.condition for u in device.unit_attentions] == ["POWER_ON"]
    assert lu.pr_out == [("a", REGISTER_AND_IGNORE, 0, K1), ("a", RESERVE, K1, 0)]


# -- fence ------------------------------------------------------------------


@pytest.mark.parametrize(("abort", "action"), [(True, PREEMPT_AND_ABORT), (False, PREEMPT)])
def test_fence_preempts_the_victim_once(sim: Sim, abort: bool, action: int) -> None:
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    assert fencing.unfence(node2, K2).ok
    sent = len(sim.pr_outs())
    report = fencing.fence(node2, K2, K1, abort=abort)
    assert report.ok and report.victim_key == K1
    assert service_actions(sim.pr_outs()[sent:]) == [action]
    device = report.devices[0]
    assert device.verdict == Verdict.DONE
    assert device.before is not None and device.after is not None
    assert (device.before.generation, device.after.generation) == (2, 3)
    assert device.before.reservation is not None and device.before.reservation.key == K1
    assert device.after.reservation is not None and device.after.reservation.key == K2
    assert lu.registrations == {"b": K2} and lu.reserved() == (K2, 5)
    assert "holds the reservation" in device.actions[0].reason
    again = fencing.fence(node2, K2, K1)
    assert again.ok and again.sent == 0 and again.devices[0].verdict == Verdict.ALREADY


def test_fence_refuses_its_own_key_before_any_io(sim: Sim) -> None:
    _, _, node2 = two_nodes(sim)
    with pytest.raises(ValueError, match="cannot fence itself"):
        fencing.fence(node2, K2, K2)
    with pytest.raises(ValueError, match="must not be 0"):
        fencing.fence(node2, K2, 0)
    assert sim.fake.calls == [] and sim.fake.opened == []


def test_fence_checks_the_logical_unit(sim: Sim) -> None:
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    assert fencing.unfence(node2, K2).ok
    sent = len(sim.pr_outs())
    wrong = fencing.fence(node2, K2, K1, expect_lu="naa.60014050000000ff")
    assert not wrong.ok and wrong.devices[0].verdict == Verdict.WRONG_LU
    assert "naa.6001405000000001" in (wrong.devices[0].error or "")
    assert len(sim.pr_outs()) == sent and K1 in lu.registrations.values()
    right = fencing.fence(node2, K2, K1, expect_lu=["NAA.6001405000000001"])
    assert right.ok and right.devices[0].lu_name == lu.lu_name


def test_fence_without_identify_refuses_an_expected_lu(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    assert fencing.unfence(node2, K2).ok
    monkeypatch.delattr(Device, "identify")
    sent = len(sim.pr_outs())
    report = fencing.fence(node2, K2, K1, expect_lu="naa.6001405000000001")
    assert report.devices[0].verdict == Verdict.WRONG_LU and len(sim.pr_outs()) == sent
    assert "identify() is not available" in (report.devices[0].error or "")


def test_outcome_unknown_preempt_that_ran_is_verified_not_resent(sim: Sim) -> None:
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    assert fencing.unfence(node2, K2).ok
    lu.unknown.append(Unknown(PREEMPT_AND_ABORT, ran=True))
    sent = len(sim.pr_outs())
    report = fencing.fence(node2, K2, K1)
    assert report.ok, report
    assert len(sim.pr_outs()) == sent + 1
    device = report.devices[0]
    assert [a.outcome for a in device.actions] == ["unknown"]
    assert "OutcomeUnknown" in (device.actions[0].error or "")
    assert any("outcome unknown; the state read after it" in d for d in device.decisions)
    assert lu.registrations == {"b": K2}


def test_outcome_unknown_preempt_that_did_not_run_is_never_sent_again(sim: Sim) -> None:
    """The first copy may still be queued in the driver: a second PR OUT is
    never sent; the device fails, with the state read, for the caller."""
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    assert fencing.unfence(node2, K2).ok
    lu.unknown.append(Unknown(PREEMPT_AND_ABORT, ran=False))
    report = fencing.fence(node2, K2, K1)
    assert not report.ok and report.devices[0].verdict == Verdict.FAILED
    assert [a.outcome for a in report.devices[0].actions] == ["unknown"]
    assert "not sent again" in (report.devices[0].error or "")
    assert K1 in lu.registrations.values()


def test_outcome_unknown_register_is_decided_from_the_state(sim: Sim) -> None:
    (lu,), node1, _ = two_nodes(sim)
    lu.unknown.append(Unknown(REGISTER_AND_IGNORE, ran=True))
    report = fencing.unfence(node1, K1)
    assert report.ok
    assert [(a.command, a.outcome) for a in report.devices[0].actions] == [
        ("REGISTER AND IGNORE EXISTING KEY", "unknown"),
        ("RESERVE", "done"),
    ]


def test_fence_takes_a_reservation_the_victim_could_otherwise_write_without(sim: Sim) -> None:
    (lu,), _node1, node2 = two_nodes(sim)
    assert fencing.unfence(node2, K2).ok
    lu.holder, lu.type = None, 0
    report = fencing.fence(node2, K2, K1)
    assert report.ok
    assert [a.command for a in report.devices[0].actions] == ["RESERVE"]
    assert lu.reserved() == (K2, 5)


def test_fence_needs_this_hosts_registration(sim: Sim) -> None:
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok
    report = fencing.fence(node2, K2, K1)
    assert not report.ok and report.sent == 0
    assert "is not registered" in (report.devices[0].error or "")
    assert lu.registrations == {"a": K1}


def test_many_devices_in_one_operation(sim: Sim) -> None:
    lus, node1, node2 = two_nodes(sim, 4)
    assert fencing.unfence(node1, K1).ok and fencing.unfence(node2, K2).ok
    report = fencing.fence(node2, K2, K1)
    assert report.ok and report.sent == 4
    assert [d.device for d in report.devices] == node2
    assert all(lu.registrations == {"b": K2} for lu in lus)


# -- status, timeouts, arguments ------------------------------------------------


def test_status_says_whether_registered_everywhere(sim: Sim) -> None:
    _lus, node1, node2 = two_nodes(sim, 2)
    assert fencing.unfence(node1, K1).ok
    sent = len(sim.pr_outs())
    assert fencing.status(node1, K1).ok
    report = fencing.status(node2, K2, read_only=True)
    assert not report.ok
    assert [d.verdict for d in report.devices] == [Verdict.NOT_REGISTERED] * 2
    assert [d.registered for d in report.devices] == [False, False]
    assert len(sim.pr_outs()) == sent
    assert fencing.unfence(node2[:1], K2).ok
    partly = fencing.status(node2, K2)
    assert [d.verdict for d in partly.devices] == [Verdict.REGISTERED, Verdict.NOT_REGISTERED]


def test_too_short_a_timeout_sends_no_pr_out(sim: Sim) -> None:
    (lu,), node1, _ = two_nodes(sim)
    report = fencing.unfence(node1, K1, timeout=0.5)
    assert not report.ok and report.devices[0].verdict == Verdict.TIMED_OUT
    assert sim.pr_outs() == [] and lu.registrations == {}


@pytest.mark.parametrize("operation", ["status", "fence", "unfence"])
@pytest.mark.parametrize("devices", [1, 2])
def test_a_device_that_does_not_answer_times_out_within_the_timeout(
    sim: Sim, operation: str, devices: int
) -> None:
    """The first device's commands are held (an iSCSI path in recovery):
    the operation returns at its timeout plus a small margin, that device
    TIMED_OUT, the other done; the held command's thread closes its Device
    when the kernel gives it back."""
    lus, node1, node2 = two_nodes(sim, devices)
    assert fencing.unfence(node1, K1).ok and fencing.unfence(node2, K2).ok
    release = sim.held[node1[0]] = threading.Event()
    calls = {
        "status": lambda: fencing.status(node1, K1, timeout=2.0),
        "fence": lambda: fencing.fence(node1, K1, K2, timeout=2.0),
        "unfence": lambda: fencing.unfence(node1, K1, timeout=2.0),
    }
    started = time.monotonic()
    report = calls[operation]()
    elapsed = time.monotonic() - started
    try:
        assert elapsed < 2.0 + fencing._WAIT_MARGIN + 0.3, elapsed
        assert report.devices[0].verdict == Verdict.TIMED_OUT
        assert "did not end within the operation's timeout" in (report.devices[0].error or "")
        assert [d.ok for d in report.devices[1:]] == [True] * (devices - 1), report.devices[1:]
        assert lus[0].registrations == {"a": K1, "b": K2}  # nothing sent to it
    finally:
        release.set()
    held = [t for t in threading.enumerate() if t.name.startswith(f"fencing {node1[0]} ")]
    for thread in held:
        thread.join(5)
        assert not thread.is_alive()
    assert len(held) == 1


def _interrupted_call(
    monkeypatch: pytest.MonkeyPatch, name: str, wait_first: bool
) -> list[fencing._Bounded]:
    """KeyboardInterrupt in the wait for the Device call ``name`` (after its
    end when ``wait_first``), as a signal handler would raise it."""
    wait = fencing._Bounded.wait
    interrupted: list[fencing._Bounded] = []

    def interrupt(self: fencing._Bounded, seconds: float) -> bool:
        if getattr(self._call, "__name__", "") != name or interrupted:
            return wait(self, seconds)
        interrupted.append(self)
        if wait_first:
            assert wait(self, seconds)
        raise KeyboardInterrupt

    monkeypatch.setattr(fencing._Bounded, "wait", interrupt)
    return interrupted


def test_a_pr_out_interrupted_in_flight_is_unknown_and_the_state_decides(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller's KeyboardInterrupt while the PREEMPT AND ABORT may still
    run: the state read after it decides (the victim is gone: fenced), and
    the report says that nothing more would have been sent."""
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok and fencing.unfence(node2, K2).ok
    sent = len(lu.pr_out)
    release = sim.held_out = threading.Event()
    interrupted = _interrupted_call(monkeypatch, "preempt_and_abort", wait_first=False)
    threading.Timer(0.3, release.set).start()  # the PR OUT ends after the interruption
    report = fencing.fence(node2, K2, K1)
    device = report.devices[0]
    assert report.ok and len(interrupted) == 1, device
    assert [(a.command, a.outcome) for a in device.actions] == [("PREEMPT AND ABORT", "unknown")]
    assert "KeyboardInterrupt" in (device.actions[0].error or "")
    assert any("no PR OUT is sent after it" in d for d in device.decisions)
    assert [a for _, a, _, _ in lu.pr_out[sent:]] == [5]  # the one PREEMPT AND ABORT
    assert lu.registrations == {"b": K2}


def test_no_pr_out_follows_one_the_caller_interrupted(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """unfence's REGISTER interrupted in flight: the RESERVE it would send
    next is not sent; the device fails, saying why."""
    (lu,), node1, _ = two_nodes(sim)
    release = sim.held_out = threading.Event()
    _interrupted_call(monkeypatch, "register_and_ignore", wait_first=False)
    threading.Timer(0.3, release.set).start()
    report = fencing.unfence(node1, K1)
    device = report.devices[0]
    assert not report.ok and device.verdict == fencing.Verdict.FAILED, device
    assert [(a.command, a.outcome) for a in device.actions] == [
        ("REGISTER AND IGNORE EXISTING KEY", "unknown")
    ]
    assert "not sent: the caller interrupted an earlier PR OUT" in (device.error or "")
    assert [a for _, a, _, _ in lu.pr_out] == [6]  # the REGISTER AND IGNORE only


def test_a_pr_out_that_ended_lets_the_interruption_through(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    (lu,), node1, node2 = two_nodes(sim)
    assert fencing.unfence(node1, K1).ok and fencing.unfence(node2, K2).ok
    _interrupted_call(monkeypatch, "preempt_and_abort", wait_first=True)
    with pytest.raises(KeyboardInterrupt):
        fencing.fence(node2, K2, K1)
    assert lu.registrations == {"b": K2}  # it ran, once


def test_a_device_that_cannot_be_opened_fails_alone(sim: Sim) -> None:
    (_lu,), node1, _ = two_nodes(sim)
    sim.fake.open_rc, sim.fake.open_errno = lib.PR_ERR_OS, errno.ENOENT
    report = fencing.status(node1, K1)
    assert report.devices[0].verdict == Verdict.FAILED
    assert "FileNotFoundError" in (report.devices[0].paths[0].error or "")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fencing.unfence("/dev/sg1", K1), "list or tuple"),
        (lambda: fencing.unfence([], K1), "at least one"),
        (lambda: fencing.unfence([3], K1), "devices\\[0\\]"),  # type: ignore[list-item]
        (lambda: fencing.unfence(["/dev/sg1", 3], K1), "devices\\[1\\]"),  # type: ignore[list-item]
        (lambda: fencing.unfence(["/dev/sg1", ""], K1), "non-empty"),
        (lambda: fencing.unfence(["/dev/sg1"], 0), "must not be 0"),
        (lambda: fencing.unfence(["/dev/sg1"], K1, timeout=0), "timeout"),
        (lambda: fencing.unfence(["/dev/sg1"], K1, type=9), "type"),  # type: ignore[arg-type]
        (lambda: fencing.fence(["/dev/sg1"], K1, K2, expect_lu=[""]), "expect_lu"),
    ],
)
def test_bad_arguments_send_nothing(sim: Sim, call: Callable[[], object], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        call()
    assert sim.fake.calls == [] and sim.fake.opened == []


# -- keys -------------------------------------------------------------------

# fence_scsi 4.12.1's own generate_key() ("hash", then "id"), run with these
# corosync answers: (cluster name, node name, position in the nodelist).
FENCE_SCSI_KEYS = [
    ("prlab", "node1", 1, "b1431645", "b1430001"),
    ("prlab", "node2", 2, "b1437888", "b1430002"),
    ("prlab", "node3", 3, "b1431315", "b1430003"),
    ("mycluster", "node-a.example.com", 12, "6c9d5506", "6c9d0012"),
    ("hacluster", "n1", 123456, "fb0cc825", "fb0c123456"),
    ("x", "0", 0, "9dd4cfcd", "9dd40000"),
    ("alpha", "beta", 7, "2c17987b", "2c170007"),
]


@pytest.mark.parametrize(("cluster", "node", "position", "hashed", "by_id"), FENCE_SCSI_KEYS)
def test_node_keys_are_fence_scsis(
    cluster: str, node: str, position: int, hashed: str, by_id: str
) -> None:
    assert fencing.node_key(cluster, node) == int(hashed, 16)
    assert fencing.node_id_key(cluster, position) == int(by_id, 16)


# Runs the installed fence_scsi's generate_key() with corosync's answers
# stubbed, so that the table above can be checked against the real code.
FENCE_SCSI_GENERATE = r"""
import importlib.machinery, importlib.util, json, sys
loader = importlib.machinery.SourceFileLoader("fence_scsi_real", sys.argv[1])
spec = importlib.util.spec_from_loader("fence_scsi_real", loader)
module = importlib.util.module_from_spec(spec)
loader.exec_module(module)
out = []
for cluster, node, position in json.loads(sys.argv[2]):
    def run_cmd(options, cmd, cluster=cluster, node=node, position=position):
        if cmd.endswith("totem.cluster_name"):
            return {"rc": 0, "out": "totem.cluster_name (str) = %s\n" % cluster, "err": ""}
        return {"rc": 0, "out": "nodelist.node.%d.name (str) = %s\n" % (position, node), "err": ""}
    module.run_cmd = run_cmd
    options = {"--plug": node, "--corosync-cmap-path": "corosync-cmapctl"}
    keys = []
    for method in ("hash", "id"):
        options["--key-value"] = method
        keys.append(module.generate_key(options).lstrip("0"))
    out.append(keys)
print(json.dumps(out))
"""


def test_node_keys_against_the_installed_fence_scsi() -> None:
    agent, python = Path("/usr/sbin/fence_scsi"), shutil.which("python3", path="/usr/bin")
    if not agent.exists() or python is None:
        pytest.skip("fence_scsi (Debian package fence-agents) is not installed")
    cases = json.dumps([case[:3] for case in FENCE_SCSI_KEYS])
    done = subprocess.run(
        [python, "-c", FENCE_SCSI_GENERATE, str(agent), cases],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        pytest.skip(f"fence_scsi cannot be loaded here: {done.stderr.strip()[-200:]}")
    assert json.loads(done.stdout) == [[h, i] for *_, h, i in FENCE_SCSI_KEYS]


def test_node_id_key_checks_its_argument() -> None:
    with pytest.raises(ValueError, match="node_id"):
        fencing.node_id_key("c", -1)


# -- initiator ports from sysfs ------------------------------------------------------


def test_iscsi_session_port_is_open_iscsis_isid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = tmp_path / "class/iscsi_session/session7"
    session.mkdir(parents=True)
    (session / "initiatorname").write_text("iqn.2003-01.org.linux-iscsi.prlab:init-a\n")
    offload = tmp_path / "class/iscsi_session/session8"
    offload.mkdir(parents=True)
    (offload / "initiatorname").write_text("iqn.x:y\n")
    (offload / "isid").write_text("400001370000\n")
    fc = tmp_path / "class/fc_host/host3"
    fc.mkdir(parents=True)
    (fc / "port_name").write_text("0x10000090fa123456\n")
    monkeypatch.setattr(fencing, "SYSFS_ROOT", str(tmp_path))
    assert fencing._session_port(7) == ISCSITransportID(
        "iqn.2003-01.org.linux-iscsi.prlab:init-a", 0x00023D000007
    )
    assert fencing._host_ports() == [
        ISCSITransportID("iqn.2003-01.org.linux-iscsi.prlab:init-a", 0x00023D000007),
        ISCSITransportID("iqn.x:y", 0x400001370000),
        pr_native.FCPTransportID(0x10000090FA123456),
    ]
    assert fencing._session_number("/sys/devices/platform/host1/session7/target1:0:0/1:0:0:0") == 7
