# ruff: noqa: E501 (the rows are literal calls and messages, as docs/bad-input.md shows them)
"""Bad input, and the exact error each public function and command gets.

``CASES`` is the table of docs/bad-input.md: each row's call is what runs
(a Python expression, or a command line), its error and message are what it
must raise or print, and nothing may reach the device (the fake_lib seam
records no command).  tests/lab/suite/test_bad_input.py runs the same rows
against a real LU and checks that its PR state did not change.  After a
change to the table:

    python -m tests.unit.test_bad_input --write   # regenerates docs/bad-input.md

Names in the calls: ``dev`` is an open Device on ``DEVICE``, ``closed`` one
that was closed, ``read_only`` one opened with read_only=True; ``FILE`` is a
regular file; ``SAS``/``ISCSI`` are valid TransportIDs and ``WE`` is WRITE
EXCLUSIVE.  In a command line DEVICE and FILE are the same paths.
"""

from __future__ import annotations

import contextlib
import io
import math
import shlex
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import pr_native as pr
from pr_native import cdb, cli, winioctl

from .fake_device import FakeLib

DOC = Path(__file__).resolve().parents[2] / "docs" / "bad-input.md"
FAKE_DEVICE = "/dev/sg-fake"


@dataclass(frozen=True)
class Case:
    call: str
    """A Python expression, or a command line starting with ``pr-native``."""
    error: str
    """The exception's class name, or ``exit N`` for a command line."""
    message: str
    """str() of the exception, or the last line on standard error."""
    opens: bool = False
    """The call opens a path of its own (not DEVICE): the real C core runs."""


@dataclass(frozen=True)
class Group:
    title: str
    cases: tuple[Case, ...]


SAS = pr.SASTransportID(0x5001405000000001)
ISCSI = pr.ISCSITransportID("iqn.2003-01.org.linux-iscsi.prlab:a")
WE = pr.ReservationType.WRITE_EXCLUSIVE

GROUPS = (
    Group(
        "Opening a device",
        (
            Case(
                "pr.Device(3)",
                "TypeError",
                "path must be a str or os.PathLike, not int",
            ),
            Case(
                'pr.Device("")',
                "ValueError",
                "path must be a non-empty device path, got ''",
            ),
            Case(
                'pr.Device("/dev/sg\\0")',
                "ValueError",
                "path must be a non-empty device path, got '/dev/sg\\x00'",
            ),
            Case(
                "pr.Device(DEVICE, read_only=1)",
                "TypeError",
                "read_only must be a bool, not int",
            ),
            Case(
                'pr.Device(DEVICE, transport="pass-through")',
                "ValueError",
                "transport='pass-through' exists only on Windows",
            ),
            Case(
                'pr.Device(DEVICE, transport="scsi")',
                "ValueError",
                "transport must be one of ['auto', 'pass-through', 'storage-ioctl'], got 'scsi'",
            ),
            Case(
                'pr.Device("/nonexistent/sg9")',
                "FileNotFoundError",
                "[Errno 2] cannot open SCSI device: No such file or directory; no such device node: '/nonexistent/sg9'",
                opens=True,
            ),
            Case(
                'pr.Device("/")',
                "IsADirectoryError",
                "[Errno 21] cannot open SCSI device: Is a directory: '/'",
                opens=True,
            ),
            Case(
                "pr.Device(FILE)",
                "OSError",
                "[Errno 25] not a SCSI device (it refused SG_GET_VERSION_NUM): use /dev/sgN, /dev/sdX, /dev/stN or /dev/nstN: 'FILE'",
                opens=True,
            ),
            Case(
                'pr.Device("/dev/null")',
                "OSError",
                "[Errno 25] not a SCSI device (it refused SG_GET_VERSION_NUM): use /dev/sgN, /dev/sdX, /dev/stN or /dev/nstN: '/dev/null'",
                opens=True,
            ),
            Case(
                'pr.Device("/dev/null", read_only=True)',
                "OSError",
                "[Errno 25] not a SCSI device (it refused SG_GET_VERSION_NUM): use /dev/sgN, /dev/sdX, /dev/stN or /dev/nstN: '/dev/null'",
                opens=True,
            ),
        ),
    ),
    Group(
        "Keys, types and flags",
        (
            Case(
                "dev.register(-1)",
                "ValueError",
                "new_key must be in 0 .. 2**64-1, got -1",
            ),
            Case(
                "dev.register(2**64)",
                "ValueError",
                "new_key must be in 0 .. 2**64-1, got 18446744073709551616",
            ),
            Case(
                "dev.register(1.5)",
                "TypeError",
                "new_key must be an int or 8 bytes, not float",
            ),
            Case(
                'dev.register("a1")',
                "TypeError",
                "new_key must be an int or 8 bytes, not str",
            ),
            Case(
                'dev.register(b"\\xa1" * 7)',
                "ValueError",
                "new_key as bytes must be 8 bytes long, got 7",
            ),
            Case(
                "dev.register(True)",
                "TypeError",
                "new_key must be an int or 8 bytes, not bool",
            ),
            Case(
                "dev.register(None)",
                "TypeError",
                "new_key must be an int or 8 bytes, not NoneType",
            ),
            Case(
                "dev.register(1, key=-1)",
                "ValueError",
                "key must be in 0 .. 2**64-1, got -1",
            ),
            Case(
                "dev.register(1, aptpl=1)",
                "TypeError",
                "aptpl must be a bool, not int",
            ),
            Case(
                'dev.register_and_ignore(1, all_target_ports="yes")',
                "TypeError",
                "all_target_ports must be a bool, not str",
            ),
            Case(
                'dev.unregister("1")',
                "TypeError",
                "key must be an int or 8 bytes, not str",
            ),
            Case(
                "dev.reserve(1, 0)",
                "ValueError",
                "type must be one of the SPC reservation types [1, 3, 5, 6, 7, 8], got 0",
            ),
            Case(
                "dev.reserve(1, 2)",
                "ValueError",
                "type must be one of the SPC reservation types [1, 3, 5, 6, 7, 8], got 2",
            ),
            Case(
                "dev.reserve(1, 9)",
                "ValueError",
                "type must be one of the SPC reservation types [1, 3, 5, 6, 7, 8], got 9",
            ),
            Case(
                'dev.reserve(1, "WE")',
                "TypeError",
                "type must be a ReservationType, not str",
            ),
            Case(
                "dev.reserve(1, pr.ReservationType(4))",
                "ValueError",
                "type must be one of the SPC reservation types [1, 3, 5, 6, 7, 8], got 4",
            ),
            Case(
                "dev.release(1, True)",
                "TypeError",
                "type must be a ReservationType, not bool",
            ),
            Case(
                "dev.clear(None)",
                "TypeError",
                "key must be an int or 8 bytes, not NoneType",
            ),
            Case(
                "dev.preempt(1, preempt_key=-1, type=WE)",
                "ValueError",
                "preempt_key must be in 0 .. 2**64-1, got -1",
            ),
            Case(
                "dev.preempt_and_abort(1, preempt_key=2**64, type=WE)",
                "ValueError",
                "preempt_key must be in 0 .. 2**64-1, got 18446744073709551616",
            ),
            Case(
                "dev.replace_lost_reservation(1, 1.0)",
                "TypeError",
                "type must be a ReservationType, not float",
            ),
            Case(
                "dev.register_and_move(1, new_key=0, relative_target_port=1, transport_id=SAS)",
                "ValueError",
                "new_key must not be 0 for REGISTER AND MOVE (SPC-4 6.16.4)",
            ),
            Case(
                "dev.register_and_move(1, new_key=2, relative_target_port=65536, transport_id=SAS)",
                "ValueError",
                "relative_target_port must be in 0 .. 65535, got 65536",
            ),
            Case(
                "dev.register_and_move(1, new_key=2, relative_target_port=-1, transport_id=SAS)",
                "ValueError",
                "relative_target_port must be in 0 .. 65535, got -1",
            ),
            Case(
                "dev.register_and_move(1, new_key=2, relative_target_port=1, transport_id=SAS, unregister=1)",
                "TypeError",
                "unregister must be a bool, not int",
            ),
        ),
    ),
    Group(
        "TransportIDs",
        (
            Case(
                "dev.register(1, transport_ids=SAS)",
                "TypeError",
                "transport_ids must be an iterable of TransportID",
            ),
            Case(
                'dev.register(1, transport_ids="sas,5001405000000001")',
                "TypeError",
                "transport_ids must be an iterable of TransportID",
            ),
            Case(
                "dev.register(1, transport_ids=[SAS.to_bytes()])",
                "TypeError",
                "transport_ids[0] must be a TransportID, not bytes",
            ),
            Case(
                "dev.register(1, transport_ids=[pr.TransportID()])",
                "TypeError",
                "transport_ids[0] must be a TransportID, not TransportID",
            ),
            Case(
                'dev.register(1, transport_ids=[pr.RawTransportID(b"")])',
                "ValueError",
                "transport_ids[0] is not a valid TransportID (SPC-4 7.6.4): 0 bytes, a TransportID has at least 24",
            ),
            Case(
                "dev.register(1, transport_ids=[pr.RawTransportID(SAS.to_bytes()[:20])])",
                "ValueError",
                "transport_ids[0] is not a valid TransportID (SPC-4 7.6.4): 20 bytes, a TransportID has at least 24",
            ),
            Case(
                "dev.register(1, transport_ids=[pr.RawTransportID(SAS.to_bytes() + bytes(4))])",
                "ValueError",
                "transport_ids[0] is not a valid TransportID (SPC-4 7.6.4): 28 bytes, format code 00b is exactly 24",
            ),
            Case(
                "dev.register(1, transport_ids=[pr.RawTransportID(bytes([5, 0, 1, 8]) + bytes(264))])",
                "ValueError",
                "transport_ids[0] is not a valid TransportID (SPC-4 7.6.4): 268 bytes, a TransportID has at most 264",
            ),
            Case(
                "dev.register(1, transport_ids=[pr.RawTransportID(bytes([5, 0, 0, 21]) + bytes(21))])",
                "ValueError",
                "transport_ids[0] is not a valid TransportID (SPC-4 7.6.4): 25 bytes, not a multiple of 4",
            ),
            Case(
                "dev.register_and_move(1, new_key=2, relative_target_port=1, transport_id=[SAS])",
                "TypeError",
                "transport_id must be a TransportID, not list",
            ),
            Case(
                'dev.register_and_move(1, new_key=2, relative_target_port=1, transport_id="sas,5001405000000001")',
                "TypeError",
                "transport_id must be a TransportID, not str",
            ),
            Case(
                'pr.TransportID.parse(b"sas,5001405000000001")',
                "TypeError",
                "transport id text must be a str, not bytes",
            ),
            Case(
                'pr.TransportID.parse("sas,50014050")',
                "ValueError",
                "sas TransportID needs exactly 16 hex digits, got '50014050'",
            ),
            Case(
                'pr.TransportID.parse("spi,x,1")',
                "ValueError",
                "spi TransportID is spi,<address>,<relative port>: 'spi,x,1'",
            ),
            Case(
                'pr.TransportID.parse("sop,12345")',
                "ValueError",
                "sop TransportID needs a 16-bit hex routing id: 'sop,12345'",
            ),
            Case(
                'pr.TransportID.parse("iqn." + "a" * 220)',
                "ValueError",
                "not an iSCSI name (iqn., eui. or naa.): 'iqn.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
            ),
            Case(
                'pr.ISCSITransportID("iqn." + "\\0")',
                "ValueError",
                "not an iSCSI name (iqn., eui. or naa.): 'iqn.\\x00'",
            ),
            Case(
                'pr.TransportID.parse("iqn.x,i,0x123")',
                "ValueError",
                "iSCSI ISID TransportID needs exactly 12 hex digits, got '123'",
            ),
            Case(
                'pr.TransportID.parse("zz")',
                "ValueError",
                "unrecognised TransportID: 'zz'",
            ),
            Case(
                'pr.TransportID.parse("")',
                "ValueError",
                "unrecognised TransportID: ''",
            ),
            Case(
                'pr.ISCSITransportID("node1")',
                "ValueError",
                "not an iSCSI name (iqn., eui. or naa.): 'node1'",
            ),
            Case(
                'pr.ISCSITransportID("iqn.a,b")',
                "ValueError",
                "not an iSCSI name (iqn., eui. or naa.): 'iqn.a,b'",
            ),
            Case(
                'pr.ISCSITransportID("iqn.a", isid=2**48)',
                "ValueError",
                "isid must be in 0 .. 2**48-1, got 281474976710656",
            ),
            Case(
                "pr.SASTransportID(2**64)",
                "ValueError",
                "sas_address must be in 0 .. 2**64-1, got 18446744073709551616",
            ),
            Case(
                'pr.SASTransportID("5001405000000001")',
                "TypeError",
                "sas_address must be an int, not str",
            ),
            Case(
                'pr.SRPTransportID(b"short")',
                "ValueError",
                "port_identifier must be 16 bytes",
            ),
            Case(
                "pr.SPITransportID(-1, 0)",
                "ValueError",
                "scsi_address must be in 0 .. 2**16-1, got -1",
            ),
            Case(
                'pr.RawTransportID("06")',
                "TypeError",
                "data must be bytes, not str",
            ),
            Case(
                "pr.TransportID().to_bytes()",
                "TypeError",
                "TransportID is abstract: use a protocol subclass",
            ),
        ),
    ),
    Group(
        "Timeouts",
        (
            Case(
                "pr.Device(DEVICE, timeout=0)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got 0",
            ),
            Case(
                "pr.Device(DEVICE, timeout=-1)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got -1",
            ),
            Case(
                "pr.Device(DEVICE, timeout=-0.0)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got -0.0",
            ),
            Case(
                "pr.Device(DEVICE, timeout=math.nan)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got nan",
            ),
            Case(
                "pr.Device(DEVICE, timeout=math.inf)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got inf",
            ),
            Case(
                "pr.Device(DEVICE, timeout=2**32)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got 4294967296",
            ),
            Case(
                "pr.Device(DEVICE, timeout=10**20)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got 100000000000000000000",
            ),
            Case(
                'pr.Device(DEVICE, timeout="30")',
                "TypeError",
                "timeout must be a number of seconds, not str",
            ),
            Case(
                "pr.Device(DEVICE, timeout=True)",
                "TypeError",
                "timeout must be a number of seconds, not bool",
            ),
            Case(
                "dev.read_keys(timeout=0)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got 0",
            ),
            Case(
                "dev.read_keys(timeout=-5)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got -5",
            ),
            Case(
                "dev.read_full_status(timeout=1e10)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got 10000000000.0",
            ),
            Case(
                "dev.register(1, timeout=-1)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got -1",
            ),
            Case(
                "dev.preempt(1, preempt_key=2, type=WE, timeout=math.nan)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got nan",
            ),
            Case(
                'dev.test_unit_ready(timeout="1")',
                "TypeError",
                "timeout must be a number of seconds, not str",
            ),
        ),
    ),
    Group(
        "Closed and read-only devices",
        (
            Case(
                "closed.read_keys()",
                "ValueError",
                "I/O on closed device 'DEVICE'",
            ),
            Case(
                "closed.read_reservation()",
                "ValueError",
                "I/O on closed device 'DEVICE'",
            ),
            Case(
                "closed.report_capabilities()",
                "ValueError",
                "I/O on closed device 'DEVICE'",
            ),
            Case(
                "closed.read_full_status()",
                "ValueError",
                "I/O on closed device 'DEVICE'",
            ),
            Case(
                "closed.test_unit_ready()",
                "ValueError",
                "I/O on closed device 'DEVICE'",
            ),
            Case(
                "closed.register(1)",
                "ValueError",
                "I/O on closed device 'DEVICE'",
            ),
            Case(
                "closed.preempt(1, preempt_key=2, type=WE)",
                "ValueError",
                "I/O on closed device 'DEVICE'",
            ),
            Case(
                "closed.clear(1)",
                "ValueError",
                "I/O on closed device 'DEVICE'",
            ),
            Case(
                "read_only.register(1)",
                "ValueError",
                "PERSISTENT RESERVE OUT (REGISTER): the device was opened with read_only=True; nothing was sent",
            ),
            Case(
                "read_only.reserve(1, WE)",
                "ValueError",
                "PERSISTENT RESERVE OUT (RESERVE): the device was opened with read_only=True; nothing was sent",
            ),
            Case(
                "read_only.preempt_and_abort(1, preempt_key=2, type=WE)",
                "ValueError",
                "PERSISTENT RESERVE OUT (PREEMPT AND ABORT): the device was opened with read_only=True; nothing was sent",
            ),
        ),
    ),
    Group(
        "Polling",
        (
            Case(
                "pr.poll(DEVICE)",
                "TypeError",
                "devices must be a sequence of paths or Devices",
            ),
            Case(
                "pr.poll([3])",
                "TypeError",
                "devices[0] must be a path or a Device, not int",
            ),
            Case(
                'pr.poll([""])',
                "ValueError",
                "devices[0] must be a non-empty device path, got ''",
            ),
            Case(
                "pr.poll([DEVICE, DEVICE])",
                "ValueError",
                "devices must not name the same device twice",
            ),
            Case(
                "pr.poll([DEVICE], what=())",
                "ValueError",
                "what must name at least one of 'keys', 'reservation'",
            ),
            Case(
                'pr.poll([DEVICE], what=("registrants",))',
                "ValueError",
                "what: unknown 'registrants', expected ['keys', 'reservation']",
            ),
            Case(
                'pr.poll([DEVICE], what="keys")',
                "TypeError",
                "what must be a sequence of ['keys', 'reservation']",
            ),
            Case(
                "pr.poll([DEVICE], timeout=0)",
                "ValueError",
                "timeout must be > 0 and <= 4294967.295 seconds, got 0",
            ),
            Case(
                "pr.poll([closed])",
                "ValueError",
                "I/O on closed device 'DEVICE'",
            ),
        ),
    ),
    Group(
        "Builders and decoders on bytes",
        (
            Case(
                "cdb.pr_in_cdb(32, 8192)",
                "ValueError",
                "service_action must be in 0 .. 31, got 32",
            ),
            Case(
                "cdb.pr_in_cdb(0, 65536)",
                "ValueError",
                "allocation_length must be in 0 .. 65535, got 65536",
            ),
            Case(
                "cdb.pr_in_cdb(0, -1)",
                "ValueError",
                "allocation_length must be in 0 .. 65535, got -1",
            ),
            Case(
                'cdb.pr_in_cdb("0", 8)',
                "TypeError",
                "service_action must be an int, not str",
            ),
            Case(
                "cdb.pr_out_cdb(0, 0, 16, 24)",
                "ValueError",
                "type must be in 0 .. 15, got 16",
            ),
            Case(
                "cdb.pr_out_cdb(0, 16, 1, 24)",
                "ValueError",
                "scope must be in 0 .. 15, got 16",
            ),
            Case(
                "cdb.pr_out_cdb(0, 0, 1, 2**32)",
                "ValueError",
                "parameter_list_length must be in 0 .. 4294967295, got 4294967296",
            ),
            Case(
                "cdb.pr_out_parameters(7, 1, 2)",
                "ValueError",
                "REGISTER AND MOVE needs exactly one TransportID in transport_ids",
            ),
            Case(
                "cdb.pr_out_parameters(7, 1, 2, transport_ids=[SAS, SAS])",
                "ValueError",
                "REGISTER AND MOVE needs exactly one TransportID in transport_ids",
            ),
            Case(
                "cdb.pr_out_parameters(0, 2**64)",
                "ValueError",
                "key must be in 0 .. 2**64-1, got 18446744073709551616",
            ),
            Case(
                "cdb.pr_out_parameters(0, relative_target_port=70000)",
                "ValueError",
                "relative_target_port must be in 0 .. 65535, got 70000",
            ),
            Case(
                'cdb.decode_read_keys(b"")',
                "MalformedResponse",
                "READ KEYS response violates the SPC format [PERSISTENT RESERVE IN (READ KEYS) on ?]",
            ),
            Case(
                "cdb.decode_read_keys(bytes(4) + bytes([0, 0, 0, 16]))",
                "ResponseTruncated",
                "READ KEYS response is cut short: 24 bytes needed [PERSISTENT RESERVE IN (READ KEYS) on ?]",
            ),
            Case(
                "cdb.decode_read_keys(bytes(4) + bytes([0, 0, 0, 12]) + bytes(12))",
                "MalformedResponse",
                "READ KEYS response violates the SPC format [PERSISTENT RESERVE IN (READ KEYS) on ?]",
            ),
            Case(
                'cdb.decode_read_keys("00000000")',
                "TypeError",
                "string argument without an encoding",
            ),
            Case(
                "cdb.decode_read_keys(None)",
                "TypeError",
                "cannot convert 'NoneType' object to bytes",
            ),
            Case(
                "cdb.decode_read_reservation(bytes(4) + bytes([0, 0, 0, 8]) + bytes(8))",
                "MalformedResponse",
                "READ RESERVATION response violates the SPC format [PERSISTENT RESERVE IN (READ RESERVATION) on ?]",
            ),
            Case(
                "cdb.decode_report_capabilities(bytes(8))",
                "MalformedResponse",
                "REPORT CAPABILITIES response violates the SPC format [PERSISTENT RESERVE IN (REPORT CAPABILITIES) on ?]",
            ),
            Case(
                "cdb.decode_read_full_status(bytes(4) + bytes([0, 0, 0, 24]) + bytes(20) + bytes([0, 0, 1, 0]))",
                "MalformedResponse",
                "READ FULL STATUS response violates the SPC format [PERSISTENT RESERVE IN (READ FULL STATUS) on ?]",
            ),
            Case(
                'cdb.decode_sense(b"")',
                "returns",
                "None",
            ),
            Case(
                "cdb.decode_sense(bytes([0x7F]) + bytes(17))",
                "returns",
                "None",
            ),
            Case(
                "winioctl.pr_in_command(4, 8192)",
                "ValueError",
                "the storage PR IN IOCTL carries only READ KEYS (0) and READ RESERVATION (1); use SCSI pass-through for the others",
            ),
            Case(
                "winioctl.pr_out_command(9, WE, 0, 1, 0)",
                "ValueError",
                "the storage PR OUT IOCTL carries service actions 0-6 only; use SCSI pass-through for REGISTER AND MOVE and REPLACE LOST RESERVATION",
            ),
        ),
    ),
    Group(
        "pr-native",
        (
            Case(
                "pr-native read-keys",
                "exit 1",
                "pr-native read-keys: error: the following arguments are required: device",
            ),
            Case(
                "pr-native read-keys --timeout 0 DEVICE",
                "exit 1",
                "pr-native read-keys: error: argument --timeout: not a number of seconds > 0: '0'",
            ),
            Case(
                "pr-native read-keys --timeout -1 DEVICE",
                "exit 1",
                "pr-native read-keys: error: argument --timeout: not a number of seconds > 0: '-1'",
            ),
            Case(
                "pr-native read-keys --timeout 1e20 DEVICE",
                "exit 1",
                "pr-native read-keys: error: argument --timeout: not a number of seconds > 0: '1e20'",
            ),
            Case(
                "pr-native read-keys --timeout nan DEVICE",
                "exit 1",
                "pr-native read-keys: error: argument --timeout: not a number of seconds > 0: 'nan'",
            ),
            Case(
                "pr-native read-keys --timeout soon DEVICE",
                "exit 1",
                "pr-native read-keys: error: argument --timeout: not a number of seconds > 0: 'soon'",
            ),
            Case(
                "pr-native register DEVICE",
                "exit 1",
                "pr-native register: error: the following arguments are required: --new-key",
            ),
            Case(
                "pr-native register --new-key zz DEVICE",
                "exit 1",
                "pr-native register: error: argument --new-key: not a key: 'zz' (1 to 16 hex digits, 0x optional: keys are hex)",
            ),
            Case(
                "pr-native register --new-key 0x DEVICE",
                "exit 1",
                "pr-native register: error: argument --new-key: not a key: '0x' (1 to 16 hex digits, 0x optional: keys are hex)",
            ),
            Case(
                "pr-native register --new-key 12345678901234567 DEVICE",
                "exit 1",
                "pr-native register: error: argument --new-key: not a key: '12345678901234567' (1 to 16 hex digits, 0x optional: keys are hex)",
            ),
            Case(
                "pr-native register --new-key -1 DEVICE",
                "exit 1",
                "pr-native register: error: argument --new-key: not a key: '-1' (1 to 16 hex digits, 0x optional: keys are hex)",
            ),
            Case(
                "pr-native register --new-key a1 --transport-id sas,12 DEVICE",
                "exit 1",
                "pr-native register: error: argument --transport-id: bad transport id 'sas,12': sas TransportID needs exactly 16 hex digits, got '12'",
            ),
            Case(
                "pr-native reserve --key a1 --type 2 DEVICE",
                "exit 1",
                "pr-native reserve: error: argument --type: not a reservation type: '2'",
            ),
            Case(
                "pr-native reserve --key a1 --type shared DEVICE",
                "exit 1",
                "pr-native reserve: error: argument --type: unknown reservation type 'shared': use 1, 3, 5-8, a name such as write-exclusive-registrants-only, or one of WE, EA, WE_RO, EA_RO, WE_AR, EA_AR",
            ),
            Case(
                "pr-native preempt --key a1 --type we DEVICE",
                "exit 1",
                "pr-native preempt: error: the following arguments are required: --preempt-key",
            ),
            Case(
                "pr-native register-move --key a1 --new-key b2 --transport-id sas,5001405000000001 --relative-target-port 70000 DEVICE",
                "exit 1",
                "pr-native register-move: error: argument --relative-target-port: relative target port must be 0 .. 65535: '70000'",
            ),
            Case(
                "pr-native register-move --key a1 --new-key 0 --transport-id sas,5001405000000001 --relative-target-port 1 DEVICE",
                "exit 1",
                "pr-native register-move: register-move: --new-key must not be 0 (SPC-4 6.16.4)",
            ),
            Case(
                "pr-native read-keys /nonexistent/sg9",
                "exit 52",
                "pr-native read-keys: [Errno 2] cannot open SCSI device: No such file or directory; no such device node: '/nonexistent/sg9' [exit 52: OS error: No such file or directory]",
                opens=True,
            ),
            Case(
                "pr-native read-keys /",
                "exit 71",
                "pr-native read-keys: [Errno 21] cannot open SCSI device: Is a directory: '/' [exit 71: OS error: Is a directory]",
                opens=True,
            ),
            Case(
                "pr-native read-keys FILE",
                "exit 75",
                "pr-native read-keys: [Errno 25] not a SCSI device (it refused SG_GET_VERSION_NUM): use /dev/sgN, /dev/sdX, /dev/stN or /dev/nstN: 'FILE' [exit 75: OS error: Inappropriate ioctl for device]",
                opens=True,
            ),
            Case(
                "pr-native read-keys /dev/null",
                "exit 75",
                "pr-native read-keys: [Errno 25] not a SCSI device (it refused SG_GET_VERSION_NUM): use /dev/sgN, /dev/sdX, /dev/stN or /dev/nstN: '/dev/null' [exit 75: OS error: Inappropriate ioctl for device]",
                opens=True,
            ),
            Case(
                "pr-native register --new-key a1 /dev/null",
                "exit 75",
                "pr-native register: [Errno 25] not a SCSI device (it refused SG_GET_VERSION_NUM): use /dev/sgN, /dev/sdX, /dev/stN or /dev/nstN: '/dev/null' [exit 75: OS error: Inappropriate ioctl for device]",
                opens=True,
            ),
            Case(
                "pr-native register --new-key a1 /nonexistent/sg9",
                "exit 52",
                "pr-native register: [Errno 2] cannot open SCSI device: No such file or directory; no such device node: '/nonexistent/sg9' [exit 52: OS error: No such file or directory]",
                opens=True,
            ),
        ),
    ),
    Group(
        "pr-native sg-persist",
        (
            Case(
                "pr-native sg-persist --in --read-keys",
                "exit 1",
                "No device name given",
            ),
            Case(
                "pr-native sg-persist --in --out --register DEVICE",
                "exit 31",
                "choose '--in' _or_ '--out' (not both)",
            ),
            Case(
                "pr-native sg-persist --out DEVICE",
                "exit 31",
                ">> service action must be chosen (e.g. '--register')",
            ),
            Case(
                "pr-native sg-persist --register DEVICE",
                "exit 31",
                ">> '--out' option must be given (as a safeguard)",
            ),
            Case(
                "pr-native sg-persist --in --read-keys --read-reservation DEVICE",
                "exit 31",
                "Too many service actions given; choose one only",
            ),
            Case(
                "pr-native sg-persist --out --register --param-sark=zz DEVICE",
                "exit 1",
                "bad argument to '--param-sark'",
            ),
            Case(
                "pr-native sg-persist --out --register --param-sark=10000000000000000 DEVICE",
                "exit 1",
                "bad argument to '--param-sark'",
            ),
            Case(
                "pr-native sg-persist -n --out --reserve --param-rk=a1 --prout-type=2 DEVICE",
                "exit 1",
                "--prout-type=2: pr_native sends only the SPC types 1, 3, 5, 6, 7, 8",
            ),
            Case(
                "pr-native sg-persist --out --register --param-sark=a1 --transport-id=zz DEVICE",
                "exit 1",
                "bad argument to '--transport-id'",
            ),
            Case(
                "pr-native sg-persist --out --register --param-sark=a1 --transport-id=file=/nonexistent DEVICE",
                "exit 1",
                "unable to open /nonexistent: [Errno 2] No such file or directory: '/nonexistent'",
            ),
            Case(
                "pr-native sg-persist --out --reserve --param-rk=a1 --prout-type=1 --transport-id=sas,5001405000000001 DEVICE",
                "exit 31",
                "--transport-id only with --register or --register-move (pr_native)",
            ),
            Case(
                "pr-native sg-persist --out --register-move --param-rk=a1 --param-sark=b2 DEVICE",
                "exit 31",
                "with --register-move one (and only one) --transport-id should be given",
            ),
            Case(
                "pr-native sg-persist -n --out --register-move --param-rk=a1 --param-sark=0 --transport-id=sas,5001405000000001 --relative-target-port=1 DEVICE",
                "exit 1",
                "--param-sark must not be 0 for --register-move",
            ),
            Case(
                "pr-native sg-persist --out --register --param-sark=a1 --relative-target-port=1 DEVICE",
                "exit 31",
                "--unreg or --relative-target-port only useful with --register-move",
            ),
            Case(
                "pr-native sg-persist --out --register-move --param-rk=a1 --param-sark=b2 --transport-id=sas,5001405000000001 --relative-target-port=10000 DEVICE",
                "exit 1",
                "argument to '--relative-target-port' 0 to ffff inclusive",
            ),
            Case(
                "pr-native sg-persist --in --read-keys --alloc-length=99999 DEVICE",
                "exit 1",
                "'--alloc-length' argument exceeds maximum value (8192)",
            ),
            Case(
                "pr-native sg-persist --in --read-keys --maxlen=x DEVICE",
                "exit 1",
                "bad argument to '--maxlen'",
            ),
            Case(
                "pr-native sg-persist --in --read-keys DEVICE extra",
                "exit 1",
                "Unexpected extra argument: extra",
            ),
            Case(
                "pr-native sg-persist -n --in --read-keys /nonexistent/sg9",
                "exit 52",
                "sg_persist: error opening file /nonexistent/sg9 (rw): No such file or directory",
                opens=True,
            ),
            Case(
                "pr-native sg-persist -n --in --read-keys /dev/null",
                "exit 75",
                "sg_persist: error opening file /dev/null (rw): Inappropriate ioctl for device",
                opens=True,
            ),
            Case(
                "pr-native sg-persist -n --in --read-keys FILE",
                "exit 75",
                "sg_persist: error opening file FILE (rw): Inappropriate ioctl for device",
                opens=True,
            ),
            Case(
                "pr-native sg-persist -n --out --register --param-sark=a1 /",
                "exit 71",
                "sg_persist: error opening file / (rw): Is a directory",
                opens=True,
            ),
        ),
    ),
)
CASES: tuple[Case, ...] = tuple(c for g in GROUPS for c in g.cases)


# -- running a row -------------------------------------------------------------


class Scope(Mapping[str, Any]):
    """The names a call may use, each made on first use (a call that opens its
    own path never opens DEVICE)."""

    def __init__(self, device: str, file: str) -> None:
        self.device, self.file = device, file
        self.made: dict[str, Any] = {}

    def _make(self, name: str) -> Any:
        if name == "dev":
            return pr.Device(self.device)
        if name == "closed":
            closed = pr.Device(self.device)
            closed.close()
            return closed
        if name == "read_only":
            return pr.Device(self.device, read_only=True)
        fixed = {"DEVICE": self.device, "FILE": self.file, "SAS": SAS, "ISCSI": ISCSI, "WE": WE}
        if name in fixed:
            return fixed[name]
        raise KeyError(name)

    def __getitem__(self, name: str) -> Any:
        if name not in self.made:
            self.made[name] = self._make(name)
        return self.made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.made)

    def __len__(self) -> int:
        return len(self.made)

    def close(self) -> None:
        for value in self.made.values():
            if isinstance(value, pr.Device):
                value.close()


GLOBALS = {"pr": pr, "cdb": cdb, "winioctl": winioctl, "math": math, "__builtins__": __builtins__}


def _placeholders(text: str, scope: Scope) -> str:
    # The longer path first: FILE may lie under a directory named like DEVICE.
    pairs = sorted([(scope.file, "FILE"), (scope.device, "DEVICE")], key=lambda p: -len(p[0]))
    for path, name in pairs:
        text = text.replace(path, name)
    return text


def outcome(case: Case, device: str, file: str) -> tuple[str, str]:
    """(error, message) of running the row with DEVICE and FILE as given."""
    scope = Scope(device, file)
    try:
        if case.call.startswith("pr-native "):
            argv = [{"DEVICE": device, "FILE": file}.get(a, a) for a in shlex.split(case.call)]
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = cli.main(argv[1:])
            lines = [line for line in err.getvalue().splitlines() if line.strip()]
            return f"exit {code}", _placeholders(lines[-1] if lines else "", scope)
        try:
            value = eval(case.call, GLOBALS, scope)
        except Exception as error:
            return type(error).__name__, _placeholders(str(error), scope)
        return "returns", _placeholders(repr(value), scope)
    finally:
        scope.close()


# -- the table as Markdown -----------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    lines = [
        # Sphinx (docs/conf.py) builds the page without a place in the toctree.
        "---",
        "orphan: true",
        "---",
        "",
        "# Bad input and the errors it gets",
        "",
        "<!-- Generated from tests/unit/test_bad_input.py: do not edit; run",
        "     python -m tests.unit.test_bad_input --write -->",
        "",
        "Every row is a test: the call runs as shown, raises exactly this error with",
        "exactly this message (or, for a command line, exits with this status and",
        "prints this last line on standard error), and sends nothing: the unit",
        "tests check that no command reached the device, the lab",
        "(tests/lab/suite/test_bad_input.py) that a real LU's PR state is unchanged.",
        "",
        "`dev` is an open `Device(DEVICE)`, `closed` one that was closed, `read_only`",
        "one opened with `read_only=True`; `FILE` is a regular file; `SAS` and",
        "`ISCSI` are valid TransportIDs; `WE` is `ReservationType.WRITE_EXCLUSIVE`.",
        "Messages are not part of the stable API (README, Compatibility); the",
        "exception classes and exit statuses are.",
    ]
    for group in GROUPS:
        lines += ["", f"## {group.title}", "", "| call | error | message |", "|---|---|---|"]
        for case in group.cases:
            lines.append(f"| `{_cell(case.call)}` | {case.error} | {_cell(case.message)} |")
    return "\n".join(lines) + "\n"


# -- the tests -----------------------------------------------------------------


@pytest.fixture
def regular_file(tmp_path: Path) -> str:
    path = tmp_path / "regular-file"
    path.write_bytes(b"not a device\n")
    return str(path)


def _ids(cases: tuple[Case, ...]) -> list[str]:
    return [c.call for c in cases]


DEVICE_CASES = tuple(c for c in CASES if not c.opens)
OPENING_CASES = tuple(c for c in CASES if c.opens)


@pytest.mark.parametrize("case", DEVICE_CASES, ids=_ids(DEVICE_CASES))
def test_bad_input_never_reaches_the_device(
    fake_lib: FakeLib, regular_file: str, case: Case
) -> None:
    assert outcome(case, FAKE_DEVICE, regular_file) == (case.error, case.message)
    assert fake_lib.calls == []


@pytest.mark.parametrize("case", OPENING_CASES, ids=_ids(OPENING_CASES))
def test_paths_that_are_no_device(regular_file: str, case: Case) -> None:
    # The real C core: what open() and SG_GET_VERSION_NUM say about the path.
    assert outcome(case, FAKE_DEVICE, regular_file) == (case.error, case.message)


def test_every_group_has_rows() -> None:
    assert all(g.cases for g in GROUPS)
    assert len({c.call for c in CASES}) == len(CASES), "a row appears twice"


def test_the_document_is_current() -> None:
    if not DOC.parent.is_dir():
        pytest.skip("the tests were copied without the source tree (testing an installed wheel)")
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/bad-input.md is out of date: python -m tests.unit.test_bad_input --write"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        DOC.write_text(render(), encoding="utf-8")
    else:
        sys.stdout.write(render())
