#!/usr/bin/env python3
"""prlab: a throw-away QEMU guest with a LIO SCSI target, for PR tests.

One call boots a Debian kernel under QEMU (TCG, no KVM needed), exports one
LIO ramdisk LU to N initiators A, B, C, ... over tcm_loop or iSCSI, runs a
shell command in the guest and powers it off.  The guest's userland is the
host's own root (read-only over virtio-9p, with a tmpfs overlay on top), so
the checkout, Python, site-packages and sg3-utils are the host's, at the
same paths.  Needs root and Debian packages (``prlab.py install``).

CLI (from the checkout; ``python -m tests.lab.prlab`` works too)::

    python tests/lab/prlab.py check [--fabric iscsi]  # can this machine run it?
    python tests/lab/prlab.py install                 # apt-get the host packages
    python tests/lab/prlab.py prepare                 # fetch kernel, build initramfs
    python tests/lab/prlab.py run [options] -- CMD... # exit status = CMD's
        --fabric loop|iscsi  -n N  --names naa|iqn  --name-len L
        --attr emulate_tas=0  --latency 500us  --backstore rd|nullb:MS[:DEPTH]
        --timeout S  --out DIR  --cwd DIR  --env K=V  --share DIR  -v

    e.g. python tests/lab/prlab.py run -- 'sg_persist -n -i -k $A_SG'
         python tests/lab/prlab.py run --fabric iscsi -- python3 -m pytest -q tests

Python API: ``run(command, LabConfig(...)) -> LabResult``,
``run_command(command, **config) -> (status, output)``, ``lab_available()``,
``require_lab()`` (pytest skip/fail), ``ensure_packages()``, ``fetch_kernel()``,
``build_initramfs()``; in the guest: ``in_guest()``, ``guest_info()``,
``set_device_attr()``, ``set_emulate_pr()``.

Environment of the command (in the guest; cwd = the checkout unless --cwd):
    X_SG, X_SD, X_NAME, X_HCTL  for each initiator X in A, B, C, ... (AA, AB
                      after Z): its /dev/sgN, /dev/sdX, initiator port name
                      (naa./iqn.), SCSI address.  Mapped through sysfs.
    PRLAB_INITIATORS  "A B C"
    PRLAB_FABRIC      loop | iscsi
    PRLAB_DEV         configfs dir of the LU (attrib/emulate_pr etc. are there)
    PRLAB_OUT         results dir: the host dir, writable, same path in the guest
    PRLAB_INFO        $PRLAB_OUT/info.json: fabric, device, initiators [{label,
                      name, sg, sd, hctl, target}, ...]
    PRLAB_DBROOT      /var/target (APTPL files: $PRLAB_DBROOT/pr/aptpl_$PRLAB_SERIAL)
    PRLAB_SERIAL      vpd_unit_serial of the LU
    X_LUk_SG, X_LUk_SD  with --extra-lus N, for k in 1..N: initiator X's nodes of
                      the extra LU k (LUN k, serial $PRLAB_SERIAL-k); info.json
                      lists them under extra_lus [{lun, device, serial,
                      initiators [{label, sg, sd, hctl}]}]
    PRLAB_TARGET      target IQN (iscsi only)
    PRLAB_IN_GUEST=1  plus the host's PATH, HOME, LANG, PYTHON*, PYENV_*,
                      VIRTUAL_ENV, CI, PYTEST_* and --env settings.
    $PRLAB_OUT/lab.env holds the X_* and PRLAB_* exports.

Results dir (``--out``, else a temp dir kept only on failure): output.log
(the command's output), console.log (guest console: kernel + setup log),
dmesg.txt, info.json, lab.env, attach.log, iscsid.log, ps.txt (on guest
timeout, with blocked-task stacks in dmesg.txt), qemu.log.

Host settings: PRLAB_CACHE (default ~/.cache/pr_native-lab: kernel package
unpacked, initramfs images), PRLAB_KERNEL_PKG (a kernel image package or a
meta-package, e.g. linux-image-6.12-amd64; default: linux-image-amd64's
dependency, never hard-coded), PRLAB_ACCEL (tcg, the default; kvm is opt-in
only: a present but broken /dev/kvm, e.g. nested, hangs the guest until the
timeout), PRLAB_PVH=0 (boot the bzImage instead of the extracted ELF vmlinux,
~3 s slower), PRLAB_QEMU_ARGS (extra QEMU arguments), and CLI defaults
PRLAB_FABRIC, PRLAB_TIMEOUT.

Timing (TCG, 2 vCPUs): a boot with 3 initiators takes ~5 s (loop) or ~8 s
(iscsi) before the command starts; Python code runs ~10x slower than on the
host (``python3 -c pass`` ~0.8 s, ``import pytest`` ~2.5 s), so run a whole
pytest session per boot.

Known limits: tcm_loop cannot run PREEMPT AND ABORT (LIO self-deadlock in
core_tmr_lun_reset's flush_work); use --fabric iscsi.  Most device attributes
(emulate_tas, ...) are fixed once the LU is exported: pass them with --attr.
emulate_pr can be toggled at any time through $PRLAB_DEV/attrib/emulate_pr.
There is no udev in the guest (closing a writable /dev/sdX would otherwise
trigger reads that eat unit attentions); block-layer I/O on an initiator
(sd's retries) still consumes UAs, so use /dev/sgN for UA checks.
"""

from __future__ import annotations

import argparse
import codecs
import fcntl
import gzip
import hashlib
import json
import lzma
import os
import re
import select
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    IO,
    Any,
    NamedTuple,
)

HERE = Path(__file__).resolve().parent
GUEST_DIR = HERE / "guest"
PROJECT_ROOT = HERE.parents[1]

PACKAGES: tuple[str, ...] = (
    "qemu-system-x86",
    "busybox-static",
    "cpio",
    "kmod",
    "sg3-utils",
    "open-iscsi",
    "iproute2",
)
#: host binaries the lab needs, with the package providing them
BINARIES: dict[str, str] = {
    "qemu-system-x86_64": "qemu-system-x86",
    "busybox": "busybox-static",
    "depmod": "kmod",
    "sg_persist": "sg3-utils",
    "dpkg": "dpkg",
}
ISCSI_BINARIES: dict[str, str] = {
    "iscsiadm": "open-iscsi",
    "iscsid": "open-iscsi",
    "tc": "iproute2",
}

#: kernel modules per load group; the initramfs gets their modules.dep closure.
#: /init loads "base", then the fabric's group, then "netem" (--latency) or
#: "iblock" (--backstore nullb).  "extra" and "multipath" (device-mapper
#: multipath, loaded by tests/lab/suite/test_multipath.py) are shipped but only
#: loaded on demand (modprobe works in the guest, also from the chroot).
MODULE_GROUPS: dict[str, tuple[str, ...]] = {
    "base": (
        "virtio_pci",
        "virtio_rng",
        "9pnet_virtio",
        "9p",
        "overlay",
        "configfs",
        "sd_mod",
        "sg",
        "target_core_mod",
        "crc32c_generic",
    ),
    "loop": ("tcm_loop",),
    "iscsi": ("iscsi_target_mod", "libiscsi", "iscsi_tcp"),
    "netem": ("sch_netem",),
    "iblock": ("target_core_iblock",),
    "nullb": ("null_blk",),
    "extra": ("st", "target_core_file", "crct10dif_generic"),
    "multipath": ("dm_multipath", "dm_round_robin"),
}
OPTIONAL_MODULES = frozenset({"virtio_rng", "st", "target_core_file", "crct10dif_generic"})

FABRICS = ("loop", "iscsi")
IQN_PREFIX = "iqn.2003-01.org.linux-iscsi.prlab"
ISCSI_TARGET = IQN_PREFIX + ":target"
ISCSI_PORTAL = "127.0.0.1:3260"
MAX_IQN_LEN = 223
INITRAMFS_FORMAT = "prlab-initramfs-1"


class LabError(RuntimeError):
    """The lab itself failed (packages, kernel, boot, target setup)."""


class LabStatus(NamedTuple):
    ok: bool
    reason: str


# --------------------------------------------------------------- config ----


@dataclass
class LabConfig:
    """What to boot and how.  All fields have usable defaults."""

    fabric: str = "loop"  #: "loop" (tcm_loop) or "iscsi"
    initiators: int = 3  #: number of initiators A, B, C, ...
    names: str = "naa"  #: loop nexus names: "naa" (SAS) or "iqn"; iscsi: iqn
    name_len: int | None = None  #: pad iqn initiator names to this length
    attrs: Mapping[str, str] = field(default_factory=dict)  #: LU attribs set before export
    latency: str | None = None  #: netem delay on lo, e.g. "500us" (iscsi)
    #: "rd" (rd_mcp), or "nullb:MS" / "nullb:MS:DEPTH": null_blk through iblock,
    #: MS ms per I/O, at most DEPTH I/Os in the device at once (default 64)
    backstore: str = "rd"
    size_mb: int = 16  #: LU size
    serial: str = "prlab0000000001"  #: wwn/vpd_unit_serial
    #: more LUs, small ramdisks exported to every initiator as LUN 1, 2, ...
    #: (serial ``<serial>-k``): a logical unit other than the shared one
    extra_lus: int = 0
    timeout: float = 300.0  #: wall-clock limit of the whole run, seconds
    cwd: str | None = None  #: guest cwd (default: the checkout)
    env: Mapping[str, str] = field(default_factory=dict)  #: extra environment
    shares: Sequence[str] = ()  #: extra host dirs, writable, same path in the guest
    out_dir: str | None = None  #: results dir (default: temp, kept on failure)
    memory_mb: int = 1536
    smp: int = 2
    verbose: bool = False  #: set -x in the guest scripts, full kernel log in console.log

    def validate(self) -> None:
        if self.fabric not in FABRICS:
            raise ValueError(f"fabric must be one of {FABRICS}, not {self.fabric!r}")
        if not 1 <= self.initiators <= 26 * 27:
            raise ValueError("initiators must be 1..702")
        if self.names not in ("naa", "iqn"):
            raise ValueError("names must be 'naa' or 'iqn'")
        if self.name_len is not None:
            if self.fabric == "loop" and self.names != "iqn":
                raise ValueError("name_len needs iqn names (names='iqn' or fabric='iscsi')")
            if not 40 <= self.name_len <= MAX_IQN_LEN:
                raise ValueError(f"name_len must be 40..{MAX_IQN_LEN}")
        if self.latency and self.fabric != "iscsi":
            raise ValueError("latency only makes sense with fabric='iscsi'")
        if self.latency and not re.fullmatch(r"[0-9.]+(us|ms|s)?", self.latency):
            raise ValueError(f"bad latency {self.latency!r} (e.g. 500us, 2ms)")
        if not (self.backstore == "rd" or re.fullmatch(r"nullb:\d+(:[1-9]\d*)?", self.backstore)):
            raise ValueError("backstore must be 'rd', 'nullb:MS' or 'nullb:MS:DEPTH'")
        for k, v in self.attrs.items():
            if not re.fullmatch(r"\w+", k) or not re.fullmatch(r"[\w.-]+", str(v)):
                raise ValueError(f"bad device attribute {k}={v}")
        if not re.fullmatch(r"[\w.-]{1,40}", self.serial):
            raise ValueError("bad serial")
        if not 0 <= self.extra_lus <= 8:
            raise ValueError("extra_lus must be 0..8")
        if self.timeout < 20:
            raise ValueError("timeout must be >= 20 s (a boot takes 5-10 s)")
        for d in ([self.cwd] if self.cwd else []) + list(self.shares):
            if not Path(d).is_dir():
                raise ValueError(f"no such directory: {d}")


@dataclass
class LabResult:
    returncode: int  #: the command's exit status; 124 on timeout
    output: str  #: its stdout+stderr
    timed_out: bool
    duration: float  #: wall-clock seconds, boot to power-off
    out_dir: Path | None  #: results dir, None if removed
    info: dict[str, Any] | None  #: contents of info.json

    def __iter__(self) -> Iterator[int | str]:  # ``rc, out = run(...)``
        return iter((self.returncode, self.output))


def initiator_labels(n: int) -> list[str]:
    """A..Z, then AA, AB, ... (spreadsheet style)."""
    labels = []
    for i in range(n):
        s, i = "", i + 1
        while i:
            i, r = divmod(i - 1, 26)
            s = chr(ord("A") + r) + s
        labels.append(s)
    return labels


def iqn_name(label: str, length: int | None = None) -> str:
    name = f"{IQN_PREFIX}:init-{label.lower()}"
    if length and length > len(name):
        filler = "-" + "0123456789abcdef" * (MAX_IQN_LEN // 16 + 1)
        name += filler[: length - len(name)]
    return name


def initiator_plan(cfg: LabConfig) -> list[dict[str, str]]:
    """label, name (initiator port) and wwn (loop target WWN) of each initiator."""
    plan = []
    for i, label in enumerate(initiator_labels(cfg.initiators), 1):
        if cfg.fabric == "iscsi":
            plan.append(
                {"label": label, "name": iqn_name(label, cfg.name_len), "wwn": ISCSI_TARGET}
            )
        elif cfg.names == "naa":  # 16 hex digits after naa. => SAS TransportID
            plan.append(
                {"label": label, "name": f"naa.50014051{i:08x}", "wwn": f"naa.50014050{i:08x}"}
            )
        else:
            plan.append(
                {
                    "label": label,
                    "name": iqn_name(label, cfg.name_len),
                    "wwn": f"{IQN_PREFIX}:loop-{label.lower()}",
                }
            )
    return plan


# --------------------------------------------------------- host checks ----


def cache_dir() -> Path:
    return Path(os.environ.get("PRLAB_CACHE") or Path.home() / ".cache" / "pr_native-lab")


def _which(name: str) -> str | None:
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _busybox() -> str | None:
    for cand in (_which("busybox"), "/bin/busybox", "/usr/bin/busybox"):
        if cand and os.path.exists(cand) and _is_static(cand):
            return cand
    return None


def _is_static(path: str) -> bool:
    """True for an ELF file without a PT_INTERP program header."""
    with open(path, "rb") as f:
        hdr = f.read(64)
        if hdr[:4] != b"\x7fELF" or hdr[4] != 2:
            return False
        phoff = int.from_bytes(hdr[32:40], "little")
        phentsize = int.from_bytes(hdr[54:56], "little")
        phnum = int.from_bytes(hdr[56:58], "little")
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(
        int.from_bytes(table[i : i + 4], "little") != 3 for i in range(0, len(table), phentsize)
    )


def missing_packages(fabric: str | None = None) -> list[str]:
    """Debian packages whose binaries are missing on this host."""
    need = dict(BINARIES)
    if fabric in (None, "iscsi"):
        need.update(ISCSI_BINARIES)
    missing = {
        pkg
        for binary, pkg in need.items()
        if (_busybox() is None if binary == "busybox" else _which(binary) is None)
    }
    return sorted(missing)


def lab_available(fabric: str | None = None) -> LabStatus:
    """Can this machine run the lab (for ``fabric``, or both)?  Cheap: no downloads."""
    hint = (
        "as root on Debian/Ubuntu: python tests/lab/prlab.py install && "
        "python tests/lab/prlab.py prepare"
    )
    if not sys.platform.startswith("linux"):
        return LabStatus(False, "the PR lab needs Linux")
    if os.geteuid() != 0:
        return LabStatus(
            False,
            "the PR lab needs root (QEMU exports / over 9p); run the tests as root, e.g. sudo -E",
        )
    missing = missing_packages(fabric)
    if missing:
        return LabStatus(False, f"missing packages: {' '.join(missing)} (run {hint})")
    if not _cached_kernels():
        if _which("apt-get") is None or _which("apt-cache") is None:
            return LabStatus(False, "no cached lab kernel and no apt-get to fetch one")
        try:
            resolve_kernel_package()
        except LabError as e:
            return LabStatus(False, f"{e} (run {hint})")
    return LabStatus(True, "ok")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def require_lab(fabric: str | None = None) -> None:
    """In a pytest test or fixture: skip if the lab cannot run here (fail in CI)."""
    import pytest  # only needed by callers that use it

    status = lab_available(fabric)
    if status.ok:
        return
    if _in_ci():
        pytest.fail(f"PR lab unavailable in CI: {status.reason}", pytrace=False)
    pytest.skip(f"PR lab unavailable: {status.reason}")


def ensure_packages(packages: Iterable[str] = PACKAGES) -> list[str]:
    """apt-get install the missing ``packages``; returns those installed."""
    wanted = list(packages)
    query = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Status}\\n", *wanted],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    installed = {ln.split()[0] for ln in query.stdout.splitlines() if ln.endswith(" installed")}
    missing = [p for p in wanted if p not in installed]
    if not missing:
        return []
    if os.geteuid() != 0:
        raise LabError(f"not root: cannot install {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if subprocess.run(cmd, env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env)
        _check_call(cmd, env=env)
    return missing


# --------------------------------------------------------------- kernel ----


@dataclass(frozen=True)
class Kernel:
    package: str  #: e.g. linux-image-6.1.0-56-amd64
    deb: str  #: file name of the .deb it came from (carries the version)
    release: str  #: uname -r
    root: Path  #: the unpacked package

    @property
    def vmlinuz(self) -> Path:
        return self.root / "boot" / f"vmlinuz-{self.release}"

    @property
    def boot_image(self) -> Path:
        """What QEMU boots: the uncompressed ELF vmlinux if it has a PVH entry
        point (skips the bzImage's xz decompression, ~3 s under TCG), else vmlinuz."""
        pvh = self.root.parent / "vmlinux"
        if pvh.exists() and os.environ.get("PRLAB_PVH", "1") != "0":
            return pvh
        return self.vmlinuz

    @property
    def moddir(self) -> Path:
        return self.root / "lib" / "modules" / self.release


def _check_output(cmd: Sequence[str], **kw: Any) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return str(p.stdout)


def _check_call(cmd: Sequence[str], **kw: Any) -> None:
    _check_output(cmd, **kw)


def resolve_kernel_package() -> str:
    """The kernel image package to boot: what the meta-package linux-image-amd64
    (or $PRLAB_KERNEL_PKG, a meta-package such as linux-image-6.12-amd64 or a
    concrete image package) depends on."""
    wanted = os.environ.get("PRLAB_KERNEL_PKG") or "linux-image-amd64"
    try:
        out = _check_output(["apt-cache", "depends", wanted])
    except (LabError, OSError) as e:
        raise LabError(f"cannot resolve {wanted}: {e}") from None
    m = re.search(r"^\s*\|?Depends:\s*<?(linux-image-[^\s>]+)", out, re.M)
    if m:
        return m.group(1)
    if wanted != "linux-image-amd64":
        return wanted  # already a concrete image package
    raise LabError("apt-cache knows no linux-image-amd64 dependency (not Debian amd64?)")


class _Lock:
    """flock on a file in the cache: builds are shared between processes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(path, "w")  # noqa: SIM115 - held open for the lock's lifetime

    def __enter__(self) -> _Lock:
        fcntl.flock(self._f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._f, fcntl.LOCK_UN)
        self._f.close()


def _cached_kernels(cache: Path | None = None) -> list[Kernel]:
    base = (cache or cache_dir()) / "kernels"
    kernels = []
    for meta in sorted(base.glob("*/kernel.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        d = json.loads(meta.read_text())
        kernels.append(Kernel(d["package"], d["deb"], d["release"], meta.parent / "root"))
    return kernels


def fetch_kernel(cache: Path | None = None, package: str | None = None) -> Kernel:
    """Download (apt-get download) and unpack the kernel package, once."""
    cache = cache or cache_dir()
    try:
        package = package or resolve_kernel_package()
    except LabError:
        cached = _cached_kernels(cache)
        if cached:  # offline: use what we have
            return cached[0]
        raise
    kdir = cache / "kernels" / package
    if (kdir / "kernel.json").exists():
        return _load_kernel(kdir)
    with _Lock(cache / ".lock"):
        if (kdir / "kernel.json").exists():
            return _load_kernel(kdir)
        tmp = Path(
            tempfile.mkdtemp(
                prefix=".fetch-", dir=kdir.parent if kdir.parent.exists() else _mkdir(kdir.parent)
            )
        )
        try:
            _check_call(
                ["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", package], cwd=tmp
            )
            debs = list(tmp.glob("*.deb"))
            if len(debs) != 1:
                raise LabError(f"apt-get download {package}: expected one .deb, got {debs}")
            root = tmp / "root"
            _check_call(["dpkg-deb", "-x", str(debs[0]), str(root)])
            release = _fix_module_dirs(root)
            _check_call(["depmod", "-b", str(root), release])
            meta = {"package": package, "deb": debs[0].name, "release": release}
            debs[0].unlink()
            (tmp / "kernel.json").write_text(json.dumps(meta, indent=1) + "\n")
            if kdir.exists():
                shutil.rmtree(kdir)
            tmp.rename(kdir)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return _load_kernel(kdir)


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def _load_kernel(kdir: Path) -> Kernel:
    d = json.loads((kdir / "kernel.json").read_text())
    k = Kernel(d["package"], d["deb"], d["release"], kdir / "root")
    if not k.vmlinuz.exists() or not (k.moddir / "modules.dep").exists():
        raise LabError(f"broken kernel cache {kdir}: remove it")
    if not (kdir / "vmlinux").exists() and not (kdir / "vmlinux.none").exists():
        _extract_pvh_vmlinux(k.vmlinuz, kdir)
    return k


_KERNEL_STREAMS = (
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x1f\x8b\x08", "gzip"),
)


def _extract_pvh_vmlinux(vmlinuz: Path, kdir: Path) -> None:
    """Unpack the ELF vmlinux from the bzImage into kdir/vmlinux if it has a
    PVH entry note; else leave kdir/vmlinux.none (boot the bzImage)."""
    data = vmlinuz.read_bytes()
    for magic, kind in _KERNEL_STREAMS:
        pos = data.find(magic)
        while pos >= 0:
            try:
                if kind == "xz":
                    elf = lzma.LZMADecompressor().decompress(data[pos:])
                elif kind == "gzip":
                    elf = zlib.decompressobj(wbits=31).decompress(data[pos:])
                else:
                    elf = subprocess.run(
                        ["zstd", "-dcq"],
                        input=data[pos:],
                        check=False,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL,
                    ).stdout
            except (lzma.LZMAError, zlib.error, OSError):
                elf = b""
            if elf[:4] == b"\x7fELF" and _has_pvh_note(elf):
                tmp = kdir / "vmlinux.tmp"
                tmp.write_bytes(elf)
                tmp.rename(kdir / "vmlinux")
                return
            pos = data.find(magic, pos + 1)
    (kdir / "vmlinux.none").touch()


def _has_pvh_note(elf: bytes) -> bool:
    """ELF64 with a Xen note of type 18 (XEN_ELFNOTE_PHYS32_ENTRY)."""
    if elf[4] != 2:
        return False
    phoff = int.from_bytes(elf[32:40], "little")
    phentsize = int.from_bytes(elf[54:56], "little")
    for i in range(int.from_bytes(elf[56:58], "little")):
        ph = elf[phoff + i * phentsize : phoff + (i + 1) * phentsize]
        if int.from_bytes(ph[0:4], "little") != 4:  # PT_NOTE
            continue
        off, size = int.from_bytes(ph[8:16], "little"), int.from_bytes(ph[32:40], "little")
        pos, end = off, off + size
        while pos + 12 <= end:
            namesz, descsz, ntype = (
                int.from_bytes(elf[pos + j : pos + j + 4], "little") for j in (0, 4, 8)
            )
            name = elf[pos + 12 : pos + 12 + namesz].rstrip(b"\0")
            if name == b"Xen" and ntype == 18:
                return True
            pos += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    return False


def _fix_module_dirs(root: Path) -> str:
    """Make lib/modules and usr/lib/modules both work (merged-/usr packages); return the release."""
    lib, usrlib = root / "lib" / "modules", root / "usr" / "lib" / "modules"
    if not lib.exists() and usrlib.exists():
        (root / "lib").mkdir(exist_ok=True)
        lib.symlink_to("../usr/lib/modules")
    elif lib.exists() and not usrlib.exists():
        usrlib.parent.mkdir(parents=True, exist_ok=True)
        usrlib.symlink_to("../../lib/modules")
    releases = [p.name for p in lib.iterdir() if (root / "boot" / f"vmlinuz-{p.name}").exists()]
    if len(releases) != 1:
        raise LabError(f"expected one kernel in the package, found {releases}")
    return releases[0]


# ----------------------------------------------------------- initramfs ----

_COMPRESSED = (".ko.xz", ".ko.zst", ".ko.gz")


def _modname(relpath: str) -> str:
    base = relpath.rsplit("/", 1)[-1]
    for suffix in (*_COMPRESSED, ".ko"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.replace("-", "_")


def _plain(relpath: str) -> str:
    for suffix in _COMPRESSED:
        if relpath.endswith(suffix):
            return relpath[: -len(suffix)] + ".ko"
    return relpath


def _read_modules_dep(moddir: Path) -> dict[str, tuple[str, list[str]]]:
    deps: dict[str, tuple[str, list[str]]] = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        if ":" not in line:
            continue
        path, rest = line.split(":", 1)
        deps[_modname(path)] = (path, [_modname(d) for d in rest.split()])
    return deps


def _builtin_modules(moddir: Path) -> set[str]:
    f = moddir / "modules.builtin"
    return {_modname(ln) for ln in f.read_text().split()} if f.exists() else set()


def module_load_order(
    kernel: Kernel, groups: Mapping[str, Sequence[str]] = MODULE_GROUPS
) -> dict[str, list[tuple[str, str]]]:
    """Per group, the (name, relpath) to insmod in dependency order; built-ins left out."""
    deps = _read_modules_dep(kernel.moddir)
    builtin = _builtin_modules(kernel.moddir)
    result: dict[str, list[tuple[str, str]]] = {}
    for group, wanted in groups.items():
        order: list[tuple[str, str]] = []
        seen: set[str] = set()
        for m in wanted:
            _visit_module(m, kernel.release, deps, builtin, seen, order, ())
        result[group] = order
    return result


def _visit_module(
    name: str,
    release: str,
    deps: Mapping[str, tuple[str, list[str]]],
    builtin: set[str],
    seen: set[str],
    order: list[tuple[str, str]],
    chain: tuple[str, ...],
) -> None:
    """Depth-first: a module's dependencies go into ``order`` before it."""
    name = name.replace("-", "_")
    if name in seen or name in builtin:
        return
    if name not in deps:
        if name in OPTIONAL_MODULES:
            return
        raise LabError(f"kernel {release}: no module {name} (needed by {chain})")
    seen.add(name)
    for d in deps[name][1]:
        _visit_module(d, release, deps, builtin, seen, order, (*chain, name))
    order.append((name, deps[name][0]))


def _decompress(src: Path) -> bytes:
    name = src.name
    if name.endswith(".xz"):
        return lzma.decompress(src.read_bytes())
    if name.endswith(".gz"):
        return gzip.decompress(src.read_bytes())
    if name.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", str(src)], check=True, stdout=subprocess.PIPE).stdout
    return src.read_bytes()


class _Cpio:
    """Minimal writer for the "newc" cpio format the kernel unpacks."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.ino = out, 1

    def _entry(self, name: str, mode: int, data: bytes = b"") -> None:
        raw = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(raw), 0)
        self.ino += 1
        self.out.write(b"070701" + "".join(f"{x:08X}" for x in fields).encode() + raw)
        self.out.write(b"\0" * (-(110 + len(raw)) % 4))
        self.out.write(data + b"\0" * (-len(data) % 4))

    def dir(self, name: str) -> None:
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def tree(self, root: Path, prefix: str) -> None:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            base = prefix if rel == "." else f"{prefix}/{rel}"
            self.dir(base)
            for fn in sorted(filenames):
                p = Path(dirpath, fn)
                self.file(f"{base}/{fn}", p.read_bytes(), 0o755 if os.access(p, os.X_OK) else 0o644)

    def close(self) -> None:
        self._entry("TRAILER!!!", 0)


def _guest_scripts() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(GUEST_DIR.glob("*.sh"))}


def build_initramfs(kernel: Kernel, cache: Path | None = None) -> Path:
    """Build (once per input hash) the initramfs: busybox, modules, guest scripts."""
    cache = cache or cache_dir()
    busybox = _busybox()
    if busybox is None:
        raise LabError("no static busybox (apt-get install busybox-static)")
    order = module_load_order(kernel)
    scripts = _guest_scripts()
    h = hashlib.sha256()
    parts: list[bytes] = [
        s.encode() for s in (INITRAMFS_FORMAT, kernel.package, kernel.deb, json.dumps(order))
    ]
    parts += [Path(busybox).read_bytes()] + [k.encode() + v for k, v in scripts.items()]
    for part in parts:
        h.update(part + b"\0")
    path = cache / "initramfs" / f"{kernel.release}-{h.hexdigest()[:16]}.cpio"
    if path.exists():
        return path
    with _Lock(cache / ".lock"):
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".stage-", dir=path.parent) as stage_s:
            stage = Path(stage_s)
            mods = stage / "lib" / "modules" / kernel.release
            mods.mkdir(parents=True)
            for _name, rel in {m for group in order.values() for m in group}:
                dst = mods / _plain(rel)
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(_decompress(kernel.moddir / rel))
            for meta in ("modules.builtin", "modules.builtin.modinfo", "modules.order"):
                if (kernel.moddir / meta).exists():
                    shutil.copy(kernel.moddir / meta, mods / meta)
            # modules.dep etc. for busybox modprobe (request_module) and the chroot's kmod
            _check_call(["depmod", "-b", str(stage), kernel.release])
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as f:
                cpio = _Cpio(f)
                for d in (
                    "bin",
                    "sbin",
                    "dev",
                    "proc",
                    "sys",
                    "tmp",
                    "run",
                    "out",
                    "lower",
                    "upper",
                    "newroot",
                    "var",
                    "var/target",
                    "var/target/pr",
                    "lib",
                    "lib/modules",
                    "prlab",
                    "prlab/modules",
                ):
                    cpio.dir(d)
                cpio.file("bin/busybox", Path(busybox).read_bytes(), 0o755)
                cpio.symlink("bin/sh", "busybox")
                cpio.symlink("sbin/modprobe", "../bin/busybox")
                cpio.file("init", scripts["init.sh"], 0o755)
                for name, data in scripts.items():
                    cpio.file(f"prlab/{name}", data, 0o755)
                for group, mods_ in order.items():
                    text = "".join(f"{n} {_plain(r)}\n" for n, r in mods_)
                    cpio.file(f"prlab/modules/{group}", text.encode())
                cpio.tree(mods, f"lib/modules/{kernel.release}")
                cpio.close()
            tmp.rename(path)
        for old in path.parent.glob(f"{kernel.release}-*.cpio"):
            if old != path and time.time() - old.stat().st_mtime > 3600:
                old.unlink(missing_ok=True)
    return path


def prepare(cache: Path | None = None) -> tuple[Kernel, Path]:
    """Fetch the kernel and build the initramfs (both cached)."""
    kernel = fetch_kernel(cache)
    return kernel, build_initramfs(kernel, cache)


# ------------------------------------------------------------------ run ----

_FORWARD_ENV = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TERM",
    "CI",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "GITHUB_ACTIONS",
    "NO_COLOR",
    "FORCE_COLOR",
)
_FORWARD_PREFIXES = ("LC_", "PYTHON", "PYENV", "PYTEST", "PIP_", "PY_")


def _guest_env(cfg: LabConfig, stream_is_tty: bool) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k in _FORWARD_ENV or k.startswith(_FORWARD_PREFIXES)
    }
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env.setdefault("HOME", "/root")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not stream_is_tty:
        env["TERM"] = "dumb"
    cols = shutil.get_terminal_size().columns
    env.setdefault("COLUMNS", str(cols))
    env.update({k: str(v) for k, v in cfg.env.items()})
    return env


def _sh_assign(name: str, value: str) -> str:
    return f"{name}={shlex.quote(str(value))}\n"


def _write_job(
    cfg: LabConfig, ctl: Path, out: Path, command: str, guest_deadline: int, stream_is_tty: bool
) -> None:
    plan = initiator_plan(cfg)
    rd_pages = cfg.size_mb * 256
    nullb_args = ""
    if cfg.backstore.startswith("nullb:"):
        ms, _, depth = cfg.backstore[len("nullb:") :].partition(":")
        nullb_args = (
            f"nr_devices=1 queue_mode=2 irqmode=2 completion_nsec={int(ms) * 1000000} "
            f"gb={max(1, cfg.size_mb // 1024)} bs=512"
        )
        # One hardware queue of DEPTH tags: an I/O beyond them waits for a tag
        # in the submitting thread (blk_mq_get_tag).
        if depth:
            nullb_args += f" submit_queues=1 hw_queue_depth={depth}"
    job = {
        "PRLAB_FABRIC": cfg.fabric,
        "PRLAB_LABELS": " ".join(p["label"] for p in plan),
        "PRLAB_BACKSTORE": cfg.backstore.split(":")[0],
        "PRLAB_RD_PAGES": str(rd_pages),
        "PRLAB_NULLB_ARGS": nullb_args,
        "PRLAB_DEV_NAME": "prlab0",
        "PRLAB_SERIAL": cfg.serial,
        "PRLAB_EXTRA_LUS": str(cfg.extra_lus),
        "PRLAB_ATTRS": " ".join(f"{k}={v}" for k, v in cfg.attrs.items()),
        "PRLAB_LATENCY": cfg.latency or "",
        "PRLAB_ISCSI_TARGET": ISCSI_TARGET if cfg.fabric == "iscsi" else "",
        "PRLAB_ISCSI_PORTAL": ISCSI_PORTAL,
        "PRLAB_OUT": str(out),
        "PRLAB_CWD": str(Path(cfg.cwd).resolve() if cfg.cwd else PROJECT_ROOT),
        "PRLAB_GUEST_DEADLINE": str(guest_deadline),
        "PRLAB_SHARES": " ".join(
            f"prlabrw{i}={Path(s).resolve()}" for i, s in enumerate(cfg.shares)
        ),
        "PRLAB_VERBOSE": "1" if cfg.verbose else "0",
    }
    for p in plan:
        job[f"PRLAB_NAME_{p['label']}"] = p["name"]
        job[f"PRLAB_WWN_{p['label']}"] = p["wwn"]
    (ctl / "job.sh").write_text("".join(_sh_assign(k, v) for k, v in job.items()))
    env = _guest_env(cfg, stream_is_tty)
    (ctl / "env.sh").write_text("".join("export " + _sh_assign(k, v) for k, v in env.items()))
    (ctl / "cmd").write_text(command + "\n")


def _qemu_path(p: str | Path) -> str:
    return str(p).replace(",", ",,")


def qemu_command(kernel: Kernel, initrd: Path, out: Path, cfg: LabConfig) -> list[str]:
    accel = os.environ.get("PRLAB_ACCEL", "tcg")  # kvm: opt-in, see the module docstring
    append = "console=ttyS0 panic=-1 mitigations=off " + ("loglevel=7" if cfg.verbose else "quiet")
    cmd = [
        "qemu-system-x86_64",
        "-nodefaults",
        "-no-user-config",
        "-display",
        "none",
        "-no-reboot",
        "-machine",
        "pc",
        "-accel",
        accel,
        "-smp",
        str(cfg.smp),
        "-m",
        str(cfg.memory_mb),
        "-kernel",
        str(kernel.boot_image),
        "-initrd",
        str(initrd),
        "-append",
        append,
        "-chardev",
        f"file,id=console,path={_qemu_path(out / 'console.log')}",
        "-device",
        "isa-serial,chardev=console",  # ttyS0: console
        "-chardev",
        "stdio,id=output,signal=off",
        "-device",
        "isa-serial,chardev=output",  # ttyS1: the command's output
        "-device",
        "virtio-rng-pci",
        "-virtfs",
        "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs",
        f"local,path={_qemu_path(out)},mount_tag=prlabout,security_model=none,multidevs=remap",
        "-nic",
        "none",
    ]
    cmd += shlex.split(os.environ.get("PRLAB_QEMU_ARGS", ""))
    for i, share in enumerate(cfg.shares):
        cmd += [
            "-virtfs",
            f"local,path={_qemu_path(Path(share).resolve())},mount_tag=prlabrw{i},"
            "security_model=none,multidevs=remap",
        ]
    return cmd


def _read_kv(path: Path) -> dict[str, str]:
    try:
        return dict(ln.split("=", 1) for ln in path.read_text().splitlines() if "=" in ln)
    except OSError:
        return {}


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path.name} missing)"


def run(
    command: str | Sequence[str],
    config: LabConfig | None = None,
    *,
    stream: bool | IO[str] | None = False,
    keep: bool | None = None,
) -> LabResult:
    """Boot the lab, run ``command`` (a shell string, or argv) in the guest, power off.

    ``stream``: True copies the command's output live to sys.stdout, or give a
    text file.  The results dir is ``config.out_dir`` (kept), else a temp dir
    removed after a successful run unless ``keep``.  Raises LabError when the
    lab itself fails (boot, target or initiator setup).
    """
    cfg = config or LabConfig()
    cfg.validate()
    if not isinstance(command, str):
        command = shlex.join(command)
    kernel, initrd = prepare()
    if cfg.out_dir:
        out = Path(cfg.out_dir).resolve()
        out.mkdir(parents=True, exist_ok=True)
        keep = True if keep is None else keep
    else:
        out = Path(tempfile.mkdtemp(prefix="prlab-"))
    ctl = out / ".prlab"
    shutil.rmtree(ctl, ignore_errors=True)
    ctl.mkdir()
    for stale in ("info.json", "lab.env", "dmesg.txt", "ps.txt", "attach.log", "iscsid.log"):
        (out / stale).unlink(missing_ok=True)
    sink: IO[str] | None = sys.stdout if stream is True else (stream or None)
    margin = min(10.0, max(3.0, cfg.timeout * 0.1))
    _write_job(
        cfg,
        ctl,
        out,
        command,
        int(cfg.timeout - margin),
        bool(sink and hasattr(sink, "isatty") and sink.isatty()),
    )

    t0 = time.monotonic()
    deadline = t0 + cfg.timeout
    chunks: list[str] = []
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    host_timeout = False
    with open(out / "qemu.log", "wb") as qlog, open(out / "output.log", "wb") as olog:
        proc = subprocess.Popen(
            qemu_command(kernel, initrd, out, cfg),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=qlog,
            start_new_session=True,
        )
        try:
            assert proc.stdout is not None
            fd = proc.stdout.fileno()
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    host_timeout = True
                    break
                ready, _, _ = select.select([fd], [], [], min(left, 1.0))
                if not ready:
                    continue
                data = os.read(fd, 65536)
                if not data:
                    break
                olog.write(data)
                text = decoder.decode(data)
                chunks.append(text)
                if sink:
                    sink.write(text)
                    sink.flush()
            if not host_timeout:
                try:
                    proc.wait(timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    host_timeout = True
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()  # type: ignore[union-attr]
    duration = time.monotonic() - t0
    output = "".join(chunks) + decoder.decode(b"", final=True)

    status = _read_kv(ctl / "status")
    info = None
    if (out / "info.json").exists():
        info = json.loads((out / "info.json").read_text())
    phase = status.get("phase")
    if phase == "command" or (host_timeout and not status and info is not None):
        timed_out = host_timeout or "timed out" in status.get("message", "")
        rc = 124 if timed_out else int(status.get("rc", "125"))
        if timed_out and sink:
            sink.write(f"\nprlab: command timed out after {cfg.timeout:.0f} s\n")
            sink.flush()
        if keep is None:
            keep = rc != 0
        result = LabResult(rc, output, timed_out, duration, out if keep else None, info)
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
        return result
    if status:
        what = f"lab setup failed in phase {phase}: {status.get('message')}"
    elif host_timeout:
        what = f"guest did not finish booting within {cfg.timeout:.0f} s"
    else:
        what = f"guest stopped without a status (QEMU exit {proc.returncode})"
        if "Kernel panic" in _tail(out / "console.log", 200):
            what = "guest kernel panic"
    details = [f"results in {out}", "--- console.log (tail):", _tail(out / "console.log")]
    if (out / "attach.log").exists():
        details += ["--- attach.log (tail):", _tail(out / "attach.log", 20)]
    if (out / "qemu.log").stat().st_size:
        details += ["--- qemu.log:", _tail(out / "qemu.log", 10)]
    raise LabError(what + "\n" + "\n".join(details))


def run_command(
    command: str | Sequence[str], *, stream: bool | IO[str] | None = False, **config: Any
) -> tuple[int, str]:
    """``run()`` with LabConfig fields as keywords; returns (exit status, output)."""
    result = run(command, LabConfig(**config), stream=stream)
    return result.returncode, result.output


# ---------------------------------------------------------- guest side ----


def in_guest() -> bool:
    """True inside a prlab guest command."""
    return os.environ.get("PRLAB_IN_GUEST") == "1"


def guest_info() -> dict[str, Any]:
    """The lab description ($PRLAB_INFO): fabric, device, initiators [{label, name, sg, ...}]."""
    path = os.environ.get("PRLAB_INFO")
    if not path:
        raise LabError("not in a prlab guest (PRLAB_INFO unset)")
    info: dict[str, Any] = json.loads(Path(path).read_text())
    return info


def set_device_attr(name: str, value: str | int) -> None:
    """Write $PRLAB_DEV/attrib/<name> (in the guest)."""
    dev = os.environ.get("PRLAB_DEV") or guest_info()["device"]
    Path(dev, "attrib", name).write_text(f"{value}\n")


def set_emulate_pr(enabled: bool) -> None:
    """Toggle LIO's PR emulation; off, PR IN/OUT get INVALID COMMAND OPERATION CODE."""
    set_device_attr("emulate_pr", 1 if enabled else 0)


# ------------------------------------------------------------------ CLI ----


def _kv(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    return k, v


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="prlab",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="can this machine run the lab?")
    c.add_argument("--fabric", choices=FABRICS)
    sub.add_parser("install", help="apt-get install the host packages")
    sub.add_parser("prepare", help="fetch the kernel and build the initramfs")
    r = sub.add_parser(
        "run",
        help="boot, run COMMAND in the guest, power off",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Boot the guest, run COMMAND with /bin/sh -c in it (cwd: the checkout,\n"
        "the host's root read-only at the same paths) and power off.  The exit\n"
        "status is COMMAND's; 124: it timed out; 125: the lab itself failed.",
        epilog="In COMMAND's environment, for each initiator X (A, B, C, ...):\n"
        "  X_SG    its /dev/sgN (send PR commands here), X_SD its /dev/sdX,\n"
        "  X_NAME  its initiator port name (an naa. or iqn. name), X_HCTL its H:C:T:L;\n"
        "and PRLAB_INITIATORS (the labels), PRLAB_FABRIC, PRLAB_DEV (the LU's configfs\n"
        "dir), PRLAB_OUT and PRLAB_INFO ($PRLAB_OUT/info.json).  pr_native's command\n"
        "line is .venv/bin/pr-native (the guest's PATH is the host's).  lo is down\n"
        "on the loop fabric: ip link set lo up before listening on 127.0.0.1.\n\n"
        "e.g. prlab.py run -- '.venv/bin/pr-native read-keys $B_SG'\n"
        "     prlab.py run --fabric iscsi -n 2 -- 'sg_persist -n -i -s $A_SG'",
    )
    r.add_argument(
        "--fabric",
        choices=FABRICS,
        default=os.environ.get("PRLAB_FABRIC", "loop"),
        help="loop: tcm_loop, one SCSI host per initiator; iscsi: LIO's iSCSI target on "
        f"{ISCSI_PORTAL} with one open-iscsi session per initiator, needed for PREEMPT AND "
        "ABORT (it deadlocks LIO over tcm_loop) (default: %(default)s; $PRLAB_FABRIC)",
    )
    r.add_argument(
        "-n",
        "--initiators",
        type=int,
        default=3,
        help="how many initiators (I_T nexuses to the one LU): A, B, C, ..., AA, AB after Z; "
        "at most 702 (default: %(default)s)",
    )
    r.add_argument(
        "--names",
        choices=("naa", "iqn"),
        default="naa",
        help="loop nexus names: naa (SAS TransportIDs) or iqn (iSCSI TransportIDs); the iscsi "
        "fabric always uses iqn (default: %(default)s)",
    )
    r.add_argument(
        "--name-len",
        type=int,
        help=f"pad the iqn initiator names to this many characters (40..{MAX_IQN_LEN}), for "
        "long TransportIDs; needs --names iqn or --fabric iscsi",
    )
    r.add_argument(
        "--attr",
        type=_kv,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="write the LU's attrib/NAME before it is exported, when LIO still accepts it, "
        "e.g. emulate_tas=0 (repeatable); emulate_pr can be changed later in $PRLAB_DEV/attrib",
    )
    r.add_argument(
        "--latency",
        help="netem delay on lo, e.g. 500us or 2ms: every iSCSI PDU waits that long "
        "(--fabric iscsi only)",
    )
    r.add_argument(
        "--backstore",
        default="rd",
        help="rd: a ramdisk (rd_mcp); nullb:MS: null_blk through iblock, MS milliseconds "
        "per I/O; nullb:MS:DEPTH: and at most DEPTH I/Os in it at once, the next ones wait "
        "for a free tag in the thread that submits them (default: %(default)s)",
    )
    r.add_argument(
        "--size-mb", type=int, default=16, help="size of the LU, MiB (default: %(default)s)"
    )
    r.add_argument(
        "--extra-lus",
        type=int,
        default=0,
        help="N more LUs (1 MiB ramdisks, LUN 1..N, serial <serial>-k) exported to every "
        "initiator: X_LUk_SG, X_LUk_SD (default: %(default)s)",
    )
    r.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("PRLAB_TIMEOUT", 300)),
        help="wall-clock limit of the whole run, boot included, in seconds; then the guest is "
        "powered off and the status is 124 (default: %(default)s; $PRLAB_TIMEOUT)",
    )
    r.add_argument(
        "--out",
        metavar="DIR",
        help="results dir, kept: output.log (the command's output), console.log, dmesg.txt, "
        "info.json, lab.env, attach.log, ... (default: a temp dir, kept only when the "
        "command fails)",
    )
    r.add_argument(
        "--cwd", metavar="DIR", help="the command's working directory (default: the checkout)"
    )
    r.add_argument(
        "--env",
        type=_kv,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set NAME in the command's environment (repeatable); PATH, HOME, LANG, "
        "VIRTUAL_ENV, PYTHON*, PYTEST_*, PIP_* and LC_* come from the host already",
    )
    r.add_argument(
        "--share",
        action="append",
        default=[],
        metavar="DIR",
        help="a host dir the command may write, at the same path (repeatable); elsewhere "
        "writes go to a tmpfs and are lost",
    )
    r.add_argument("--mem", type=int, default=1536, help="guest memory, MiB (default: %(default)s)")
    r.add_argument("--smp", type=int, default=2, help="guest vCPUs (default: %(default)s)")
    r.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print the command's output when it ends instead of while it runs",
    )
    r.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="trace the guest's setup scripts (set -x) and keep the whole kernel log in "
        "console.log",
    )
    r.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="the shell command, after --.  Give it as one single-quoted argument: it is run "
        "as is, so $A_SG expands in the guest; several arguments are quoted word by word "
        "(-- echo '$A_SG' prints the text $A_SG)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.cmd == "check":
        status = lab_available(args.fabric)
        print("ok" if status.ok else f"unavailable: {status.reason}")
        return 0 if status.ok else 1
    try:
        if args.cmd == "install":
            done = ensure_packages()
            print("installed: " + " ".join(done) if done else "all packages present")
            return 0
        if args.cmd == "prepare":
            t = time.monotonic()
            kernel, initrd = prepare()
            print(
                f"kernel {kernel.release} ({kernel.deb})\n  {kernel.vmlinuz}\n"
                f"initramfs {initrd}\n({time.monotonic() - t:.1f} s)"
            )
            return 0
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            print("prlab run: no command", file=sys.stderr)
            return 2
        cfg = LabConfig(
            fabric=args.fabric,
            initiators=args.initiators,
            names=args.names,
            name_len=args.name_len,
            attrs=dict(args.attr),
            latency=args.latency,
            backstore=args.backstore,
            size_mb=args.size_mb,
            extra_lus=args.extra_lus,
            timeout=args.timeout,
            cwd=args.cwd,
            env=dict(args.env),
            shares=args.share,
            out_dir=args.out,
            memory_mb=args.mem,
            smp=args.smp,
            verbose=args.verbose,
        )
        status = lab_available(cfg.fabric)
        if not status.ok:
            print(f"prlab: {status.reason}", file=sys.stderr)
            return 125
        result = run(
            command[0] if len(command) == 1 else shlex.join(command), cfg, stream=not args.quiet
        )
    except (LabError, ValueError) as e:
        print(f"prlab: {e}", file=sys.stderr)
        return 125
    except KeyboardInterrupt:
        return 130
    if args.quiet:
        sys.stdout.write(result.output)
    note = f"prlab: exit status {result.returncode}, {result.duration:.1f} s"
    if result.timed_out:
        note += f", TIMED OUT after {cfg.timeout:.0f} s"
    if result.out_dir:
        note += f", results in {result.out_dir}"
    print(note, file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
