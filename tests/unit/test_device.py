"""What each Device method sends (CDB, parameter list, timeout) and returns,
with the real C builders and decoders behind the fake_lib seam."""

from __future__ import annotations

from typing import Any

import pytest

from pr_native import (
    Device,
    ISCSITransportID,
    ReservationType,
    SASTransportID,
    Scope,
    TransportID,
)

from .fake_device import FakeLib, data, good, on_return

K1 = 0x0102030405060708
K2 = 0xA1A2A3A4A5A6A7A8
K1_HEX = "01 02 03 04 05 06 07 08"
K2_HEX = "a1 a2 a3 a4 a5 a6 a7 a8"
Z8 = "00 00 00 00 00 00 00 00"
SAS = SASTransportID(0x5001405000000001)
SAS_HEX = "06 00 00 00 50 01 40 50 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00"
T = ReservationType

PR_OUT_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "register",
        {"new_key": K2},
        "5f 00 00 00 00 00 00 00 18 00",
        f"{Z8} {K2_HEX} 00 00 00 00 00 00 00 00",
    ),
    (
        "register",
        {"new_key": K2, "key": K1, "aptpl": True, "all_target_ports": True},
        "5f 00 00 00 00 00 00 00 18 00",
        f"{K1_HEX} {K2_HEX} 00 00 00 00 05 00 00 00",
    ),
    (
        "register",
        {"new_key": K2, "transport_ids": [SAS]},
        "5f 00 00 00 00 00 00 00 34 00",
        f"{Z8} {K2_HEX} 00 00 00 00 08 00 00 00 00 00 00 18 {SAS_HEX}",
    ),
    (
        "register_and_ignore",
        {"new_key": K2, "aptpl": True},
        "5f 06 00 00 00 00 00 00 18 00",
        f"{Z8} {K2_HEX} 00 00 00 00 01 00 00 00",
    ),
    (
        "unregister",
        {"key": K1},
        "5f 00 00 00 00 00 00 00 18 00",
        f"{K1_HEX} {Z8} 00 00 00 00 00 00 00 00",
    ),
    (
        "reserve",
        {"key": K1, "type": T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY},
        "5f 01 05 00 00 00 00 00 18 00",
        f"{K1_HEX} {Z8} 00 00 00 00 00 00 00 00",
    ),
    (
        "reserve",
        {"key": K1, "type": 8},
        "5f 01 08 00 00 00 00 00 18 00",
        f"{K1_HEX} {Z8} 00 00 00 00 00 00 00 00",
    ),
    (
        "release",
        {"key": K1, "type": T.EXCLUSIVE_ACCESS},
        "5f 02 03 00 00 00 00 00 18 00",
        f"{K1_HEX} {Z8} 00 00 00 00 00 00 00 00",
    ),
    (
        "clear",
        {"key": K1},
        "5f 03 00 00 00 00 00 00 18 00",
        f"{K1_HEX} {Z8} 00 00 00 00 00 00 00 00",
    ),
    (
        "preempt",
        {"key": K1, "preempt_key": K2, "type": T.EXCLUSIVE_ACCESS},
        "5f 04 03 00 00 00 00 00 18 00",
        f"{K1_HEX} {K2_HEX} 00 00 00 00 00 00 00 00",
    ),
    (
        "preempt_and_abort",
        {"key": K1, "preempt_key": K2, "type": T.WRITE_EXCLUSIVE},
        "5f 05 01 00 00 00 00 00 18 00",
        f"{K1_HEX} {K2_HEX} 00 00 00 00 00 00 00 00",
    ),
    (
        "register_and_move",
        {"key": K1, "new_key": K2, "relative_target_port": 0x0102, "transport_id": SAS},
        "5f 07 00 00 00 00 00 00 30 00",
        f"{K1_HEX} {K2_HEX} 00 00 01 02 00 00 00 18 {SAS_HEX}",
    ),
    (
        "register_and_move",
        {
            "key": K1,
            "new_key": K2,
            "relative_target_port": 2,
            "transport_id": SAS,
            "unregister": True,
            "aptpl": True,
            "type": T.EXCLUSIVE_ACCESS,
        },
        "5f 07 03 00 00 00 00 00 30 00",
        f"{K1_HEX} {K2_HEX} 00 03 00 02 00 00 00 18 {SAS_HEX}",
    ),
    (
        "replace_lost_reservation",
        {"key": K1, "type": T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS},
        "5f 08 08 00 00 00 00 00 18 00",
        f"{K1_HEX} {Z8} 00 00 00 00 00 00 00 00",
    ),
]


@pytest.mark.parametrize(
    ("method", "kwargs", "cdb", "parameters"),
    PR_OUT_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(PR_OUT_CASES)],
)
def test_pr_out_wire_bytes(
    device: Device,
    fake_lib: FakeLib,
    method: str,
    kwargs: dict[str, Any],
    cdb: str,
    parameters: str,
) -> None:
    fake_lib.replies.append(good())
    getattr(device, method)(**kwargs)
    (call,) = fake_lib.calls
    assert call.name == "pr_out"
    assert call.cdb == bytes.fromhex(cdb)
    assert call.parameters == bytes.fromhex(parameters)


def test_keys_as_bytes(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(good())
    device.preempt(bytes.fromhex(K1_HEX), bytes.fromhex(K2_HEX), T.EXCLUSIVE_ACCESS)
    assert fake_lib.calls[0].parameters[:16] == bytes.fromhex(K1_HEX + K2_HEX)


def test_many_transport_ids_grow_the_buffer(device: Device, fake_lib: FakeLib) -> None:
    tids: list[TransportID] = [
        ISCSITransportID("iqn.2003-01.org.example:" + "x" * 190, i) for i in range(40)
    ]
    fake_lib.replies.append(good())
    device.register(new_key=1, transport_ids=tids)
    (call,) = fake_lib.calls
    total = sum(len(t.to_bytes()) for t in tids)
    assert total > 4096
    assert call.cdb[5:9] == (28 + total).to_bytes(4, "big")
    assert call.parameters[24:28] == total.to_bytes(4, "big")
    assert call.parameters[28:] == b"".join(t.to_bytes() for t in tids)


def test_read_keys(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(data(bytes.fromhex(f"00 00 00 2a 00 00 00 10 {K1_HEX} {K2_HEX}")))
    result = device.read_keys()
    assert (result.generation, result.keys) == (0x2A, (K1, K2))
    assert fake_lib.calls[0].cdb == bytes.fromhex("5e 00 00 00 00 00 00 10 00 00")


def test_the_same_response_gives_the_same_result_and_another_one_its_own(
    device: Device, fake_lib: FakeLib
) -> None:
    """read_keys()/read_reservation() keep the last response's result: the
    same bytes give it again (undecoded), any other bytes are decoded."""
    two = bytes.fromhex(f"00 00 00 2a 00 00 00 10 {K1_HEX} {K2_HEX}")
    fake_lib.replies += [data(two), data(two), data(two[:7] + b"\x08" + two[8:16])]
    first, again, changed = device.read_keys(), device.read_keys(), device.read_keys()
    assert again is first and first.keys == (K1, K2)
    assert (changed.generation, changed.keys) == (0x2A, (K1,))
    held = bytes.fromhex(f"00 00 00 03 00 00 00 10 {K1_HEX} 00 00 00 00 00 06 00 00")
    free = bytes.fromhex("00 00 00 04 00 00 00 00")
    fake_lib.replies += [data(held), data(held), data(free), data(held[:21] + b"\x01" + held[22:])]
    a, b, c, d = (device.read_reservation() for _ in range(4))
    assert (
        b is a
        and a.reservation is not None
        and a.reservation.type == T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY
    )
    assert (c.generation, c.reservation) == (4, None)
    assert d.reservation is not None and d.reservation.type == T.WRITE_EXCLUSIVE


def test_a_result_a_handler_kept_from_being_stored_is_not_given_later(
    device: Device, fake_lib: FakeLib
) -> None:
    """A signal handler's exception as the C call returns: the core has
    taken the new response as the previous one, the Device has not stored
    its result.  The same response next time is decoded, not answered with
    the result of the one before it."""
    two = bytes.fromhex(f"00 00 00 2a 00 00 00 10 {K1_HEX} {K2_HEX}")
    one = two[:7] + b"\x08" + two[8:16]
    fake_lib.replies += [data(two), on_return(data(one), KeyboardInterrupt()), data(one)]
    assert device.read_keys().keys == (K1, K2)
    with pytest.raises(KeyboardInterrupt):
        device.read_keys()
    assert device.read_keys().keys == (K1,)
    held = bytes.fromhex(f"00 00 00 03 00 00 00 10 {K1_HEX} 00 00 00 00 00 06 00 00")
    free = bytes.fromhex("00 00 00 03 00 00 00 00")
    fake_lib.replies += [data(held), on_return(data(free), KeyboardInterrupt()), data(free)]
    assert device.read_reservation().reservation is not None
    with pytest.raises(KeyboardInterrupt):
        device.read_reservation()
    assert device.read_reservation().reservation is None


def test_buffers_that_grow_forget_the_result_kept_for_the_old_ones(
    device: Device, fake_lib: FakeLib
) -> None:
    """The C core's serials start again with the grown buffers' struct: the
    result kept for a serial of the old one is never given for the new one's."""
    two = bytes.fromhex(f"00 00 00 2a 00 00 00 10 {K1_HEX} {K2_HEX}")
    one = two[:7] + b"\x08" + two[8:16]
    many = (0x2A).to_bytes(4, "big") + (8 * 700).to_bytes(4, "big") + bytes(8 * 700)
    fake_lib.replies += [data(two), data(many), data(many), data(one)]
    assert device.read_keys().keys == (K1, K2)
    assert len(device.read_keys().keys) == 700  # cut short: the buffers grow, read again
    assert device.read_keys().keys == (K1,)


def test_read_reservation(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(
        data(bytes.fromhex(f"00 00 00 03 00 00 00 10 {K1_HEX} 00 00 00 00 00 06 00 00"))
    )
    result = device.read_reservation()
    assert result.generation == 3
    assert result.reservation is not None
    assert (result.reservation.key, result.reservation.type, result.reservation.scope) == (
        K1,
        T.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY,
        Scope.LU,
    )
    assert fake_lib.calls[0].cdb == bytes.fromhex("5e 01 00 00 00 00 00 10 00 00")


def test_report_capabilities(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(data(bytes.fromhex("00 08 1d 90 ea 01 00 00")))
    caps = device.report_capabilities()
    assert caps.type_mask == 0xEA01
    assert len(caps.supported_types) == 6
    assert fake_lib.calls[0].cdb == bytes.fromhex("5e 02 00 00 00 00 00 10 00 00")


def test_read_full_status(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(
        data(
            bytes.fromhex(
                f"00 00 00 04 00 00 00 30 {K1_HEX} 00 00 00 00 01 01 00 00 00 00 00 05"
                f" 00 00 00 18 {SAS_HEX}"
            )
        )
    )
    result = device.read_full_status()
    (registrant,) = result.registrants
    assert (registrant.key, registrant.holder, registrant.type, registrant.scope) == (
        K1,
        True,
        T.WRITE_EXCLUSIVE,
        Scope.LU,
    )
    assert registrant.relative_target_port == 5
    assert registrant.transport_id == SAS
    assert fake_lib.calls[0].cdb == bytes.fromhex("5e 03 00 00 00 00 00 10 00 00")


def test_test_unit_ready(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(good())
    device.test_unit_ready()
    assert fake_lib.calls[0].cdb == bytes(6)


def test_last_transport(device: Device, fake_lib: FakeLib) -> None:
    assert device.last_transport is None
    fake_lib.replies.append(good())
    device.clear(1)
    assert device.last_transport == "sg-io"


@pytest.mark.parametrize(
    ("default", "override", "expected_ms"),
    [
        (30.0, None, 30000),
        (2.5, None, 2500),
        (30.0, 0.0015, 2),
        (30.0, 1e-9, 1),
        (30, 7, 7000),
        (30.0, (2**32 - 1) / 1000, 2**32 - 1),
    ],
)
def test_timeout_in_milliseconds(
    fake_lib: FakeLib, default: float, override: float | None, expected_ms: int
) -> None:
    fake_lib.replies += [good(), data(bytes.fromhex("00 00 00 00 00 00 00 00"))]
    with Device("/dev/sg-fake", timeout=default) as dev:
        dev.clear(1, timeout=override)
        dev.read_keys(timeout=override)
    assert [c.timeout_ms for c in fake_lib.calls] == [expected_ms, expected_ms]


def test_hex_of_a_full_status_cut_at_65535_bytes_is_its_own(fake_lib: FakeLib, device: Any) -> None:
    """At the 65535-byte limit READ FULL STATUS is checked against READ KEYS;
    the bytes kept for ``--hex`` are still READ FULL STATUS', not READ KEYS'."""
    from pr_native.constants import PRInAction

    count = 1360  # descriptors of 24 + a 24-byte FC TransportID: 65,280 bytes
    descriptors = b"".join(
        key.to_bytes(8, "big")
        + bytes(4)
        + bytes([0, 0])
        + bytes(4)
        + (0).to_bytes(2, "big")
        + (24).to_bytes(4, "big")
        + bytes(8)
        + key.to_bytes(8, "big")
        + bytes(8)
        for key in range(1, count + 1)
    )
    full = (7).to_bytes(4, "big") + len(descriptors).to_bytes(4, "big") + descriptors
    keys = b"".join(k.to_bytes(8, "big") for k in range(1, count + 1))
    read_keys = (7).to_bytes(4, "big") + len(keys).to_bytes(4, "big") + keys

    def answer(call: Any, result: Any) -> int:
        return data(read_keys if call.name == "pr_read_keys" else full)(call, result)

    fake_lib.replies += [answer] * 6
    status, response = device._read_with_response(PRInAction.READ_FULL_STATUS)
    assert [c.name for c in fake_lib.calls][-1] == "pr_read_keys"  # the check ran
    assert len(status.registrants) == count
    assert response == full
