"""The one rule for a PR OUT whose caller was interrupted
(``errors.interrupted_out``): a signal handler's exception raised as the C
call returns, before its return code is stored, leaves a known end known
(``pr_settled``); only a command still in flight, or ended as may have run,
is ``OutcomeUnknown``."""

from __future__ import annotations

import errno

import pytest

from pr_native import Device, OutcomeUnknown, ReservationType
from pr_native._native import ffi, lib
from pr_native.errors import interrupted_out

from .fake_device import FakeLib, fail, good, on_return

WE = ReservationType.WRITE_EXCLUSIVE
NOT_READY = bytes([0x70, 0, 2, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x04, 0x03, 0, 0, 0, 0])
CONFLICT = fail(lib.PR_ERR_STATUS, status=0x18)


@pytest.mark.parametrize(
    ("end", "raised"),
    [
        (good(), KeyboardInterrupt),  # it ran: the interruption goes through
        (CONFLICT, KeyboardInterrupt),  # the device did not perform it
        (fail(lib.PR_ERR_STATUS, status=2, sense=NOT_READY), OutcomeUnknown),  # may have run
        (fail(lib.PR_ERR_TIMEOUT, os_error=errno.ETIMEDOUT), OutcomeUnknown),
        (fail(lib.PR_ERR_INTERRUPTED), OutcomeUnknown),  # still in flight
    ],
    ids=["good", "conflict", "not-ready", "timed-out", "in-flight"],
)
def test_a_handler_raising_as_pr_out_returns(
    device: Device, fake_lib: FakeLib, end: object, raised: type[BaseException]
) -> None:
    fake_lib.replies.append(on_return(end, KeyboardInterrupt()))  # type: ignore[arg-type]
    with pytest.raises(raised) as info:
        device.preempt(1, 2, WE)
    if raised is OutcomeUnknown:
        assert isinstance(info.value.__cause__, KeyboardInterrupt)
    assert len(fake_lib.calls) == 1 and fake_lib.resumed == 0


def test_a_handler_raising_as_the_resumed_wait_returns(device: Device, fake_lib: FakeLib) -> None:
    """The resumed wait collected the completion (a conflict): known."""
    fake_lib.replies += [fail(lib.PR_ERR_INTERRUPTED), on_return(CONFLICT, KeyboardInterrupt())]
    with pytest.raises(KeyboardInterrupt):
        device.register(new_key=0x1234)
    assert len(fake_lib.calls) == 1 and fake_lib.resumed == 1


def _result(**fields: int) -> object:
    result = ffi.new("struct pr_result *")
    for name, value in fields.items():
        setattr(result, name, value)
    return result


@pytest.mark.parametrize(
    ("fields", "rc"),
    [
        ({"dispatched": 1}, lib.PR_OK),
        ({"dispatched": 1, "scsi_status": 0x18}, lib.PR_ERR_STATUS),
        ({"dispatched": 1, "host_status": 0x03}, lib.PR_ERR_TIMEOUT),  # DID_TIME_OUT
        ({"dispatched": 1, "host_status": 0x01}, lib.PR_ERR_TRANSPORT),  # DID_NO_CONNECT
        ({"dispatched": 1, "os_error": errno.ETIMEDOUT}, lib.PR_ERR_TIMEOUT),  # gave up
        ({"dispatched": 1, "os_error": errno.EFAULT}, lib.PR_ERR_OS),
        ({"dispatched": 0, "os_error": errno.EPERM}, lib.PR_ERR_OS),
    ],
)
def test_pr_settled_reads_the_end_from_the_result(fields: dict[str, int], rc: int) -> None:
    """Without an sg queue (nothing in flight), the verdict the transport
    gave the result (pr_linux.c's classification)."""
    device = ffi.new("struct pr_device *")
    device.handle = -1
    assert lib.pr_settled(device, _result(**fields)) == rc
    assert lib.pr_settled(ffi.NULL, _result(**fields)) == lib.PR_ERR_ARGUMENT


@pytest.mark.parametrize(
    ("rc", "fields", "unknown"),
    [
        (lib.PR_ERR_PENDING, {"dispatched": 1}, True),
        (lib.PR_ERR_INTERRUPTED, {"dispatched": 1}, True),
        (lib.PR_ERR_PENDING, {"dispatched": 0}, False),  # never submitted
        (lib.PR_OK, {"dispatched": 1}, False),
        (lib.PR_ERR_STATUS, {"dispatched": 1, "scsi_status": 0x18}, False),
        (lib.PR_ERR_TIMEOUT, {"dispatched": 1, "os_error": errno.ETIMEDOUT}, True),
    ],
)
def test_interrupted_out(rc: int, fields: dict[str, int], unknown: bool) -> None:
    cause = KeyboardInterrupt()
    raised = interrupted_out(cause, rc, _result(**fields), device="/dev/sg1", command="CLEAR")
    assert isinstance(raised, OutcomeUnknown) is unknown
    assert (raised is cause) is not unknown
    if isinstance(raised, OutcomeUnknown):
        assert raised.__cause__ is cause and raised.device == "/dev/sg1"
