"""``pr-native exporter --listen ADDR DEV...``: Prometheus metrics of PR state.

Needs the optional extra ``pip install 'pr_native[exporter]'``
(prometheus_client).  Every scrape of ``http://ADDR/metrics`` runs one
polling round (``pr_native.poll``: READ KEYS and READ RESERVATION to every
device at once; a device that reports a UNIT ATTENTION is read once more)
and reports, per ``device`` label:

    pr_native_up                       1 when the last poll read the state, else 0
    pr_native_generation               PR generation
    pr_native_registered_keys          number of registered keys
    pr_native_reservation_present      1 when a reservation is held
    pr_native_reservation_type         its type code (SPC: 1, 3, 5-8), 0 when none
    pr_native_reservation_holder_info  1, labels holder_key (hex) and type (name)
    pr_native_poll_duration_seconds    how long the last polling round took
    pr_native_errors_total             failed polls, by ``kind`` (exception class,
                                       e.g. UnitAttention, ReservationConflict,
                                       FileNotFoundError)

Polling only reads (PR IN) and never changes a reservation, but it consumes
the unit attentions of the I_T nexus it reads through.  The exporter runs
until SIGINT or SIGTERM (exit status 0).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from types import FrameType, ModuleType
from typing import Any

from .errors import UnitAttention
from .exit_codes import ExitCode
from .poll import PollEntry, Poller, PollResult

DEFAULT_PORT = 9739
_MISSING = (
    "pr-native exporter needs prometheus_client: pip install 'pr_native[exporter]' "
    "(or pip install prometheus_client)"
)


def prometheus() -> ModuleType:
    """prometheus_client, or ImportError saying how to install it."""
    try:
        return importlib.import_module("prometheus_client")
    except ImportError as error:
        raise ImportError(_MISSING) from error


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT`` or ``:PORT`` (all addresses)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--listen wants HOST:PORT, got {text!r}") from None
    if not 0 < number < 65536:
        raise argparse.ArgumentTypeError(f"port out of range: {text!r}")
    return host.strip("[]") or "0.0.0.0", number


class PRCollector:
    """A prometheus_client collector: one polling round per scrape."""

    def __init__(self, poller: Poller, client: ModuleType) -> None:
        self._poller = poller
        self._core = importlib.import_module(client.__name__ + ".core")
        self._lock = threading.Lock()
        self._errors: Counter[tuple[str, str]] = Counter()

    def poll(self) -> list[PollEntry]:
        """One round; devices that answered with a UNIT ATTENTION are read
        again (the attention is counted as an error of its kind)."""
        with self._lock:
            entries = self._poller.poll()
            self._count(entries)
            if any(isinstance(e, UnitAttention) for e in entries):
                again = self._poller.poll()
                self._count(again)
                entries = [b if isinstance(a, UnitAttention) else a for a, b in zip(entries, again)]
            return entries

    def _count(self, entries: list[PollEntry]) -> None:
        for path, entry in zip(self._poller.paths, entries):
            if not isinstance(entry, PollResult):
                self._errors[(path, type(entry).__name__)] += 1

    def _families(self) -> dict[str, Any]:
        core = self._core

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ("device",)) -> Any:
            return core.GaugeMetricFamily(f"pr_native_{name}", doc, labels=list(labels))

        return {
            "up": gauge("up", "1 when the last poll read the PR state"),
            "generation": gauge("generation", "PR generation"),
            "keys": gauge("registered_keys", "number of registered reservation keys"),
            "present": gauge("reservation_present", "1 when a persistent reservation is held"),
            "type": gauge("reservation_type", "reservation type code (SPC), 0 when none"),
            "holder": gauge(
                "reservation_holder_info",
                "the reservation holder's key and the type",
                ("device", "holder_key", "type"),
            ),
            "duration": gauge("poll_duration_seconds", "duration of the last polling round"),
            "errors": core.CounterMetricFamily(
                "pr_native_errors", "failed polls by kind", labels=["device", "kind"]
            ),
        }

    def describe(self) -> Iterator[Any]:
        """The metric names, without polling (prometheus_client asks at registration)."""
        yield from self._families().values()

    def collect(self) -> Iterator[Any]:
        """Poll once and report."""
        entries = self.poll()
        family = self._families()
        for path, entry in zip(self._poller.paths, entries):
            family["up"].add_metric([path], 1.0 if isinstance(entry, PollResult) else 0.0)
            if not isinstance(entry, PollResult):
                continue
            assert entry.keys is not None and entry.reservation is not None
            held = entry.reservation.reservation
            family["generation"].add_metric([path], float(entry.keys.generation))
            family["keys"].add_metric([path], float(len(entry.keys.keys)))
            family["present"].add_metric([path], 0.0 if held is None else 1.0)
            family["type"].add_metric([path], 0.0 if held is None else float(held.type))
            if held is not None:
                family["holder"].add_metric([path, f"0x{held.key:016x}", held.type.name], 1.0)
            family["duration"].add_metric([path], entry.duration)
        with self._lock:
            counts = sorted(self._errors.items())
        for (path, name), count in counts:
            family["errors"].add_metric([path, name], float(count))
        yield from family.values()


def serve(paths: list[str], host: str, port: int, timeout: float) -> int:
    """Serve /metrics until SIGINT or SIGTERM."""
    client = prometheus()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Poller(paths, ("keys", "reservation"), timeout=timeout) as poller:
            registry = client.CollectorRegistry()
            registry.register(PRCollector(poller, client))
            started = client.start_http_server(port, addr=host, registry=registry)
            print(f"pr-native exporter: http://{host}:{port}/metrics", file=sys.stderr, flush=True)
            while not stop.wait(3600):
                pass
            if isinstance(started, tuple):  # prometheus_client >= 0.17: (server, thread)
                started[0].shutdown()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return ExitCode.OK


def add_parser(commands: Any, help_text: str) -> None:
    """The ``exporter`` subcommand of pr-native (``help_text``: its line in the
    command list, kept by pr_native.cli, which loads this module only to run it)."""
    sub = commands.add_parser(
        "exporter",
        help=help_text,
        description="Serve Prometheus metrics of persistent reservation state; every "
        "scrape polls the devices once.",
    )
    sub.add_argument("devices", nargs="+", metavar="DEV", help="/dev/sgN nodes")
    sub.add_argument(
        "--listen",
        type=parse_listen,
        default=("127.0.0.1", DEFAULT_PORT),
        help=f"HOST:PORT to serve /metrics on (127.0.0.1:{DEFAULT_PORT})",
    )
    sub.add_argument("--timeout", type=float, default=30.0, help="seconds per command")
    sub.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    sub.add_argument("-v", "--verbose", action="count", default=0)
    sub.set_defaults(run=run, device=None)


def run(args: argparse.Namespace, out: Any) -> int:
    """Entry from pr_native.cli."""
    try:
        prometheus()
    except ImportError as error:
        print(f"pr-native exporter: {error}", file=sys.stderr)
        return ExitCode.SYNTAX_ERROR
    host, port = args.listen
    return serve(list(args.devices), host, port, args.timeout)
