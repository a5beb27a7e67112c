#!/usr/bin/env python3
"""How long one READ KEYS round over many LUNs takes, three ways.

    sequential   Device.read_keys() on each device, one after another (SG_IO)
    concurrent   pr_native.poll: every command in flight at once (sg async I/O)
    sg_persist   one ``sg_persist -n -i -k DEV`` process per device, one after
                 another: what monitoring daemons and fence agents do today

Run it on devices you may read (PR IN changes nothing):

    python benchmarks/poll.py /dev/sg3 /dev/sg4 ... [--rounds 20] [--json]

or let it boot the lab (tests/lab/prlab.py; needs root) with one LU seen by
N initiators over iSCSI with netem latency on the loopback, and run there:

    python benchmarks/poll.py --lab --initiators 32 --latency 500us

Concurrency only pays where the path has latency (a SAN; here netem): over
tcm_loop every command runs on the guest's own CPUs and nothing overlaps
(/work/shared/reference/lab-fabrics.md (d)).  This reports timings; it
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rounds(work: Callable[[], object], rounds: int) -> list[float]:
    work()  # warm up: opens, page faults, caches
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return timings


def measure(paths: Sequence[str], rounds: int, forks: int) -> dict[str, list[float]]:
    import pr_native as pr
    from pr_native.poll import Poller, PollResult

    devices = [pr.Device(p) for p in paths]
    try:

        def sequential() -> None:
            for device in devices:
                device.read_keys()

        poller = Poller(devices, ("keys",))

        def concurrent() -> None:
            results = poller.poll()
            bad = [r for r in results if not isinstance(r, PollResult)]
            if bad:
                raise RuntimeError(f"poll failed: {bad[0]!r}")

        def forked() -> None:
            for path in paths:
                subprocess.run(
                    ["sg_persist", "-n", "-i", "-k", path],
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )

        return {
            "sequential": _rounds(sequential, rounds),
            "concurrent": _rounds(concurrent, rounds),
            "sg_persist": _rounds(forked, forks),
        }
    finally:
        for device in devices:
            device.close()


def report(paths: Sequence[str], timings: dict[str, list[float]], as_json: bool) -> None:
    summary = {
        name: {
            "rounds": len(values),
            "median_ms": statistics.median(values) * 1000,
            "min_ms": min(values) * 1000,
        }
        for name, values in timings.items()
    }
    if as_json:
        print(json.dumps({"devices": len(paths), "results": summary}, indent=2))
        return
    base = summary["sequential"]["median_ms"]
    print(f"READ KEYS on {len(paths)} devices, per round:")
    print(f"  {'method':<12} {'median ms':>10} {'min ms':>10} {'vs sequential':>14}")
    for name, row in summary.items():
        ratio = base / row["median_ms"] if row["median_ms"] else float("inf")
        print(f"  {name:<12} {row['median_ms']:>10.2f} {row['min_ms']:>10.2f} {ratio:>13.1f}x")


def lab_paths() -> list[str]:
    info = json.loads(Path(os.environ["PRLAB_INFO"]).read_text())
    return [i["sg"] for i in info["initiators"]]


def run_lab(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT / "tests" / "lab"))
    import prlab

    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--rounds",
        str(args.rounds),
        "--forks",
        str(args.forks),
        *(["--json"] if args.json else []),
    ]
    config = prlab.LabConfig(
        fabric=args.fabric,
        initiators=args.initiators,
        latency=args.latency if args.fabric == "iscsi" else None,
        timeout=1200.0,
    )
    print(
        f"lab: {args.initiators} initiators over {args.fabric}"
        + (f", netem {args.latency}" if config.latency else ""),
        flush=True,
    )
    result = prlab.run(command, config, stream=True)
    return int(result.returncode or 0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("devices", nargs="*", help="device nodes (default: the lab's)")
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds per method")
    parser.add_argument("--forks", type=int, default=3, help="timed rounds of sg_persist")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--lab", action="store_true", help="boot the lab and run there")
    parser.add_argument("--fabric", default="iscsi", choices=("iscsi", "loop"))
    parser.add_argument("--initiators", type=int, default=32)
    parser.add_argument("--latency", default="500us", help="netem delay (iscsi)")
    args = parser.parse_args(argv)
    if args.lab:
        return run_lab(args)
    paths = args.devices or lab_paths()
    report(paths, measure(paths, args.rounds, args.forks), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
