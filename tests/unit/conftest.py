"""Fixtures: the Device seam (see fake_device.py) and build-tool lookup."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator
from typing import Callable

import pytest

import pr_native._batch
import pr_native.device
import pr_native.identity
from pr_native._native import lib

from .fake_batch import FakeBatch
from .fake_device import FakeLib


@pytest.fixture
def fake_lib(monkeypatch: pytest.MonkeyPatch) -> FakeLib:
    fake = FakeLib(lib)
    monkeypatch.setattr(pr_native.device, "lib", fake)
    monkeypatch.setattr(pr_native.identity, "lib", fake)  # Device.identify's commands
    # the hot path's functions, bound at import
    monkeypatch.setattr(pr_native.device, "_pr_read_keys", fake.pr_read_keys_serial)
    monkeypatch.setattr(pr_native.device, "_pr_read_reservation", fake.pr_read_reservation_serial)
    return fake


@pytest.fixture
def fake_batch(monkeypatch: pytest.MonkeyPatch, fake_lib: FakeLib) -> FakeBatch:
    """Scripted answers for pr_execute_batch and pr_poll (poll, sg-persist's INQUIRY)."""
    fake = FakeBatch(lib)
    monkeypatch.setattr(pr_native._batch, "lib", fake)
    # (pr_native.poll, the attribute, is the function of that name)
    monkeypatch.setattr(importlib.import_module("pr_native.poll"), "lib", fake)
    return fake


@pytest.fixture
def device(fake_lib: FakeLib) -> Iterator[pr_native.Device]:
    dev = pr_native.Device("/dev/sg-fake")
    yield dev
    dev.close()


@pytest.fixture
def need_tool() -> Callable[[str], str]:
    """Path of a build tool; a missing one skips the test, except under CI=true."""

    def find(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{name} is required when CI=true but was not found")
            pytest.skip(f"{name} is not installed")
        return path

    return find
