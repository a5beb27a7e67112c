"""Verified, idempotent I/O fencing with persistent reservations.

The three operations a cluster needs, each on many devices at once::

    from pr_native import fencing
    report = fencing.unfence(devices, key)            # let this host in
    report = fencing.fence(devices, key, victim_key)  # shut a failed node out
    report = fencing.status(devices, key)             # is this host registered everywhere?
    report.ok, report.devices[i].actions, .before, .after, .verdict, .decisions

``devices`` are paths (``/dev/sgN``; a ``/dev/sdX`` is reached through its
``/dev/sgN`` node when it has one), open ``Device`` objects, or
device-mapper multipath nodes, whose every path is handled as
``pr_native.multipath`` does: REGISTER goes to each path, RESERVE and
PREEMPT through one registered path.  Each device (with all its paths) is
worked on in a thread of its own (one device: in the calling thread), all
under ONE ``timeout`` for the whole operation: no command starts after it,
each command's own timeout is what is left of it, and no wait goes past it.
On ``/dev/sgN`` opened read-write the C core submits each command through
the sg driver's write() and stops waiting at its deadline; elsewhere (a
read-only open, a ``/dev/sdX`` without an sg node) a command is the
blocking SG_IO ioctl, which the SCSI error handler may hold long past its
timeout while an iSCSI path is gone (up to the session's
replacement_timeout).  So that the operation's timeout bounds each call as
a whole (``identify()`` is several INQUIRYs, READ FULL STATUS may be read
again), every call but a PR OUT through the sg queue runs in a thread of
its own, waited for until the operation's end (plus 0.5 s) and then left
to the kernel: the device's verdict is ``TIMED_OUT`` while the others go
on.

Every operation is verified and idempotent.  ``unfence`` and ``fence``
drain and record each path's unit attentions (TEST UNIT READY; ``status``
sends none, to leave them for ``unfence``), read the state (READ FULL
STATUS, or READ KEYS and READ RESERVATION where the device refuses it), send
only what is missing, one PR OUT at a time, read the state again after
each, and report the state before and after with every command and every
decision.
Calling ``unfence`` twice, or ``fence`` on a victim already gone, sends no
PR OUT the second time.

**The right I_T nexus, not just the right key.**  A registration is this
host's only if it was made through one of this host's initiator ports.
After an iSCSI session is logged out and in again, the new session has a
new ISID, hence a new I_T nexus that is not registered, while the old
nexus's registration stays behind with the same key: READ KEYS shows the
key and every write fails with RESERVATION CONFLICT.  ``unfence`` therefore
compares each registrant's TransportID with the initiator port of each path:

- from sysfs: an iSCSI session's ``initiatorname`` and its ISID (the
  session's ``isid`` attribute where the driver shows it; otherwise the ISID
  open-iscsi gives every session it logs in, 00 02 3D and the 24-bit session
  number of ``/sys/class/iscsi_session/sessionN``); for Fibre Channel, SAS
  and tcm_loop, the port ``pr_native.multipath`` reads; and the target port
  of the path from ``Device.identify()`` (VPD page 83h), when there is one;
- from a REGISTER this operation sent: the descriptor it added is this
  path's, which also confirms or corrects what sysfs said.

A registration of this host's key through none of this host's current
initiator ports (every iSCSI session and Fibre Channel port in sysfs, every
path given) is stale: ``unfence`` removes it with a PREEMPT of its own key,
which SPC carries out on every registration with that key but the sender's,
and registers again any path of its own that this removed.  Without a known
initiator port for every path (READ FULL STATUS refused, or a fabric whose
port sysfs does not show) nothing is removed, and a REGISTER AND IGNORE
EXISTING KEY is sent once per operation to each path whose registration
cannot be seen: correct, but no longer free when repeated.

**Outcome unknown.**  After ``OutcomeUnknown`` the state is read again and
decides: a PREEMPT whose victim is gone succeeded, a REGISTER whose nexus is
registered did.  When the state shows that the command is still needed, the
device fails and nothing is sent again: the first copy may still be queued
in the driver (an iSCSI session in recovery holds it) and could run after a
second one.

**Unit attentions** met on the way (REGISTRATIONS PREEMPTED, RESERVATIONS
RELEASED, POWER ON, ...) are recorded per path.  One on a PR OUT means that
the command was not executed: the state is read again and the plan made
anew.  REGISTRATIONS PREEMPTED on a path whose registration is then gone
means that this host was fenced: ``unfence`` refuses, on every device and
before sending anything, unless ``after_fenced=True`` says that the cluster
lets it back in (the fence agent's ``on`` action does).  A unit attention
that something else consumed first (the disk driver's own I/O, a monitor's
PR IN: SPC reports a unit attention to any command but INQUIRY, REPORT LUNS
and REQUEST SENSE) cannot be seen; ``registered_on`` carries what the caller
knows instead: the logical units its key was registered on, where the key
found gone means this host was fenced (the fence agent keeps them in its
store).

``node_key`` and ``node_id_key`` derive the keys fence_scsi derives from
the cluster name and the node's name or corosync node id.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from enum import Enum

from . import _validate
from ._native import ffi
from ._record import TYPE_CHECKING, Record
from ._sysfs import first_entry as _first_entry
from ._sysfs import read_text as _read_text
from .constants import ReservationType
from .device import Device, multipath_paths
from .errors import (
    CommandTimeout,
    IllegalRequest,
    OutcomeUnknown,
    PRError,
    ReservationConflict,
    TransportError,
    UnitAttention,
    UnitAttentionCondition,
    outcome_unknown,
)
from .results import FullStatus, Registrant, Reservation
from .transport_id import FCPTransportID, ISCSITransportID, TransportID

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

__all__ = [
    "Action",
    "DeviceReport",
    "PathReport",
    "Report",
    "State",
    "UnitAttentionSeen",
    "Verdict",
    "fence",
    "node_id_key",
    "node_key",
    "status",
    "unfence",
]

SYSFS_ROOT = "/sys"
"""Where sysfs is mounted (the tests point it at a tree of their own)."""

WERO = ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY

# open-iscsi (usr/initiator.c) logs every session in with ISID 00 02 3D
# (DRIVER_ISID_0..2) followed by the 24-bit session number.
_OPEN_ISCSI_ISID = 0x00023D000000
# Errors after which a path counts as unreachable (the path failed, not the
# logical unit); a SCSI status is the device's answer.
_PATH_ERRORS = (OSError, TransportError, CommandTimeout)
_UNIT_ATTENTIONS = 8  # per command: a nexus can have several queued
_STEPS = 24  # PR OUT commands one device may need, at most
_REPEATS = 3  # times one command may go to one path in one operation
_MIN_OUT_TIMEOUT = 1.0  # no PR OUT starts with less time left than this
_MIN_IN_TIMEOUT = 0.2
_JOIN_MARGIN = 2.0  # a command's wait ends at its timeout plus 1 s on /dev/sgN
# How long past the operation's end a command run in a thread of its own
# (_Bounded) is waited for: time for the kernel's own timeout to be reported.
_WAIT_MARGIN = 0.5

_REGISTER = "REGISTER AND IGNORE EXISTING KEY"
_RESERVE = "RESERVE"
_PREEMPT = "PREEMPT"
_PREEMPT_AND_ABORT = "PREEMPT AND ABORT"


class Verdict(str, Enum):
    """How one device's part of an operation ended."""

    DONE = "done"
    """What was missing was sent, and the state read after proves the result."""
    ALREADY = "already"
    """Nothing was missing: no PR OUT was sent."""
    REGISTERED = "registered"
    """``status``: the key is registered through every path."""
    NOT_REGISTERED = "not registered"
    """``status``: it is not (see the paths)."""
    FENCED = "fenced"
    """``unfence`` refused: this host was fenced (REGISTRATIONS PREEMPTED and
    its key gone) and ``after_fenced`` was not given.  Nothing was sent."""
    WRONG_LU = "wrong logical unit"
    """The device is not the logical unit ``expect_lu`` names: nothing was sent."""
    FAILED = "failed"
    """The state read last does not show the result (see ``error``)."""
    TIMED_OUT = "timed out"
    """The operation's timeout ran out before the result was reached."""


_OK = frozenset({Verdict.DONE, Verdict.ALREADY, Verdict.REGISTERED})


class State(Record):
    """The persistent reservation state of one logical unit, as read."""

    __slots__ = ()
    _hex_fields = frozenset({"keys"})

    generation: int
    """The PR generation (SPC-4 6.15.2): it grows with every PR OUT that
    changed the registrations, so a change by another node shows."""
    keys: tuple[int, ...]
    """One key per registered I_T nexus."""
    reservation: Reservation | None
    """The reservation held, as READ RESERVATION reports it; None if none."""
    registrants: tuple[Registrant, ...] | None = None
    """READ FULL STATUS; None where the device refuses it (the state was read
    with READ KEYS and READ RESERVATION)."""


class PathReport(Record):
    """One path (I_T nexus) of a device, at the end of the operation."""

    __slots__ = ()

    path: str
    """The path as given, or a multipath node's path disk."""
    node: str
    """The node the commands went to (``/dev/sgN`` where there is one)."""
    initiator_port: TransportID | None
    """This host's initiator port on the path, as READ FULL STATUS names it;
    None when it is not known."""
    registered: bool | None
    """The path's I_T nexus is registered with the key; None when that
    cannot be seen (no known initiator port, or no READ FULL STATUS)."""
    error: str | None = None
    """Why the path could not be used, when it could not."""


class Action(Record):
    """One PERSISTENT RESERVE OUT this operation sent, why, and what came back."""

    __slots__ = ()
    _hex_fields = frozenset({"key", "service_action_key"})

    path: str
    """The path it went through."""
    command: str
    """``"REGISTER AND IGNORE EXISTING KEY"``, ``"RESERVE"``, ``"PREEMPT"``
    or ``"PREEMPT AND ABORT"``."""
    key: int
    """The RESERVATION KEY field (0 for REGISTER AND IGNORE EXISTING KEY)."""
    service_action_key: int
    """The SERVICE ACTION RESERVATION KEY field: the key registered, or the
    key preempted."""
    type: ReservationType | None
    """The TYPE field (None: the command has none)."""
    reason: str
    """Why it was needed, from the state read before it."""
    outcome: str
    """``"done"`` (GOOD); ``"unknown"`` (``OutcomeUnknown``: see the
    decisions for what the state read after showed); ``"unit attention"``
    (not executed); ``"conflict"`` (RESERVATION CONFLICT); ``"failed"``
    (another answer, or refused before it was sent)."""
    error: str | None = None
    """What came back instead of GOOD, in words."""


class UnitAttentionSeen(Record):
    """A unit attention a command of this operation met (and so consumed)."""

    __slots__ = ()

    path: str
    """The path (I_T nexus) it was reported on."""
    command: str
    """The command that met it (``"TEST UNIT READY"``, ``"READ FULL STATUS"``...)."""
    condition: str
    """``UnitAttentionCondition`` name (``REGISTRATIONS_PREEMPTED``, ...), or
    the ASC and ASCQ of one without a name."""


class DeviceReport(Record):
    """What an operation found, did and decided on one device."""

    __slots__ = ()

    device: str
    """The device as given."""
    lu_name: str | None
    """The logical unit's name (``Device.identify()``), None if not read."""
    paths: tuple[PathReport, ...]
    """Every path of the device, at the end."""
    before: State | None
    """The state read first; None when it could not be read."""
    after: State | None
    """The state read after the last PR OUT, which proves the result; the
    same as ``before`` when nothing was sent."""
    actions: tuple[Action, ...]
    """Every PR OUT sent, in order."""
    unit_attentions: tuple[UnitAttentionSeen, ...]
    """Every unit attention met, in order."""
    decisions: tuple[str, ...]
    """Every decision taken, in order, in words."""
    verdict: Verdict
    """How this device's part ended."""
    registered: bool | None = None
    """This host's key is registered through every path (None: not known)."""
    error: str | None = None
    """Why the verdict is not a success, in words."""

    @property
    def ok(self) -> bool:
        """The verdict is DONE, ALREADY or REGISTERED."""
        return self.verdict in _OK


class Report(Record):
    """The outcome of ``unfence``, ``fence`` or ``status`` on every device."""

    __slots__ = ()
    _hex_fields = frozenset({"key", "victim_key"})

    operation: str
    """``"unfence"``, ``"fence"`` or ``"status"``."""
    key: int
    """This host's key."""
    victim_key: int | None
    """``fence``: the key preempted; None otherwise."""
    devices: tuple[DeviceReport, ...]
    """One report per device, in the order given."""
    duration: float
    """Seconds the whole operation took."""

    @property
    def ok(self) -> bool:
        """Every device reached the result (for ``status``: registered everywhere)."""
        return all(d.ok for d in self.devices)

    @property
    def sent(self) -> int:
        """How many PR OUT commands were sent, on all devices together."""
        return sum(len(d.actions) for d in self.devices)


# -- keys as fence_scsi derives them -------------------------------------------


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode("ascii"), usedforsecurity=False).hexdigest()


def node_key(cluster_name: str, node_name: str) -> int:
    """fence_scsi's key for ``node_name`` with ``key_value=hash``: the first
    four hex digits of the MD5 of the cluster name (corosync's
    ``totem.cluster_name``), then the first four of the MD5 of the node name."""
    return int(_md5(cluster_name)[:4] + _md5(node_name)[:4], 16)


def node_id_key(cluster_name: str, node_id: int) -> int:
    """fence_scsi's key with ``key_value=id`` (its default): the first four
    hex digits of the MD5 of the cluster name, then the corosync node id in
    decimal, at least four digits, read as hex digits."""
    if not isinstance(node_id, int) or isinstance(node_id, bool) or node_id < 0:
        raise ValueError(f"node_id must be a non-negative int, got {node_id!r}")
    return int(f"{_md5(cluster_name)[:4]}{node_id:04d}", 16)


# -- sysfs: which node, which initiator port ------------------------------------


def _scsi_device_dir(node: str) -> str | None:
    """The sysfs directory of the SCSI device behind ``/dev/sgN`` or ``/dev/sdX``."""
    try:
        st = os.stat(node)
    except OSError:
        return None
    kind = "char" if stat.S_ISCHR(st.st_mode) else "block" if stat.S_ISBLK(st.st_mode) else None
    if kind is None:
        return None
    link = f"{SYSFS_ROOT}/dev/{kind}/{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}/device"
    return os.path.realpath(link) if os.path.exists(link) else None


def _sg_node(path: str) -> str:
    """``/dev/sgN`` of a SCSI disk ``path`` (``/dev/sdX``), or ``path`` itself:
    on the sg node a PR OUT is submitted once (pr_native's sg queue), and
    closing it makes udev read nothing."""
    try:
        is_block = stat.S_ISBLK(os.stat(path).st_mode)
    except OSError:
        return path
    directory = _scsi_device_dir(path) if is_block else None
    sg = directory and _first_entry(f"{directory}/scsi_generic")
    return f"/dev/{sg}" if sg and os.path.exists(f"/dev/{sg}") else path


def _session_port(number: int) -> ISCSITransportID | None:
    """The initiator port of iSCSI session ``number``: its initiator name and
    ISID (the ``isid`` attribute offload drivers show, else open-iscsi's)."""
    base = f"{SYSFS_ROOT}/class/iscsi_session/session{number}"
    name = _read_text(f"{base}/initiatorname")
    shown = _read_text(f"{base}/isid")
    try:
        isid = int(shown, 16) if shown else _OPEN_ISCSI_ISID | (number & 0xFFFFFF)
        return ISCSITransportID(name, isid) if name else None
    except ValueError:
        return None


def _session_number(directory: str) -> int | None:
    for part in directory.split("/"):
        if part.startswith("session") and part[7:].isdigit():
            return int(part[7:])
    return None


def _multipath() -> ModuleType | None:
    """``pr_native.multipath`` where this pr_native has it."""
    try:
        from . import multipath
    except ImportError:
        return None
    return multipath


def _path_port(node: str) -> TransportID | None:
    """This host's initiator port on the path ``node`` (module docstring)."""
    directory = _scsi_device_dir(node)
    if directory is None:
        return None
    session = _session_number(directory)
    if session is not None:
        return _session_port(session)
    block = _first_entry(f"{directory}/block")
    find = getattr(_multipath(), "_initiator_port", None)
    port = find(f"/dev/{block}") if block and find is not None else None
    return port if isinstance(port, TransportID) else None


def _host_ports() -> list[TransportID]:
    """Every iSCSI session's and Fibre Channel port's initiator port of this host."""
    ports: list[TransportID] = []
    for kind, read in (("iscsi_session", _session_entry), ("fc_host", _fc_entry)):
        try:
            entries = sorted(os.listdir(f"{SYSFS_ROOT}/class/{kind}"))
        except OSError:
            continue
        ports.extend(port for port in map(read, entries) if port is not None)
    return ports


def _session_entry(entry: str) -> TransportID | None:
    return _session_port(int(entry[7:])) if entry[7:].isdigit() else None


def _fc_entry(entry: str) -> TransportID | None:
    text = _read_text(f"{SYSFS_ROOT}/class/fc_host/{entry}/port_name")
    try:
        return FCPTransportID(int(text, 16)) if text else None
    except ValueError:
        return None


def _same_port(registered: TransportID, ours: TransportID) -> bool:
    if isinstance(registered, ISCSITransportID) and isinstance(ours, ISCSITransportID):
        # iSCSI names compare case-insensitively (RFC 3722)
        return registered.name.lower() == ours.name.lower() and (
            ours.isid is None or registered.isid == ours.isid
        )
    return registered == ours


def _condition(ua: UnitAttention) -> str:
    condition = ua.condition
    if condition is not None:
        return condition.name
    if ua.sense is None:
        return "unit attention without sense data"
    return f"ASC {ua.sense.asc:02X}h ASCQ {ua.sense.ascq:02X}h"


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


# -- one operation ------------------------------------------------------------


class _OutOfTime(Exception):
    """The operation's timeout leaves no time for the next command."""


class _Replan(Exception):
    """A unit attention answered a PR OUT: it was not executed."""


class _Interrupted(Exception):
    """A PR OUT the plan needs, not sent: the caller interrupted an earlier one."""


class _Bounded:
    """One blocking Device call in a thread of its own, so that its caller's
    wait ends when the operation's does (``_Worker._call``).  A call that
    did not end in time keeps its thread, and the Device its lock, until
    the kernel gives the ioctl back; ``release`` then closes the Device."""

    def __init__(
        self, call: Callable[..., Any], args: tuple[Any, ...], timeout: float, name: str
    ) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        self._call, self._args, self._timeout = call, args, timeout
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._close: Device | None = None
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        try:
            self.value = self._call(*self._args, timeout=self._timeout)
        except BaseException as error:  # handed to the waiting thread
            self.error = error
        with self._lock:
            self._ended.set()
            device, self._close = self._close, None
        if device is not None:
            device.close()

    def wait(self, seconds: float) -> bool:
        """Whether the call ended within ``seconds``."""
        return self._ended.wait(seconds)

    def release(self, device: Device) -> None:
        """Close ``device`` once the call has ended (now, if it has)."""
        with self._lock:
            if not self._ended.is_set():
                self._close = device
                return
        device.close()


class _Path:
    """One I_T nexus of a device, as the operation knows it."""

    def __init__(self, name: str, node: str, device: Device | None, owned: bool) -> None:
        self.name = name
        self.node = node
        self.device = device
        self.owned = owned  # opened here, closed at the end
        self.port: TransportID | None = None
        self.target_port: int | None = None
        self.error: str | None = None
        self.registered_sent = False  # a REGISTER went out on it in this operation
        self.preempted = False  # REGISTRATIONS PREEMPTED seen on it
        self.held: _Bounded | None = None  # a command that did not end in time holds it


class _Operation:
    """What every device's worker shares: the key, the timeout and the
    initiator ports known to be this host's."""

    def __init__(self, name: str, key: int, timeout: float, **options: Any) -> None:
        self.name = name
        self.key = key
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self.victim: int | None = options.get("victim")
        self.type: ReservationType = options.get("type", WERO)
        self.aptpl: bool = options.get("aptpl", False)
        self.abort: bool = options.get("abort", True)
        self.after_fenced: bool = options.get("after_fenced", False)
        self.expect_lu: frozenset[str] | None = options.get("expect_lu")
        self.read_only: bool = options.get("read_only", False)
        self.registered_on: frozenset[str] = options.get("registered_on", frozenset())
        self.ports: list[TransportID] = []
        self.lock = threading.Lock()
        #: The caller interrupted a PR OUT in flight (``_Worker._send``): no
        #: PR OUT is sent after it, on any device; reads still are.
        self.interrupted = False

    def timeout(self, out: bool) -> float:
        left = self.deadline - time.monotonic()
        if left < (_MIN_OUT_TIMEOUT if out else _MIN_IN_TIMEOUT):
            raise _OutOfTime(f"the operation's timeout leaves {max(left, 0.0):.1f} s")
        return left

    def ours(self, registrant: Registrant) -> bool:
        with self.lock:
            return any(_same_port(registrant.transport_id, port) for port in self.ports)

    def add_port(self, port: TransportID) -> None:
        with self.lock:
            if port not in self.ports:
                self.ports.append(port)


class _Worker:
    """One device (all its paths): opened, read, acted on and verified."""

    def __init__(self, operation: _Operation, given: str, paths: list[_Path]) -> None:
        self.op = operation
        self.given = given
        self.paths = paths
        self.lu_name: str | None = None
        self.before: State | None = None
        self.state: State | None = None
        self.actions: list[Action] = []
        self.unit_attentions: list[UnitAttentionSeen] = []
        self.decisions: list[str] = []
        self.verdict: Verdict | None = None
        self.error: str | None = None
        self.full_status: bool | None = None  # None: not tried yet
        self.abandoned = False
        self._unknown: dict[tuple[str, str], int] = {}
        # Paths whose registration this operation's own PREEMPT of its key
        # may have removed: REGISTRATIONS PREEMPTED at the next command on
        # each is that PREEMPT's (SPC-4 5.14), no sign of being fenced; once
        # a command there ends without it, none is owed.
        self._own_preempt: set[str] = set()

    # -- commands ---------------------------------------------------------

    def _decide(self, text: str) -> None:
        self.decisions.append(text)

    def _command(
        self, path: _Path, command: str, call: Callable[..., Any], *args: Any, out: bool = False
    ) -> Any:
        """``call(*args, timeout=...)`` on ``path``, its wait bounded by the
        operation's timeout (``_call``); each unit attention is recorded; a
        PR IN is sent again after one (it changes nothing), a PR OUT is not
        (``_Replan``: the state must be read first)."""
        for _ in range(_UNIT_ATTENTIONS):
            if self.abandoned:
                raise _OutOfTime("the operation's timeout ran out")
            try:
                value = self._call(path, command, call, *args, out=out)
            except UnitAttention as ua:
                condition = _condition(ua)
                self.unit_attentions.append(UnitAttentionSeen(path.name, command, condition))
                if ua.condition == UnitAttentionCondition.REGISTRATIONS_PREEMPTED:
                    if path.name in self._own_preempt:
                        self._own_preempt.discard(path.name)  # the one it owed
                        self._decide(
                            f"{path.name}: REGISTRATIONS PREEMPTED after this operation's own "
                            "PREEMPT of its key: not a sign of being fenced"
                        )
                    else:
                        path.preempted = True
                if out:
                    raise _Replan(condition) from ua
            else:
                # It would have met the unit attention the own PREEMPT owed.
                self._own_preempt.discard(path.name)
                return value
        raise PRError(f"unit attentions do not stop on {path.name}", command=command)

    def _call(
        self, path: _Path, command: str, call: Callable[..., Any], *args: Any, out: bool
    ) -> Any:
        """One Device call, never waited for past the operation's timeout.

        A PR OUT through an sg queue (``/dev/sgN`` opened read-write) is one
        command, and runs here: the C core submits it with write() and stops
        waiting at its timeout plus PR_WAIT_MARGIN_MS, and a signal's
        exception makes it ``OutcomeUnknown``.  Every other call runs in a
        thread of its own (``_Bounded``), waited for until the operation's
        end: a call of several commands (``identify()``, READ FULL STATUS
        read again), each with the time left when the call began, and any
        command on a node without an sg queue, whose SG_IO the SCSI error
        handler can hold far past its timeout (an iSCSI session in recovery:
        up to its replacement_timeout).  A path whose call did not end in
        time is left to it.  Device's own methods stay the one command path,
        and ``read_keys`` keeps its single-call fast path.
        """
        timeout = self.op.timeout(out)
        device = self._device(path)
        if out and device._device.queue != ffi.NULL:
            return call(*args, timeout=timeout)
        running = _Bounded(call, args, timeout, f"fencing {path.name} {command}")
        ended = False
        try:
            ended = running.wait(max(0.0, self.op.deadline - time.monotonic()) + _WAIT_MARGIN)
        except BaseException as interruption:  # a signal handler's exception
            # A read, or a PR OUT whose end is known, lets it through; one
            # still in flight may run (errors.interrupted_out's rule).
            if not out or (running.wait(0) and not isinstance(running.error, OutcomeUnknown)):
                raise
            raise outcome_unknown(
                interruption, device=path.node, command=command, cdb=b""
            ) from interruption
        finally:
            if not ended:
                path.held = running
        if running.error is not None:
            raise running.error
        if ended:
            return running.value
        path.error = f"{command} did not end within the operation's timeout"
        if out:
            late = CommandTimeout(
                "no completion within the operation's timeout; the command was left with the "
                "kernel",
                device=path.node,
                command=command,
            )
            raise outcome_unknown(late, device=path.node, command=command, cdb=b"")
        raise _OutOfTime(
            f"{path.name}: {command} did not end within the operation's timeout (it is left "
            "with the kernel)"
        )

    def _device(self, path: _Path) -> Device:
        assert path.device is not None
        return path.device

    def _reachable(self) -> list[_Path]:
        return [p for p in self.paths if p.device is not None and p.error is None]

    # -- phase 1: open, identify, drain unit attentions, read -----------------

    def prepare(self) -> None:
        for path in self.paths:
            if path.device is None and path.error is None:
                try:
                    path.device = Device(path.node, read_only=self.op.read_only)
                    path.owned = True
                except OSError as error:
                    path.error = _describe(error)
        for path in self._reachable():
            self._identify(path)
        # status changes nothing and so drains nothing: a REGISTRATIONS
        # PREEMPTED left for unfence to see stays there (its PR IN may still
        # meet it: recorded as any other).
        for path in self._reachable() if self.op.name != "status" else []:
            try:
                self._command(path, "TEST UNIT READY", self._device(path).test_unit_ready)
            except _PATH_ERRORS as error:
                path.error = _describe(error)
            except PRError as error:  # NOT READY and the like: PR commands may still work
                self._decide(f"{path.name}: TEST UNIT READY: {_describe(error)}")
        if self.op.expect_lu is not None and self.verdict is None:
            self._check_lu()
        if self.verdict is None:
            self.before = self.state = self._read()

    def _identify(self, path: _Path) -> None:
        identify = getattr(path.device, "identify", None)
        if identify is None:
            return
        try:
            identity = self._command(path, "INQUIRY", identify)
        except _PATH_ERRORS as error:
            path.error = _describe(error)
            return
        except PRError as error:
            self._decide(f"{path.name}: INQUIRY: {_describe(error)}")
            return
        name = getattr(identity, "lu_name", None)
        port = getattr(identity, "relative_target_port", None)
        if isinstance(port, int) and path.target_port is None:
            path.target_port = port
        if isinstance(name, str):
            if self.lu_name is not None and name != self.lu_name:
                raise ValueError(
                    f"{self.given}: its paths are not one logical unit ({self.lu_name}, {name})"
                )
            self.lu_name = name

    def _check_lu(self) -> None:
        expected = self.op.expect_lu
        assert expected is not None
        if self.lu_name is None:
            why = (
                "Device.identify() is not available"
                if not any(hasattr(p.device, "identify") for p in self.paths)
                else "the device names no logical unit (VPD page 83h)"
            )
            self.verdict = Verdict.WRONG_LU
            self.error = f"cannot check expect_lu: {why}; nothing was sent"
        elif self.lu_name.lower() not in expected:
            self.verdict = Verdict.WRONG_LU
            self.error = (
                f"{self.given} is logical unit {self.lu_name}, not "
                f"{' or '.join(sorted(expected))}: nothing was sent"
            )
        if self.verdict is not None:
            self._decide(self.error or "")

    def _read(self) -> State:
        """The state, through the first path that answers."""
        errors = []
        for path in self._reachable():
            device = self._device(path)
            try:
                if self.full_status is not False:
                    try:
                        full = self._command(path, "READ FULL STATUS", device.read_full_status)
                    except IllegalRequest as refused:
                        self.full_status = False
                        self._decide(
                            f"{path.name}: READ FULL STATUS refused ({refused.sense}): reading "
                            "READ KEYS and READ RESERVATION; which I_T nexus holds a key "
                            "cannot be seen"
                        )
                    else:
                        self.full_status = True
                        return _state(full)
                keys = self._command(path, "READ KEYS", device.read_keys)
                held = self._command(path, "READ RESERVATION", device.read_reservation)
                return State(keys.generation, keys.keys, held.reservation, None)
            except _PATH_ERRORS as error:
                path.error = _describe(error)
                errors.append(error)
        if errors:
            raise errors[-1]
        raise OSError(errno.ENODEV, "no path of the device can be used", self.given)

    # -- the registrations of this host -----------------------------------

    def _mine(self, registrant: Registrant, path: _Path) -> bool:
        if path.port is None or not _same_port(registrant.transport_id, path.port):
            return False
        return (
            registrant.all_target_ports
            or path.target_port is None
            or registrant.relative_target_port == path.target_port
        )

    def _registered(self, state: State, path: _Path) -> bool | None:
        """The I_T nexus of ``path`` is registered with the key (None: unknown)."""
        if state.registrants is None or path.port is None:
            return None
        twins = [
            p
            for p in self.paths
            if p is not path and p.port == path.port and None in (p.target_port, path.target_port)
        ]
        if twins:  # one initiator port through target ports not told apart
            return None
        return any(r.key == self.op.key and self._mine(r, path) for r in state.registrants)

    def _stale(self, state: State) -> list[Registrant]:
        """Registrations of the key through none of this host's initiator
        ports; empty unless every path's initiator port is known."""
        if state.registrants is None or any(p.port is None for p in self.paths):
            return []
        return [
            r
            for r in state.registrants
            if r.key == self.op.key
            and not any(self._mine(r, p) for p in self.paths)
            and not self.op.ours(r)
        ]

    def _learn(self, path: _Path, before: State, after: State) -> None:
        """The descriptor a REGISTER on ``path`` added is the path's own."""
        if before.registrants is None or after.registrants is None:
            return
        old = set(before.registrants)
        added = [r for r in after.registrants if r not in old and r.key == self.op.key]
        if len(added) != 1:
            return
        new = added[0]
        if path.port is not None and not self._mine(new, path):
            self._decide(
                f"{path.name}: the REGISTER added {new.transport_id} (target port "
                f"{new.relative_target_port}), not {path.port} as sysfs says: using the former"
            )
        elif path.port is None:
            self._decide(
                f"{path.name}: the REGISTER added {new.transport_id}: this path's initiator port"
            )
        path.port = new.transport_id
        path.target_port = new.relative_target_port
        self.op.add_port(new.transport_id)

    def fenced(self, state: State | None) -> bool:
        """This host was fenced: REGISTRATIONS PREEMPTED was seen on a path
        whose registration is gone, or the caller knows that the key was
        registered on this logical unit (``registered_on``) and it is gone."""
        if state is None:
            return False
        for path in self.paths:
            if path.preempted:
                registered = self._registered(state, path)
                if registered is False or (registered is None and self.op.key not in state.keys):
                    return True
        return self._was_registered() and self.op.key not in state.keys

    def _was_registered(self) -> bool:
        """``registered_on`` names this logical unit."""
        name = self.lu_name
        return name is not None and name.lower() in self.op.registered_on

    # -- PR OUT -------------------------------------------------------------

    def _send(
        self,
        path: _Path,
        command: str,
        reason: str,
        service_action_key: int = 0,
        kind: ReservationType | None = None,
    ) -> str:
        """Send one PR OUT and record it; returns its outcome."""
        device, key = self._device(path), self.op.key
        calls: dict[str, tuple[Callable[..., None], tuple[Any, ...]]] = {
            _REGISTER: (device.register_and_ignore, (key, self.op.aptpl)),
            _RESERVE: (device.reserve, (key, kind)),
            _PREEMPT: (device.preempt, (key, service_action_key, kind)),
            _PREEMPT_AND_ABORT: (device.preempt_and_abort, (key, service_action_key, kind)),
        }
        call, args = calls[command]
        outcome, error = "done", None
        own_preempt = command == _PREEMPT and service_action_key == key
        if self.op.interrupted:
            raise _Interrupted(
                f"{command} on {path.name} not sent: the caller interrupted an earlier PR OUT"
            )
        try:
            self._command(path, command, call, *args, out=True)
        except _Replan as replan:
            outcome, error = "unit attention", f"not executed: unit attention {replan}"
        except OutcomeUnknown as unknown:
            outcome, error = "unknown", _describe(unknown)
            if not isinstance(unknown.__cause__, Exception):
                # The caller's own interruption (KeyboardInterrupt, SystemExit
                # from a signal handler) while the PR OUT was in flight: no
                # PR OUT is sent after it, on any device; the state read next
                # decides what this one did, and the report says so.
                self.op.interrupted = True
                self._decide(
                    f"{path.name}: {command} interrupted by the caller in flight "
                    f"({type(unknown.__cause__).__name__}): it may have run; no PR OUT is "
                    "sent after it, the state read decides"
                )
        except ReservationConflict as conflict:
            outcome, error = "conflict", _describe(conflict)
        except (PRError, OSError, ValueError) as failed:
            outcome, error = "failed", _describe(failed)
        if own_preempt and outcome in ("done", "unknown"):
            # Each nexus it may have preempted (the sender too, on targets
            # that do not spare it) is told at its next command, once.
            state = self.state
            self._own_preempt = {
                p.name
                for p in self.paths
                if state is None or self._registered(state, p) is not False
            }
        self.actions.append(
            Action(
                path.name,
                command,
                key if command != _REGISTER else 0,
                service_action_key if command != _REGISTER else key,
                kind,
                reason,
                outcome,
                error,
            )
        )
        if command == _REGISTER:
            path.registered_sent = True
        return outcome

    def _act(self, plan: Callable[[State], tuple[_Path, str, str, int, Any] | str | None]) -> None:
        """Send what ``plan`` asks for, one command at a time, reading the
        state after each, until it asks for nothing more (or says why it
        cannot go on)."""
        state = self.state
        assert state is not None
        sent: dict[tuple[str, str], int] = {}
        for _ in range(_STEPS):
            fenced = self.op.name == "unfence" and not self.op.after_fenced
            if fenced and self.fenced(state):
                self._fenced()
                return
            step = plan(state)
            if step is None:
                break
            if isinstance(step, str):
                self._fail(step)
                return
            path, command, reason, victim, kind = step
            sent[(command, path.name)] = sent.get((command, path.name), 0) + 1
            if sent[(command, path.name)] > _REPEATS:
                self._fail(
                    f"{command} on {path.name} was sent {_REPEATS} times and the state still "
                    f"asks for it: {reason}"
                )
                return
            tried = self._unknown.get((command, path.name), 0)
            if tried:
                # The first copy may still be queued in the driver (a held
                # iSCSI session): a second could run before or after it.
                self._fail(
                    f"{command} on {path.name} had an unknown outcome and the state still "
                    "shows it needed: not sent again (the first may still run; read the "
                    "state later and decide)"
                )
                return
            outcome = self._send(path, command, reason, victim, kind)
            previous = state
            state = self.state = self._read()
            if outcome == "done" and command == _REGISTER:
                self._learn(path, previous, state)
            elif outcome == "unknown":
                self._unknown[(command, path.name)] = tried + 1
                self._decide(
                    f"{command} on {path.name}: outcome unknown; the state read after it "
                    f"(generation {previous.generation:#x} -> {state.generation:#x}) decides"
                )
            elif outcome == "unit attention":
                self._decide(f"{command} on {path.name} met a unit attention: planning again")
            elif outcome == "conflict" and command == _RESERVE and state.reservation is not None:
                self._decide(f"RESERVE on {path.name}: another reservation was taken meanwhile")
            elif outcome != "done":
                self._fail(f"{command} on {path.name}: {self.actions[-1].error}")
                return
        else:
            self._fail(f"the state did not settle after {_STEPS} PR OUT commands")

    def _fail(self, why: str) -> None:
        self.verdict = Verdict.FAILED
        self.error = why
        self._decide(why)

    def _fenced(self) -> None:
        self.verdict = Verdict.FENCED
        why = (
            "REGISTRATIONS PREEMPTED"
            if any(p.preempted for p in self.paths)
            else f"it was registered on {self.lu_name} (registered_on)"
        )
        self.error = (
            f"this host was fenced: {why} and its key 0x{self.op.key:x} is gone; "
            "unfence(after_fenced=True) lets it back in"
        )
        self._decide(self.error)

    def _choose(self, state: State) -> _Path | None:
        """The path to send RESERVE or PREEMPT through: registered, the holder first."""
        candidates = [p for p in self._reachable() if self._registered(state, p) is not False]
        holders = [
            p
            for p in candidates
            if state.registrants is not None
            and any(
                r.holder and r.key == self.op.key and self._mine(r, p) for r in state.registrants
            )
        ]
        known = [p for p in candidates if self._registered(state, p)]
        for choice in (holders, known, candidates):
            if choice:
                return choice[0]
        return None

    # -- phase 2: the operations ------------------------------------------

    def unfence(self) -> None:
        self._act(self._unfence_step)

    def _unfence_step(self, state: State) -> tuple[_Path, str, str, int, Any] | str | None:
        key = self.op.key
        reachable = self._reachable()
        if not reachable:
            return "no path of the device can be used"
        missing = [
            p
            for p in reachable
            if self._registered(state, p) is False
            or (self._registered(state, p) is None and not p.registered_sent)
        ]
        stale = self._stale(state)
        registered = [p for p in reachable if self._registered(state, p)]
        if stale and registered:
            # Before registering the other paths: PREEMPT removes every
            # registration of the key but the sender's.
            sender = self._choose(state) or registered[0]
            held = state.reservation
            kind = held.type if held is not None and held.key == key else self.op.type
            ports = ", ".join(f"{r.transport_id} (port {r.relative_target_port})" for r in stale)
            return (
                sender,
                _PREEMPT,
                f"key 0x{key:x} is also registered through {ports}, an I_T nexus this host "
                "no longer has: PREEMPT with its own key removes it",
                key,
                kind,
            )
        if missing:
            path = missing[0]
            why = (
                f"the I_T nexus of {path.name} ({path.port}) is not registered with 0x{key:x}"
                if self._registered(state, path) is False
                else f"whether {path.name}'s I_T nexus is registered cannot be seen"
            )
            return (path, _REGISTER, why, 0, None)
        if state.reservation is None:
            via = self._choose(state)
            if via is None:
                return "no registered path to reserve through"
            return (via, _RESERVE, "no reservation is held", 0, self.op.type)
        if state.reservation.type != self.op.type:
            self._note_type(state.reservation)
        return None

    def _note_type(self, held: Reservation) -> None:
        text = (
            f"a {held.type.name} reservation is held (key 0x{held.key:x}), not "
            f"{self.op.type.name}: left as it is"
        )
        if text not in self.decisions:
            self._decide(text)

    def fence(self) -> None:
        self._act(self._fence_step)

    def _fence_step(self, state: State) -> tuple[_Path, str, str, int, Any] | str | None:
        key, victim = self.op.key, self.op.victim
        assert victim is not None
        if victim in state.keys:
            via = self._choose(state)
            if via is None or key not in state.keys:
                return (
                    f"this host's key 0x{key:x} is not registered on {self.given}: it cannot "
                    "preempt (unfence first)"
                    + ("; this host was fenced itself" if self.fenced(state) else "")
                )
            command = _PREEMPT_AND_ABORT if self.op.abort else _PREEMPT
            holds = state.reservation is not None and state.reservation.key == victim
            return (
                via,
                command,
                f"the victim's key 0x{victim:x} is registered"
                + (" and holds the reservation" if holds else ""),
                victim,
                self.op.type,
            )
        if state.reservation is None:
            via = self._choose(state)
            if via is None or key not in state.keys:
                return (
                    f"no reservation is held, so the unregistered victim can still write, and "
                    f"this host's key 0x{key:x} is not registered to reserve"
                )
            return (
                via,
                _RESERVE,
                "the victim is gone but no reservation is held: without one it can still write",
                0,
                self.op.type,
            )
        return None

    # -- the verdict ----------------------------------------------------------

    def settle(self) -> None:
        """The verdict from the state read last, unless one was reached."""
        state = self.state
        if self.verdict is not None or state is None:
            return
        key = self.op.key
        if self.op.name == "status":
            self.verdict = (
                Verdict.REGISTERED if self._all_registered(state) else Verdict.NOT_REGISTERED
            )
            return
        if self.op.name == "unfence":
            problems = []
            # A path that cannot be reached is reported and left: it gets
            # RESERVATION CONFLICT until an unfence registers it.
            if not self._reachable() or not self._all_registered(state, self._reachable()):
                problems.append(f"key 0x{key:x} is not registered through every path")
            for path in self.paths:
                if path.error is not None:
                    self._decide(f"{path.name} cannot be used ({path.error}): not registered")
            if self._stale(state):
                problems.append(f"stale registrations of 0x{key:x} remain")
            if state.reservation is None:
                problems.append("no reservation is held")
        else:
            assert self.op.victim is not None
            problems = []
            if self.op.victim in state.keys:
                problems.append(f"the victim's key 0x{self.op.victim:x} is still registered")
            if state.reservation is None:
                problems.append("no reservation is held")
        if problems:
            self._fail("; ".join(problems))
        else:
            self.verdict = Verdict.DONE if self.actions else Verdict.ALREADY
            if not self.actions:
                self._decide("nothing was missing: no PR OUT sent")

    def _all_registered(self, state: State, paths: list[_Path] | None = None) -> bool:
        """The key is registered through each of ``paths`` (default: all)."""
        for path in self.paths if paths is None else paths:
            if path.error is not None:
                return False
            registered = self._registered(state, path)
            if registered is False or (registered is None and self.op.key not in state.keys):
                return False
        return True

    def report(self) -> DeviceReport:
        state = self.state
        paths = tuple(
            PathReport(
                p.name,
                p.node,
                p.port,
                None if state is None else self._registered(state, p),
                p.error,
            )
            for p in self.paths
        )
        registered = None if state is None else self._all_registered(state)
        return DeviceReport(
            self.given,
            self.lu_name,
            paths,
            self.before,
            self.state if self.actions else self.before,
            tuple(self.actions),
            tuple(self.unit_attentions),
            tuple(self.decisions),
            self.verdict or Verdict.FAILED,
            registered,
            self.error,
        )

    def whole(self) -> None:
        """The whole operation on this device, when no other's state matters."""
        self.run(self.prepare)
        if self.verdict is not None or self.op.name == "status":
            return
        if self.op.name == "unfence" and self.fenced(self.before):
            self._decide("this host was fenced; after_fenced lets it back in")
        self.run(self.unfence if self.op.name == "unfence" else self.fence)

    def run(self, phase: Callable[[], None]) -> None:
        """``phase`` with every failure turned into the verdict."""
        try:
            phase()
        except (_OutOfTime, CommandTimeout) as late:  # the device did not answer in time
            self.verdict = Verdict.TIMED_OUT
            self.error = str(late)
            self._decide(f"timed out: {late}")
        except _Interrupted as interrupted:
            self._fail(str(interrupted))
        except (PRError, OSError, ValueError) as error:
            self._fail(_describe(error))

    def close(self) -> None:
        for path in self.paths:
            if path.owned and path.device is not None:
                if path.held is not None:
                    path.held.release(path.device)  # its lock is held until the call ends
                else:
                    path.device.close()


def _state(full: FullStatus) -> State:
    """The State READ FULL STATUS shows, with the reservation as READ
    RESERVATION would report it (key 0 for the all-registrants types)."""
    reservation = None
    for r in full.registrants:
        if r.holder and r.type is not None and r.scope is not None:
            key = 0 if ReservationType(r.type).all_registrants else r.key
            reservation = Reservation(key, r.type, r.scope)
            break
    return State(
        full.generation, tuple(r.key for r in full.registrants), reservation, full.registrants
    )


# -- arguments and devices ----------------------------------------------------


def _device_paths(item: str | Device, operation: _Operation) -> tuple[str, list[_Path]]:
    """The name of a device and its paths (not opened yet)."""
    given = item if isinstance(item, str) else item.path
    expanded = multipath_paths(given) if sys.platform == "linux" else None
    if expanded is not None:
        left = max(operation.deadline - time.monotonic(), _MIN_IN_TIMEOUT)
        return given, _multipath_members(given, expanded, left)
    if isinstance(item, Device):
        return given, [_Path(given, given, item, owned=False)]
    return given, [_Path(given, _sg_node(given), None, owned=True)]


def _multipath_members(node: str, disks: tuple[str, ...], timeout: float) -> list[_Path]:
    """The paths of a device-mapper node: ``pr_native.multipath``'s view
    where this pr_native has it (state, initiator and target port), else the
    node's slave disks."""
    members = []
    multipath = _multipath()
    if multipath is not None and multipath.is_multipath(node):
        for p in multipath.paths(node, timeout=timeout):
            path = _Path(p.block_device, p.sg_node or p.block_device, None, owned=True)
            path.port = p.initiator_port
            path.target_port = p.relative_target_port
            if p.state != "A":
                path.error = f"device-mapper reports the path failed ({p.state})"
            members.append(path)
        return members
    if not disks:
        raise ValueError(f"{node}: device-mapper lists no path under it")
    return [_Path(disk, _sg_node(disk), None, owned=True) for disk in disks]


def _checked_lu(expect_lu: str | Iterable[str] | None) -> frozenset[str] | None:
    if expect_lu is None:
        return None
    names = [expect_lu] if isinstance(expect_lu, str) else list(expect_lu)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(
            f"expect_lu must be an LU name or names (identify().lu_name): {expect_lu!r}"
        )
    return frozenset(n.lower() for n in names)


def _checked_names(names: object) -> frozenset[str]:
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise TypeError(f"registered_on must be LU names (identify().lu_name), not {names!r}")
    checked = list(names)
    if not all(isinstance(n, str) and n for n in checked):
        raise ValueError(f"registered_on must be non-empty LU names: {checked!r}")
    return frozenset(n.lower() for n in checked)


def _checked_devices(devices: object) -> list[str | Device]:
    """Paths (a ``MultipathDevice`` stands for its node) and Devices, checked
    before anything is opened or sent."""
    if isinstance(devices, (str, bytes, Device, os.PathLike)) or not isinstance(
        devices, (list, tuple)
    ):
        raise TypeError("devices must be a list or tuple of paths or Devices")
    if not devices:
        raise ValueError("devices must name at least one device")
    multipath = _multipath()
    node_type = getattr(multipath, "MultipathDevice", None)
    checked: list[str | Device] = []
    for i, item in enumerate(devices):
        if isinstance(item, Device):
            checked.append(item)
            continue
        if node_type is not None and isinstance(item, node_type):
            item = item.path
        path = os.fspath(item) if isinstance(item, (str, os.PathLike)) else None
        if path is None:
            raise TypeError(f"devices[{i}] must be a path or a Device, not {type(item).__name__}")
        if not isinstance(path, str) or not path or "\0" in path:
            raise ValueError(f"devices[{i}] must be a non-empty device path, got {item!r}")
        checked.append(path)
    return checked


def _run(operation: _Operation, devices: Iterable[str | Device]) -> Report:
    workers = []
    try:
        for item in devices:
            try:
                given, paths = _device_paths(item, operation)
            except (PRError, OSError, ValueError) as error:  # a multipath node's paths
                given = item if isinstance(item, str) else item.path
                workers.append(_Worker(operation, given, []))
                workers[-1]._fail(_describe(error))
                continue
            workers.append(_Worker(operation, given, paths))
        operation.ports.extend(_host_ports())
        for worker in workers:
            for path in worker.paths:
                path.port = _path_port(path.node) or path.port  # with the ISID, when iSCSI
                if path.port is not None:
                    operation.add_port(path.port)
        if operation.name == "unfence" and not operation.after_fenced:
            # Fenced on one device refuses on all: every device is read
            # before anything is sent (one that does not answer holds the
            # others back until the timeout).
            _together(workers, lambda w: w.run(w.prepare), operation)
            fenced = [w for w in workers if w.verdict is None and w.fenced(w.before)]
            for worker in workers:
                if fenced and worker.verdict is None:
                    worker._fenced()
                    if worker not in fenced:
                        worker._decide(f"(it was fenced on {fenced[0].given})")
            active = [w for w in workers if w.verdict is None]
            _together(active, lambda w: w.run(w.unfence), operation)
        else:  # each device on its own, from its first reading to its result
            _together(workers, _Worker.whole, operation)
        for worker in workers:
            worker.settle()
        reports = tuple(w.report() for w in workers)
    finally:
        for worker in workers:
            worker.abandoned = True  # an interruption: threads still running send nothing more
            worker.close()
    return Report(
        operation.name,
        operation.key,
        operation.victim,
        reports,
        time.monotonic() - operation.started,
    )


def _together(workers: list[_Worker], task: Callable[[_Worker], None], op: _Operation) -> None:
    """``task`` for each worker, each in a thread of its own (one worker: in
    this one, so signals reach it as they reach a ``Device``), all within
    the operation's timeout."""
    if len(workers) == 1:
        task(workers[0])
        return
    threads = [
        threading.Thread(target=task, args=(w,), name=f"fencing {w.given}", daemon=True)
        for w in workers
    ]
    for thread in threads:
        thread.start()
    for worker, thread in zip(workers, threads):
        thread.join(max(0.0, op.deadline + _JOIN_MARGIN - time.monotonic()))
        if thread.is_alive():  # never expected: every wait is bounded
            worker.abandoned = True
            worker.verdict = Verdict.TIMED_OUT
            worker.error = "its commands did not end within the operation's timeout"


# -- the operations ------------------------------------------------------------


def unfence(
    devices: Sequence[str | os.PathLike[str] | Device],
    key: int | bytes,
    type: ReservationType = WERO,
    *,
    aptpl: bool = False,
    after_fenced: bool = False,
    registered_on: Iterable[str] = (),
    expect_lu: str | Iterable[str] | None = None,
    timeout: float = 30.0,
) -> Report:
    """Let this host in: register ``key`` through every path of every device
    (REGISTER AND IGNORE EXISTING KEY, with APTPL when ``aptpl``), remove
    stale registrations of the key (module docstring), and take a
    reservation of ``type`` where none is held (an existing one is left as
    it is).  ``expect_lu``: the name or names (``identify().lu_name``) the
    devices must have.

    Refused (``Verdict.FENCED`` on every device, nothing sent) after this
    host was fenced, unless ``after_fenced``.  What it decides from: a
    REGISTRATIONS PREEMPTED unit attention this operation meets on a path
    whose registration is gone; and ``registered_on``, the logical units
    (``lu_name``) the caller knows the key was registered on (kept after its
    last unfence: ``DeviceReport.lu_name`` where ``registered``), where the
    key now found gone means the same without the unit attention, which
    whoever reads the nexus first consumes (a PR IN too; the fence agent
    keeps them in its store)."""
    operation = _Operation(
        "unfence",
        _nonzero_key(key, "key"),
        _checked_timeout(timeout),
        type=_validate.reservation_type(type),
        aptpl=_validate.flag(aptpl, "aptpl"),
        after_fenced=_validate.flag(after_fenced, "after_fenced"),
        registered_on=_checked_names(registered_on),
        expect_lu=_checked_lu(expect_lu),
    )
    return _run(operation, _checked_devices(devices))


def fence(
    devices: Sequence[str | os.PathLike[str] | Device],
    key: int | bytes,
    victim_key: int | bytes,
    abort: bool = True,
    *,
    type: ReservationType = WERO,
    expect_lu: str | Iterable[str] | None = None,
    timeout: float = 30.0,
) -> Report:
    """Shut the holder of ``victim_key`` out: PREEMPT AND ABORT (``abort``,
    the default: its outstanding commands are aborted too) or PREEMPT with
    this host's ``key``, through a path registered with it, wherever the
    victim is registered; a reservation of ``type`` is taken where none is
    held, since without one the victim can still write.  ``expect_lu``
    (``identify().lu_name``, one or several): a device that is another
    logical unit, or cannot say, is not touched (``Verdict.WRONG_LU``).
    ``ValueError`` before any I/O when ``victim_key`` is this host's own."""
    own = _nonzero_key(key, "key")
    victim = _nonzero_key(victim_key, "victim_key")
    if victim == own:
        raise ValueError(
            f"victim_key 0x{victim:x} is this host's own key: a host cannot fence itself"
        )
    operation = _Operation(
        "fence",
        own,
        _checked_timeout(timeout),
        victim=victim,
        abort=_validate.flag(abort, "abort"),
        type=_validate.reservation_type(type),
        expect_lu=_checked_lu(expect_lu),
    )
    return _run(operation, _checked_devices(devices))


def status(
    devices: Sequence[str | os.PathLike[str] | Device],
    key: int | bytes,
    *,
    read_only: bool = False,
    expect_lu: str | Iterable[str] | None = None,
    timeout: float = 30.0,
) -> Report:
    """Whether ``key`` is registered through every path of every device
    (``report.ok``); sends no PR OUT.  ``read_only`` opens the paths
    read-only (PR IN works so)."""
    operation = _Operation(
        "status",
        _nonzero_key(key, "key"),
        _checked_timeout(timeout),
        read_only=_validate.flag(read_only, "read_only"),
        expect_lu=_checked_lu(expect_lu),
    )
    return _run(operation, _checked_devices(devices))


def _nonzero_key(value: object, name: str) -> int:
    key = _validate.key(value, name)
    if key == 0:
        raise ValueError(f"{name} must not be 0 (0 means 'not registered')")
    return key


def _checked_timeout(value: object) -> float:
    return _validate.timeout_ms(value) / 1000
