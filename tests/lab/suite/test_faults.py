"""Faults injected into the real target while pr_native works (docs/faults.md).

- PR emulation switched off on the LU (``attrib/emulate_pr``) under a
  polling loop and ``pr-native watch``, PR OUTs sent meanwhile, and
  switched on again.
- A storm of unit attentions: another initiator preempts, releases and
  clears while a ``Device`` and a polling loop read and send PR OUT on the
  victim's nexus.
- A backstore that stalls longer than the command timeout during PR IN and
  PR OUT (the "iscsi-slow-backstore" lab configuration only).

Each fault gives the documented exception, the PR generation counts every
PR OUT that ran (never one more), and the process keeps no descriptor,
memory or CPU from it (tests/lab/suite/usage.py).
"""

from __future__ import annotations

import math
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import pr_native as pr
from pr_native.poll import Poller, PollResult

from .conftest import KEY_A, KEY_B, KEY_C, drain_unit_attentions
from .scsi import BLOCK, LBA, access, execute
from .test_watch import Watch
from .usage import Usage, check

T = pr.ReservationType
UA = pr.UnitAttentionCondition
WAIT = 60.0  # seconds: a generous bound for anything that should happen (TCG is slow)
INTERVAL = 0.1  # seconds between polling rounds, as ``watch --interval 0.1``
ROUND_LIMIT = 5.0  # seconds a round may take on a healthy or refusing path
OUTAGE = 2.0  # seconds PR emulation stays off once the loop has seen it


Round = tuple[float, float, list[object]]  # start, duration, entries


class PollLoop:
    """Polling rounds in a thread, every INTERVAL, as ``watch`` runs them;
    each round's start, duration and entries are kept."""

    def __init__(self, paths: list[str], *, timeout: float = 10.0) -> None:
        self.poller = Poller(paths, timeout=timeout)
        self.rounds: list[Round] = []
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                entries: list[object] = list(self.poller.poll())
                self.rounds.append((started, time.monotonic() - started, entries))
                self._stop.wait(INTERVAL)
        except BaseException as failure:  # re-raised by stop()
            self._failure = failure

    def __enter__(self) -> PollLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(WAIT)
        self.poller.close()
        assert not self._thread.is_alive(), "a polling round never returned"
        if self._failure is not None:
            raise self._failure

    def next_round(self, predicate: Callable[[list[object]], bool]) -> Round:
        """The first round starting from now whose entries satisfy ``predicate``."""
        since = time.monotonic()
        deadline = since + WAIT
        seen = 0
        while time.monotonic() < deadline:
            assert self._failure is None, self._failure
            for round_ in self.rounds[seen:]:
                if round_[0] >= since and predicate(round_[2]):
                    return round_
            seen = len(self.rounds)
            time.sleep(INTERVAL / 2)
        raise AssertionError(f"no such round within {WAIT} s: {self.rounds[-3:]}")


def all_results(entries: list[object]) -> bool:
    return all(isinstance(e, PollResult) for e in entries)


# -------------------------------------------------- PR emulation off ----


def invalid_opcode(error: object) -> bool:
    """ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (20h/00h): how LIO
    answers PR IN and PR OUT with emulate_pr=0."""
    sense = getattr(error, "sense", None)
    return (
        isinstance(error, pr.IllegalRequest)
        and sense is not None
        and (sense.asc, sense.ascq) == (0x20, 0x00)
    )


@pytest.fixture
def emulate_pr(lu_dir: Path, devices: list[pr.Device]) -> Iterator[Path]:
    """The LU's attrib/emulate_pr, which LIO lets change while the LU is
    exported (Linux 6.1 and 6.12: no export check in its store); switched
    on again at the end."""
    switch = lu_dir / "attrib" / "emulate_pr"
    assert switch.read_text().strip() == "1"
    try:
        yield switch
    finally:
        switch.write_text("1\n")


def test_pr_switched_off_under_polling_and_watch(
    emulate_pr: Path,
    a: pr.Device,
    b: pr.Device,
    c: pr.Device,
    processes: list[subprocess.Popen[str]],
) -> None:
    """With PR emulation off, every PR IN and PR OUT is refused with
    ILLEGAL REQUEST 20h/00h: IllegalRequest, never OutcomeUnknown (the
    device said it did not perform it), in every polling round and in
    watch's error event.  LIO keeps the PR state meanwhile but stops
    enforcing the reservation.  Switched on again, rounds return the same
    state as before (none of the refused PR OUTs ran) and watch says back."""
    a.register(KEY_A)
    b.register(KEY_B)
    b.reserve(KEY_B, T.WRITE_EXCLUSIVE)
    state = c.read_full_status()
    assert not access(c, "write")
    watch = Watch(c.path)
    processes.append(watch.process)
    initial = watch.next("initial", c.path)
    with PollLoop([a.path, c.path]) as loop:
        loop.next_round(all_results)
        before = Usage.now()
        emulate_pr.write_text("0\n")
        off = loop.next_round(lambda es: all(invalid_opcode(e) for e in es))
        calls: dict[str, Callable[[], object]] = {
            "register_and_ignore": lambda: a.register_and_ignore(KEY_C),
            "preempt": lambda: b.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS),
            "release": lambda: b.release(KEY_B, T.WRITE_EXCLUSIVE),
            "clear": lambda: b.clear(KEY_B),
            "read_keys": c.read_keys,
        }
        refused: dict[str, object] = {}
        for name, call in calls.items():
            try:
                refused[name] = call()
            except pr.PRError as raised:
                refused[name] = raised
        # No reservation check without PR emulation (target_check_reservation).
        unenforced = access(c, "write")
        failed = watch.next("error", c.path)
        time.sleep(max(0.0, off[0] + OUTAGE - time.monotonic()))
        emulate_pr.write_text("1\n")
        switched_on = time.monotonic()
        on = loop.next_round(all_results)
        usage = check(before, what="PR emulation off and on again under a polling loop")
    back = watch.next("back", c.path)
    report = f"PR commands while off: {refused}; rounds back after {on[0] - switched_on:.2f} s"
    print(report)
    assert all(invalid_opcode(e) for e in refused.values()) and len(refused) == 5, report
    assert unenforced, "LIO enforced the reservation with emulate_pr=0"
    assert (failed["error"]["sense"]["asc"], failed["error"]["sense"]["ascq"]) == (0x20, 0x00)
    assert back["state"] == initial["state"], (initial, back)
    during = [es for s, d, es in loop.rounds if off[0] <= s and s + d <= switched_on]
    assert during and all(invalid_opcode(e) for es in during for e in es), loop.rounds
    assert all(d <= ROUND_LIMIT for _, d, _ in loop.rounds), loop.rounds
    for entry, dev in zip(on[2], (a, c)):
        assert isinstance(entry, PollResult)
        assert (entry.keys, entry.reservation) == (dev.read_keys(), dev.read_reservation())
    assert c.read_full_status() == state
    assert not access(c, "write")
    assert usage.wall >= OUTAGE


# ------------------------------------------------ unit attention storm ----

#: B's unit-attention raising actions and what A's nexus then reports (SPC-4's
#: PREEMPT of A's key, RELEASE of a registrants-only reservation, CLEAR;
#: LIO's core_scsi3_ua_allocate calls in target_core_pr.c).
EVENTS = {
    "preempt": UA.REGISTRATIONS_PREEMPTED,
    "release": UA.RESERVATIONS_RELEASED,
    "clear": UA.RESERVATIONS_PREEMPTED,
}
#: how much each PR OUT that ran adds to the PR generation in LIO
#: (core_scsi3_pr_generation: REGISTER, PREEMPT and CLEAR; not RESERVE and
#: RELEASE), so that the generation counts the executions
BUMPS = {"register_and_ignore": 1, "preempt": 1, "clear": 1, "reserve": 0, "release": 0}
STORM = 60  # rounds of B's actions in the concurrent storm
PAUSE = 0.01  # seconds between the victim's calls
IDLE = 1.0  # seconds of polling rounds after the storm


def raise_event(kind: str, b: pr.Device) -> list[str]:
    """B's action ``kind`` (A and B registered); returns B's PR OUTs in order."""
    if kind == "preempt":
        b.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)
        return ["preempt"]
    if kind == "release":
        b.reserve(KEY_B, T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
        b.release(KEY_B, T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
        return ["reserve", "release"]
    b.clear(KEY_B)
    return ["clear"]


def victim_call(kind: str, a: pr.Device, poller: Poller | None = None) -> object:
    """One command on A's nexus ("poll": a round of ``poller``, "read",
    "register"); returns None or the PollResult, or the exception it raised
    or its polling entry."""
    try:
        if kind == "poll":
            assert poller is not None
            (entry,) = poller.poll()
            return entry
        if kind == "read":
            a.read_keys()
        else:
            a.register_and_ignore(KEY_A)
    except pr.PRError as error:
        return error
    return None


def test_every_unit_attention_is_reported_once(a: pr.Device, b: pr.Device, c: pr.Device) -> None:
    """Lock step: each unit attention B raises on A's nexus is reported by
    A's next command, whichever it is (a polling round, a PR IN, a PR OUT),
    with its condition; a PR OUT answered with it did not run (the
    generation moves by B's action alone); the command after it succeeds."""
    before = Usage.now()
    with Poller([a.path], timeout=20.0) as poller:
        report = []
        for kind, condition in EVENTS.items():
            for call in ("poll", "read", "register"):
                a.register_and_ignore(KEY_A)
                b.register_and_ignore(KEY_B)
                generation = c.read_keys().generation
                ran = raise_event(kind, b)
                outcome = victim_call(call, a, poller)
                moved = c.read_keys().generation - generation
                after = victim_call(call, a, poller)
                line = f"{kind} then {call}: {outcome!r}, generation +{moved}, then {after!r}"
                report.append(line)
                assert isinstance(outcome, pr.UnitAttention), line
                assert outcome.condition is condition, line
                assert moved == sum(BUMPS[r] for r in ran), line
                assert after is None or isinstance(after, PollResult), line
        print("\n".join(report))
    check(before, cpu_share=None, what="unit attentions in lock step")


def test_unit_attention_storm(a: pr.Device, b: pr.Device, c: pr.Device) -> None:
    """B preempts, releases and clears as fast as it can while A's Device
    (REGISTER AND IGNORE EXISTING KEY, READ KEYS) and a polling loop on A's
    node run: A sees only successes and unit attentions (never
    OutcomeUnknown, nothing resent), the PR generation counts exactly the
    PR OUTs that succeeded, and the loop keeps returning the state."""
    a.register(KEY_A)
    b.register(KEY_B)
    generation = c.read_keys().generation
    stop = threading.Event()
    b_ran: Counter[str] = Counter()
    b_refused: Counter[str] = Counter()
    a_outcomes: Counter[str] = Counter()
    conditions: Counter[str] = Counter()
    unexpected: list[str] = []

    def storm() -> None:
        try:
            for _ in range(STORM):
                for kind in EVENTS:
                    try:
                        b_ran.update(raise_event(kind, b))
                    except pr.ReservationConflict:  # A not registered (again) yet
                        b_refused[kind] += 1
                    if kind == "clear":
                        b.register_and_ignore(KEY_B)
                        b_ran["register_and_ignore"] += 1
        except BaseException as error:  # reported below
            unexpected.append(f"B: {error!r}")
        finally:
            stop.set()

    def victim() -> None:
        while not stop.is_set():
            for call in ("register", "read"):
                outcome = victim_call(call, a)
                if isinstance(outcome, pr.UnitAttention):
                    a_outcomes[f"{call}: UnitAttention"] += 1
                    conditions[str(outcome.condition)] += 1
                elif outcome is None:
                    a_outcomes[f"{call}: ok"] += 1
                else:
                    unexpected.append(f"A {call}: {outcome!r}")
                time.sleep(PAUSE)

    with PollLoop([a.path], timeout=20.0) as loop:
        loop.next_round(all_results)  # the loop's node open, its buffers made
        before = Usage.now()
        threads = [threading.Thread(target=storm), threading.Thread(target=victim)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT * 4)
        assert not any(t.is_alive() for t in threads), "the storm did not end"
        drain_unit_attentions(a)
        last = loop.next_round(all_results)
        usage = check(before, cpu_share=None, what="unit attention storm")
        # Nothing the storm left behind spins: the loop alone, as watch runs it.
        idle = Usage.now()
        time.sleep(IDLE)
        check(idle, what="the polling loop after the storm")
    entries = Counter(
        type(e).__name__ + (f" {e.condition}" if isinstance(e, pr.UnitAttention) else "")
        for _, _, es in loop.rounds
        for e in es
    )
    moved = c.read_keys().generation - generation
    counted = sum(BUMPS[k] * n for k, n in b_ran.items()) + a_outcomes["register: ok"]
    print(
        f"B ran {dict(b_ran)}, refused {dict(b_refused)}; A {dict(a_outcomes)} "
        f"{dict(conditions)}; rounds {dict(entries)}; generation +{moved}, counted "
        f"+{counted}; {usage.line()}"
    )
    assert not unexpected, unexpected
    assert set(entries) <= {"PollResult"} | {f"UnitAttention {c}" for c in EVENTS.values()}
    assert a_outcomes["register: UnitAttention"] + a_outcomes["read: UnitAttention"] > 0
    assert moved == counted, "a PR OUT ran more (or less) often than it succeeded"
    (entry,) = last[2]
    assert isinstance(entry, PollResult) and entry.keys == c.read_keys()


# ------------------------------------------------- stalled backstore ----

TIMEOUT = 1.0  # seconds: the command timeout of the stalled commands
MARGIN = 1.0  # the C core's wait beyond it (PR_WAIT_MARGIN_MS)
LATE = 1.0  # how much later than TIMEOUT + MARGIN a stalled call may return
HOLD = TIMEOUT + MARGIN + LATE + 1.0  # seconds the victim's connection is held at least


class Stall:
    """Hold initiator A's iSCSI connection at the target behind a full backstore.

    The lab's null_blk backstore (``nullb:MS:DEPTH``) takes MS ms per I/O
    and has DEPTH tags.  LIO's iSCSI target submits each command from the
    connection's receive thread (iscsit_get_rx_pdu -> transport_handle_cdb_direct
    in 6.1, TARGET_DIRECT_SUBMIT in 6.12), and iblock's submit_bio waits in
    that thread for a free tag (blk_mq_get_tag): with DEPTH writes in the
    device, the next write holds the thread, and every later PDU of the
    connection (A's PR commands included) waits, although LIO emulates PR
    without the backstore.  The writes have a long timeout of their own.
    """

    def __init__(self, path: str) -> None:
        params = Path("/sys/module/null_blk/parameters")
        self.delay = int((params / "completion_nsec").read_text()) / 1e9
        self.depth = int((params / "hw_queue_depth").read_text())
        self.path = path
        # The first DEPTH writes take the tags; each later one holds the
        # receive thread for one delay.
        self.writes = self.depth + math.ceil(HOLD / self.delay)
        self.errors: list[BaseException] = []
        self._threads: list[threading.Thread] = []

    def _write(self) -> None:
        try:
            with pr.Device(self.path, timeout=WAIT) as dev:
                cdb = bytes([0x2A, 0]) + LBA.to_bytes(4, "big") + bytes([0, 0, 1, 0])
                execute(dev, cdb, data_out=bytes(BLOCK))
        except BaseException as error:  # reported by end()
            self.errors.append(error)

    def start(self) -> None:
        """Queue the writes; returns once the connection is held."""
        self._threads = [threading.Thread(target=self._write) for _ in range(self.writes)]
        for thread in self._threads:
            thread.start()
        time.sleep(self.delay / 2)

    def end(self) -> float:
        """Wait for the writes (all must succeed); returns how long that took."""
        started = time.monotonic()
        threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(WAIT)
        assert not any(t.is_alive() for t in threads), "the stalled writes never ended"
        assert not self.errors, self.errors
        return time.monotonic() - started


@pytest.fixture
def stall(lab_info: dict[str, object], a: pr.Device) -> Iterator[Stall]:
    if lab_info["fabric"] != "iscsi" or lab_info.get("backstore") != "nullb":
        pytest.skip("needs iSCSI and null_blk (lab configuration iscsi-slow-backstore)")
    held = Stall(a.path)
    if held.depth > 4:
        pytest.skip(f"null_blk has {held.depth} tags (nullb:MS:DEPTH with a small DEPTH)")
    try:
        yield held
    finally:
        held.end()


def test_pr_out_stalled_by_the_backstore(stall: Stall, a: pr.Device, b: pr.Device) -> None:
    """A PR OUT held at the target beyond its timeout: OutcomeUnknown (the
    cause CommandTimeout) when the C core stops waiting; the target still
    holds it then, runs it once when the backstore moves again, and the
    Device works on."""
    a.register(KEY_A)
    generation = b.read_keys().generation
    before = Usage.now()
    stall.start()
    started = time.monotonic()
    with pytest.raises(pr.OutcomeUnknown) as info:
        a.register_and_ignore(KEY_C, timeout=TIMEOUT)
    took = time.monotonic() - started
    meanwhile = b.read_keys()
    held = stall.end()
    deadline = time.monotonic() + WAIT
    while b.read_keys().generation == generation and time.monotonic() < deadline:
        time.sleep(0.1)
    usage = check(before, what="PR OUT stalled by the backstore")
    print(f"OutcomeUnknown after {took:.2f} s, held {held:.2f} s longer; {info.value}")
    assert isinstance(info.value.__cause__, pr.CommandTimeout), repr(info.value.__cause__)
    assert TIMEOUT <= took <= TIMEOUT + MARGIN + LATE
    assert meanwhile == pr.Registrations(generation, (KEY_A,))  # not run yet
    assert b.read_keys() == pr.Registrations(generation + 1, (KEY_C,))  # run once
    assert a.read_keys() == b.read_keys()
    assert usage.cpu <= 0.5 * usage.wall


def test_polling_round_stalled_by_the_backstore(stall: Stall, a: pr.Device, b: pr.Device) -> None:
    """A polling round whose commands on A are held at the target: A's entry
    is CommandTimeout when the C core stops waiting, B's (another
    connection) its state; after the stall the next rounds return A's state
    again (the late answers are discarded)."""
    a.register(KEY_A)
    with Poller([a.path, b.path], timeout=TIMEOUT) as poller:
        assert all_results(list(poller.poll()))
        before = Usage.now()
        stall.start()
        started = time.monotonic()
        entries = list(poller.poll())
        took = time.monotonic() - started
        stall.end()
        again = list(poller.poll())
        usage = check(before, what="polling round stalled by the backstore")
    print(f"round of {took:.2f} s: {entries}; then {again}")
    assert isinstance(entries[0], pr.CommandTimeout), entries
    assert isinstance(entries[1], PollResult) and entries[1].keys == b.read_keys()
    assert took <= TIMEOUT + MARGIN + LATE
    assert all(isinstance(e, PollResult) and e.keys == b.read_keys() for e in again), again
    assert usage.cpu <= 0.5 * usage.wall


def test_pr_in_stalled_by_the_backstore(stall: Stall, a: pr.Device) -> None:
    """A PR IN held at the target beyond its timeout: CommandTimeout within
    the timeout and the C core's margin; the Device works on."""
    a.register(KEY_A)
    stall.start()
    started = time.monotonic()
    try:
        with pytest.raises(pr.CommandTimeout):
            a.read_keys(timeout=TIMEOUT)
        took = time.monotonic() - started
    finally:
        stall.end()
    assert took <= TIMEOUT + MARGIN + LATE
    assert a.read_keys().keys == (KEY_A,)
