"""MultipathDevice against LIO: dm-multipath built with dmsetup over the
initiators' /dev/sdX of the one LU (no multipathd, no udev), each path its
own I_T nexus.

Registrations are checked with sg_persist through every path's /dev/sgN,
independently of pr_native's own per-path matching.  The last initiator is
never a path: it stands for another host.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import pr_native as pr
from pr_native import multipath

from . import sg_persist
from .conftest import KEY_A, KEY_B, Initiator
from .scsi import access

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "dmsetup"], capture_output=True, check=False).returncode != 0,
    reason="no dmsetup (Debian package dmsetup)",
)


def _dmsetup(*args: str) -> str:
    done = subprocess.run(
        ["dmsetup", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"dmsetup {' '.join(args)}: {done.stderr}"
    return done.stdout


class Multipath:
    """A dm-multipath node over the first ``len(paths)`` initiators."""

    def __init__(self, name: str, paths: list[Initiator]) -> None:
        self.name = name
        self.node = f"/dev/mapper/{name}"
        self.paths = paths

    def dev(self, initiator: Initiator) -> str:
        return Path(f"/sys/block/{Path(initiator.sd).name}/dev").read_text().strip()


@pytest.fixture
def make_multipath(
    initiators: list[Initiator], devices: list[pr.Device], lab_info: dict[str, object]
) -> Iterator[Callable[[int], Multipath]]:
    """``make_multipath(n)``: one round-robin group over n initiators'
    /dev/sdX, uuid mpath-..., removed at the end.  Skips when the lab has
    fewer than n + 1 initiators."""
    created: list[str] = []

    def make(count: int) -> Multipath:
        if len(initiators) < count + 1:
            pytest.skip(f"needs {count + 1} initiators (the lab run 'loop-multipath')")
        subprocess.run(["modprobe", "-a", "dm_multipath", "dm_round_robin"], check=True)
        paths = initiators[:count]
        sectors = Path(f"/sys/block/{Path(paths[0].sd).name}/size").read_text().strip()
        table = f"0 {sectors} multipath 0 0 1 1 round-robin 0 {count} 1 " + " ".join(
            f"{i.sd} 1" for i in paths
        )
        name = f"prlab-mp{count}"
        _dmsetup(
            "create", name, "-u", f"mpath-prlab-{count}-{lab_info['serial']}", "--table", table
        )
        created.append(name)
        _dmsetup("mknodes", name)  # no udev in the guest
        return Multipath(name, paths)

    yield make
    for name in created:
        _dmsetup("remove", "--retry", name)
        _dmsetup("mknodes")  # drops /dev/mapper/NAME


def _registered(sg: str) -> dict[str, int]:
    """READ FULL STATUS as sg_persist prints it through ``sg``: registered
    initiator port name -> key (naa. names for SAS addresses)."""
    found: dict[str, int] = {}
    for entry in sg_persist.read_full_status(sg):
        initiator = entry["initiator"]
        if isinstance(initiator, int):
            name = f"naa.{initiator:016x}"
        else:
            name = str(initiator).split(",i,")[0]
        key = entry["key"]
        assert isinstance(key, int)
        found[name] = key
    return found


def _check_registered(mp: Multipath, expected: dict[str, int | None]) -> None:
    """Through every path, sg_persist sees exactly ``expected`` (initiator
    name -> key, None: not registered) for the paths' initiator ports."""
    for path in mp.paths:
        seen = _registered(path.sg)
        assert {n: seen.get(n) for n in expected} == expected, f"through {path.sg}"


@pytest.mark.parametrize("count", [2, 4])
def test_register_through_the_node_registers_every_path(
    make_multipath: Callable[[int], Multipath], count: int
) -> None:
    mp = make_multipath(count)
    found = multipath.paths(mp.node)
    assert [p.block_device for p in found] == [i.sd for i in mp.paths]
    assert [p.sg_node for p in found] == [i.sg for i in mp.paths]
    assert [p.dev for p in found] == [mp.dev(i) for i in mp.paths]
    assert {(p.state, p.group) for p in found} == {("A", 1)}
    assert len({p.lu_name for p in found}) == 1 and found[0].lu_name
    # the initiator port sysfs (or configfs, for tcm_loop) names is the lab's
    assert [str(p.initiator_port) for p in found] == [
        f"sas,{i.name[4:]}" if i.name.startswith("naa.") else i.name for i in mp.paths
    ]
    with pr.MultipathDevice(mp.node, timeout=20.0) as device:
        outcome = device.register(KEY_A)
        assert [p.block_device for p in outcome.succeeded] == [i.sd for i in mp.paths]
        assert outcome.skipped == ()
        _check_registered(mp, {i.name: KEY_A for i in mp.paths})
        status = device.read_full_status()
        assert len(status.registrants) == count
        assert [(r.registered, r.key) for r in status.paths] == [(True, KEY_A)] * count


def test_io_through_every_path_under_a_registrants_only_reservation(
    make_multipath: Callable[[int], Multipath], initiators: list[Initiator]
) -> None:
    mp = make_multipath(4)
    with pr.MultipathDevice(mp.node, timeout=20.0) as device:
        device.register(KEY_A)
        device.reserve(KEY_A, pr.ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
        held = device.read_reservation().reservation
        assert held is not None and held.key == KEY_A
    other = initiators[-1]
    for initiator in [*mp.paths, other]:
        with pr.Device(initiator.sg, timeout=20.0) as dev:
            writes = initiator is not other
            assert access(dev, "write") is writes, initiator.label
            assert access(dev, "read"), initiator.label


def test_release_goes_down_the_holder_path(make_multipath: Callable[[int], Multipath]) -> None:
    """WRITE EXCLUSIVE has one holder nexus; a RELEASE from another registered
    path would succeed and release nothing."""
    mp = make_multipath(4)
    with pr.MultipathDevice(mp.node, timeout=20.0) as device:
        device.register(KEY_A)
        device.reserve(KEY_A, pr.ReservationType.WRITE_EXCLUSIVE)
        holders = [r.path.block_device for r in device.read_full_status().paths if r.holder]
        assert len(holders) == 1
        device.release(KEY_A, pr.ReservationType.WRITE_EXCLUSIVE)
        assert device.read_reservation().reservation is None


def test_a_failed_path_is_reported_and_skipped(make_multipath: Callable[[int], Multipath]) -> None:
    mp = make_multipath(4)
    failed = mp.paths[1]
    _dmsetup("message", mp.name, "0", "fail_path", mp.dev(failed))
    states = {p.block_device: p.state for p in multipath.paths(mp.node)}
    assert states == {i.sd: "F" if i is failed else "A" for i in mp.paths}
    with pr.MultipathDevice(mp.node, timeout=20.0) as device:
        outcome = device.register(KEY_A)
        assert [p.block_device for p in outcome.skipped] == [failed.sd]
        assert failed.sd not in [p.block_device for p in outcome.succeeded]
        _check_registered(mp, {i.name: None if i is failed else KEY_A for i in mp.paths})
        table = {r.path.block_device: r.registered for r in device.read_full_status().paths}
        assert table == {i.sd: i is not failed for i in mp.paths}


def test_unregister_removes_every_path(
    make_multipath: Callable[[int], Multipath], initiators: list[Initiator]
) -> None:
    mp = make_multipath(4)
    with pr.MultipathDevice(mp.node, timeout=20.0) as device:
        device.register(KEY_A)
        device.unregister(KEY_A)
    _check_registered(mp, {i.name: None for i in mp.paths})
    assert sg_persist.read_keys(initiators[-1].sg).keys == ()


def test_a_register_one_path_refuses_reports_which_paths_succeeded(
    make_multipath: Callable[[int], Multipath],
) -> None:
    """One path already registered with another key: REGISTER with key 0
    gets RESERVATION CONFLICT there; the others are registered, and stay."""
    mp = make_multipath(4)
    refusing = mp.paths[-1]
    with pr.Device(refusing.sg, timeout=20.0) as dev:
        dev.register(KEY_B)
    with (
        pr.MultipathDevice(mp.node, timeout=20.0) as device,
        pytest.raises(pr.PartialRegistration) as info,
    ):
        device.register(KEY_A)
    error = info.value
    assert [p.block_device for p in error.succeeded] == [i.sd for i in mp.paths[:-1]]
    ((path, cause),) = error.failed
    assert path.block_device == refusing.sd and isinstance(cause, pr.ReservationConflict)
    assert error.skipped == ()
    _check_registered(mp, {i.name: KEY_B if i is refusing else KEY_A for i in mp.paths})


def test_device_still_refuses_pr_out_on_the_node(
    make_multipath: Callable[[int], Multipath], initiators: list[Initiator]
) -> None:
    mp = make_multipath(2)
    with pr.Device(mp.node, timeout=20.0) as dev:
        assert dev.read_keys().keys == ()  # PR IN down one path is fine
        with pytest.raises(pr.UnsupportedOperation, match="MultipathDevice"):
            dev.register(KEY_A)
    assert sg_persist.read_keys(initiators[-1].sg).keys == ()


def test_command_line_on_the_node(
    make_multipath: Callable[[int], Multipath], initiators: list[Initiator]
) -> None:
    """pr-native takes the node where it takes a device, and shows each
    path's registration after a PR OUT there (as `pr-native paths` does)."""
    mp = make_multipath(4)
    done = subprocess.run(
        [sys.executable, "-m", "pr_native", "register", "--new-key", "a1", mp.node, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["result"]
    assert [(p["block_device"], p["registered"], p["key"]) for p in result["paths"]] == [
        (i.sd, True, "0x00000000000000a1") for i in mp.paths
    ]
    assert sg_persist.read_keys(initiators[-1].sg).keys == (KEY_A,) * 4
