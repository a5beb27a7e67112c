"""``pr-native watch DEV...``: report reservation changes as they happen.

Every ``--interval`` seconds one polling round (``pr_native.poll``: READ KEYS
and READ RESERVATION to every device at once) reads the state; an event is
printed only when something changed:

    initial         the first state read from a device
    changed         generation, keys, holder or type differ (``changes`` lists which)
    unit_attention  a UNIT ATTENTION arrived (e.g. REGISTRATIONS PREEMPTED); the
                    state is read again on the next round
    error           a command failed (the same error again is not repeated)
    gone            the device node went away (it is reopened every round)
    back            it answers again (with its state)
    stopped         SIGINT or SIGTERM, or the reader of the output left: exit status 0

Each event has a UTC timestamp.  ``--json`` prints one object per line:
``{"schema_version": 1, "command": "watch", "device", "lu_name", "time",
"event", "state", "previous", "changes", "error"}`` where
``state``/``previous`` are ``{"generation", "keys", "reservation"}`` as
``read-keys`` and ``read-reservation`` report them, and ``lu_name`` is the
logical unit's name (``identify``), to group the paths of one LU.

Each device's identity is read once when it is opened (and again when it is
reopened after going away), between rounds, never inside one; a device that
does not answer INQUIRY then is watched all the same, with ``lu_name`` null.

Watching only reads (PR IN), so it never changes a reservation.  But a
UNIT ATTENTION (REGISTRATIONS PREEMPTED, RESERVATIONS RELEASED, ...) is
reported to, and cleared by, the first command on its I_T nexus, whoever sends
it: a watch on the node where the cluster runs eats the unit attentions the
cluster's own I/O should have seen.  Watch through another initiator port (a
separate HBA port, iSCSI session or host), or let the cluster act on the
unit_attention events printed here.
"""

from __future__ import annotations

import argparse
import errno
import json
import signal
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from types import FrameType
from typing import Any

from . import _json
from ._stdout import reader_gone
from .errors import PRError, UnitAttention
from .exit_codes import ExitCode
from .poll import Poller, PollResult

_GONE_ERRNOS = frozenset({errno.ENOENT, errno.ENXIO, errno.ENODEV})


@dataclass(frozen=True)
class Event:
    """One line of ``watch`` output."""

    device: str | None
    time: datetime
    event: str
    state: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    changes: tuple[str, ...] = ()
    error: BaseException | None = None
    lu_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _json.envelope(
            "watch",
            self.device,
            lu_name=self.lu_name,
            time=_timestamp(self.time),
            event=self.event,
            state=self.state,
            previous=self.previous,
            changes=list(self.changes),
            error=None if self.error is None else _json.error(self.error),
        )

    def to_text(self) -> str:
        head = f"{_timestamp(self.time)} {self.device or '-'} {self.event}"
        if self.event == "changed" and self.previous and self.state:
            parts = [
                f"{name} {_show(self.previous, name)} -> {_show(self.state, name)}"
                for name in self.changes
            ]
            return f"{head}: {', '.join(parts)}"
        if self.error is not None:
            return f"{head}: {self.error}"
        if self.state is not None:
            return f"{head}: " + ", ".join(
                f"{name} {_show(self.state, name)}" for name in ("generation", "keys", "holder")
            )
        return head


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _show(state: dict[str, Any], name: str) -> str:
    reservation = state["reservation"]
    if name == "generation":
        return f"0x{state['generation']:x}"
    if name == "keys":
        return "[" + ", ".join(f"0x{int(k, 16):x}" for k in state["keys"]) + "]"
    if reservation is None:
        return "none"
    if name == "holder":
        return f"0x{int(reservation['key'], 16):x} ({reservation['type']})"
    return str(reservation["type"])


def state_of(result: PollResult) -> dict[str, Any]:
    """The watched state: generation, keys and reservation, as JSON."""
    assert result.keys is not None and result.reservation is not None
    return {
        "generation": result.keys.generation,
        "keys": _json.registrations(result.keys)["keys"],
        "reservation": _json.reservation_status(result.reservation)["reservation"],
    }


def changes(previous: dict[str, Any], state: dict[str, Any]) -> tuple[str, ...]:
    """Which of generation, keys, holder and type differ."""
    old, new = previous["reservation"] or {}, state["reservation"] or {}
    found = []
    if previous["generation"] != state["generation"]:
        found.append("generation")
    if previous["keys"] != state["keys"]:
        found.append("keys")
    if old.get("key") != new.get("key") or bool(old) != bool(new):
        found.append("holder")
    if old.get("type") != new.get("type"):
        found.append("type")
    return tuple(found)


def _error_kind(error: BaseException) -> str:
    return (
        f"{type(error).__name__}:{getattr(error, 'errno', None)}:{getattr(error, 'status', None)}"
    )


class Watcher:
    """The event logic, one round at a time (no I/O of its own)."""

    def __init__(self, paths: list[str]) -> None:
        self._paths = paths
        self._state: dict[str, dict[str, Any]] = {}
        self._failing: dict[str, str] = {}

    def round(
        self, entries: list[Any], now: datetime, lu_names: list[str | None] | None = None
    ) -> list[Event]:
        """The events of one round's ``entries``; ``lu_names`` (per device,
        ``Poller.identify()``) label them."""
        events: list[Event] = []
        names = lu_names if lu_names is not None else [None] * len(self._paths)
        for path, entry, name in zip(self._paths, entries, names):
            events += [
                replace(e, lu_name=name) if name is not None else e
                for e in self._device(path, entry, now)
            ]
        return events

    def _device(self, path: str, entry: Any, now: datetime) -> list[Event]:
        if isinstance(entry, UnitAttention):
            return [Event(path, now, "unit_attention", error=entry)]
        if isinstance(entry, (PRError, OSError)):
            gone = isinstance(entry, OSError) and entry.errno in _GONE_ERRNOS
            kind = "gone" if gone else _error_kind(entry)
            if self._failing.get(path) == kind:
                return []
            self._failing[path] = kind
            return [Event(path, now, "gone" if gone else "error", error=entry)]
        state = state_of(entry)
        previous = self._state.get(path)
        self._state[path] = state
        if path in self._failing:
            del self._failing[path]
            return [Event(path, now, "back", state=state, previous=previous)]
        if previous is None:
            return [Event(path, now, "initial", state=state)]
        diff = changes(previous, state)
        if not diff:
            return []
        return [Event(path, now, "changed", state=state, previous=previous, changes=diff)]


class _Stopped(BaseException):
    """SIGINT or SIGTERM arrived while a polling round or the pause between
    rounds was waiting (not an Exception, so that nothing on the way mistakes
    it for a failed read)."""


def watch(paths: list[str], interval: float, timeout: float, as_json: bool) -> int:
    """Poll until SIGINT or SIGTERM; print events; exit status 0.

    A signal during a round, during the identity read before it or during
    the pause after it ends the watch at once (a round's commands are left
    with the driver, which is harmless for a read), so a stalled path never
    holds the watch for a command's timeout.  The handler only sets flags and
    raises: a lock it took (``threading.Event.set()``) could be the one the
    interrupted main thread holds, and the watch would hang on it."""
    stopping = False
    interruptible = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping, interruptible
        stopping = True
        if interruptible:
            interruptible = False  # raised once: a second signal only sets the flag
            raise _Stopped

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    watcher = Watcher(paths)
    try:
        with Poller(paths, ("keys", "reservation"), timeout=timeout) as poller:
            try:
                while True:
                    interruptible = True
                    if stopping:  # the signal came before the flag was set
                        break
                    lu_names = poller.identify()  # only devices (re)opened since
                    entries = poller.poll()
                    interruptible = False
                    for event in watcher.round(entries, datetime.now(timezone.utc), lu_names):
                        _print(event, as_json)
                    if reader_gone():  # `pr-native watch ... | head`: its reader left
                        break
                    interruptible = True
                    if stopping:
                        break
                    time.sleep(interval)  # a signal's _Stopped ends it (PEP 475)
                    interruptible = False
            except _Stopped:
                pass
            finally:
                interruptible = False
        _print(Event(None, datetime.now(timezone.utc), "stopped"), as_json)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return ExitCode.OK


def _print(event: Event, as_json: bool) -> None:
    line = json.dumps(event.to_json()) if as_json else event.to_text()
    print(line, flush=True)


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def _help_text(doc: str) -> str:
    """The module docstring as --help shows it: all of it after the first
    line, without reStructuredText's double backticks."""
    return doc.split("\n", 1)[1].strip().replace("``", "")


def add_parser(commands: Any, help_text: str) -> None:
    """The ``watch`` subcommand of pr-native (``help_text``: its line in the
    command list, kept by pr_native.cli, which loads this module only to run it)."""
    sub = commands.add_parser(
        "watch",
        help=help_text,
        description=_help_text(__doc__ or ""),
    )
    sub.add_argument("devices", nargs="+", metavar="DEV", help="/dev/sgN nodes")
    sub.add_argument("--interval", type=_positive, default=1.0, help="seconds between rounds")
    sub.add_argument("--timeout", type=_positive, default=30.0, help="seconds per command")
    sub.add_argument("--json", action="store_true", help="one JSON object per event")
    sub.add_argument("-v", "--verbose", action="count", default=0)
    sub.set_defaults(run=run, device=None)


def run(args: argparse.Namespace, out: Any) -> int:
    """Entry from pr_native.cli (``out`` reports argument errors)."""
    return watch(list(args.devices), args.interval, args.timeout, args.json)


__all__ = ["Event", "Watcher", "add_parser", "changes", "state_of", "watch"]
