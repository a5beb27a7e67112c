"""pr-native exporter against LIO, scraped over HTTP on 127.0.0.1: the
metrics show the registrations and the holder exactly as another initiator
reads them, and a PREEMPT's unit attention in the counter of the device
whose nexus met it."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Optional

import pytest

import pr_native as pr

from .conftest import KEY_A, KEY_B, drain_unit_attentions

T = pr.ReservationType
WAIT = 60.0

#: (metric name, labels, value) of one sample
Sample = tuple[str, dict[str, str], float]

_SAMPLE = re.compile(r"(\w+)(?:\{(.*)\})? (\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def parse(text: str) -> list[Sample]:
    """The samples of a Prometheus text exposition, labels as Prometheus
    stores them: a label with an empty value is no label."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.fullmatch(line)
        assert match, f"not a sample line: {line!r}"
        labels = {
            k: re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v)
            for k, v in _LABEL.findall(match.group(2) or "")
        }
        samples.append(
            (match.group(1), {k: v for k, v in labels.items() if v}, float(match.group(3)))
        )
    return samples


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

    def samples(self) -> list[Sample]:
        """One scrape over HTTP (waiting for the exporter to answer)."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                url = f"http://127.0.0.1:{self.port}/metrics"
                with urllib.request.urlopen(url, timeout=WAIT) as response:
                    return parse(response.read().decode())
            except OSError:
                assert self.process.poll() is None, self.process.communicate()
                assert time.monotonic() < deadline, "the exporter does not answer"
                time.sleep(0.5)

    def scrape(self) -> dict[str, float]:
        """One scrape: 'name{label="value",...}' -> value of every pr_native
        sample (labels in the exporter's order, empty ones and lu_name, the
        same on every sample of a device, left out)."""
        return {
            name
            + (
                "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else ""
            ): value
            for name, all_labels, value in self.samples()
            if name.startswith("pr_native_")
            for labels in [{k: v for k, v in all_labels.items() if k != "lu_name"}]
        }


@pytest.fixture
def exporter_of(processes: list[subprocess.Popen[str]]) -> Iterator[list[Exporter]]:
    # The loop fabric's guest never needs a network: bring the loopback up
    # (the iSCSI fabric's setup does the same).
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=WAIT)
    started: list[Exporter] = []
    yield started
    processes.extend(e.process for e in started)


#: generation, {key: registrations}, holder (key, type name) or None
State = tuple[int, dict[str, int], Optional[tuple[str, str]]]


def read_state(dev: pr.Device) -> State:
    """The PR state as ``dev``'s initiator reads it."""
    keys = dev.read_keys()
    held = dev.read_reservation().reservation
    holder = None if held is None else (f"0x{held.key:016x}", held.type.name)
    return keys.generation, dict(Counter(f"0x{k:016x}" for k in keys.keys)), holder


def exported_state(samples: list[Sample], path: str) -> State:
    """The PR state of ``path`` as one scrape reports it."""
    mine = [
        (name, labels, value) for name, labels, value in samples if labels.get("device") == path
    ]
    (up,) = [v for name, _, v in mine if name == "pr_native_up"]
    assert up == 1.0, f"{path} was not read: {mine}"
    (generation,) = [v for name, _, v in mine if name == "pr_native_generation"]
    keys = {ls["key"]: int(v) for name, ls, v in mine if name == "pr_native_registered_key"}
    (held,) = [(ls, v) for name, ls, v in mine if name == "pr_native_reservation_held"]
    if held[1] == 0.0:
        assert "holder_key" not in held[0] and "type" not in held[0], held
        return int(generation), keys, None
    assert held[1] == 1.0, held
    return int(generation), keys, (held[0]["holder_key"], held[0]["type"])


def unit_attentions(samples: list[Sample], path: str) -> Counter[str]:
    return Counter(
        {
            labels["kind"]: int(value)
            for name, labels, value in samples
            if name == "pr_native_unit_attentions_total" and labels["device"] == path
        }
    )


def test_exporter_follows_registrations_and_a_preempt(
    a: pr.Device, b: pr.Device, c: pr.Device, exporter_of: list[Exporter]
) -> None:
    """The exporter reads through A's and C's initiator ports; B fences A
    (PREEMPT) and reads the state the metrics must show."""
    e = Exporter(a.path, c.path)
    exporter_of.append(e)
    empty = e.samples()
    state = read_state(b)
    assert state[1:] == ({}, None)
    for path in (a.path, c.path):
        assert exported_state(empty, path) == state
    # Every per-device sample carries the LU's name, as identify() gives it.
    name = b.identify().lu_name
    assert name is not None
    for sample_name, labels, _ in empty:
        if "device" in labels:
            assert labels.get("lu_name") == name, (sample_name, labels)

    a.register(KEY_A)
    a.reserve(KEY_A, T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    b.register(KEY_B)
    before = e.samples()
    state = read_state(b)
    assert state[1:] == (
        {f"0x{KEY_A:016x}": 1, f"0x{KEY_B:016x}": 1},
        (f"0x{KEY_A:016x}", "WRITE_EXCLUSIVE_REGISTRANTS_ONLY"),
    )
    for path in (a.path, c.path):
        assert exported_state(before, path) == state

    b.preempt(KEY_B, KEY_A, T.EXCLUSIVE_ACCESS)  # A's nexus: REGISTRATIONS PREEMPTED
    after = e.samples()
    state = read_state(b)
    assert state[1:] == ({f"0x{KEY_B:016x}": 1}, (f"0x{KEY_B:016x}", "EXCLUSIVE_ACCESS"))
    for path in (a.path, c.path):
        assert exported_state(after, path) == state  # A was read again after the attention
    # The scrape consumed A's attention (none is left) and counted it; C,
    # never registered, had none.
    assert unit_attentions(after, a.path) - unit_attentions(before, a.path) == Counter(
        {"REGISTRATIONS_PREEMPTED": 1}
    )
    assert unit_attentions(after, c.path) == unit_attentions(before, c.path)
    assert drain_unit_attentions(a) == []
    assert drain_unit_attentions(c) == []
    assert [s for s in after if s[0] == "pr_native_errors_total"] == []
    assert {ls.get("lu_name") for _, ls, _ in after if "device" in ls} == {name}
    (duration,) = [
        (labels, v) for name, labels, v in after if name == "pr_native_scrape_duration_seconds"
    ]
    assert duration[0] == {} and duration[1] > 0

    e.process.send_signal(signal.SIGTERM)
    assert e.process.wait(timeout=WAIT) == 0
    _, err = e.process.communicate()
    assert f"serving http://127.0.0.1:{e.port}/metrics for {a.path}, {c.path}" in err
