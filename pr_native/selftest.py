"""``pr-native selftest``: a persistent reservation conformance run against
your own logical unit, through two or three of its I_T nexuses.

    pr-native selftest --yes DEV_A DEV_B [DEV_C] [--json] [--only GROUP]
                       [--write-probes] [--force]

DEV_A and DEV_B (and DEV_C, which stays unregistered unless a check
registers it) are device nodes of ONE logical unit reached through different
I_T nexuses (initiator port + target port): two HBA ports, two iSCSI
sessions, two hosts' worth of paths on one machine.  Every check replays a
row of a peer suite (libiscsi, the PGR validation suite, the Windows cluster
validation, the LIO checklist: the row IDs of the conformance checklist) and
names the SPC clause it holds the device to.

Destructive by nature, careful by design:

- nothing is sent before the nodes are shown to be one logical unit
  (``Device.identify()``'s ``lu_name``); the run is refused, the logical
  unit left as it was, for nodes of different logical units, one node given
  twice, or one I_T nexus given through two nodes (the first registrations
  show it: the second node's REGISTER conflicts);
- it refuses to start while the logical unit has any registration or
  reservation, and reports what it found; ``--force`` starts anyway and the
  first reset (REGISTER AND IGNORE EXISTING KEY + CLEAR) removes them;
- it uses only the keys it announces before the first PR OUT
  (``0x70727374000000..``: "prst" and a byte per use);
- whatever happens (a departure, an error, SIGINT or SIGTERM part-way) it
  leaves the logical unit with no registration and no reservation of its
  own, and drains the unit attentions it caused; a second SIGINT during that
  clean-up waits for it;
- data commands: one block (READ(10) at LBA 1) per access probe; WRITE(10)
  only with ``--write-probes``, and then it writes back exactly the block it
  read.

Outcomes: ``pass``; ``fail`` (a departure: what SPC requires, what the device
did, the CDB and the sense); ``n/a`` (the capability is not advertised, or
the check needs a third nexus or block access); ``skipped`` (running it
would hang the target: PREEMPT AND ABORT on LIO over tcm_loop).

Exit status: 0 every check passed (or was n/a or skipped); 1 bad arguments
or no ``--yes`` (nothing sent); 4 the run completed with departures from SPC;
8 refused to start (nothing changed); 16 an error stopped the run (the LU was
left clean); 30 the LU could not be left clean (the report says what is
left); 130 interrupted (the LU was left clean).  Errors before the run starts
(opening a node, INQUIRY) exit with sg3_utils' codes, as every pr-native
command does.  ``--json`` prints one object, docs/selftest.md has its schema.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
import threading
import time
from contextlib import contextmanager
from enum import IntEnum
from functools import partial
from operator import methodcaller

from . import _json
from . import cdb as _cdb
from . import device as _device_module
from ._native import ffi
from ._record import TYPE_CHECKING, Record
from .constants import PRInAction, ReservationType, Scope
from .device import Device, _signal_handlers_run_here
from .errors import (
    CheckCondition,
    IllegalRequest,
    MalformedResponse,
    OutcomeUnknown,
    PRError,
    ReservationConflict,
    ResponseTruncated,
    UnitAttention,
    UnitAttentionCondition,
    interrupted_out,
    raise_for_result,
)
from .results import Capabilities, FullStatus, Reservation
from .transport_id import ISCSITransportID, TransportID

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from types import FrameType
    from typing import Any, TypeVar

    _T = TypeVar("_T")

REPORT_VERSION = 1
"""The version of the report's JSON form (``result.report_version``)."""

GROUPS = ("prin", "register", "reserve", "access", "preempt", "move")
"""The check groups, in the order they run (``--only``)."""

PASS, FAIL, NOT_APPLICABLE, SKIPPED = "pass", "fail", "n/a", "skipped"


class Status(IntEnum):
    """Exit statuses of ``pr-native selftest`` (module docstring)."""

    CONFORMANT = 0
    USAGE = 1
    DEPARTURES = 4
    REFUSED = 8
    STOPPED = 16
    NOT_CLEAN = 30
    INTERRUPTED = 130


# The keys of a run: "prst" and a byte per use, so that what a run left
# behind (if it ever does) is recognisable.
KEY_PREFIX = 0x70727374 << 32
KEYS = {
    "A": KEY_PREFIX | 0xA1,
    "B": KEY_PREFIX | 0xB2,
    "C": KEY_PREFIX | 0xC3,
}
ALTERNATE_KEY = KEY_PREFIX | 0xA2
"""A's second key (key changes)."""
UNUSED_KEY = KEY_PREFIX | 0xDD
"""Never registered: the victim of PREEMPT with an unknown key."""
_LABELS = "ABC"
_OURS = frozenset({*KEYS.values(), ALTERNATE_KEY, UNUSED_KEY})

T = ReservationType
_SHORT = {
    T.WRITE_EXCLUSIVE: "WE",
    T.EXCLUSIVE_ACCESS: "EA",
    T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY: "WE_RO",
    T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: "EA_RO",
    T.WRITE_EXCLUSIVE_ALL_REGISTRANTS: "WE_AR",
    T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS: "EA_AR",
}
_ALL_TYPES = tuple(_SHORT)
_REGISTRANTS_ONLY = (T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY)
UA = UnitAttentionCondition


# -- the report --------------------------------------------------------------


class CheckResult(Record):
    """One line of the report: a check and its outcome."""

    __slots__ = ()

    id: str
    """``group.name``, e.g. ``reserve.release-wrong-type``."""
    group: str
    title: str
    clause: str
    """The SPC (or SBC) clause the device is held to."""
    rows: tuple[str, ...]
    """The conformance-checklist rows it replays (L03, P05, W04, ...)."""
    outcome: str
    """``pass``, ``fail``, ``n/a`` or ``skipped``."""
    expected: str = ""
    """What SPC requires (for a departure)."""
    observed: str = ""
    """What the device did (a departure), or why the check did not apply."""
    nexus: str = ""
    """The nexus (A, B, C) that sent the command that departed."""
    command: str = ""
    cdb: bytes = b""
    status: int | None = None
    """SAM status of that command; None when it completed with GOOD."""
    sense: bytes = b""


class LogicalUnit(Record):
    """Who answered: standard INQUIRY and the logical unit's name."""

    __slots__ = ()

    vendor: str
    product: str
    revision: str
    lu_name: str | None

    def __str__(self) -> str:
        names = " ".join(t for t in (self.vendor, self.product, self.revision) if t)
        return f"{names or 'unknown device'} ({self.lu_name or 'no lu_name'})"


class Report(Record):
    """What ``run()`` found; ``exit_status`` is the command line's."""

    __slots__ = ()

    devices: tuple[str, ...]
    """The nodes, in A, B, C order."""
    unit: LogicalUnit | None
    capabilities: Capabilities | None
    keys: tuple[tuple[str, int], ...]
    """The announced keys: (use, key)."""
    checks: tuple[CheckResult, ...]
    write_probes: bool
    removed: FullStatus | None
    """With ``force``: what the logical unit held before the run (removed)."""
    left_clean: bool
    leftover: str
    """What could not be removed, when ``left_clean`` is false."""
    error: BaseException | None
    """What stopped the run before its end."""
    interrupted: bool
    duration: float

    @property
    def departures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.outcome == FAIL)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((PASS, FAIL, NOT_APPLICABLE, SKIPPED), 0)
        for check in self.checks:
            counts[check.outcome] += 1
        return counts

    @property
    def exit_status(self) -> Status:
        if not self.left_clean:
            return Status.NOT_CLEAN
        if self.interrupted:
            return Status.INTERRUPTED
        if self.error is not None:
            return Status.STOPPED
        return Status.DEPARTURES if self.departures else Status.CONFORMANT


class SelftestRefused(Exception):
    """The run did not start, and the logical unit is as it was: the nodes
    are not two I_T nexuses of one logical unit, or it holds registrations or
    a reservation (``found``) and ``force`` was not given."""

    def __init__(self, message: str, *, found: FullStatus | None = None) -> None:
        super().__init__(message)
        self.found = found


class SelftestInterrupted(KeyboardInterrupt):
    """SIGINT (or SIGTERM from the command line) stopped the run; the logical
    unit was cleaned up first.  ``report`` has the checks done so far."""

    def __init__(self, report: Report) -> None:
        super().__init__("self-test interrupted")
        self.report = report


# -- data commands through the C command path ----------------------------------


def execute(
    device: Device,
    cdb: bytes,
    *,
    data_in: int | None = None,
    data_out: bytes | None = None,
    command: str | None = None,
    timeout: float | None = None,
) -> bytes:
    """Run one CDB on ``device`` through the command path every PR command
    takes (``pr_execute``: SG_IO, or on /dev/sgN a data-out command submitted
    once through the sg driver's write(); SCSI pass-through on Windows) and
    return the data read.  ``data_in`` is the number of bytes to allow (0
    too), ``data_out`` the bytes to send.  Failures raise what ``Device``
    raises for the same outcome; a data-out command that may have run raises
    ``OutcomeUnknown``.  It never changes the PR state by itself: the caller
    chooses the CDB."""
    lib = _core()
    timeout_ms = device._timeout_for(timeout)
    name = command or f"CDB {cdb[:1].hex().upper()}h"
    writing = data_out is not None
    if data_out is not None:
        direction, length = lib.PR_DIR_TO_DEVICE, len(data_out)
        buffer = ffi.from_buffer("uint8_t[]", data_out)
    elif data_in is not None:
        direction, length = lib.PR_DIR_FROM_DEVICE, data_in
        buffer = ffi.new("uint8_t[]", max(data_in, 1))
    else:
        direction, length, buffer = lib.PR_DIR_NONE, 0, ffi.NULL
    result = ffi.new("struct pr_result *")
    with device._lock:
        device._check_open()
        while True:
            try:
                rc = lib.pr_execute(
                    device._device, cdb, len(cdb), direction, buffer, length, timeout_ms, result
                )
                while writing and rc == lib.PR_ERR_INTERRUPTED:
                    _signal_handlers_run_here()  # a handler's exception propagates
                    rc = lib.pr_resume(device._device, result)
            except BaseException as interruption:
                if not writing:
                    raise
                # As Device._pr_out: the core's own state says how it ended.
                ended = lib.pr_settled(device._device, result)
                raised = interrupted_out(
                    interruption, ended, result, device=device.path, command=name
                )
                if raised is interruption:
                    raise
                raise raised from interruption
            if writing or not _interrupted(rc, result):
                break
            _signal_handlers_run_here()  # reading again is harmless
    if rc != lib.PR_OK:
        raise_for_result(
            rc, result, device=device.path, command=name, is_out=writing, read_only=False
        )
    if data_in is None:
        return b""
    return bytes(ffi.buffer(buffer, min(result.transferred, length)))


def _core() -> Any:
    """The C core as ``Device`` reaches it (``pr_native.device.lib``, which
    the unit tests' seam replaces)."""
    return vars(_device_module)["lib"]


def _interrupted(rc: int, result: Any) -> bool:
    from ._prin import interrupted

    return interrupted(rc, result)


def _last_cdb(device: Device) -> bytes:
    """The CDB of the device's most recent PR command (it completed GOOD)."""
    return bytes(ffi.buffer(device._result.cdb, device._result.cdb_len))


_READ_CAPACITY_10 = bytes([0x25]) + bytes(9)


def _rw10(opcode: int, lba: int) -> bytes:
    return bytes([opcode, 0]) + lba.to_bytes(4, "big") + bytes([0, 0, 1, 0])


# -- what a check raises --------------------------------------------------------


class _Departure(Exception):
    def __init__(
        self,
        expected: str,
        observed: str,
        nexus: _Nexus | None = None,
        *,
        error: PRError | None = None,
        cdb: bytes = b"",
    ) -> None:
        super().__init__(observed)
        self.expected, self.observed, self.nexus = expected, observed, nexus
        answer = None if error is None else _underlying(error)
        self.error = answer if isinstance(answer, PRError) else error
        self.cdb = cdb


class _NotApplicable(Exception):
    pass


class _Stop(Exception):
    """The run cannot go on (the logical unit did not return to a clean
    state, or another initiator registered meanwhile)."""


def _underlying(error: BaseException) -> BaseException:
    """The device's own answer behind the ``OutcomeUnknown`` of a PR OUT it
    answered with a status that does not say "not performed" (NOT READY,
    HARDWARE ERROR, ...): for a check, that answer is what the device did."""
    cause = error.__cause__
    if (
        isinstance(error, OutcomeUnknown)
        and isinstance(cause, PRError)
        and cause.status is not None
    ):
        return cause
    return error


def _answered(error: BaseException) -> bool:
    """The device answered the command itself (a status with its sense, or a
    response that violates SPC): a departure, not a reason to stop."""
    error = _underlying(error)
    return isinstance(
        error, (ReservationConflict, CheckCondition, MalformedResponse, ResponseTruncated)
    ) and not isinstance(error, OutcomeUnknown)


def _answer(error: BaseException) -> str:
    error = _underlying(error)
    if isinstance(error, ReservationConflict):
        return "RESERVATION CONFLICT"
    if isinstance(error, PRError) and error.sense is not None:
        return f"CHECK CONDITION, {error.sense}"
    return str(error)


def _hex(key: int) -> str:
    return f"0x{key:x}"


def _show(reservation: Reservation | None) -> str:
    if reservation is None:
        return "no reservation"
    kind = _SHORT.get(reservation.type, reservation.type.name)
    return f"{kind} held with key {_hex(reservation.key)}"


def _conditions(found: list[UnitAttentionCondition | None]) -> str:
    if not found:
        return "no unit attention"
    return ", ".join(
        "UNIT ATTENTION " + (c.name.replace("_", " ") if c else "(unnamed)") for c in found
    )


# -- one run ----------------------------------------------------------------------


class _Nexus:
    __slots__ = ("device", "key", "label", "path")

    def __init__(self, label: str, path: str, device: Device) -> None:
        self.label, self.path, self.device = label, path, device
        self.key = KEYS[label]

    def __repr__(self) -> str:
        return f"{self.label} ({self.path})"


class _Block:
    __slots__ = ("data", "lba")

    def __init__(self, lba: int, data: bytes) -> None:
        self.lba, self.data = lba, data


class _Run:
    """The nexuses and what the checks share: sending with unit attentions
    recorded, the expectations, the reset between checks and the clean-up."""

    def __init__(
        self,
        nexuses: list[_Nexus],
        capabilities: Capabilities,
        *,
        write_probes: bool,
        abort_hazard: str | None,
    ) -> None:
        self.nexuses = nexuses
        self.a, self.b = nexuses[0], nexuses[1]
        self.c = nexuses[2] if len(nexuses) > 2 else None
        self.caps = capabilities
        self.types = (
            tuple(t for t in _ALL_TYPES if t in capabilities.supported_types)
            if capabilities.type_mask_valid
            else _ALL_TYPES
        )
        self.write_probes = write_probes
        self.abort_hazard = abort_hazard
        self.block: _Block | str | None = None  # str: why there is none; None: not read yet
        self.seen: dict[str, list[UnitAttentionCondition | None]] = {n.label: [] for n in nexuses}
        self.sent = False  # a PR OUT went out: the clean-up must run
        self.raw_cdb = b""  # the latest CDB sent by raw()

    # -- sending --

    def _retry(self, n: _Nexus, call: Callable[[Device], _T]) -> _T:
        """``call`` on n's device; a unit attention (the command did not run)
        is recorded for ``unit_attentions`` and the command sent again."""
        for _ in range(16):
            try:
                return call(n.device)
            except UnitAttention as ua:
                self.seen[n.label].append(ua.condition)
        raise _Stop(f"{n}: unit attentions do not stop")

    def out(self, n: _Nexus, what: str, call: Callable[[Device], _T]) -> _T:
        """A command SPC requires to succeed here: GOOD, or a departure."""
        self.sent = True
        try:
            return self._retry(n, call)
        except PRError as error:
            if not _answered(error):
                raise
            raise _Departure(f"{what}: GOOD", _answer(error), n, error=error) from None

    def refused(
        self,
        n: _Nexus,
        what: str,
        call: Callable[[Device], object],
        *,
        sense: tuple[int, int, int] | None = None,
        meaning: str = "RESERVATION CONFLICT",
    ) -> None:
        """A command SPC requires to be refused: RESERVATION CONFLICT, or
        CHECK CONDITION with ``sense`` (key, ASC, ASCQ)."""
        self.sent = True
        try:
            self._retry(n, call)
        except PRError as error:
            if not _answered(error):
                raise
            answer = _underlying(error)
            if sense is None and isinstance(answer, ReservationConflict):
                return
            got = answer.sense if isinstance(answer, CheckCondition) else None
            if (
                sense is not None
                and got is not None
                and (int(got.sense_key), got.asc, got.ascq) == sense
            ):
                return
            raise _Departure(f"{what}: {meaning}", _answer(error), n, error=error) from None
        raise _Departure(f"{what}: {meaning}", "GOOD", n, cdb=_last_cdb(n.device))

    def raw(self, n: _Nexus, cdb: bytes, allocation: int, what: str = "") -> bytes:
        """A PR IN (or other data-in CDB) exactly as given; GOOD or a departure."""
        self.raw_cdb = cdb
        try:
            return self._retry(n, lambda d: execute(d, cdb, data_in=allocation, command=what))
        except PRError as error:
            if not _answered(error):
                raise
            raise _Departure(f"{what}: GOOD", _answer(error), n, error=error) from None

    def expect(
        self,
        holds: bool,
        expected: str,
        observed: str,
        n: _Nexus | None = None,
        *,
        cdb: bytes | None = None,
    ) -> None:
        """A departure unless ``holds``; its evidence is ``cdb``, else n's
        latest PR command."""
        if not holds:
            if cdb is None:
                cdb = _last_cdb(n.device) if n is not None else b""
            raise _Departure(expected, observed, n, cdb=cdb)

    # -- state --

    def keys(self, via: _Nexus | None = None) -> tuple[int, tuple[int, ...]]:
        """(generation, keys) as READ KEYS reports them through ``via`` (A)."""
        n = via or self.a
        found = self._read(n, "READ KEYS", lambda d: d.read_keys())
        return found.generation, found.keys

    def reservation(self, via: _Nexus | None = None) -> Reservation | None:
        n = via or self.a
        return self._read(n, "READ RESERVATION", lambda d: d.read_reservation()).reservation

    def full_status(self, via: _Nexus | None = None) -> FullStatus:
        n = via or self.a
        return self._read(n, "READ FULL STATUS", lambda d: d.read_full_status())

    def _read(self, n: _Nexus, what: str, call: Callable[[Device], _T]) -> _T:
        try:
            return self._retry(n, call)
        except PRError as error:
            if not _answered(error):
                raise
            raise _Departure(f"{what}: GOOD", _answer(error), n, error=error) from None

    def unit_attentions(self, n: _Nexus) -> list[UnitAttentionCondition | None]:
        """Every unit attention n received since the check began (TEST UNIT
        READY until GOOD reports the pending ones)."""
        self._retry(n, lambda d: d.test_unit_ready())
        found, self.seen[n.label] = self.seen[n.label], []
        return found

    def expect_attentions(self, n: _Nexus, wanted: list[UnitAttentionCondition], why: str) -> None:
        found = self.unit_attentions(n)
        self.expect(
            found == wanted,
            f"{n.label}: {_conditions(list(wanted))} ({why})",
            f"{n.label}: {_conditions(found)}",
        )

    def register(self, *nexuses: _Nexus) -> None:
        for n in nexuses:
            self.out(n, f"{n.label}: REGISTER {_hex(n.key)}", methodcaller("register", n.key))

    def reserve(self, n: _Nexus, kind: ReservationType) -> None:
        what = f"{n.label}: RESERVE {_SHORT[kind]}"
        try:
            self.out(n, what, lambda d: d.reserve(n.key, kind))
        except _Departure as departure:
            # Without a type mask (TMV=0) an unsupported type is no departure.
            if self.caps.type_mask_valid or not isinstance(departure.error, IllegalRequest):
                raise
            raise _NotApplicable(f"{_SHORT[kind]} refused, and TMV=0 gives no type mask") from None

    def unregistered(self) -> _Nexus:
        """The nexus that stays unregistered: C, else B (before it registers)."""
        return self.c or self.b

    # -- between checks --

    def reset(self) -> None:
        """Back to a clean logical unit (conformance R0: REGISTER AND IGNORE
        EXISTING KEY + CLEAR from A), every unit attention drained."""
        for _ in range(2):
            try:
                _, keys = self.keys()
                held = self.reservation()
            except _Departure as departure:
                raise _Stop(f"cannot read the PR state: {departure.observed}") from None
            foreign = sorted(k for k in keys if k not in _OURS)
            if foreign:
                raise _Stop(
                    "another initiator registered during the self-test: "
                    + ", ".join(_hex(k) for k in foreign)
                )
            if not keys and held is None:
                break
            self.sent = True
            try:
                _register_and_ignore(self, self.a, self.a.key)
                self._retry(self.a, lambda d: d.clear(self.a.key))
            except PRError as error:
                if not _answered(error):
                    raise
                raise _Stop(f"cannot clear the logical unit from A: {_answer(error)}") from None
        else:
            raise _Stop("the logical unit does not return to a clean state")
        for n in self.nexuses:
            self._retry(n, lambda d: d.test_unit_ready())
            self.seen[n.label] = []

    # -- the checks --

    def check(self, spec: _Spec) -> CheckResult:
        def result(outcome: str, **fields: Any) -> CheckResult:
            return CheckResult(
                spec.id, spec.group, spec.title, spec.clause, spec.rows, outcome, **fields
            )

        reason = spec.skip(self) if spec.skip else None
        if reason is not None:
            return result(SKIPPED, observed=reason)
        reason = spec.needs(self) if spec.needs else None
        if reason is not None:
            return result(NOT_APPLICABLE, observed=reason)
        self.reset()
        try:
            spec.run(self)
        except _NotApplicable as why:
            return result(NOT_APPLICABLE, observed=str(why))
        except _Departure as d:
            error = d.error
            return result(
                FAIL,
                expected=d.expected,
                observed=d.observed,
                nexus=d.nexus.label if d.nexus else "",
                command=(error.command or "") if error else "",
                cdb=error.cdb if error else d.cdb,
                status=error.status if error else None,
                sense=error.sense_data if error else b"",
            )
        return result(PASS)


def _register_and_ignore(s: _Run, n: _Nexus, key: int) -> None:
    """REGISTER AND IGNORE EXISTING KEY, with ALL_TG_PT=1 when the device
    insists on it for a nexus registered that way (LIO)."""
    try:
        s._retry(n, lambda d: d.register_and_ignore(key))
    except IllegalRequest:
        s._retry(n, lambda d: d.register_and_ignore(key, all_target_ports=True))


# -- the list of checks --------------------------------------------------------------
#
# Each check starts from a clean logical unit with no unit attention pending,
# raises _Departure for what SPC does not allow, and leaves the clean-up to
# the next reset.  n.key is each nexus's own key.  Its docstring's first line
# is its title; the decorators list it in SPECS, which runs group by group.


class _Spec:
    __slots__ = ("clause", "group", "id", "needs", "rows", "run", "skip", "title")

    def __init__(
        self,
        id: str,
        title: str,
        clause: str,
        rows: str,
        run: Callable[[_Run], None],
        *,
        needs: Callable[[_Run], str | None] | None = None,
        skip: Callable[[_Run], str | None] | None = None,
    ) -> None:
        self.id, self.group, self.title, self.clause = id, id.split(".")[0], title, clause
        self.rows = tuple(rows.split()) if rows else ()
        self.run, self.needs, self.skip = run, needs, skip


def _type_needed(kind: ReservationType) -> Callable[[_Run], str | None]:
    def needs(s: _Run) -> str | None:
        if kind in s.types:
            return None
        return f"{_SHORT[kind]} is not in the type mask (TMV=1)"

    return needs


def _abort_skip(s: _Run) -> str | None:
    return s.abort_hazard


SPECS: list[_Spec] = []
"""Every check, in the order a run makes them."""


def _add(spec: _Spec) -> None:
    SPECS.append(spec)
    SPECS.sort(key=lambda s: GROUPS.index(s.group))  # stable: definition order within a group


def _title(function: Callable[..., object]) -> str:
    return (function.__doc__ or "").strip().splitlines()[0].rstrip(".")


def _check(
    id: str, clause: str, rows: str, *, skip: Callable[[_Run], str | None] | None = None
) -> Callable[[Callable[[_Run], None]], Callable[[_Run], None]]:
    def register(function: Callable[[_Run], None]) -> Callable[[_Run], None]:
        _add(_Spec(id, _title(function), clause, rows, function, skip=skip))
        return function

    return register


def _slug(kind: ReservationType) -> str:
    return _SHORT[kind].lower().replace("_", "-")


def _per_type(
    prefix: str, clause: str, rows: str
) -> Callable[
    [Callable[[ReservationType], Callable[[_Run], None]]],
    Callable[[ReservationType], Callable[[_Run], None]],
]:
    """One check per reservation type; n/a for a type the mask leaves out."""

    def register(
        factory: Callable[[ReservationType], Callable[[_Run], None]],
    ) -> Callable[[ReservationType], Callable[[_Run], None]]:
        for kind in _ALL_TYPES:
            title = _title(factory).format(name=_SHORT[kind])
            _add(
                _Spec(
                    prefix + _slug(kind),
                    title,
                    clause,
                    rows,
                    factory(kind),
                    needs=_type_needed(kind),
                )
            )
        return factory

    return register


@_check("prin.service-actions", "SPC-4 6.15.1", "L03")
def _prin_service_actions(s: _Run) -> None:
    """PR IN service actions 04h-1Fh are refused as invalid."""
    wrong: list[tuple[int, str, PRError | None]] = []
    for action in range(0x04, 0x20):
        cdb = _cdb.pr_in_cdb(action, 8192)
        try:
            s._retry(s.a, partial(execute, cdb=cdb, data_in=8192))
        except IllegalRequest as error:
            if error.sense is not None and (error.sense.asc, error.sense.ascq) == (0x24, 0):
                continue
            wrong.append((action, _answer(error), error))
        except PRError as error:
            if not _answered(error):
                raise
            wrong.append((action, _answer(error), error))
        else:
            wrong.append((action, "GOOD", None))
    if wrong:
        action, _, first = wrong[0]
        listed = "; ".join(f"{a:02X}h: {w}" for a, w, _ in wrong[:4])
        raise _Departure(
            "each of the reserved service actions 04h-1Fh: CHECK CONDITION, ILLEGAL REQUEST, "
            "INVALID FIELD IN CDB (24h/00h)",
            f"{len(wrong)} of 28 differ: {listed}",
            s.a,
            error=first,
            cdb=_cdb.pr_in_cdb(action, 8192),
        )


def _be(data: bytes, offset: int, size: int) -> int:
    return int.from_bytes(data[offset : offset + size], "big")


@_check("prin.lengths", "SPC-4 6.15.2-6.15.5", "L01 P09")
def _prin_lengths(s: _Run) -> None:
    """ADDITIONAL LENGTH and LENGTH match the data of every PR IN service action."""
    s.register(s.a, s.b)
    kind = _first(s, (T.WRITE_EXCLUSIVE, *_ALL_TYPES))
    s.reserve(s.a, kind)
    a = s.a
    read = {
        action: s.raw(a, _cdb.pr_in_cdb(action, 8192), 8192, f"A: {action.name.replace('_', ' ')}")
        for action in PRInAction
    }
    keys, held = read[PRInAction.READ_KEYS], read[PRInAction.READ_RESERVATION]
    caps, full = read[PRInAction.REPORT_CAPABILITIES], read[PRInAction.READ_FULL_STATUS]
    s.expect(
        len(keys) == 24 and _be(keys, 4, 4) == 16,
        "READ KEYS with 2 keys: ADDITIONAL LENGTH 16 and 16 bytes of keys (L01)",
        f"ADDITIONAL LENGTH {_be(keys, 4, 4)}, {len(keys)} bytes",
    )
    s.expect(
        len(held) == 24 and _be(held, 4, 4) == 16,
        "READ RESERVATION while reserved: ADDITIONAL LENGTH 16, 24 bytes",
        f"ADDITIONAL LENGTH {_be(held, 4, 4)}, {len(held)} bytes",
    )
    s.expect(
        len(caps) == 8 and _be(caps, 0, 2) == 8,
        "REPORT CAPABILITIES: LENGTH 0008h, 8 bytes",
        f"LENGTH {_be(caps, 0, 2):04X}h, {len(caps)} bytes",
    )
    offset, descriptors = 8, 0
    while offset + 24 <= len(full):
        offset += 24 + _be(full, offset + 20, 4)
        descriptors += 1
    s.expect(
        len(full) >= 8 and _be(full, 4, 4) == len(full) - 8 and offset == len(full),
        "READ FULL STATUS: ADDITIONAL LENGTH = the bytes that follow = the descriptors' sizes",
        f"ADDITIONAL LENGTH {_be(full, 4, 4)}, {len(full)} bytes, descriptors end at {offset}",
    )
    s.expect(
        descriptors == 2,
        "READ FULL STATUS: one descriptor per registration (2)",
        f"{descriptors} descriptors",
    )
    generations = {_be(keys, 0, 4), _be(held, 0, 4), _be(full, 0, 4)}
    s.expect(
        len(generations) == 1,
        "one PRgeneration in READ KEYS, READ RESERVATION and READ FULL STATUS",
        f"generations {sorted(generations)}",
    )


@_check("prin.allocation-length", "SPC-4 4.2.5.6, 6.15.2, 6.15.3", "L02")
def _prin_allocation_header(s: _Run) -> None:
    """ALLOCATION LENGTH 8 returns the header, ADDITIONAL LENGTH unaltered."""
    s.register(s.a)
    kind = _first(s, (T.WRITE_EXCLUSIVE, *_ALL_TYPES))
    s.reserve(s.a, kind)
    for action, name in (
        (PRInAction.READ_KEYS, "READ KEYS"),
        (PRInAction.READ_RESERVATION, "READ RESERVATION"),
    ):
        whole = s.raw(s.a, _cdb.pr_in_cdb(action, 8192), 8192, f"A: {name}")
        head = s.raw(s.a, _cdb.pr_in_cdb(action, 8), 8, f"A: {name}, ALLOCATION LENGTH 8")
        s.expect(
            head == whole[:8],
            f"{name} with ALLOCATION LENGTH 8: its first 8 bytes, ADDITIONAL LENGTH "
            f"{_be(whole, 4, 4)} as in the whole response",
            f"{head.hex(' ')} (whole: {whole[:8].hex(' ')})",
            s.a,
            cdb=s.raw_cdb,
        )


@_check("prin.allocation-length-partial", "SPC-4 4.2.5.6", "L02")
def _prin_allocation_partial(s: _Run) -> None:
    """A truncated response is the first ALLOCATION LENGTH bytes of the whole one."""
    s.register(s.a)
    kind = _first(s, (T.WRITE_EXCLUSIVE, *_ALL_TYPES))
    s.reserve(s.a, kind)
    for action, name in (
        (PRInAction.READ_KEYS, "READ KEYS"),
        (PRInAction.READ_RESERVATION, "READ RESERVATION"),
    ):
        whole = s.raw(s.a, _cdb.pr_in_cdb(action, 8192), 8192, f"A: {name}")
        part = s.raw(s.a, _cdb.pr_in_cdb(action, 12), 12, f"A: {name}, ALLOCATION LENGTH 12")
        s.expect(
            part == whole[:12],
            f"{name} with ALLOCATION LENGTH 12: the first 12 bytes of the whole response "
            f"({whole[:12].hex(' ')})",
            f"{part.hex(' ')}",
            s.a,
            cdb=s.raw_cdb,
        )


@_check("prin.allocation-length-zero", "SPC-4 4.2.5.6", "")
def _prin_allocation_zero(s: _Run) -> None:
    """ALLOCATION LENGTH 0 is no error: GOOD, and no data."""
    s.register(s.a)
    data = s.raw(
        s.a, _cdb.pr_in_cdb(PRInAction.READ_KEYS, 0), 0, "A: READ KEYS, ALLOCATION LENGTH 0"
    )
    s.expect(
        data == b"",
        "READ KEYS with ALLOCATION LENGTH 0: GOOD, no data",
        f"{len(data)} bytes",
        s.a,
        cdb=s.raw_cdb,
    )


@_check("prin.full-status-length", "SPC-4 6.15.5, 4.2.5.6", "X04")
def _prin_full_status_length(s: _Run) -> None:
    """READ FULL STATUS keeps ADDITIONAL LENGTH whatever the allocation length."""
    s.register(*s.nexuses)
    whole = s.raw(
        s.a, _cdb.pr_in_cdb(PRInAction.READ_FULL_STATUS, 8192), 8192, "A: READ FULL STATUS"
    )
    length = _be(whole, 4, 4)
    sizes, offset = [], 8
    while offset + 24 <= len(whole):
        sizes.append(24 + _be(whole, offset + 20, 4))
        offset += sizes[-1]
    for allocation in (8, len(whole) - 1):
        cut = s.raw(
            s.a,
            _cdb.pr_in_cdb(PRInAction.READ_FULL_STATUS, allocation),
            allocation,
            f"A: READ FULL STATUS, ALLOCATION LENGTH {allocation}",
        )
        got = _be(cut, 4, 4) if len(cut) >= 8 else None
        fitting = 0
        for size in sizes:
            if 8 + fitting + size > allocation:
                break
            fitting += size
        why = (
            ": the descriptors that did not fit are left out and the length shrunk to match"
            if got == fitting
            else ""
        )
        s.expect(
            got == length,
            f"ALLOCATION LENGTH {allocation}: ADDITIONAL LENGTH {length}, as with room for "
            f"all {len(sizes)} descriptors (it is not altered by the allocation length)",
            f"ADDITIONAL LENGTH {'-' if got is None else got}{why}",
            s.a,
            cdb=s.raw_cdb,
        )


@_check("prin.report-capabilities", "SPC-4 6.15.4", "L04")
def _prin_capabilities(s: _Run) -> None:
    """REPORT CAPABILITIES is 8 bytes with defined values."""
    data = s.raw(
        s.a, _cdb.pr_in_cdb(PRInAction.REPORT_CAPABILITIES, 8192), 8192, "A: REPORT CAPABILITIES"
    )
    caps = s.caps
    s.expect(
        len(data) == 8 and _be(data, 0, 2) == 8,
        "LENGTH 0008h, 8 bytes",
        f"LENGTH {_be(data, 0, 2):04X}h, {len(data)} bytes",
        s.a,
        cdb=s.raw_cdb,
    )
    s.expect(
        caps.allow_commands <= 5,
        "ALLOW COMMANDS 000b-101b (110b and 111b are reserved)",
        f"ALLOW COMMANDS {caps.allow_commands:03b}b",
        s.a,
        cdb=s.raw_cdb,
    )
    reserved = caps.type_mask & ~0xEA01
    s.expect(
        not caps.type_mask_valid or not reserved,
        "TMV=1: no reserved bit set in the PERSISTENT RESERVATION TYPE MASK",
        f"type mask {caps.type_mask:04X}h",
        s.a,
        cdb=s.raw_cdb,
    )


@_check("prin.type-mask", "SPC-4 6.15.4, 5.14.9", "L04 L06")
def _prin_type_mask(s: _Run) -> None:
    """The type mask says which types RESERVE accepts."""
    if not s.caps.type_mask_valid:
        raise _NotApplicable("TMV=0: the device gives no type mask")
    s.register(s.a)
    for kind in _ALL_TYPES:
        name = _SHORT[kind]
        if kind in s.types:
            s.reserve(s.a, kind)
            held = s.reservation()
            expected = Reservation(0 if kind.all_registrants else s.a.key, kind, Scope.LU)
            s.expect(
                held == expected,
                f"{name} is in the type mask: RESERVE {name} takes it ({_show(expected)})",
                _show(held),
            )
            s.out(s.a, f"A: RELEASE {name}", methodcaller("release", s.a.key, kind))
        else:
            s.refused(
                s.a,
                f"A: RESERVE {name}, a type the mask does not list",
                methodcaller("reserve", s.a.key, kind),
                sense=(5, 0x24, 0),
                meaning="CHECK CONDITION, ILLEGAL REQUEST, INVALID FIELD IN CDB",
            )


@_check("prin.allow-commands", "SPC-4 6.15.4", "L04")
def _prin_allow_commands(s: _Run) -> None:
    """ALLOW COMMANDS: TEST UNIT READY passes WE and EA held by another nexus."""
    if s.caps.allow_commands == 0:
        raise _NotApplicable("ALLOW COMMANDS 000b: the device says nothing about them")
    kinds = [k for k in (T.WRITE_EXCLUSIVE, T.EXCLUSIVE_ACCESS) if k in s.types]
    if not kinds:
        raise _NotApplicable("neither WE nor EA is in the type mask")
    s.register(s.a, s.b)
    others = [s.b] + ([s.c] if s.c else [])
    for kind in kinds:
        s.reserve(s.a, kind)
        for n in others:
            s.out(
                n,
                f"{n.label}: TEST UNIT READY under {_SHORT[kind]} held by A",
                lambda d: d.test_unit_ready(),
            )
        s.out(s.a, f"A: RELEASE {_SHORT[kind]}", methodcaller("release", s.a.key, kind))


@_check("prin.full-status", "SPC-4 6.15.5", "P09")
def _prin_full_status(s: _Run) -> None:
    """READ FULL STATUS lists what READ KEYS lists, one nexus each, and the holder."""
    s.register(*s.nexuses)
    kind = _first(s, (T.WRITE_EXCLUSIVE, *_ALL_TYPES))
    s.reserve(s.a, kind)
    status = s.full_status()
    generation, keys = s.keys()
    found = sorted(r.key for r in status.registrants)
    s.expect(
        found == sorted(keys) and status.generation == generation,
        f"READ FULL STATUS lists what READ KEYS lists: {len(keys)} keys, generation {generation}",
        f"keys {', '.join(map(_hex, found))}, generation {status.generation}",
    )
    nexuses = {(r.transport_id, r.relative_target_port) for r in status.registrants}
    s.expect(
        len(nexuses) == len(status.registrants),
        "one descriptor per I_T nexus (TransportID and relative target port)",
        f"{len(nexuses)} distinct nexuses in {len(status.registrants)} descriptors",
    )
    holders = [r for r in status.registrants if r.holder]
    s.expect(
        [(r.key, r.type, r.scope) for r in holders] == [(s.a.key, kind, Scope.LU)]
        and all(r.type is None for r in status.registrants if not r.holder),
        f"only A's descriptor marked R_HOLDER, with type {_SHORT[kind]} and scope LU",
        "holders: " + (", ".join(f"{_hex(r.key)} {r.type} {r.scope}" for r in holders) or "none"),
    )
    shared = next(
        (
            k
            for k in (T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS, T.WRITE_EXCLUSIVE_ALL_REGISTRANTS)
            if k in s.types
        ),
        None,
    )
    if shared is None:
        return
    s.out(s.a, f"A: RELEASE {_SHORT[kind]}", lambda d: d.release(s.a.key, kind))
    s.reserve(s.a, shared)
    status = s.full_status()
    s.expect(
        all(r.holder and r.type == shared for r in status.registrants),
        f"{_SHORT[shared]}: every descriptor R_HOLDER with type {_SHORT[shared]}",
        ", ".join(f"{_hex(r.key)} holder={r.holder} {r.type}" for r in status.registrants),
    )


@_check("prin.same-view", "SPC-4 6.15.2", "P01")
def _prin_keys_everywhere(s: _Run) -> None:
    """Registered and unregistered nexuses read the same keys."""
    s.register(s.a, s.b)
    seen = {n.label: s.keys(via=n) for n in s.nexuses}
    s.expect(
        len(set(seen.values())) == 1,
        "every nexus, registered or not, reads the same generation and keys",
        "; ".join(f"{label}: {g}, {', '.join(map(_hex, k))}" for label, (g, k) in seen.items()),
    )


@_check("register.new", "SPC-4 5.14.7, 6.15.2", "L05 P09 P10")
def _register_new(s: _Run) -> None:
    """REGISTER from an unregistered nexus adds its key."""
    g0, _ = s.keys()
    s.register(s.a)
    generation, keys = s.keys(via=s.b)
    s.expect(
        keys == (s.a.key,) and generation == g0 + 1,
        f"REGISTER from an unregistered nexus adds its key; PRgeneration {g0} + 1",
        f"keys {', '.join(map(_hex, keys)) or 'none'}, PRgeneration {generation}",
    )


@_check("register.key-zero-when-registered", "SPC-4 5.14.7, 6.16.3", "L05 P02")
def _register_key_zero_when_registered(s: _Run) -> None:
    """REGISTER with key 0 from a registered nexus conflicts."""
    s.register(s.a)
    before = s.keys()
    s.refused(
        s.a,
        "A (registered): REGISTER with RESERVATION KEY 0",
        lambda d: d.register(ALTERNATE_KEY),
    )
    after = s.keys()
    s.expect(after == before, "keys and PRgeneration unchanged", f"{before} -> {after}")


@_check("register.wrong-key", "SPC-4 5.14.7, 6.16.3", "P02")
def _register_wrong_key(s: _Run) -> None:
    """REGISTER with another nexus's key conflicts."""
    s.register(s.a, s.b)
    before = s.keys()
    s.refused(
        s.a,
        "A: REGISTER with RESERVATION KEY = B's key",
        lambda d: d.register(ALTERNATE_KEY, key=s.b.key),
    )
    after = s.keys()
    s.expect(after == before, "keys and PRgeneration unchanged", f"{before} -> {after}")


@_check("register.unregistered-with-key", "SPC-4 5.14.7, 6.16.3", "L05")
def _register_unregistered_with_key(s: _Run) -> None:
    """REGISTER with a non-zero key from an unregistered nexus conflicts."""
    n = s.unregistered()
    s.refused(
        n,
        f"{n.label} (unregistered): REGISTER with a non-zero RESERVATION KEY",
        lambda d: d.register(n.key, key=UNUSED_KEY),
    )
    _, keys = s.keys()
    s.expect(keys == (), f"{n.label} stays unregistered", f"keys {', '.join(map(_hex, keys))}")


@_check("register.change-key", "SPC-4 5.14.7, 6.15.2", "P03")
def _register_change_key(s: _Run) -> None:
    """REGISTER with the current key replaces it."""
    s.register(s.a)
    for old, new in ((s.a.key, ALTERNATE_KEY), (ALTERNATE_KEY, s.a.key)):
        g, _ = s.keys()
        s.out(
            s.a,
            f"A: REGISTER {_hex(old)} -> {_hex(new)}",
            methodcaller("register", new, key=old),
        )
        generation, keys = s.keys()
        s.expect(
            keys == (new,) and generation == g + 1,
            f"the key replaced by {_hex(new)}; PRgeneration {g} + 1",
            f"keys {', '.join(map(_hex, keys))}, PRgeneration {generation}",
        )


@_check("register.ignore-existing-key", "SPC-4 5.14.7, 6.16.2", "W01 W06")
def _register_and_ignore_existing(s: _Run) -> None:
    """REGISTER AND IGNORE EXISTING KEY replaces any key; key 0 unregisters."""
    s.register(s.a)
    g, _ = s.keys()
    s.out(
        s.a, "A: REGISTER AND IGNORE EXISTING KEY", lambda d: d.register_and_ignore(ALTERNATE_KEY)
    )
    generation, keys = s.keys()
    s.expect(
        keys == (ALTERNATE_KEY,) and generation == g + 1,
        f"A's key replaced whatever it was; PRgeneration {g} + 1",
        f"keys {', '.join(map(_hex, keys))}, PRgeneration {generation}",
    )
    s.out(
        s.b,
        "B (unregistered): REGISTER AND IGNORE EXISTING KEY",
        lambda d: d.register_and_ignore(s.b.key),
    )
    _, keys = s.keys()
    s.expect(
        sorted(keys) == sorted((ALTERNATE_KEY, s.b.key)),
        "B registered",
        f"keys {', '.join(map(_hex, keys))}",
    )
    for n in (s.b, s.a):
        s.out(
            n,
            f"{n.label}: REGISTER AND IGNORE EXISTING KEY with key 0",
            lambda d: d.register_and_ignore(0),
        )
    _, keys = s.keys()
    s.expect(
        keys == (),
        "key 0 unregisters (what Windows clusters send)",
        f"keys {', '.join(map(_hex, keys))}",
    )


@_check("register.unregister", "SPC-4 5.14.11.3", "L05")
def _register_unregister(s: _Run) -> None:
    """REGISTER with service action key 0 unregisters that nexus only."""
    s.register(s.a, s.b)
    s.out(s.a, "A: REGISTER with SERVICE ACTION RESERVATION KEY 0", lambda d: d.unregister(s.a.key))
    _, keys = s.keys(via=s.b)
    s.expect(keys == (s.b.key,), "A's key removed, B's kept", f"keys {', '.join(map(_hex, keys))}")


@_check("register.generation", "SPC-4 6.15.2", "L19 L20 P03")
def _register_generation(s: _Run) -> None:
    """Which commands advance PRgeneration."""
    s.register(s.a, s.b)
    g, _ = s.keys()
    kind = _first(s, (T.WRITE_EXCLUSIVE, *_ALL_TYPES))
    s.reserve(s.a, kind)
    s.out(s.a, f"A: RELEASE {_SHORT[kind]}", lambda d: d.release(s.a.key, kind))
    s.full_status()
    try:
        s._retry(s.a, lambda d: d.register(UNUSED_KEY))  # refused: A is registered
    except PRError as error:
        if not _answered(error):
            raise
    generation, _ = s.keys()
    s.expect(
        generation == g,
        f"RESERVE, RELEASE, PR IN and a refused REGISTER leave PRgeneration at {g}",
        f"PRgeneration {generation}",
    )
    steps: list[tuple[str, _Nexus, Callable[[Device], None]]] = [
        (
            "unregister (REGISTER with SERVICE ACTION RESERVATION KEY 0)",
            s.b,
            lambda d: d.unregister(s.b.key),
        ),
        ("REGISTER", s.b, lambda d: d.register(s.b.key)),
        ("REGISTER AND IGNORE EXISTING KEY with key 0", s.b, lambda d: d.register_and_ignore(0)),
        ("REGISTER AND IGNORE EXISTING KEY", s.b, lambda d: d.register_and_ignore(s.b.key)),
        ("PREEMPT", s.a, lambda d: d.preempt(s.a.key, s.b.key, kind)),
        ("CLEAR", s.a, lambda d: d.clear(s.a.key)),
    ]
    missed: list[tuple[str, _Nexus, bytes]] = []
    for what, n, call in steps:
        g, _ = s.keys()
        s.out(n, f"{n.label}: {what}", call)
        cdb = _last_cdb(n.device)
        generation, _ = s.keys()
        if generation != g + 1:
            missed.append((f"{what} left it at {generation}", n, cdb))
    s.expect(
        not missed,
        "PRgeneration + 1 for every REGISTER (unregistering too), REGISTER AND IGNORE "
        "EXISTING KEY, PREEMPT and CLEAR",
        "; ".join(m[0] for m in missed),
        *(missed[0][1:2] if missed else ()),
        cdb=missed[0][2] if missed else None,
    )


@_check("register.aptpl", "SPC-4 5.14.5, 6.15.4, 6.16.3", "3.5")
def _register_aptpl(s: _Run) -> None:
    """APTPL sets and clears PTPL_A (where PTPL_C)."""
    if not s.caps.persist_through_power_loss_capable:
        raise _NotApplicable("PTPL_C=0: APTPL is not advertised")
    s.out(s.a, "A: REGISTER with APTPL=1", lambda d: d.register(s.a.key, aptpl=True))
    caps = s._read(s.a, "REPORT CAPABILITIES", lambda d: d.report_capabilities())
    s.expect(
        caps.persist_through_power_loss_active,
        "after REGISTER with APTPL=1: REPORT CAPABILITIES PTPL_A=1",
        "PTPL_A=0",
    )
    s.out(
        s.a,
        "A: REGISTER (key change) with APTPL=0",
        lambda d: d.register(ALTERNATE_KEY, key=s.a.key),
    )
    caps = s._read(s.a, "REPORT CAPABILITIES", lambda d: d.report_capabilities())
    s.expect(
        not caps.persist_through_power_loss_active,
        "after REGISTER with APTPL=0: PTPL_A=0 (the last valid APTPL bit)",
        "PTPL_A=1",
    )


@_check("register.all-target-ports", "SPC-4 6.16.3", "3.6")
def _register_all_target_ports(s: _Run) -> None:
    """ALL_TG_PT registers; a later REGISTER with ALL_TG_PT=0 (where ATP_C)."""
    if not s.caps.all_target_ports_capable:
        raise _NotApplicable("ATP_C=0: ALL_TG_PT is not advertised")
    s.out(s.a, "A: REGISTER with ALL_TG_PT=1", lambda d: d.register(s.a.key, all_target_ports=True))
    status = s.full_status()
    mine = [r for r in status.registrants if r.key == s.a.key]
    s.expect(
        bool(mine) and all(r.all_target_ports for r in mine),
        "READ FULL STATUS: A's registration with ALL_TG_PT=1",
        ", ".join(f"{_hex(r.key)} ALL_TG_PT={int(r.all_target_ports)}" for r in status.registrants)
        or "none",
    )
    s.out(
        s.a,
        "A: REGISTER with SERVICE ACTION RESERVATION KEY 0 and ALL_TG_PT=0 (unregister through "
        "the receiving port)",
        lambda d: d.unregister(s.a.key),
    )
    _, keys = s.keys()
    s.expect(
        keys.count(s.a.key) == len(mine) - 1,
        "A's registration through this port removed",
        f"keys {', '.join(map(_hex, keys)) or 'none'}",
    )


@_check("register.spec-i-pt", "SPC-4 5.14.7, 6.16.3", "3.8")
def _register_spec_i_pt(s: _Run) -> None:
    """SPEC_I_PT registers another initiator port too (where SIP_C)."""
    if not s.caps.specify_initiator_ports_capable:
        raise _NotApplicable("SIP_C=0: SPEC_I_PT is not advertised")
    s.register(s.b)
    (other,) = [r for r in s.full_status().registrants if r.key == s.b.key]
    s.out(s.b, "B: unregister", lambda d: d.unregister(s.b.key))
    s.out(
        s.a,
        f"A: REGISTER with SPEC_I_PT=1 and B's TransportID ({other.transport_id})",
        lambda d: d.register(s.a.key, transport_ids=[other.transport_id]),
    )
    status = s.full_status()
    registered = [r for r in status.registrants if r.key == s.a.key]
    s.expect(
        len(registered) == 2
        and any(_same_port(r.transport_id, other.transport_id) for r in registered),
        f"two registrations with A's key: A's own and {other.transport_id}'s",
        ", ".join(f"{_hex(r.key)} {r.transport_id}" for r in status.registrants) or "none",
    )


def _same_port(one: TransportID, other: TransportID) -> bool:
    """The same initiator port; an iSCSI name may be listed with or without
    the ISID of the session that registered it."""
    if isinstance(one, ISCSITransportID) and isinstance(other, ISCSITransportID):
        return one.name == other.name
    return one == other


@_per_type("reserve.", "SPC-4 5.14.9, 5.14.11.2", "L06 P04 W02 W03")
def _reserve_type(kind: ReservationType) -> Callable[[_Run], None]:
    """RESERVE and RELEASE {name}; conflicts between nexuses."""
    name = _SHORT[kind]

    def check(s: _Run) -> None:
        s.register(s.a, s.b)
        g, _ = s.keys()
        s.reserve(s.a, kind)
        expected = Reservation(0 if kind.all_registrants else s.a.key, kind, Scope.LU)
        for n in s.nexuses:
            held = s.reservation(via=n)
            s.expect(
                held == expected,
                f"READ RESERVATION through {n.label}: {_show(expected)}",
                _show(held),
            )
        generation, _ = s.keys()
        s.expect(
            generation == g, f"RESERVE leaves PRgeneration at {g}", f"PRgeneration {generation}"
        )
        s.out(
            s.a,
            f"A: RESERVE {name} again (the holder, same type)",
            lambda d: d.reserve(s.a.key, kind),
        )
        other = next((k for k in s.types if k != kind), None)
        if other is not None:
            s.refused(
                s.a,
                f"A (holder): RESERVE {_SHORT[other]} (another type)",
                lambda d: d.reserve(s.a.key, other),
            )
        if not kind.all_registrants:
            s.refused(
                s.b,
                f"B (registered, not the holder): RESERVE {name}",
                lambda d: d.reserve(s.b.key, kind),
            )
        s.out(s.a, f"A: RELEASE {name}", lambda d: d.release(s.a.key, kind))
        held = s.reservation()
        s.expect(held is None, "released", _show(held))
        generation, _ = s.keys()
        s.expect(
            generation == g, f"RELEASE leaves PRgeneration at {g}", f"PRgeneration {generation}"
        )
        notified = kind in _REGISTRANTS_ONLY or kind.all_registrants
        s.expect_attentions(
            s.b,
            [UA.RESERVATIONS_RELEASED] if notified else [],
            "releasing a registrants-only or all-registrants type notifies the other registrants"
            if notified
            else f"releasing {name} notifies no one",
        )
        s.expect_attentions(s.a, [], "not the nexus that released it")
        if s.c is not None:
            s.expect_attentions(s.c, [], "C is not registered")

    return check


@_per_type("reserve.holder-unregisters-", "SPC-4 5.14.11.3", "L13-L18 P07 W06")
def _holder_unregisters(kind: ReservationType) -> Callable[[_Run], None]:
    """The holder of {name} unregisters: who holds it afterwards."""
    name = _SHORT[kind]

    def check(s: _Run) -> None:
        s.register(s.a, s.b)
        s.reserve(s.a, kind)
        s.out(s.a, "A (holder): unregister", lambda d: d.unregister(s.a.key))
        held = s.reservation(via=s.b)
        if kind.all_registrants:
            expected = Reservation(0, kind, Scope.LU)
            s.expect(
                held == expected,
                f"{name}: the reservation stays with the remaining registrants (key 0)",
                _show(held),
            )
            holders = [r.key for r in s.full_status(via=s.b).registrants if r.holder]
            s.expect(
                holders == [s.b.key],
                "B is the holder now (R_HOLDER)",
                f"holders: {', '.join(map(_hex, holders)) or 'none'}",
            )
            s.expect_attentions(s.b, [], "the reservation is unchanged for B")
            s.out(s.b, "B (the last registrant): unregister", lambda d: d.unregister(s.b.key))
            held = s.reservation(via=s.b)
            s.expect(held is None, "released with the last registration", _show(held))
            return
        s.expect(held is None, f"{name}: released when its holder unregisters", _show(held))
        notified = kind in _REGISTRANTS_ONLY
        s.expect_attentions(
            s.b,
            [UA.RESERVATIONS_RELEASED] if notified else [],
            "a registrants-only reservation released by its holder's unregistering"
            if notified
            else f"{name} released this way notifies no one",
        )

    return check


def _first(s: _Run, kinds: Iterable[ReservationType]) -> ReservationType:
    for kind in kinds:
        if kind in s.types:
            return kind
    raise _NotApplicable("no suitable type in the type mask")


@_check("reserve.release-by-non-holder", "SPC-4 5.14.11.2", "P05")
def _release_by_non_holder(s: _Run) -> None:
    """RELEASE from a non-holder, or with no reservation, changes nothing."""
    kind = _first(s, (T.WRITE_EXCLUSIVE, T.EXCLUSIVE_ACCESS, *_REGISTRANTS_ONLY))
    s.register(s.a, s.b)
    s.out(s.a, f"A: RELEASE {_SHORT[kind]} with no reservation", lambda d: d.release(s.a.key, kind))
    s.reserve(s.a, kind)
    s.out(
        s.b,
        f"B (registered, not the holder): RELEASE {_SHORT[kind]}",
        lambda d: d.release(s.b.key, kind),
    )
    held = s.reservation()
    expected = Reservation(s.a.key, kind, Scope.LU)
    s.expect(held == expected, f"unchanged: {_show(expected)}", _show(held))
    s.expect_attentions(s.a, [], "nothing was released")


@_check("reserve.release-all-registrants", "SPC-4 5.14.11.2", "P06")
def _release_all_registrants_by_other(s: _Run) -> None:
    """Any registrant releases an all-registrants type; the others are told."""
    kind = _first(s, (T.WRITE_EXCLUSIVE_ALL_REGISTRANTS, T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS))
    s.register(s.a, s.b)
    s.reserve(s.a, kind)
    s.out(
        s.b,
        f"B (registered: a holder of {_SHORT[kind]}): RELEASE",
        lambda d: d.release(s.b.key, kind),
    )
    held = s.reservation()
    s.expect(held is None, "released", _show(held))
    s.expect_attentions(s.a, [UA.RESERVATIONS_RELEASED], "every other registrant is notified")
    s.expect_attentions(s.b, [], "not the nexus that released it")


@_check("reserve.release-wrong-type", "SPC-4 5.14.11.2", "")
def _release_wrong_type(s: _Run) -> None:
    """RELEASE with another type is refused as an invalid release."""
    kind = _first(s, (T.EXCLUSIVE_ACCESS, T.WRITE_EXCLUSIVE, *_REGISTRANTS_ONLY))
    other = next((k for k in s.types if k != kind), None)
    if other is None:
        raise _NotApplicable("the type mask lists one type")
    s.register(s.a)
    s.reserve(s.a, kind)
    s.refused(
        s.a,
        f"A (holder of {_SHORT[kind]}): RELEASE {_SHORT[other]}",
        lambda d: d.release(s.a.key, other),
        sense=(5, 0x26, 0x04),
        meaning="CHECK CONDITION, ILLEGAL REQUEST, INVALID RELEASE OF PERSISTENT RESERVATION "
        "(26h/04h)",
    )
    held = s.reservation()
    expected = Reservation(s.a.key, kind, Scope.LU)
    s.expect(held == expected, f"not released: {_show(expected)}", _show(held))


def _unregistered_out(action: str) -> Callable[[_Run], None]:
    def check(s: _Run) -> None:
        n = s.unregistered()
        kind = _first(s, (T.WRITE_EXCLUSIVE, T.EXCLUSIVE_ACCESS, *_ALL_TYPES))
        calls: dict[str, Callable[[Device], None]] = {
            "RESERVE": lambda d: d.reserve(n.key, kind),
            "RELEASE": lambda d: d.release(n.key, kind),
            "CLEAR": lambda d: d.clear(n.key),
        }
        s.register(s.a)
        what = f"{n.label} (unregistered), no reservation held: {action}"
        if action == "RELEASE":
            # 5.14.11.2 also allows GOOD when there is nothing to release.
            _refused_or_nothing_changed(s, n, what, calls[action])
        else:
            s.refused(n, what, calls[action])
        s.reserve(s.a, kind)
        s.refused(n, f"{n.label} (unregistered), A holds {_SHORT[kind]}: {action}", calls[action])
        held = s.reservation()
        _, keys = s.keys()
        s.expect(
            held == Reservation(s.a.key, kind, Scope.LU) and keys == (s.a.key,),
            f"A's registration and reservation ({_SHORT[kind]}) unchanged",
            f"{_show(held)}, keys {', '.join(map(_hex, keys)) or 'none'}",
        )

    return check


def _refused_or_nothing_changed(
    s: _Run, n: _Nexus, what: str, call: Callable[[Device], None]
) -> None:
    before = s.keys(), s.reservation()
    try:
        s.refused(n, what, call)
    except _Departure as departure:
        if departure.observed != "GOOD":
            departure.expected += " (or GOOD, changing nothing: there is no reservation)"
            raise
    after = s.keys(), s.reservation()
    s.expect(after == before, f"{what}: nothing changed", f"{before} -> {after}")


_add(
    _Spec(
        "reserve.unregistered-reserve",
        "RESERVE from an unregistered nexus conflicts",
        "SPC-4 6.16.3, 5.14.9",
        "",
        _unregistered_out("RESERVE"),
    )
)
_add(
    _Spec(
        "reserve.unregistered-release",
        "RELEASE from an unregistered nexus conflicts",
        "SPC-4 6.16.3, 5.14.11.2",
        "",
        _unregistered_out("RELEASE"),
    )
)


# The access each type grants (SPC-4 5.14.1, SBC-3 4.17 table 13): (read,
# write) for the holder, a registered non-holder and an unregistered nexus.
_ACCESS = {
    T.WRITE_EXCLUSIVE: ((True, True), (True, False), (True, False)),
    T.EXCLUSIVE_ACCESS: ((True, True), (False, False), (False, False)),
    T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY: ((True, True), (True, True), (True, False)),
    T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY: ((True, True), (True, True), (False, False)),
    T.WRITE_EXCLUSIVE_ALL_REGISTRANTS: ((True, True), (True, True), (True, False)),
    T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS: ((True, True), (True, True), (False, False)),
}


def _block(s: _Run) -> _Block:
    """The block the probes read (LBA 1, LBA 0 on a one-block unit), as A
    reads it before any reservation; the write probes write it back."""
    if s.block is None:
        s.block = "no block access to probe (READ CAPACITY(10) refused or unusable)"
        try:
            capacity = s._retry(
                s.a, lambda d: execute(d, _READ_CAPACITY_10, data_in=8, command="READ CAPACITY(10)")
            )
        except CheckCondition:
            capacity = b""
        if len(capacity) == 8 and 0 < _be(capacity, 4, 4) <= 1 << 20:
            lba = 1 if _be(capacity, 0, 4) >= 1 else 0
            size = _be(capacity, 4, 4)
            data = s._retry(
                s.a, lambda d: execute(d, _rw10(0x28, lba), data_in=size, command="READ(10)")
            )
            s.block = _Block(lba, data)
    if isinstance(s.block, str):
        raise _NotApplicable(s.block)
    return s.block


def _probe(s: _Run, n: _Nexus, operation: str, block: _Block) -> bool:
    """True when the medium access succeeds, False on RESERVATION CONFLICT."""
    if operation == "read":
        call = partial(
            execute, cdb=_rw10(0x28, block.lba), data_in=len(block.data), command="READ(10)"
        )
    else:
        call = partial(
            execute, cdb=_rw10(0x2A, block.lba), data_out=block.data, command="WRITE(10)"
        )
    try:
        s._retry(n, call)
    except ReservationConflict:
        return False
    except PRError as error:
        if not _answered(error):
            raise
        raise _Departure(
            f"{n.label}: {operation.upper()}: GOOD or RESERVATION CONFLICT",
            _answer(error),
            n,
            error=error,
        ) from None
    return True


@_per_type("access.", "SPC-4 5.14.1, SBC-3 4.17", "L07-L12 P08")
def _access(kind: ReservationType) -> Callable[[_Run], None]:
    """READ (and WRITE) under {name}: holder, registrant, unregistered."""
    name = _SHORT[kind]
    roles = ("the holder", "registered", "unregistered")

    def check(s: _Run) -> None:
        block = _block(s)
        s.register(s.a, s.b)
        s.reserve(s.a, kind)
        operations = ("read", "write") if s.write_probes else ("read",)
        probes = [(s.a, 0), (s.b, 1)] + ([(s.c, 2)] if s.c else [])
        wrong: list[str] = []

        def run(n: _Nexus, role: int) -> None:
            for i, operation in enumerate(operations):
                allowed = _ACCESS[kind][role][i]
                got = _probe(s, n, operation, block)
                if got != allowed:
                    wrong.append(
                        f"{n.label} ({roles[role]}) {operation.upper()}: "
                        f"{'GOOD' if got else 'RESERVATION CONFLICT'}, SPC: "
                        f"{'GOOD' if allowed else 'RESERVATION CONFLICT'}"
                    )

        for n, role in probes:
            run(n, role)
        s.out(s.b, "B: unregister", lambda d: d.unregister(s.b.key))
        run(s.b, 2)
        s.expect(
            not wrong,
            f"{name}: (READ, WRITE) holder (GOOD, GOOD), registered "
            f"{_pair(_ACCESS[kind][1])}, unregistered {_pair(_ACCESS[kind][2])}"
            + ("" if s.write_probes else " (WRITE not probed without --write-probes)"),
            "; ".join(wrong),
        )

    return check


def _pair(allowed: tuple[bool, bool]) -> str:
    return "(" + ", ".join("GOOD" if a else "CONFLICT" for a in allowed) + ")"


@_check("access.data-unchanged", "-", "")
def _access_data_unchanged(s: _Run) -> None:
    """The write probes wrote back exactly the block they read."""
    if not s.write_probes:
        raise _NotApplicable("no write probes (--write-probes)")
    block = _block(s)
    now = s._retry(
        s.a,
        lambda d: execute(d, _rw10(0x28, block.lba), data_in=len(block.data), command="READ(10)"),
    )
    s.expect(
        now == block.data,
        f"LBA {block.lba} reads as before the write probes (each wrote back what was read)",
        "the block differs",
        s.a,
    )


@_check("preempt.remove-registration", "SPC-4 5.14.11.4.4", "L20")
def _preempt_remove_registration(s: _Run) -> None:
    """PREEMPT with no reservation removes the victim's registration only."""
    s.register(s.a, s.b)
    g, _ = s.keys(via=s.b)
    kind = _first(s, (T.EXCLUSIVE_ACCESS, *_ALL_TYPES))
    s.out(
        s.b, "B: PREEMPT A's key (no reservation held)", lambda d: d.preempt(s.b.key, s.a.key, kind)
    )
    generation, keys = s.keys(via=s.b)
    s.expect(
        keys == (s.b.key,) and generation == g + 1,
        f"only A's registration removed; PRgeneration {g} + 1",
        f"keys {', '.join(map(_hex, keys))}, PRgeneration {generation}",
    )
    held = s.reservation(via=s.b)
    s.expect(held is None, "still no reservation", _show(held))
    s.expect_attentions(s.a, [UA.REGISTRATIONS_PREEMPTED], "A lost its registration")
    s.expect_attentions(s.b, [], "the nexus that preempted")


@_check("preempt.unregistered", "SPC-4 6.16.3", "W04")
def _preempt_unregistered(s: _Run) -> None:
    """PREEMPT from an unregistered nexus conflicts."""
    kind = _first(s, (T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, *_ALL_TYPES))
    s.register(s.a)
    s.reserve(s.a, kind)
    s.refused(s.b, "B (unregistered): PREEMPT A's key", lambda d: d.preempt(s.b.key, s.a.key, kind))
    held = s.reservation()
    s.expect(held == Reservation(s.a.key, kind, Scope.LU), "A's reservation unchanged", _show(held))
    _, keys = s.keys()
    s.expect(
        keys == (s.a.key,),
        "A's registration unchanged",
        f"keys {', '.join(map(_hex, keys)) or 'none'}",
    )


def _preempt_holder(abort: bool) -> Callable[[_Run], None]:
    what = "PREEMPT AND ABORT" if abort else "PREEMPT"

    def check(s: _Run) -> None:
        if abort:
            kind, new = T.WRITE_EXCLUSIVE, T.EXCLUSIVE_ACCESS
            if kind not in s.types or new not in s.types:
                raise _NotApplicable("needs WE and EA in the type mask")
        else:
            kind = new = _first(
                s,
                (
                    T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY,
                    T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY,
                    T.WRITE_EXCLUSIVE,
                    T.EXCLUSIVE_ACCESS,
                ),
            )
        s.register(s.a, s.b)
        s.reserve(s.a, kind)
        g, _ = s.keys(via=s.b)
        if abort:
            s.out(
                s.b,
                f"B: {what} A's key, type {_SHORT[new]}",
                lambda d: d.preempt_and_abort(s.b.key, s.a.key, new),
            )
        else:
            s.out(
                s.b,
                f"B: {what} A's key, type {_SHORT[new]}",
                lambda d: d.preempt(s.b.key, s.a.key, new),
            )
        generation, keys = s.keys(via=s.b)
        s.expect(
            keys == (s.b.key,) and generation == g + 1,
            f"A's registration removed; PRgeneration {g} + 1",
            f"keys {', '.join(map(_hex, keys))}, PRgeneration {generation}",
        )
        held = s.reservation(via=s.b)
        s.expect(
            held == Reservation(s.b.key, new, Scope.LU),
            f"B holds {_SHORT[new]} with its key",
            _show(held),
        )
        s.expect_attentions(
            s.a, [UA.REGISTRATIONS_PREEMPTED], "A lost its registration and reservation"
        )
        s.expect_attentions(s.b, [], "the nexus that preempted")
        if s.c is not None:
            s.expect_attentions(s.c, [], "C is not registered")

    return check


_add(
    _Spec(
        "preempt.holder",
        "PREEMPT of the holder moves the reservation to the preempting nexus",
        "SPC-4 5.14.11.4.3",
        "W05",
        _preempt_holder(abort=False),
    )
)
_add(
    _Spec(
        "preempt.abort-holder",
        "PREEMPT AND ABORT of the holder moves the reservation",
        "SPC-4 5.14.11.4",
        "",
        _preempt_holder(abort=True),
        skip=_abort_skip,
    )
)


@_check("preempt.abort-registration", "SPC-4 5.14.11.4", "3.3", skip=_abort_skip)
def _preempt_abort_registration(s: _Run) -> None:
    """PREEMPT AND ABORT with no reservation removes the victim's registration."""
    s.register(s.a, s.b)
    kind = _first(s, (T.EXCLUSIVE_ACCESS, *_ALL_TYPES))
    s.out(
        s.b,
        "B: PREEMPT AND ABORT A's key (no reservation held)",
        lambda d: d.preempt_and_abort(s.b.key, s.a.key, kind),
    )
    _, keys = s.keys(via=s.b)
    s.expect(
        keys == (s.b.key,), "only A's registration removed", f"keys {', '.join(map(_hex, keys))}"
    )
    s.expect_attentions(s.a, [UA.REGISTRATIONS_PREEMPTED], "A lost its registration")


@_check("preempt.type-change", "SPC-4 5.14.11.4.3", "3.3")
def _preempt_type_change(s: _Run) -> None:
    """PREEMPT changing the type tells the remaining registrants."""
    if s.c is None:
        raise _NotApplicable("needs a third nexus (DEV_C)")
    c = s.c
    if T.WRITE_EXCLUSIVE not in s.types or T.EXCLUSIVE_ACCESS not in s.types:
        raise _NotApplicable("needs WE and EA in the type mask")
    s.register(s.a, s.b, c)
    s.reserve(s.a, T.WRITE_EXCLUSIVE)
    s.out(
        s.b,
        "B: PREEMPT A (holder of WE) with type EA",
        lambda d: d.preempt(s.b.key, s.a.key, T.EXCLUSIVE_ACCESS),
    )
    held = s.reservation(via=s.b)
    s.expect(held == Reservation(s.b.key, T.EXCLUSIVE_ACCESS, Scope.LU), "B holds EA", _show(held))
    s.expect_attentions(s.a, [UA.REGISTRATIONS_PREEMPTED], "A lost its registration")
    s.expect_attentions(
        c, [UA.RESERVATIONS_RELEASED], "C kept its registration and the type changed"
    )
    s.expect_attentions(s.b, [], "the nexus that preempted")


@_check("preempt.all-registrants", "SPC-4 5.14.11.4.3", "3.3")
def _preempt_all_registrants(s: _Run) -> None:
    """PREEMPT with key 0 of an all-registrants reservation."""
    kind = _first(s, (T.WRITE_EXCLUSIVE_ALL_REGISTRANTS, T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS))
    s.register(*s.nexuses)
    s.reserve(s.a, kind)
    s.out(
        s.b,
        f"B: PREEMPT with SERVICE ACTION RESERVATION KEY 0 ({_SHORT[kind]})",
        lambda d: d.preempt(s.b.key, 0, kind),
    )
    _, keys = s.keys(via=s.b)
    s.expect(
        keys == (s.b.key,), "every other registration removed", f"keys {', '.join(map(_hex, keys))}"
    )
    held = s.reservation(via=s.b)
    s.expect(
        held == Reservation(0, kind, Scope.LU),
        f"{_SHORT[kind]} held by B alone (key 0)",
        _show(held),
    )
    for n in s.nexuses:
        if n is not s.b:
            s.expect_attentions(n, [UA.REGISTRATIONS_PREEMPTED], f"{n.label} lost its registration")
    s.expect_attentions(s.b, [], "the nexus that preempted")


@_check("preempt.unknown-key", "SPC-4 5.14.11.4.4", "L20")
def _preempt_unknown_key(s: _Run) -> None:
    """PREEMPT of a key nobody registered conflicts."""
    kind = _first(s, (T.EXCLUSIVE_ACCESS, *_ALL_TYPES))
    s.register(s.a, s.b)
    before = s.keys()
    s.refused(
        s.b,
        f"B: PREEMPT {_hex(UNUSED_KEY)}, a key nobody registered",
        lambda d: d.preempt(s.b.key, UNUSED_KEY, kind),
    )
    after = s.keys()
    s.expect(after == before, "keys and PRgeneration unchanged", f"{before} -> {after}")


@_check("preempt.clear", "SPC-4 5.14.11.5", "L19")
def _clear(s: _Run) -> None:
    """CLEAR removes every registration and the reservation."""
    kind = _first(s, (T.EXCLUSIVE_ACCESS, *_ALL_TYPES))
    s.register(s.a, s.b)
    g, _ = s.keys()
    s.reserve(s.a, kind)
    s.out(s.a, "A: CLEAR", lambda d: d.clear(s.a.key))
    generation, keys = s.keys()
    held = s.reservation()
    s.expect(
        keys == () and held is None and generation == g + 1,
        f"no key, no reservation; PRgeneration {g} + 1",
        f"keys {', '.join(map(_hex, keys)) or 'none'}, {_show(held)}, PRgeneration {generation}",
    )
    s.expect_attentions(s.b, [UA.RESERVATIONS_PREEMPTED], "every other registrant is notified")
    s.expect_attentions(s.a, [], "the nexus that cleared")


_add(
    _Spec(
        "preempt.clear-unregistered",
        "CLEAR from an unregistered nexus conflicts",
        "SPC-4 6.16.3, 5.14.11.5",
        "",
        _unregistered_out("CLEAR"),
    )
)


@_check("move.register-and-move", "SPC-4 5.14.8, 6.16.4", "3.8")
def _register_and_move(s: _Run) -> None:
    """REGISTER AND MOVE hands the reservation to another nexus."""
    kind = _first(s, (T.WRITE_EXCLUSIVE, T.EXCLUSIVE_ACCESS, *_REGISTRANTS_ONLY))
    s.register(s.a, s.b)
    s.reserve(s.a, kind)
    (target,) = [r for r in s.full_status().registrants if r.key == s.b.key]
    s.out(s.b, "B: unregister", lambda d: d.unregister(s.b.key))
    try:
        s._retry(
            s.a,
            lambda d: d.register_and_move(
                s.a.key,
                s.b.key,
                target.relative_target_port,
                target.transport_id,
                unregister=True,
                type=kind,
            ),
        )
    except IllegalRequest as error:
        if error.sense is not None and (error.sense.asc, error.sense.ascq) == (0x24, 0):
            raise _NotApplicable(
                "the device does not support REGISTER AND MOVE (INVALID FIELD IN CDB)"
            ) from None
        raise _Departure(
            f"A: REGISTER AND MOVE to B's nexus ({target.transport_id}, relative target port "
            f"{target.relative_target_port}): GOOD",
            _answer(error),
            s.a,
            error=error,
        ) from None
    except PRError as error:
        if not _answered(error):
            raise
        raise _Departure("A: REGISTER AND MOVE: GOOD", _answer(error), s.a, error=error) from None
    _, keys = s.keys(via=s.b)
    s.expect(
        keys == (s.b.key,),
        "B registered with the moved key, A unregistered (UNREG=1)",
        f"keys {', '.join(map(_hex, keys))}",
    )
    held = s.reservation(via=s.b)
    s.expect(held == Reservation(s.b.key, kind, Scope.LU), f"B holds {_SHORT[kind]}", _show(held))
    s.expect_attentions(s.b, [], "REGISTER AND MOVE establishes no unit attention")


@_check("move.replace-lost", "SPC-5 6.17, 6.16.4 (RLR_C)", "3.1")
def _replace_lost(s: _Run) -> None:
    """REPLACE LOST RESERVATION is implemented where RLR_C is set."""
    if not s.caps.replace_lost_reservation_capable:
        raise _NotApplicable("RLR_C=0: REPLACE LOST RESERVATION is not advertised")
    kind = _first(s, (T.WRITE_EXCLUSIVE, *_ALL_TYPES))
    s.register(s.a)
    try:
        s._retry(s.a, lambda d: d.replace_lost_reservation(s.a.key, kind))
    except IllegalRequest as error:
        if error.sense is not None and (error.sense.asc, error.sense.ascq) in (
            (0x20, 0),
            (0x24, 0),
        ):
            raise _Departure(
                "RLR_C=1: REPLACE LOST RESERVATION is implemented (not refused as an invalid "
                "operation or field)",
                _answer(error),
                s.a,
                error=error,
            ) from None
    except PRError as error:
        if not _answered(error):
            raise


# -- before the first PR OUT --------------------------------------------------------


class SelftestStopped(Exception):
    """The run could not go on: the logical unit did not return to a clean
    state between checks, or another initiator registered meanwhile."""


class Plan(Record):
    """What a run is about to do, announced (``on_start``) before its first
    PERSISTENT RESERVE OUT."""

    __slots__ = ()

    devices: tuple[str, ...]
    unit: LogicalUnit | None
    capabilities: Capabilities
    keys: tuple[tuple[str, int], ...]
    groups: tuple[str, ...]
    write_probes: bool
    found: FullStatus | None
    """With ``force``: the registrations the first reset removes."""
    abort_hazard: str | None
    """Why the PREEMPT AND ABORT checks are skipped, if they are."""


def _node_identity(path: str) -> tuple[object, ...]:
    """What makes two paths one node: the device number (POSIX), else the
    normalised name (Windows names are case-insensitive)."""
    try:
        st = os.stat(path)
    except OSError:
        st = None
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        return (stat.S_IFMT(st.st_mode), st.st_rdev)
    name = os.path.normpath(os.path.realpath(path) if sys.platform != "win32" else path)
    return ("name", name.lower() if sys.platform == "win32" else name)


def _refuse_same_node(paths: Sequence[str]) -> None:
    seen: dict[tuple[object, ...], str] = {}
    for path in paths:
        node = _node_identity(path)
        if node in seen:
            raise SelftestRefused(
                f"{path} and {seen[node]} are the same device node: give one node per I_T "
                "nexus (two HBA ports, two iSCSI sessions, ...)"
            )
        seen[node] = path


def _abort_hazard(paths: Sequence[str]) -> str | None:
    """PREEMPT AND ABORT deadlocks LIO over tcm_loop (the LUN reset it
    triggers flushes the work item that runs the command): the target hangs.
    Linux only: the SCSI host driver of each node, from sysfs."""
    if sys.platform != "linux":
        return None
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        kind = "char" if stat.S_ISCHR(st.st_mode) else "block" if stat.S_ISBLK(st.st_mode) else ""
        if not kind:
            continue
        device = os.path.realpath(
            f"/sys/dev/{kind}/{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}/device"
        )
        hosts = [p for p in device.split("/") if p.startswith("host") and p[4:].isdigit()]
        if not hosts:
            continue
        try:
            with open(f"/sys/class/scsi_host/{hosts[-1]}/proc_name") as f:
                driver = f.read().strip()
        except OSError:
            continue
        if driver == "tcm_loopback":
            return (
                f"{path} is a tcm_loop (LIO loopback) node: PREEMPT AND ABORT deadlocks LIO "
                "there (the LUN reset it triggers waits for the work item running it); run "
                "these over iSCSI or FC"
            )
    return None


def _capabilities(a: _Nexus) -> Capabilities:
    """REPORT CAPABILITIES through A (a unit attention first is consumed);
    a logical unit that refuses it has no persistent reservations to check."""
    for _ in range(16):
        try:
            return a.device.report_capabilities()
        except UnitAttention:
            continue
        except PRError as error:
            if not _answered(error):
                raise
            raise SelftestRefused(
                f"{a.path}: REPORT CAPABILITIES fails ({_answer(error)}): the logical unit "
                "has no persistent reservations to check"
            ) from None
    raise SelftestRefused(f"{a.path}: unit attentions do not stop")


def _logical_unit(nexuses: list[_Nexus]) -> LogicalUnit | None:
    """INQUIRY through every node (it changes nothing); nodes whose
    ``lu_name`` differ are refused."""
    identities = []
    for n in nexuses:
        identify = getattr(n.device, "identify", None)
        identities.append(identify() if identify is not None else None)
    names = {n.label: getattr(i, "lu_name", None) for n, i in zip(nexuses, identities)}
    known = {name for name in names.values() if name}
    if len(known) > 1:
        listed = ", ".join(f"{n.path}: {names[n.label]}" for n in nexuses)
        raise SelftestRefused(f"the nodes reach different logical units ({listed})")
    first = identities[0]
    if first is None:
        return None
    return LogicalUnit(first.vendor, first.product, first.revision, first.lu_name)


def _describe_found(
    keys: tuple[int, ...], held: Reservation | None, status: FullStatus | None
) -> str:
    parts = []
    if status is not None and status.registrants:
        parts.append(
            "registrations: "
            + ", ".join(
                f"{_hex(r.key)} ({r.transport_id}, port {r.relative_target_port})"
                for r in status.registrants
            )
        )
    elif keys:
        parts.append("registered keys: " + ", ".join(map(_hex, keys)))
    if held is not None:
        parts.append(f"reservation: {_show(held)}")
    if keys and all(k in _OURS for k in keys):
        parts.append("(these are the self-test's own keys: an earlier run was cut short)")
    return "; ".join(parts)


def _state_before(s: _Run, force: bool) -> FullStatus | None:
    """The logical unit seen through every nexus: refused unless clean
    (``force``: what there is, for the first reset to remove)."""
    for n in s.nexuses:
        try:
            _, keys = s.keys(via=n)
            held = s.reservation(via=n)
        except _Departure as departure:
            error = departure.error
            why = departure.observed
            if isinstance(error, ReservationConflict):
                why += " (an SPC-2 RESERVE(6)/RESERVE(10) is probably held)"
            raise SelftestRefused(f"{n.path}: PERSISTENT RESERVE IN fails: {why}") from None
        if not keys and held is None:
            continue
        try:
            status: FullStatus | None = s.full_status(via=n)
        except _Departure:
            status = None
        found = _describe_found(keys, held, status)
        if not force:
            raise SelftestRefused(
                f"the logical unit is in use: {found}; the self-test starts only on a logical "
                "unit without registrations or reservation (--force: start anyway, and remove "
                "them)",
                found=status,
            )
        return status if status is not None else FullStatus(0, ())
    return None


def _probe_nexuses(s: _Run) -> None:
    """Each node registers its key in turn.  A node of another logical unit
    does not see the keys registered before it; a second node of an I_T
    nexus already registered gets RESERVATION CONFLICT (its REGISTER carries
    key 0, and that nexus is registered)."""
    done: list[_Nexus] = []
    for n in s.nexuses:
        _, keys = s.keys(via=n)
        if sorted(keys) != sorted(m.key for m in done):
            raise SelftestRefused(
                f"{n.path} does not see the keys registered through "
                f"{', '.join(m.path for m in done)}: it is not a node of the same logical unit"
            )
        s.sent = True
        try:
            s._retry(n, methodcaller("register", n.key))
        except ReservationConflict:
            same = next((m for m in done if _registered_with(s, n, m.key)), None)
            raise SelftestRefused(
                f"{n.path} reaches the logical unit through the same I_T nexus as "
                f"{same.path if same else 'an earlier node'} (that nexus is registered "
                "already, so its REGISTER conflicts): give one node per I_T nexus"
            ) from None
        done.append(n)


def _registered_with(s: _Run, n: _Nexus, key: int) -> bool:
    try:
        s._retry(n, lambda d: d.register(key, key=key))
    except ReservationConflict:
        return False
    return True


# -- after the last check (whatever happened) --------------------------------------------


def _quietly(s: _Run, n: _Nexus, call: Callable[[Device], object], notes: list[str]) -> bool:
    try:
        s._retry(n, call)
    except (PRError, OSError, SelftestStopped) as error:
        notes.append(f"{n.label}: {error}")
        return False
    return True


def _leave_clean(s: _Run) -> tuple[bool, str]:
    """Remove every registration and the reservation of the self-test, and
    nothing else: with only its own keys on the logical unit, REGISTER AND
    IGNORE EXISTING KEY + CLEAR from one nexus (which also reaches what it
    registered through other ports); with another initiator's keys there,
    each nexus releases what it holds and unregisters, and what remains with
    its keys elsewhere is preempted.  Then the unit attentions it caused are
    drained.  Returns (clean, what is left)."""
    notes: list[str] = []
    left = ""
    for _ in range(3):
        state = _read_state(s, notes)
        if state is None:
            left = "the PR state cannot be read: " + "; ".join(notes[-2:])
            break
        keys, held = state
        ours = [k for k in keys if k in _OURS]
        ours_held = held is not None and (
            held.key in _OURS or (held.type.all_registrants and bool(ours))
        )
        if not ours and not ours_held:
            left = ""
            break
        left = _describe_found(tuple(ours), held if ours_held else None, None)
        if all(k in _OURS for k in keys):
            for n in s.nexuses:
                if _quietly(s, n, _ignoring(n.key), notes) and _quietly(
                    s, n, methodcaller("clear", n.key), notes
                ):
                    break
            continue
        for n in s.nexuses:
            _quietly(s, n, _ignoring(n.key), notes)
            if held is not None and ours_held:
                _quietly(s, n, methodcaller("release", n.key, held.type), notes)
        reachable = {n.key for n in s.nexuses}
        for key in sorted(set(ours) - reachable):
            kind = held.type if held is not None else T.WRITE_EXCLUSIVE
            _quietly(s, s.a, methodcaller("preempt", s.a.key, key, kind), notes)
        for n in s.nexuses:
            _quietly(s, n, _ignoring(0), notes)
    for n in s.nexuses:
        _quietly(s, n, lambda d: d.test_unit_ready(), notes)
    return not left, left


def _ignoring(key: int) -> Callable[[Device], None]:
    return partial(_ignore_existing, key=key)


def _ignore_existing(device: Device, key: int) -> None:
    try:
        device.register_and_ignore(key)
    except IllegalRequest:
        device.register_and_ignore(key, all_target_ports=True)


def _read_state(s: _Run, notes: list[str]) -> tuple[tuple[int, ...], Reservation | None] | None:
    for n in s.nexuses:
        try:
            keys = s._retry(n, lambda d: d.read_keys()).keys
            held = s._retry(n, lambda d: d.read_reservation()).reservation
        except (PRError, OSError, SelftestStopped) as error:
            notes.append(f"{n.label}: {error}")
            continue
        return keys, held
    return None


@contextmanager
def _signals_held() -> Iterator[list[int]]:
    """SIGINT and SIGTERM wait while the logical unit is cleaned up; the
    signals that arrived are listed (the main thread only: elsewhere Python
    delivers none)."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    wanted = [signal.SIGINT, signal.SIGTERM]
    previous = {number: signal.signal(number, hold) for number in wanted}
    try:
        yield caught
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _interruption(error: BaseException) -> bool:
    """A KeyboardInterrupt, also as the cause of the OutcomeUnknown of a
    PR OUT it cut short."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 8:
        if isinstance(current, KeyboardInterrupt):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


# -- the run --------------------------------------------------------------------------


def run(
    paths: Sequence[str | os.PathLike[str]],
    *,
    write_probes: bool = False,
    force: bool = False,
    only: Iterable[str] | None = None,
    timeout: float = 30.0,
    on_start: Callable[[Plan], None] | None = None,
    on_check: Callable[[CheckResult], None] | None = None,
) -> Report:
    """Run the conformance checks against the logical unit behind ``paths``
    (2 or 3 device nodes, one per I_T nexus: A, B and the optional C) and
    return the report.  This CHANGES the persistent reservations of that
    logical unit (module docstring): it refuses (``SelftestRefused``,
    nothing changed) unless the nodes are I_T nexuses of one logical unit
    without registrations or reservation (``force``: start anyway; they are
    removed).  ``only`` selects groups (``GROUPS``).  ``on_start`` receives
    the plan, keys included, before the first PERSISTENT RESERVE OUT;
    ``on_check`` each result as it is known.  Whatever happens the logical
    unit is left without the self-test's registrations and reservation;
    a KeyboardInterrupt part-way raises ``SelftestInterrupted`` (with the
    report) once that is done.  Errors before the first PR OUT (opening a
    node, INQUIRY) propagate as ``Device`` raises them."""
    nodes = [os.fspath(p) for p in paths]
    if not 2 <= len(nodes) <= 3 or not all(isinstance(p, str) and p for p in nodes):
        raise ValueError(f"paths: 2 or 3 device nodes, one per I_T nexus, got {nodes!r}")
    groups = tuple(GROUPS if only is None else only)
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown or not groups:
        raise ValueError(
            f"only: groups are {', '.join(GROUPS)}; got {', '.join(unknown) or 'none'}"
        )
    _refuse_same_node(nodes)
    started = time.monotonic()
    devices: list[Device] = []
    try:
        for path in nodes:
            devices.append(Device(path, timeout=timeout))
        for device in devices:
            if getattr(device, "_multipath_paths", None) is not None:
                raise SelftestRefused(
                    f"{device.path} is a device-mapper (multipath) node: give the path nodes, "
                    "one per I_T nexus"
                )
        nexuses = [_Nexus(label, path, d) for label, path, d in zip(_LABELS, nodes, devices)]
        unit = _logical_unit(nexuses)
        capabilities = _capabilities(nexuses[0])
        s = _Run(
            nexuses, capabilities, write_probes=write_probes, abort_hazard=_abort_hazard(nodes)
        )
        found = _state_before(s, force)
        keys = [(n.label, n.key) for n in nexuses]
        keys[1:1] = [("A, its changed key", ALTERNATE_KEY)]
        keys.append(("never registered", UNUSED_KEY))
        plan = Plan(
            tuple(nodes),
            unit,
            capabilities,
            tuple(keys),
            tuple(g for g in GROUPS if g in groups),
            write_probes,
            found,
            s.abort_hazard,
        )
        if on_start is not None:
            on_start(plan)
        return _checks(s, plan, started, on_check)
    finally:
        for device in devices:
            device.close()


def _checks(
    s: _Run, plan: Plan, started: float, on_check: Callable[[CheckResult], None] | None
) -> Report:
    results: list[CheckResult] = []
    error: BaseException | None = None
    refused: SelftestRefused | None = None
    unexpected: BaseException | None = None
    interrupted = False
    try:
        if plan.found is not None:
            s.sent = True
            s._retry(s.a, _ignoring(s.a.key))
            s._retry(s.a, methodcaller("clear", s.a.key))
        _probe_nexuses(s)
        for spec in SPECS:
            if spec.group not in plan.groups:
                continue
            result = s.check(spec)
            results.append(result)
            if on_check is not None:
                on_check(result)
    except BaseException as failure:  # the clean-up runs whatever it was
        if _interruption(failure):
            interrupted = True
        elif isinstance(failure, SelftestRefused):
            refused = failure
        elif isinstance(failure, _Stop):
            error = SelftestStopped(str(failure))
        elif isinstance(failure, (PRError, OSError, SelftestStopped)):
            error = failure
        else:
            unexpected = failure
    with _signals_held() as caught:
        clean, left = _leave_clean(s) if s.sent else (True, "")
    report = Report(
        plan.devices,
        plan.unit,
        plan.capabilities,
        plan.keys,
        tuple(results),
        plan.write_probes,
        plan.found,
        clean,
        left,
        error,
        interrupted or signal.SIGINT in caught or signal.SIGTERM in caught,
        time.monotonic() - started,
    )
    if unexpected is not None:
        raise unexpected
    if refused is not None:
        if not clean:
            refused.args = (f"{refused}; and the logical unit could not be left clean: {left}",)
        raise refused
    if report.interrupted:
        raise SelftestInterrupted(report)
    return report


# -- the report as text and JSON ------------------------------------------------------------

_MEANINGS = {
    Status.CONFORMANT: "every check passed",
    Status.USAGE: "bad arguments or no --yes: nothing was sent",
    Status.DEPARTURES: "the device departs from SPC",
    Status.REFUSED: "refused to start: nothing was changed",
    Status.STOPPED: "an error stopped the run; the logical unit was left clean",
    Status.NOT_CLEAN: "the logical unit could not be left clean",
    Status.INTERRUPTED: "interrupted; the logical unit was left clean",
}


def _capabilities_text(caps: Capabilities) -> str:
    bits = ("RLR_C", "CRH", "SIP_C", "ATP_C", "PTPL_C", "TMV")
    values = caps[:6]
    text = " ".join(f"{b}={int(v)}" for b, v in zip(bits, values))
    types = " ".join(_SHORT[t] for t in _ALL_TYPES if t in caps.supported_types)
    active = int(caps.persist_through_power_loss_active)
    return f"{text} ALLOW_COMMANDS={caps.allow_commands:03b}b PTPL_A={active} types: {types or '-'}"


def plan_text(plan: Plan) -> list[str]:
    """The lines printed before the first PERSISTENT RESERVE OUT."""
    lines = [f"pr-native selftest of {plan.unit or 'a logical unit without INQUIRY identity'}"]
    for label, path in zip(_LABELS, plan.devices):
        role = " (stays unregistered unless a check registers it)" if label == "C" else ""
        lines.append(f"  {label}: {path}{role}")
    lines.append("  keys it uses: " + ", ".join(f"{_hex(k)} ({use})" for use, k in plan.keys))
    lines.append(f"  capabilities: {_capabilities_text(plan.capabilities)}")
    lines.append(
        f"  groups: {' '.join(plan.groups)}; write probes: "
        + ("yes (each writes back the block it read)" if plan.write_probes else "no (READ only)")
    )
    if plan.found is not None:
        lines.append(
            "  --force: removing what the logical unit holds: "
            + (", ".join(_hex(r.key) for r in plan.found.registrants) or "a reservation")
        )
    if plan.abort_hazard:
        lines.append(f"  PREEMPT AND ABORT skipped: {plan.abort_hazard}")
    return lines


def check_text(check: CheckResult) -> list[str]:
    """One line per check, and the evidence of a departure."""
    rows = ",".join(check.rows) or "-"
    lines = [f"{check.outcome:<7} {check.id:<36} {check.clause:<26} {rows:<16} {check.title}"]
    if check.outcome == FAIL:
        lines.append(f"        SPC requires: {check.expected}")
        lines.append(f"        device did:   {check.observed}")
        evidence = []
        if check.nexus:
            evidence.append(f"through {check.nexus}")
        if check.command:
            evidence.append(check.command)
        if check.cdb:
            evidence.append(f"CDB {check.cdb.hex(' ')}")
        evidence.append(f"sense {check.sense.hex(' ')}" if check.sense else "no sense data")
        lines.append("        " + ", ".join(evidence))
    elif check.outcome in (NOT_APPLICABLE, SKIPPED):
        lines.append(f"        {check.observed}")
    return lines


def summary_text(report: Report) -> list[str]:
    counts = report.counts
    unit = report.unit or "the logical unit"
    lines = [
        "",
        f"{unit}: {len(report.checks)} checks: {counts[PASS]} pass, {counts[FAIL]} fail, "
        f"{counts[NOT_APPLICABLE]} n/a, {counts[SKIPPED]} skipped ({report.duration:.1f} s)",
    ]
    if report.departures:
        lines.append(f"departures from SPC ({len(report.departures)}):")
        lines += [f"  {c.id} ({c.clause}): {c.title}: {c.observed}" for c in report.departures]
    if report.error is not None:
        lines.append(f"stopped by an error: {report.error}")
    if report.interrupted:
        lines.append("interrupted")
    lines.append(
        "logical unit left with no registration and no reservation of the self-test"
        if report.left_clean
        else f"LEFT ON THE LOGICAL UNIT: {report.leftover}"
    )
    lines.append(f"exit status {int(report.exit_status)}: {_MEANINGS[report.exit_status]}")
    return lines


def _error_json(error: BaseException) -> dict[str, Any]:
    if isinstance(error, (PRError, OSError)):
        return _json.error(error)
    return {"type": type(error).__name__, "message": str(error)}


def report_json(report: Report) -> dict[str, Any]:
    """``result`` of ``pr-native selftest --json`` (docs/selftest.md)."""
    from .sense import decode_sense

    counts = report.counts
    caps = report.capabilities
    return {
        "report_version": REPORT_VERSION,
        "devices": dict(zip(_LABELS, report.devices)),
        "logical_unit": None
        if report.unit is None
        else {
            "vendor": report.unit.vendor,
            "product": report.unit.product,
            "revision": report.unit.revision,
            "lu_name": report.unit.lu_name,
        },
        "capabilities": None if caps is None else _json.capabilities(caps),
        "keys": [{"use": use, "key": _json.key(k)} for use, k in report.keys],
        "write_probes": report.write_probes,
        "removed": None if report.removed is None else _json.full_status(report.removed),
        "checks": [
            {
                "id": c.id,
                "group": c.group,
                "title": c.title,
                "clause": c.clause,
                "rows": list(c.rows),
                "outcome": c.outcome,
                "expected": c.expected or None,
                "observed": c.observed or None,
                "nexus": c.nexus or None,
                "command": c.command or None,
                "cdb": c.cdb.hex() or None,
                "status": c.status,
                "sense_data": c.sense.hex() or None,
                "sense": _json.sense(decode_sense(c.sense)) if c.sense else None,
            }
            for c in report.checks
        ],
        "summary": {
            "checks": len(report.checks),
            "pass": counts[PASS],
            "fail": counts[FAIL],
            "n/a": counts[NOT_APPLICABLE],
            "skipped": counts[SKIPPED],
            "departures": [c.id for c in report.departures],
        },
        "left_clean": report.left_clean,
        "leftover": report.leftover or None,
        "interrupted": report.interrupted,
        "error": None if report.error is None else _error_json(report.error),
        "duration_s": round(report.duration, 3),
        "exit_status": int(report.exit_status),
        "exit_meaning": _MEANINGS[report.exit_status],
    }


# -- the command line ------------------------------------------------------------------------


def add_parser(commands: Any, help_text: str) -> None:
    """The ``selftest`` subcommand of pr-native (loaded only to run it)."""
    sub = commands.add_parser(
        "selftest",
        help=help_text,
        description=(__doc__ or "").split("\n\n", 1)[1],
    )
    sub.add_argument(
        "devices",
        nargs="+",
        metavar="DEV",
        help="2 or 3 nodes of one LU, one per I_T nexus: A B [C]",
    )
    sub.add_argument(
        "--yes",
        action="store_true",
        help="required: the run registers, reserves, preempts and clears on the LU",
    )
    sub.add_argument("--json", action="store_true", help="one JSON object (docs/selftest.md)")
    sub.add_argument(
        "--only",
        action="append",
        choices=GROUPS,
        metavar="GROUP",
        help=f"run this group only (repeatable): {', '.join(GROUPS)}",
    )
    sub.add_argument(
        "--write-probes",
        action="store_true",
        help="also WRITE(10) in the access checks (each writes back the block it read)",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="start although the LU has registrations or a reservation (they are removed)",
    )
    sub.add_argument("--timeout", type=_seconds, default=30.0, help="seconds per command")
    sub.add_argument("-v", "--verbose", action="count", default=0)
    sub.set_defaults(run=command, device=None)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"not a number of seconds > 0: {text!r}")
    return value


def _emit(data: dict[str, Any]) -> None:
    print(json.dumps(data), flush=True)


def command(args: argparse.Namespace, out: Any) -> int:
    """Entry from pr_native.cli."""
    paths = list(args.devices)
    if not 2 <= len(paths) <= 3:
        print(
            "pr-native selftest: give 2 or 3 device nodes (A B [C]), one per I_T nexus",
            file=sys.stderr,
        )
        return Status.USAGE
    if not args.yes:
        print(
            "pr-native selftest: refusing without --yes: the self-test registers, reserves, "
            "preempts and clears on the logical unit (nothing was sent)",
            file=sys.stderr,
        )
        return Status.USAGE

    def started(plan: Plan) -> None:
        if not args.json:
            print("\n".join(plan_text(plan)), flush=True)

    def checked(result: CheckResult) -> None:
        if not args.json:
            print("\n".join(check_text(result)), flush=True)

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        report = run(
            paths,
            write_probes=args.write_probes,
            force=args.force,
            only=args.only,
            timeout=args.timeout,
            on_start=started,
            on_check=checked,
        )
    except SelftestRefused as refused:
        if args.json:
            envelope = _json.envelope(
                "selftest", paths[0], ok=False, exit_code=int(Status.REFUSED), result=None
            )
            found = None if refused.found is None else _json.full_status(refused.found)
            envelope["error"] = {
                "type": "SelftestRefused",
                "message": str(refused),
                "exit_code": int(Status.REFUSED),
                "exit_meaning": _MEANINGS[Status.REFUSED],
                "found": found,
            }
            _emit(envelope)
        else:
            print(f"pr-native selftest: refused: {refused}", file=sys.stderr)
        return Status.REFUSED
    except SelftestInterrupted as stop:
        report = stop.report
    except KeyboardInterrupt:
        return Status.INTERRUPTED  # before anything was sent
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        status = report.exit_status
        _emit(
            _json.envelope(
                "selftest",
                paths[0],
                ok=status == Status.CONFORMANT,
                exit_code=int(status),
                result=report_json(report),
                error=None if report.error is None else _error_json(report.error),
            )
        )
    else:
        print("\n".join(summary_text(report)))
    return int(report.exit_status)


__all__ = [
    "ALTERNATE_KEY",
    "GROUPS",
    "KEYS",
    "KEY_PREFIX",
    "REPORT_VERSION",
    "SPECS",
    "UNUSED_KEY",
    "CheckResult",
    "LogicalUnit",
    "Plan",
    "Report",
    "SelftestInterrupted",
    "SelftestRefused",
    "SelftestStopped",
    "Status",
    "add_parser",
    "check_text",
    "command",
    "execute",
    "plan_text",
    "report_json",
    "run",
    "summary_text",
]
