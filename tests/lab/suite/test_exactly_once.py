"""A PERSISTENT RESERVE OUT reaches the device at most once, and every wait
ends, whatever happens to the sender or the path while it is in flight.

Runs in the "iscsi-delay" lab configuration only (iSCSI with netem delay on
the loopback, so that a command stays in flight for a round trip of about
twice the delay); the other configurations skip it.

- The sender is stopped and continued mid-command (SIGSTOP, SIGCONT: Ctrl-Z
  and fg, a debugger attaching).  The sg driver's SG_IO orphans the request
  and the restarted ioctl queues the same command again, so a REGISTER that
  changes a key runs twice (the copy then gets RESERVATION CONFLICT) and a
  REGISTER AND IGNORE EXISTING KEY silently bumps the generation twice.
- A storm of SIGALRM with a Python handler during the command.
- The LU unmapped from the initiator's ACL, or the initiator's session ended
  by the target, while the command is in flight.
- The portal group disabled for a few seconds under a polling loop: every
  round ends within its timeout plus a margin, and the devices come back.
- ``pr-native watch`` and ``pr-native exporter`` end promptly on SIGTERM,
  also while a path is stalled.

The PR state is always read from another initiator (READ FULL STATUS), and
the generation tells how many times a command ran.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Optional

import pytest

import pr_native as pr
from pr_native.poll import Poller, PollResult

from .conftest import KEY_A, KEY_B, Initiator, drain_unit_attentions, reset_logical_unit
from .test_exporter import Exporter
from .test_watch import Watch

T = pr.ReservationType
WAIT = 60.0  # seconds: a generous bound for anything that should happen (TCG is slow)
SG_IO = 0x2285
# x86_64 system calls a process waiting for an sg command sits in.
WAITING_SYSCALLS = {
    0: "read",
    7: "poll",
    16: "ioctl",
    23: "select",
    232: "epoll_wait",
    270: "pselect6",
    271: "ppoll",
    281: "epoll_pwait",
    441: "epoll_pwait2",
}
SIGTERM_EXIT = 1.0  # seconds from SIGTERM to the exit of watch / exporter
SIGTERM_WAIT = 15.0  # how long to wait for that exit before giving up
POLL_TIMEOUT = 2.0  # the polling rounds' command timeout while the portal is disabled
POLL_MARGIN = 2.0  # how much longer than POLL_TIMEOUT a round may take
OUTAGE = 5.0  # seconds the portal group stays disabled
POLL_INTERVAL = 0.5  # seconds between polling rounds
RECOVERY = 60.0  # seconds of rounds allowed after re-enabling, for the reconnect


#: (key, holder, type, initiator port name) of one registrant
Row = tuple[int, bool, Optional[int], str]


def _seconds(text: str) -> float:
    """A tc time ("300ms", "500us", "1s"; no unit: microseconds) in seconds."""
    match = re.fullmatch(r"([0-9.]+)(us|ms|s)?", text)
    assert match, f"bad latency {text!r}"
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, None: 1e-6}[match.group(2)]
    return float(match.group(1)) * scale


@pytest.fixture(scope="module", autouse=True)
def round_trip(lab_info: dict[str, object]) -> float:
    """Seconds a command spends in flight on the delayed path (two delays)."""
    latency = str(lab_info.get("latency") or "")
    if lab_info["fabric"] != "iscsi" or not latency:
        pytest.skip("needs the iSCSI fabric with netem latency (lab configuration iscsi-delay)")
    return 2 * _seconds(latency)


# ---------------------------------------------------------- the sender ----

SENDER = r"""
import json, os, sys, time
import pr_native as pr

devices = {}
print(json.dumps({"ready": os.getpid()}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    path = request["device"]
    if path not in devices:
        devices[path] = pr.Device(path, timeout=request["timeout"])
    kwargs = dict(request["kwargs"])
    if "type" in kwargs:
        kwargs["type"] = pr.ReservationType(kwargs["type"])
    call = getattr(devices[path], request["call"])
    fds = [
        int(fd)
        for fd in os.listdir("/proc/self/fd")
        if os.path.realpath(f"/proc/self/fd/{fd}") == path
    ]
    started = time.monotonic()
    print(json.dumps({"go": started, "fds": fds}), flush=True)
    outcome = {"error": None}
    try:
        call(*request["args"], **kwargs)
    except Exception as error:
        sense = getattr(error, "sense", None)
        outcome = {
            "error": type(error).__name__,
            "message": str(error),
            "cause": repr(error.__cause__),
            "asc": None if sense is None else [sense.asc, sense.ascq],
        }
    outcome.update(started=started, ended=time.monotonic())
    print(json.dumps(outcome), flush=True)
"""


class Sender:
    """A separate Python process that sends PR OUT commands on request, so
    that it can be stopped, continued and signalled on its own."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SENDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.pid = self.process.pid
        assert self._next()["ready"] == self.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(json.loads(line))

    def _next(self) -> dict[str, Any]:
        try:
            return self._lines.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"the sender (pid {self.pid}) said nothing for {WAIT} s") from None

    def start(self, device: str, call: str, *args: int, **kwargs: int) -> dict[str, Any]:
        """Ask for ``device.call(*args, **kwargs)``; returns when it begins
        (``go``: its monotonic start time, ``fds``: the device's descriptors)."""
        request = {"device": device, "call": call, "args": args, "kwargs": kwargs, "timeout": 20.0}
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self._next()

    def outcome(self) -> dict[str, Any]:
        """What the call returned: ``error`` (None, or the exception's class
        name), ``started`` and ``ended`` (monotonic)."""
        return self._next()


@pytest.fixture
def sender(processes: list[subprocess.Popen[str]]) -> Sender:
    started = Sender()
    processes.append(started.process)
    return started


def task_state(pid: int) -> str:
    """The process's state letter (R, S, D, T, ...)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


def waiting_for_device(pid: int, fds: list[int] | None) -> str | None:
    """How a thread of ``pid`` waits for a device in the kernel (e.g.
    "ioctl SG_IO in sg_ioctl"), or None when none does.  ``fds``: the
    device's descriptors (None: any)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "syscall").read_text().split()
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
            wchan = (task / "wchan").read_text().strip()
        except OSError:
            continue
        if state not in "SD" or not fields or not fields[0].isdigit():
            continue
        number = int(fields[0])
        args = [int(a, 16) for a in fields[1:7]]
        if number not in WAITING_SYSCALLS:
            continue
        if number == 16 and args[1] != SG_IO:
            continue
        if number in (0, 16) and (args[0] not in fds if fds is not None else args[0] <= 2):
            continue
        name = WAITING_SYSCALLS[number] + (" SG_IO" if number == 16 else "")
        return f"{name} in {wchan}"
    return None


def wait_for(predicate: Callable[[], object], limit: float, step: float = 0.005) -> Any:
    deadline = time.monotonic() + limit
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)


@dataclass
class Trial:
    stop_after: float
    waiting: str
    outcome: dict[str, Any]
    generation: tuple[int, int]
    state: list[Row]

    def line(self) -> str:
        before, after = self.generation
        return (
            f"stop after {self.stop_after:.3f} s ({self.waiting}): {self.outcome['error'] or 'ok'}"
            f"{' (' + self.outcome['message'] + ')' if self.outcome['error'] else ''}, "
            f"generation {before:#x} -> {after:#x}, state {self.state}, "
            f"call took {self.outcome['ended'] - self.outcome['started']:.3f} s"
        )


def state(status: pr.FullStatus) -> list[Row]:
    """(key, holder, type, initiator port name) of every registrant."""
    rows = []
    for r in status.registrants:
        name = getattr(r.transport_id, "name", repr(r.transport_id))
        rows.append((r.key, r.holder, None if r.type is None else int(r.type), name))
    return sorted(rows)


def stop_and_continue(
    sender: Sender,
    observer: pr.Device,
    stop_after: float,
    hold: float,
    command: tuple[str, str, tuple[int, ...], dict[str, int]],
) -> Trial:
    """Run one PR OUT in the sender (``command``: device, method, arguments,
    keyword arguments) and stop it ``stop_after`` seconds into the command
    for ``hold`` seconds; the generation before and after comes from
    ``observer``."""
    device, call, args, kwargs = command
    before = observer.read_full_status().generation
    go = sender.start(device, call, *args, **kwargs)
    pid = sender.pid
    waiting = wait_for(lambda: waiting_for_device(pid, go["fds"]), 2.0)
    assert waiting, f"the sender never waited for {device} (state {task_state(pid)})"
    time.sleep(max(0.0, go["go"] + stop_after - time.monotonic()))
    waiting = waiting_for_device(pid, go["fds"])
    assert waiting, f"the command ended within {stop_after:.3f} s: no stop in flight"
    os.kill(pid, signal.SIGSTOP)
    stopped = time.monotonic()
    assert wait_for(lambda: task_state(pid) == "T", 5.0), "SIGSTOP did not stop the sender"
    time.sleep(hold)  # the device's answer arrives while the sender is stopped
    assert task_state(pid) == "T"
    continued = time.monotonic()
    os.kill(pid, signal.SIGCONT)
    outcome = sender.outcome()
    # The call was still running when the sender was stopped and continued.
    assert outcome["started"] < stopped < continued < outcome["ended"], (outcome, stopped)
    after = observer.read_full_status()
    return Trial(stop_after, waiting, outcome, (before, after.generation), state(after))


STOP_POINTS = (0.1, 0.3, 0.5, 0.7)  # fractions of the round trip


def _check(trials: list[Trial], expected: list[list[Row]]) -> None:
    report = "\n".join(t.line() for t in trials)
    bad = [
        t
        for t, want in zip(trials, expected)
        if t.outcome["error"] not in (None, "OutcomeUnknown")
        or t.generation[1] != t.generation[0] + 1
        or t.state != want
    ]
    if bad:
        pytest.fail(
            f"{len(bad)} of {len(trials)} trials ran more than once or failed:\n{report}",
            pytrace=False,
        )


def _preempt_setup(
    devices: list[pr.Device], names: list[str], victim: int, last: Trial | None
) -> tuple[str, str, tuple[int, ...], dict[str, int]]:
    """A PREEMPT of initiator ``victim`` (0: A, 1: B), the reservation
    holder, by the other one.  After a trial that left the other initiator
    holding alone (the state a PREEMPT gives), the old victim only registers
    again and preempts in turn; otherwise the LU is reset first."""
    keys = (KEY_A, KEY_B)
    preemptor = 1 - victim
    ea = int(T.EXCLUSIVE_ACCESS)
    if last is not None and last.state == [(keys[victim], True, ea, names[victim])]:
        drain_unit_attentions(devices[preemptor])  # REGISTRATIONS PREEMPTED
        devices[preemptor].register(keys[preemptor])
    else:
        reset_logical_unit(devices)
        devices[victim].register(keys[victim])
        devices[victim].reserve(keys[victim], T.WRITE_EXCLUSIVE)
        devices[preemptor].register(keys[preemptor])
    path = devices[preemptor].path
    return (path, "preempt", (keys[preemptor], keys[victim]), {"type": ea})


@pytest.mark.parametrize("action", ["register", "register_and_ignore", "preempt"])
def test_stopped_and_continued_mid_command(
    action: str,
    sender: Sender,
    devices: list[pr.Device],
    initiators: list[Initiator],
    round_trip: float,
) -> None:
    """SIGSTOP while the PR OUT is in flight, SIGCONT after its answer has
    arrived: the command runs exactly once (generation +1, the state asked
    for) and the caller gets success or OutcomeUnknown, never the
    RESERVATION CONFLICT a resent copy earns.

    REGISTER changes A's key; REGISTER AND IGNORE EXISTING KEY sets it (each
    copy that runs bumps the generation); PREEMPT takes the reservation and
    the registration of the other initiator (A and B in turn)."""
    a, c = devices[0], devices[2]
    names = [i.name for i in initiators]
    trials: list[Trial] = []
    expected: list[list[Row]] = []
    for i, point in enumerate(STOP_POINTS):
        old, new = KEY_A + (i << 8), KEY_A + ((i + 1) << 8)
        want: list[Row] = [(new, False, None, names[0])]
        command: tuple[str, str, tuple[int, ...], dict[str, int]]
        if action == "register":
            a.register_and_ignore(old)
            command = (a.path, "register", (new,), {"key": old})
        elif action == "register_and_ignore":
            command = (a.path, "register_and_ignore", (new,), {})
        else:
            victim = i % 2
            command = _preempt_setup(devices, names, victim, trials[-1] if trials else None)
            preemptor = 1 - victim
            want = [((KEY_A, KEY_B)[preemptor], True, int(T.EXCLUSIVE_ACCESS), names[preemptor])]
        trials.append(stop_and_continue(sender, c, point * round_trip, round_trip + 0.5, command))
        expected.append(want)
    print("\n".join(t.line() for t in trials))
    _check(trials, expected)


# --------------------------------------------------------- SIGALRM storm ----


def test_sigalrm_storm_during_pr_out(
    a: pr.Device,
    c: pr.Device,
    initiators: list[Initiator],
) -> None:
    """An interval timer fires every 5 ms into a Python handler while a
    REGISTER is in flight: it runs once, succeeds, and the handler ran."""
    a.register(KEY_A)
    before = c.read_full_status().generation
    handled = 0

    def count(signum: int, frame: FrameType | None) -> None:
        nonlocal handled
        handled += 1

    previous = signal.signal(signal.SIGALRM, count)
    error: Exception | None = None
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.005, 0.005)
        started = time.monotonic()
        try:
            a.register(KEY_B, key=KEY_A)
        except pr.PRError as raised:
            error = raised
        finally:
            took = time.monotonic() - started
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    after = c.read_full_status()
    seen = (after.generation - before, state(after), error)
    print(f"{seen}, {handled} signals handled, call {took:.3f} s")
    assert seen == (1, [(KEY_B, False, None, initiators[0].name)], None), (
        f"{seen}, {handled} signals handled, the call took {took:.3f} s"
    )
    assert handled > 0


# ------------------------------------------------------ the path breaks ----


class PathBreak:
    """Break initiator A's path at the target, and mend it.

    ``unmap``: remove the lun_0 mapping from A's ACL (configfs symlink under
    tpgt_1/acls/<name>/lun_0); LIO then answers A from its write-protected
    virtual LUN 0.  ``session``: give A's ACL another cmdsn_depth, which
    makes LIO end A's session (as a failed connection or a logout does); the
    initiator logs in again at once.
    """

    def __init__(self, kind: str, lab_info: dict[str, object], initiator: Initiator) -> None:
        self.kind = kind
        tpg = Path("/sys/kernel/config/target/iscsi", str(lab_info["target"]), "tpgt_1")
        acl = tpg / "acls" / initiator.name
        self.link = acl / "lun_0" / "lun_0"
        self.lun = tpg / "lun" / "lun_0"
        self.depth = acl / "cmdsn_depth"
        self.original_depth = int(self.depth.read_text())

    def break_(self) -> None:
        if self.kind == "unmap":
            self.link.unlink()
        else:
            depth = int(self.depth.read_text())
            self.depth.write_text(f"{depth + 1 if depth < 128 else depth - 1}\n")

    def mend(self) -> None:
        if self.kind == "unmap" and not self.link.is_symlink():
            os.symlink(self.lun, self.link)


def wait_until_usable(dev: pr.Device, limit: float = 120.0) -> float:
    """TEST UNIT READY until GOOD (unit attentions drained, transport errors
    retried while the session comes back); returns the seconds it took."""
    started = time.monotonic()
    while True:
        try:
            drain_unit_attentions(dev)
            return time.monotonic() - started
        except (pr.PRError, OSError):
            if time.monotonic() - started > limit:
                raise
            time.sleep(0.5)


@pytest.fixture(params=["unmap", "session"])
def path_break(
    request: pytest.FixtureRequest,
    lab_info: dict[str, object],
    initiators: list[Initiator],
    devices: list[pr.Device],
) -> Iterator[PathBreak]:
    breaker = PathBreak(request.param, lab_info, initiators[0])
    try:
        yield breaker
    finally:
        breaker.mend()
        depth = int(breaker.depth.read_text())
        if breaker.kind == "session" and depth != breaker.original_depth:
            breaker.depth.write_text(f"{breaker.original_depth}\n")
        for dev in devices:
            wait_until_usable(dev)


def test_path_lost_mid_command(
    path_break: PathBreak,
    sender: Sender,
    a: pr.Device,
    c: pr.Device,
    initiators: list[Initiator],
    round_trip: float,
) -> None:
    """The path breaks while A's REGISTER AND IGNORE EXISTING KEY is in
    flight: A gets success (the target answered first), OutcomeUnknown, or,
    for an unmapped LUN, the target's own DATA PROTECT refusal; never a plain
    OSError.  The state matches: one execution, or none."""
    name_a = initiators[0].name
    report: list[str] = []
    bad: list[str] = []
    for point in (0.15, 0.75):
        a.register_and_ignore(KEY_A)
        before = c.read_full_status().generation
        go = sender.start(a.path, "register_and_ignore", KEY_B)
        fds: list[int] = go["fds"]
        assert wait_for(functools.partial(waiting_for_device, sender.pid, fds), 2.0)
        time.sleep(max(0.0, go["go"] + point * round_trip - time.monotonic()))
        in_flight = waiting_for_device(sender.pid, go["fds"])
        path_break.break_()
        outcome = sender.outcome()
        time.sleep(0.2)
        path_break.mend()
        recovered = wait_until_usable(a)
        after = c.read_full_status()
        delta, now = after.generation - before, state(after)
        if path_break.kind == "unmap":
            # LIO frees the registrations of an I_T nexus whose LUN mapping
            # goes (no generation change): only the generation tells.
            ran: tuple[int, list[Row]] = (1, [])
            not_ran: tuple[int, list[Row]] = (0, [])
        else:
            ran = (1, [(KEY_B, False, None, name_a)])
            not_ran = (0, [(KEY_A, False, None, name_a)])
        error = outcome["error"]
        allowed = {
            None: [ran],
            "OutcomeUnknown": [ran, not_ran],
            # LIO's virtual LUN 0 refuses the command: a definite answer.
            "DataProtect": [not_ran] if path_break.kind == "unmap" else [],
        }
        line = (
            f"break after {point * round_trip:.3f} s ({in_flight}): {error or 'ok'} "
            f"{outcome.get('message', '')} cause={outcome.get('cause')}, generation +{delta}, "
            f"state {now}, usable again after {recovered:.1f} s"
        )
        report.append(line)
        assert in_flight, line
        if (delta, now) not in allowed.get(error, []):
            bad.append(line)
    print("\n".join(report))
    if bad:
        pytest.fail(f"{len(bad)} of {len(report)} trials:\n" + "\n".join(report), pytrace=False)


# ------------------------------------------------- the portal goes away ----


class Portal:
    """The iSCSI target's portal group (tpgt_1/enable)."""

    def __init__(self, lab_info: dict[str, object]) -> None:
        tpg = Path("/sys/kernel/config/target/iscsi", str(lab_info["target"]), "tpgt_1")
        self.enable_file = tpg / "enable"
        self.enabled = threading.Event()
        self.enabled.set()
        self.enabled_at = 0.0

    def disable(self) -> None:
        self.enabled.clear()
        self.enable_file.write_text("0\n")

    def enable(self) -> None:
        self.enable_file.write_text("1\n")
        self.enabled_at = time.monotonic()
        self.enabled.set()


@pytest.fixture
def portal(lab_info: dict[str, object], devices: list[pr.Device]) -> Iterator[Portal]:
    """Re-enabled at the end, and every initiator usable again."""
    group = Portal(lab_info)
    try:
        yield group
    finally:
        if not group.enabled.is_set() or group.enable_file.read_text().strip() != "1":
            group.enable()
        for dev in devices:
            wait_until_usable(dev)


def _kind(entry: object) -> str:
    return "PollResult" if isinstance(entry, PollResult) else type(entry).__name__


def _rounds_report(rounds: list[tuple[float, float, list[object]]], zero: float) -> str:
    """One line per run of consecutive rounds with the same kinds of entries."""
    lines: list[str] = []
    runs: list[list[tuple[float, float, list[object]]]] = []
    for round_ in rounds:
        if runs and [_kind(e) for e in runs[-1][0][2]] == [_kind(e) for e in round_[2]]:
            runs[-1].append(round_)
        else:
            runs.append([round_])
    for run in runs:
        first, entries = run[0][0], run[0][2]
        errors = {str(e)[:120] for e in entries if not isinstance(e, PollResult)}
        lines.append(
            f"{len(run)} round(s) from {first - zero:+.2f} s, longest "
            f"{max(d for _, d, _ in run):.2f} s: {[_kind(e) for e in entries]}"
            + "".join(f"\n    {error}" for error in sorted(errors))
        )
    return "\n".join(lines)


def test_poll_rounds_end_while_the_portal_is_disabled(
    portal: Portal, devices: list[pr.Device]
) -> None:
    """The portal group is disabled for a few seconds under a polling loop
    (a round every POLL_INTERVAL, as ``watch`` does) with a short timeout:
    every round returns within timeout + margin (the initiator holds the
    commands while it tries to reconnect), the entries of the rounds during
    the outage are errors, and after re-enabling the rounds return
    PollResults again once the initiator has logged in again."""
    rounds: list[tuple[float, float, list[object]]] = []  # start, duration, entries

    def one_round(poller: Poller) -> list[object]:
        started = time.monotonic()
        entries: list[object] = list(poller.poll())
        rounds.append((started, time.monotonic() - started, entries))
        return entries

    with Poller([d.path for d in devices], timeout=POLL_TIMEOUT) as poller:
        assert all(isinstance(e, PollResult) for e in one_round(poller))
        portal.disable()
        disabled = time.monotonic()
        # Re-enabled on time even if a round does not return.
        timer = threading.Timer(OUTAGE, portal.enable)
        timer.start()
        try:
            while not portal.enabled.is_set():
                one_round(poller)
                portal.enabled.wait(POLL_INTERVAL)
            timer.join()
            enabled = portal.enabled_at
            recovered = None
            while time.monotonic() < enabled + RECOVERY:
                if all(isinstance(e, PollResult) for e in one_round(poller)):
                    recovered = time.monotonic() - enabled
                    break
                time.sleep(POLL_INTERVAL)
        finally:
            timer.cancel()
    after = sum(1 for s, _, _ in rounds if s >= enabled)
    report = (
        f"disabled for {enabled - disabled:.2f} s; PollResults again "
        + (f"{recovered:.2f} s after re-enabling" if recovered is not None else "never")
        + f" ({after} rounds after re-enabling)\n"
        + _rounds_report(rounds, disabled)
    )
    print(report)
    assert all(d <= POLL_TIMEOUT + POLL_MARGIN for _, d, _ in rounds), report
    during = [es for s, d, es in rounds if s >= disabled and s + d <= enabled]
    assert during, report
    assert all(isinstance(e, (pr.PRError, OSError)) for es in during for e in es), report
    assert recovered is not None, report


# ------------------------------------------- watch and exporter: SIGTERM ----


def _sigterm(process: subprocess.Popen[str]) -> tuple[int, float]:
    """SIGTERM; returns the exit status (-1: still running after
    SIGTERM_WAIT) and the seconds until the exit."""
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(timeout=SIGTERM_WAIT)
    except subprocess.TimeoutExpired:
        return -1, time.monotonic() - sent
    return status, time.monotonic() - sent


@pytest.mark.parametrize("stalled", [False, True], ids=["healthy", "stalled"])
def test_watch_exits_on_sigterm(
    stalled: bool,
    portal: Portal,
    a: pr.Device,
    c: pr.Device,
    processes: list[subprocess.Popen[str]],
) -> None:
    """``pr-native watch --interval 0.1`` exits (status 0) within a second of
    SIGTERM, also while its polling round is held by a stalled path."""
    w = Watch(a.path, c.path)
    processes.append(w.process)
    w.next("initial", c.path)
    waiting = None
    if stalled:
        portal.disable()
        # The first round after the disable fails at once; the next ones wait
        # for the path to come back.
        w.next("error", c.path)
        time.sleep(1.0)
        waiting = waiting_for_device(w.process.pid, None)
        assert w.process.poll() is None
    status, took = _sigterm(w.process)
    print(f"{took:.3f} s, exit status {status}")
    assert (status, took <= SIGTERM_EXIT) == (0, True), (
        f"exit status {status} after {took:.3f} s (stalled: {stalled}, waiting: {waiting})"
    )


@pytest.mark.parametrize("stalled", [False, True], ids=["healthy", "stalled"])
def test_exporter_exits_on_sigterm(
    stalled: bool,
    portal: Portal,
    a: pr.Device,
    c: pr.Device,
    processes: list[subprocess.Popen[str]],
) -> None:
    """``pr-native exporter`` exits (status 0) within a second of SIGTERM
    after serving a scrape, also while a scrape is held by a stalled path."""
    pytest.importorskip("prometheus_client")
    e = Exporter(a.path, c.path)
    processes.append(e.process)
    assert e.scrape()[f'pr_native_up{{device="{c.path}"}}'] == 1.0
    held = None
    if stalled:
        portal.disable()
        # Scrape in the background until one is held by the stalled path.
        for _ in range(5):
            done = threading.Event()

            def scrape(done: threading.Event = done) -> None:
                try:
                    url = f"http://127.0.0.1:{e.port}/metrics"
                    with urllib.request.urlopen(url, timeout=WAIT) as response:
                        response.read()
                except OSError:
                    pass
                finally:
                    done.set()

            threading.Thread(target=scrape, daemon=True).start()
            if not done.wait(2.0):
                held = True
                break
        assert held, "no scrape was held by the disabled portal"
    status, took = _sigterm(e.process)
    print(f"{took:.3f} s, exit status {status}")
    assert (status, took <= SIGTERM_EXIT) == (0, True), (
        f"exit status {status} after {took:.3f} s (stalled: {stalled})"
    )
