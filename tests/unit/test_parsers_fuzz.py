"""Property tests of the Python-side parsers: on any input each returns a
valid value or raises only the exception it documents.

TransportID decoding is Python (pr_native.transport_id), so it is covered
here rather than by a libFuzzer target: ``TransportID.parse`` raises
ValueError (TypeError for a non-str), ``TransportID.from_bytes`` never
raises; the argparse types of the command line raise ArgumentTypeError;
sg_persist's option parser raises only its _Exit (an exit status and a
message, as sg_persist would print).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import string
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pr_native import RawTransportID, ReservationType, TransportID
from pr_native import sg_persist_cli as sgp
from pr_native.cli import (
    parse_key,
    parse_port,
    parse_seconds,
    parse_transport_id,
    parse_type,
)
from pr_native.constants import SENDABLE_TYPES

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEX = "0123456789abcdefABCDEF"

# Text near the symbolic forms, so that most examples get past the first check.
PREFIXES = st.sampled_from(
    ["", "sas,", "fcp,", "sbp,", "srp,", "spi,", "sop,", "iqn.", "eui.", "naa.", "IQN.", "0x"]
)
NEAR_TEXT = st.one_of(
    st.text(max_size=80),
    st.tuples(PREFIXES, st.text(alphabet=HEX + ",x .:-i\x00", max_size=80)).map("".join),
    st.tuples(
        st.sampled_from(["iqn.x", "eui.0123456789abcdef", "naa.50014"]),
        st.sampled_from([",i,0x", ",i,", ",I,0X", ""]),
        st.text(alphabet=HEX, max_size=16),
    ).map("".join),
    st.tuples(
        st.just("spi,"),
        st.text(alphabet=string.digits + "\u0661\u00b2,-", max_size=12),
        st.just(","),
        st.text(alphabet=string.digits + "\u0661", max_size=8),
    ).map("".join),
    st.lists(st.text(alphabet=HEX, min_size=1, max_size=3), max_size=40).map(" ".join),
)


# -- TransportIDs -------------------------------------------------------------


@SETTINGS
@given(NEAR_TEXT)
def test_transport_id_parse_raises_only_value_error(text: str) -> None:
    try:
        tid = TransportID.parse(text)
    except ValueError:
        return
    assert isinstance(tid, TransportID) and type(tid) is not TransportID
    # What parse accepts, it prints back in a form it reads to the same value.
    assert TransportID.parse(str(tid)) == tid
    assert TransportID.from_bytes(tid.to_bytes()) == tid


@SETTINGS
@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text())))
def test_transport_id_parse_of_a_non_str_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="transport id text must be a str"):
        TransportID.parse(value)  # type: ignore[arg-type]


@SETTINGS
@given(st.binary(max_size=300))
def test_transport_id_from_bytes_never_raises(data: bytes) -> None:
    tid = TransportID.from_bytes(data)
    assert tid.to_bytes() == data
    str(tid), repr(tid)
    _ = tid.protocol, tid.format_code
    if not isinstance(tid, RawTransportID):
        assert TransportID.parse(str(tid)) == tid


# -- the command line's argument types ----------------------------------------


@SETTINGS
@given(st.one_of(st.text(max_size=40), st.text(alphabet=HEX + "xX \t", max_size=20)))
def test_parse_key_raises_only_argument_type_error(text: str) -> None:
    try:
        key = parse_key(text)
    except argparse.ArgumentTypeError:
        return
    assert 0 <= key < 2**64


@SETTINGS
@given(st.integers(0, 2**64 - 1))
def test_parse_key_reads_hex_with_and_without_0x(key: int) -> None:
    assert parse_key(f"{key:x}") == parse_key(hex(key)) == parse_key(f"0X{key:X}") == key


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=40),
        st.integers(-(2**70), 2**70).map(str),
        st.integers(0, 300).map(hex),
        st.sampled_from([*(m.name for m in ReservationType), "we", "ea-ro", "WE_AR", "we ar"]).map(
            lambda s: s.lower().replace("_", "-")
        ),
    )
)
def test_parse_type_raises_only_argument_type_error(text: str) -> None:
    try:
        value = parse_type(text)
    except argparse.ArgumentTypeError:
        return
    assert isinstance(value, ReservationType) and value in SENDABLE_TYPES


@SETTINGS
@given(NEAR_TEXT)
def test_parse_transport_id_raises_only_argument_type_error(text: str) -> None:
    try:
        tid = parse_transport_id(text)
    except argparse.ArgumentTypeError:
        return
    assert isinstance(tid, TransportID)


@SETTINGS
@given(st.one_of(st.text(max_size=30), st.integers(-(2**20), 2**20).map(str)))
def test_parse_port_raises_only_argument_type_error(text: str) -> None:
    try:
        port = parse_port(text)
    except argparse.ArgumentTypeError:
        return
    assert 0 <= port <= 0xFFFF


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=30),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-(10**12), 10**12).map(str),
    )
)
def test_parse_seconds_raises_only_argument_type_error(text: str) -> None:
    try:
        seconds = parse_seconds(text)
    except argparse.ArgumentTypeError:
        return
    assert 0 < seconds <= (2**32 - 1) / 1000


# -- sg_persist's options -----------------------------------------------------

_OPTIONS = sorted(
    {f"-{letter}" for letter in sgp._SHORT.replace(":", "")}
    | {f"--{name.rstrip('=')}" for name in sgp._LONG}
)
_VALUES = st.one_of(
    st.text(max_size=24),
    st.text(alphabet=HEX + "xX", max_size=20),
    st.integers(0, 2**70).map(hex),
    NEAR_TEXT,
    st.sampled_from(["-", "file=", "file=/nonexistent", "FILE=/", "file=/dev/null"]),
)
_ARGUMENT = st.one_of(
    st.sampled_from(_OPTIONS),
    st.tuples(st.sampled_from(_OPTIONS), _VALUES).map(lambda p: f"{p[0]}={p[1]}"),
    st.tuples(st.sampled_from([o for o in _OPTIONS if len(o) == 2]), _VALUES).map("".join),
    _VALUES,
    st.just("/dev/sg0"),
)


@SETTINGS
@given(st.lists(_ARGUMENT, max_size=8))
def test_sg_persist_options_raise_only_exit(argv: list[str]) -> None:
    stdin = io.StringIO("sas,5001405000000001\n# a comment\n")
    with mock.patch("sys.stdin", stdin), contextlib.redirect_stderr(io.StringIO()):
        try:
            options = sgp.parse(argv)
            sgp.check(options)
        except sgp._Exit as refused:
            assert isinstance(refused.code, int) and 0 <= refused.code < 256
            assert isinstance(refused.message, str)
            return
    assert options.device is not None
    assert 0 <= options.key < 2**64 and 0 <= options.service_action_key < 2**64
    assert 0 <= options.relative_target_port <= 0xFFFF
    assert 0 <= options.allocation <= sgp.MAX_ALLOCATION
    assert all(isinstance(t, TransportID) for t in options.transport_ids)


@SETTINGS
@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1), st.integers(0, 0xFFFF))
def test_sg_persist_numbers_read_back(key: int, sark: int, port: int) -> None:
    options = sgp.parse(
        [f"--param-rk={key:x}", f"-S0x{sark:x}", f"--relative-target-port={port:x}", "/dev/sg0"]
    )
    assert (options.key, options.service_action_key, options.relative_target_port) == (
        key,
        sark,
        port,
    )


def test_sg_persist_number_too_large_is_refused() -> None:
    with pytest.raises(sgp._Exit) as refused:
        sgp.parse([f"--param-rk={2**64:x}", "/dev/sg0"])
    assert refused.value.code == 1
