"""PR IN response decoders (SPC-4 6.15.2-6.15.5) on hand-built responses."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from pr_native import (
    ISCSITransportID,
    MalformedResponse,
    PRError,
    RawTransportID,
    ReservationType,
    ResponseTruncated,
    SASTransportID,
    Scope,
)
from pr_native.cdb import (
    decode_read_full_status,
    decode_read_keys,
    decode_read_reservation,
    decode_report_capabilities,
    decode_sense,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# -- READ KEYS -------------------------------------------------------------


def test_read_keys_none() -> None:
    result = decode_read_keys(h("00 00 00 05 00 00 00 00"))
    assert result.generation == 5
    assert result.keys == ()


def test_read_keys_three() -> None:
    result = decode_read_keys(
        h(
            "00 00 00 2a 00 00 00 18"
            " 01 02 03 04 05 06 07 08"
            " ff ff ff ff ff ff ff ff"
            " 00 00 00 00 00 00 00 01"
        )
    )
    assert result.generation == 0x2A
    assert result.keys == (0x0102030405060708, 2**64 - 1, 1)


def test_read_keys_32_keys() -> None:
    # ADDITIONAL LENGTH 00 00 01 00 = 256 bytes = 32 keys (not 16: no <<12/<<8/<<4 mix-up).
    keys = b"".join(i.to_bytes(8, "big") for i in range(1, 33))
    result = decode_read_keys(h("80 00 00 01 00 00 01 00") + keys)
    assert result.generation == 0x80000001
    assert result.keys == tuple(range(1, 33))


def test_read_keys_ignores_bytes_past_additional_length() -> None:
    result = decode_read_keys(h("00 00 00 01 00 00 00 08 00 00 00 00 00 00 00 07 ff ff ff ff"))
    assert result.keys == (7,)


@pytest.mark.parametrize(
    ("response", "needed"),
    [
        ("00 00 00 01 00 00 00 18 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 02", 32),
        ("00 00 00 01 00 00 00 08", 16),
        ("00 00 00 01 00 00 00 10 00 00 00 00 00 00 00 01 00 00 00", 24),
        ("00 00 00 01 ff ff ff f8", 8 + 0xFFFFFFF8),
    ],
)
def test_read_keys_truncated(response: str, needed: int) -> None:
    with pytest.raises(ResponseTruncated) as info:
        decode_read_keys(h(response))
    assert info.value.needed == needed


@pytest.mark.parametrize(
    "response",
    [
        "00 00 00 01 00 00 00 0c 00 00 00 00 00 00 00 01 00 00 00 00",  # 12: not 8*n
        "00 00 00 01 00 00 00 01 00",
        "00 00 00 00 00 00 00",  # < 8 bytes
        "00",
        "",
    ],
)
def test_read_keys_malformed(response: str) -> None:
    with pytest.raises(MalformedResponse):
        decode_read_keys(h(response))


# -- READ RESERVATION ------------------------------------------------------


def test_read_reservation_none() -> None:
    result = decode_read_reservation(h("00 00 00 07 00 00 00 00"))
    assert result.generation == 7
    assert result.reservation is None


def test_read_reservation_write_exclusive_registrants_only() -> None:
    result = decode_read_reservation(
        h("00 00 00 08 00 00 00 10 aa bb cc dd ee ff 00 11 00 00 00 00 00 05 00 00")
    )
    assert result.generation == 8
    reservation = result.reservation
    assert reservation is not None
    assert reservation.key == 0xAABBCCDDEEFF0011
    assert reservation.type is ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY
    assert reservation.scope is Scope.LU


@pytest.mark.parametrize(
    ("byte21", "scope", "type_"),
    [
        ("03", Scope.LU, ReservationType.EXCLUSIVE_ACCESS),
        ("21", Scope.ELEMENT, ReservationType.WRITE_EXCLUSIVE),
        ("06", Scope.LU, ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY),
    ],
)
def test_read_reservation_scope_type_nibbles(byte21: str, scope: Scope, type_: int) -> None:
    result = decode_read_reservation(
        h(f"00 00 00 01 00 00 00 10 00 00 00 00 00 00 00 09 00 00 00 00 00 {byte21} 00 00")
    )
    assert result.reservation is not None
    assert result.reservation.scope == scope
    assert result.reservation.type == type_


def test_read_reservation_all_registrants_key_zero() -> None:
    result = decode_read_reservation(
        h("00 00 00 02 00 00 00 10 00 00 00 00 00 00 00 00 00 00 00 00 00 07 00 00")
    )
    assert result.reservation is not None
    assert result.reservation.key == 0
    assert result.reservation.type is ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS
    assert result.reservation.type.all_registrants


def test_read_reservation_obsolete_type_decodes() -> None:
    result = decode_read_reservation(
        h("00 00 00 02 00 00 00 10 00 00 00 00 00 00 00 01 00 00 00 00 00 02 00 00")
    )
    assert result.reservation is not None
    kind = result.reservation.type
    assert isinstance(kind, ReservationType)
    assert kind == 2
    assert kind.name == "UNKNOWN_0x02"


@pytest.mark.parametrize(
    ("response", "needed"),
    [
        ("00 00 00 01 00 00 00 10 00 00 00 00 00 00 00 01", 24),
        ("00 00 00 01 00 00 00 10", 24),
    ],
)
def test_read_reservation_truncated(response: str, needed: int) -> None:
    with pytest.raises(ResponseTruncated) as info:
        decode_read_reservation(h(response))
    assert info.value.needed == needed


@pytest.mark.parametrize(
    "response",
    [
        "00 00 00 01 00 00 00 08 00 00 00 00 00 00 00 01",  # 8 is no descriptor length
        "00 00 00 01 00 00",
        "",
    ],
)
def test_read_reservation_malformed(response: str) -> None:
    with pytest.raises(MalformedResponse):
        decode_read_reservation(h(response))


# -- REPORT CAPABILITIES ---------------------------------------------------

ALL_SIX = frozenset(
    {
        ReservationType.WRITE_EXCLUSIVE,
        ReservationType.EXCLUSIVE_ACCESS,
        ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY,
        ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY,
        ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS,
        ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS,
    }
)


def test_report_capabilities_lio() -> None:
    caps = decode_report_capabilities(h("00 08 1d 90 ea 01 00 00"))
    assert caps.replace_lost_reservation_capable is False
    assert caps.compatible_reservation_handling is True
    assert caps.specify_initiator_ports_capable is True
    assert caps.all_target_ports_capable is True
    assert caps.persist_through_power_loss_capable is True
    assert caps.type_mask_valid is True
    assert caps.allow_commands == 1
    assert caps.persist_through_power_loss_active is False
    assert caps.type_mask == 0xEA01
    assert caps.supported_types == ALL_SIX


def test_report_capabilities_without_tmv_supports_nothing() -> None:
    caps = decode_report_capabilities(h("00 08 1d 10 ea 01 00 00"))
    assert caps.type_mask_valid is False
    assert caps.allow_commands == 1
    assert caps.supported_types == frozenset()


FLAGS = [
    "replace_lost_reservation_capable",
    "compatible_reservation_handling",
    "specify_initiator_ports_capable",
    "all_target_ports_capable",
    "persist_through_power_loss_capable",
    "type_mask_valid",
    "persist_through_power_loss_active",
]


@pytest.mark.parametrize(
    ("response", "flag"),
    [
        ("00 08 80 00 00 00 00 00", "replace_lost_reservation_capable"),
        ("00 08 10 00 00 00 00 00", "compatible_reservation_handling"),
        ("00 08 08 00 00 00 00 00", "specify_initiator_ports_capable"),
        ("00 08 04 00 00 00 00 00", "all_target_ports_capable"),
        ("00 08 01 00 00 00 00 00", "persist_through_power_loss_capable"),
        ("00 08 00 80 00 00 00 00", "type_mask_valid"),
        ("00 08 00 01 00 00 00 00", "persist_through_power_loss_active"),
        ("00 08 00 00 00 00 00 00", None),
        ("00 08 62 0e 00 00 00 00", None),  # reserved bits only
    ],
)
def test_report_capabilities_each_flag(response: str, flag: str | None) -> None:
    caps = decode_report_capabilities(h(response))
    for name in FLAGS:
        assert getattr(caps, name) is (name == flag), name
    assert caps.allow_commands == 0
    assert caps.supported_types == frozenset()


@pytest.mark.parametrize(
    ("byte3", "allow"),
    [("10", 1), ("20", 2), ("40", 4), ("70", 7), ("f1", 7), ("50", 5)],
)
def test_report_capabilities_allow_commands(byte3: str, allow: int) -> None:
    assert decode_report_capabilities(h(f"00 08 00 {byte3} 00 00 00 00")).allow_commands == allow


@pytest.mark.parametrize(
    ("mask", "type_"),
    [
        ("80 00", ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS),
        ("40 00", ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY),
        ("20 00", ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY),
        ("08 00", ReservationType.EXCLUSIVE_ACCESS),
        ("02 00", ReservationType.WRITE_EXCLUSIVE),
        ("00 01", ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS),
    ],
)
def test_report_capabilities_each_type_bit(mask: str, type_: ReservationType) -> None:
    caps = decode_report_capabilities(h(f"00 08 00 80 {mask} 00 00"))
    assert caps.type_mask == int.from_bytes(h(mask), "big")
    assert caps.supported_types == frozenset({type_})


def test_report_capabilities_reserved_mask_bits_name_no_type() -> None:
    caps = decode_report_capabilities(h("00 08 00 80 15 fe 00 00"))
    assert caps.type_mask == 0x15FE
    assert caps.supported_types == frozenset()


def test_report_capabilities_truncated() -> None:
    with pytest.raises(ResponseTruncated) as info:
        decode_report_capabilities(h("00 08 1d 90 ea"))
    assert info.value.needed == 8


@pytest.mark.parametrize(
    "response", ["00 07 1d 90 ea 01 00 00", "00 00 00 00 00 00 00 00", "00", ""]
)
def test_report_capabilities_malformed(response: str) -> None:
    with pytest.raises(MalformedResponse):
        decode_report_capabilities(h(response))


# -- READ FULL STATUS ------------------------------------------------------

SAS_TID = h("06 00 00 00 50 01 40 50 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00")
ISCSI_TID = h("45 00 00 2c") + b"iqn.1994-05.com.redhat:abc,i,0x00023d000003\x00"
HOLDER = h("11 11 11 11 11 11 11 11 00 00 00 00 03 06 00 00 00 00 00 01 00 00 00 18") + SAS_TID
OTHER = h("22 22 22 22 22 22 22 22 00 00 00 00 00 00 00 00 00 00 ab cd 00 00 00 30") + ISCSI_TID
FULL_STATUS = h("00 00 00 0b 00 00 00 78") + HOLDER + OTHER


def test_full_status_fixture_lengths() -> None:
    assert (len(SAS_TID), len(ISCSI_TID), len(HOLDER), len(OTHER)) == (24, 48, 48, 72)
    assert len(FULL_STATUS) == 8 + 0x78


def test_full_status_two_descriptors() -> None:
    result = decode_read_full_status(FULL_STATUS)
    assert result.generation == 0x0B
    holder, other = result.registrants
    assert holder.key == 0x1111111111111111
    assert holder.holder is True
    assert holder.all_target_ports is True
    assert holder.scope is Scope.LU
    assert holder.type is ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY
    assert holder.relative_target_port == 1
    assert holder.transport_id == SASTransportID(0x5001405000000001)
    assert other.key == 0x2222222222222222
    assert other.holder is False
    assert other.all_target_ports is False
    assert other.scope is None
    assert other.type is None
    assert other.relative_target_port == 0xABCD
    assert other.transport_id == ISCSITransportID("iqn.1994-05.com.redhat:abc", 0x00023D000003)
    assert other.transport_id.to_bytes() == ISCSI_TID


def test_full_status_empty() -> None:
    result = decode_read_full_status(h("00 00 00 03 00 00 00 00"))
    assert (result.generation, result.registrants) == (3, ())


def test_full_status_all_tg_pt_without_holder_and_empty_transport_id() -> None:
    result = decode_read_full_status(
        h("00 00 00 03 00 00 00 18 00 00 00 00 00 00 00 09 00 00 00 00 02 07 00 00 00 00 00 00")
        + h("00 00 00 00")
    )
    (registrant,) = result.registrants
    assert (registrant.key, registrant.all_target_ports, registrant.holder) == (9, True, False)
    assert registrant.transport_id == RawTransportID(b"")


@pytest.mark.parametrize("cut", [8 + 48 + 30, 8 + 48 + 10, 8 + 20, 8])
def test_full_status_cut_by_allocation_length(cut: int) -> None:
    with pytest.raises(ResponseTruncated) as info:
        decode_read_full_status(FULL_STATUS[:cut])
    assert info.value.needed == 128


def test_full_status_descriptor_overruns_additional_length() -> None:
    overrun = h("11 11 11 11 11 11 11 11 00 00 00 00 03 06 00 00 00 00 00 01 00 00 01 00")
    with pytest.raises(MalformedResponse):
        decode_read_full_status(h("00 00 00 01 00 00 00 30") + overrun + SAS_TID)


def test_full_status_leftover_bytes_within_additional_length() -> None:
    with pytest.raises(MalformedResponse):
        decode_read_full_status(h("00 00 00 01 00 00 00 32") + HOLDER + h("00 00"))


@pytest.mark.parametrize("response", ["00 00 00 00 00 00 00", ""])
def test_full_status_too_short(response: str) -> None:
    with pytest.raises(MalformedResponse):
        decode_read_full_status(h(response))


def test_errors_are_pr_errors() -> None:
    assert issubclass(MalformedResponse, PRError)
    assert issubclass(ResponseTruncated, PRError)


# -- any bytes-like object -------------------------------------------------

DECODERS: list[tuple[Callable[[bytes], object], bytes]] = [
    (decode_read_keys, h("00 00 00 01 00 00 00 08 00 00 00 00 00 00 00 07")),
    (decode_read_reservation, h("00 00 00 07 00 00 00 00")),
    (decode_report_capabilities, h("00 08 1d 90 ea 01 00 00")),
    (decode_read_full_status, FULL_STATUS),
    (decode_sense, h("70 00 06 00 00 00 00 0a 00 00 00 00 2a 05 00 00 00 00")),
]


@pytest.mark.parametrize(("decoder", "response"), DECODERS, ids=[d.__name__ for d, _ in DECODERS])
def test_decoders_accept_memoryview(decoder: Callable[[Any], object], response: bytes) -> None:
    # A memoryview of exactly the transferred bytes, as a caller slicing a larger buffer has.
    buffer = bytearray(response) + b"\xee" * 16
    assert decoder(memoryview(buffer)[: len(response)]) == decoder(response)
