"""READ FULL STATUS beyond 8 KiB: many initiators with long names.

Runs in the lab configuration with dozens of initiators; pr_native grows
its buffer from the ADDITIONAL LENGTH and lists every registrant, where
sg_persist (fixed 8 KiB) stops short.
"""

from __future__ import annotations

import pytest

import pr_native as pr

from . import sg_persist


def test_full_status_larger_than_8_kib(devices: list[pr.Device]) -> None:
    if len(devices) < 30:
        pytest.skip("needs the lab's many-initiator configuration")
    for number, dev in enumerate(devices, start=1):
        dev.register(0x1000 + number)
    status = devices[0].read_full_status()
    keys = sorted(r.key for r in status.registrants)
    assert keys == [0x1000 + n for n in range(1, len(devices) + 1)]
    size = 8 + sum(24 + len(r.transport_id.to_bytes()) for r in status.registrants)
    assert size > 8192
    assert sorted(devices[0].read_keys().keys) == keys
    # The peer reads at most 8 KiB: it cannot list them all.
    listed = sg_persist.run("-i", "-s", devices[0].path).stdout.count("    Key=0x")
    assert listed < len(keys)
