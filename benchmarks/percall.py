#!/usr/bin/env python3
"""What one PR IN costs, pr_native next to every peer, as ratios to a bare C floor.

    c_floor      a C loop (written to a temp dir, built with gcc at run time)
                 sending the CDB through SG_IO and timing itself: the floor
    pr_native    Device.read_keys(), read_reservation(), read_full_status(),
                 report_capabilities(), result objects included
    cython_sgio  python-scsi's SG_IO backend (PyPI cython-sgio): sgio.execute()
                 with the same CDB, the response decoded in Python
    ctypes       a hand-written ctypes sg_io_hdr and fcntl.ioctl(SG_IO),
                 the response decoded in Python
    sg_persist   one ``sg_persist -n -i -k|-r|-s|-c DEV`` process per query

and, for READ KEYS and READ RESERVATION, where a pr_native call's time goes,
in the same rounds: the first replaces the floor's SG_IO with pr_native's C
core, each of the others adds one layer to the one before:

    c_core       pr_native's own C core (csrc/, built with gcc at run time)
                 called from a C loop: the CDB built, the sg queue's
                 write() and read()/poll() until the answer is read, the
                 response decoded and compared with the previous one
    cffi_call    the Device's C call through cffi with its prebuilt
                 arguments (the GIL released for it), from Python
    cffi_locked  that call under the Device's lock, as read_keys() takes it

and, as a reference for those layers, a bare call of a C extension from
Python (cython-sgio's, which holds the GIL through the command):

    sgio_call    cython-sgio's sgio.execute() alone from a Python loop, the
                 response not decoded (no lock, no result)

Every method sends the CDB pr_native sends (its allocation length included)
to the same /dev/sgN; sg_persist builds its own.  The peers decode READ KEYS
(generation and keys) and READ RESERVATION (generation, key, scope, type);
the floor, pr_native and sg_persist also run READ FULL STATUS and REPORT
CAPABILITIES.  Repetitions are interleaved (one batch of each method, then
the next round), and each round gives one µs/call per method: the tables
show medians over the rounds.  Also measured, in a fresh Python process:
RSS and open descriptors before and after many read_keys() calls and many
Device open/close cycles; and start-up times of ``python -c pass``,
``import pr_native``, ``pr-native read-keys`` and ``sg_persist``.

Let it boot the lab (tests/lab/prlab.py; needs root and cython-sgio) with one
LU seen by 64 initiators over tcm_loop, and measure with 2 and then 64
registered keys in that one boot:

    python benchmarks/percall.py --lab [--quick] [--out benchmarks/results]

or run it on device nodes you may read (PR IN only; registrations as found):

    python benchmarks/percall.py /dev/sg3

``--keys 2,64`` registers that many keys first, one from each of the device
nodes given (each its own I_T nexus to the same LU, which must have no
registrations), reserves from the first, and removes them all afterwards.
Results go to percall.json, percall.md and percall.png (with matplotlib) in
the output directory.  This reports timings; it asserts nothing.
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import fcntl
import gc
import importlib.util
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results"
SCHEMA_VERSION = 1

#: the PR IN service actions measured: (service action, sg_persist option, label)
QUERIES: dict[str, tuple[int, str, str]] = {
    "read_keys": (0, "-k", "READ KEYS"),
    "read_reservation": (1, "-r", "READ RESERVATION"),
    "read_full_status": (3, "-s", "READ FULL STATUS"),
    "report_capabilities": (2, "-c", "REPORT CAPABILITIES"),
}
METHODS: dict[str, str] = {
    "c_floor": "C SG_IO loop (floor)",
    "pr_native": "pr_native Device",
    "cython_sgio": "cython-sgio + Python decode",
    "ctypes": "ctypes + fcntl.ioctl + Python decode",
    "sg_persist": "sg_persist, a process per call",
}
#: the layers of a pr_native call, measured for PEER_QUERIES: C floor, then each
#: of these, then pr_native (the whole Device call)
STAGES: dict[str, str] = {
    "c_core": "pr_native's C core from a C loop (instead of SG_IO)",
    "cffi_call": "+ the cffi call (GIL released)",
    "cffi_locked": "+ the Device's lock",
}
#: measured for PEER_QUERIES next to the layers, and shown under them
REFERENCES: dict[str, str] = {
    "sgio_call": "cython-sgio's sgio.execute() alone from Python (no decoding, no lock)",
}
#: queries the Python peers decode (the others they would hand back as bytes)
PEER_QUERIES = ("read_keys", "read_reservation")
#: keys registered by --keys: KEY_BASE + 1, + 2, ...
KEY_BASE = 0xBE00_0000_0000_0000


@dataclasses.dataclass(frozen=True)
class Settings:
    keys: tuple[int, ...]  #: key counts to measure with; () = as found
    rounds: int  #: interleaved rounds (one batch of every method each)
    calls: int  #: calls per batch (the C floor loops as many times)
    forks: int  #: sg_persist processes per batch
    memory_calls: int  #: read_keys() calls between the RSS/fd samples
    open_cycles: int  #: Device open/close cycles between the RSS/fd samples
    startup_runs: int  #: runs of each start-up command

    def argv(self) -> list[str]:
        return [
            f"--keys={','.join(map(str, self.keys)) or 'none'}",
            f"--rounds={self.rounds}",
            f"--calls={self.calls}",
            f"--forks={self.forks}",
            f"--memory-calls={self.memory_calls}",
            f"--open-cycles={self.open_cycles}",
            f"--startup-runs={self.startup_runs}",
        ]


FULL = Settings(
    keys=(2, 64),
    rounds=15,
    calls=300,
    forks=5,
    memory_calls=100_000,
    open_cycles=10_000,
    startup_runs=7,
)
QUICK = Settings(
    keys=(2, 3), rounds=2, calls=20, forks=1, memory_calls=1_000, open_cycles=100, startup_runs=1
)

# --------------------------------------------------------- the C floor ----

#: the clock both C programs time themselves with
C_NOW = r"""
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
"""

FLOOR_SOURCE = (
    r"""
#include <fcntl.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* floor DEV CDB-HEX ALLOCATION ITERATIONS: prints microseconds per SG_IO */
"""
    + C_NOW
    + r"""
int main(int argc, char **argv)
{
    static unsigned char data[65535];
    unsigned char cdb[16], sense[32];
    struct sg_io_hdr io;
    size_t cdb_len, i;
    long n, iterations, allocation;
    double started = 0;
    int fd;

    if (argc != 5) {
        fprintf(stderr, "usage: %s DEV CDB-HEX ALLOCATION ITERATIONS\n", argv[0]);
        return 2;
    }
    cdb_len = strlen(argv[2]) / 2;
    allocation = atol(argv[3]);
    iterations = atol(argv[4]);
    if (cdb_len < 6 || cdb_len > sizeof cdb || allocation < 0
        || allocation > (long)sizeof data || iterations < 1) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    for (i = 0; i < cdb_len; i++) {
        unsigned int byte;
        if (sscanf(argv[2] + 2 * i, "%2x", &byte) != 1)
            return 2;
        cdb[i] = (unsigned char)byte;
    }
    fd = open(argv[1], O_RDWR);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    memset(&io, 0, sizeof io);
    io.interface_id = 'S';
    io.dxfer_direction = SG_DXFER_FROM_DEV;
    io.cmd_len = (unsigned char)cdb_len;
    io.mx_sb_len = sizeof sense;
    io.dxfer_len = (unsigned int)allocation;
    io.dxferp = data;
    io.cmdp = cdb;
    io.sbp = sense;
    io.timeout = 30000;
    for (n = -3; n < iterations; n++) { /* three untimed warm-up commands */
        if (n == 0)
            started = now();
        if (ioctl(fd, SG_IO, &io) < 0) {
            perror("SG_IO");
            return 1;
        }
        if (io.status || io.host_status || io.driver_status) {
            fprintf(stderr, "status %#x host %#x driver %#x\n", io.status, io.host_status,
                    io.driver_status);
            return 1;
        }
    }
    printf("%.3f\n", (now() - started) * 1e6 / (double)iterations);
    close(fd);
    return 0;
}
"""
)


CORE_SOURCE = (
    r"""
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pr_native.h"

/* core DEV QUERY CAPACITY TIMEOUT-MS ITERATIONS: microseconds per call of
 * pr_read_keys_serial() or pr_read_reservation_serial(), as a Device makes it */
"""
    + C_NOW
    + r"""
int main(int argc, char **argv)
{
    static uint8_t buffer[65535];
    static uint64_t keys[65535 / 8];
    static uint8_t previous_data[65535];
    struct pr_previous previous = {previous_data, sizeof previous_data, 0, 0};
    struct pr_device device;
    struct pr_result result;
    struct pr_keys keys_out;
    struct pr_reservation reservation_out;
    uint32_t capacity, timeout_ms;
    long n, iterations;
    double started = 0;
    int read_keys;

    if (argc != 6) {
        fprintf(stderr, "usage: %s DEV read_keys|read_reservation CAPACITY TIMEOUT-MS N\n",
                argv[0]);
        return 2;
    }
    read_keys = strcmp(argv[2], "read_keys") == 0;
    capacity = (uint32_t)atol(argv[3]);
    timeout_ms = (uint32_t)atol(argv[4]);
    iterations = atol(argv[5]);
    if ((!read_keys && strcmp(argv[2], "read_reservation") != 0) || capacity < 8 ||
        capacity > sizeof buffer || iterations < 1) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    if (pr_open(argv[1], 0, &device, &result) != PR_OK) {
        fprintf(stderr, "%s: pr_open failed (errno %d)\n", argv[1], (int)result.os_error);
        return 1;
    }
    for (n = -3; n < iterations; n++) { /* three untimed warm-up commands */
        int rc;

        if (n == 0)
            started = now();
        rc = read_keys ? pr_read_keys_serial(&device, buffer, capacity, timeout_ms, keys,
                                             capacity / 8, &keys_out, &result, &previous)
                       : pr_read_reservation_serial(&device, buffer, capacity, timeout_ms,
                                                    &reservation_out, &result, &previous);
        if (rc < 1) { /* a serial on success */
            fprintf(stderr, "%s: rc %d\n", argv[2], rc);
            return 1;
        }
    }
    printf("%.3f\n", (now() - started) * 1e6 / (double)iterations);
    pr_close(&device);
    return 0;
}
"""
)
#: csrc/ files of the other platforms' transports (pr_native/_build.py):
#: the Linux extension is built from all the others
OTHER_PLATFORMS_SOURCES = ("pr_windows.c", "pr_unsupported.c", "pr_poll_fallback.c")


def build_c(directory: Path, name: str, text: str, *extra: str) -> Path:
    """A benchmark's C program, written to ``directory`` and built there
    (``extra``: more gcc arguments, e.g. sources to link)."""
    source = directory / f"{name}.c"
    binary = directory / name
    source.write_text(text)
    subprocess.run(
        ["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(binary), str(source), *extra],
        check=True,
    )
    return binary


def build_floor(directory: Path) -> Path:
    return build_c(directory, "floor", FLOOR_SOURCE)


def build_core(directory: Path) -> Path:
    """CORE_SOURCE linked with the extension's Linux sources of the C core."""
    csrc = ROOT / "csrc"
    return build_c(
        directory,
        "core",
        CORE_SOURCE,
        "-std=c99",
        f"-I{csrc}",
        *sorted(str(p) for p in csrc.glob("*.c") if p.name not in OTHER_PLATFORMS_SOURCES),
    )


# ---------------------------------------------- the Python SG_IO peers ----

SG_IO = 0x2285
SG_DXFER_FROM_DEV = -3
SENSE_LEN = 32


class SgIoHdr(ctypes.Structure):
    """struct sg_io_hdr of <scsi/sg.h>."""

    _fields_ = [
        ("interface_id", ctypes.c_int),
        ("dxfer_direction", ctypes.c_int),
        ("cmd_len", ctypes.c_ubyte),
        ("mx_sb_len", ctypes.c_ubyte),
        ("iovec_count", ctypes.c_ushort),
        ("dxfer_len", ctypes.c_uint),
        ("dxferp", ctypes.c_void_p),
        ("cmdp", ctypes.c_void_p),
        ("sbp", ctypes.c_void_p),
        ("timeout", ctypes.c_uint),
        ("flags", ctypes.c_uint),
        ("pack_id", ctypes.c_int),
        ("usr_ptr", ctypes.c_void_p),
        ("status", ctypes.c_ubyte),
        ("masked_status", ctypes.c_ubyte),
        ("msg_status", ctypes.c_ubyte),
        ("sb_len_wr", ctypes.c_ubyte),
        ("host_status", ctypes.c_ushort),
        ("driver_status", ctypes.c_ushort),
        ("resid", ctypes.c_int),
        ("duration", ctypes.c_uint),
        ("info", ctypes.c_uint),
    ]


class CtypesSgIo:
    """SG_IO the way a script without a SCSI library does it."""

    def __init__(self, path: str, allocation: int) -> None:
        self.fd = os.open(path, os.O_RDWR)
        self.data = ctypes.create_string_buffer(allocation)
        self.sense = ctypes.create_string_buffer(SENSE_LEN)

    def execute(self, cdb: bytes) -> int:
        """Send ``cdb``; the number of bytes the device returned."""
        command = ctypes.create_string_buffer(cdb, len(cdb))
        header = SgIoHdr(
            interface_id=ord("S"),
            dxfer_direction=SG_DXFER_FROM_DEV,
            cmd_len=len(cdb),
            mx_sb_len=SENSE_LEN,
            dxfer_len=len(self.data),
            dxferp=ctypes.addressof(self.data),
            cmdp=ctypes.addressof(command),
            sbp=ctypes.addressof(self.sense),
            timeout=30_000,
        )
        fcntl.ioctl(self.fd, SG_IO, header)
        if header.status or header.host_status or header.driver_status:
            raise OSError(
                f"SG_IO: status {header.status:#x}, host {header.host_status:#x}, "
                f"driver {header.driver_status:#x}"
            )
        return len(self.data) - int(header.resid)

    def close(self) -> None:
        os.close(self.fd)


def decode_keys(data: Any, transferred: int) -> tuple[int, tuple[int, ...]]:
    """READ KEYS: PR generation and the keys (SPC-4 6.15.2)."""
    generation, length = struct.unpack_from(">II", data)
    count = min(length, transferred - 8) // 8
    return generation, struct.unpack_from(f">{count}Q", data, 8)


def decode_reservation(data: Any, transferred: int) -> tuple[int, tuple[int, int, int] | None]:
    """READ RESERVATION: PR generation and (key, scope, type) (SPC-4 6.15.3)."""
    generation, length = struct.unpack_from(">II", data)
    if length < 16 or transferred < 24:
        return generation, None
    key, scope_type = struct.unpack_from(">Q5xB", data, 8)
    return generation, (key, scope_type >> 4, scope_type & 0x0F)


PEER_DECODERS: dict[str, Callable[[Any, int], object]] = {
    "read_keys": decode_keys,
    "read_reservation": decode_reservation,
}

# ------------------------------------------------------------ measuring ----


def _per_call(call: Callable[[], object]) -> Callable[[int], float]:
    def batch(count: int) -> float:
        started = time.perf_counter_ns()
        for _ in range(count):
            call()
        return (time.perf_counter_ns() - started) / count / 1000

    return batch


def _allocation(cdb: bytes) -> int:
    """A PR IN CDB's ALLOCATION LENGTH (SPC-4 6.16.1: bytes 7 and 8)."""
    return int.from_bytes(cdb[7:9], "big")


def _c_batch(*argv: object) -> Callable[[int], float]:
    """A batch of one of the C programs: ``argv`` and the count appended;
    the program prints its own µs per call."""
    head = [str(a) for a in argv]

    def batch(count: int) -> float:
        done = subprocess.run([*head, str(count)], check=True, capture_output=True, text=True)
        return float(done.stdout)

    return batch


def _floor_batch(floor: Path, path: str, cdb: bytes) -> Callable[[int], float]:
    return _c_batch(floor, path, cdb.hex(), _allocation(cdb))


def _core_batch(
    core: Path, path: str, query: str, cdb: bytes, timeout_ms: int
) -> Callable[[int], float]:
    # the capacity that gives the same allocation length, so the same CDB
    return _c_batch(core, path, query, _allocation(cdb), timeout_ms)


def _hot_arguments(device: Any, query: str) -> Any:
    """The argument tuple of the Device's C call for ``query`` on the hot path
    of read_keys()/read_reservation() (replaced when its buffers grow)."""
    return device._keys_call if query == "read_keys" else device._reservation_call


def _stage_calls(device: Any, query: str) -> dict[str, Callable[[], object]]:
    """The Device's own C call for ``query`` with its prebuilt arguments, bare
    and under its lock; a call that does not succeed ends the benchmark (the
    Device would raise)."""
    from pr_native import device as device_module

    function = getattr(device_module, f"_pr_{query}")
    arguments = _hot_arguments(device, query)
    lock = device._lock

    failed = f"{query}: the C call failed (rc is not a response's serial)"

    def bare() -> object:
        if function(*arguments) < 1:
            raise RuntimeError(failed)
        return None

    def locked() -> object:
        with lock:
            if function(*arguments) < 1:
                raise RuntimeError(failed)
        return None

    return {"cffi_call": bare, "cffi_locked": locked}


def _run_quiet(argv: Sequence[str]) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _spawn_batch(argv: Sequence[str]) -> Callable[[int], float]:
    return _per_call(lambda: _run_quiet(argv))


def _sgio_call(
    sg_file: Any, cdb: bytes, allocation: int, decode: Any = None
) -> Callable[[], object]:
    """cython-sgio's call of ``cdb``, its response decoded by ``decode``;
    with none, the call alone (the reference under the layers)."""
    import sgio  # cython-sgio

    buffer = bytearray(allocation)
    if decode is None:
        return lambda: sgio.execute(sg_file, cdb, None, buffer)

    def call() -> object:
        resid = sgio.execute(sg_file, cdb, None, buffer)  # returns the residual count
        return decode(buffer, allocation - resid)

    return call


def _ctypes_call(peer: CtypesSgIo, cdb: bytes, decode: Any) -> Callable[[], object]:
    return lambda: decode(peer.data, peer.execute(cdb))


def _sent_cdb(device: Any, query: str) -> bytes:
    """The CDB pr_native sent for ``query``, from the result struct the
    Device keeps: the steady-state one (a second call, after any resizing)."""
    getattr(device, query)()
    getattr(device, query)()
    result = device._result
    return bytes(list(result.cdb)[: result.cdb_len])


def _check_peers_agree(query: str, ours: Any, theirs: object) -> None:
    """The peers must decode what pr_native decodes, or their timings mean nothing."""
    if query == "read_keys":
        expected: object = (ours.generation, tuple(ours.keys))
    else:
        held = ours.reservation
        expected = (
            ours.generation,
            None if held is None else (held.key, int(held.scope), int(held.type)),
        )
    if theirs != expected:
        raise RuntimeError(f"{query}: a peer decoded {theirs!r}, pr_native {expected!r}")


def measure_per_call(
    path: str, settings: Settings, floor: Path, core: Path, keys: int
) -> list[dict[str, Any]]:
    """Median µs/call of every (query, method) with ``keys`` registered."""
    import pr_native as pr
    from pr_native._native import lib

    batches: list[tuple[str, str, Callable[[int], float], int]] = []
    cdbs: dict[str, str] = {}
    with ExitStack() as stack:
        device = stack.enter_context(pr.Device(path))
        sg_file = stack.enter_context(open(path, "rb+", buffering=0))
        # Every query run once first: a later one may grow the Device's
        # buffers, which changes the allocation length of every CDB and
        # replaces the argument tuples the layers call with.
        for query in QUERIES:
            getattr(device, query)()
        sent = {query: _sent_cdb(device, query) for query in QUERIES}
        hot = {query: _hot_arguments(device, query) for query in PEER_QUERIES}
        for query, arguments in hot.items():
            # the capacity, the third argument, as the C core caps it
            if min(arguments[2], lib.PR_ALLOCATION_MAX) != _allocation(sent[query]):
                raise RuntimeError(f"{query}: the Device's hot path sends another CDB")
        for query, (_, option, _) in QUERIES.items():
            cdb = sent[query]
            cdbs[query] = cdb.hex(" ")
            allocation = _allocation(cdb)
            batches.append((query, "c_floor", _floor_batch(floor, path, cdb), settings.calls))
            batches.append((query, "pr_native", _per_call(getattr(device, query)), settings.calls))
            if query in PEER_QUERIES:
                core_batch = _core_batch(core, path, query, cdb, device._timeout_ms)
                batches.append((query, "c_core", core_batch, settings.calls))
                for stage, call in _stage_calls(device, query).items():
                    batches.append((query, stage, _per_call(call), settings.calls))
                decode = PEER_DECODERS[query]
                peer = CtypesSgIo(path, allocation)
                stack.callback(peer.close)
                with_sgio = _sgio_call(sg_file, cdb, allocation, decode)
                with_ctypes = _ctypes_call(peer, cdb, decode)
                ours = getattr(device, query)()
                _check_peers_agree(query, ours, with_sgio())
                _check_peers_agree(query, ours, with_ctypes())
                batches.append((query, "cython_sgio", _per_call(with_sgio), settings.calls))
                bare_sgio = _sgio_call(sg_file, cdb, allocation)
                batches.append((query, "sgio_call", _per_call(bare_sgio), settings.calls))
                batches.append((query, "ctypes", _per_call(with_ctypes), settings.calls))
            argv = ["sg_persist", "-n", "-i", option, path]
            batches.append((query, "sg_persist", _spawn_batch(argv), settings.forks))

        samples: dict[tuple[str, str], list[float]] = {(q, m): [] for q, m, _, _ in batches}
        for _, _, batch, count in batches:  # warm up: page faults, caches, the dentry
            batch(min(count, 3))
        for _ in range(settings.rounds):  # interleaved: A B C ... A B C ...
            for query, method, batch, count in batches:
                samples[query, method].append(batch(count))
        if any(_hot_arguments(device, query) is not hot[query] for query in PEER_QUERIES):
            raise RuntimeError("the Device's buffers changed during the rounds")

    rows = []
    for (query, method), values in samples.items():
        floor_median = statistics.median(samples[query, "c_floor"])
        median = statistics.median(values)
        rows.append(
            {
                "keys": keys,
                "query": query,
                "method": method,
                "calls_per_round": settings.forks if method == "sg_persist" else settings.calls,
                "cdb": None if method == "sg_persist" else cdbs[query],
                "samples_us": [round(v, 3) for v in values],
                "median_us": round(median, 3),
                "min_us": round(min(values), 3),
                # unrounded: the tables round it once (1.7752 must print 1.78)
                "ratio_to_floor": median / floor_median,
            }
        )
    return rows


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _sample() -> dict[str, int]:
    gc.collect()
    return {"rss_kib": _rss_kib(), "fds": len(os.listdir("/proc/self/fd"))}


def memory_probe(path: str, calls: int, cycles: int) -> dict[str, Any]:
    """RSS and descriptors around ``calls`` read_keys() and ``cycles``
    Device open/close cycles (run in a fresh process: nothing else loaded)."""
    import pr_native as pr

    device = pr.Device(path)
    device.read_keys()
    before_calls = _sample()
    for _ in range(calls):
        device.read_keys()
    after_calls = _sample()
    device.close()
    with pr.Device(path):
        pass
    before_cycles = _sample()
    for _ in range(cycles):
        with pr.Device(path):
            pass
    after_cycles = _sample()

    def phase(count: int, before: dict[str, int], after: dict[str, int]) -> dict[str, Any]:
        delta = {k: after[k] - before[k] for k in before}
        return {"count": count, "before": before, "after": after, "delta": delta}

    return {
        "read_keys": phase(calls, before_calls, after_calls),
        "open_close": phase(cycles, before_cycles, after_cycles),
    }


def measure_memory(path: str, settings: Settings) -> dict[str, Any]:
    argv = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--memory-probe",
        *settings.argv(),
        path,
    ]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _pr_native_command() -> str:
    beside = Path(sys.executable).with_name("pr-native")
    return str(beside) if beside.exists() else (shutil.which("pr-native") or "pr-native")


def measure_startup(path: str, runs: int) -> list[dict[str, Any]]:
    """Median wall time of each command, runs interleaved, one warm-up each."""
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import pr_native'": [sys.executable, "-c", "import pr_native"],
        "pr-native read-keys DEV": [_pr_native_command(), "read-keys", path],
        "sg_persist -n -i -k DEV": ["sg_persist", "-n", "-i", "-k", path],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():
        _run_quiet(argv)
    for _ in range(runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            _run_quiet(argv)
            samples[name].append((time.perf_counter() - started) * 1000)
    return [
        {
            "command": name,
            "samples_ms": [round(v, 2) for v in values],
            "median_ms": round(statistics.median(values), 2),
        }
        for name, values in samples.items()
    ]


@contextmanager
def registered(paths: Sequence[str]) -> Iterator[Callable[[int], None]]:
    """``register(n)`` makes n keys registered, one per path (and a WRITE
    EXCLUSIVE reservation held by the first); everything is removed at exit."""
    import pr_native as pr

    done: list[tuple[str, int]] = []
    with pr.Device(paths[0]) as first:

        def register(count: int) -> None:
            if count > len(paths):
                raise SystemExit(f"{count} keys need {count} device nodes, got {len(paths)}")
            found = () if done else first.read_keys().keys
            if found:
                raise SystemExit(
                    f"{paths[0]}: {len(found)} keys already registered; --keys needs an LU "
                    "without registrations (it registers and removes its own)"
                )
            for path in paths[len(done) : count]:
                key = KEY_BASE + len(done) + 1
                with pr.Device(path) as device:
                    device.register(key)
                done.append((path, key))
                if len(done) == 1:
                    first.reserve(key, pr.ReservationType.WRITE_EXCLUSIVE)

        try:
            yield register
        finally:
            if done:
                first.release(done[0][1], pr.ReservationType.WRITE_EXCLUSIVE)
            for path, key in done:
                with pr.Device(path) as device:
                    device.unregister(key)


def _versions() -> dict[str, Any]:
    from importlib.metadata import version

    import pr_native

    sg_persist = subprocess.run(["sg_persist", "--version"], capture_output=True, text=True)
    gcc = subprocess.run(["gcc", "-dumpfullversion"], capture_output=True, text=True)
    init = Path(pr_native.__file__)
    return {
        "python": platform.python_version(),
        "pr_native_bytecode_cached": Path(importlib.util.cache_from_source(str(init))).exists(),
        "pr_native": pr_native.__version__,
        "cython-sgio": version("cython-sgio"),
        "sg_persist": (sg_persist.stdout + sg_persist.stderr).replace("version:", "").strip(),
        "gcc": gcc.stdout.strip(),
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def benchmark(paths: Sequence[str], settings: Settings) -> dict[str, Any]:
    """Everything, on ``paths[0]`` (the other paths only register keys)."""
    path = paths[0]
    started = time.monotonic()
    per_call: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="percall-") as scratch, registered(paths) as register:
        floor, core = build_floor(Path(scratch)), build_core(Path(scratch))
        import pr_native as pr

        for count in settings.keys or (None,):
            if count is not None:
                register(count)
            with pr.Device(path) as device:
                keys = len(device.read_keys().keys)
            print(f"per call, {keys} keys registered ...", flush=True)
            per_call += measure_per_call(path, settings, floor, core, keys)
        print("memory and descriptors ...", flush=True)
        memory = measure_memory(path, settings)
        print("start-up ...", flush=True)
        startup = measure_startup(path, settings.startup_runs)
    return {
        "schema_version": SCHEMA_VERSION,
        "device": path,
        "settings": dataclasses.asdict(settings),
        "environment": {
            "kernel": platform.release(),
            "cpu": _cpu_model(),
            "cpus": os.cpu_count(),
            "lab_fabric": os.environ.get("PRLAB_FABRIC"),
            **_versions(),
        },
        "per_call": per_call,
        "memory": memory,
        "memory_keys": keys,
        "startup": startup,
        "measure_seconds": round(time.monotonic() - started, 1),
    }


# ------------------------------------------------------------ reporting ----


def _git(*argv: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), *argv], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def source_state() -> dict[str, Any]:
    """The commit measured, and the tracked files that differ from it."""
    modified = _git("diff", "--name-only", "HEAD").splitlines()
    return {"commit": _git("rev-parse", "HEAD") or None, "modified": modified}


def _row(data: dict[str, Any], keys: int, query: str, method: str) -> dict[str, Any] | None:
    for row in data["per_call"]:
        if (row["keys"], row["query"], row["method"]) == (keys, query, method):
            return dict(row)
    return None


def _key_counts(data: dict[str, Any]) -> list[int]:
    return sorted({row["keys"] for row in data["per_call"]})


def _conditions(data: dict[str, Any]) -> list[str]:
    """What was measured where, for the head of the table."""
    env, source, settings = data["environment"], data["source"], data["settings"]
    commit = (source["commit"] or "unknown")[:12]
    count = len(source["modified"])
    modified = f", with uncommitted changes to {count} tracked files" if count else ""
    lab = data.get("lab")
    where = f"lab guest ({lab['accel']}, {lab['fabric']})" if lab else "host"
    lines = [
        f"Commit {commit}{modified}; {where}, kernel {env['kernel']}, "
        f"{env['cpus']} x {env['cpu']}; Python {env['python']}, pr_native {env['pr_native']}, "
        f"cython-sgio {env['cython-sgio']}, sg_persist {env['sg_persist']}.  "
        f"Device {data['device']}.",
        "",
    ]
    if lab:
        lines += [
            f"Host {lab['host_cpu']}, load average {lab['host_load_before'][0]} before and "
            f"{lab['host_load_after'][0]} after the run (the guest shares the host's CPUs).",
            "",
        ]
    return [
        *lines,
        f"Median µs per call over {settings['rounds']} interleaved rounds (per round: "
        f"{settings['calls']} calls, sg_persist {settings['forks']} runs), and the ratio to "
        "the C floor (the same CDB through SG_IO from a C loop).",
        "",
    ]


def _breakdown(data: dict[str, Any], keys: int) -> list[str]:
    """Where a Device call's time goes: each layer's median, and the median
    over the rounds of its difference to the line above in the same round."""
    layers = {"c_floor": METHODS["c_floor"], **STAGES, "pr_native": "+ the rest of the Device call"}
    lines = [
        f"Where a pr_native call's time goes ({keys} keys): the C core instead of the "
        "floor's SG_IO, then one layer more on each line; µs, the ratio to the floor, "
        "and the µs added to the line above (the median of the differences in each round).",
        "",
        "| layer | " + " | ".join(QUERIES[q][2] for q in PEER_QUERIES) + " |",
        "|---|" + "---:|" * len(PEER_QUERIES),
    ]
    previous: dict[str, list[float] | None] = dict.fromkeys(PEER_QUERIES)
    for method, label in layers.items():
        cells = []
        for query in PEER_QUERIES:
            row = _row(data, keys, query, method)
            if row is None:
                cells.append("—")
                previous[query] = None  # the next line's difference would span two layers
                continue
            samples, before = row["samples_us"], previous[query]
            added = ""
            if before is not None:
                added = f", {statistics.median(a - b for a, b in zip(samples, before)):+.1f}"
            cells.append(f"{row['median_us']:.1f} ({row['ratio_to_floor']:.2f}x{added})")
            previous[query] = samples
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for method, label in REFERENCES.items():
        rows = {query: _row(data, keys, query, method) for query in PEER_QUERIES}
        figures = ", ".join(
            f"{QUERIES[query][2]} {row['median_us']:.1f} µs ({row['ratio_to_floor']:.2f}x)"
            for query, row in rows.items()
            if row is not None
        )
        if figures:
            lines += ["", f"For reference, {label}: {figures}."]
    return lines


def markdown(data: dict[str, Any], chart: str | None) -> str:
    lines = ["# PR IN per call", "", *_conditions(data)]
    for keys in _key_counts(data):
        lines += [
            f"## {keys} registered keys",
            "",
            "| method | " + " | ".join(label for _, _, label in QUERIES.values()) + " |",
            "|---|" + "---:|" * len(QUERIES),
        ]
        for method, label in METHODS.items():
            cells = []
            for query in QUERIES:
                row = _row(data, keys, query, method)
                cells.append(
                    "—" if row is None else f"{row['median_us']:.1f} ({row['ratio_to_floor']:.2f}x)"
                )
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines += ["", *_breakdown(data, keys), ""]
    memory = data["memory"]
    lines += [
        f"## Memory and descriptors (pr_native, {data['memory_keys']} keys)",
        "",
        "| after | RSS before (KiB) | RSS after (KiB) | Δ RSS (KiB) | Δ open fds |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, what in (("read_keys", "read_keys() calls"), ("open_close", "Device open/close")):
        m = memory[name]
        lines.append(
            f"| {m['count']:,} {what} | {m['before']['rss_kib']:,} | {m['after']['rss_kib']:,} "
            f"| {m['delta']['rss_kib']:+,} | {m['delta']['fds']:+} |"
        )
    lines += [
        "",
        f"## Start-up (median of {data['settings']['startup_runs']} runs each)",
        "",
        "| command | ms |",
        "|---|---:|",
    ]
    for row in data["startup"]:
        lines.append(f"| `{row['command']}` | {row['median_ms']:.1f} |")
    if chart:
        lines += ["", f"![µs per call, log scale]({chart})"]
    return "\n".join(lines) + "\n"


def draw_chart(data: dict[str, Any], path: Path) -> bool:
    """Bars of µs/call per method on a log scale, the floor as a dashed line."""
    if os.environ.get("PRLAB_IN_GUEST") == "1":
        # numpy dies of SIGILL on the guest's emulated CPU; --lab draws on the host
        print("no chart inside the lab guest (percall.py --lab draws it)", file=sys.stderr)
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart (pip install matplotlib)", file=sys.stderr)
        return False
    groups = [(keys, query) for keys in _key_counts(data) for query in QUERIES]
    methods = [m for m in METHODS if m != "c_floor"]
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(13, 5.5))
    for i, method in enumerate(methods):
        xs, ys, ratios = [], [], []
        for g, (keys, query) in enumerate(groups):
            row = _row(data, keys, query, method)
            if row is not None:
                xs.append(g - 0.4 + width * (i + 0.5))
                ys.append(row["median_us"])
                ratios.append(f"{row['ratio_to_floor']:.1f}x")
        bars = ax.bar(xs, ys, width, label=METHODS[method])
        ax.bar_label(bars, labels=ratios, fontsize=7, padding=1)
    for g, (keys, query) in enumerate(groups):
        floor = _row(data, keys, query, "c_floor")
        if floor is not None:
            ax.hlines(
                floor["median_us"],
                g - 0.45,
                g + 0.45,
                colors="black",
                linestyles="dashed",
                zorder=3,
                label=METHODS["c_floor"] if g == 0 else None,
            )
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * 2)  # room for the labels above the tallest bars
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{QUERIES[q][2]}\n{k} keys" for k, q in groups], fontsize=8)
    ax.set_ylabel("µs per call (median, log scale)")
    commit = (data["source"]["commit"] or "unknown")[:12]
    ax.set_title(f"PR IN per call, ratio to the C floor above each bar (commit {commit})")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=len(METHODS))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def write_results(data: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    chart = "percall.png" if draw_chart(data, out / "percall.png") else None
    (out / "percall.json").write_text(json.dumps(data, indent=1) + "\n")
    table = markdown(data, chart)
    (out / "percall.md").write_text(table)
    print(table)
    print(f"results in {out}: percall.json, percall.md" + (", percall.png" * bool(chart)))


# ------------------------------------------------------------ the lab ----


def missing_prerequisites() -> list[str]:
    """What this benchmark needs and cannot find, as install hints."""
    missing = []
    if importlib.util.find_spec("sgio") is None:
        missing.append("cython-sgio (pip install cython-sgio)")
    for binary, package in (("gcc", "gcc"), ("sg_persist", "sg3-utils")):
        if shutil.which(binary) is None:
            missing.append(f"{binary} (apt-get install {package})")
    return missing


def lab_paths() -> list[str]:
    info = json.loads(Path(os.environ["PRLAB_INFO"]).read_text())
    return [i["sg"] for i in info["initiators"]]


def run_lab(args: argparse.Namespace, settings: Settings) -> int:
    sys.path.insert(0, str(ROOT / "tests" / "lab"))
    import prlab

    status = prlab.lab_available(args.fabric)
    if not status.ok:
        print(f"the lab cannot run here: {status.reason}", file=sys.stderr)
        return 2
    initiators = max(settings.keys or (1,))
    # The guest sees the checkout read-only and cannot cache bytecode there:
    # without caches every start-up in it would compile pr_native from source.
    package = ROOT / "pr_native"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    source = source_state()  # before the boot: others may commit meanwhile
    started = time.monotonic()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="percall-") as share:
        raw = Path(share) / "raw.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            *settings.argv(),
            f"--raw-json={raw}",
        ]
        config = prlab.LabConfig(
            fabric=args.fabric, initiators=initiators, shares=(share,), timeout=args.timeout
        )
        print(f"lab: {initiators} initiators over {args.fabric}", flush=True)
        result = prlab.run(command, config, stream=True)
        if result.returncode != 0:
            print(f"percall failed in the lab (exit {result.returncode})", file=sys.stderr)
            return int(result.returncode or 1)
        data = json.loads(raw.read_text())
    data["source"] = source
    data["lab"] = {
        "fabric": args.fabric,
        "initiators": initiators,
        "accel": os.environ.get("PRLAB_ACCEL", "tcg"),
        "host_cpu": _cpu_model(),
        "boot_to_poweroff_seconds": round(result.duration, 1),
        # other work on the host shares its CPUs with the guest's
        "host_load_before": [round(v, 2) for v in load_before],
        "host_load_after": [round(v, 2) for v in os.getloadavg()],
    }
    data["wall_seconds"] = round(time.monotonic() - started, 1)
    write_results(data, args.out)
    return 0


# ------------------------------------------------------------------ CLI ----


def _key_counts_arg(text: str) -> tuple[int, ...]:
    if text == "none":
        return ()
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected counts such as 2,64, got {text!r}") from None
    if any(c < 1 for c in counts) or list(counts) != sorted(set(counts)):
        raise argparse.ArgumentTypeError("key counts must be positive and increasing")
    return counts


def resolve_settings(args: argparse.Namespace) -> Settings:
    """--quick or the full settings, overridden by each option given; --keys
    defaults to none on devices given by hand (nothing is registered there)."""
    base = QUICK if args.quick else FULL
    if args.devices:
        base = dataclasses.replace(base, keys=())
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(Settings)
        if getattr(args, f.name) is not None
    }
    settings = dataclasses.replace(base, **given)
    for name in ("rounds", "calls", "forks", "memory_calls", "open_cycles", "startup_runs"):
        if getattr(settings, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be at least 1")
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("devices", nargs="*", help="/dev/sgN nodes of one LU (default: the lab's)")
    parser.add_argument("--lab", action="store_true", help="boot the lab and run there")
    parser.add_argument("--quick", action="store_true", help="a short run (for tests)")
    parser.add_argument("--keys", type=_key_counts_arg, help="key counts, e.g. 2,64, or none")
    parser.add_argument("--rounds", type=int, help="interleaved rounds")
    parser.add_argument("--calls", type=int, help="calls per method and round")
    parser.add_argument("--forks", type=int, help="sg_persist processes per round")
    parser.add_argument("--memory-calls", type=int, help="read_keys() calls for RSS/fds")
    parser.add_argument("--open-cycles", type=int, help="Device open/close cycles for RSS/fds")
    parser.add_argument("--startup-runs", type=int, help="runs of each start-up command")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results directory")
    parser.add_argument("--fabric", default="loop", choices=("loop", "iscsi"))
    parser.add_argument("--timeout", type=float, default=1800.0, help="lab wall-clock limit (s)")
    parser.add_argument("--raw-json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = resolve_settings(args)
    if args.memory_probe:
        probe = memory_probe(args.devices[0], settings.memory_calls, settings.open_cycles)
        print(json.dumps(probe))
        return 0
    missing = missing_prerequisites()
    if missing:
        print("percall needs: " + "; ".join(missing), file=sys.stderr)
        return 2
    if args.lab:
        return run_lab(args, settings)
    paths = args.devices or lab_paths()
    if args.raw_json:
        args.raw_json.write_text(json.dumps(benchmark(paths, settings)) + "\n")
        return 0
    source = source_state()
    data = benchmark(paths, settings)
    data["source"] = source
    write_results(data, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
