"""sg_persist's PR IN text (pr_native._sgtext), formatted from the C decoders:
golden text for complete responses of each service action, and for responses
cut short, where only what was received whole is printed."""

from __future__ import annotations

import pytest

from pr_native import _sgtext
from pr_native._sgtext import PRInText
from pr_native.constants import PRInAction

KEY_A = 0x00000000000000A1
KEY_B = 0xFFFFFFFFFFFFFFFE


def truncated(received: int, needed: int) -> str:
    return (
        f"PR in: response truncated to {received} of {needed} bytes; "
        "what was not received in full is not shown"
    )


def response(generation: int, body: bytes) -> bytes:
    """SPC-4 6.15.1: PRGENERATION, ADDITIONAL LENGTH, then the body."""
    return generation.to_bytes(4, "big") + len(body).to_bytes(4, "big") + body


def reservation_descriptor(key: int, scope: int, type: int) -> bytes:
    """SPC-4 table 215: KEY, obsolete (4), reserved, SCOPE|TYPE, obsolete (2)."""
    return key.to_bytes(8, "big") + bytes(4) + bytes([0, scope << 4 | type]) + bytes(2)


def full_status_descriptor(
    key: int,
    transport_id: bytes,
    *,
    holder: bool = False,
    all_target_ports: bool = False,
    scope_type: int = 0,
    relative_target_port: int = 0,
) -> bytes:
    """SPC-4 table 220: KEY, reserved (4), ALL_TG_PT|R_HOLDER, SCOPE|TYPE,
    reserved (4), RELATIVE TARGET PORT IDENTIFIER, ADDITIONAL DESCRIPTOR
    LENGTH, TransportID."""
    flags = (2 if all_target_ports else 0) | (1 if holder else 0)
    return (
        key.to_bytes(8, "big")
        + bytes(4)
        + bytes([flags, scope_type])
        + bytes(4)
        + relative_target_port.to_bytes(2, "big")
        + len(transport_id).to_bytes(4, "big")
        + transport_id
    )


# SPC-4 7.6.4.8 (SAS, 24 bytes) and 7.6.4.6 (iSCSI, format 00b: the name,
# NUL-terminated, padded to a multiple of 4).
SAS_TID = bytes([0x06, 0, 0, 0]) + (0x5001405000000001).to_bytes(8, "big") + bytes(12)
ISCSI_NAME = b"iqn.2003-01.org.linux-iscsi.c:x"
ISCSI_TID = bytes([0x05, 0]) + (32).to_bytes(2, "big") + ISCSI_NAME + b"\0"

KEYS = response(0x0C, KEY_A.to_bytes(8, "big") + KEY_B.to_bytes(8, "big"))
RESERVATION = response(0x07, reservation_descriptor(KEY_A, 0, 5))
CAPABILITIES = bytes.fromhex("00 08 1d 91 ea 01 00 00")  # SPC-4 table 217
FULL_STATUS = response(
    0x02,
    full_status_descriptor(KEY_A, SAS_TID, holder=True, all_target_ports=True, scope_type=5)
    + full_status_descriptor(KEY_B, ISCSI_TID, relative_target_port=2),
)
FULL_STATUS_TEXT = [
    "  PR generation=0x2",
    "    Key=0xa1",
    "      All target ports bit set",
    "      << Reservation holder >>",
    "      scope: LU_SCOPE,  type: Write Exclusive, registrants only",
    "      Transport Id of initiator:",
    "        SAS address: 0x5001405000000001",
    "    Key=0xfffffffffffffffe",
    "      All target ports bit clear",
    "      Relative port address: 0x2",
    "      not reservation holder",
    "      Transport Id of initiator:",
    "        iSCSI name: iqn.2003-01.org.linux-iscsi.c:x",
]


def text(action: PRInAction, data: bytes, hex_level: int = 0) -> PRInText:
    return _sgtext.prin_text(action, data, hex_level, len(data) or 1)


# -- complete responses: sg_persist's text, byte for byte ---------------------


def test_read_keys() -> None:
    assert text(PRInAction.READ_KEYS, KEYS) == PRInText(
        [
            "  PR generation=0xc, 2 registered reservation keys follow:",
            "    0xa1",
            "    0xfffffffffffffffe",
        ]
    )
    one = response(1, KEY_A.to_bytes(8, "big"))
    assert text(PRInAction.READ_KEYS, one).stdout == [
        "  PR generation=0x1, 1 registered reservation key follows:",
        "    0xa1",
    ]
    assert text(PRInAction.READ_KEYS, response(0, b"")) == PRInText(
        ["  PR generation=0x0, there are NO registered reservation keys"]
    )


def test_read_reservation() -> None:
    assert text(PRInAction.READ_RESERVATION, RESERVATION) == PRInText(
        [
            "  PR generation=0x7, Reservation follows:",
            "    Key=0xa1",
            "    scope: LU_SCOPE,  type: Write Exclusive, registrants only",
        ]
    )
    other = response(0x1F, reservation_descriptor(KEY_B, 1, 2))
    assert text(PRInAction.READ_RESERVATION, other).stdout == [
        "  PR generation=0x1f, Reservation follows:",
        "    Key=0xfffffffffffffffe",
        "    scope: 1  type: obsolete [2]",
    ]
    assert text(PRInAction.READ_RESERVATION, response(3, b"")) == PRInText(
        ["  PR generation=0x3, there is NO reservation held"]
    )


def test_report_capabilities() -> None:
    assert text(PRInAction.REPORT_CAPABILITIES, CAPABILITIES) == PRInText(
        [
            "Report capabilities response:",
            "  Replace Lost Reservation Capable(RLR_C): 0",
            "  Compatible Reservation Handling(CRH): 1",
            "  Specify Initiator Ports Capable(SIP_C): 1",
            "  All Target Ports Capable(ATP_C): 1",
            "  Persist Through Power Loss Capable(PTPL_C): 1",
            "  Type Mask Valid(TMV): 1",
            "  Allow Commands: 1",
            "  Persist Through Power Loss Active(PTPL_A): 1",
            "    Support indicated in Type mask:",
            "      Write Exclusive, all registrants: 1",
            "      Exclusive Access, registrants only: 1",
            "      Write Exclusive, registrants only: 1",
            "      Exclusive Access: 1",
            "      Write Exclusive: 1",
            "      Exclusive Access, all registrants: 1",
        ]
    )
    no_mask = bytes.fromhex("00 08 80 20 a0 00 00 00")  # RLR_C, ALLOW COMMANDS 2, TMV 0
    assert text(PRInAction.REPORT_CAPABILITIES, no_mask).stdout == [
        "Report capabilities response:",
        "  Replace Lost Reservation Capable(RLR_C): 1",
        "  Compatible Reservation Handling(CRH): 0",
        "  Specify Initiator Ports Capable(SIP_C): 0",
        "  All Target Ports Capable(ATP_C): 0",
        "  Persist Through Power Loss Capable(PTPL_C): 0",
        "  Type Mask Valid(TMV): 0",
        "  Allow Commands: 2",
        "  Persist Through Power Loss Active(PTPL_A): 0",
    ]
    assert text(PRInAction.REPORT_CAPABILITIES, CAPABILITIES, 1).stdout == [
        " 00     00 08 1d 91 ea 01 00 00"
    ]


def test_read_full_status() -> None:
    assert text(PRInAction.READ_FULL_STATUS, FULL_STATUS) == PRInText(FULL_STATUS_TEXT)
    assert text(PRInAction.READ_FULL_STATUS, response(9, b"")) == PRInText(
        ["  PR generation=0x9", "  No full status descriptors"]
    )


def test_hex_levels() -> None:
    assert text(PRInAction.READ_KEYS, KEYS, 1) == PRInText(
        [
            "  PR generation=0xc, Additional length=16",
            " 00     00 00 00 00 00 00 00 a1  ff ff ff ff ff ff ff fe",
        ]
    )
    # sg_persist prints "Additional length=0" twice.
    assert text(PRInAction.READ_KEYS, response(5, b""), 1).stdout == [
        "  PR generation=0x5, Additional length=0",
        "Additional length=0",
    ]
    assert text(PRInAction.READ_RESERVATION, RESERVATION, 2).stdout == [
        " 00     00 00 00 07 00 00 00 10  00 00 00 00 00 00 00 a1",
        " 10     00 00 00 00 00 05 00 00",
    ]
    assert text(PRInAction.READ_RESERVATION, RESERVATION, 3).stdout == [
        "00 00 00 07 00 00 00 10  00 00 00 00 00 00 00 a1",
        "00 00 00 00 00 05 00 00",
    ]


def test_hex_dump_is_sg_libs() -> None:
    assert _sgtext.hex_lines(bytes(range(18)), 1) == [
        " 00     00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f",
        " 10     10 11",
    ]
    assert _sgtext.hex_lines(b"AB\x00", 0) == [" 00     41 42 00" + " " * 44 + "AB."]
    assert _sgtext.hex_lines(bytes(9), -1) == ["00 00 00 00 00 00 00 00  00"]


# -- responses cut short: nothing that was not received -----------------------


@pytest.mark.parametrize(
    ("cut", "stdout"),
    [
        (16, ["    0xa1"]),  # the 2nd key not sent at all
        (20, ["    0xa1"]),  # cut inside the 2nd key
        (12, []),  # cut inside the 1st key
        (8, []),
    ],
)
def test_read_keys_cut_short(cut: int, stdout: list[str]) -> None:
    got = text(PRInAction.READ_KEYS, KEYS[:cut])
    head = "  PR generation=0xc, 2 registered reservation keys follow:"
    assert got == PRInText([head, *stdout], truncated(cut, 24))
    assert "    0x0" not in got.stdout and "    0xffffffff" not in got.stdout


@pytest.mark.parametrize("cut", [0, 4, 7])
def test_read_keys_without_a_header(cut: int) -> None:
    assert text(PRInAction.READ_KEYS, KEYS[:cut]) == PRInText([], truncated(cut, 8))
    assert text(PRInAction.READ_KEYS, KEYS[:cut], 1) == PRInText([], truncated(cut, 8))


@pytest.mark.parametrize("cut", [8, 12, 21, 23])
def test_read_reservation_cut_short(cut: int) -> None:
    """Only a whole descriptor is printed: no key, scope or type invented
    (sg_persist prints Key=0x0 and "obsolete [0]" from its zeroed buffer)."""
    got = text(PRInAction.READ_RESERVATION, RESERVATION[:cut])
    assert got == PRInText(["  PR generation=0x7, Reservation follows:"], truncated(cut, 24))


@pytest.mark.parametrize("cut", [0, 1, 2, 4, 7])
def test_report_capabilities_cut_short(cut: int) -> None:
    assert text(PRInAction.REPORT_CAPABILITIES, CAPABILITIES[:cut]) == PRInText(
        [], truncated(cut, 8)
    )
    hex_text = text(PRInAction.REPORT_CAPABILITIES, CAPABILITIES[:cut], 1)
    assert hex_text.stdout == _sgtext.hex_lines(CAPABILITIES[:cut], 1)
    assert not hex_text.malformed


def test_read_full_status_cut_inside_a_descriptor_header() -> None:
    cut = 8 + 24 + 24 + 10  # the 1st descriptor whole, 10 bytes of the 2nd
    got = text(PRInAction.READ_FULL_STATUS, FULL_STATUS[:cut])
    assert got == PRInText(FULL_STATUS_TEXT[:7], truncated(cut, len(FULL_STATUS)))


@pytest.mark.parametrize(
    ("cut", "descriptors"),
    [
        (8 + 24 + 10, 0),  # inside the SAS TransportID
        (8 + 48 + 24 + 20, 1),  # inside the iSCSI name
        (len(FULL_STATUS) - 1, 1),
    ],
)
def test_read_full_status_cut_inside_a_transport_id(cut: int, descriptors: int) -> None:
    got = text(PRInAction.READ_FULL_STATUS, FULL_STATUS[:cut])
    stdout = FULL_STATUS_TEXT[: 1 + 6 * descriptors]
    assert got == PRInText(stdout, truncated(cut, len(FULL_STATUS)))


def test_every_cut_prints_only_what_arrived_whole() -> None:
    """Any prefix of a response: no exception, and every line printed is a
    line of the complete response's text."""
    for action, data in (
        (PRInAction.READ_KEYS, KEYS),
        (PRInAction.READ_RESERVATION, RESERVATION),
        (PRInAction.REPORT_CAPABILITIES, CAPABILITIES),
        (PRInAction.READ_FULL_STATUS, FULL_STATUS),
    ):
        whole = text(action, data).stdout
        for cut in range(len(data)):
            got = text(action, data[:cut])
            assert set(got.stdout) <= set(whole), (action, cut)
            assert got.warning == truncated(cut, 8 if cut < 8 else len(data))
            assert not got.malformed
            for hex_level in (1, 2, 3):
                text(action, data[:cut], hex_level)


def test_hex_dumps_show_only_the_bytes_received() -> None:
    # -H: sg_persist's own warning when ADDITIONAL LENGTH exceeds -l.
    assert _sgtext.prin_text(PRInAction.READ_KEYS, KEYS[:20], 1, 20) == PRInText(
        [
            "  PR generation=0xc, Additional length too large=16, truncate",
            " 00     00 00 00 00 00 00 00 a1  ff ff ff ff",
        ]
    )
    # A device that sent less than it said and less than -l allowed.
    assert _sgtext.prin_text(PRInAction.READ_KEYS, KEYS[:20], 1, 8192) == PRInText(
        [
            "  PR generation=0xc, Additional length=16",
            " 00     00 00 00 00 00 00 00 a1  ff ff ff ff",
        ],
        truncated(20, 24),
    )
    assert _sgtext.prin_text(PRInAction.READ_KEYS, KEYS[:20], 2, 20) == PRInText(
        [
            " 00     00 00 00 0c 00 00 00 10  00 00 00 00 00 00 00 a1",
            " 10     ff ff ff ff",
        ],
        truncated(20, 24),
    )


# -- malformed responses -------------------------------------------------------


def test_malformed_responses_print_what_decodes() -> None:
    odd_keys = response(1, KEY_A.to_bytes(8, "big") + bytes(4))  # not a multiple of 8
    assert text(PRInAction.READ_KEYS, odd_keys) == PRInText(
        ["  PR generation=0x1, 1 registered reservation key follows:"],
        "PR in: malformed response (ADDITIONAL LENGTH 12); only what decodes is shown",
        True,
    )
    # The 2nd descriptor's TransportID (100 bytes) runs past ADDITIONAL LENGTH.
    second = full_status_descriptor(KEY_B, b"")[:20] + (100).to_bytes(4, "big")
    overrun = response(2, full_status_descriptor(KEY_A, SAS_TID, holder=True) + second)
    assert text(PRInAction.READ_FULL_STATUS, overrun) == PRInText(
        [
            "  PR generation=0x2",
            "    Key=0xa1",
            "      All target ports bit clear",
            "      Relative port address: 0x0",
            "      << Reservation holder >>",
            "      scope: LU_SCOPE,  type: obsolete [0]",
            "      Transport Id of initiator:",
            "        SAS address: 0x5001405000000001",
        ],
        "PR in: malformed response (ADDITIONAL LENGTH 72); only what decodes is shown",
        True,
    )


@pytest.mark.parametrize("length", ["00 00", "00 04", "00 10", "01 08"])
def test_capabilities_length_not_8(length: str) -> None:
    data = bytes.fromhex(length) + CAPABILITIES[2:] + bytes(8)
    message = "Unexpected response for PRIN Report Capabilities"
    assert text(PRInAction.REPORT_CAPABILITIES, data) == PRInText([], message, True)
    hex_text = text(PRInAction.REPORT_CAPABILITIES, data, 1)
    dumped = data[: int(length.replace(" ", ""), 16)]  # LENGTH bytes, as many as arrived
    assert hex_text == PRInText(_sgtext.hex_lines(dumped, 1), message, True)


def test_short_transport_id_is_shown_as_its_bytes() -> None:
    """A TransportID shorter than 24 bytes: its own bytes, no SAS address
    read from beyond it."""
    data = response(4, full_status_descriptor(KEY_A, SAS_TID[:8], all_target_ports=True))
    assert text(PRInAction.READ_FULL_STATUS, data) == PRInText(
        [
            "  PR generation=0x4",
            "    Key=0xa1",
            "      All target ports bit set",
            "      not reservation holder",
            "      Transport Id short or not multiple of 4 [length=8]:",
            "      06 00 00 00 50 01 40 50",
        ]
    )
