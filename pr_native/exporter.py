"""``pr-native exporter --listen HOST:PORT DEV...``: Prometheus metrics of PR state.

Needs the optional extra ``pip install 'pr_native[exporter]'``
(prometheus_client).  Every scrape of ``http://HOST:PORT/metrics`` runs one
polling round (``pr_native.poll``: READ KEYS and READ RESERVATION to every
device at once; a device that answers with a UNIT ATTENTION is read again)
and reports:

    pr_native_up{device, lu_name}
        1 when this scrape read the device's state, else 0
    pr_native_generation{device, lu_name}
        the PR generation (READ KEYS): rises with every PR OUT that changes
        the registrations (REGISTER, CLEAR, PREEMPT, ...), not with RESERVE
        or RELEASE
    pr_native_registered_key{device, lu_name, key}
        one series per registered key (0x and 16 hex digits, as the command
        line prints keys); the value is how many I_T nexuses registered it
    pr_native_reservation_held{device, lu_name, holder_key, type}
        1, with the holder's key and the type's SPC name, while a persistent
        reservation is held; 0, with both labels empty, while none is.  The
        all-registrants types show key 0, as READ RESERVATION reports them
    pr_native_unit_attentions_total{device, lu_name, kind}
        unit attentions the scrapes met, and so consumed, by condition
        (REGISTRATIONS_PREEMPTED, RESERVATIONS_RELEASED, ..., or the ASC/ASCQ
        of one without a name, such as 3Fh/01h)
    pr_native_errors_total{device, lu_name, kind}
        reads that failed, by exception class (ReservationConflict,
        CommandTimeout, FileNotFoundError, ...)
    pr_native_scrape_duration_seconds
        how long this scrape's polling took, all devices together

``device`` is the node named on the command line; ``/dev/sgN`` numbers follow
the order in which the kernel found the devices, so it is not stable across
reboots.  ``lu_name`` is the logical unit's own name (``pr-native identify``:
its preferred VPD page 83h designator, ``naa.…``), the label to alert on and
to group the paths of one LU by.  Each device's identity is read once, in the
first scrape after the device was opened (and again after it was reopened
following a path loss), before that scrape's polling round and never inside
it; a device that does not answer INQUIRY then has an empty ``lu_name``
(Prometheus stores an empty label as no label) until it answers (asked again
no sooner than ``poll.IDENTIFY_RETRY`` seconds later), and is monitored all
the same.

Polling only reads (PR IN) and never changes a reservation, but a PR IN
reports, and so consumes, a pending UNIT ATTENTION of the I_T nexus it goes
through: the cluster software on that nexus then never sees it.  Run the
exporter through an initiator port the cluster software does not use.

The polling rounds run in the main thread, so SIGINT or SIGTERM ends a round
held by a stalled path at once; the exporter then closes its devices and
exits with status 0.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import ipaddress
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from types import FrameType, ModuleType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .errors import UnitAttention
from .exit_codes import ExitCode
from .poll import PollEntry, Poller, PollResult

DEFAULT_PORT = 9739
DEFAULT_LISTEN = ("127.0.0.1", DEFAULT_PORT)
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# A scrape reads a device at most this many times: a nexus can have several
# unit attentions queued, each reported by one command.
_READS = 4
_MISSING = (
    "pr-native exporter needs prometheus_client: pip install 'pr_native[exporter]' "
    "(or pip install prometheus_client)"
)

_DEVICE_LABELS = (
    " device: the node named on the command line, not stable across reboots;"
    " lu_name: the logical unit's stable name (VPD page 83h, as pr-native identify"
    " reports it; empty when the device did not answer INQUIRY)."
)
_CONSUMES = (
    " Each scrape's PR IN consumes a pending unit attention of this exporter's"
    " I_T nexus, which the cluster software on that nexus then never sees:"
    " monitor from another initiator port."
)

#: name -> (type, help, labels after device and lu_name); None: no labels
METRICS: dict[str, tuple[str, str, tuple[str, ...] | None]] = {
    "pr_native_up": (
        "gauge",
        "1 when this scrape read the device's PR state (READ KEYS and READ RESERVATION), "
        "0 when it failed (see pr_native_errors_total)." + _DEVICE_LABELS,
        (),
    ),
    "pr_native_generation": (
        "gauge",
        "PR generation (READ KEYS): rises with every PR OUT that changes the "
        "registrations (REGISTER, CLEAR, PREEMPT, ...), not with RESERVE or RELEASE."
        + _DEVICE_LABELS,
        (),
    ),
    "pr_native_registered_key": (
        "gauge",
        "One series per registered reservation key (key: 0x and 16 hex digits); the value "
        "is the number of I_T nexuses registered with it." + _DEVICE_LABELS,
        ("key",),
    ),
    "pr_native_reservation_held": (
        "gauge",
        "1 while a persistent reservation is held, labelled with the holder's key and "
        "the type's SPC name (all-registrants types: key 0x0000000000000000); 0, with "
        "empty holder_key and type, while none is." + _DEVICE_LABELS,
        ("holder_key", "type"),
    ),
    "pr_native_unit_attentions": (
        "counter",
        "Unit attentions met by the scrapes' PR IN commands, by condition (kind)."
        + _CONSUMES
        + _DEVICE_LABELS,
        ("kind",),
    ),
    "pr_native_errors": (
        "counter",
        "PR IN reads that failed, by exception class (kind)." + _DEVICE_LABELS,
        ("kind",),
    ),
    "pr_native_scrape_duration_seconds": (
        "gauge",
        "Seconds this scrape's polling took: every device at once, with the re-reads "
        "after unit attentions.",
        None,
    ),
}


def exported_names() -> frozenset[str]:
    """The sample names a scrape can contain (a counter's end in ``_total``)."""
    return frozenset(
        name + ("_total" if kind == "counter" else "") for name, (kind, _, _) in METRICS.items()
    )


def _label(lu_name: str | None) -> str:
    """The ``lu_name`` label: the name ``Poller.identify()`` read, "" without one."""
    return lu_name or ""


def prometheus() -> ModuleType:
    """prometheus_client, or ImportError saying how to install it."""
    try:
        return importlib.import_module("prometheus_client")
    except ImportError as error:
        raise ImportError(_MISSING) from error


def _host_name(host: str) -> bool:
    labels = host.split(".")
    if labels[-1].isdigit():  # meant as an IPv4 address: no TLD is all digits
        return False
    return len(host) <= 253 and all(
        0 < len(label) <= 63
        and label.isascii()
        and label.replace("-", "").isalnum()
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    )


def parse_listen(text: str) -> tuple[str, int]:
    """``--listen``: ``HOST:PORT`` (an IPv4 address or a host name),
    ``[IPV6]:PORT``, or ``:PORT`` for every address (host ``""``); PORT is
    1-65535 in decimal.  Anything else is ``argparse.ArgumentTypeError``."""
    host, colon, port = text.rpartition(":")
    if not colon:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected HOST:PORT, [IPV6]:PORT or :PORT (every address)"
        )
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise argparse.ArgumentTypeError(f"{text!r}: the port must be a number from 1 to 65535")
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: not an IPv6 address in brackets") from None
        return host[1:-1], int(port)
    if ":" in host:
        raise argparse.ArgumentTypeError(f"{text!r}: an IPv6 address goes in brackets: [::1]:PORT")
    if host:
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            if not _host_name(host):
                raise argparse.ArgumentTypeError(
                    f"{text!r}: not an IPv4 address or a host name"
                ) from None
    return host, int(port)


def _kind(entry: BaseException) -> str:
    if not isinstance(entry, UnitAttention):
        return type(entry).__name__
    if entry.condition is not None:
        return entry.condition.name
    if entry.sense is not None:
        return f"{entry.sense.asc:02X}h/{entry.sense.ascq:02X}h"
    return "UNKNOWN"


def _key(value: int) -> str:
    return f"0x{value:016x}"


#: A scrape's reads: one entry per device, the seconds they took, and each
#: device's lu_name.
Round = tuple[list[PollEntry], float, list[str | None]]


class PRCollector:
    """A prometheus_client collector: one polling round per scrape.

    ``run`` calls the round (``run(self.poll)``); by default in the scraping
    thread, in ``serve`` in the main thread."""

    def __init__(
        self,
        poller: Poller,
        client: ModuleType,
        run: Callable[[Callable[[], Round]], Round] | None = None,
    ) -> None:
        self._poller = poller
        self._core = importlib.import_module(client.__name__ + ".core")
        self._run = run or (lambda poll: poll())
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[tuple[str, str, str]]] = {
            "pr_native_unit_attentions": Counter(),
            "pr_native_errors": Counter(),
        }

    def poll(self) -> Round:
        """Read every device, and again (up to ``_READS`` times in all) those
        that answered with a UNIT ATTENTION; every unit attention and error
        is counted.  The identity of the devices opened since the last scrape
        is read first, outside the rounds (and outside the duration)."""
        with self._lock:
            lu_names = self._poller.identify()
            started = time.monotonic()
            entries = self._poller.poll()
            self._count(entries, lu_names)
            for _ in range(_READS - 1):
                if not any(isinstance(e, UnitAttention) for e in entries):
                    break
                again = self._poller.poll()
                self._count(again, lu_names)
                entries = [b if isinstance(a, UnitAttention) else a for a, b in zip(entries, again)]
            return entries, time.monotonic() - started, lu_names

    def _count(self, entries: list[PollEntry], lu_names: list[str | None]) -> None:
        for path, entry, name in zip(self._poller.paths, entries, lu_names):
            if not isinstance(entry, PollResult):
                family = (
                    "pr_native_unit_attentions"
                    if isinstance(entry, UnitAttention)
                    else "pr_native_errors"
                )
                self._counts[family][(path, _label(name), _kind(entry))] += 1

    def _families(self) -> dict[str, Any]:
        families = {}
        for name, (kind, doc, labels) in METRICS.items():
            make = (
                self._core.CounterMetricFamily
                if kind == "counter"
                else self._core.GaugeMetricFamily
            )
            names = [] if labels is None else ["device", "lu_name", *labels]
            families[name] = make(name, doc, labels=names)
        return families

    def describe(self) -> Iterator[Any]:
        """The metric families, without polling (prometheus_client asks at registration)."""
        yield from self._families().values()

    def collect(self) -> Iterator[Any]:
        """Poll once and report."""
        entries, duration, lu_names = self._run(self.poll)
        family = self._families()
        for path, entry, name in zip(self._poller.paths, entries, lu_names):
            device = [path, _label(name)]
            family["pr_native_up"].add_metric(device, float(isinstance(entry, PollResult)))
            if not isinstance(entry, PollResult):
                continue
            assert entry.keys is not None and entry.reservation is not None
            family["pr_native_generation"].add_metric(device, float(entry.keys.generation))
            for key, nexuses in Counter(entry.keys.keys).items():
                family["pr_native_registered_key"].add_metric([*device, _key(key)], nexuses)
            held = entry.reservation.reservation
            if held is None:
                family["pr_native_reservation_held"].add_metric([*device, "", ""], 0.0)
            else:
                holder = [*device, _key(held.key), held.type.name]
                family["pr_native_reservation_held"].add_metric(holder, 1.0)
        with self._lock:
            counts = {name: sorted(counter.items()) for name, counter in self._counts.items()}
        for name, samples in counts.items():
            for labels, count in samples:
                family[name].add_metric(list(labels), float(count))
        family["pr_native_scrape_duration_seconds"].add_metric([], duration)
        yield from family.values()


class _Stopped(BaseException):
    """SIGINT or SIGTERM arrived while the main thread served (not an
    Exception, so that nothing on the way mistakes it for a failed read)."""


class _Stopping(Exception):
    """A scrape that asked for a round after SIGINT or SIGTERM, or whose round
    the signal ended."""


class _Asked:
    def __init__(self, function: Callable[[], Round]) -> None:
        self.function = function
        self.done = threading.Event()
        self.outcome: Round | BaseException = _Stopping()


class _MainThread:
    """Polling rounds asked for by the HTTP threads and run by the main
    thread, which SIGINT and SIGTERM reach (the HTTP threads block them).
    The first signal ends ``serve()`` at once, also in the middle of a round
    that waits on a stalled path (its PR INs are left with the driver,
    harmless for a read).  Scrapes waiting together share one round, which
    starts after each of them asked."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._asked: list[_Asked] = []
        self._stopping = False
        self._serving = False
        self._closed = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """The SIGINT and SIGTERM handler."""
        first = not self._stopping
        self._stopping = True
        if first and self._serving:
            raise _Stopped

    def call(self, function: Callable[[], Round]) -> Round:
        """From an HTTP thread: ``function()`` as the main thread ran it."""
        asked = _Asked(function)
        with self._changed:
            if self._closed:
                raise _Stopping
            self._asked.append(asked)
            self._changed.notify()
        asked.done.wait()
        if isinstance(asked.outcome, BaseException):
            raise asked.outcome
        return asked.outcome

    def serve(self) -> None:
        """Run what the HTTP threads ask for until SIGINT or SIGTERM."""
        try:
            while not self._stopping:
                with self._changed:
                    # Bounded waits: should a signal arrive where it cannot
                    # raise, the flag it set still ends serving promptly.
                    while not self._asked and not self._stopping:
                        self._changed.wait(0.2)
                    if self._stopping:
                        break
                    asked = list(self._asked)
                for function in dict.fromkeys(a.function for a in asked):
                    outcome: Round | BaseException
                    try:
                        # Only the round is ended by raising in the handler: in
                        # the waits above, the exception could land inside
                        # threading's own code (a Condition's lock released
                        # and not taken again); there the flag ends serving.
                        self._serving = True
                        if self._stopping:  # the signal came before the flag was set
                            break
                        outcome = function()
                    except Exception as error:
                        outcome = error
                    finally:
                        self._serving = False
                    with self._changed:
                        for a in asked:
                            if a.function == function:
                                a.outcome = outcome
                                a.done.set()
                                self._asked.remove(a)
        except _Stopped:
            pass
        finally:
            self._serving = False

    def close(self) -> None:
        """Answer the waiting scrapes with _Stopping, and every later one."""
        with self._changed:
            self._closed = True
            for a in self._asked:
                a.done.set()
            self._asked.clear()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No line on stderr for every scrape."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6

    def server_bind(self) -> None:
        # "::" takes IPv4 too, whatever net.ipv6.bindv6only says.
        if self.server_address[0] == "::":
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def url(host: str, port: int) -> str:
    """The metrics URL of a listening address (an IPv6 address in brackets)."""
    return f"http://{_host_port(host, port)}/metrics"


def _bind(host: str, port: int) -> tuple[_Server, str]:
    """The HTTP server on (host, port), and where it listens, for the log."""
    if not host:
        try:
            server: _Server = _Server6(("::", port), _QuietHandler)
            return server, f"{url('::', server.server_port)} (every IPv4 and IPv6 address)"
        except OSError as error:  # a kernel without IPv6
            if error.errno not in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
                raise
        server = _Server(("0.0.0.0", port), _QuietHandler)
        return server, f"{url('0.0.0.0', server.server_port)} (every IPv4 address)"
    family, _, _, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sockaddr: Any = address  # (host, port), or (host, port, flowinfo, scope_id) for IPv6
    server = (_Server6 if family == socket.AF_INET6 else _Server)(sockaddr, _QuietHandler)
    return server, url(host, server.server_port)


def _metrics_app(client: ModuleType, registry: Any) -> Callable[..., Iterable[bytes]]:
    """prometheus_client's WSGI app; 503 for a scrape that came too late."""
    metrics = client.make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        except _Stopping:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"pr-native exporter: stopping\n"]

    return app


def _start_thread(target: Callable[[], None]) -> threading.Thread:
    """A daemon thread with SIGINT and SIGTERM blocked, as are the threads it
    starts: the signals then always interrupt the main thread's round."""
    thread = threading.Thread(target=target, name="pr-native exporter HTTP", daemon=True)
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        thread.start()
        return thread
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    return thread


def serve(paths: list[str], host: str, port: int, timeout: float) -> int:
    """Serve /metrics on (host, port) (host "": every address) until SIGINT
    or SIGTERM; then close the devices and return 0."""
    client = prometheus()
    main = _MainThread()
    previous = {s: signal.signal(s, main.request_stop) for s in _STOP_SIGNALS}
    try:
        with Poller(paths, ("keys", "reservation"), timeout=timeout) as poller:
            registry = client.CollectorRegistry()
            registry.register(PRCollector(poller, client, run=main.call))
            try:
                server, where = _bind(host, port)
            except OSError as error:
                raise OSError(
                    error.errno, f"cannot listen on {_host_port(host, port)}: {error.strerror}"
                ) from error
            try:
                server.set_app(_metrics_app(client, registry))
                _start_thread(lambda: server.serve_forever(poll_interval=0.05))
                try:
                    print(
                        f"pr-native exporter: serving {where} for {', '.join(paths)}",
                        file=sys.stderr,
                        flush=True,
                    )
                    main.serve()
                finally:
                    main.close()
                    server.shutdown()
            finally:
                server.server_close()
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
        description=(
            "Serve Prometheus metrics of persistent reservation state at\n"
            "http://HOST:PORT/metrics: registered keys, holder and type, generation,\n"
            "unit attentions and errors per device.  Every scrape polls the devices\n"
            "once (READ KEYS and READ RESERVATION).  A PR IN consumes a pending unit\n"
            "attention of the I_T nexus it goes through: monitor from an initiator\n"
            "port the cluster software does not use.  SIGINT or SIGTERM stops it."
        ),
    )
    sub.add_argument("devices", nargs="+", metavar="DEV", help="/dev/sgN nodes")
    sub.add_argument(
        "--listen",
        type=parse_listen,
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"where to serve /metrics: 127.0.0.1:{DEFAULT_PORT}, [::1]:{DEFAULT_PORT}, "
        f"or :{DEFAULT_PORT} for every address (default: {DEFAULT_LISTEN[0]}:{DEFAULT_PORT})",
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
