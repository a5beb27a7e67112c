"""Every Device argument is checked before any I/O (through the fake_lib seam)."""

from __future__ import annotations

import errno
import math
from pathlib import Path
from typing import Any

import pytest

from pr_native import (
    Device,
    RawTransportID,
    ReservationType,
    SASTransportID,
    TransportID,
    UnsupportedPlatform,
)
from pr_native._native import lib

from .fake_device import FakeLib, data, good

SAS = SASTransportID(0x5001405000000001)
WE = ReservationType.WRITE_EXCLUSIVE

VALID: dict[str, dict[str, Any]] = {
    "register": {"new_key": 1},
    "register_and_ignore": {"new_key": 1},
    "unregister": {"key": 1},
    "reserve": {"key": 1, "type": WE},
    "release": {"key": 1, "type": WE},
    "clear": {"key": 1},
    "preempt": {"key": 1, "preempt_key": 2, "type": WE},
    "preempt_and_abort": {"key": 1, "preempt_key": 2, "type": WE},
    "register_and_move": {
        "key": 1,
        "new_key": 2,
        "relative_target_port": 1,
        "transport_id": SAS,
    },
    "replace_lost_reservation": {"key": 1, "type": WE},
    "read_keys": {},
    "read_reservation": {},
    "report_capabilities": {},
    "read_full_status": {},
    "test_unit_ready": {},
}

ARGUMENTS: dict[str, dict[str, str]] = {
    "register": {
        "new_key": "key",
        "key": "key",
        "aptpl": "flag",
        "all_target_ports": "flag",
        "transport_ids": "transport_ids",
    },
    "register_and_ignore": {"new_key": "key", "aptpl": "flag", "all_target_ports": "flag"},
    "unregister": {"key": "key"},
    "reserve": {"key": "key", "type": "type"},
    "release": {"key": "key", "type": "type"},
    "clear": {"key": "key"},
    "preempt": {"key": "key", "preempt_key": "key", "type": "type"},
    "preempt_and_abort": {"key": "key", "preempt_key": "key", "type": "type"},
    "register_and_move": {
        "key": "key",
        "new_key": "key",
        "relative_target_port": "port",
        "transport_id": "transport_id",
        "unregister": "flag",
        "aptpl": "flag",
        "type": "type",
    },
    "replace_lost_reservation": {"key": "key", "type": "type"},
}

BAD: dict[str, list[tuple[object, type[Exception]]]] = {
    "key": [
        (-1, ValueError),
        (2**64, ValueError),
        (1.5, TypeError),
        ("1", TypeError),
        (b"\x00" * 7, ValueError),
        (True, TypeError),
        (None, TypeError),
    ],
    "type": [
        (0, ValueError),
        (2, ValueError),
        (4, ValueError),
        (9, ValueError),
        (ReservationType(2), ValueError),
        ("WE", TypeError),
        (True, TypeError),
        (1.0, TypeError),
    ],
    "flag": [(1, TypeError), (0, TypeError), ("yes", TypeError), (None, TypeError)],
    "transport_ids": [
        ([SAS.to_bytes()], TypeError),
        ("sas,5001405000000001", TypeError),
        (SAS.to_bytes(), TypeError),
        (SAS, TypeError),
        ([TransportID()], TypeError),
        (None, TypeError),
        # SPC-4 7.6.4: sizes a device would refuse, or misparse
        ([RawTransportID(b"")], ValueError),
        ([RawTransportID(SAS.to_bytes()[:20])], ValueError),
        ([RawTransportID(SAS.to_bytes() + bytes(4))], ValueError),
        ([RawTransportID(bytes([0x05, 0, 0, 24]) + bytes(20))], ValueError),  # iSCSI 24 != 4+24
        ([RawTransportID(bytes([0x05, 0, 0, 21]) + bytes(21))], ValueError),  # not 4-aligned
        ([RawTransportID(bytes([0x05, 0, 1, 8]) + bytes(264))], ValueError),  # > 264 bytes
    ],
    "transport_id": [
        (SAS.to_bytes(), TypeError),
        ("sas,5001405000000001", TypeError),
        ([SAS], TypeError),
        (TransportID(), TypeError),
        (None, TypeError),
        (RawTransportID(b""), ValueError),
        (RawTransportID(bytes([0x45, 0, 0, 16]) + bytes(16)), ValueError),  # 20 < 24
    ],
    "port": [(-1, ValueError), (65536, ValueError), (True, TypeError), (1.0, TypeError)],
    "timeout": [
        (0, ValueError),
        (-1, ValueError),
        (-0.0, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        (2.0**32, ValueError),
        ("1", TypeError),
        (True, TypeError),
    ],
}

CASES = (
    [
        (method, name, value, error)
        for method, arguments in ARGUMENTS.items()
        for name, kind in arguments.items()
        for value, error in BAD[kind]
    ]
    + [(method, "timeout", value, error) for method in VALID for value, error in BAD["timeout"]]
    + [
        ("register_and_move", "new_key", 0, ValueError),
        ("register_and_move", "new_key", b"\x00" * 8, ValueError),
    ]
)


@pytest.mark.parametrize(
    ("method", "name", "value", "error"),
    CASES,
    ids=[f"{m}-{n}-{v!r}" for m, n, v, _ in CASES],
)
def test_bad_argument_never_reaches_the_device(
    device: Device,
    fake_lib: FakeLib,
    method: str,
    name: str,
    value: object,
    error: type[Exception],
) -> None:
    kwargs = {**VALID[method], name: value}
    with pytest.raises(error, match=name):
        getattr(device, method)(**kwargs)
    assert fake_lib.calls == []


PR_IN_RESPONSES = {
    "read_keys": "00 00 00 01 00 00 00 00",
    "read_reservation": "00 00 00 01 00 00 00 00",
    "report_capabilities": "00 08 00 00 00 00 00 00",
    "read_full_status": "00 00 00 01 00 00 00 00",
}


@pytest.mark.parametrize("method", VALID)
def test_valid_arguments_do_reach_the_device(
    device: Device, fake_lib: FakeLib, method: str
) -> None:
    # The positive control of the test above: the seam does see I/O.
    response = PR_IN_RESPONSES.get(method)
    fake_lib.replies.append(good() if response is None else data(bytes.fromhex(response)))
    getattr(device, method)(**VALID[method])
    assert len(fake_lib.calls) == 1


@pytest.mark.parametrize("method", VALID)
def test_closed_device(device: Device, fake_lib: FakeLib, method: str) -> None:
    device.close()
    assert device.closed
    with pytest.raises(ValueError, match="closed"):
        getattr(device, method)(**VALID[method])
    assert fake_lib.calls == []


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"timeout": 0}, ValueError, "timeout"),
        ({"timeout": math.nan}, ValueError, "timeout"),
        ({"timeout": "30"}, TypeError, "timeout"),
        ({"timeout": True}, TypeError, "timeout"),
        ({"read_only": 1}, TypeError, "read_only"),
        ({"transport": "bogus"}, ValueError, "transport"),
        ({"transport": "pass-through"}, ValueError, "transport"),  # Windows only
        ({"transport": "storage-ioctl"}, ValueError, "transport"),  # Windows only
        ({"path": ""}, ValueError, "path"),
        ({"path": "/dev/sg\x000"}, ValueError, "path"),
        ({"path": b"/dev/sg0"}, TypeError, "path"),
        ({"path": 123}, TypeError, "path"),
        ({"path": None}, TypeError, "path"),
    ],
)
def test_bad_constructor_argument_opens_nothing(
    fake_lib: FakeLib, kwargs: dict[str, object], error: type[Exception], name: str
) -> None:
    arguments: dict[str, object] = {"path": "/dev/sg-fake", **kwargs}
    with pytest.raises(error, match=name):
        Device(**arguments)  # type: ignore[arg-type]
    assert fake_lib.opened == []


def test_open_flags_and_properties(fake_lib: FakeLib) -> None:
    with Device(Path("/dev/sg-fake"), timeout=2.5, read_only=True) as dev:
        assert fake_lib.opened == [(b"/dev/sg-fake", lib.PR_OPEN_READ_ONLY)]
        assert (dev.path, dev.timeout, dev.transport, dev.closed) == (
            "/dev/sg-fake",
            2.5,
            "sg-io",
            False,
        )
        assert repr(dev) == "<pr_native.Device '/dev/sg-fake' sg-io>"
    assert dev.closed
    assert repr(dev) == "<pr_native.Device '/dev/sg-fake' closed>"
    dev.close()  # closing twice is harmless


@pytest.mark.parametrize(
    ("rc", "code", "error"),
    [
        (lib.PR_ERR_OS, errno.EACCES, PermissionError),
        (lib.PR_ERR_OS, errno.ENOENT, FileNotFoundError),
        (lib.PR_ERR_OS, errno.EBUSY, OSError),
        (lib.PR_ERR_NOT_SCSI, errno.ENOTTY, OSError),
    ],
)
def test_open_errors(fake_lib: FakeLib, rc: int, code: int, error: type[OSError]) -> None:
    fake_lib.open_rc, fake_lib.open_errno = rc, code
    with pytest.raises(error) as info:
        Device("/dev/sg-fake")
    assert info.value.errno == code
    assert info.value.filename == "/dev/sg-fake"


def test_open_unsupported_platform(fake_lib: FakeLib) -> None:
    fake_lib.open_rc = lib.PR_ERR_UNSUPPORTED
    with pytest.raises(UnsupportedPlatform):
        Device("/dev/sg-fake")


# -- the real transport, on files that are not SCSI devices ----------------


@pytest.mark.parametrize("path", ["/dev/null", Path("/dev/null")])
def test_not_a_scsi_device(path: object) -> None:
    with pytest.raises(OSError, match="not a SCSI device") as info:
        Device(path)  # type: ignore[arg-type]
    assert info.value.errno == errno.ENOTTY
    assert info.value.filename == "/dev/null"


def test_missing_device() -> None:
    with pytest.raises(FileNotFoundError) as info:
        Device("/nonexistent")
    assert info.value.filename == "/nonexistent"


def test_path_must_be_a_path() -> None:
    with pytest.raises(TypeError, match="path"):
        Device(123)  # type: ignore[arg-type]


def test_huge_integer_timeout_is_a_value_error(device: Device, fake_lib: FakeLib) -> None:
    # 2**1024 s is out of range like 2.0**32 s; it must not escape as OverflowError.
    with pytest.raises(ValueError, match="timeout"):
        device.read_keys(timeout=2**1024)
    with pytest.raises(ValueError, match="timeout"):
        Device("/dev/sg-fake", timeout=2**1024)
    assert fake_lib.calls == []
    assert len(fake_lib.opened) == 1
