"""pr-native: argument parsing, --dry-run golden bytes, the JSON schema,
error lines and exit statuses (no SCSI device: FakeLib and FakeBatch)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

from pr_native import cli
from pr_native.constants import ReservationType as T

from .fake_device import FakeLib, data, fail, good
from .fake_identity import identity, lu_name, unanswered

K1 = "00000000000000a1"
K2 = "00000000000000b2"
ZERO8 = "00" * 8
UA_SENSE = bytes.fromhex("70 00 06 00 00 00 00 0a 00 00 00 00 2a 05 00 00 00 00")
ILLEGAL_SENSE = bytes.fromhex("70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 00 00 00")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, *argv, "--json")
    (line,) = out.splitlines()
    parsed: dict[str, Any] = json.loads(line)
    return code, parsed


# -- argument types -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5", T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY),
        ("0x3", T.EXCLUSIVE_ACCESS),
        ("write-exclusive-registrants-only", T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY),
        ("EXCLUSIVE_ACCESS_ALL_REGISTRANTS", T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS),
        ("WE_RO", T.WRITE_EXCLUSIVE_REGISTRANTS_ONLY),
        ("ea-ar", T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS),
        ("we", T.WRITE_EXCLUSIVE),
    ],
)
def test_type_by_number_name_or_alias(text: str, expected: T) -> None:
    assert cli.parse_type(text) is expected


@pytest.mark.parametrize("text", ["0", "2", "4", "9", "shared", ""])
def test_bad_types_are_refused(text: str) -> None:
    with pytest.raises(Exception, match="type"):
        cli.parse_type(text)


def test_keys_are_hex_as_sg_persist_reads_them() -> None:
    assert cli.parse_key("0xa1") == 0xA1
    assert cli.parse_key("a1") == 0xA1
    assert cli.parse_key("123") == 0x123  # not decimal 123
    assert cli.parse_key("0XFFFFFFFFFFFFFFFF") == 2**64 - 1
    for bad in ("-1", "1" + "0" * 16, "0x", "", "12g", "0x 1", "+1"):
        with pytest.raises(Exception, match="key"):
            cli.parse_key(bad)


def test_help_shows_hex_keys_required_options_and_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["preempt", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--key KEY --preempt-key PREEMPT_KEY --type TYPE" in text  # required: no [...]
    assert "hex, 0x optional" in text
    assert "we-ro" in text and "(default: 30.0)" in text
    assert ("--transport" in text) == (sys.platform == "win32")
    assert cli.main(["register-move", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "RELATIVE TARGET PORT IDENTIFIER" in text
    assert "receives the reservation" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["reserve", "/dev/sg9", "--key", "0xa1", "--type", "2", "--dry-run"],
        ["reserve", "/dev/sg9", "--key", "a1g", "--type", "5", "--dry-run"],
        ["reserve", "/dev/sg9", "--type", "5", "--dry-run"],
        ["preempt", "/dev/sg9", "--key", "1", "--type", "5", "--dry-run"],
        ["register-move", "/dev/sg9", "--key", "1", "--new-key", "2", "--dry-run"],
        ["register", "/dev/sg9", "--transport-id", "bogus,12", "--new-key", "1"],
        ["read-keys", "/dev/sg9", "--timeout", "0"],
        ["read-keys"],
        ["no-such-command", "/dev/sg9"],
        [],
    ],
)
def test_bad_arguments_exit_1_and_send_nothing(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib, argv: list[str]
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 1
    assert err
    assert not fake_lib.opened


# -- --dry-run: the exact bytes, nothing opened --------------------------------

DRY_RUNS = [
    (
        ["reserve", "--key", "0xa1", "--type", "write-exclusive-registrants-only"],
        "5f 01 05 00 00 00 00 00 18 00",
        K1 + ZERO8 + ZERO8,
    ),
    (
        ["register", "--new-key", "0xb2", "--key", "0xa1", "--aptpl", "--all-target-ports"],
        "5f 00 00 00 00 00 00 00 18 00",
        K1 + K2 + "00000000" + "05000000",
    ),
    (
        ["register-ignore", "--new-key", "0xb2"],
        "5f 06 00 00 00 00 00 00 18 00",
        ZERO8 + K2 + ZERO8,
    ),
    (["unregister", "--key", "0xa1"], "5f 00 00 00 00 00 00 00 18 00", K1 + ZERO8 + ZERO8),
    (
        ["release", "--key", "0xa1", "--type", "EA"],
        "5f 02 03 00 00 00 00 00 18 00",
        K1 + ZERO8 + ZERO8,
    ),
    (["clear", "--key", "0xa1"], "5f 03 00 00 00 00 00 00 18 00", K1 + ZERO8 + ZERO8),
    (
        ["preempt", "--key", "0xb2", "--preempt-key", "0xa1", "--type", "3"],
        "5f 04 03 00 00 00 00 00 18 00",
        K2 + K1 + ZERO8,
    ),
    (
        ["preempt-abort", "--key", "0xb2", "--preempt-key", "0xa1", "--type", "WE_AR"],
        "5f 05 07 00 00 00 00 00 18 00",
        K2 + K1 + ZERO8,
    ),
    (
        ["replace-lost", "--key", "0xa1", "--type", "1"],
        "5f 08 01 00 00 00 00 00 18 00",
        K1 + ZERO8 + ZERO8,
    ),
    (
        ["register", "--new-key", "0xa1", "--transport-id", "sas,5001405000000001"],
        "5f 00 00 00 00 00 00 00 34 00",
        ZERO8 + K1 + "00000000" + "08000000" + "0000001806000000" + "5001405000000001" + "00" * 12,
    ),
    (
        [
            "register-move",
            "--key",
            "0xa1",
            "--new-key",
            "0xb2",
            "--transport-id",
            "sas,5001405000000001",
            "--relative-target-port",
            "1",
            "--unregister",
        ],
        "5f 07 00 00 00 00 00 00 30 00",
        K1 + K2 + "00" + "02" + "0001" + "00000018" + "06000000" + "5001405000000001" + "00" * 12,
    ),
]


@pytest.mark.parametrize(("argv", "cdb", "parameters"), DRY_RUNS, ids=[d[0][0] for d in DRY_RUNS])
def test_dry_run_prints_the_exact_bytes(
    capsys: pytest.CaptureFixture[str],
    fake_lib: FakeLib,
    argv: list[str],
    cdb: str,
    parameters: str,
) -> None:
    command, *options = argv
    code, out, _ = run(capsys, command, "/dev/sg-none", *options, "--dry-run")
    assert code == 0
    assert f"CDB: {cdb}" in out
    assert bytes.fromhex(parameters).hex(" ") in out
    code, doc = run_json(capsys, command, "/dev/sg-none", *options, "--dry-run")
    assert doc["result"]["cdb"] == cdb.replace(" ", "")
    assert doc["result"]["parameters"] == parameters
    assert doc["result"]["sent"] is False
    assert not fake_lib.opened and not fake_lib.calls


def test_pr_out_sends_the_dry_run_bytes_once(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib
) -> None:
    fake_lib.replies.append(good())
    argv = ["preempt", "/dev/sg-fake", "--key", "0xb2", "--preempt-key", "0xa1", "--type", "3"]
    code, doc = run_json(capsys, *argv)
    assert code == 0 and doc["ok"] and doc["result"]["sent"]
    (call,) = fake_lib.calls
    assert call.cdb.hex() == doc["result"]["cdb"]
    assert call.parameters.hex() == doc["result"]["parameters"]


# -- JSON schema -----------------------------------------------------------------

ENVELOPE = {"schema_version", "command", "device", "ok", "exit_code", "result", "error"}
PR_IN_FIELDS = ["ok", "exit_code", "result", "error"]


def test_read_keys_json(capsys: pytest.CaptureFixture[str], fake_lib: FakeLib) -> None:
    """The PR IN, then the LU's identity for ``lu_name`` (INQUIRY after the
    PR IN: it neither reports nor clears a unit attention)."""
    fake_lib.replies.append(data(bytes.fromhex(f"00 00 00 2a 00 00 00 10 {K1} {K2}")))
    fake_lib.replies += identity(7)
    code, doc = run_json(capsys, "read-keys", "/dev/sg-fake")
    assert code == 0
    assert list(doc) == ["schema_version", "command", "device", "lu_name", *PR_IN_FIELDS]
    assert doc["schema_version"] == 1
    assert doc["command"] == "read-keys" and doc["device"] == "/dev/sg-fake"
    assert doc["lu_name"] == lu_name(7)
    assert doc["result"] == {"generation": 42, "keys": ["0x" + K1, "0x" + K2]}
    assert [c.name for c in fake_lib.calls][:2] == ["pr_read_keys", "pr_inquiry"]


@pytest.mark.parametrize(
    ("command", "response"),
    [
        ("report-capabilities", bytes.fromhex("00 08 0c 81 ea 01 00 00")),
        ("read-full-status", bytes.fromhex("00 00 00 01 00 00 00 00")),
    ],
)
def test_every_pr_in_json_has_lu_name(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib, command: str, response: bytes
) -> None:
    fake_lib.replies += [data(response), *identity(3)]
    code, doc = run_json(capsys, command, "/dev/sg-fake")
    assert (code, doc["ok"], doc["lu_name"]) == (0, True, lu_name(3))


def test_lu_name_is_null_when_the_device_does_not_answer_inquiry(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib
) -> None:
    fake_lib.replies += [data(bytes.fromhex("00 00 00 01 00 00 00 00")), *unanswered()]
    code, doc = run_json(capsys, "read-keys", "/dev/sg-fake")
    assert (code, doc["ok"], doc["lu_name"]) == (0, True, None)
    assert doc["result"] == {"generation": 1, "keys": []}


def test_text_output_sends_no_inquiry(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib
) -> None:
    fake_lib.replies.append(data(bytes.fromhex("00 00 00 01 00 00 00 00")))
    code, out, _ = run(capsys, "read-keys", "/dev/sg-fake")
    assert (code, out) == (0, "PR generation 0x1, 0 registered key(s)\n")
    assert [c.name for c in fake_lib.calls] == ["pr_read_keys"]


def test_read_reservation_json_and_text(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib
) -> None:
    response = bytes.fromhex(f"00 00 00 07 00 00 00 10 {K1} 00 00 00 00 00 05 00 00")
    fake_lib.replies += [data(response), *identity(1)]
    code, doc = run_json(capsys, "read-reservation", "/dev/sg-fake")
    assert doc["lu_name"] == lu_name(1)
    assert doc["result"] == {
        "generation": 7,
        "reservation": {
            "key": "0x" + K1,
            "type": "WRITE_EXCLUSIVE_REGISTRANTS_ONLY",
            "type_code": 5,
            "scope": "LU",
        },
    }
    fake_lib.replies.append(data(response))
    code, out, _ = run(capsys, "read-reservation", "/dev/sg-fake")
    assert code == 0
    assert "reservation held with key 0xa1" in out


def test_hex_gives_the_raw_response(capsys: pytest.CaptureFixture[str], fake_lib: FakeLib) -> None:
    """--hex goes through Device's one PR IN path and shows the bytes it decoded."""
    response = bytes.fromhex(f"00 00 00 2a 00 00 00 08 {K1}")
    fake_lib.replies += [data(response), *identity(1)]
    code, doc = run_json(capsys, "read-keys", "/dev/sg-fake", "--hex")
    assert code == 0
    assert doc["result"]["raw"] == response.hex()
    assert doc["result"]["keys"] == ["0x" + K1]
    assert fake_lib.calls[0].name == "pr_read_keys"


# -- errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "exit_code", "words", "hint"),
    [
        (fail(-2, status=0x18), 24, "RESERVATION CONFLICT", "registered keys: 0xa1"),
        (fail(-2, status=0x02, sense=UA_SENSE), 6, "UNIT ATTENTION, ASC/ASCQ 2Ah/05h", None),
        (fail(-2, status=0x02, sense=ILLEGAL_SENSE), 5, "ILLEGAL REQUEST, ASC/ASCQ 24h/00h", None),
        (fail(-4), 33, "timed out", "may have run: read the state"),
    ],
)
def test_errors_print_one_line_and_exit_like_sg3_utils(
    capsys: pytest.CaptureFixture[str],
    fake_lib: FakeLib,
    reply: Any,
    exit_code: int,
    words: str,
    hint: str | None,
) -> None:
    """One line, and a hint line for the refusals people meet most (a
    RESERVATION CONFLICT reads the keys registered now: one PR IN)."""
    keys = data(bytes.fromhex(f"00 00 00 03 00 00 00 08 {K1}"))
    fake_lib.replies += [reply, keys] if hint and "keys" in hint else [reply]
    code, out, err = run(capsys, "reserve", "/dev/sg-fake", "--key", "1", "--type", "1")
    assert code == exit_code
    assert out == ""
    line, *hints = err.splitlines()
    assert words in line and f"exit {exit_code}" in line
    assert hints == ([] if hint is None else [hints[0]])
    assert hint is None or hint in hints[0]
    fake_lib.replies += [reply, keys] if hint and "keys" in hint else [reply]
    code, out, err = run(capsys, "reserve", "/dev/sg-fake", "--key", "1", "--type", "1", "-v")
    assert "CDB: 5f 01 01" in err
    assert "parameter list: 00 00 00 00 00 00 00 01" in err


def test_preempt_conflict_hint_names_the_registered_keys(
    capsys: pytest.CaptureFixture[str], fake_lib: FakeLib
) -> None:
    fake_lib.replies += [fail(-2, status=0x18), data(bytes.fromhex("00 00 00 03 00 00 00 00"))]
    code, doc = run_json(
        capsys, "preempt", "/dev/sg-fake", "--key", "b2", "--preempt-key", "a1", "--type", "EA"
    )
    assert code == 24
    assert "is the key you preempt registered? no key is registered" in doc["error"]["hint"]
    assert doc["error"]["parameters"].startswith("00000000000000b200000000000000a1")


def test_error_json(capsys: pytest.CaptureFixture[str], fake_lib: FakeLib) -> None:
    fake_lib.replies.append(fail(-2, status=0x02, sense=ILLEGAL_SENSE))
    code, doc = run_json(capsys, "clear", "/dev/sg-fake", "--key", "1")
    assert code == 5
    assert set(doc) == ENVELOPE and doc["ok"] is False and doc["result"] is None
    error = doc["error"]
    assert error["type"] == "IllegalRequest"
    assert error["exit_code"] == 5 and error["exit_meaning"] == "Illegal request"
    assert error["status"] == 2 and error["status_name"]
    assert error["cdb"] == "5f030000000000001800"
    assert error["sense"]["sense_key"] == "ILLEGAL_REQUEST"
    assert (error["sense"]["asc"], error["sense"]["ascq"]) == (0x24, 0)
    assert error["sense_data"] == ILLEGAL_SENSE.hex()


def test_missing_device_is_an_os_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "read-keys", "/dev/pr-native-no-such-node")
    assert code == 52  # sg_convert_errno(ENOENT), as sg_persist
    assert doc["error"]["errno"] == 2


def test_module_entry_point_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("pr-native ")


# -- a reader that goes away (`| head`) -------------------------------------


class _ClosedPipe:
    """A stdout whose reader has gone: every write raises BrokenPipeError."""

    def __init__(self) -> None:
        self.fd = os.open(os.devnull, os.O_WRONLY)

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        return self.fd


def test_a_closed_stdout_keeps_the_commands_own_status(
    monkeypatch: pytest.MonkeyPatch, fake_lib: FakeLib
) -> None:
    """A PR OUT that ran exits 0, with no traceback, whoever stopped reading."""
    pipe = _ClosedPipe()
    monkeypatch.setattr(sys, "stdout", pipe)
    fake_lib.replies.append(good())
    assert cli.main(["reserve", "/dev/sg-fake", "--key", "a1", "--type", "WE", "-v"]) == 0
    assert len(fake_lib.calls) == 1
    fake_lib.replies += [fail(-2, status=0x18), data(bytes.fromhex("00 00 00 03 00 00 00 00"))]
    assert cli.main(["reserve", "/dev/sg-fake", "--key", "a1", "--type", "WE"]) == 24
    os.close(pipe.fd)


def test_layout_into_a_closed_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    from pr_native import layout

    pipe = _ClosedPipe()
    monkeypatch.setattr(sys, "stdout", pipe)
    assert layout.main([]) == 0
    os.close(pipe.fd)
