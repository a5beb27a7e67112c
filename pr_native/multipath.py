"""``MultipathDevice``: persistent reservations on a device-mapper multipath
node, path by path, without multipathd.

A dm-multipath node (``/dev/mapper/NAME``, ``/dev/dm-N``) carries SG_IO down
one of its paths, and every path is its own I_T nexus: a REGISTER through the
node registers one of them, and every other path then gets RESERVATION
CONFLICT on its I/O.  ``MultipathDevice`` does what SPC asks and the kernel's
own dm ``pr_ops`` (drivers/md/dm.c) do, with one ``Device`` per path:

- REGISTER, REGISTER AND IGNORE EXISTING KEY and unregister go to EVERY
  active path; a failure part-way raises ``PartialRegistration`` (nothing is
  rolled back: the kernel's dm_pr_register unregisters the other paths again,
  here the caller reads the state and decides);
- RESERVE, RELEASE, PREEMPT (AND ABORT), CLEAR, REGISTER AND MOVE and
  REPLACE LOST RESERVATION go down ONE path whose I_T nexus is registered
  with the key (the holder's, when one of the paths holds the reservation:
  a RELEASE from a registered non-holder succeeds and releases nothing);
- PR IN and TEST UNIT READY go down the first path that answers.

Every PR OUT is one ``Device`` PR OUT on one path: sent once, never resent
on another path (``OutcomeUnknown`` stays what it is).

The paths come from sysfs (``/sys/block/dm-N/slaves``; a multipath node's
``dm/uuid`` starts with ``mpath-``), their state from the multipath target's
status line (DM_TABLE_STATUS on ``/dev/mapper/control``: root), and an
INQUIRY on each path (``Device.identify()``) checks that all are one logical
unit.  ``SYSFS_ROOT`` and ``DM_CONTROL`` say where those are.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import struct
import sys
import threading

from . import _validate
from ._record import TYPE_CHECKING, Record
from ._sysfs import first_entry as _first_entry
from ._sysfs import read_text as _read_text
from .device import Device
from .errors import (
    CommandTimeout,
    OutcomeUnknown,
    PartialRegistration,
    PRError,
    TransportError,
    UnsupportedOperation,
)
from .results import Capabilities, FullStatus, Registrant, Registrations, ReservationStatus
from .transport_id import FCPTransportID, ISCSITransportID, SASTransportID, TransportID

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, TypeVar

    from .constants import PRInAction, ReservationType

    _T = TypeVar("_T")

SYSFS_ROOT = "/sys"
"""Where sysfs is mounted (the tests point it at a tree of their own)."""
DM_CONTROL = "/dev/mapper/control"
"""The device-mapper control node the status ioctl goes to."""

# Errors after which a PR IN tries the next path: the path, not the logical
# unit, failed.  A SCSI status (UnitAttention, ...) is the device's answer.
_PATH_ERRORS = (OSError, TransportError, CommandTimeout)

# include/uapi/linux/dm-ioctl.h: struct dm_ioctl (312 bytes) and struct
# dm_target_spec (40 bytes), packed as the kernel lays them out on every ABI.
_DM_IOCTL = struct.Struct("=3IIIIiIIIQ128s129s7x")
_DM_TARGET_SPEC = struct.Struct("=QQiI16s")
_DM_VERSION = (4, 0, 0)  # the kernel accepts any 4.x at or below its own
_DM_TABLE_STATUS_CMD = 12
_IOC_READ_WRITE = 3
_DM_TABLE_STATUS = (
    (_IOC_READ_WRITE << 30) | (_DM_IOCTL.size << 16) | (0xFD << 8) | _DM_TABLE_STATUS_CMD
)
_DM_ACTIVE_PRESENT_FLAG = 1 << 5
_DM_BUFFER_FULL_FLAG = 1 << 8
_DM_STATUS_SIZES = (16 << 10, 256 << 10, 4 << 20)
_DEV_T = re.compile(r"\d+:\d+")


class Path(Record):
    """One path of a multipath device: a SCSI disk, and how device-mapper
    sees it now."""

    __slots__ = ()

    block_device: str
    """The path's disk, ``/dev/sdX``."""
    sg_node: str | None
    """Its ``/dev/sgN`` (None without the sg driver): PR commands go there."""
    dev: str
    """``"major:minor"`` of the disk, as the multipath table names it."""
    state: str
    """``"A"`` active or ``"F"`` failed, as device-mapper reports it."""
    group: int
    """The priority group (1, 2, ...) the path belongs to."""
    group_state: str
    """Its group's state: ``"A"`` the group I/O goes to now, ``"E"`` enabled
    (no group is current before the first I/O), ``"D"`` disabled."""
    fail_count: int = 0
    """How often device-mapper failed the path."""
    lu_name: str | None = None
    """The logical unit's name from VPD page 83h (``identify()``); None when
    the path did not answer: such a path is never sent a PR OUT."""
    initiator_port: TransportID | None = None
    """This path's initiator port, as READ FULL STATUS names it (from sysfs);
    None when the fabric does not say."""
    relative_target_port: int | None = None
    """The target port the path reaches (VPD page 83h), None if unknown."""


class PathRegistration(Record):
    """Whether one path's I_T nexus is registered (``MultipathDevice.read_full_status``).

    ``registered`` is None when it cannot be told: the path's initiator port
    is unknown, or a registration matches it and another path alike."""

    __slots__ = ()
    _hex_fields = frozenset({"key"})

    path: Path
    """The path, as device-mapper reports it now."""
    registered: bool | None
    """Its I_T nexus is registered; None when it cannot be told."""
    key: int | None = None
    """The key the path's I_T nexus is registered with."""
    holder: bool | None = None
    """The path's I_T nexus holds the reservation (R_HOLDER)."""


class MultipathFullStatus(FullStatus):
    """READ FULL STATUS through one path (a ``FullStatus``), and per path
    whether its I_T nexus is registered."""

    __slots__ = ()

    paths: tuple[PathRegistration, ...] = ()
    """One ``PathRegistration`` per path, in table order."""


class MultipathRegistration(Record):
    """The paths a REGISTER-family command was sent on and succeeded, and
    those it skipped (failed in device-mapper, or not verified): a skipped
    path stays unregistered and gets RESERVATION CONFLICT once the
    reservation is held."""

    __slots__ = ()

    succeeded: tuple[Path, ...]
    """The paths it was sent on; each answered GOOD."""
    skipped: tuple[Path, ...] = ()
    """The paths it was not sent to."""


# -- sysfs ------------------------------------------------------------------


def _dm_block_name(node: str) -> str | None:
    """``dm-N`` for a device-mapper node, else None."""
    sysfs = SYSFS_ROOT
    try:
        st = os.stat(node)
    except OSError:
        st = None
    if st is not None and stat.S_ISBLK(st.st_mode):
        real = os.path.realpath(f"{sysfs}/dev/block/{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}")
        name = os.path.basename(real)
    else:
        # No such node here: by name (/dev/dm-N, or /dev/mapper/NAME).
        name = os.path.basename(os.path.realpath(node))
        if not name.startswith("dm-") and os.path.dirname(os.path.abspath(node)) == "/dev/mapper":
            for entry in sorted(os.listdir(f"{sysfs}/block")) if os.path.isdir(sysfs) else ():
                if entry.startswith("dm-") and _read_text(f"{sysfs}/block/{entry}/dm/name") == name:
                    return entry
    if name.startswith("dm-") and os.path.isdir(f"{sysfs}/block/{name}/dm"):
        return name
    return None


def is_multipath(node: str | os.PathLike[str]) -> bool:
    """True when ``node`` is a device-mapper multipath node: a dm device
    whose uuid starts with ``mpath-`` (as multipath-tools names them)."""
    if sys.platform != "linux":
        return False
    name = _dm_block_name(os.fspath(node))
    uuid = name and _read_text(f"{SYSFS_ROOT}/block/{name}/dm/uuid")
    return bool(uuid and uuid.startswith("mpath-"))


def _multipath_name(node: str) -> str:
    name = _dm_block_name(node) if sys.platform == "linux" else None
    uuid = name and _read_text(f"{SYSFS_ROOT}/block/{name}/dm/uuid")
    if not name or not uuid or not uuid.startswith("mpath-"):
        raise ValueError(
            f"{node} is not a device-mapper multipath node (a dm device whose "
            "dm/uuid starts with mpath-)"
        )
    return name


def _slaves(name: str) -> dict[str, tuple[str, str | None]]:
    """dev_t -> (/dev/sdX, /dev/sgN or None) of every disk under dm-N."""
    found = {}
    try:
        entries = sorted(os.listdir(f"{SYSFS_ROOT}/block/{name}/slaves"))
    except OSError:
        entries = []
    for disk in entries:
        dev = _read_text(f"{SYSFS_ROOT}/block/{disk}/dev")
        if dev:
            sg = _first_entry(f"{SYSFS_ROOT}/block/{disk}/device/scsi_generic")
            found[dev] = (f"/dev/{disk}", None if sg is None else f"/dev/{sg}")
    return found


def _port_from_name(name: str) -> TransportID | None:
    """An initiator port name as LIO turns it into a TransportID: naa. and 16
    hex digits is a SAS address, iqn./eui. an iSCSI name."""
    if re.fullmatch(r"naa\.[0-9a-fA-F]{16}", name):
        return SASTransportID(int(name[4:], 16))
    try:
        return ISCSITransportID(name)
    except ValueError:
        return None


def _hex_address(text: str | None) -> int | None:
    try:
        return None if text is None else int(text, 16)
    except ValueError:
        return None


def _initiator_port(block_device: str) -> TransportID | None:
    """The initiator port of the I_T nexus a disk (``/dev/sdX``) is reached
    through, from sysfs, or None: iSCSI, the session's ``initiatorname``
    (and ``isid`` where the driver shows it: iscsi_tcp does not); Fibre
    Channel, the host's ``fc_host/port_name``; SAS, ``host_sas_address``;
    tcm_loop, the ``nexus`` of the loopback target port at the disk's
    H:C:T (configfs)."""
    sysfs = SYSFS_ROOT
    disk = os.path.basename(block_device)
    device = os.path.realpath(f"{sysfs}/block/{disk}/device")
    hctl = os.path.basename(device).split(":")
    if len(hctl) != 4 or not all(part.isdigit() for part in hctl):
        return None
    host = f"host{hctl[0]}"
    session = next((p for p in device.split("/") if re.fullmatch(r"session\d+", p)), None)
    if session is not None:
        base = f"{sysfs}/class/iscsi_session/{session}"
        name = _read_text(f"{base}/initiatorname")
        isid = _hex_address(_read_text(f"{base}/isid"))
        try:
            return None if not name else ISCSITransportID(name, isid)
        except ValueError:
            return None
    port_name = _hex_address(_read_text(f"{sysfs}/class/fc_host/{host}/port_name"))
    if port_name is not None:
        return FCPTransportID(port_name)
    sas = _hex_address(_read_text(f"{sysfs}/class/scsi_host/{host}/host_sas_address"))
    if sas is not None:
        return SASTransportID(sas)
    if _read_text(f"{sysfs}/class/scsi_host/{host}/proc_name") == "tcm_loopback":
        loopback = f"{sysfs}/kernel/config/target/loopback"
        address = ":".join(hctl[:3])
        for wwn in sorted(os.listdir(loopback)) if os.path.isdir(loopback) else ():
            for tpg in sorted(os.listdir(f"{loopback}/{wwn}")):
                if tpg.startswith("tpgt_") and (
                    _read_text(f"{loopback}/{wwn}/{tpg}/address") == address
                ):
                    nexus = _read_text(f"{loopback}/{wwn}/{tpg}/nexus")
                    return _port_from_name(nexus) if nexus else None
    return None


# -- device-mapper status ---------------------------------------------------


def _status_request(dev: str, size: int) -> bytearray:
    """A DM_TABLE_STATUS request for the dm device ``dev`` ("major:minor"),
    with room for ``size`` bytes in all."""
    major, minor = (int(n) for n in dev.split(":"))
    # huge_encode_dev(): the kernel finds the device by number (no name given)
    encoded = (minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12)
    buffer = bytearray(size)
    _DM_IOCTL.pack_into(
        buffer, 0, *_DM_VERSION, size, _DM_IOCTL.size, 0, 0, 0, 0, 0, encoded, b"", b""
    )
    return buffer


def _status_reply(buffer: bytes | bytearray) -> list[tuple[str, str]] | None:
    """(target type, status line) of each target of the live table, or None
    when the buffer was too small."""
    fields = _DM_IOCTL.unpack_from(buffer, 0)
    data_size, data_start, count, flags = fields[3], fields[4], fields[5], fields[7]
    if flags & _DM_BUFFER_FULL_FLAG:
        return None
    if not flags & _DM_ACTIVE_PRESENT_FLAG:
        return []
    targets = []
    offset = data_start
    for _ in range(count):
        if offset + _DM_TARGET_SPEC.size > min(data_size, len(buffer)):
            raise ValueError("device-mapper status runs past its buffer")
        _, _, _, next_offset, kind = _DM_TARGET_SPEC.unpack_from(buffer, offset)
        text = bytes(buffer[offset + _DM_TARGET_SPEC.size : data_size]).split(b"\0", 1)[0]
        targets.append((kind.split(b"\0", 1)[0].decode(), text.decode(errors="replace")))
        # "next" counts from the first target spec (DM_TABLE_STATUS's rule)
        offset = data_start + next_offset
    return targets


def _table_status(dev: str) -> list[tuple[str, str]]:
    """(target type, status line) of each target of the dm device ``dev``
    ("major:minor"), as ``dmsetup status`` prints them: the DM_TABLE_STATUS
    ioctl on ``DM_CONTROL``, which needs CAP_SYS_ADMIN."""
    try:
        fd = os.open(DM_CONTROL, os.O_RDWR | os.O_CLOEXEC)
    except PermissionError as error:
        raise PermissionError(
            error.errno, "reading device-mapper status needs CAP_SYS_ADMIN (root)", DM_CONTROL
        ) from None
    try:
        for size in _DM_STATUS_SIZES:
            buffer = _status_request(dev, size)
            fcntl.ioctl(fd, _DM_TABLE_STATUS, buffer, True)
            targets = _status_reply(buffer)
            if targets is not None:
                return targets
    finally:
        os.close(fd)
    raise ValueError(f"device-mapper status of {dev} exceeds {_DM_STATUS_SIZES[-1]} bytes")


def _parse_status(line: str) -> tuple[tuple[str, str, int, int, str], ...]:
    """The multipath target's status line (drivers/md/dm-mpath.c,
    multipath_status, STATUSTYPE_INFO) as (dev, A|F, fail count, group,
    group state A|E|D) per path, in table order::

        num_features [features]* num_handler_args [handler_args]*
        num_groups current_group
        [A|D|E num_ps_args [ps_args]* num_paths num_selector_args
         [dev A|F fail_count [selector_args]*]+]+
    """
    words = line.split()
    position = 0

    def take() -> str:
        nonlocal position
        if position >= len(words):
            raise ValueError(f"multipath status ends early: {line!r}")
        position += 1
        return words[position - 1]

    def number() -> int:
        word = take()
        if not word.isdigit():
            raise ValueError(f"multipath status: {word!r} is not a number in {line!r}")
        return int(word)

    def skip(count: int) -> None:
        for _ in range(count):
            take()

    skip(number())  # features
    skip(number())  # hardware handler
    groups = number()
    number()  # the current (or next) group
    paths = []
    for group in range(1, groups + 1):
        group_state = take()
        skip(number())  # path selector status
        count, selector_args = number(), number()
        for _ in range(count):
            dev, state, fail_count = take(), take(), number()
            if not _DEV_T.fullmatch(dev) or state not in ("A", "F"):
                raise ValueError(f"multipath status: bad path {dev} {state} in {line!r}")
            skip(selector_args)
            paths.append((dev, state, fail_count, group, group_state))
        if group_state not in ("A", "E", "D"):
            raise ValueError(f"multipath status: bad group state {group_state!r} in {line!r}")
    if position != len(words):
        raise ValueError(f"multipath status has more than its groups: {line!r}")
    return tuple(paths)


def _path_states(name: str) -> tuple[tuple[str, str, int, int, str], ...]:
    dev = _read_text(f"{SYSFS_ROOT}/block/{name}/dev") or ""
    targets = _table_status(dev)
    # dm's own pr_ops, too, serve only a table of one target
    if [kind for kind, _ in targets] != ["multipath"]:
        raise ValueError(
            f"{name} ({dev}) is not one multipath target: {[kind for kind, _ in targets]}"
        )
    return _parse_status(targets[0][1])


# -- the paths --------------------------------------------------------------


class _Member(Record):
    """What one path is, as found when the device was opened."""

    __slots__ = ()

    block_device: str
    sg_node: str | None
    lu_name: str | None
    initiator_port: TransportID | None
    relative_target_port: int | None


def _open_paths(
    node: str, name: str, timeout: float, read_only: bool
) -> tuple[dict[str, _Member], dict[str, Device]]:
    """Open every path (its sg node, else its disk) and check that all that
    answer INQUIRY name one logical unit.  A path that cannot be opened or
    does not answer is kept without a device: it is never sent anything."""
    members: dict[str, _Member] = {}
    devices: dict[str, Device] = {}
    errors: list[BaseException] = []
    try:
        for dev, (block, sg) in _slaves(name).items():
            lu_name: str | None = None
            port: int | None = None
            try:
                device = Device(sg or block, timeout, read_only=read_only)
            except OSError as error:
                errors.append(error)
            else:
                devices[dev] = device
                try:
                    identity = device.identify()
                    lu_name, port = identity.lu_name, identity.relative_target_port
                except _PATH_ERRORS as error:
                    errors.append(error)
                    devices.pop(dev).close()
                else:
                    if lu_name is None:
                        raise ValueError(
                            f"{node}: path {block} reports no logical unit name (VPD page "
                            "83h), so it cannot be checked to be the same logical unit"
                        )
            members[dev] = _Member(block, sg, lu_name, _initiator_port(block), port)
        if not devices:
            if errors:
                raise errors[0]
            raise ValueError(f"{node}: device-mapper lists no path under {name}")
        names = {m.lu_name for m in members.values() if m.lu_name is not None}
        if len(names) > 1:
            listed = ", ".join(f"{m.block_device}: {m.lu_name}" for m in members.values())
            raise ValueError(f"{node}: its paths are not one logical unit ({listed})")
    except BaseException:
        for device in devices.values():
            device.close()
        raise
    return members, devices


def _current(name: str, members: dict[str, _Member]) -> tuple[Path, ...]:
    """Every path as device-mapper reports it now."""
    paths = []
    for dev, state, fail_count, group, group_state in _path_states(name):
        member = members.get(dev)
        if member is None:  # added to the table since: unverified
            block, sg = _slaves(name).get(dev, (f"/dev/block/{dev}", None))
            member = _Member(block, sg, None, None, None)
        paths.append(
            Path(
                member.block_device,
                member.sg_node,
                dev,
                state,
                group,
                group_state,
                fail_count,
                member.lu_name,
                member.initiator_port,
                member.relative_target_port,
            )
        )
    return tuple(paths)


def paths(node: str | os.PathLike[str], timeout: float = 30.0) -> tuple[Path, ...]:
    """The paths of the multipath node ``node`` (``/dev/mapper/NAME`` or
    ``/dev/dm-N``) in table order, with their state as device-mapper
    reports it.  Sends INQUIRY on each path (read-only, changes nothing, no
    unit attention is consumed) and raises ``ValueError`` unless they all
    name the same logical unit; ``ValueError`` too for a node that is not a
    multipath node.  Needs root (the device-mapper status ioctl)."""
    text = os.fspath(node)
    name = _multipath_name(text)
    members, devices = _open_paths(text, name, timeout, read_only=True)
    for device in devices.values():
        device.close()
    return _current(name, members)


def _same_port(registered: TransportID, path: TransportID) -> bool:
    if isinstance(registered, ISCSITransportID) and isinstance(path, ISCSITransportID):
        # iSCSI names compare case-insensitively (RFC 3722); no ISID in sysfs matches any
        return registered.name.lower() == path.name.lower() and (
            path.isid is None or registered.isid == path.isid
        )
    return registered == path


def _nexus_matches(registrant: Registrant, path: Path) -> bool:
    if path.initiator_port is None or not _same_port(registrant.transport_id, path.initiator_port):
        return False
    return (
        registrant.all_target_ports
        or path.relative_target_port is None
        or registrant.relative_target_port == path.relative_target_port
    )


def _match_registrations(
    status: FullStatus, current: Iterable[Path]
) -> tuple[PathRegistration, ...]:
    """Per path, the registration of its I_T nexus in ``status``: a
    registrant whose TransportID is the path's initiator port and whose
    RELATIVE TARGET PORT IDENTIFIER is the path's target port (when known).
    A registrant that matches several paths tells nothing about any of them."""
    listed = tuple(current)
    owners = [[p for p in listed if _nexus_matches(r, p)] for r in status.registrants]
    table = []
    for path in listed:
        if path.initiator_port is None:
            table.append(PathRegistration(path, None))
            continue
        mine = [r for r, who in zip(status.registrants, owners) if path in who]
        sole = [r for r, who in zip(status.registrants, owners) if who == [path]]
        if sole:
            table.append(PathRegistration(path, True, sole[0].key, sole[0].holder))
        else:
            table.append(PathRegistration(path, None if mine else False))
    return tuple(table)


def _partial(
    command: str,
    node: str,
    succeeded: list[Path],
    failed: list[tuple[Path, BaseException]],
    skipped: list[Path],
) -> PartialRegistration:
    def names(listed: Iterable[Path]) -> str:
        return ", ".join(f"{p.block_device} ({p.dev})" for p in listed) or "none"

    failures = "; ".join(f"{p.block_device} ({p.dev}): {e}" for p, e in failed)
    return PartialRegistration(
        f"reached {len(succeeded)} of {len(succeeded) + len(failed)} active paths: "
        f"succeeded on {names(succeeded)}; failed on {failures}; not sent to "
        f"{names(skipped)}.  Nothing was rolled back: read the state "
        "(read_full_status) and decide",
        succeeded=tuple(succeeded),
        failed=tuple(failed),
        skipped=tuple(skipped),
        device=node,
        command=command,
    )


# -- the device -------------------------------------------------------------


class MultipathDevice:
    """A device-mapper multipath node opened for persistent reservation
    commands, path by path (the module's docstring says how each command
    travels).

    ``node`` is ``/dev/mapper/NAME`` or ``/dev/dm-N``; each path is opened
    through its ``/dev/sgN`` (its ``/dev/sdX`` without the sg driver).
    Methods, arguments, results and exceptions are ``Device``'s, with these
    differences: the REGISTER family returns a ``MultipathRegistration`` and
    raises ``PartialRegistration`` when some paths failed;
    ``read_full_status()`` returns a ``MultipathFullStatus``; REGISTER with
    ``transport_ids`` (SPEC_I_PT) is refused.  Opening needs root (the
    device-mapper status ioctl), ``Device.identify()`` to check that every
    path is one logical unit (``ValueError`` otherwise), and raises
    ``ValueError`` for a node that is not a multipath node.
    """

    def __init__(
        self, node: str | os.PathLike[str], timeout: float = 30.0, *, read_only: bool = False
    ) -> None:
        if not isinstance(node, (str, os.PathLike)):
            raise TypeError(f"node must be a str or os.PathLike, not {type(node).__name__}")
        self._node = os.fspath(node)
        self._timeout = _validate.timeout_ms(timeout) / 1000
        self._read_only = _validate.flag(read_only, "read_only")
        self._name = _multipath_name(self._node)
        self._lock = threading.RLock()
        self._closed = False
        self._members, self._devices = _open_paths(
            self._node, self._name, self._timeout, self._read_only
        )

    # -- housekeeping ------------------------------------------------------

    @property
    def path(self) -> str:
        """The multipath node as given."""
        return self._node

    @property
    def read_only(self) -> bool:
        """Opened with ``read_only=True``: PR IN only, every PR OUT raises
        ``ValueError`` before any I/O."""
        return self._read_only

    @property
    def timeout(self) -> float:
        """Default command timeout in seconds, each path's."""
        return self._timeout

    @property
    def closed(self) -> bool:
        """True after ``close()``."""
        return self._closed

    def close(self) -> None:
        """Close every path's device."""
        with self._lock:
            self._closed = True
            for device in self._devices.values():
                device.close()

    def __enter__(self) -> MultipathDevice:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._devices)} paths"
        return f"<pr_native.MultipathDevice {self._node!r} {state}>"

    def paths(self) -> tuple[Path, ...]:
        """Every path as device-mapper reports it now (state, group)."""
        with self._lock:
            self._check_open()
            return _current(self._name, self._members)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"I/O on closed device {self._node!r}")

    def _usable(self, current: tuple[Path, ...]) -> list[Path]:
        """Paths a PR OUT may go to: active in device-mapper, and verified."""
        return [p for p in current if p.state == "A" and p.dev in self._devices]

    # -- PERSISTENT RESERVE IN ---------------------------------------------

    def _first_answer(self, call: Callable[[Device], _T]) -> _T:
        """``call`` on the first path that answers: active paths first, then
        failed ones; a path error moves on, a SCSI status is the answer."""
        with self._lock:
            self._check_open()
            current = _current(self._name, self._members)
            order = sorted(
                (p for p in current if p.dev in self._devices), key=lambda p: p.state != "A"
            )
            errors: list[BaseException] = []
            for path in order:
                try:
                    return call(self._devices[path.dev])
                except _PATH_ERRORS as error:
                    errors.append(error)
            if errors:
                raise errors[-1]
            raise OSError(errno.ENODEV, "no path of the multipath device is open", self._node)

    def read_keys(self, *, timeout: float | None = None) -> Registrations:
        """READ KEYS through the first path that answers."""
        return self._first_answer(lambda d: d.read_keys(timeout=timeout))

    def read_reservation(self, *, timeout: float | None = None) -> ReservationStatus:
        """READ RESERVATION through the first path that answers."""
        return self._first_answer(lambda d: d.read_reservation(timeout=timeout))

    def report_capabilities(self, *, timeout: float | None = None) -> Capabilities:
        """REPORT CAPABILITIES through the first path that answers."""
        return self._first_answer(lambda d: d.report_capabilities(timeout=timeout))

    def read_full_status(self, *, timeout: float | None = None) -> MultipathFullStatus:
        """READ FULL STATUS through the first path that answers, and per path
        whether its I_T nexus is registered (TransportID and target port matched to each path)."""
        with self._lock:
            status = self._first_answer(lambda d: d.read_full_status(timeout=timeout))
            table = _match_registrations(status, _current(self._name, self._members))
            return MultipathFullStatus(status.generation, status.registrants, table)

    def test_unit_ready(self, *, timeout: float | None = None) -> None:
        """TEST UNIT READY through the first path that answers (a unit
        attention is that path's I_T nexus's)."""
        self._first_answer(lambda d: d.test_unit_ready(timeout=timeout))

    def _read_with_response(self, action: PRInAction) -> tuple[Any, bytes]:
        """The command line's ``--hex``: a PR IN and its bytes, from one path."""
        return self._first_answer(lambda d: d._read_with_response(action))

    # -- PERSISTENT RESERVE OUT --------------------------------------------

    def _refuse_read_only(self, command: str) -> None:
        if self._read_only:
            raise ValueError(
                f"{command}: the device was opened with read_only=True; nothing was sent"
            )

    def _on_every_path(self, command: str, send: Callable[[Device], None]) -> MultipathRegistration:
        """One PR OUT on every usable path, each sent once; the others skipped."""
        self._refuse_read_only(command)
        with self._lock:
            self._check_open()
            current = _current(self._name, self._members)
            targets = self._usable(current)
            skipped = [p for p in current if p not in targets]
            if not targets:
                raise OSError(
                    errno.EIO,
                    f"{command}: no active path (device-mapper reports every path failed "
                    "or none answered INQUIRY); nothing was sent",
                    self._node,
                )
            succeeded: list[Path] = []
            failed: list[tuple[Path, BaseException]] = []
            for index, path in enumerate(targets):
                try:
                    send(self._devices[path.dev])
                except (PRError, OSError, ValueError) as error:
                    failed.append((path, error))
                except BaseException as interruption:
                    # Not sent on this path (Device turns an interruption of a
                    # command in flight into OutcomeUnknown): stop here.
                    if not succeeded and not failed:
                        raise
                    failed.append((path, interruption))
                    skipped.extend(targets[index + 1 :])
                    raise _partial(command, self._node, succeeded, failed, skipped) from (
                        interruption
                    )
                else:
                    succeeded.append(path)
            if not failed:
                return MultipathRegistration(tuple(succeeded), tuple(skipped))
            errors = [error for _, error in failed]
            alike = len({type(e) for e in errors}) == 1
            if not succeeded and alike and not isinstance(errors[0], OutcomeUnknown):
                raise errors[0]  # refused alike on every path: nothing changed
            raise _partial(command, self._node, succeeded, failed, skipped) from errors[0]

    def register(
        self,
        new_key: int | bytes,
        key: int | bytes = 0,
        aptpl: bool = False,
        all_target_ports: bool = False,
        transport_ids: tuple[TransportID, ...] | list[TransportID] = (),
        *,
        timeout: float | None = None,
    ) -> MultipathRegistration:
        """REGISTER on every active path (``Device.register``); SPEC_I_PT
        (``transport_ids``) is refused before any I/O: it would register the
        other ports once per path."""
        command = "PERSISTENT RESERVE OUT (REGISTER)"
        if transport_ids:
            raise UnsupportedOperation(
                "REGISTER with transport_ids (SPEC_I_PT) through a multipath device would "
                "send them on every path; nothing was sent",
                device=self._node,
                command=command,
            )
        return self._on_every_path(
            command,
            lambda d: d.register(new_key, key, aptpl, all_target_ports, timeout=timeout),
        )

    def register_and_ignore(
        self,
        new_key: int | bytes,
        aptpl: bool = False,
        all_target_ports: bool = False,
        *,
        timeout: float | None = None,
    ) -> MultipathRegistration:
        """REGISTER AND IGNORE EXISTING KEY on every active path."""
        return self._on_every_path(
            "PERSISTENT RESERVE OUT (REGISTER AND IGNORE EXISTING KEY)",
            lambda d: d.register_and_ignore(new_key, aptpl, all_target_ports, timeout=timeout),
        )

    def unregister(
        self, key: int | bytes, *, timeout: float | None = None
    ) -> MultipathRegistration:
        """REGISTER with a new key of 0 on every active path."""
        return self._on_every_path(
            "PERSISTENT RESERVE OUT (REGISTER)", lambda d: d.unregister(key, timeout=timeout)
        )

    def _through_one_path(
        self, command: str, key: int | bytes, send: Callable[[Device], None]
    ) -> None:
        """One PR OUT down one active path whose I_T nexus is registered with
        ``key``, the reservation holder's first; with none known, the first
        active path (the device then answers)."""
        self._refuse_read_only(command)
        wanted = _validate.key(key, "key")
        with self._lock:
            self._check_open()
            table = self.read_full_status().paths
            usable = self._usable(tuple(r.path for r in table))
            if not usable:
                raise OSError(errno.EIO, f"{command}: no active path; nothing was sent", self._node)
            ranked = sorted(
                (r for r in table if r.path in usable),
                key=lambda r: (
                    not (r.registered and r.key == wanted and r.holder),
                    not (r.registered and r.key == wanted),
                    r.registered is False,
                ),
            )
            send(self._devices[ranked[0].path.dev])

    def reserve(
        self, key: int | bytes, type: ReservationType, *, timeout: float | None = None
    ) -> None:
        """RESERVE through one registered path."""
        self._through_one_path(
            "PERSISTENT RESERVE OUT (RESERVE)",
            key,
            lambda d: d.reserve(key, type, timeout=timeout),
        )

    def release(
        self, key: int | bytes, type: ReservationType, *, timeout: float | None = None
    ) -> None:
        """RELEASE through the holder's path (a registered non-holder's RELEASE
        succeeds and releases nothing)."""
        self._through_one_path(
            "PERSISTENT RESERVE OUT (RELEASE)",
            key,
            lambda d: d.release(key, type, timeout=timeout),
        )

    def clear(self, key: int | bytes, *, timeout: float | None = None) -> None:
        """CLEAR through one registered path: every registration of the logical
        unit goes, every path's included."""
        self._through_one_path(
            "PERSISTENT RESERVE OUT (CLEAR)", key, lambda d: d.clear(key, timeout=timeout)
        )

    def preempt(
        self,
        key: int | bytes,
        preempt_key: int | bytes,
        type: ReservationType,
        *,
        timeout: float | None = None,
    ) -> None:
        """PREEMPT through one registered path."""
        self._through_one_path(
            "PERSISTENT RESERVE OUT (PREEMPT)",
            key,
            lambda d: d.preempt(key, preempt_key, type, timeout=timeout),
        )

    def preempt_and_abort(
        self,
        key: int | bytes,
        preempt_key: int | bytes,
        type: ReservationType,
        *,
        timeout: float | None = None,
    ) -> None:
        """PREEMPT AND ABORT through one registered path."""
        self._through_one_path(
            "PERSISTENT RESERVE OUT (PREEMPT AND ABORT)",
            key,
            lambda d: d.preempt_and_abort(key, preempt_key, type, timeout=timeout),
        )

    def register_and_move(
        self,
        key: int | bytes,
        new_key: int | bytes,
        relative_target_port: int,
        transport_id: TransportID,
        unregister: bool = False,
        aptpl: bool = False,
        *,
        type: ReservationType | None = None,
        timeout: float | None = None,
    ) -> None:
        """REGISTER AND MOVE through the holder's path."""
        self._through_one_path(
            "PERSISTENT RESERVE OUT (REGISTER AND MOVE)",
            key,
            lambda d: d.register_and_move(
                key,
                new_key,
                relative_target_port,
                transport_id,
                unregister,
                aptpl,
                type=type,
                timeout=timeout,
            ),
        )

    def replace_lost_reservation(
        self, key: int | bytes, type: ReservationType, *, timeout: float | None = None
    ) -> None:
        """REPLACE LOST RESERVATION through one registered path."""
        self._through_one_path(
            "PERSISTENT RESERVE OUT (REPLACE LOST RESERVATION)",
            key,
            lambda d: d.replace_lost_reservation(key, type, timeout=timeout),
        )


__all__ = [
    "DM_CONTROL",
    "SYSFS_ROOT",
    "MultipathDevice",
    "MultipathFullStatus",
    "MultipathRegistration",
    "Path",
    "PathRegistration",
    "is_multipath",
    "paths",
]
