"""pr_native.poll: argument checks, one batch per round, decoding, per-device
errors, re-reading long responses, reopening devices that went away, and
identity read once per open, never inside a round."""

from __future__ import annotations

import errno
import importlib
import os
from pathlib import Path

import pytest

import pr_native as pr
import pr_native._batch
from pr_native._native import ffi, lib
from pr_native.poll import Poller, PollResult, poll

from .fake_batch import Failure, FakeBatch
from .fake_device import FakeLib
from .fake_identity import identity, lu_name, unanswered

# (pr_native.poll, the attribute, is the function of that name)
poll_module = importlib.import_module("pr_native.poll")

K1 = "00000000000000a1"
KEYS = bytes.fromhex(f"00 00 00 05 00 00 00 08 {K1}")
NO_RESERVATION = bytes.fromhex("00 00 00 05 00 00 00 00")
UA = bytes([0x70, 0, 6, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x2A, 3, 0, 0, 0, 0])


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        (("/dev/sg1",), {}, TypeError),
        ((["/dev/sg1", 3],), {}, TypeError),
        ((["/dev/sg1", ""],), {}, ValueError),
        ((["/dev/sg1", "/dev/sg1"],), {}, ValueError),
        ((["/dev/sg1"], "keys"), {}, TypeError),
        ((["/dev/sg1"], ()), {}, ValueError),
        ((["/dev/sg1"], ("keys", "status")), {}, ValueError),
        ((["/dev/sg1"],), {"timeout": 0}, ValueError),
    ],
)
def test_arguments_are_checked_before_anything_is_opened(
    fake_lib: FakeLib, args: tuple[object, ...], kwargs: dict[str, object], error: type
) -> None:
    with pytest.raises(error):
        poll(*args, **kwargs)  # type: ignore[arg-type]
    assert not fake_lib.opened


def test_one_round_is_one_batch(fake_batch: FakeBatch) -> None:
    fake_batch.answers += [KEYS, NO_RESERVATION, KEYS, NO_RESERVATION]
    first, second = poll(["/dev/sg-a", "/dev/sg-b"], timeout=2.5)
    assert fake_batch.rounds == 1
    assert isinstance(first, PollResult) and isinstance(second, PollResult)
    assert first.device == "/dev/sg-a" and second.device == "/dev/sg-b"
    assert first.keys == pr.Registrations(5, (0xA1,))
    assert first.reservation == pr.ReservationStatus(5, None)
    cdbs = [cdb for _, cdb, _ in fake_batch.sent]
    assert cdbs[0] == bytes.fromhex("5e 00 00 00 00 00 00 10 00 00")
    assert cdbs[1] == bytes.fromhex("5e 01 00 00 00 00 00 10 00 00")


def test_errors_are_per_device(fake_batch: FakeBatch) -> None:
    fake_batch.answers += [Failure(-2, status=2, sense=UA), KEYS]
    first, second = poll(["/dev/sg-a", "/dev/sg-b"], ("keys",))
    assert isinstance(first, pr.UnitAttention)
    assert first.condition is pr.UnitAttentionCondition.RESERVATIONS_PREEMPTED
    assert first.device == "/dev/sg-a"
    assert isinstance(second, PollResult) and second.reservation is None


def test_a_long_key_list_is_read_again_with_room_for_it(fake_batch: FakeBatch) -> None:
    keys = b"".join(k.to_bytes(8, "big") for k in range(1, 1101))
    full = bytes.fromhex("00 00 00 09") + len(keys).to_bytes(4, "big") + keys
    fake_batch.answers += [full, full]
    (result,) = poll(["/dev/sg-a"], ("keys",))
    assert isinstance(result, PollResult) and result.keys is not None
    assert len(result.keys.keys) == 1100
    assert [allocation for _, _, allocation in fake_batch.sent] == [4096, 8808]


def test_later_rounds_ask_for_the_size_that_was_needed(fake_batch: FakeBatch) -> None:
    """A Poller keeps its prepared round, and remembers a re-read's size."""
    keys = b"".join(k.to_bytes(8, "big") for k in range(1, 1101))
    full = bytes.fromhex("00 00 00 09") + len(keys).to_bytes(4, "big") + keys
    fake_batch.answers += [full, full, full, full]
    with Poller(["/dev/sg-a"], ("keys",)) as poller:
        for _ in range(3):
            (result,) = poller.poll()
            assert isinstance(result, PollResult) and result.keys is not None
            assert len(result.keys.keys) == 1100
    assert [allocation for _, _, allocation in fake_batch.sent] == [4096, 8808, 8808, 8808]
    assert fake_batch.rounds == 4


def test_a_missing_node_is_an_os_error(fake_batch: FakeBatch, fake_lib: FakeLib) -> None:
    fake_lib.open_rc, fake_lib.open_errno = -1, errno.ENOENT
    (result,) = poll(["/dev/sg-gone"])
    assert isinstance(result, FileNotFoundError)


def test_poller_reopens_a_device_that_went_away(fake_batch: FakeBatch, fake_lib: FakeLib) -> None:
    with Poller(["/dev/sg-a"], ("keys",)) as poller:
        fake_batch.answers.append(Failure(-1, os_error=errno.ENODEV))
        (gone,) = poller.poll()
        assert isinstance(gone, OSError) and gone.errno == errno.ENODEV
        fake_batch.answers.append(KEYS)
        (back,) = poller.poll()
        assert isinstance(back, PollResult)
    assert len(fake_lib.opened) == 2


def test_identity_is_read_once_per_open_and_never_in_a_round(
    fake_batch: FakeBatch, fake_lib: FakeLib
) -> None:
    with Poller(["/dev/sg-a", "/dev/sg-b"], ("keys",)) as poller:
        fake_batch.answers += [KEYS, KEYS]
        assert all(isinstance(e, PollResult) for e in poller.poll())
        assert fake_lib.calls == [] and poller.lu_names == [None, None]  # a round: PR IN only
        fake_lib.replies += identity(1) + unanswered()
        assert poller.identify() == [lu_name(1), None]
        assert [c.name for c in fake_lib.calls].count("pr_inquiry") == 2
        calls = len(fake_lib.calls)
        assert poller.identify() == [lu_name(1), None]  # b failed: not again while open
        assert len(fake_lib.calls) == calls
        # a goes away: closed, its lu_name forgotten; reopened by the next
        # round and identified again by the next identify()
        fake_batch.answers += [Failure(-1, os_error=errno.ENODEV), KEYS]
        poller.poll()
        assert poller.lu_names == [None, None]
        fake_batch.answers += [KEYS, KEYS]
        poller.poll()
        fake_lib.replies += identity(3)
        assert poller.identify() == [lu_name(3), None]
        assert not fake_lib.replies and len(fake_lib.opened) == 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_device_that_did_not_answer_is_asked_again_later(
    fake_batch: FakeBatch, fake_lib: FakeLib, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(poll_module, "_monotonic", clock)
    with Poller(["/dev/sg-a"], ("keys",)) as poller:
        fake_lib.replies += unanswered()
        assert poller.identify() == [None]
        calls = len(fake_lib.calls)
        clock.now += poll_module.IDENTIFY_RETRY - 1
        assert poller.identify() == [None] and len(fake_lib.calls) == calls
        clock.now += 1
        fake_lib.replies += identity(1)
        assert poller.identify() == [lu_name(1)]


def test_the_identify_step_ends_within_one_timeout(
    fake_batch: FakeBatch, fake_lib: FakeLib, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Devices read in turn within one command timeout in all: one whose
    INQUIRYs took the whole of it leaves the next to the next call."""
    clock = FakeClock()
    monkeypatch.setattr(poll_module, "_monotonic", clock)
    with Poller(["/dev/sg-a", "/dev/sg-b"], ("keys",), timeout=5) as poller:
        real = pr.Device.identify

        def slow(device: pr.Device, *, timeout: float | None = None) -> pr.Identity:
            assert timeout is not None and 0 < timeout <= 5
            clock.now += 5
            return real(device, timeout=timeout)

        monkeypatch.setattr(pr.Device, "identify", slow)
        fake_lib.replies += identity(1)
        assert poller.identify() == [lu_name(1), None]
        fake_lib.replies += identity(2)
        assert poller.identify() == [lu_name(1), lu_name(2)]
        assert not fake_lib.replies


def test_identify_opens_the_paths_not_open_yet(fake_batch: FakeBatch, fake_lib: FakeLib) -> None:
    with Poller(["/dev/sg-a"], ("keys",)) as poller:
        fake_lib.replies += identity(1)
        assert poller.identify() == [lu_name(1)]
        fake_batch.answers.append(KEYS)
        (entry,) = poller.poll()
        assert isinstance(entry, PollResult) and len(fake_lib.opened) == 1
    fake_lib.open_rc, fake_lib.open_errno = -1, errno.ENOENT
    with Poller(["/dev/sg-gone"], ("keys",)) as poller:
        assert poller.identify() == [None]  # the round reports why
        (gone,) = poller.poll()
        assert isinstance(gone, FileNotFoundError)


def test_devices_passed_in_are_used_and_left_open(fake_batch: FakeBatch) -> None:
    with pr.Device("/dev/sg-fake") as device:
        fake_batch.answers.append(KEYS)
        (result,) = poll(
            [
                device,
            ],
            ("keys",),
        )
        assert isinstance(result, PollResult)
        assert not device.closed


def test_paths_may_be_pathlike(fake_batch: FakeBatch) -> None:
    fake_batch.answers.append(NO_RESERVATION)
    (result,) = poll([Path("/dev/sg-a")], ["reservation"])
    assert isinstance(result, PollResult) and result.keys is None


def test_the_c_batch_checks_its_entries_and_runs_other_nodes_synchronously() -> None:
    """The real pr_execute_batch: an invalid entry sends nothing; a node
    without the sg asynchronous interface (here /dev/null) runs through
    pr_execute(), whose SG_IO fails with ENOTTY."""
    batch = ffi.new("struct pr_batch_command[]", 1)
    assert lib.pr_execute_batch(batch, 1) == lib.PR_ERR_ARGUMENT  # no device
    device = ffi.new("struct pr_device *")
    device.handle = os.open(os.devnull, os.O_RDWR)
    try:
        buffer = ffi.new("uint8_t[]", 8)
        batch[0].device = device
        batch[0].data, batch[0].data_len, batch[0].timeout_ms = buffer, 8, 1000
        batch[0].cdb[0:10] = pr.cdb.pr_in_cdb(pr.PRInAction.READ_KEYS, 8)
        batch[0].cdb_len = 5
        assert lib.pr_execute_batch(batch, 1) == lib.PR_ERR_ARGUMENT  # CDB too short
        batch[0].cdb_len = 10
        assert lib.pr_execute_batch(batch, 1) == lib.PR_OK
        assert batch[0].rc == lib.PR_ERR_OS and batch[0].result.os_error == errno.ENOTTY
        assert bytes(batch[0].result.cdb[0:10]) == pr.cdb.pr_in_cdb(pr.PRInAction.READ_KEYS, 8)
        assert lib.pr_execute_batch(ffi.NULL, 0) == lib.PR_OK
    finally:
        os.close(device.handle)


def test_interrupted_entries_are_issued_again_alone(fake_batch: FakeBatch) -> None:
    """A signal ends the wait (PR_ERR_INTERRUPTED): only the interrupted
    entry is issued again (the C core then takes its request over)."""
    fake_batch.answers += [KEYS, Failure(lib.PR_ERR_INTERRUPTED), NO_RESERVATION]
    (entry,) = poll(["/dev/sg-a"])
    assert isinstance(entry, PollResult)
    assert entry.reservation == pr.ReservationStatus(5, None)
    assert fake_batch.rounds == 2
    assert [cdb[1] for _, cdb, _ in fake_batch.sent] == [0, 1, 1]


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (Failure(lib.PR_ERR_TIMEOUT, os_error=errno.ETIMEDOUT), pr.CommandTimeout),
        (Failure(lib.PR_ERR_OS, os_error=errno.ENODEV), OSError),
    ],
)
def test_a_stalled_or_detached_node_is_that_entry_only(
    fake_batch: FakeBatch, failure: Failure, error: type[Exception]
) -> None:
    fake_batch.answers += [failure, NO_RESERVATION, KEYS, NO_RESERVATION]
    first, second = poll(["/dev/sg-a", "/dev/sg-b"])
    assert isinstance(first, error) and not isinstance(first, pr.OutcomeUnknown)
    assert isinstance(second, PollResult)
