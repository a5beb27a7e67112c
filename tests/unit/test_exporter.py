"""pr-native exporter: the metrics scrapes give (FakeBatch, no device), the
counters across scrapes, --listen, serving over HTTP until SIGTERM, the
examples/monitoring files, and the clear error without prometheus_client."""

from __future__ import annotations

import argparse
import importlib
import json
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest

from pr_native import cli, exporter
from pr_native.poll import Poller

from .fake_batch import Failure, FakeBatch
from .fake_device import FakeLib
from .fake_identity import identity, lu_name, unanswered

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "monitoring"
A1 = 0xA1
B2 = 0xB2
C3 = 0xC3
EA = 3  # EXCLUSIVE ACCESS
WE_RO = 5  # WRITE EXCLUSIVE - REGISTRANTS ONLY
WE_AR = 7  # WRITE EXCLUSIVE - ALL REGISTRANTS
CONFLICT = Failure(-2, status=0x18)

#: (name, labels) -> value
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def keys(generation: int, *registered: int) -> bytes:
    """A READ KEYS response."""
    body = b"".join(k.to_bytes(8, "big") for k in registered)
    return generation.to_bytes(4, "big") + len(body).to_bytes(4, "big") + body


def reservation(generation: int, key: int | None = None, type: int = 0) -> bytes:
    """A READ RESERVATION response (key None: no reservation)."""
    head = generation.to_bytes(4, "big")
    if key is None:
        return head + bytes(4)
    return head + (16).to_bytes(4, "big") + key.to_bytes(8, "big") + bytes(5) + bytes([type, 0, 0])


def unit_attention(asc: int, ascq: int) -> Failure:
    sense = bytes([0x70, 0, 6, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0])
    return Failure(-2, status=2, sense=sense)


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(values.items()))


def parse(text: str) -> Samples:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, labels(**s.labels)): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def of(samples: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {k[1]: v for k, v in samples.items() if k[0] == name}


@pytest.fixture
def client() -> ModuleType:
    module: ModuleType = pytest.importorskip("prometheus_client")
    return module


@pytest.fixture
def scrape(
    client: ModuleType, fake_batch: FakeBatch, fake_lib: FakeLib
) -> Iterator[Callable[..., Samples]]:
    """scrape(*answers): one scrape of /dev/sg-a and /dev/sg-b (in that
    order) through one PRCollector, with these scripted command answers
    (the first scrape identifies both: LU_NAMES)."""
    fake_lib.replies += identity(1) + identity(2)
    with Poller(["/dev/sg-a", "/dev/sg-b"]) as poller:
        registry = client.CollectorRegistry()
        registry.register(exporter.PRCollector(poller, client))

        def one(*answers: bytes | Failure) -> Samples:
            fake_batch.answers += answers
            samples = parse(client.generate_latest(registry).decode())
            assert not fake_batch.answers, "answers left over"
            return samples

        yield one


SG_A, SG_B = "/dev/sg-a", "/dev/sg-b"
LU_NAMES = {SG_A: lu_name(1), SG_B: lu_name(2)}


def dev(path: str, **more: str) -> tuple[tuple[str, str], ...]:
    return labels(device=path, lu_name=LU_NAMES.get(path, ""), **more)


def test_every_metric_and_label(scrape: Callable[..., Samples]) -> None:
    # a: A1 once, B2 from two I_T nexuses, B2 holds WE_RO; b: nothing
    samples = scrape(keys(7, A1, B2, B2), reservation(7, B2, WE_RO), keys(2), reservation(2))
    assert of(samples, "pr_native_up") == {dev(SG_A): 1.0, dev(SG_B): 1.0}
    assert of(samples, "pr_native_generation") == {dev(SG_A): 7.0, dev(SG_B): 2.0}
    assert of(samples, "pr_native_registered_key") == {
        dev(SG_A, key="0x00000000000000a1"): 1.0,
        dev(SG_A, key="0x00000000000000b2"): 2.0,
    }
    assert of(samples, "pr_native_reservation_held") == {
        dev(SG_A, holder_key="0x00000000000000b2", type="WRITE_EXCLUSIVE_REGISTRANTS_ONLY"): 1.0,
        dev(SG_B, holder_key="", type=""): 0.0,
    }
    assert of(samples, "pr_native_unit_attentions_total") == {}
    assert of(samples, "pr_native_errors_total") == {}
    (duration,) = of(samples, "pr_native_scrape_duration_seconds").items()
    assert duration[0] == () and 0 <= duration[1] < 5
    assert {name for name, _ in samples} == exporter.exported_names() - {
        "pr_native_unit_attentions_total",
        "pr_native_errors_total",
    }


def test_all_registrants_reservation_shows_key_zero(scrape: Callable[..., Samples]) -> None:
    samples = scrape(keys(3, A1, B2), reservation(3, 0, WE_AR), keys(3, A1), reservation(3, A1, EA))
    assert of(samples, "pr_native_reservation_held") == {
        dev(SG_A, holder_key="0x0000000000000000", type="WRITE_EXCLUSIVE_ALL_REGISTRANTS"): 1.0,
        dev(SG_B, holder_key="0x00000000000000a1", type="EXCLUSIVE_ACCESS"): 1.0,
    }


def test_holder_and_keys_follow_a_preempt(scrape: Callable[..., Samples]) -> None:
    before = scrape(
        keys(4, A1, B2), reservation(4, A1, WE_RO), keys(4, A1, B2), reservation(4, A1, WE_RO)
    )
    after = scrape(keys(5, B2), reservation(5, B2, EA), keys(5, B2), reservation(5, B2, EA))
    for path in (SG_A, SG_B):
        assert {k for k in of(before, "pr_native_registered_key") if ("device", path) in k} == {
            dev(path, key="0x00000000000000a1"),
            dev(path, key="0x00000000000000b2"),
        }
        assert {k for k in of(after, "pr_native_registered_key") if ("device", path) in k} == {
            dev(path, key="0x00000000000000b2")
        }
    assert of(after, "pr_native_reservation_held") == {
        dev(p, holder_key="0x00000000000000b2", type="EXCLUSIVE_ACCESS"): 1.0 for p in (SG_A, SG_B)
    }


def test_unit_attentions_counted_by_condition_across_scrapes(
    scrape: Callable[..., Samples], fake_batch: FakeBatch
) -> None:
    preempted = unit_attention(0x2A, 0x05)
    # a's READ KEYS meets REGISTRATIONS PREEMPTED: a is read again (with b)
    first = scrape(
        preempted, reservation(5, B2, EA), keys(5, B2), reservation(5, B2, EA),
        keys(5, B2), reservation(5, B2, EA), keys(5, B2), reservation(5, B2, EA),
    )  # fmt: skip
    assert fake_batch.rounds == 2
    assert of(first, "pr_native_up") == {dev(SG_A): 1.0, dev(SG_B): 1.0}
    assert of(first, "pr_native_unit_attentions_total") == {
        dev(SG_A, kind="REGISTRATIONS_PREEMPTED"): 1.0
    }
    # a again, and b: RESERVATIONS RELEASED and one ASC/ASCQ without a name
    second = scrape(
        preempted, reservation(6), unit_attention(0x2A, 0x04), reservation(6),
        keys(6, B2), reservation(6), unit_attention(0x3F, 0x01), reservation(6),
        keys(6, B2), reservation(6), keys(6, B2), reservation(6),
    )  # fmt: skip
    assert of(second, "pr_native_unit_attentions_total") == {
        dev(SG_A, kind="REGISTRATIONS_PREEMPTED"): 2.0,
        dev(SG_B, kind="RESERVATIONS_RELEASED"): 1.0,
        dev(SG_B, kind="3Fh/01h"): 1.0,
    }
    assert of(second, "pr_native_reservation_held") == {
        dev(p, holder_key="", type=""): 0.0 for p in (SG_A, SG_B)
    }
    assert of(second, "pr_native_errors_total") == {}
    # the counters stay when nothing new happens
    third = scrape(keys(6, B2), reservation(6), keys(6, B2), reservation(6))
    assert of(third, "pr_native_unit_attentions_total") == of(
        second, "pr_native_unit_attentions_total"
    )


def test_unit_attentions_that_do_not_end(
    scrape: Callable[..., Samples], fake_batch: FakeBatch
) -> None:
    """A scrape reads a device at most four times; each attention counts."""
    reset = unit_attention(0x29, 0x00)
    answers: list[bytes | Failure] = []
    for _ in range(4):
        answers += [reset, reservation(1), keys(1), reservation(1)]
    samples = scrape(*answers)
    assert fake_batch.rounds == 4
    assert of(samples, "pr_native_up") == {dev(SG_A): 0.0, dev(SG_B): 1.0}
    assert of(samples, "pr_native_unit_attentions_total") == {dev(SG_A, kind="POWER_ON_RESET"): 4.0}
    assert of(samples, "pr_native_generation") == {dev(SG_B): 1.0}


def test_errors_counted_by_class_across_scrapes(scrape: Callable[..., Samples]) -> None:
    first = scrape(CONFLICT, reservation(1), keys(1), reservation(1))
    assert of(first, "pr_native_up") == {dev(SG_A): 0.0, dev(SG_B): 1.0}
    assert of(first, "pr_native_errors_total") == {dev(SG_A, kind="ReservationConflict"): 1.0}
    assert of(first, "pr_native_registered_key") == {}
    assert dev(SG_A, holder_key="", type="") not in of(first, "pr_native_reservation_held")
    second = scrape(keys(1), CONFLICT, keys(1), reservation(1))
    assert of(second, "pr_native_errors_total") == {dev(SG_A, kind="ReservationConflict"): 2.0}
    third = scrape(keys(1), reservation(1), keys(1), reservation(1))
    assert of(third, "pr_native_up") == {dev(SG_A): 1.0, dev(SG_B): 1.0}
    assert of(third, "pr_native_errors_total") == {dev(SG_A, kind="ReservationConflict"): 2.0}


def test_a_device_that_cannot_be_opened(
    client: ModuleType, fake_batch: FakeBatch, fake_lib: FakeLib
) -> None:
    fake_lib.open_rc, fake_lib.open_errno = -1, 2  # ENOENT
    with Poller(["/dev/sg-gone"]) as poller:
        registry = client.CollectorRegistry()
        registry.register(exporter.PRCollector(poller, client))
        for count in (1.0, 2.0):
            samples = parse(client.generate_latest(registry).decode())
            assert of(samples, "pr_native_up") == {dev("/dev/sg-gone"): 0.0}
            assert of(samples, "pr_native_errors_total") == {
                dev("/dev/sg-gone", kind="FileNotFoundError"): count
            }


def test_lu_name_is_read_once_per_open_outside_the_rounds(
    scrape: Callable[..., Samples], fake_batch: FakeBatch, fake_lib: FakeLib
) -> None:
    """The first scrape identifies both devices (four INQUIRYs each) before
    its round; later scrapes send PR IN only, and every sample of a device,
    the counters' too, carries its lu_name."""
    preempted = unit_attention(0x2A, 0x05)
    first = scrape(keys(1), reservation(1), keys(1), reservation(1))
    assert [c.name for c in fake_lib.calls] == [
        "pr_inquiry", "pr_supported_vpd_pages", "pr_unit_serial_number",
        "pr_device_identification",
    ] * 2  # fmt: skip
    assert fake_batch.rounds == 1
    assert of(first, "pr_native_up") == {dev(SG_A): 1.0, dev(SG_B): 1.0}
    samples = scrape(
        CONFLICT, reservation(1), preempted, reservation(1),
        keys(1), reservation(1), keys(1, C3), reservation(1),
    )  # fmt: skip
    assert len(fake_lib.calls) == 8  # no INQUIRY again
    per_device = {
        name: lu
        for (name, label_pairs) in samples
        for label, lu in label_pairs
        if label == "lu_name"
    }
    assert set(per_device) == exporter.exported_names() - {"pr_native_scrape_duration_seconds"}
    for (_, label_pairs), _value in samples.items():
        found = dict(label_pairs)
        if "device" in found:
            assert found["lu_name"] == LU_NAMES[found["device"]]


def test_a_device_that_does_not_answer_inquiry_is_monitored_without_lu_name(
    client: ModuleType, fake_batch: FakeBatch, fake_lib: FakeLib
) -> None:
    """identify() fails on a: its lu_name is empty, it is read all the same,
    and not identified again while it stays open."""
    fake_lib.replies += unanswered() + identity(2)
    with Poller([SG_A, SG_B]) as poller:
        registry = client.CollectorRegistry()
        registry.register(exporter.PRCollector(poller, client))
        for _ in range(2):
            fake_batch.answers += [keys(1, A1), reservation(1), keys(1), reservation(1)]
            samples = parse(client.generate_latest(registry).decode())
            assert of(samples, "pr_native_generation") == {
                labels(device=SG_A, lu_name=""): 1.0,
                dev(SG_B): 1.0,
            }
    assert len(fake_lib.calls) == 5 and not fake_lib.replies


def test_help_texts(client: ModuleType, fake_batch: FakeBatch) -> None:
    with Poller([SG_A]) as poller:
        collector = exporter.PRCollector(poller, client)
        helps = {family.name: family.documentation for family in collector.describe()}
    assert set(helps) == set(exporter.METRICS)
    for name, text in helps.items():
        if name != "pr_native_scrape_duration_seconds":
            assert "not stable across reboots" in text, name
            assert "lu_name" in text, name
    assert "consumes a pending unit attention" in helps["pr_native_unit_attentions"]
    assert "another initiator port" in helps["pr_native_unit_attentions"]
    doc = " ".join((exporter.__doc__ or "").split())
    assert "consumes, a pending UNIT ATTENTION" in doc
    assert "before that scrape's polling round and never inside it" in doc
    documented = set(re.findall(r"^    (pr_native_\w+)", exporter.__doc__ or "", re.MULTILINE))
    assert documented == exporter.exported_names()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9739", ("127.0.0.1", 9739)),
        ("[::1]:9739", ("::1", 9739)),
        ("[fe80::1%eth0]:80", ("fe80::1%eth0", 80)),
        (":9739", ("", 9739)),
        ("localhost:1", ("localhost", 1)),
        ("monitor-1.example.com:65535", ("monitor-1.example.com", 65535)),
    ],
)
def test_listen_addresses(text: str, expected: tuple[str, int]) -> None:
    assert exporter.parse_listen(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "9739",
        "",
        ":",
        "127.0.0.1:",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:+9739",
        "127.0.0.1: 9739",
        "127.0.0.1:9_739",
        "127.0.0.1:\uff19\uff17\uff13\uff19",  # fullwidth digits
        "::1:9739",
        "[::1:9739",
        "[127.0.0.1]:9739",
        "[nonsense]:9739",
        "127.0.0.256:9739",
        "1.2.3:9739",
        "-host:9739",
        "host_name:9739",
        "a..b:9739",
        "http://127.0.0.1:9739",
    ],
)
def test_bad_listen_addresses(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(repr(text))):
        exporter.parse_listen(text)
    assert cli.main(["exporter", f"--listen={text}", "/dev/sg1"]) == 1
    err = capsys.readouterr().err
    assert "argument --listen: " in err and repr(text) in err
    assert "Traceback" not in err


def test_help_shows_the_default_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["exporter", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert exporter.DEFAULT_PORT == 9739
    assert "(default: 127.0.0.1:9739)" in text
    assert "consumes a pending unit attention" in text


def test_urls() -> None:
    assert exporter.url("127.0.0.1", 9739) == "http://127.0.0.1:9739/metrics"
    assert exporter.url("::1", 9739) == "http://[::1]:9739/metrics"
    assert exporter.url("localhost", 80) == "http://localhost:80/metrics"


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        text: str = response.read().decode()
        return text


def test_every_address_is_said_and_bound() -> None:
    server, where = exporter._bind("", 0)
    try:
        port = server.server_port
        if server.address_family == socket.AF_INET6:
            assert where == f"http://[::]:{port}/metrics (every IPv4 and IPv6 address)"
            addresses = [("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)]
        else:
            assert where == f"http://0.0.0.0:{port}/metrics (every IPv4 address)"
            addresses = [("127.0.0.1", socket.AF_INET)]
        for address, family in addresses:
            with socket.socket(family) as s:
                s.connect((address, port))
    finally:
        server.server_close()


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_listen() -> None:
    server, where = exporter._bind("::1", 0)
    try:
        assert server.address_family == socket.AF_INET6
        assert where == f"http://[::1]:{server.server_port}/metrics"
    finally:
        server.server_close()


def test_an_address_it_cannot_listen_on(
    client: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["exporter", "--listen", f"127.0.0.1:{port}", SG_A]) == 50
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Closes:
    """Counts pr_close calls (the devices the exporter closes)."""

    def __init__(self, fake_lib: FakeLib) -> None:
        self.count = 0
        real = fake_lib.pr_close

        def pr_close(device: Any) -> int:
            self.count += 1
            return real(device)

        fake_lib.pr_close = pr_close  # type: ignore[method-assign]


def _serve_until(
    port: int, then: Callable[[], None], argv: list[str] | None = None
) -> tuple[int, float]:
    """Run the exporter in this (the main) thread while ``then`` runs in
    another; returns the exit status and the seconds from the end of
    ``then`` (which sends the signal) to the exporter's return."""
    done: list[float] = []
    failures: list[BaseException] = []

    def side() -> None:
        try:
            then()
        except BaseException as error:
            failures.append(error)
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
        finally:
            done.append(time.monotonic())

    thread = threading.Thread(target=side)
    thread.start()
    status = cli.main(argv or ["exporter", "--listen", f"127.0.0.1:{port}", SG_A, SG_B])
    returned = time.monotonic()
    thread.join(10)
    if failures:
        raise failures[0]
    return status, returned - done[0]


def _wait_for(url: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        try:
            return _get(url)
        except OSError:
            assert time.monotonic() < deadline, f"{url} does not answer"
            time.sleep(0.05)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_serves_over_http_until_a_signal_and_closes_the_devices(
    name: str,
    client: ModuleType,
    fake_batch: FakeBatch,
    fake_lib: FakeLib,
    capsys: pytest.CaptureFixture[str],
) -> None:
    closes = _Closes(fake_lib)
    fake_lib.replies += identity(1) + identity(2)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    scraped: list[Samples] = []
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def scrape_twice_then_signal() -> None:
        fake_batch.answers += [unit_attention(0x2A, 0x05), reservation(1), keys(1), reservation(1)]
        fake_batch.answers += [keys(1, A1), reservation(1), keys(1, A1), reservation(1)]
        scraped.append(parse(_wait_for(url)))
        fake_batch.answers += [keys(2, A1), reservation(2, A1, EA), keys(2), reservation(2)]
        scraped.append(parse(_get(url)))
        signal.pthread_kill(threading.main_thread().ident or 0, getattr(signal, name))

    status, took = _serve_until(port, scrape_twice_then_signal)
    assert (status, took < 1.0) == (0, True), took
    assert closes.count == 2
    assert {s: signal.getsignal(s) for s in handlers} == handlers
    first, second = scraped
    assert of(first, "pr_native_unit_attentions_total") == {
        dev(SG_A, kind="REGISTRATIONS_PREEMPTED"): 1.0
    }
    assert of(second, "pr_native_unit_attentions_total") == {
        dev(SG_A, kind="REGISTRATIONS_PREEMPTED"): 1.0
    }
    assert (
        of(second, "pr_native_reservation_held")[
            dev(SG_A, holder_key="0x00000000000000a1", type="EXCLUSIVE_ACCESS")
        ]
        == 1.0
    )
    assert len(of(second, "pr_native_scrape_duration_seconds")) == 1
    err = capsys.readouterr().err
    assert err == f"pr-native exporter: serving {url} for {SG_A}, {SG_B}\n"


def test_a_signal_ends_a_stalled_round(
    client: ModuleType,
    fake_batch: FakeBatch,
    fake_lib: FakeLib,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGTERM while a scrape's round waits on a stalled path: the round ends
    at once, the waiting scrape gets 503, the devices are closed."""
    closes = _Closes(fake_lib)
    fake_lib.replies += identity(1) + identity(2)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    stalled = threading.Event()

    def stall(commands: Any, decoded: Any, count: int) -> int:
        stalled.set()
        time.sleep(30)  # the signal ends the wait
        raise AssertionError("the round was not ended")

    monkeypatch.setattr(fake_batch, "pr_poll", stall)
    answers: list[int | str] = []

    def scrape() -> None:
        try:
            _get(url)
        except urllib.error.HTTPError as error:
            answers.append(error.code)
        except OSError as error:
            answers.append(str(error))

    def stall_then_signal() -> None:
        deadline = time.monotonic() + 10
        while True:  # the server is up when it refuses nothing
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        scraper = threading.Thread(target=scrape)
        scraper.start()
        assert stalled.wait(10)
        time.sleep(0.2)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
        scraper.join(10)

    status, took = _serve_until(port, stall_then_signal)
    assert status == 0
    assert took < 1.0
    assert answers == [503]
    assert closes.count == 2


def test_scrapes_waiting_together_share_a_round() -> None:
    main = exporter._MainThread()
    calls: list[int] = []

    def poll() -> exporter.Round:
        calls.append(1)
        if len(calls) == 2:  # the next scrape's round: stop
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)
            time.sleep(10)
        return [], 0.5, []

    results: list[exporter.Round] = []
    threads = [threading.Thread(target=lambda: results.append(main.call(poll))) for _ in range(3)]
    for t in threads:
        t.start()
    while len(main._asked) < 3:
        time.sleep(0.01)
    late: list[BaseException] = []

    def ask_later() -> None:
        for t in threads:
            t.join(5)
        try:
            main.call(poll)
        except exporter._Stopping as error:
            late.append(error)

    later = threading.Thread(target=ask_later)
    later.start()
    previous = signal.signal(signal.SIGTERM, main.request_stop)
    try:
        started = time.monotonic()
        main.serve()
        assert time.monotonic() - started < 5
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert calls == [1, 1] and results == [([], 0.5, [])] * 3
    main.close()
    later.join(5)
    assert len(late) == 1
    with pytest.raises(exporter._Stopping):
        main.call(poll)


# ------------------------------------------------ examples/monitoring ----


def _example(name: str) -> str:
    path = EXAMPLES / name
    if not path.is_file():
        pytest.skip("examples/ is not in the sdist (testing without the source tree)")
    return path.read_text()


@pytest.mark.parametrize(
    "name", ["pr-native-alerts.yml", "pr-native-alerts.test.yml", "grafana-dashboard.json"]
)
def test_examples_name_only_exported_metrics(name: str) -> None:
    text = _example(name)
    referenced = set(re.findall(r"\bpr_native_\w+", text))
    assert referenced, name
    assert referenced <= exporter.exported_names(), referenced - exporter.exported_names()


def test_alert_rules_cover_the_fencing_events() -> None:
    text = _example("pr-native-alerts.yml")
    alerts = re.findall(r"^      - alert: (\w+)$", text, re.MULTILINE)
    assert alerts == [
        "PRExporterDown",
        "PRDeviceUnreadable",
        "PRRegisteredKeyDisappeared",
        "PRReservationMoved",
        "PRReservationReleased",
        "PRUnitAttentionsRising",
        "PRScrapeErrors",
    ]
    assert text.count("        expr:") == len(alerts)


def test_dashboard_queries_exported_metrics() -> None:
    dashboard = json.loads(_example("grafana-dashboard.json"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    exprs += [v["query"]["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    assert all(re.search(r"\bpr_native_\w+", e) for e in exprs), exprs
    used = {name for e in exprs for name in re.findall(r"\bpr_native_\w+", e)}
    assert used == exporter.exported_names()
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_alert_rules_with_promtool() -> None:
    """examples/monitoring/pr-native-alerts.test.yml (promtool: the Debian
    package prometheus)."""
    _example("pr-native-alerts.test.yml")
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    for command in (
        ["check", "rules", "pr-native-alerts.yml"],
        ["test", "rules", "pr-native-alerts.test.yml"],
    ):
        result = subprocess.run(
            [promtool, *command], cwd=EXAMPLES, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_missing_prometheus_client_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.import_module

    def without_prometheus(name: str, package: str | None = None) -> ModuleType:
        if name.startswith("prometheus_client"):
            raise ImportError("No module named 'prometheus_client'")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_prometheus)
    assert cli.main(["exporter", "/dev/sg1"]) == 1
    assert "pip install 'pr_native[exporter]'" in capsys.readouterr().err
