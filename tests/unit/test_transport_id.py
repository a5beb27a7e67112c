"""TransportIDs (SPC-4 7.6.4): golden bytes, round trips, sg_persist's text forms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pr_native import (
    FCPTransportID,
    ISCSITransportID,
    ProtocolIdentifier,
    RawTransportID,
    SASTransportID,
    SBPTransportID,
    SOPTransportID,
    SPITransportID,
    SRPTransportID,
    TransportID,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


Z8 = "00 00 00 00 00 00 00 00"

GOLDEN: list[tuple[TransportID, bytes]] = [
    (
        FCPTransportID(0x21000024FF000001),
        h(f"00 00 00 00 00 00 00 00 21 00 00 24 ff 00 00 01 {Z8}"),
    ),
    (SPITransportID(5, 1), h(f"01 00 00 05 00 00 00 01 {Z8} {Z8}")),
    (SPITransportID(0x1234, 0xABCD), h(f"01 00 12 34 00 00 ab cd {Z8} {Z8}")),
    (
        SBPTransportID(0x0011223344556677),
        h(f"03 00 00 00 00 00 00 00 00 11 22 33 44 55 66 77 {Z8}"),
    ),
    (
        SRPTransportID(bytes(range(16))),
        h("04 00 00 00 00 00 00 00 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"),
    ),
    (
        SASTransportID(0x5001405000000001),
        h(f"06 00 00 00 50 01 40 50 00 00 00 01 00 00 00 00 {Z8}"),
    ),
    (SOPTransportID(0x0102), h(f"0a 00 01 02 00 00 00 00 00 00 00 00 00 00 00 00 {Z8}")),
    # iSCSI 00b: NUL-terminated, NUL-padded to a multiple of 4, ADDITIONAL LENGTH >= 20.
    (ISCSITransportID("iqn.a"), h("05 00 00 14") + b"iqn.a" + bytes(15)),
    (ISCSITransportID("iqn.2003-01.org.xyz"), h("05 00 00 14") + b"iqn.2003-01.org.xyz\x00"),
    (
        ISCSITransportID("iqn.2003-01.org.xyzw"),
        h("05 00 00 18") + b"iqn.2003-01.org.xyzw" + bytes(4),
    ),
    (
        ISCSITransportID("iqn.1994-05.com.redhat:abc"),
        h("05 00 00 1c") + b"iqn.1994-05.com.redhat:abc" + bytes(2),
    ),
    # iSCSI 01b: byte 0 = 0x45, name + ",i,0x" + 12 hex digits of ISID.
    (
        ISCSITransportID("iqn.1994-05.com.redhat:abc", 0x00023D000003),
        h("45 00 00 2c") + b"iqn.1994-05.com.redhat:abc,i,0x00023d000003\x00",
    ),
    (
        ISCSITransportID("iqn.a", 0x0123456789AB),
        h("45 00 00 18") + b"iqn.a,i,0x0123456789ab\x00\x00",
    ),
]
IDS = [f"{type(t).__name__}-{i}" for i, (t, _) in enumerate(GOLDEN)]


@pytest.mark.parametrize(("tid", "wire"), GOLDEN, ids=IDS)
def test_to_bytes(tid: TransportID, wire: bytes) -> None:
    assert tid.to_bytes() == wire


@pytest.mark.parametrize(("tid", "wire"), GOLDEN, ids=IDS)
def test_from_bytes(tid: TransportID, wire: bytes) -> None:
    decoded = TransportID.from_bytes(wire)
    assert decoded == tid
    assert type(decoded) is type(tid)
    assert decoded.to_bytes() == wire


@pytest.mark.parametrize(("tid", "wire"), GOLDEN, ids=IDS)
def test_str_parses_back(tid: TransportID, wire: bytes) -> None:
    assert TransportID.parse(str(tid)) == tid


@pytest.mark.parametrize(
    ("tid", "protocol", "format_code"),
    [
        (SASTransportID(1), ProtocolIdentifier.SAS, 0),
        (FCPTransportID(1), ProtocolIdentifier.FCP, 0),
        (SOPTransportID(1), ProtocolIdentifier.SOP, 0),
        (ISCSITransportID("iqn.a"), ProtocolIdentifier.ISCSI, 0),
        (ISCSITransportID("iqn.a", 1), ProtocolIdentifier.ISCSI, 1),
        (RawTransportID(h("c2 00 00 00")), ProtocolIdentifier.SSA, 3),
        (RawTransportID(b""), ProtocolIdentifier.NONE, 0),
    ],
)
def test_protocol_and_format(tid: TransportID, protocol: int, format_code: int) -> None:
    assert (tid.protocol, tid.format_code) == (protocol, format_code)


@pytest.mark.parametrize(
    ("tid", "text"),
    [
        (SASTransportID(0x5001405000000001), "sas,5001405000000001"),
        (FCPTransportID(0x21000024FF000001), "fcp,21000024ff000001"),
        (SBPTransportID(1), "sbp,0000000000000001"),
        (SRPTransportID(bytes(range(16))), "srp,000102030405060708090a0b0c0d0e0f"),
        (SPITransportID(5, 1), "spi,5,1"),
        (SOPTransportID(0x0102), "sop,0102"),
        (ISCSITransportID("iqn.x", 0x00023D000003), "iqn.x,i,0x00023d000003"),
    ],
)
def test_str(tid: TransportID, text: str) -> None:
    assert str(tid) == text


# -- non-canonical encodings are kept byte for byte ------------------------

NON_CANONICAL = {
    "reserved byte 1": h(f"06 01 00 00 50 01 40 50 00 00 00 01 00 00 00 00 {Z8}"),
    "reserved byte 23": h(
        "06 00 00 00 50 01 40 50 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 01"
    ),
    "FCP 23 bytes": h("00 00 00 00 00 00 00 00 21 00 00 24 ff 00 00 01 00 00 00 00 00 00 00"),
    "SAS 25 bytes": h(f"06 00 00 00 50 01 40 50 00 00 00 01 00 00 00 00 {Z8} 00"),
    "SAS format 10b": h(f"86 00 00 00 50 01 40 50 00 00 00 01 00 00 00 00 {Z8}"),
    "SSA": h(f"02 00 00 00 00 00 00 00 {Z8} {Z8}"),
    "UAS": h(f"09 00 00 00 00 00 00 00 {Z8} {Z8}"),
    "uppercase ISID": h("45 00 00 18") + b"iqn.a,i,0x0123456789AB\x00\x00",
    "short ISID": h("45 00 00 14") + b"iqn.a,i,0x01234\x00\x00\x00\x00\x00",
    "01b without ISID": h("45 00 00 14") + b"iqn.a" + bytes(15),
    "00b with ISID": h("05 00 00 18") + b"iqn.a,i,0x0123456789ab\x00\x00",
    "bad UTF-8": h("05 00 00 14") + b"iqn.\xff" + bytes(15),
    "no NUL terminator": h("05 00 00 14") + b"iqn.aaaaaaaaaaaaaaaa",
    "bytes after the NUL": h("05 00 00 14") + b"iqn.a\x00x" + bytes(13),
    "ADDITIONAL LENGTH below 20": h("05 00 00 10") + b"iqn.a" + bytes(11),
    "ADDITIONAL LENGTH not 4n": h("05 00 00 15") + b"iqn.a" + bytes(16),
    "ADDITIONAL LENGTH past the end": h("05 00 00 18") + b"iqn.a" + bytes(15),
    "extra padding word": h("05 00 00 18") + b"iqn.a" + bytes(19),
    "empty iSCSI name": h("05 00 00 14") + bytes(20),
    "name over 223 bytes": h("05 00 00 e4") + b"iqn." + b"a" * 220 + bytes(4),
    "empty": b"",
    "3 bytes": h("06 00 00"),
}


@pytest.mark.parametrize("wire", NON_CANONICAL.values(), ids=NON_CANONICAL.keys())
def test_non_canonical_is_raw(wire: bytes) -> None:
    decoded = TransportID.from_bytes(wire)
    assert decoded == RawTransportID(wire)
    assert decoded.to_bytes() == wire


def test_raw_str_parses_back() -> None:
    raw = RawTransportID(NON_CANONICAL["reserved byte 1"])
    assert str(raw) == "06,01,00,00,50,01,40,50,00,00,00,01,00,00,00,00,00,00,00,00,00,00,00,00"
    assert TransportID.parse(str(raw)) == raw


# -- parsing sg_persist's forms --------------------------------------------

SAS = SASTransportID(0x5001405000000001)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sas,5001405000000001", SAS),
        ("SAS,0x5001405000000001", SAS),
        ("  sas,5001405000000001\n", SAS),
        ("fcp,21000024ff000001", FCPTransportID(0x21000024FF000001)),
        ("FCP,0X21000024FF000001", FCPTransportID(0x21000024FF000001)),
        ("sbp,0011223344556677", SBPTransportID(0x0011223344556677)),
        ("srp,000102030405060708090a0b0c0d0e0f", SRPTransportID(bytes(range(16)))),
        ("spi,5,1", SPITransportID(5, 1)),
        ("sop,0102", SOPTransportID(0x0102)),
        ("sop,0x102", SOPTransportID(0x0102)),
        ("sop,1", SOPTransportID(1)),
        ("iqn.1994-05.com.redhat:abc", ISCSITransportID("iqn.1994-05.com.redhat:abc")),
        (
            "iqn.1994-05.com.redhat:abc,i,0x00023d000003",
            ISCSITransportID("iqn.1994-05.com.redhat:abc", 0x00023D000003),
        ),
        ("eui.0123456789abcdef", ISCSITransportID("eui.0123456789abcdef")),
        ("naa.52004567ba64678d", ISCSITransportID("naa.52004567ba64678d")),
        ("06,00,00,00,50,01,40,50,00,00,00,01", SAS),
        ("06 00 00 00 50 01 40 50 00 00 00 01", SAS),
        ("6 0 0 0 50 1 40 50 0 0 0 1", SAS),
        (" ".join(["06", "00", "00", "00", "50", "01", "40", "50"] + ["00"] * 3 + ["01"]), SAS),
        ("05 00 00 14 69 71 6e 2e 61", ISCSITransportID("iqn.a")),
        ("06,01", RawTransportID(h("06 01") + bytes(22))),
    ],
)
def test_parse(text: str, expected: TransportID) -> None:
    assert TransportID.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "sas,500140500000001",
        "sas,50014050000000011",
        "sas,z001405000000001",
        "sas,",
        "sas",
        "fcp,0x",
        "sbp,00112233445566",
        "srp,00",
        "spi,5",
        "spi,a,1",
        "spi,5,-1",
        "spi,70000,1",
        "sop,",
        "sop,12345",
        "sop,xyz",
        "iqn.a,i,0x123",
        "iqn.a,i,0x0123456789ag",
        "iqn.a,b",
        "iqn." + "a" * 300,
        "",
        "   ",
        "zz",
        "100",
        "hello world",
    ],
)
def test_parse_errors(text: str) -> None:
    with pytest.raises(ValueError):
        TransportID.parse(text)


@pytest.mark.parametrize("text", [b"sas,5001405000000001", None, 6])
def test_parse_needs_str(text: object) -> None:
    with pytest.raises(TypeError):
        TransportID.parse(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: SASTransportID(-1), ValueError),
        (lambda: SASTransportID(2**64), ValueError),
        (lambda: SASTransportID("1"), TypeError),  # type: ignore[arg-type]
        (lambda: SASTransportID(True), TypeError),
        (lambda: SPITransportID(65536, 0), ValueError),
        (lambda: SOPTransportID(65536), ValueError),
        (lambda: SRPTransportID(bytes(15)), ValueError),
        (lambda: ISCSITransportID(""), ValueError),
        (lambda: ISCSITransportID("iqn.a,b"), ValueError),
        (lambda: ISCSITransportID("iqn.a\x00"), ValueError),
        (lambda: ISCSITransportID("iqn." + "a" * 220), ValueError),
        (lambda: ISCSITransportID("iqn.a", 2**48), ValueError),
        (lambda: ISCSITransportID(b"iqn.a"), TypeError),  # type: ignore[arg-type]
        (lambda: RawTransportID("06"), TypeError),  # type: ignore[arg-type]
        (lambda: TransportID().to_bytes(), TypeError),
    ],
)
def test_constructor_checks(make: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        make()  # type: ignore[operator]


def test_longest_iscsi_name() -> None:
    name = "iqn." + "a" * 219  # 223 bytes, the RFC 7143 maximum
    wire = ISCSITransportID(name).to_bytes()
    assert wire[:4] == h("05 00 00 e0")
    assert wire[4:] == name.encode() + b"\x00"


# -- properties ------------------------------------------------------------

ISCSI_NAMES = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["iqn.", "eui.", "naa.", "IQN."]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.:-", min_size=1, max_size=120),
)
CANONICAL = st.one_of(
    st.builds(FCPTransportID, st.integers(0, 2**64 - 1)),
    st.builds(SPITransportID, st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),
    st.builds(SBPTransportID, st.integers(0, 2**64 - 1)),
    st.builds(SRPTransportID, st.binary(min_size=16, max_size=16)),
    st.builds(SASTransportID, st.integers(0, 2**64 - 1)),
    st.builds(SOPTransportID, st.integers(0, 0xFFFF)),
    st.builds(ISCSITransportID, ISCSI_NAMES, st.none() | st.integers(0, 2**48 - 1)),
)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_from_bytes_round_trips_any_bytes(wire: bytes) -> None:
    assert TransportID.from_bytes(wire).to_bytes() == wire


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([0x05, 0x45]),
    st.integers(0, 80),
    st.binary(max_size=80),
)
def test_from_bytes_round_trips_iscsi_like_bytes(byte0: int, additional: int, body: bytes) -> None:
    wire = bytes([byte0, 0]) + additional.to_bytes(2, "big") + body
    assert TransportID.from_bytes(wire).to_bytes() == wire


@settings(max_examples=150, deadline=None)
@given(CANONICAL)
def test_canonical_round_trips(tid: TransportID) -> None:
    wire = tid.to_bytes()
    assert TransportID.from_bytes(wire) == tid
    assert TransportID.parse(str(tid)) == tid
    assert len(wire) == 24 or (len(wire) >= 24 and len(wire) % 4 == 0 and wire[-1] == 0)


@pytest.mark.parametrize("text", ["5 0 1", "5", "45,0,0,14"])
def test_hex_iscsi_forms_parse_back_from_their_text(text: str) -> None:
    """An iSCSI list is padded to what its ADDITIONAL LENGTH says, even when
    the list stops inside that field, so str() of it parses back to it."""
    tid = TransportID.parse(text)
    assert TransportID.parse(str(tid)) == tid
