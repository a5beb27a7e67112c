"""Read the reservation state of many devices at once.

``poll(devices)`` sends READ KEYS and/or READ RESERVATION to every device in
one round and returns one entry per device: a ``PollResult``, or the
exception that device's command raised.  On Linux the commands to
``/dev/sgN`` nodes are all in flight together, from the calling thread,
through the sg driver's asynchronous interface (one C call per round, GIL
released); ``/dev/sdX`` and other platforms run them one after another.
Monitoring many LUNs then costs about one round trip instead of one per LUN.

``Poller`` keeps the devices open between rounds (for ``pr-native watch``
and the exporter) and reopens a device that went away.  Its ``identify()``
reads each device's identity (``lu_name``) once per open, as a bounded step
of its own between rounds: a round stays one PR IN per device and action.

PR IN changes nothing on the device, so polling is always safe; but a
pending UNIT ATTENTION is reported (and so consumed) by whichever command
meets it first: the device's entry is then ``UnitAttention``.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Iterable, Sequence

from . import _batch, _decode, _prin, _validate
from . import cdb as _cdb
from ._native import ffi, lib
from ._record import TYPE_CHECKING, Record
from .constants import PRInAction
from .device import Device
from .errors import MalformedResponse, PRError, ResponseTruncated, error_for_result
from .results import Registrations, ReservationStatus

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Union

    _Decoded = dict[PRInAction, Union[Registrations, ReservationStatus]]

_unpack = ffi.unpack
_tuple_new = tuple.__new__
_monotonic = time.monotonic
_KEYS, _RESERVATION = PRInAction.READ_KEYS, PRInAction.READ_RESERVATION

__all__ = ["IDENTIFY_RETRY", "POLL_ACTIONS", "PollEntry", "PollResult", "Poller", "poll"]

#: Seconds before ``Poller.identify()`` asks again a device that did not answer.
IDENTIFY_RETRY = 60.0

#: What ``poll`` can read, by name.
POLL_ACTIONS = {"keys": PRInAction.READ_KEYS, "reservation": PRInAction.READ_RESERVATION}

# Each polled service action's decoder (the C core's, which also reports
# in ResponseTruncated.needed how much a cut-short response needs).
_DECODERS: dict[PRInAction, Callable[[bytes], Registrations | ReservationStatus]] = {
    PRInAction.READ_KEYS: _cdb.decode_read_keys,
    PRInAction.READ_RESERVATION: _cdb.decode_read_reservation,
}

_GONE = (errno.ENODEV, errno.ENXIO, errno.ENOENT, errno.EBADF)


class PollResult(Record):
    """One device's state from one polling round."""

    __slots__ = ()

    device: str
    """The device's path."""
    keys: Registrations | None
    """READ KEYS, when polled."""
    reservation: ReservationStatus | None
    """READ RESERVATION, when polled."""
    duration: float
    """Seconds the whole round took (all devices together)."""


if sys.version_info >= (3, 10):
    #: One device's entry: its state, or what went wrong (``PRError``, or
    #: ``OSError`` when the device cannot be opened or has gone).
    PollEntry = PollResult | PRError | OSError
else:  # pragma: no cover - Python 3.9
    from typing import Any, Union

    PollEntry = Union[PollResult, PRError, OSError]


def _what(what: object) -> tuple[PRInAction, ...]:
    if isinstance(what, str) or not isinstance(what, Iterable):
        raise TypeError(f"what must be a sequence of {sorted(POLL_ACTIONS)}")
    names = tuple(what)
    if not names:
        raise ValueError("what must name at least one of 'keys', 'reservation'")
    for name in names:
        if name not in POLL_ACTIONS:
            raise ValueError(f"what: unknown {name!r}, expected {sorted(POLL_ACTIONS)}")
    return tuple(POLL_ACTIONS[n] for n in dict.fromkeys(names))


def _path(item: object, index: int) -> str:
    if isinstance(item, Device):
        return item.path
    if not isinstance(item, (str, os.PathLike)):
        raise TypeError(f"devices[{index}] must be a path or a Device, not {type(item).__name__}")
    path = os.fspath(item)
    if not isinstance(path, str) or not path or "\0" in path:
        raise ValueError(f"devices[{index}] must be a non-empty device path, got {item!r}")
    return path


class Poller:
    """Devices kept open for repeated polling rounds.

    ``devices`` are paths (opened here, read-write as PR commands need on
    ``/dev/sgN``, and closed by ``close()``) or open ``Device`` objects (used
    as they are, never closed here).  A path whose device disappears
    (ENODEV, ENXIO, ENOENT) is closed and reopened on a later round; until
    then its entry is the ``OSError``.  ``timeout`` (seconds) applies to each
    command.

    ``identify()`` is the one place identity is read: never inside ``poll()``.
    """

    def __init__(
        self,
        devices: Sequence[str | os.PathLike[str] | Device],
        what: Iterable[str] = ("keys", "reservation"),
        *,
        timeout: float = 30.0,
    ) -> None:
        if isinstance(devices, (str, bytes, Device)) or not isinstance(devices, Sequence):
            raise TypeError("devices must be a sequence of paths or Devices")
        self._actions = _what(what)
        self._timeout_ms = _validate.timeout_ms(timeout)
        self._paths = [_path(item, i) for i, item in enumerate(devices)]
        if len(set(self._paths)) != len(self._paths):
            raise ValueError("devices must not name the same device twice")
        self._given = [item if isinstance(item, Device) else None for item in devices]
        self._open: list[Device | None] = list(self._given)
        # Device.identify()'s lu_name per device, read once per open.
        self._lu_names: list[str | None] = [None] * len(self._paths)
        self._identified = [False] * len(self._paths)
        self._identify_after = [0.0] * len(self._paths)  # monotonic time of the next try
        self._allocations: dict[tuple[int, PRInAction], int] = {}
        self._plan: _Plan | None = None

    @property
    def paths(self) -> list[str]:
        """The device paths, in the order given (and of every round's entries)."""
        return list(self._paths)

    @property
    def lu_names(self) -> list[str | None]:
        """Each device's ``lu_name`` as ``identify()`` last read it, in
        order; None before that, after a failed read, or once the device was
        closed to be reopened."""
        return list(self._lu_names)

    def identify(self) -> list[str | None]:
        """Read the identity (``Device.identify()``: INQUIRY and VPD pages,
        no PR command, no unit attention consumed) of every device not read
        since it was opened, opening the paths not open yet; returns
        ``lu_names``.  A step of its own, outside the polling rounds, and
        bounded like one: the devices are read in turn within one command
        timeout in all, each with what is left of it; those not reached are
        read by a later call.  A device that fails to answer (``PRError`` or
        ``OSError``) keeps ``lu_name`` None and is asked again no sooner than
        ``IDENTIFY_RETRY`` seconds later; monitoring goes on meanwhile."""
        now = _monotonic()
        deadline = now + self._timeout_ms / 1000
        for i in range(len(self._paths)):
            if self._identified[i] or now < self._identify_after[i]:
                continue
            left = deadline - now
            if left <= 0:
                break
            try:
                device = self._opened(i)
            except OSError:
                continue  # the round reports it
            try:
                self._lu_names[i] = device.identify(timeout=max(left, 0.001)).lu_name
                self._identified[i] = True
            except (PRError, OSError):
                self._lu_names[i] = None
                self._identify_after[i] = _monotonic() + IDENTIFY_RETRY
            now = _monotonic()
        return list(self._lu_names)

    def close(self) -> None:
        """Close the devices this Poller opened."""
        self._plan = None
        for i, device in enumerate(self._open):
            if device is not None and self._given[i] is None:
                self._closed(i)

    def _opened(self, i: int) -> Device:
        """Device i, opened from its path if it is not open (OSError if it
        cannot be)."""
        device = self._open[i]
        if device is None:
            self._plan = None
            device = self._open[i] = Device(self._paths[i], timeout=self._timeout_ms / 1000)
        return device

    def _closed(self, i: int) -> None:
        """Close device i (opened here); its identity is read again once reopened."""
        device = self._device(i)
        # Forgotten before it is closed: an exception in close() (a signal
        # handler's) then leaves a device to reopen, not a closed one in use.
        self._plan = None
        self._open[i] = None
        self._lu_names[i] = None
        self._identified[i] = False
        self._identify_after[i] = 0.0
        device.close()

    def __enter__(self) -> Poller:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def poll(self) -> list[PollEntry]:
        """One round: every polled command to every device; one entry per
        device, in order.  Raises only for programming errors (a closed
        Device that was passed in raises ValueError)."""
        started = _monotonic()
        plan, ran = self._plan, None
        if plan is not None and plan.everyone:
            # The steady state (every device open, the arrays kept): one
            # pr_poll call, and each device's entry built straight from the
            # decoded responses when all of them came back whole; else those
            # results are taken below (``ran``), nothing sent again.
            plan.call()
            settled = plan.settled(started)
            if settled is not None:
                return settled
            ran = plan
        entries: list[PollEntry | None] = [None] * len(self._paths)
        ready: list[int] = []
        for i in range(len(self._paths)):
            if self._open[i] is None:
                try:
                    self._opened(i)
                except OSError as error:
                    entries[i] = error
                    continue
            ready.append(i)
        data = self._read(ready, ran)
        duration = _monotonic() - started
        for i in ready:
            entries[i] = self._entry(i, data[i], duration)
        return [e for e in entries if e is not None]

    def _read(self, ready: list[int], ran: _Plan | None) -> dict[int, _Decoded | Exception]:
        """Run the round (one ``pr_poll`` call: every command in flight, each
        response decoded in C; ``ran``: a plan whose call this round has
        made already) and take the results; entries that need more (a
        re-read with a larger allocation, a wait a signal ended) go round
        again through the general loop below."""
        data: dict[int, _Decoded | Exception] = {i: {} for i in ready}
        plan = ran
        if plan is None:
            plan = self._plan
            if plan is None or plan.ready != tuple(ready):
                plan = self._plan = _Plan(self, ready)
            plan.call()
        assert plan.ready == tuple(ready)  # ran: every device was open, and still is
        again = plan.take(self, data)
        while again:
            again = self._read_again(again, data)
        return data

    def _read_again(
        self, todo: list[tuple[int, PRInAction, int]], data: dict[int, _Decoded | Exception]
    ) -> list[tuple[int, PRInAction, int]]:
        commands = [
            _batch.pr_in_command(self._device(i), action, allocation)
            for i, action, allocation in todo
        ]
        # Re-reads (another allocation: a new command) and re-issues after a
        # signal (the same command: its request taken over, deadline kept).
        outcomes = _batch.execute(commands, self._timeout_ms, resuming=True)
        again = []
        for (i, action, allocation), outcome in zip(todo, outcomes):
            got = data[i]
            if isinstance(got, Exception):
                continue
            if outcome.error is not None:
                data[i] = outcome.error
                continue
            try:
                got[action] = _DECODERS[action](outcome.data)
            except ResponseTruncated as short:
                try:
                    again.append((i, action, self._reread(i, action, allocation, short.needed)))
                except PRError as error:  # beyond 65535 bytes, or sent short
                    data[i] = error
            except PRError as error:  # MalformedResponse
                error.device = self._paths[i]
                data[i] = error
            else:
                if self._allocations.get((i, action), _prin.INITIAL_ALLOCATION) != allocation:
                    self._allocations[(i, action)] = allocation  # the next rounds ask for it
                    self._plan = None
        return again

    def _reread(self, i: int, action: PRInAction, allocation: int, needed: int) -> int:
        command = _batch.pr_in_command(self._device(i), action, allocation).name
        return _prin.next_allocation(allocation, needed, device=self._paths[i], command=command)

    def _device(self, i: int) -> Device:
        device = self._open[i]
        assert device is not None
        return device

    def _entry(self, i: int, data: _Decoded | Exception, duration: float) -> PollEntry:
        if isinstance(data, Exception):
            if isinstance(data, OSError) and data.errno in _GONE and self._given[i] is None:
                self._closed(i)  # reopened next round
            if isinstance(data, (PRError, OSError)):
                return data
            raise data
        keys = data.get(PRInAction.READ_KEYS)
        reservation = data.get(PRInAction.READ_RESERVATION)
        return _tuple_new(PollResult, (self._paths[i], keys, reservation, duration))


def _registrations(decoded: Any) -> Registrations:
    """READ KEYS as the C core decoded it in the round (``pr_poll_decoded``)."""
    got = decoded.keys_out
    return _tuple_new(Registrations, (got.generation, tuple(_unpack(decoded.keys, got.count))))


def _reservation(decoded: Any) -> ReservationStatus:
    """READ RESERVATION as the C core decoded it in the round."""
    held = decoded.reservation
    if held.reserved:
        return _decode.reservation_status(held)
    return _tuple_new(ReservationStatus, (held.generation, None))


class _Plan:
    """One round's C arrays, kept from round to round while the devices and
    allocations stay the same: a round then costs one ``pr_poll`` call and a
    record per response."""

    def __init__(self, poller: Poller, ready: list[int]) -> None:
        self.ready = tuple(ready)
        #: Every device of the Poller is in this round.
        self.everyone = len(ready) == len(poller._paths)
        self.entries = [(i, action) for i in ready for action in poller._actions]
        self.devices = sorted({id(poller._device(i)): poller._device(i) for i in ready}.items())
        given = {id(d) for d in poller._given if d is not None}
        self.locks = [device._lock for key, device in self.devices if key in given]
        # Per device of the round, in order: its path and its entries' indexes
        # into the arrays, READ KEYS first (settled()'s common case).
        self.per_device = [
            (
                i,
                poller._paths[i],
                next((k for k, e in enumerate(self.entries) if e == (i, _KEYS)), None),
                next((k for k, e in enumerate(self.entries) if e == (i, _RESERVATION)), None),
            )
            for i in ready
        ]
        count = len(self.entries)
        self.batch = ffi.new("struct pr_batch_command[]", count)
        self.decoded = ffi.new("struct pr_poll_decoded[]", count)
        self.allocations = []
        self._keep = []  # the buffers the arrays point into
        for k, (i, action) in enumerate(self.entries):
            allocation = poller._allocations.get((i, action), _prin.INITIAL_ALLOCATION)
            cdb = _cdb.pr_in_cdb(action, allocation)
            data = ffi.new("uint8_t[]", allocation)
            entry = self.batch[k]
            entry.device = poller._device(i)._device
            entry.data = data
            entry.data_len = allocation
            entry.timeout_ms = poller._timeout_ms
            entry.cdb[0 : len(cdb)] = cdb
            entry.cdb_len = len(cdb)
            self._keep.append(data)
            if action == PRInAction.READ_KEYS:
                keys = ffi.new("uint64_t[]", allocation // 8)
                self.decoded[k].keys = keys
                self.decoded[k].max_keys = allocation // 8
                self._keep.append(keys)
            self.allocations.append(allocation)

    def call(self) -> None:
        """The round's one pr_poll call, the lock of every Device given to
        the Poller held (so no other thread's command shares its buffers or
        its sg queue; the Devices the Poller opened are its own)."""
        rc = _batch.holding(self.locks, self._call)
        if rc != lib.PR_OK:
            raise ValueError("the C core rejected the polling round")

    def _call(self) -> int:
        for _, device in self.devices:
            device._check_open()
        return lib.pr_poll(self.batch, self.decoded, len(self.entries))  # type: ignore[no-any-return]

    def settled(self, started: float) -> list[PollEntry] | None:
        """After ``call``: the round's entries when every command came back
        GOOD and whole; else None (``take`` has the results)."""
        batch, decoded = self.batch, self.decoded
        for k in range(len(self.entries)):
            if batch[k].rc or decoded[k].rc:
                return None
        duration = _monotonic() - started
        entries: list[PollEntry] = []
        for _, path, k_keys, k_reservation in self.per_device:
            keys = reservation = None
            if k_keys is not None:
                keys = _registrations(decoded[k_keys])
            if k_reservation is not None:
                reservation = _reservation(decoded[k_reservation])
            entries.append(_tuple_new(PollResult, (path, keys, reservation, duration)))
        return entries

    def take(
        self, poller: Poller, data: dict[int, _Decoded | Exception]
    ) -> list[tuple[int, PRInAction, int]]:
        """The results of the call: fills ``data``; returns what must be
        read again."""
        again = []
        batch, decoded, keys_action = self.batch, self.decoded, PRInAction.READ_KEYS
        for k, (i, action) in enumerate(self.entries):
            got = data[i]
            if not isinstance(got, dict):
                continue
            command = batch[k]
            if command.rc == 0 and decoded[k].rc == 0:
                if action is keys_action:
                    got[action] = _registrations(decoded[k])
                else:
                    got[action] = _reservation(decoded[k])
                continue
            allocation = self.allocations[k]
            name = f"PERSISTENT RESERVE IN ({action.name.replace('_', ' ')})"
            if command.rc == 0 and decoded[k].rc == lib.PR_ERR_SHORT:
                try:
                    again.append(
                        (i, action, poller._reread(i, action, allocation, decoded[k].needed))
                    )
                except PRError as error:
                    data[i] = error
            elif command.rc == 0:
                data[i] = MalformedResponse(
                    "response violates the SPC format", device=poller._paths[i], command=name
                )
            elif _prin.interrupted(command.rc, command.result):
                again.append((i, action, allocation))
            else:
                data[i] = error_for_result(
                    command.rc, command.result, device=poller._paths[i], command=name
                )
        return again


def poll(
    devices: Sequence[str | os.PathLike[str] | Device],
    what: Iterable[str] = ("keys", "reservation"),
    *,
    timeout: float = 30.0,
) -> list[PollEntry]:
    """One polling round over ``devices`` (paths or open Devices): returns,
    per device and in order, a ``PollResult`` with the state read (``what``:
    ``"keys"``, ``"reservation"`` or both) or the exception its command
    raised (``PRError``), or the ``OSError`` of a path that cannot be opened.

    Arguments are checked before anything is opened or sent.  Devices opened
    from paths are closed again before returning.
    """
    with Poller(devices, what, timeout=timeout) as poller:
        return poller.poll()
