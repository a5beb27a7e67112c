"""Sense data (SPC-4 4.5): fixed 70h/71h and descriptor 72h/73h formats."""

from __future__ import annotations

import pytest

import pr_native.sense
from pr_native import Sense, SenseKey
from pr_native.cdb import decode_sense


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def sense(text: str) -> Sense:
    decoded = decode_sense(h(text))
    assert decoded is not None
    return decoded


def test_cdb_module_reexports_the_decoder() -> None:
    assert decode_sense is pr_native.sense.decode_sense


# -- fixed format ----------------------------------------------------------


def test_fixed_current_with_information() -> None:
    s = sense("f0 00 06 00 00 12 34 0a 01 02 03 04 2a 05 07 00 00 00")
    assert s.response_code == 0x70
    assert s.sense_key is SenseKey.UNIT_ATTENTION
    assert (s.asc, s.ascq) == (0x2A, 0x05)
    assert s.information == 0x1234
    assert s.command_specific_information == 0x01020304
    assert s.field_replaceable_unit == 7
    assert s.sense_key_specific is None
    assert (s.deferred, s.descriptor_format) == (False, False)
    assert (s.filemark, s.end_of_medium, s.incorrect_length) == (False, False, False)
    assert s.description == "REGISTRATIONS PREEMPTED"


def test_fixed_information_not_valid() -> None:
    s = sense("70 00 06 00 00 12 34 0a 00 00 00 00 2a 05 00 00 00 00")
    assert s.information is None


def test_fixed_sense_key_specific() -> None:
    s = sense("70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c0 00 02")
    assert s.sense_key is SenseKey.ILLEGAL_REQUEST
    assert (s.asc, s.ascq) == (0x24, 0x00)
    assert s.sense_key_specific == 0xC00002
    assert s.description == "INVALID FIELD IN CDB"


def test_fixed_sense_key_specific_not_valid() -> None:
    assert sense("70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 40 00 02").sense_key_specific is None


def test_fixed_deferred() -> None:
    s = sense("71 00 02 00 00 00 00 0a 00 00 00 00 04 01 00 00 00 00")
    assert s.response_code == 0x71
    assert s.deferred is True
    assert s.sense_key is SenseKey.NOT_READY
    assert (s.asc, s.ascq) == (0x04, 0x01)


@pytest.mark.parametrize(
    ("byte2", "flags", "key"),
    [
        ("e8", (True, True, True), SenseKey.BLANK_CHECK),
        ("80", (True, False, False), SenseKey.NO_SENSE),
        ("40", (False, True, False), SenseKey.NO_SENSE),
        ("23", (False, False, True), SenseKey.MEDIUM_ERROR),
    ],
)
def test_fixed_filemark_eom_ili(byte2: str, flags: tuple[bool, bool, bool], key: SenseKey) -> None:
    s = sense(f"70 00 {byte2} 00 00 00 00 0a 00 00 00 00 00 00 00 00 00 00")
    assert (s.filemark, s.end_of_medium, s.incorrect_length) == flags
    assert s.sense_key is key


def test_fixed_bytes_past_additional_sense_length_are_ignored() -> None:
    # ADDITIONAL SENSE LENGTH 6: the sense ends after ASCQ (byte 13).
    s = sense("70 00 06 00 00 00 00 06 00 00 00 00 2a 05 99 80 12 34")
    assert (s.asc, s.ascq) == (0x2A, 0x05)
    assert s.field_replaceable_unit == 0
    assert s.sense_key_specific is None


def test_fixed_truncated_to_three_bytes() -> None:
    s = sense("70 00 06")
    assert s.sense_key is SenseKey.UNIT_ATTENTION
    assert (s.asc, s.ascq) == (0, 0)
    assert s.information is None


def test_fixed_truncated_valid_bit_without_information_bytes() -> None:
    # VALID is set but INFORMATION (bytes 3-6) never arrived: nothing to report.
    s = sense("f0 00 06")
    assert s.sense_key is SenseKey.UNIT_ATTENTION
    assert s.information is None


def test_fixed_truncated_before_ascq() -> None:
    s = sense("70 00 06 00 00 00 00 0a 00 00 00 00 2a")
    assert s.asc == 0x2A
    assert s.sense_key_specific is None


# -- descriptor format -----------------------------------------------------


def test_descriptor_current_with_descriptors() -> None:
    s = sense(
        "72 05 24 00 00 00 00 18"
        " 00 0a 80 00 01 02 03 04 05 06 07 08"  # information, VALID
        " 02 06 00 00 c0 00 05 00"  # sense key specific, SKSV
        " 04 02 00 e0"  # stream commands: FILEMARK, EOM, ILI
    )
    assert s.response_code == 0x72
    assert s.descriptor_format is True
    assert s.deferred is False
    assert s.sense_key is SenseKey.ILLEGAL_REQUEST
    assert (s.asc, s.ascq) == (0x24, 0x00)
    assert s.information == 0x0102030405060708
    assert s.sense_key_specific == 0xC00005
    assert (s.filemark, s.end_of_medium, s.incorrect_length) == (True, True, True)


def test_descriptor_information_not_valid() -> None:
    s = sense("72 05 24 00 00 00 00 0c 00 0a 00 00 00 00 00 00 00 00 12 34")
    assert s.information is None


@pytest.mark.parametrize(
    ("byte3", "flags"),
    [("80", (True, False, False)), ("40", (False, True, False)), ("20", (False, False, True))],
)
def test_descriptor_stream_commands_bits(byte3: str, flags: tuple[bool, bool, bool]) -> None:
    s = sense(f"72 00 00 00 00 00 00 04 04 02 00 {byte3}")
    assert (s.filemark, s.end_of_medium, s.incorrect_length) == flags


def test_descriptor_command_specific_and_fru() -> None:
    s = sense("72 04 44 00 00 00 00 10 01 0a 00 00 00 00 00 00 de ad be ef 03 02 00 2b")
    assert s.sense_key is SenseKey.HARDWARE_ERROR
    assert s.command_specific_information == 0xDEADBEEF
    assert s.field_replaceable_unit == 0x2B


def test_descriptor_deferred() -> None:
    s = sense("73 06 2a 03 00 00 00 00")
    assert s.response_code == 0x73
    assert (s.deferred, s.descriptor_format) == (True, True)
    assert s.sense_key is SenseKey.UNIT_ATTENTION
    assert s.description == "RESERVATIONS PREEMPTED"


def test_descriptor_past_additional_sense_length_is_ignored() -> None:
    s = sense("72 05 24 00 00 00 00 0c 00 0a 80 00 00 00 00 00 00 00 00 09 02 06 00 00 c0 00 05 00")
    assert s.information == 9
    assert s.sense_key_specific is None


def test_descriptor_cut_inside_a_descriptor_is_ignored() -> None:
    s = sense("72 05 24 00 00 00 00 0c 00 0a 80 00 00 00")
    assert s.information is None
    assert (s.asc, s.ascq) == (0x24, 0x00)


def test_descriptor_truncated_header() -> None:
    s = sense("72 06 2a")
    assert s.sense_key is SenseKey.UNIT_ATTENTION
    assert (s.asc, s.ascq) == (0x2A, 0x00)


# -- not sense data --------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    ["", "7f 00 06 00 00 00 00 0a", "ff", "00", "74 00 06 00", "01 02 03", "6f 00 06"],
)
def test_not_sense_data(data: str) -> None:
    assert decode_sense(h(data)) is None


# -- descriptions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("asc_ascq", "text"),
    [
        ("2a 03", "RESERVATIONS PREEMPTED"),
        ("2a 04", "RESERVATIONS RELEASED"),
        ("2a 05", "REGISTRATIONS PREEMPTED"),
        ("29 00", "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED"),
        ("26 04", "INVALID RELEASE OF PERSISTENT RESERVATION"),
        ("1a 00", "PARAMETER LIST LENGTH ERROR"),
        ("55 04", "INSUFFICIENT REGISTRATION RESOURCES"),
    ],
)
def test_description(asc_ascq: str, text: str) -> None:
    s = sense(f"70 00 06 00 00 00 00 0a 00 00 00 00 {asc_ascq} 00 00 00 00")
    assert s.description == text


def test_str() -> None:
    s = sense("72 06 2a 05 00 00 00 00")
    assert str(s) == "UNIT ATTENTION, ASC/ASCQ 2Ah/05h: REGISTRATIONS PREEMPTED"
