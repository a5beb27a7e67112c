"""pr-native exporter: the metrics one scrape gives (FakeBatch, no device),
and the clear error without prometheus_client."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from pr_native import cli, exporter
from pr_native.poll import Poller

from .fake_batch import Failure, FakeBatch

K1 = "00000000000000a1"
UA = bytes([0x70, 0, 6, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x2A, 3, 0, 0, 0, 0])


def test_metrics_of_one_scrape(fake_batch: FakeBatch) -> None:
    client = pytest.importorskip("prometheus_client")
    keys = bytes.fromhex(f"00 00 00 05 00 00 00 08 {K1}")
    reservation = bytes.fromhex(f"00 00 00 05 00 00 00 10 {K1} 00 00 00 00 00 03 00 00")
    fake_batch.answers += [Failure(-2, status=2, sense=UA), reservation, keys, reservation]
    with Poller(["/dev/sg-a"]) as poller:
        registry = client.CollectorRegistry()
        registry.register(exporter.PRCollector(poller, client))
        text = client.generate_latest(registry).decode()
    assert 'pr_native_up{device="/dev/sg-a"} 1.0' in text
    assert 'pr_native_generation{device="/dev/sg-a"} 5.0' in text
    assert 'pr_native_registered_keys{device="/dev/sg-a"} 1.0' in text
    assert 'pr_native_reservation_present{device="/dev/sg-a"} 1.0' in text
    assert 'pr_native_reservation_type{device="/dev/sg-a"} 3.0' in text
    assert (
        'pr_native_reservation_holder_info{device="/dev/sg-a",'
        'holder_key="0x00000000000000a1",type="EXCLUSIVE_ACCESS"} 1.0'
    ) in text
    assert 'pr_native_errors_total{device="/dev/sg-a",kind="UnitAttention"} 1.0' in text
    assert "pr_native_poll_duration_seconds{" in text


def test_listen_addresses() -> None:
    assert exporter.parse_listen("127.0.0.1:9000") == ("127.0.0.1", 9000)
    assert exporter.parse_listen(":9000") == ("0.0.0.0", 9000)
    assert exporter.parse_listen("[::1]:9000") == ("::1", 9000)
    assert cli.main(["exporter", "--listen", "host:99999", "/dev/sg1"]) == 1


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
