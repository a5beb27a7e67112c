"""pr-native sg-persist: sg_persist's options, exit codes and text output;
and the sg3_utils exit-code mapping (pr_native.exit_codes)."""

from __future__ import annotations

import errno

import pytest

import pr_native as pr
import pr_native._batch
from pr_native import cli, exit_codes
from pr_native._native import lib
from pr_native.sense import decode_sense

from .fake_batch import FakeBatch
from .fake_device import FakeLib, data, fail, good


def sense(key: int, asc: int, ascq: int) -> bytes:
    return bytes([0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0])


def check_condition(cls: type[pr.PRError], key: int, asc: int, ascq: int) -> pr.PRError:
    raw = sense(key, asc, ascq)
    return cls("x", status=2, sense_data=raw, sense=decode_sense(raw))


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (None, 0),
        (pr.ReservationConflict("x", status=0x18), 24),
        (check_condition(pr.UnitAttention, 6, 0x2A, 5), 6),
        (check_condition(pr.IllegalRequest, 5, 0x24, 0), 5),
        (check_condition(pr.IllegalRequest, 5, 0x20, 0), 9),
        (check_condition(pr.IllegalRequest, 5, 0x26, 0), 19),
        (check_condition(pr.NotReady, 2, 0x04, 0x02), 2),
        (check_condition(pr.NotReady, 2, 0x04, 0x0B), 12),
        (check_condition(pr.MediumError, 3, 0x11, 0), 3),
        (check_condition(pr.DataProtect, 7, 0x27, 0), 7),
        (check_condition(pr.AbortedCommand, 0xB, 0x47, 0), 11),
        (pr.IllegalRequest("Windows storage IOCTL, no sense", status=2), 5),
        (pr.DeviceBusy("x", status=0x08), 26),
        (pr.DeviceBusy("x", status=0x28), 27),
        (pr.TaskAborted("x", status=0x40), 29),
        (pr.CommandTimeout("x"), 33),
        (pr.TransportError("x"), 35),
        (pr.MalformedResponse("x"), 97),
        (OSError(errno.ENOENT, "x"), 52),
        (OSError(errno.EACCES, "x"), 63),
        (OSError(errno.ENOTTY, "x"), 75),
        (OSError("no errno"), 15),
        (ValueError("bad key"), 1),
    ],
)
def test_exit_codes_follow_sg_lib(error: BaseException | None, code: int) -> None:
    assert exit_codes.exit_code(error) == code


def test_outcome_unknown_exits_with_its_cause() -> None:
    unknown = pr.OutcomeUnknown("x")
    unknown.__cause__ = pr.CommandTimeout("y")
    assert exit_codes.exit_code(unknown) == 33
    assert exit_codes.meaning(24) == "Reservation conflict"
    assert exit_codes.meaning(52) == "OS error: No such file or directory"


# -- option parsing, as sg_persist's main() --------------------------------------


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["-n", "-i", "-k"], 1),  # no device
        (["-i", "-o", "-k", "/dev/x"], 31),
        (["-o", "/dev/x"], 31),  # PR OUT without a service action
        (["-o", "-G", "-R", "/dev/x"], 31),
        (["-R", "/dev/x"], 31),  # PR OUT action without --out
        (["-k", "-r", "/dev/x"], 31),
        (["-o", "-G", "-Q", "1", "/dev/x"], 31),
        (["-o", "-M", "-K", "1", "-S", "2", "/dev/x"], 31),  # no transport id
        (["-K", "zz", "/dev/x"], 1),
        (["-l", "4000", "/dev/x"], 1),  # above 8192
        (["-Q", "10000", "/dev/x"], 1),
        (["--bogus", "/dev/x"], 0),  # sg_persist: usage, exit 0
        (["-h"], 0),
        (["-V"], 0),
        (["-k", "/dev/x", "/dev/y"], 1),
    ],
)
def test_option_errors_exit_like_sg_persist(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib, argv: list[str], code: int
) -> None:
    assert cli.main(["sg-persist", *argv]) == code
    assert not fake_lib.opened


def test_long_options_in_both_spellings() -> None:
    from pr_native import sg_persist_cli as sgp

    op = sgp.parse(
        [
            *("--out", "--register_move", "--param-rk=0xA1", "--param_sark", "b2"),
            *("--prout-type=3", "--relative_target_port=1", "--unreg"),
            *("--transport-id=sas,5001405000000001", "--no-inquiry", "/dev/sg1"),
        ]
    )
    assert op.want_out and op.prout == [pr.PROutAction.REGISTER_AND_MOVE]
    assert (op.key, op.service_action_key, op.type, op.relative_target_port) == (0xA1, 0xB2, 3, 1)
    assert op.unregister and not op.inquiry and op.device == "/dev/sg1"
    assert op.transport_ids == [pr.SASTransportID(0x5001405000000001)]


K1 = "00000000000000a1"


def test_read_keys_output_is_sg_persists(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib, fake_batch: FakeBatch
) -> None:
    fake_lib.replies.append(data(bytes.fromhex(f"00 00 00 0c 00 00 00 10 {K1} fffffffffffffffe")))
    assert cli.main(["sg-persist", "-n", "-i", "-k", "/dev/sg-fake"]) == 0
    assert capsys.readouterr().out == (
        "  PR generation=0xc, 2 registered reservation keys follow:\n"
        "    0xa1\n"
        "    0xfffffffffffffffe\n"
    )
    (call,) = fake_lib.calls
    assert (call.cdb, call.capacity) == (bytes.fromhex("5e 00 00 00 00 00 00 20 00 00"), 8192)


def test_read_keys_cut_by_alloc_length(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib, fake_batch: FakeBatch
) -> None:
    """-l 14 (hex): 20 bytes, the 2nd key cut; only the 1st key is printed."""
    fake_lib.replies.append(data(bytes.fromhex(f"00 00 00 0c 00 00 00 10 {K1} fffffffffffffffe")))
    assert cli.main(["sg-persist", "-n", "-k", "-l", "14", "/dev/sg-fake"]) == 0
    (call,) = fake_lib.calls
    assert (call.cdb, call.capacity) == (bytes.fromhex("5e 00 00 00 00 00 00 00 14 00"), 20)
    out, err = capsys.readouterr()
    assert out == "  PR generation=0xc, 2 registered reservation keys follow:\n    0xa1\n"
    assert err == (
        "PR in: response truncated to 20 of 24 bytes; what was not received in full is not shown\n"
    )


def test_malformed_capabilities_exit_97(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib, fake_batch: FakeBatch
) -> None:
    fake_lib.replies.append(data(bytes.fromhex("00 0c 1d 91 ea 01 00 00 00 00 00 00")))
    assert cli.main(["sg-persist", "-n", "-c", "-H", "/dev/sg-fake"]) == 97
    out, err = capsys.readouterr()
    assert out == " 00     00 0c 1d 91 ea 01 00 00  00 00 00 00\n"
    assert err.startswith("Unexpected response for PRIN Report Capabilities\nsg_persist failed: ")


def test_inquiry_lines_unless_n(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib, fake_batch: FakeBatch
) -> None:
    inquiry = bytes([0, 0, 6, 2, 31, 0, 0, 0]) + b"LIO-ORG RAMDISK-MCP     4.0 "
    fake_batch.answers.append(inquiry)
    fake_lib.replies.append(data(bytes.fromhex("00 00 00 01 00 00 00 00")))
    assert cli.main(["sg-persist", "-r", "/dev/sg-fake"]) == 0
    assert capsys.readouterr().out == (
        "  LIO-ORG   RAMDISK-MCP       4.0 \n"
        "  Peripheral device type: disk\n"
        "  PR generation=0x1, there is NO reservation held\n"
    )


def test_failure_exit_code_and_message(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib, fake_batch: FakeBatch
) -> None:
    fake_lib.replies.append(fail(-2, status=2, sense=sense(6, 0x2A, 3)))
    assert cli.main(["sg-persist", "-n", "-k", "/dev/sg-fake"]) == 6
    err = capsys.readouterr().err
    assert "PR in (Read keys): Unit attention" in err
    assert "sg_persist failed: Unit attention" in err
    fake_lib.replies.append(good())
    assert cli.main(["sg-persist", "-n", "-o", "-R", "-K", "a1", "-T", "5", "/dev/sg-fake"]) == 0
    assert fake_lib.calls[-1].cdb == bytes.fromhex("5f 01 05 00 00 00 00 00 18 00")


@pytest.mark.parametrize("option", ["-K", "-S"])
def test_keys_longer_than_16_hex_digits_are_refused(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib, option: str
) -> None:
    argv = ["sg-persist", "-n", "-o", "-G", option, "1" + "0" * 16, "/dev/sg-fake"]
    assert cli.main(argv) == 1
    assert "bad argument to '--param-" in capsys.readouterr().err
    assert fake_lib.calls == []


def test_an_os_error_during_a_command_exits_50_plus_errno(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib
) -> None:
    fake_lib.replies.append(fail(lib.PR_ERR_OS, os_error=errno.ENODEV, dispatched=0))
    assert cli.main(["sg-persist", "-n", "-k", "/dev/sg-fake"]) == 50 + errno.ENODEV
    err = capsys.readouterr().err
    assert "PR in (Read keys):" in err and "Traceback" not in err
    fake_lib.replies.append(fail(lib.PR_ERR_OS, os_error=errno.EPERM, dispatched=0))
    assert cli.main(["sg-persist", "-n", "-o", "-G", "-S", "a1", "/dev/sg-fake"]) == 50 + 1
