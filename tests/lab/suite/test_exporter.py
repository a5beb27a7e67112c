"""pr-native exporter against LIO, scraped over HTTP on 127.0.0.1: the
metrics follow what another initiator does to the reservation."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

import pr_native as pr

from .conftest import KEY_A, KEY_B

T = pr.ReservationType
WAIT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Exporter:
    def __init__(self, *paths: str) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pr_native",
                "exporter",
                "--listen",
                f"127.0.0.1:{self.port}",
                *paths,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def scrape(self) -> dict[str, float]:
        """name{labels} -> value of every pr_native sample."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                url = f"http://127.0.0.1:{self.port}/metrics"
                with urllib.request.urlopen(url, timeout=WAIT) as response:
                    text = response.read().decode()
                break
            except OSError:
                assert self.process.poll() is None, self.process.communicate()
                assert time.monotonic() < deadline, "the exporter does not answer"
                time.sleep(0.5)
        samples = {}
        for line in text.splitlines():
            match = re.fullmatch(r"(pr_native_[^ ]+) ([0-9.e+-]+)", line)
            if match:
                samples[match.group(1)] = float(match.group(2))
        return samples


@pytest.fixture
def exporter_of(processes: list[subprocess.Popen[str]]) -> Iterator[list[Exporter]]:
    # The loop fabric's guest never needs a network: bring the loopback up
    # (the iSCSI fabric's setup does the same).
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=WAIT)
    started: list[Exporter] = []
    yield started
    processes.extend(e.process for e in started)


def test_exporter_metrics_follow_the_reservation(
    a: pr.Device, b: pr.Device, c: pr.Device, exporter_of: list[Exporter]
) -> None:
    e = Exporter(a.path, c.path)
    exporter_of.append(e)
    on_c = f'{{device="{c.path}"}}'
    first = e.scrape()
    assert first["pr_native_up" + on_c] == 1.0
    assert first["pr_native_generation" + on_c] == c.read_keys().generation
    assert first["pr_native_registered_keys" + on_c] == 0.0
    assert first["pr_native_reservation_present" + on_c] == 0.0
    a.register(KEY_A)
    b.register(KEY_B)
    b.reserve(KEY_B, T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY)
    second = e.scrape()
    assert second["pr_native_generation" + on_c] == c.read_keys().generation
    assert second["pr_native_registered_keys" + on_c] == 2.0
    assert second["pr_native_reservation_present" + on_c] == 1.0
    assert second["pr_native_reservation_type" + on_c] == 6.0
    holder = (
        f'pr_native_reservation_holder_info{{device="{c.path}",'
        f'holder_key="0x{KEY_B:016x}",type="EXCLUSIVE_ACCESS_REGISTRANTS_ONLY"}}'
    )
    assert second[holder] == 1.0
    assert second["pr_native_poll_duration_seconds" + on_c] > 0
    b.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)  # A gets REGISTRATIONS PREEMPTED
    third = e.scrape()
    on_a = f'{{device="{a.path}"}}'
    assert third["pr_native_up" + on_a] == 1.0  # read again after the attention
    errors = f'pr_native_errors_total{{device="{a.path}",kind="UnitAttention"}}'
    assert third[errors] == 1.0
    assert third["pr_native_registered_keys" + on_a] == 1.0
    e.process.send_signal(signal.SIGTERM)
    assert e.process.wait(timeout=WAIT) == 0
