"""Fixtures of the lab suite, which runs inside the lab guest against LIO.

The lab (tests/lab/prlab.py) exports each initiator's nodes as A_SG, A_SD,
B_SG, ... and describes them all in the JSON file named by PRLAB_INFO.
Every test starts from a clean logical unit (and clean extra ones, prlab
--extra-lus): no registrations, no reservation, no pending unit attention
on any initiator.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import pr_native as pr

KEY_A = 0xA1
KEY_B = 0xB2
KEY_C = 0xC3


@dataclass(frozen=True)
class Initiator:
    label: str
    name: str
    sg: str
    sd: str


def _info() -> dict[str, object]:
    path = os.environ.get("PRLAB_INFO")
    if not path:
        pytest.exit("the lab suite runs inside the lab guest: see tests/lab/prlab.py", 2)
    data: dict[str, object] = json.loads(Path(path).read_text())
    return data


@pytest.fixture(scope="session")
def lab_info() -> dict[str, object]:
    return _info()


@pytest.fixture(scope="session")
def fabric(lab_info: dict[str, object]) -> str:
    return str(lab_info["fabric"])


@pytest.fixture(scope="session")
def initiators(lab_info: dict[str, object]) -> list[Initiator]:
    raw = lab_info["initiators"]
    assert isinstance(raw, list)
    return [Initiator(i["label"], i["name"], i["sg"], i["sd"]) for i in raw]


@pytest.fixture(scope="session")
def lu_dir(lab_info: dict[str, object]) -> Path:
    """configfs directory of the logical unit (attrib/, pr/, wwn/)."""
    return Path(str(lab_info["device"]))


def drain_unit_attentions(dev: pr.Device) -> list[pr.UnitAttention]:
    """TEST UNIT READY until GOOD; returns the unit attentions it consumed."""
    seen: list[pr.UnitAttention] = []
    for _ in range(16):
        try:
            dev.test_unit_ready()
            return seen
        except pr.UnitAttention as ua:
            seen.append(ua)
    raise AssertionError(f"{dev.path}: unit attentions do not stop: {seen}")


def reset_logical_unit(devices: list[pr.Device]) -> None:
    """Conformance R0: REGISTER AND IGNORE + CLEAR from the first initiator,
    then drain every initiator's unit attentions."""
    first = devices[0]
    drain_unit_attentions(first)
    try:
        first.register_and_ignore(0xDEAD)
    except pr.IllegalRequest:
        # LIO refuses ALL_TG_PT=0 from a nexus registered with ALL_TG_PT=1.
        first.register_and_ignore(0xDEAD, all_target_ports=True)
    first.clear(0xDEAD)
    for dev in devices:
        drain_unit_attentions(dev)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Background commands a test starts (watch, exporter): killed at the end
    if still running."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def reset_extra_lus(lab_info: dict[str, object]) -> None:
    """reset_logical_unit() for each extra LU (prlab --extra-lus) too."""
    extra = lab_info.get("extra_lus")
    for lu in extra if isinstance(extra, list) else []:
        nodes = [pr.Device(i["sg"], timeout=20.0) for i in lu["initiators"]]
        try:
            reset_logical_unit(nodes)
        finally:
            for dev in nodes:
                dev.close()


@pytest.fixture
def devices(initiators: list[Initiator], lab_info: dict[str, object]) -> Iterator[list[pr.Device]]:
    opened = [pr.Device(i.sg, timeout=20.0) for i in initiators]
    try:
        reset_logical_unit(opened)
        reset_extra_lus(lab_info)
        yield opened
    finally:
        for dev in opened:
            dev.close()


@pytest.fixture
def a(devices: list[pr.Device]) -> pr.Device:
    return devices[0]


@pytest.fixture
def b(devices: list[pr.Device]) -> pr.Device:
    return devices[1]


@pytest.fixture
def c(devices: list[pr.Device]) -> pr.Device:
    """The third initiator: never registered unless a test says so."""
    return devices[2]
