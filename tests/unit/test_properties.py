"""Property tests: every decoder either decodes or raises a PRError, on any input."""

from __future__ import annotations

from typing import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pr_native import MalformedResponse, PRError, ResponseTruncated
from pr_native.cdb import (
    decode_read_full_status,
    decode_read_keys,
    decode_read_reservation,
    decode_report_capabilities,
    decode_sense,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DECODERS: list[Callable[[bytes], object]] = [
    decode_read_keys,
    decode_read_reservation,
    decode_report_capabilities,
    decode_read_full_status,
]


def be32(value: int) -> bytes:
    return value.to_bytes(4, "big")


@SETTINGS
@given(st.binary(max_size=600), st.sampled_from(DECODERS))
def test_any_bytes_decode_or_raise_pr_error(
    data: bytes, decoder: Callable[[bytes], object]
) -> None:
    try:
        decoder(data)
    except (MalformedResponse, ResponseTruncated) as error:
        assert isinstance(error, PRError)
        if isinstance(error, ResponseTruncated):
            assert error.needed > len(data)


@st.composite
def pr_in_header(draw: st.DrawFn) -> bytes:
    """A PR IN response whose ADDITIONAL LENGTH is near the bytes that follow."""
    body = draw(st.binary(max_size=400))
    additional = draw(
        st.one_of(
            st.just(len(body)),
            st.integers(0, len(body) + 64),
            st.integers(0, 60).map(lambda n: 8 * n),
            st.integers(0, 25).map(lambda n: 16 * n),
            st.integers(0, 2**32 - 1),
        )
    )
    return draw(st.binary(min_size=4, max_size=4)) + be32(additional) + body


@SETTINGS
@given(pr_in_header(), st.sampled_from(DECODERS[:2] + DECODERS[3:]))
def test_plausible_headers_decode_or_raise_pr_error(
    data: bytes, decoder: Callable[[bytes], object]
) -> None:
    try:
        decoder(data)
    except ResponseTruncated as error:
        assert error.needed == 8 + int.from_bytes(data[4:8], "big")
        assert error.needed > len(data)
    except MalformedResponse:
        pass


@SETTINGS
@given(pr_in_header())
def test_read_keys_oracle(data: bytes) -> None:
    additional = int.from_bytes(data[4:8], "big")
    try:
        result = decode_read_keys(data)
    except ResponseTruncated as error:
        assert additional % 8 == 0
        assert error.needed == 8 + additional > len(data)
        return
    except MalformedResponse:
        assert additional % 8 != 0
        return
    assert 8 + additional <= len(data)
    assert len(result.keys) == min(additional, len(data) - 8) // 8
    assert result.generation == int.from_bytes(data[:4], "big")
    for i, key in enumerate(result.keys):
        assert key == int.from_bytes(data[8 + 8 * i : 16 + 8 * i], "big")


@SETTINGS
@given(pr_in_header())
def test_read_reservation_oracle(data: bytes) -> None:
    additional = int.from_bytes(data[4:8], "big")
    try:
        result = decode_read_reservation(data)
    except ResponseTruncated as error:
        assert additional % 16 == 0 and additional > 0
        assert error.needed == 8 + additional > len(data)
        return
    except MalformedResponse:
        assert additional % 16 != 0
        return
    assert 8 + additional <= len(data)
    if additional == 0:
        assert result.reservation is None
        return
    assert result.reservation is not None
    assert result.reservation.key == int.from_bytes(data[8:16], "big")
    assert result.reservation.scope == data[21] >> 4
    assert result.reservation.type == data[21] & 0x0F


@SETTINGS
@given(st.binary(max_size=20), st.integers(0, 0x20))
def test_report_capabilities_oracle(tail: bytes, length: int) -> None:
    data = length.to_bytes(2, "big") + tail
    try:
        caps = decode_report_capabilities(data)
    except ResponseTruncated as error:
        assert length >= 8 and len(data) < 8
        assert error.needed == length
        return
    except MalformedResponse:
        assert length < 8
        return
    assert length >= 8 and len(data) >= 8
    assert caps.replace_lost_reservation_capable == bool(data[2] & 0x80)
    assert caps.compatible_reservation_handling == bool(data[2] & 0x10)
    assert caps.specify_initiator_ports_capable == bool(data[2] & 0x08)
    assert caps.all_target_ports_capable == bool(data[2] & 0x04)
    assert caps.persist_through_power_loss_capable == bool(data[2] & 0x01)
    assert caps.type_mask_valid == bool(data[3] & 0x80)
    assert caps.allow_commands == (data[3] >> 4) & 7
    assert caps.persist_through_power_loss_active == bool(data[3] & 0x01)
    assert caps.type_mask == int.from_bytes(data[4:6], "big")
    assert len(caps.supported_types) <= 6
    if not caps.type_mask_valid:
        assert caps.supported_types == frozenset()


DESCRIPTOR = st.tuples(
    st.binary(min_size=24, max_size=24),  # fixed part; bytes 20-23 are overwritten
    st.binary(max_size=60),  # TransportID
)


def full_status(generation: bytes, descriptors: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(fixed[:20] + be32(len(tid)) + tid for fixed, tid in descriptors)
    return generation + be32(len(body)) + body


@SETTINGS
@given(
    st.binary(min_size=4, max_size=4),
    st.lists(DESCRIPTOR, max_size=8),
    st.integers(0, 800),
)
def test_read_full_status_well_formed_prefix(
    generation: bytes, descriptors: list[tuple[bytes, bytes]], cut: int
) -> None:
    response = full_status(generation, descriptors)
    data = response[:cut]
    try:
        result = decode_read_full_status(data)
    except ResponseTruncated as error:
        assert 8 <= len(data) < len(response)
        assert error.needed == len(response)
        return
    except MalformedResponse:
        assert len(data) < 8
        return
    assert data == response
    assert len(result.registrants) == len(descriptors)
    for registrant, (fixed, tid) in zip(result.registrants, descriptors):
        assert registrant.key == int.from_bytes(fixed[:8], "big")
        assert registrant.holder == bool(fixed[12] & 1)
        assert registrant.all_target_ports == bool(fixed[12] & 2)
        assert registrant.relative_target_port == int.from_bytes(fixed[18:20], "big")
        assert registrant.transport_id.to_bytes() == tid
        if registrant.holder:
            assert registrant.type == fixed[13] & 0x0F
        else:
            assert (registrant.scope, registrant.type) == (None, None)


@SETTINGS
@given(
    st.binary(min_size=4, max_size=4),
    st.lists(DESCRIPTOR, max_size=6),
    st.integers(-40, 40),
    st.integers(0, 600),
)
def test_read_full_status_wrong_additional_length(
    generation: bytes, descriptors: list[tuple[bytes, bytes]], delta: int, cut: int
) -> None:
    response = bytearray(full_status(generation, descriptors))
    additional = max(0, len(response) - 8 + delta)
    response[4:8] = be32(additional)
    data = bytes(response[:cut])
    try:
        result = decode_read_full_status(data)
    except ResponseTruncated as error:
        assert error.needed == 8 + additional > len(data)
        return
    except MalformedResponse:
        return
    consumed = sum(24 + len(r.transport_id.to_bytes()) for r in result.registrants)
    assert consumed == additional
    assert 8 + additional <= len(data)


# -- sense -----------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=300))
def test_sense_never_raises(data: bytes) -> None:
    sense = decode_sense(data)
    if not data or data[0] & 0x7F not in (0x70, 0x71, 0x72, 0x73):
        assert sense is None
    else:
        assert sense is not None
        assert sense.response_code == data[0] & 0x7F
        assert sense.descriptor_format == (data[0] & 0x7F >= 0x72)
        assert sense.deferred == (data[0] & 0x7F in (0x71, 0x73))


@SETTINGS
@given(st.sampled_from([0x70, 0x71, 0xF0, 0xF1]), st.binary(min_size=17, max_size=40))
def test_fixed_sense_oracle(code: int, rest: bytes) -> None:
    data = bytearray([code]) + rest
    data[7] = max(data[7], 10)  # the whole 18-byte header is within the sense
    sense = decode_sense(bytes(data))
    assert sense is not None
    assert sense.sense_key == data[2] & 0x0F
    assert (sense.asc, sense.ascq) == (data[12], data[13])
    assert sense.filemark == bool(data[2] & 0x80)
    assert sense.end_of_medium == bool(data[2] & 0x40)
    assert sense.incorrect_length == bool(data[2] & 0x20)
    assert sense.command_specific_information == int.from_bytes(data[8:12], "big")
    assert sense.field_replaceable_unit == data[14]
    if code & 0x80:
        assert sense.information == int.from_bytes(data[3:7], "big")
    else:
        assert sense.information is None
    if data[15] & 0x80:
        assert sense.sense_key_specific == int.from_bytes(data[15:18], "big")
    else:
        assert sense.sense_key_specific is None


SENSE_DESCRIPTOR = st.tuples(st.integers(0, 8), st.binary(max_size=14)).map(
    lambda d: bytes([d[0], len(d[1])]) + d[1]
)


@SETTINGS
@given(
    st.sampled_from([0x72, 0x73]),
    st.binary(min_size=3, max_size=3),
    st.lists(SENSE_DESCRIPTOR, max_size=6),
    st.integers(0, 255),
    st.integers(0, 120),
)
def test_descriptor_sense_never_raises(
    code: int, key_asc_ascq: bytes, descriptors: list[bytes], additional: int, cut: int
) -> None:
    data = (bytes([code]) + key_asc_ascq + bytes(3) + bytes([additional]) + b"".join(descriptors))[
        :cut
    ]
    sense = decode_sense(data)
    if not data:
        assert sense is None
        return
    assert sense is not None
    assert sense.descriptor_format
    if len(data) > 3:
        assert (sense.sense_key, sense.asc, sense.ascq) == (
            key_asc_ascq[0] & 0x0F,
            key_asc_ascq[1],
            key_asc_ascq[2],
        )
