"""pr_native.multipath against a fake sysfs tree and the Device seam: the
paths of a dm-multipath node, the device-mapper status line and ioctl, and
which path each command goes to."""

from __future__ import annotations

import errno
import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from pr_native import (
    FCPTransportID,
    ISCSITransportID,
    OutcomeUnknown,
    PartialRegistration,
    ReservationConflict,
    ReservationType,
    SASTransportID,
    TransportID,
    UnitAttention,
    UnsupportedOperation,
    cli,
    multipath,
)
from pr_native._native import lib
from pr_native.device import Device
from pr_native.multipath import MultipathDevice, MultipathFullStatus, MultipathRegistration

from .fake_device import FakeLib, data, fail, good

KEY = 0xA1
OTHER = 0xB2
LU = "naa.6001405ab00000000010000000000000"
INITIATORS = (
    "iqn.2003-01.org.linux-iscsi.prlab:init-a",
    "iqn.2003-01.org.linux-iscsi.prlab:init-b",
)
CONFLICT = fail(lib.PR_ERR_STATUS, status=0x18)
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="device-mapper is Linux's")
UA = fail(
    lib.PR_ERR_STATUS, status=0x02, sense=bytes.fromhex("70 00 06 00 00 00 00 0a 00 00 00 00 2a 05")
)


# -- dm-mpath.c's status line -----------------------------------------------

STATUS_CASES = [
    # round-robin, queue_io set, no group current before the first I/O
    (
        "2 1 0 0 1 1 E 0 2 0 8:0 A 0 8:16 A 0 ",
        (("8:0", "A", 0, 1, "E"), ("8:16", "A", 0, 1, "E")),
    ),
    # after `dmsetup message NAME 0 fail_path 8:16`
    (
        "2 0 0 0 1 1 A 0 2 0 8:0 A 0 8:16 F 1 ",
        (("8:0", "A", 0, 1, "A"), ("8:16", "F", 1, 1, "A")),
    ),
    # two groups, service-time: 2 selector info args per path (in-flight size,
    # relative throughput); the second group bypassed
    (
        "2 0 0 0 2 2 D 0 1 2 8:0 A 0 0 1 A 0 1 2 8:16 A 3 0 1 ",
        (("8:0", "A", 0, 1, "D"), ("8:16", "A", 3, 2, "A")),
    ),
    # queue-length: 1 selector info arg per path
    (
        "2 0 5 0 1 1 A 0 3 1 65:16 A 0 2 65:32 F 2 0 8:48 A 0 0",
        (("65:16", "A", 0, 1, "A"), ("65:32", "F", 2, 1, "A"), ("8:48", "A", 0, 1, "A")),
    ),
    # a group-level selector status with arguments
    ("2 0 0 0 1 1 A 2 x y 1 0 8:0 A 0 ", (("8:0", "A", 0, 1, "A"),)),
    ("2 0 0 0 0 0 ", ()),
]


@pytest.mark.parametrize(("line", "expected"), STATUS_CASES)
def test_status_line(line: str, expected: tuple[Any, ...]) -> None:
    assert multipath._parse_status(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "",
        "2 1 0 0 1 1 E 0 2 0 8:0 A 0",  # a path missing
        "2 1 0 0 1 1 E 0 1 0 8:0 X 0",  # state neither A nor F
        "2 1 0 0 1 1 Q 0 1 0 8:0 A 0",  # group state
        "2 1 0 0 1 1 E 0 1 0 sda A 0",  # not major:minor
        "2 1 0 0 1 1 E 0 1 0 8:0 A 0 extra",
        "x 1 0",
    ],
)
def test_malformed_status_line(line: str) -> None:
    with pytest.raises(ValueError, match="multipath status"):
        multipath._parse_status(line)


# -- DM_TABLE_STATUS ---------------------------------------------------------


def test_status_request_layout() -> None:
    buffer = multipath._status_request("254:3", 16384)
    assert len(buffer) == 16384
    version, data_size, data_start, count, flags = struct.unpack_from("=12sIII4xI", buffer)
    assert struct.unpack("=3I", version) == (4, 0, 0)
    assert (data_size, data_start, count, flags) == (16384, 312, 0, 0)
    assert struct.unpack_from("=Q", buffer, 40)[0] == 0xFE03  # huge_encode_dev(254:3)
    assert buffer[48:312] == bytes(264)  # no name, no uuid: found by number
    big = multipath._status_request("259:65536", 512)
    assert struct.unpack_from("=Q", big, 40)[0] == (259 << 8) | (65536 << 12)
    assert multipath._DM_TABLE_STATUS == 0xC138FD0C


def _reply(targets: list[tuple[str, str]], flags: int = 1 << 5) -> bytearray:
    """A DM_TABLE_STATUS answer laid out as drivers/md/dm-ioctl.c
    retrieve_status() lays it out."""
    buffer = bytearray(4096)
    offset = used = 312
    for i, (kind, text) in enumerate(targets):
        raw = text.encode() + b"\0"
        end = offset + 40 + len(raw)
        used = end
        following = (end + 7) // 8 * 8
        struct.pack_into("=QQiI16s", buffer, offset, 0, 32768, 0, following - 312, kind.encode())
        buffer[offset + 40 : end] = raw
        offset = following
        del i
    struct.pack_into("=3IIIIiI", buffer, 0, 4, 47, 0, used, 312, len(targets), 0, flags)
    return buffer


def test_status_reply() -> None:
    line = "2 0 0 0 1 1 A 0 2 0 8:0 A 0 8:16 F 1 "
    assert multipath._status_reply(_reply([("multipath", line)])) == [("multipath", line)]
    two = _reply([("linear", "8:0 0"), ("striped", "2 128 8:16 0 8:32 0")])
    assert multipath._status_reply(two) == [("linear", "8:0 0"), ("striped", "2 128 8:16 0 8:32 0")]
    assert multipath._status_reply(_reply([("multipath", line)], flags=(1 << 5) | (1 << 8))) is None
    assert multipath._status_reply(_reply([], flags=0)) == []  # no live table


def test_dm_ioctl_layout_matches_the_kernel_header(
    need_tool: Callable[[str], str], tmp_path: Path
) -> None:
    """struct dm_ioctl and dm_target_spec as <linux/dm-ioctl.h> lays them out."""
    if not os.path.exists("/usr/include/linux/dm-ioctl.h"):
        pytest.skip("no <linux/dm-ioctl.h> (linux-libc-dev)")
    cc = need_tool("gcc")
    source = tmp_path / "layout.c"
    source.write_text(
        "#include <stdio.h>\n#include <stddef.h>\n#include <sys/ioctl.h>\n"
        "#include <linux/dm-ioctl.h>\n"
        "int main(void) {\n"
        '  printf("%zu %zu %zu %zu %zu %zu %zu %zu %lu %d %d %d\\n",\n'
        "    sizeof(struct dm_ioctl), offsetof(struct dm_ioctl, data_size),\n"
        "    offsetof(struct dm_ioctl, flags), offsetof(struct dm_ioctl, dev),\n"
        "    offsetof(struct dm_ioctl, name), offsetof(struct dm_ioctl, uuid),\n"
        "    sizeof(struct dm_target_spec), offsetof(struct dm_target_spec, target_type),\n"
        "    (unsigned long)DM_TABLE_STATUS, DM_ACTIVE_PRESENT_FLAG, DM_BUFFER_FULL_FLAG,\n"
        "    DM_VERSION_MAJOR);\n  return 0;\n}\n"
    )
    binary = tmp_path / "layout"
    subprocess.run([cc, str(source), "-o", str(binary)], check=True, timeout=60)
    numbers = [
        int(n) for n in subprocess.run([str(binary)], capture_output=True, text=True).stdout.split()
    ]
    assert numbers == [
        multipath._DM_IOCTL.size,
        12,
        28,
        40,
        48,
        176,
        multipath._DM_TARGET_SPEC.size,
        24,
        multipath._DM_TABLE_STATUS,
        multipath._DM_ACTIVE_PRESENT_FLAG,
        multipath._DM_BUFFER_FULL_FLAG,
        multipath._DM_VERSION[0],
    ]


# -- a fake sysfs -------------------------------------------------------------


class FakeSysfs:
    """/sys as the paths of a multipath node show it, under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "block").mkdir(parents=True)

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")

    def disk(self, name: str, dev: str, device_dir: str, sg: str | None) -> None:
        self.write(f"block/{name}/dev", dev)
        target = self.root / device_dir
        target.mkdir(parents=True)
        if sg is not None:
            (target / "scsi_generic" / sg).mkdir(parents=True)
        (self.root / "block" / name / "device").symlink_to(target)

    def iscsi(self, name: str, dev: str, host: int, session: int, initiator: str, sg: str) -> None:
        self.disk(
            name,
            dev,
            f"devices/platform/host{host}/session{session}/target{host}:0:0/{host}:0:0:0",
            sg,
        )
        self.write(f"class/iscsi_session/session{session}/initiatorname", initiator)

    def dm(self, number: int, name: str, uuid: str, slaves: list[str]) -> None:
        self.write(f"block/dm-{number}/dev", f"254:{number}")
        self.write(f"block/dm-{number}/dm/name", name)
        self.write(f"block/dm-{number}/dm/uuid", uuid)
        (self.root / "block" / f"dm-{number}" / "slaves").mkdir()
        for disk in slaves:
            (self.root / "block" / f"dm-{number}" / "slaves" / disk).symlink_to(
                self.root / "block" / disk
            )


@pytest.fixture
def sysfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSysfs:
    monkeypatch.setattr(multipath, "SYSFS_ROOT", str(tmp_path / "sys"))
    return FakeSysfs(tmp_path / "sys")


class Lab:
    """Two iSCSI paths of one LU under /dev/mapper/mpatha: the status line
    and what each path's INQUIRY answers are set by the test."""

    def __init__(self, sysfs: FakeSysfs, monkeypatch: pytest.MonkeyPatch) -> None:
        sysfs.iscsi("sda", "8:0", 2, 1, INITIATORS[0], "sg0")
        sysfs.iscsi("sdb", "8:16", 3, 2, INITIATORS[1], "sg1")
        sysfs.dm(0, "mpatha", "mpath-36001405ab00000000010000000000000", ["sda", "sdb"])
        self.status = "2 0 0 0 1 1 A 0 2 0 8:0 A 0 8:16 A 0 "
        self.identity: dict[str, Any] = {
            "/dev/sg0": SimpleNamespace(lu_name=LU, relative_target_port=1),
            "/dev/sg1": SimpleNamespace(lu_name=LU, relative_target_port=1),
        }
        monkeypatch.setattr(multipath, "_table_status", self.table_status)
        monkeypatch.setattr(Device, "identify", lambda d, **_: self.identify(d))

    def table_status(self, dev: str) -> list[tuple[str, str]]:
        assert dev == "254:0"
        return [("multipath", self.status)]

    def identify(self, device: Device) -> Any:
        answer = self.identity[device.path]
        if isinstance(answer, BaseException):
            raise answer
        return answer


@pytest.fixture
def lab(sysfs: FakeSysfs, monkeypatch: pytest.MonkeyPatch, fake_lib: FakeLib) -> Lab:
    return Lab(sysfs, monkeypatch)


def sent_to(fake_lib: FakeLib, device: MultipathDevice) -> list[tuple[str, str]]:
    """(call, path's block device) for every command the paths were sent."""
    by_handle = {d._device: device._members[dev].block_device for dev, d in device._devices.items()}
    return [(c.name, by_handle[c.args[0]]) for c in fake_lib.calls]


def full_status(*registrants: tuple[int, bool, int, str]) -> bytes:
    """READ FULL STATUS: (key, holder, relative target port, TransportID text)."""
    body = b""
    for key, holder, port, text in registrants:
        raw = TransportID.parse(text).to_bytes()
        body += key.to_bytes(8, "big") + bytes(4) + bytes([1 if holder else 0, 5 if holder else 0])
        body += bytes(4) + port.to_bytes(2, "big") + len(raw).to_bytes(4, "big") + raw
    return (7).to_bytes(4, "big") + len(body).to_bytes(4, "big") + body


# -- the paths ----------------------------------------------------------------


def test_paths_of_an_iscsi_multipath_node(lab: Lab) -> None:
    found = multipath.paths("/dev/mapper/mpatha")
    assert [(p.block_device, p.sg_node, p.dev, p.state, p.group, p.group_state) for p in found] == [
        ("/dev/sda", "/dev/sg0", "8:0", "A", 1, "A"),
        ("/dev/sdb", "/dev/sg1", "8:16", "A", 1, "A"),
    ]
    assert [p.initiator_port for p in found] == [ISCSITransportID(n) for n in INITIATORS]
    assert {(p.lu_name, p.relative_target_port) for p in found} == {(LU, 1)}
    assert multipath.paths("/dev/dm-0") == found


def test_a_failed_path_is_reported_f(lab: Lab) -> None:
    lab.status = "2 0 0 0 1 1 A 0 2 0 8:0 A 0 8:16 F 1 "
    assert [(p.dev, p.state, p.fail_count) for p in multipath.paths("/dev/dm-0")] == [
        ("8:0", "A", 0),
        ("8:16", "F", 1),
    ]


def test_is_multipath(sysfs: FakeSysfs, lab: Lab) -> None:
    sysfs.write("block/dm-1/dm/name", "vg-root")
    sysfs.write("block/dm-1/dm/uuid", "LVM-abcdef")
    assert multipath.is_multipath("/dev/mapper/mpatha")
    assert multipath.is_multipath("/dev/dm-0")
    assert not multipath.is_multipath("/dev/dm-1")
    assert not multipath.is_multipath("/dev/mapper/vg-root")
    assert not multipath.is_multipath("/dev/sg3")
    with pytest.raises(ValueError, match="not a device-mapper multipath node"):
        multipath.paths("/dev/dm-1")


def test_paths_of_different_logical_units_are_refused(lab: Lab, fake_lib: FakeLib) -> None:
    lab.identity["/dev/sg1"] = SimpleNamespace(
        lu_name="naa.600140500000000000000000000000ff", relative_target_port=1
    )
    with pytest.raises(ValueError, match="not one logical unit"):
        multipath.paths("/dev/dm-0")
    lab.identity["/dev/sg1"] = SimpleNamespace(lu_name=None, relative_target_port=1)
    with pytest.raises(ValueError, match="no logical unit name"):
        MultipathDevice("/dev/dm-0")
    assert fake_lib.calls == []


def test_a_path_that_does_not_answer_is_never_sent_a_pr_out(lab: Lab, fake_lib: FakeLib) -> None:
    lab.identity["/dev/sg1"] = OSError(errno.ENODEV, "gone")
    with MultipathDevice("/dev/dm-0") as device:
        (first, second) = device.paths()
        assert (first.lu_name, second.lu_name) == (LU, None)
        fake_lib.replies.append(good())
        outcome = device.register(KEY)
    assert outcome == MultipathRegistration((first,), (second,))
    assert [c.name for c in fake_lib.calls] == ["pr_out"]


def test_initiator_ports_of_other_fabrics(sysfs: FakeSysfs) -> None:
    # tcm_loop: the nexus of the loopback target port at the disk's H:C:T
    sysfs.disk(
        "sdc", "8:32", "devices/tcm_loop_0/tcm_loop_adapter_1/host5/target5:0:1/5:0:1:0", "sg2"
    )
    sysfs.write("class/scsi_host/host5/proc_name", "tcm_loopback")
    loop = "kernel/config/target/loopback"
    sysfs.write(f"{loop}/naa.5001405000000001/tpgt_1/address", "4:0:1")
    sysfs.write(f"{loop}/naa.5001405000000001/tpgt_1/nexus", "naa.5001405100000001")
    sysfs.write(f"{loop}/naa.5001405000000002/tpgt_1/address", "5:0:1")
    sysfs.write(f"{loop}/naa.5001405000000002/tpgt_1/nexus", "naa.5001405100000002")
    assert multipath._initiator_port("/dev/sdc") == SASTransportID(0x5001405100000002)
    # Fibre Channel and SAS HBAs
    sysfs.disk(
        "sdd", "8:48", "devices/pci0000:00/0000:00:03.0/host6/rport-6:0-0/target6:0:0/6:0:0:1", None
    )
    sysfs.write("class/fc_host/host6/port_name", "0x21000024ff000001")
    assert multipath._initiator_port("/dev/sdd") == FCPTransportID(0x21000024FF000001)
    sysfs.disk(
        "sde",
        "8:64",
        "devices/pci0000:00/0000:00:04.0/host7/port-7:0/end_device-7:0/target7:0:0/7:0:0:0",
        None,
    )
    sysfs.write("class/scsi_host/host7/host_sas_address", "0x500605b000000001")
    assert multipath._initiator_port("/dev/sde") == SASTransportID(0x500605B000000001)
    # iSCSI with the ISID shown (offload drivers), and an unknown fabric
    sysfs.iscsi("sdf", "8:80", 8, 4, INITIATORS[0], "sg4")
    sysfs.write("class/iscsi_session/session4/isid", "00023d000001")
    assert multipath._initiator_port("/dev/sdf") == ISCSITransportID(INITIATORS[0], 0x00023D000001)
    sysfs.disk("sdg", "8:96", "devices/virtual/host9/target9:0:0/9:0:0:0", None)
    assert multipath._initiator_port("/dev/sdg") is None


# -- registrations per path ----------------------------------------------------


def test_read_full_status_says_which_path_is_registered(lab: Lab, fake_lib: FakeLib) -> None:
    with MultipathDevice("/dev/mapper/mpatha") as device:
        fake_lib.replies.append(
            data(full_status((KEY, True, 1, f"{INITIATORS[1]},i,0x00023d000002")))
        )
        status = device.read_full_status()
    assert isinstance(status, MultipathFullStatus)
    assert status.generation == 7 and len(status.registrants) == 1
    assert [(r.path.block_device, r.registered, r.key, r.holder) for r in status.paths] == [
        ("/dev/sda", False, None, None),
        ("/dev/sdb", True, KEY, True),
    ]


def test_a_registration_two_paths_could_own_tells_nothing(lab: Lab, fake_lib: FakeLib) -> None:
    # the same initiator name on both sessions, no ISID in sysfs, one target port
    (Path(multipath.SYSFS_ROOT) / "class/iscsi_session/session2/initiatorname").write_text(
        INITIATORS[0]
    )
    with MultipathDevice("/dev/dm-0") as device:
        fake_lib.replies.append(
            data(full_status((KEY, False, 1, f"{INITIATORS[0]},i,0x00023d000001")))
        )
        status = device.read_full_status()
        assert [r.registered for r in status.paths] == [None, None]
        fake_lib.replies.append(
            data(full_status((KEY, False, 2, f"{INITIATORS[0]},i,0x00023d000001")))
        )
        assert [r.registered for r in device.read_full_status().paths] == [False, False]


# -- REGISTER on every path -----------------------------------------------------


def test_register_goes_to_every_active_path_once(lab: Lab, fake_lib: FakeLib) -> None:
    with MultipathDevice("/dev/dm-0") as device:
        fake_lib.replies += [good(), good()]
        outcome = device.register(KEY)
        assert sent_to(fake_lib, device) == [("pr_out", "/dev/sda"), ("pr_out", "/dev/sdb")]
    assert [p.block_device for p in outcome.succeeded] == ["/dev/sda", "/dev/sdb"]
    assert outcome.skipped == ()
    assert {c.cdb for c in fake_lib.calls} == {bytes.fromhex("5f 00 00 00 00 00 00 00 18 00")}
    assert {c.parameters[8:16] for c in fake_lib.calls} == {KEY.to_bytes(8, "big")}


def test_a_failed_path_is_skipped_and_reported(lab: Lab, fake_lib: FakeLib) -> None:
    lab.status = "2 0 0 0 1 1 A 0 2 0 8:0 F 1 8:16 A 0 "
    with MultipathDevice("/dev/dm-0") as device:
        fake_lib.replies += [good()]
        outcome = device.register_and_ignore(KEY)
        assert sent_to(fake_lib, device) == [("pr_out", "/dev/sdb")]
    assert [(p.block_device, p.state) for p in outcome.skipped] == [("/dev/sda", "F")]
    assert fake_lib.calls[0].cdb[1] == 0x06


def test_a_register_one_path_refuses_is_partial(lab: Lab, fake_lib: FakeLib) -> None:
    with MultipathDevice("/dev/dm-0") as device:
        fake_lib.replies += [good(), CONFLICT]
        with pytest.raises(PartialRegistration) as info:
            device.register(KEY)
        assert len(fake_lib.calls) == 2  # nothing resent, nothing rolled back
    error = info.value
    assert [p.block_device for p in error.succeeded] == ["/dev/sda"]
    ((path, cause),) = error.failed
    assert path.block_device == "/dev/sdb" and isinstance(cause, ReservationConflict)
    assert error.__cause__ is cause and error.skipped == ()
    assert "succeeded on /dev/sda (8:0); failed on /dev/sdb (8:16)" in str(error)


def test_an_unknown_outcome_on_one_path_is_partial(lab: Lab, fake_lib: FakeLib) -> None:
    with MultipathDevice("/dev/dm-0") as device:
        fake_lib.replies += [fail(lib.PR_ERR_TIMEOUT, os_error=errno.ETIMEDOUT), good()]
        with pytest.raises(PartialRegistration) as info:
            device.unregister(KEY)
    ((path, cause),) = info.value.failed
    assert path.block_device == "/dev/sda" and isinstance(cause, OutcomeUnknown)
    assert [p.block_device for p in info.value.succeeded] == ["/dev/sdb"]
    assert len(fake_lib.calls) == 2 and fake_lib.resumed == 0


def test_refused_alike_on_every_path_is_the_device_answer(lab: Lab, fake_lib: FakeLib) -> None:
    with MultipathDevice("/dev/dm-0") as device:
        fake_lib.replies += [CONFLICT, CONFLICT]
        with pytest.raises(ReservationConflict):
            device.register(OTHER, key=KEY)


def test_register_refusals_before_any_io(lab: Lab, fake_lib: FakeLib) -> None:
    with MultipathDevice("/dev/dm-0") as device:
        with pytest.raises(UnsupportedOperation, match="SPEC_I_PT"):
            device.register(KEY, transport_ids=[SASTransportID(1)])
        lab.status = "2 0 0 0 1 1 A 0 2 0 8:0 F 1 8:16 F 1 "
        with pytest.raises(OSError, match="no active path"):
            device.register(KEY)
    with (
        MultipathDevice("/dev/dm-0", read_only=True) as device,
        pytest.raises(ValueError, match="read_only=True; nothing was sent"),
    ):
        device.unregister(KEY)
    assert fake_lib.calls == []


# -- the other PR OUTs: one registered path ---------------------------------------


@pytest.mark.parametrize(
    ("method", "arguments", "action"),
    [
        ("reserve", (KEY, ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY), 0x01),
        ("release", (KEY, ReservationType.WRITE_EXCLUSIVE), 0x02),
        ("clear", (KEY,), 0x03),
        ("preempt", (KEY, OTHER, ReservationType.EXCLUSIVE_ACCESS), 0x04),
        ("preempt_and_abort", (KEY, OTHER, ReservationType.EXCLUSIVE_ACCESS), 0x05),
        ("replace_lost_reservation", (KEY, ReservationType.WRITE_EXCLUSIVE), 0x08),
    ],
)
def test_one_pr_out_through_the_registered_path(
    lab: Lab, fake_lib: FakeLib, method: str, arguments: tuple[Any, ...], action: int
) -> None:
    with MultipathDevice("/dev/dm-0") as device:
        fake_lib.replies += [
            data(
                full_status(
                    (OTHER, False, 1, f"{INITIATORS[0]},i,0x00023d000001"),
                    (KEY, False, 1, f"{INITIATORS[1]},i,0x00023d000002"),
                )
            ),
            good(),
        ]
        getattr(device, method)(*arguments)
        assert sent_to(fake_lib, device) == [
            ("pr_read_full_status", "/dev/sda"),
            ("pr_out", "/dev/sdb"),
        ]
    assert fake_lib.calls[1].cdb[1] == action


def test_release_goes_to_the_holder(lab: Lab, fake_lib: FakeLib) -> None:
    with MultipathDevice("/dev/dm-0") as device:
        fake_lib.replies += [
            data(
                full_status(
                    (KEY, False, 1, f"{INITIATORS[0]},i,0x00023d000001"),
                    (KEY, True, 1, f"{INITIATORS[1]},i,0x00023d000002"),
                )
            ),
            good(),
        ]
        device.release(KEY, ReservationType.WRITE_EXCLUSIVE)
        assert sent_to(fake_lib, device)[1] == ("pr_out", "/dev/sdb")


def test_with_no_path_registered_the_first_active_path_gets_it(lab: Lab, fake_lib: FakeLib) -> None:
    lab.status = "2 0 0 0 1 1 A 0 2 0 8:0 F 1 8:16 A 0 "
    with MultipathDevice("/dev/dm-0") as device:
        fake_lib.replies += [data(full_status()), CONFLICT]
        with pytest.raises(ReservationConflict):
            device.reserve(KEY, ReservationType.WRITE_EXCLUSIVE)
        assert sent_to(fake_lib, device)[1] == ("pr_out", "/dev/sdb")
    assert len(fake_lib.calls) == 2


# -- PR IN: the first path that answers -----------------------------------------


def test_pr_in_moves_on_after_a_path_error_only(lab: Lab, fake_lib: FakeLib) -> None:
    keys = bytes.fromhex("00 00 00 03 00 00 00 08") + KEY.to_bytes(8, "big")
    with MultipathDevice("/dev/dm-0") as device:
        fake_lib.replies += [fail(lib.PR_ERR_TRANSPORT, host_status=0x01), data(keys)]
        assert device.read_keys().keys == (KEY,)
        assert [name for _, name in sent_to(fake_lib, device)] == ["/dev/sda", "/dev/sdb"]
        fake_lib.replies += [UA]
        with pytest.raises(UnitAttention):
            device.read_reservation()  # the device's answer, not a path error
        assert len(fake_lib.calls) == 3
        lab.status = "2 0 0 0 1 1 A 0 2 0 8:0 F 1 8:16 A 0 "
        fake_lib.replies += [good()]
        device.test_unit_ready()
        assert sent_to(fake_lib, device)[-1] == ("pr_test_unit_ready", "/dev/sdb")


def test_device_refusal_points_at_multipath_device(
    fake_lib: FakeLib, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pr_native.device

    monkeypatch.setattr(pr_native.device, "sys", SimpleNamespace(platform="linux"))
    monkeypatch.setattr(pr_native.device, "multipath_paths", lambda path: ("/dev/sda", "/dev/sdb"))
    with Device("/dev/dm-0") as dev, pytest.raises(UnsupportedOperation) as info:
        dev.register(KEY)
    assert "pr_native.MultipathDevice('/dev/dm-0')" in str(info.value)
    assert "/dev/sda, /dev/sdb" in str(info.value)


# -- the command line -------------------------------------------------------------


def test_cli_paths(lab: Lab, fake_lib: FakeLib, capsys: pytest.CaptureFixture[str]) -> None:
    fake_lib.replies.append(data(full_status((KEY, True, 1, f"{INITIATORS[0]},i,0x00023d000001"))))
    assert cli.main(["paths", "/dev/mapper/mpatha", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["result"]
    assert result["generation"] == 7
    first, second = result["paths"]
    assert first == {
        "block_device": "/dev/sda",
        "sg_node": "/dev/sg0",
        "dev": "8:0",
        "state": "A",
        "group": 1,
        "group_state": "A",
        "fail_count": 0,
        "lu_name": LU,
        "initiator_port": {
            "protocol": "ISCSI",
            "text": INITIATORS[0],
            "hex": ISCSITransportID(INITIATORS[0]).to_bytes().hex(),
        },
        "relative_target_port": 1,
        "registered": True,
        "key": "0x00000000000000a1",
        "holder": True,
    }
    assert (second["registered"], second["key"], second["holder"]) == (False, None, None)
    fake_lib.replies.append(data(full_status()))
    assert cli.main(["paths", "/dev/dm-0"]) == 0
    text = capsys.readouterr().out
    assert "/dev/dm-0: 2 path(s), PR generation 0x7" in text
    assert "/dev/sdb (/dev/sg1, 8:16) active, group 1 (A)" in text and "not registered" in text


def test_cli_register_on_a_multipath_node(
    lab: Lab, fake_lib: FakeLib, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_lib.replies += [good(), good(), data(full_status())]
    assert cli.main(["register", "--new-key", "a1", "/dev/mapper/mpatha", "--json"]) == 0
    assert [c.name for c in fake_lib.calls] == ["pr_out", "pr_out", "pr_read_full_status"]
    result = json.loads(capsys.readouterr().out)["result"]
    assert result["sent"] is True and [p["dev"] for p in result["paths"]] == ["8:0", "8:16"]
    fake_lib.replies += [good(), CONFLICT]
    assert cli.main(["register", "--new-key", "a1", "/dev/mapper/mpatha"]) == 99
    err = capsys.readouterr().err
    assert "succeeded on /dev/sda (8:0)" in err and "hint: each path's registration now" in err
