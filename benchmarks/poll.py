#!/usr/bin/env python3
"""How long one READ KEYS round over many LUN paths takes, four ways.

    C async floor   a C program the benchmark writes and builds with gcc at
                    run time: every command written to its /dev/sgN at once
                    (sg's write()), then poll() and read() until all are back;
                    the floor every ratio is taken to
    Poller          pr_native.poll.Poller.poll(): the same sg asynchronous
                    interface, one C call per round, results decoded in it
    one by one      Device.read_keys() on each device, one after another
    sg_persist      one ``sg_persist -n -i -k DEV`` process per device, one
                    after another: what monitoring scripts do today

Each is measured over the first 1, 16 and 32 paths (``--sizes``) in
interleaved batches (``--batch`` consecutive rounds of every method and
size, then the next batch, the order turned by one each time); the tables
give the median and minimum over the batches of the mean round time, and
the median's ratio to the floor's.
Run it on device nodes you may read (PR IN changes nothing):

    python benchmarks/poll.py /dev/sg3 /dev/sg4 ... [--rounds 20] [--batch 5] [--out DIR]

or let it boot the lab (tests/lab/prlab.py; needs root): one LU seen by 32
initiators over iSCSI, every PDU delayed by netem on the loopback:

    python benchmarks/poll.py --lab [--initiators 32] [--latency 500us]

Concurrency only pays where the path has latency (a SAN; here netem): over
tcm_loop every command runs on the guest's own CPUs and nothing overlaps.
It writes poll.json and poll.md to ``--out`` and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results"

FLOOR_SOURCE = r"""
#include <fcntl.h>
#include <poll.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* pollfloor ROUNDS DEV...: READ KEYS on every DEV at once through sg's
 * asynchronous interface, ROUNDS times (after two untimed rounds); prints
 * the milliseconds of each round, one per line. */
#define MAX_DEVICES 1024
#define ALLOCATION 4096 /* as a new Device's READ KEYS */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static unsigned char cdb[10] = {0x5e, 0, 0, 0, 0, 0, 0, ALLOCATION >> 8, ALLOCATION & 0xff, 0};
static unsigned char data[MAX_DEVICES][ALLOCATION], sense[MAX_DEVICES][32];
static struct pollfd fds[MAX_DEVICES];

static int round_trip(int count)
{
    struct sg_io_hdr io;
    int i, left = count;

    for (i = 0; i < count; i++) {
        memset(&io, 0, sizeof io);
        io.interface_id = 'S';
        io.dxfer_direction = SG_DXFER_FROM_DEV;
        io.cmd_len = sizeof cdb;
        io.cmdp = cdb;
        io.dxfer_len = ALLOCATION;
        io.dxferp = data[i];
        io.mx_sb_len = sizeof sense[i];
        io.sbp = sense[i];
        io.timeout = 30000;
        io.pack_id = i;
        if (write(fds[i].fd, &io, sizeof io) != (ssize_t)sizeof io) {
            perror("write");
            return -1;
        }
        fds[i].events = POLLIN;
    }
    while (left > 0) {
        if (poll(fds, (nfds_t)count, 30000) <= 0) {
            perror("poll");
            return -1;
        }
        for (i = 0; i < count; i++) {
            if (!(fds[i].revents & POLLIN))
                continue;
            memset(&io, 0, sizeof io);
            io.interface_id = 'S';
            if (read(fds[i].fd, &io, sizeof io) != (ssize_t)sizeof io) {
                perror("read");
                return -1;
            }
            if (io.status || io.host_status || io.driver_status) {
                fprintf(stderr, "status %#x host %#x driver %#x\n", io.status,
                        io.host_status, io.driver_status);
                return -1;
            }
            fds[i].events = 0; /* one command per device and round */
            left--;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rounds, count = argc - 2, i, n;

    if (argc < 3 || (rounds = atoi(argv[1])) < 1 || count > MAX_DEVICES) {
        fprintf(stderr, "usage: %s ROUNDS DEV...\n", argv[0]);
        return 2;
    }
    for (i = 0; i < count; i++) {
        fds[i].fd = open(argv[i + 2], O_RDWR | O_NONBLOCK);
        if (fds[i].fd < 0) {
            perror(argv[i + 2]);
            return 1;
        }
    }
    for (n = -2; n < rounds; n++) {
        double started = now();
        if (round_trip(count) < 0)
            return 1;
        if (n >= 0)
            printf("%.4f\n", now() - started);
    }
    return 0;
}
"""


def build_floor(directory: Path) -> Path:
    from percall import build_c  # benchmarks/, next to this script

    return build_c(directory, "pollfloor", FLOOR_SOURCE)


def _timed(work: Callable[[], object], batch: int) -> float:
    """Mean ms of ``batch`` consecutive rounds of ``work``."""
    started = time.perf_counter()
    for _ in range(batch):
        work()
    return (time.perf_counter() - started) * 1000 / batch


def methods(
    paths: Sequence[str], floor: Path, devices: list, batch: int
) -> dict[str, Callable[[], float]]:
    """Each method as a function that runs ``batch`` rounds (sg_persist:
    one) and returns their mean ms."""
    from pr_native.poll import Poller, PollResult

    poller = Poller(devices, ("keys",))

    def floor_rounds() -> float:
        argv = [str(floor), str(batch), *paths]
        done = subprocess.run(argv, check=True, capture_output=True, text=True)
        times = [float(line) for line in done.stdout.split()]
        return sum(times) / len(times)

    def poller_round() -> None:
        bad = [r for r in poller.poll() if not isinstance(r, PollResult)]
        if bad:
            raise RuntimeError(f"poll failed: {bad[0]!r}")

    def one_by_one() -> None:
        for device in devices:
            device.read_keys()

    def forked() -> None:
        for path in paths:
            subprocess.run(
                ["sg_persist", "-n", "-i", "-k", path],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    poller_round()  # warm up: opens, page faults, caches
    one_by_one()
    return {
        "C async floor": floor_rounds,
        "Poller": lambda: _timed(poller_round, batch),
        "one by one": lambda: _timed(one_by_one, batch),
        "sg_persist": lambda: _timed(forked, 1),
    }


def measure(
    paths: Sequence[str], sizes: Sequence[int], rounds: int, forks: int, batch: int
) -> dict[int, dict[str, list[float]]]:
    import pr_native as pr

    devices = [pr.Device(p) for p in paths]
    try:
        with tempfile.TemporaryDirectory() as scratch:
            floor = build_floor(Path(scratch))
            plans = {n: methods(paths[:n], floor, devices[:n], batch) for n in sizes}
            timings: dict[int, dict[str, list[float]]] = {
                n: {name: [] for name in plan} for n, plan in plans.items()
            }
            # The order turns by one each batch: no method always follows
            # the floor's process start (or any other one).
            order = [(n, name) for n, plan in plans.items() for name in plan]
            for r in range(rounds):
                turn = r % len(order)
                for n, name in order[turn:] + order[:turn]:
                    if name == "sg_persist" and r >= forks:
                        continue
                    timings[n][name].append(plans[n][name]())
            return timings
    finally:
        for device in devices:
            device.close()


def summary(timings: dict[int, dict[str, list[float]]]) -> dict[str, dict[str, dict]]:
    table: dict[str, dict[str, dict]] = {}
    for n, by_method in timings.items():
        floor = statistics.median(by_method["C async floor"])
        table[str(n)] = {
            name: {
                "rounds": len(values),
                "median_ms": statistics.median(values),
                "min_ms": min(values),
                "ratio": statistics.median(values) / floor,
            }
            for name, values in by_method.items()
        }
    return table


def markdown(results: dict) -> str:
    lines = [
        "# READ KEYS over many LUN paths, one round",
        "",
        results["setting"],
        "",
        f"Median (minimum) ms per round over {results['rounds']} interleaved batches of "
        f"{results['batch']} rounds (sg_persist: one round, in the first {results['forks']}), "
        "and the median's ratio to the C asynchronous floor's.",
        "",
        "| method | "
        + " | ".join(f"{n} path{'s' if n != '1' else ''}" for n in results["sizes"])
        + " |",
        "|---|" + "---:|" * len(results["sizes"]),
    ]
    methods_seen = list(next(iter(results["results"].values())))
    for name in methods_seen:
        cells = []
        for n in results["sizes"]:
            row = results["results"][n][name]
            cells.append(f"{row['median_ms']:.2f} ({row['min_ms']:.2f}) {row['ratio']:.2f}x")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _setting(paths: Sequence[str]) -> str:
    info_path = os.environ.get("PRLAB_INFO")
    where = f"{len(paths)} device nodes"
    if info_path:
        info = json.loads(Path(info_path).read_text())
        latency = os.environ.get("POLL_BENCH_LATENCY") or "no"
        where = (
            f"lab guest ({info.get('fabric')}, {len(info['initiators'])} initiators of one LU, "
            f"{latency} netem delay on the loopback)"
        )
    load = os.getloadavg()[0]
    return (
        f"{where}; kernel {platform.release()}; Python {platform.python_version()}; "
        f"load average {load:.2f} at the start."
    )


def lab_paths() -> list[str]:
    info = json.loads(Path(os.environ["PRLAB_INFO"]).read_text())
    return [i["sg"] for i in info["initiators"]]


def run_lab(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT / "tests" / "lab"))
    import prlab

    # The guest sees the host's root read-only: it writes its results into a
    # directory shared writable with it, copied to --out afterwards.
    with tempfile.TemporaryDirectory(prefix="poll-") as share:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--rounds",
            str(args.rounds),
            "--forks",
            str(args.forks),
            "--batch",
            str(args.batch),
            "--sizes",
            ",".join(map(str, args.sizes)),
            "--out",
            share,
        ]
        config = prlab.LabConfig(
            fabric=args.fabric,
            initiators=max(args.initiators, max(args.sizes)),
            latency=args.latency if args.fabric == "iscsi" else None,
            env={"POLL_BENCH_LATENCY": args.latency if args.fabric == "iscsi" else ""},
            shares=(share,),
            timeout=1800.0,
        )
        print(
            f"lab: {config.initiators} initiators over {args.fabric}"
            + (f", netem {args.latency}" if config.latency else ""),
            flush=True,
        )
        result = prlab.run(command, config, stream=True)
        if result.returncode != 0:
            print(f"poll failed in the lab (exit {result.returncode})", file=sys.stderr)
            return int(result.returncode or 1)
        args.out.mkdir(parents=True, exist_ok=True)
        for name in ("poll.json", "poll.md"):
            shutil.copyfile(Path(share) / name, args.out / name)
    print(f"results in {args.out}: poll.json, poll.md")
    return 0


def _sizes_arg(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes are positive path counts, e.g. 1,16,32")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("devices", nargs="*", help="/dev/sgN nodes (default: the lab's)")
    parser.add_argument("--rounds", type=int, default=20, help="interleaved batches")
    parser.add_argument("--batch", type=int, default=5, help="rounds per method and batch")
    parser.add_argument("--forks", type=int, default=3, help="rounds that include sg_persist")
    parser.add_argument("--sizes", type=_sizes_arg, default=[1, 16, 32], help="path counts")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results directory")
    parser.add_argument("--lab", action="store_true", help="boot the lab and run there")
    parser.add_argument("--fabric", default="iscsi", choices=("iscsi", "loop"))
    parser.add_argument("--initiators", type=int, default=32)
    parser.add_argument("--latency", default="500us", help="netem delay (iscsi)")
    args = parser.parse_args(argv)
    if args.lab:
        return run_lab(args)
    paths = args.devices or lab_paths()
    sizes = [n for n in args.sizes if n <= len(paths)]
    if not sizes:
        parser.error(f"only {len(paths)} devices for sizes {args.sizes}")
    results = {
        "setting": _setting(paths),
        "sizes": [str(n) for n in sizes],
        "rounds": args.rounds,
        "batch": args.batch,
        "forks": args.forks,
        "results": summary(measure(paths, sizes, args.rounds, args.forks, args.batch)),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "poll.json").write_text(json.dumps(results, indent=2) + "\n")
    text = markdown(results)
    (args.out / "poll.md").write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
