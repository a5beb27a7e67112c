"""How Device turns a failed command into an exception, and when it retries."""

from __future__ import annotations

import errno
from typing import Any

import pytest

from pr_native import (
    AbortedCommand,
    CheckCondition,
    CommandTimeout,
    DataProtect,
    Device,
    DeviceBusy,
    HardwareError,
    IllegalRequest,
    MalformedResponse,
    MediumError,
    NotReady,
    OutcomeUnknown,
    PRError,
    ReservationConflict,
    ReservationType,
    ResponseTruncated,
    TaskAborted,
    TransportError,
    UnitAttention,
    UnitAttentionCondition,
    UnsupportedOperation,
)
from pr_native._native import lib

from .fake_device import Call, FakeLib, Reply, data, fail, good

READ_KEYS_CDB = bytes.fromhex("5e 00 00 00 00 00 00 10 00 00")  # 4096-byte first allocation
REGISTER_CDB = bytes.fromhex("5f 00 00 00 00 00 00 00 18 00")
WE = ReservationType.WRITE_EXCLUSIVE


def fixed_sense(key: int, asc: int, ascq: int) -> bytes:
    return bytes([0x70, 0, key, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0])


def keys_response(count: int) -> bytes:
    header = bytes.fromhex("00 00 00 09") + (8 * count).to_bytes(4, "big")
    return header + b"".join(k.to_bytes(8, "big") for k in range(1, count + 1))


# -- PR IN: growing the buffer ---------------------------------------------


def test_short_response_is_reissued_with_a_larger_buffer(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies += [fail(lib.PR_ERR_SHORT, needed=10000), data(keys_response(3))]
    assert device.read_keys().keys == (1, 2, 3)
    first, second = fake_lib.calls
    assert first.capacity == 4096
    assert second.capacity is not None and second.capacity >= 10000
    assert second.buffer_size is not None and second.buffer_size >= second.capacity
    assert second.cdb[7:9] == second.capacity.to_bytes(2, "big")


def test_large_key_list_end_to_end(device: Device, fake_lib: FakeLib) -> None:
    # 1249 keys: ADDITIONAL LENGTH 9992, 10000 bytes in all; the first 4096-byte
    # allocation gets a cut list and the real decoder asks for 10000.
    fake_lib.replies += [data(keys_response(1249))] * 2
    result = device.read_keys()
    assert result.generation == 9
    assert result.keys == tuple(range(1, 1250))
    assert [c.capacity for c in fake_lib.calls] == [4096, 10000]
    assert fake_lib.calls[1].cdb == bytes.fromhex("5e 00 00 00 00 00 00 27 10 00")


def test_large_full_status_end_to_end(device: Device, fake_lib: FakeLib) -> None:
    descriptor = bytes.fromhex(
        "00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 18"
        " 06 00 00 00 50 01 40 50 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00"
    )
    response = bytes.fromhex("00 00 00 02") + (200 * 48).to_bytes(4, "big") + descriptor * 200
    fake_lib.replies += [data(response)] * 3
    result = device.read_full_status()
    assert len(result.registrants) == 200
    assert {r.key for r in result.registrants} == {7}
    assert fake_lib.calls[1].capacity is not None
    assert fake_lib.calls[1].capacity >= 8 + 200 * 48
    # The second response filled its buffer exactly: read once more with room
    # for one more descriptor of the largest size (24 + 264 bytes).
    assert len(fake_lib.calls) == 3
    assert fake_lib.calls[2].capacity is not None
    assert fake_lib.calls[2].capacity >= 8 + 200 * 48 + 288


def _sas_descriptor(key: int) -> bytes:
    return (
        key.to_bytes(8, "big")
        + bytes(10)
        + (1).to_bytes(2, "big")
        + (24).to_bytes(4, "big")
        + bytes([6, 0, 0, 0])
        + (0x5001405000000000 + key).to_bytes(8, "big")
        + bytes(12)
    )


def lio_full_status(count: int) -> Reply:
    """READ FULL STATUS the way LIO builds it: descriptors that do not fit the
    allocation length are left out and ADDITIONAL LENGTH covers the rest."""

    def reply(call: Call, result: Any) -> int:
        allocation = min(call.capacity or 0, lib.PR_ALLOCATION_MAX)
        fitting = min(count, (allocation - 8) // 48)
        body = b"".join(_sas_descriptor(k) for k in range(1, fitting + 1))
        return data(bytes.fromhex("00 00 00 05") + len(body).to_bytes(4, "big") + body)(
            call, result
        )

    return reply


def test_full_status_that_silently_leaves_out_descriptors(
    device: Device, fake_lib: FakeLib
) -> None:
    """A LIO-style response that ends just short of the allocation length is
    re-read with a larger buffer until it has room to spare."""
    fake_lib.replies += [lio_full_status(100)] * 3
    status = device.read_full_status()
    assert [r.key for r in status.registrants] == list(range(1, 101))
    assert [c.capacity for c in fake_lib.calls] == [4096, 8192]


def test_full_status_left_out_at_the_65535_limit_is_caught(
    device: Device, fake_lib: FakeLib
) -> None:
    """At the 16-bit limit the count is checked against READ KEYS."""
    keys = b"".join(k.to_bytes(8, "big") for k in range(1, 1501))
    read_keys = bytes.fromhex("00 00 00 05") + len(keys).to_bytes(4, "big") + keys
    fake_lib.replies += [lio_full_status(1500)] * 5 + [data(read_keys)]
    with pytest.raises(ResponseTruncated) as info:
        device.read_full_status()
    assert "1365 of 1500" in str(info.value)
    assert [c.capacity for c in fake_lib.calls][:5] == [4096, 8192, 16384, 32768, 65535]
    assert [c.name for c in fake_lib.calls][5:] == ["pr_read_keys"]


@pytest.mark.parametrize("needed", [100, 4096])
def test_short_but_needing_no_more_is_malformed(
    device: Device, fake_lib: FakeLib, needed: int
) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_SHORT, needed=needed))
    with pytest.raises(MalformedResponse):
        device.read_keys()
    assert len(fake_lib.calls) == 1


def test_response_larger_than_a_pr_in_can_return(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies += [fail(lib.PR_ERR_SHORT, needed=70000)] * 2
    with pytest.raises(ResponseTruncated) as info:
        device.read_full_status()
    assert info.value.needed == 70000
    assert [c.capacity for c in fake_lib.calls] == [4096, 65535]
    assert fake_lib.calls[1].cdb[7:9] == bytes.fromhex("ff ff")


def test_response_truncated_names_the_device(device: Device, fake_lib: FakeLib) -> None:
    # Like every other PRError Device raises (MalformedResponse included).
    fake_lib.replies += [fail(lib.PR_ERR_SHORT, needed=70000)] * 2
    with pytest.raises(ResponseTruncated) as info:
        device.read_keys()
    assert info.value.device == "/dev/sg-fake"


def test_malformed_response(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(data(bytes.fromhex("00 00 00 01 00 00 00 0c 00 00 00 00")))
    with pytest.raises(MalformedResponse) as info:
        device.read_keys()
    assert info.value.cdb == READ_KEYS_CDB
    assert info.value.device == "/dev/sg-fake"


# -- interrupted commands --------------------------------------------------


def test_interrupted_pr_in_is_retried(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies += [
        fail(lib.PR_ERR_OS, os_error=errno.EINTR, dispatched=1),
        data(keys_response(2)),
    ]
    assert device.read_keys().keys == (1, 2)
    assert len(fake_lib.calls) == 2


def test_interrupted_pr_out_outcome_unknown(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_OS, os_error=errno.EINTR, dispatched=1))
    with pytest.raises(OutcomeUnknown) as info:
        device.register(new_key=0x1234)
    cause = info.value.__cause__
    assert isinstance(cause, InterruptedError)
    assert cause.errno == errno.EINTR
    assert info.value.cdb == REGISTER_CDB
    assert len(fake_lib.calls) == 1


def test_pr_out_refused_before_dispatch(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_OS, os_error=errno.EINTR, dispatched=0))
    with pytest.raises(InterruptedError):
        device.reserve(1, WE)
    assert len(fake_lib.calls) == 1


# -- timeouts and transport failures ---------------------------------------


def test_pr_out_timeout_outcome_unknown(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_TIMEOUT, host_status=0x03))
    with pytest.raises(OutcomeUnknown) as info:
        device.preempt(1, 2, WE)
    assert isinstance(info.value.__cause__, CommandTimeout)
    assert info.value.host_status == 0x03
    assert len(fake_lib.calls) == 1


def test_pr_in_timeout(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_TIMEOUT, host_status=0x03))
    with pytest.raises(CommandTimeout) as info:
        device.read_reservation()
    assert not isinstance(info.value, OutcomeUnknown)
    assert len(fake_lib.calls) == 1


def test_pr_out_transport_failure_outcome_unknown(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_TRANSPORT, host_status=0x01))
    with pytest.raises(OutcomeUnknown) as info:
        device.clear(1)
    assert isinstance(info.value.__cause__, TransportError)


def test_pr_in_transport_failure(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_TRANSPORT, host_status=0x01))
    with pytest.raises(TransportError) as info:
        device.read_keys()
    assert info.value.host_status == 0x01


# -- SCSI status -----------------------------------------------------------


def test_reservation_conflict_status(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, status=0x18))
    with pytest.raises(ReservationConflict) as info:
        device.register(new_key=2, key=1)
    assert info.value.status == 0x18
    assert info.value.cdb == REGISTER_CDB
    assert info.value.device == "/dev/sg-fake"
    assert info.value.command == "PERSISTENT RESERVE OUT (REGISTER)"


def test_reservation_conflict_as_nexus_failure(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, host_status=0x11))
    with pytest.raises(ReservationConflict):
        device.reserve(1, WE)


def test_unit_attention(device: Device, fake_lib: FakeLib) -> None:
    sense = fixed_sense(0x06, 0x2A, 0x05)
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, status=0x02, driver_status=0x08, sense=sense))
    with pytest.raises(UnitAttention) as info:
        device.read_keys()
    error = info.value
    assert error.condition is UnitAttentionCondition.REGISTRATIONS_PREEMPTED
    assert error.sense_data == sense
    assert error.cdb == READ_KEYS_CDB
    assert error.status == 0x02
    assert error.sense is not None and error.sense.description == "REGISTRATIONS PREEMPTED"
    assert "REGISTRATIONS PREEMPTED" in str(error)
    assert "5e 00 00 00 00 00 00 10 00 00" in error.details()
    assert len(fake_lib.calls) == 1  # a unit attention is reported, not retried


def test_unit_attention_on_pr_out_is_not_outcome_unknown(device: Device, fake_lib: FakeLib) -> None:
    sense = fixed_sense(0x06, 0x29, 0x00)
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, status=0x02, sense=sense))
    with pytest.raises(UnitAttention) as info:
        device.register(new_key=1)
    assert info.value.condition is UnitAttentionCondition.POWER_ON_RESET
    assert info.value.cdb == REGISTER_CDB


def test_unit_attention_with_descriptor_sense(device: Device, fake_lib: FakeLib) -> None:
    sense = bytes.fromhex("72 06 2a 03 00 00 00 00")
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, status=0x02, sense=sense))
    with pytest.raises(UnitAttention) as info:
        device.test_unit_ready()
    assert info.value.condition is UnitAttentionCondition.RESERVATIONS_PREEMPTED
    assert info.value.cdb == bytes(6)


def test_unit_attention_without_named_condition(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, status=0x02, sense=fixed_sense(6, 0x3F, 1)))
    with pytest.raises(UnitAttention) as info:
        device.read_keys()
    assert info.value.condition is None


@pytest.mark.parametrize(
    ("key", "asc", "ascq", "error"),
    [
        (0x05, 0x24, 0x00, IllegalRequest),
        (0x05, 0x20, 0x00, IllegalRequest),
        (0x02, 0x04, 0x01, NotReady),
        (0x03, 0x11, 0x00, MediumError),
        (0x04, 0x44, 0x00, HardwareError),
        (0x07, 0x27, 0x00, DataProtect),
        (0x0B, 0x47, 0x00, AbortedCommand),
        (0x01, 0x00, 0x00, CheckCondition),
    ],
)
def test_check_condition_by_sense_key(
    device: Device, fake_lib: FakeLib, key: int, asc: int, ascq: int, error: type[PRError]
) -> None:
    sense = fixed_sense(key, asc, ascq)
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, status=0x02, sense=sense))
    with pytest.raises(error) as info:
        device.read_reservation()
    assert type(info.value) is error
    assert info.value.sense is not None
    assert (info.value.sense.asc, info.value.sense.ascq) == (asc, ascq)
    assert info.value.sense_data == sense


def test_check_condition_without_sense(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, status=0x02))
    with pytest.raises(CheckCondition) as info:
        device.read_keys()
    assert type(info.value) is CheckCondition
    assert info.value.sense is None


@pytest.mark.parametrize(("status", "error"), [(0x08, DeviceBusy), (0x28, DeviceBusy)])
def test_busy(device: Device, fake_lib: FakeLib, status: int, error: type[PRError]) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, status=status))
    with pytest.raises(error):
        device.read_keys()


def test_task_aborted_on_pr_in(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, status=0x40))
    with pytest.raises(TaskAborted) as info:
        device.read_keys()
    assert info.value.status == 0x40


def test_task_aborted_on_pr_out_outcome_unknown(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_STATUS, status=0x40))
    with pytest.raises(OutcomeUnknown) as info:
        device.preempt_and_abort(1, 2, WE)
    assert isinstance(info.value.__cause__, TaskAborted)


# -- the operating system refuses ------------------------------------------


def test_permission_denied_hints_at_cap_sys_rawio(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_OS, os_error=errno.EPERM, dispatched=0))
    with pytest.raises(PermissionError, match="CAP_SYS_RAWIO") as info:
        device.read_keys()
    assert info.value.errno == errno.EPERM
    assert info.value.filename == "/dev/sg-fake"


def test_read_only_device_refuses_pr_out_before_io(fake_lib: FakeLib) -> None:
    dev = Device("/dev/sg-fake", read_only=True)
    with pytest.raises(ValueError, match="read_only=True; nothing was sent"):
        dev.register(new_key=1)
    assert fake_lib.calls == []
    dev.close()


def test_permission_denied_on_read_only_device(fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_OS, os_error=errno.EPERM, dispatched=0))
    dev = Device("/dev/sg-fake", read_only=True)
    with pytest.raises(PermissionError, match="read-only"):
        dev.read_keys()
    dev.close()


def test_device_gone(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_OS, os_error=errno.ENODEV, dispatched=0))
    with pytest.raises(OSError, match="gone") as info:
        device.read_keys()
    assert info.value.errno == errno.ENODEV


def test_good_pr_out_raises_nothing(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(good())
    device.clear(1)
    assert len(fake_lib.calls) == 1


# -- a PR OUT whose wait a signal ended ------------------------------------


def test_interrupted_wait_resumes_for_the_same_command(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies += [fail(lib.PR_ERR_INTERRUPTED), fail(lib.PR_ERR_INTERRUPTED), good()]
    device.register(new_key=0x1234)
    assert len(fake_lib.calls) == 1  # submitted once, waited for three times
    assert fake_lib.resumed == 2


def test_exception_from_a_signal_handler_is_outcome_unknown(
    device: Device, fake_lib: FakeLib
) -> None:
    def ctrl_c(call: object, result: object) -> int:
        raise KeyboardInterrupt

    fake_lib.replies += [fail(lib.PR_ERR_INTERRUPTED), ctrl_c]
    with pytest.raises(OutcomeUnknown) as info:
        device.preempt(1, 2, WE)
    assert isinstance(info.value.__cause__, KeyboardInterrupt)
    assert info.value.cdb == bytes.fromhex("5f 04 01 00 00 00 00 00 18 00")
    assert len(fake_lib.calls) == 1


def test_exception_before_submission_is_not_outcome_unknown(
    device: Device, fake_lib: FakeLib
) -> None:
    def refused_then_interrupted(call: object, result: Any) -> int:
        result.dispatched = 0
        raise KeyboardInterrupt

    fake_lib.replies.append(refused_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        device.clear(1)


def test_pr_out_on_a_multipath_node_is_refused_before_io(
    fake_lib: FakeLib, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pr_native.device

    monkeypatch.setattr(pr_native.device, "sys", type("S", (), {"platform": "linux"}))
    monkeypatch.setattr(pr_native.device, "multipath_paths", lambda path: ("/dev/sdb", "/dev/sdc"))
    dev = Device("/dev/dm-0")
    with pytest.raises(UnsupportedOperation, match="/dev/sdb, /dev/sdc") as info:
        dev.register(new_key=1)
    assert "nothing was sent" in str(info.value)
    assert fake_lib.calls == []
    fake_lib.replies.append(data(keys_response(1)))
    assert dev.read_keys().keys == (1,)  # PR IN goes down one path, which is fine
    dev.close()


def test_core_argument_error_has_its_own_message(device: Device, fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_ARGUMENT, dispatched=0))
    with pytest.raises(ValueError, match="refused the request as invalid; nothing was sent"):
        device.clear(1)
