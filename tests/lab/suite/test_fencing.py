"""pr_native.fencing and fence_pr_native against LIO over iSCSI, and against
fence_scsi itself.

Runs in the "iscsi-fencing" lab configuration (PRLAB_FENCING=1: iSCSI,
three initiators, two extra LUs); the other configurations skip it.
Initiator A is node 1, B is node 2, C only watches (READ FULL STATUS).  Each
"node" runs its agent in a mount namespace of its own whose /run is the
node's directory, so that the key store (/var/run/cluster.key and .dev, the
installed fence_scsi's STORE_PATH, which fence_pr_native uses too) is per
node, as on two hosts.

- The differential: the same sequence of actions by fence_scsi and by
  fence_pr_native, on one LU and on three (node N's devices are its
  initiator's disks of each LU), gives the same PR state (keys, holder,
  type, by initiator) and the same exit codes after every step; the time
  of every action is printed (and kept in $PRLAB_OUT).
- Every action twice (off and status in the differential): the second
  sends no PR OUT (the generation stays).
- A session logged out and in again (a new ISID): unfence removes the stale
  registration and registers the live nexus.
- PREEMPT AND ABORT while the sender is stopped and continued, or
  interrupted (OutcomeUnknown), on a netem-delayed loopback: it runs once
  and the fence ends verified.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

import pr_native as pr
from pr_native import fence_agent, fencing

from .conftest import Initiator, drain_unit_attentions, reset_logical_unit
from .test_exactly_once import task_state, wait_for, waiting_for_device

K1 = fencing.node_key("prlab", "node1")
K2 = fencing.node_key("prlab", "node2")
WERO = int(pr.ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
AGENTS = {
    "fence_scsi": "/usr/sbin/fence_scsi",
    "fence_pr_native": str(Path(sys.executable).parent / "fence_pr_native"),
}
CMAPCTL = """#!/bin/sh
case "$1" in
  totem.cluster_name) echo "totem.cluster_name (str) = prlab" ;;
  nodelist) printf 'nodelist.node.0.name (str) = node1\\nnodelist.node.1.name (str) = node2\\n' ;;
esac
"""
# The differential's steps: (node acting, action, node named by --plug)
STEPS = (
    ("node1", "on", "node1"),
    ("node2", "on", "node2"),
    ("node2", "off", "node1"),
    ("node1", "status", "node1"),
    ("node2", "status", "node1"),
    ("node2", "off", "node1"),  # already fenced
    ("node1", "on", "node1"),  # back in after being fenced
)


@pytest.fixture(scope="module", autouse=True)
def fencing_run(lab_info: dict[str, Any]) -> None:
    if not os.environ.get("PRLAB_FENCING") or lab_info["fabric"] != "iscsi":
        pytest.skip("runs in the iscsi-fencing lab configuration (PRLAB_FENCING=1)")
    if not Path(AGENTS["fence_scsi"]).exists():
        pytest.fail("fence_scsi is missing: scripts/setup-env installs fence-agents")


@dataclass
class LU:
    """One logical unit: each initiator's (sg, sd) nodes."""

    sg: dict[str, str]
    sd: dict[str, str]


@pytest.fixture(scope="module")
def lus(lab_info: dict[str, Any], initiators: list[Initiator]) -> list[LU]:
    found = [LU({i.label: i.sg for i in initiators}, {i.label: i.sd for i in initiators})]
    for extra in lab_info.get("extra_lus") or []:
        nodes = extra["initiators"]
        found.append(LU({n["label"]: n["sg"] for n in nodes}, {n["label"]: n["sd"] for n in nodes}))
    return found


def reset(lu: LU) -> None:
    opened = [pr.Device(sg, timeout=20.0) for sg in lu.sg.values()]
    try:
        reset_logical_unit(opened)
    finally:
        for dev in opened:
            dev.close()


Row = tuple[int, str, bool, Optional[int]]


def pr_state(lu: LU) -> list[Row]:
    """(key, initiator name, holder, type) of every registrant, read by C."""
    with pr.Device(lu.sg["C"], timeout=20.0) as c:
        drain_unit_attentions(c)
        status = c.read_full_status()
    return sorted(
        (
            r.key,
            getattr(r.transport_id, "name", str(r.transport_id)),
            r.holder,
            None if r.type is None else int(r.type),
        )
        for r in status.registrants
    )


def generations(lus: list[LU]) -> list[int]:
    found = []
    for lu in lus:
        with pr.Device(lu.sg["C"], timeout=20.0) as c:
            drain_unit_attentions(c)
            found.append(c.read_keys().generation)
    return found


@dataclass
class Result:
    agent: str
    step: tuple[str, str, str]
    status: int
    seconds: float
    output: str


@dataclass
class Nodes:
    """node1 = initiator A, node2 = initiator B, each with its /run."""

    base: Path
    cmapctl: str
    label: dict[str, str] = field(default_factory=lambda: {"node1": "A", "node2": "B"})

    def run(self, agent: str, lus: list[LU], node: str, action: str, plug: str) -> Result:
        home = self.base / agent / node
        home.mkdir(parents=True, exist_ok=True)
        disks = ",".join(lu.sd[self.label[node]] for lu in lus)
        command = [
            AGENTS[agent],
            f"--action={action}",
            f"--devices={disks}",
            f"--plug={plug}",
            "--key-value=hash",
            f"--corosync-cmap-path={self.cmapctl}",
        ]
        # A private /run: /var/run/cluster.key is this node's alone.
        wrapped = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            'mount --bind "$0" /run && exec "$@"',
            str(home),
            *command,
        ]
        started = time.monotonic()
        done = subprocess.run(wrapped, capture_output=True, text=True, timeout=180, check=False)
        seconds = time.monotonic() - started
        return Result(
            agent, (node, action, plug), done.returncode, seconds, done.stdout + done.stderr
        )


@pytest.fixture
def cmapctl(tmp_path: Path) -> str:
    """A corosync-cmapctl that knows cluster "prlab" with node1 and node2."""
    script = tmp_path / "corosync-cmapctl"
    script.write_text(CMAPCTL)
    script.chmod(0o755)
    return str(script)


def timing_table(results: list[Result]) -> str:
    lines = [f"{'step':<34} {'fence_scsi':>16} {'fence_pr_native':>16}"]
    by_agent: dict[str, list[Result]] = {}
    for r in results:
        by_agent.setdefault(r.agent, []).append(r)
    for theirs, ours in zip(by_agent["fence_scsi"], by_agent["fence_pr_native"]):
        node, action, plug = theirs.step
        lines.append(
            f"{node} {action} --plug={plug}".ljust(34)
            + f" {theirs.seconds:7.2f} s rc={theirs.status}"
            + f" {ours.seconds:7.2f} s rc={ours.status}"
        )
    for action in ("on", "off", "status"):
        means = []
        for agent in ("fence_scsi", "fence_pr_native"):
            times = [r.seconds for r in by_agent[agent] if r.step[1] == action]
            means.append(sum(times) / len(times))
        lines.append(f"mean {action:<29} {means[0]:9.2f} s {means[1]:14.2f} s")
    return "\n".join(lines)


def save(name: str, data: object) -> None:
    out = os.environ.get("PRLAB_OUT")
    if out:
        Path(out, name).write_text(json.dumps(data, indent=1))


@pytest.mark.parametrize("count", [1, 3])
def test_differential_against_fence_scsi(
    count: int,
    lus: list[LU],
    tmp_path: Path,
    cmapctl: str,
    initiators: list[Initiator],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """fence_scsi and fence_pr_native, the same steps on the same LUs (reset
    before each agent's turn): the same PR state and exit code after each.
    fence_pr_native's second off and its status actions change no
    generation."""
    if len(lus) < count:
        pytest.skip(f"needs {count} LUs (LabConfig.extra_lus={count - 1})")
    chosen, nodes = lus[:count], Nodes(tmp_path, cmapctl)
    results: list[Result] = []
    states: dict[str, list[list[list[Row]]]] = {}
    gens: list[list[int]] = []
    for agent in AGENTS:
        for lu in chosen:
            reset(lu)
        states[agent] = []
        for node, action, plug in STEPS:
            results.append(nodes.run(agent, chosen, node, action, plug))
            states[agent].append([pr_state(lu) for lu in chosen])
            if agent == "fence_pr_native":
                gens.append(generations(chosen))
    with capsys.disabled():
        print(f"\n{count} device(s), seconds per action (TCG guest):\n{timing_table(results)}")
    save(f"fencing-differential-{count}.json", [r.__dict__ for r in results])
    theirs = [r for r in results if r.agent == "fence_scsi"]
    ours = [r for r in results if r.agent == "fence_pr_native"]
    for step, a, b, sa, sb in zip(
        STEPS, theirs, ours, states["fence_scsi"], states["fence_pr_native"]
    ):
        assert (a.status, sa) == (b.status, sb), (step, a.output, b.output)
    name = {i.label: i.name for i in initiators}
    one, two = name["A"], name["B"]
    expected = [
        [(K1, one, True, WERO)],
        sorted([(K1, one, True, WERO), (K2, two, False, None)]),
        [(K2, two, True, WERO)],
        [(K2, two, True, WERO)],
        [(K2, two, True, WERO)],
        [(K2, two, True, WERO)],
        sorted([(K2, two, True, WERO), (K1, one, False, None)]),
    ]
    assert states["fence_pr_native"] == [[rows] * count for rows in expected]
    assert [r.status for r in ours] == [0, 0, 0, 2, 2, 0, 0]
    assert "Success: Already OFF" in ours[5].output and "Already OFF" in theirs[5].output
    # status twice, then off again: nothing sent
    assert gens[2] == gens[3] == gens[4] == gens[5], gens


def test_every_action_twice_sends_no_pr_out_the_second_time(
    lus: list[LU], tmp_path: Path, cmapctl: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """fence_pr_native's on and monitor twice on three LUs (off and status
    twice: the differential): the second changes no generation.  Then the
    library: unfence and fence again send nothing."""
    chosen = lus[:3]
    for lu in chosen:
        reset(lu)
    nodes = Nodes(tmp_path, cmapctl)
    agent = "fence_pr_native"
    report = []
    for node, action, plug in (("node1", "on", "node1"), ("node2", "monitor", "node2")):
        if action == "monitor":
            assert nodes.run(agent, chosen, "node2", "on", "node2").status == 0
        first = nodes.run(agent, chosen, node, action, plug)
        middle = generations(chosen)
        second = nodes.run(agent, chosen, node, action, plug)
        after = generations(chosen)
        report.append((node, action, first.status, second.status, middle, after))
        assert (first.status, second.status) == (0, 0), (first.output, second.output)
        assert after == middle, f"{node} {action}: the second run changed the state: {report[-1]}"
    with capsys.disabled():
        print("\n(node, action, exit status, again, generations after the first, the second)")
        print("\n".join(str(r) for r in report))
    devices = [lu.sg["B"] for lu in chosen]
    assert fencing.unfence(devices, K2).sent == 0
    assert fencing.fence(devices, K2, K1).ok
    assert fencing.fence(devices, K2, K1).sent == 0
    assert fencing.status(devices, K2).ok


# ------------------------------------------ PREEMPT AND ABORT stopped mid-way ----

FENCER = r"""
import json, os, signal, sys
import pr_native as pr
from pr_native import fencing

original = pr.Device.preempt_and_abort

def announced(self, *args, **kwargs):
    print(json.dumps({"sending": True}), flush=True)
    return original(self, *args, **kwargs)

pr.Device.preempt_and_abort = announced
signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with it ignored
device, key, victim = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
print(json.dumps({"ready": os.getpid()}), flush=True)
report = fencing.fence([device], key, victim, timeout=60.0)
d = report.devices[0]
print(json.dumps({
    "ok": report.ok,
    "actions": [[a.command, a.outcome, a.error] for a in d.actions],
    "decisions": list(d.decisions),
    "generations": [d.before.generation, d.after.generation],
}), flush=True)
"""


def _lines(process: subprocess.Popen[str]) -> Iterator[dict[str, Any]]:
    assert process.stdout is not None
    for line in process.stdout:
        yield json.loads(line)


class _netem:
    """``with _netem() as round_trip``: ``delay_ms`` of delay on lo (both
    ways: a command is in flight for twice that)."""

    def __init__(self, delay_ms: int = 300) -> None:
        self.delay_ms = delay_ms

    def __enter__(self) -> float:
        subprocess.run(["modprobe", "sch_netem"], check=True)
        add = ["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", f"{self.delay_ms}ms"]
        subprocess.run(add, check=True)
        return 2 * self.delay_ms / 1000

    def __exit__(self, *exc_info: object) -> None:
        subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], check=True)


@pytest.mark.parametrize("interrupt", [False, True], ids=["stopped", "interrupted"])
def test_preempt_and_abort_stopped_mid_command_ends_verified(
    interrupt: bool,
    lus: list[LU],
    initiators: list[Initiator],
    processes: list[subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The fencing process is stopped while its PREEMPT AND ABORT is in
    flight and continued after the answer arrived (the wait resumes: the
    outcome is known); or it gets SIGINT while the command is in flight
    (KeyboardInterrupt in the wait: OutcomeUnknown, and the state read after
    decides).  Either way the command runs once (generation +1) and the
    fence ends verified."""
    lu = lus[0]
    reset(lu)
    assert fencing.unfence([lu.sg["A"]], K1).ok
    assert fencing.unfence([lu.sg["B"]], K2).ok
    with _netem() as round_trip:
        child = subprocess.Popen(
            [sys.executable, "-c", FENCER, lu.sg["B"], f"{K2:x}", f"{K1:x}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(child)
        lines = _lines(child)
        pid = next(lines)["ready"]
        assert next(lines) == {"sending": True}
        assert wait_for(lambda: waiting_for_device(pid, None), 5.0), "never waited for the device"
        time.sleep(round_trip / 3)
        if interrupt:
            os.kill(pid, signal.SIGINT)
        else:
            os.kill(pid, signal.SIGSTOP)
            assert wait_for(lambda: task_state(pid) == "T", 5.0)
            time.sleep(round_trip + 0.5)  # the answer arrives while the process is stopped
            os.kill(pid, signal.SIGCONT)
        outcome = next(lines)
    assert child.wait(timeout=60) == 0
    with capsys.disabled():
        print("\n" + json.dumps(outcome, indent=1))
    assert outcome["ok"], outcome
    before, after = outcome["generations"]
    assert after == before + 1, "PREEMPT AND ABORT ran more than once, or not at all"
    expected = "unknown" if interrupt else "done"
    assert [a[:2] for a in outcome["actions"]] == [["PREEMPT AND ABORT", expected]]
    if interrupt:
        assert any("outcome unknown" in d for d in outcome["decisions"])
    assert pr_state(lu) == [(K2, initiators[1].name, True, WERO)]


# ------------------------------------------------------ a multipath node ----


def _dmsetup(*args: str) -> None:
    done = subprocess.run(["dmsetup", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"dmsetup {' '.join(args)}: {done.stderr}"


@pytest.fixture
def multipath_node(lus: list[LU]) -> Iterator[str]:
    """Node 1's LU 0 as a dm-multipath node over two of this host's
    sessions (A and C: two I_T nexuses), as multipath-tools would name it."""
    lu = lus[0]
    subprocess.run(["modprobe", "-a", "dm_multipath", "dm_round_robin"], check=True)
    sectors = Path(f"/sys/block/{Path(lu.sd['A']).name}/size").read_text().strip()
    table = f"0 {sectors} multipath 0 0 1 1 round-robin 0 2 1 {lu.sd['A']} 1 {lu.sd['C']} 1"
    _dmsetup("create", "prlab-fencing", "-u", "mpath-prlab-fencing", "--table", table)
    _dmsetup("mknodes", "prlab-fencing")  # no udev in the guest
    try:
        yield "/dev/mapper/prlab-fencing"
    finally:
        _dmsetup("remove", "--retry", "prlab-fencing")
        _dmsetup("mknodes")


def test_a_multipath_node_is_registered_and_fenced_on_every_path(
    lus: list[LU], multipath_node: str
) -> None:
    """unfence registers every path of the node and reserves through one;
    again, nothing; node 2's fence removes both paths' registrations (one
    PREEMPT AND ABORT); unfence then refuses (REGISTRATIONS PREEMPTED on
    both paths) unless after_fenced."""
    lu = lus[0]
    reset(lu)
    first = fencing.unfence([multipath_node], K1)
    assert first.ok, first
    device = first.devices[0]
    assert [(a.command, a.path) for a in device.actions] == [
        ("REGISTER AND IGNORE EXISTING KEY", lu.sd["A"]),
        ("REGISTER AND IGNORE EXISTING KEY", lu.sd["C"]),
        ("RESERVE", lu.sd["A"]),
    ]
    assert [(p.node, p.registered) for p in device.paths] == [
        (lu.sg["A"], True),
        (lu.sg["C"], True),
    ]
    assert fencing.unfence([multipath_node], K1).sent == 0
    assert fencing.status([multipath_node], K1).ok
    assert fencing.unfence([lu.sg["B"]], K2).ok
    fenced = fencing.fence([lu.sg["B"]], K2, K1)
    assert fenced.ok and fenced.sent == 1
    refused = fencing.unfence([multipath_node], K1)
    assert refused.devices[0].verdict == fencing.Verdict.FENCED and refused.sent == 0
    assert {u.path for u in refused.devices[0].unit_attentions} == {lu.sd["A"], lu.sd["C"]}
    back = fencing.unfence([multipath_node], K1, after_fenced=True)
    assert back.ok and [p.registered for p in back.devices[0].paths] == [True, True]
    with pr.Device(lu.sg["B"]) as b:
        keys = sorted(b.read_keys().keys)
    assert keys == sorted([K1, K1, K2])


# ---------------------------------------- fenced, then status and monitor ----


def test_a_fenced_node_stays_refused_after_its_status_and_monitor(
    lus: list[LU], tmp_path: Path, cmapctl: str, initiators: list[Initiator]
) -> None:
    """Node 2 fences node 1; node 1's status and monitor (agent) and its
    library status read the LU, and what unit attention is left is drained:
    unfence without after_fenced still refuses, from the LUs node 1's `on`
    kept in its store (STORE.lu), and with the flag lets it back in."""
    lu = lus[0]
    reset(lu)
    nodes, agent = Nodes(tmp_path, cmapctl), "fence_pr_native"
    for node, action, plug, status in (
        ("node1", "on", "node1", 0),
        ("node2", "on", "node2", 0),
        ("node2", "off", "node1", 0),
        ("node1", "status", "node1", 2),
        ("node1", "monitor", "node1", 1),
    ):
        done = nodes.run(agent, [lu], node, action, plug)
        assert done.status == status, (node, action, done.output)
    assert not fencing.status([lu.sg["A"]], K1).ok
    with pr.Device(lu.sg["A"], timeout=20.0) as a:
        drain_unit_attentions(a)  # nothing left for unfence to see
        lu_name = a.identify().lu_name
    (store,) = (tmp_path / agent / "node1").rglob("*.lu")
    known = fence_agent.stored_registrations({"store_path": str(store)[: -len(".lu")]}, K1)
    assert known == [lu_name]
    generation = generations([lu])
    refused = fencing.unfence([lu.sg["A"]], K1, registered_on=known)
    assert refused.devices[0].verdict == fencing.Verdict.FENCED, refused
    assert refused.sent == 0 and generations([lu]) == generation
    back = fencing.unfence([lu.sg["A"]], K1, registered_on=known, after_fenced=True)
    assert back.ok, back
    one, two = initiators[0].name, initiators[1].name
    assert pr_state(lu) == sorted([(K2, two, True, WERO), (K1, one, False, None)])


# ------------------------------------------ a path that stops answering ----

TIMEOUT = 2.0  # the operation's; the netem round trip is twice as long


def test_a_single_device_that_stops_answering_ends_at_the_timeout(
    lus: list[LU], initiators: list[Initiator], capsys: pytest.CaptureFixture[str]
) -> None:
    """A 4 s round trip on lo: every command outlives the operation's
    timeout (and the SCSI error handler's abort takes a round trip more).
    status (on a read-write /dev/sgN: the sg queue; read-only: SG_IO) and
    fence on one device return at their timeout plus the 0.5 s margin,
    TIMED_OUT, nothing sent; once the delay is gone the LU answers."""
    lu = lus[0]
    reset(lu)
    assert fencing.unfence([lu.sg["A"]], K1).ok and fencing.unfence([lu.sg["B"]], K2).ok
    operations: dict[str, Callable[[], fencing.Report]] = {
        "status": lambda: fencing.status([lu.sg["A"]], K1, timeout=TIMEOUT),
        "read-only status": lambda: fencing.status(
            [lu.sg["A"]], K1, read_only=True, timeout=TIMEOUT
        ),
        "fence": lambda: fencing.fence([lu.sg["A"]], K1, K2, timeout=TIMEOUT),
    }
    ended: dict[str, tuple[float, fencing.DeviceReport]] = {}
    with _netem(2000):
        for name, operation in operations.items():
            started = time.monotonic()
            report = operation()
            ended[name] = (time.monotonic() - started, report.devices[0])
    recovered = time.monotonic()
    wait_for(_answers(lu.sg["A"]), 120.0, 0.5)
    with capsys.disabled():
        for name, (seconds, device) in ended.items():
            print(f"\n{name}: {seconds:.2f} s, {device.verdict.value}: {device.error}")
        print(f"the LU answered again {time.monotonic() - recovered:.1f} s after the delay went")
    for name, (seconds, device) in ended.items():
        assert seconds < TIMEOUT + fencing._WAIT_MARGIN + 1.0, (name, seconds)
        assert device.verdict == fencing.Verdict.TIMED_OUT, (name, device)
        assert device.actions == ()
    one, two = initiators[0].name, initiators[1].name
    assert pr_state(lu) == sorted([(K1, one, True, WERO), (K2, two, False, None)])


def _answers(node: str) -> Callable[[], bool]:
    def answered() -> bool:
        try:
            with pr.Device(node, timeout=5.0) as dev:
                drain_unit_attentions(dev)
                dev.read_keys()
        except (pr.PRError, OSError, AssertionError):
            return False
        return True

    return answered


# ------------------------------------------------------ a new ISID ----


def relogin(label: str, name: str) -> str:
    """Log initiator ``label``'s session out and in again (open-iscsi gives
    the new session a new ISID); returns its new /dev/sgN for LUN 0."""
    base = ["iscsiadm", "-m", "node", "-T", os.environ["PRLAB_TARGET"], "-p", "127.0.0.1:3260"]
    subprocess.run([*base, "-I", f"prlab{label}", "--logout"], check=True, capture_output=True)
    subprocess.run([*base, "-I", f"prlab{label}", "--login"], check=True, capture_output=True)

    def node() -> str | None:
        for session in Path("/sys/class/iscsi_session").iterdir():
            if (session / "initiatorname").read_text().strip() != name:
                continue
            for sg in session.glob("device/target*/*:*:*:0/scsi_generic/sg*"):
                path = f"/dev/{sg.name}"
                if os.path.exists(path):
                    return path
        return None

    found = wait_for(node, 30.0, 0.1)
    assert found, f"initiator {label} did not come back"
    with pr.Device(found, timeout=20.0) as dev:
        deadline = time.monotonic() + 30
        while True:
            try:
                drain_unit_attentions(dev)
                break
            except (pr.PRError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    return str(found)


def test_stale_nexus_is_removed_after_a_new_login(
    lus: list[LU], initiators: list[Initiator], capsys: pytest.CaptureFixture[str]
) -> None:
    """Node 1 registered and reserved through session A; A logs out and in
    (a new ISID, a new I_T nexus); unfence finds its key registered through
    a nexus it no longer has: that registration goes, the live one comes,
    and the reservation moves to it.  Runs last: A's device nodes change."""
    lu = lus[0]
    reset(lu)
    name_a = initiators[0].name
    first = fencing.unfence([lu.sg["A"]], K1)
    assert first.ok
    old_port = first.devices[0].paths[0].initiator_port
    with pr.Device(lu.sg["C"]) as c:
        (registrant,) = c.read_full_status().registrants
    assert registrant.transport_id == old_port  # the ISID derived from sysfs is LIO's
    node = relogin("A", name_a)
    report = fencing.unfence([node], K1)
    device = report.devices[0]
    with capsys.disabled():
        print(f"\nunfence after the new login ({old_port} -> {device.paths[0].initiator_port}):")
        for action in device.actions:
            print(f"  {action.command} on {action.path}: {action.outcome} ({action.reason})")
        for text in (*device.decisions, *map(str, device.unit_attentions)):
            print(f"  {text}")
    assert report.ok, report
    new_port = device.paths[0].initiator_port
    assert isinstance(new_port, pr.ISCSITransportID) and new_port != old_port
    commands = [a.command for a in device.actions]
    assert commands[:2] == ["REGISTER AND IGNORE EXISTING KEY", "PREEMPT"], commands
    assert str(old_port) in device.actions[1].reason
    with pr.Device(lu.sg["C"]) as c:
        after = c.read_full_status()
    assert [(r.key, r.transport_id, r.holder) for r in after.registrants] == [(K1, new_port, True)]
    assert device.paths[0].registered
    assert fencing.unfence([node], K1).sent == 0
