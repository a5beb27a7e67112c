"""``pr-native sg-persist``: sg_persist's options, output and exit codes.

    pr-native sg-persist -n -i -k /dev/sg3
    pr-native sg-persist --out --register --param-sark=0xa1 /dev/sg3

A drop-in for the PERSISTENT RESERVE part of sg3_utils' ``sg_persist``
(src/sg_persist.c, version 0.73): the same option letters and long names,
the same text on stdout (PR IN output as prin_work() prints it, formatted
from the C decoders; INQUIRY's two lines unless ``-n``), and the same exit statuses
(``pr_native.exit_codes``).  Scripts that parse sg_persist's output or
branch on its exit status keep working.

Differences, all on the safe side: arguments pr_native refuses before any
I/O are refused here too, with exit 1 (sg_persist would send them and the
device would answer ILLEGAL REQUEST): a reservation type other than 1, 3 or
5-8 for RESERVE, RELEASE, PREEMPT (AND ABORT) and REPLACE LOST; a new key 0
for REGISTER AND MOVE; TransportIDs with anything but REGISTER and REGISTER
AND MOVE (exit 31).  ``-X file=F`` and ``-X -`` read one TransportID per line
(symbolic or hex bytes).  PR IN responses longer than the allocation length
are never over-read.  Messages on stderr are sg_persist's where a script
might match them, with pr_native's decoded sense added.
"""

from __future__ import annotations

import errno
import getopt
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import _batch, _sgtext
from ._out_request import TYPED_ACTIONS, OutRequest
from .constants import SENDABLE_TYPES, PRInAction, PROutAction, ReservationType
from .device import Device
from .errors import PRError
from .exit_codes import ExitCode, exit_code, meaning
from .transport_id import TransportID

VERSION = "0.73 20230622 (pr_native)"
MAX_ALLOCATION = 8192
_SHORT = "AcCd:GHhiIkK:l:Lm:MnoPQ:rRsS:T:UvVX:yYzZ"
_LONG_FLAGS = {
    "clear": "C",
    "help": "h",
    "hex": "H",
    "in": "i",
    "no-inquiry": "n",
    "out": "o",
    "param-alltgpt": "Y",
    "param-aptpl": "Z",
    "param-unreg": "U",
    "preempt": "P",
    "preempt-abort": "A",
    "read-full-status": "s",
    "read-keys": "k",
    "readonly": "y",
    "read-reservation": "r",
    "read-status": "s",
    "register": "G",
    "register-ignore": "I",
    "register-move": "M",
    "release": "L",
    "replace-lost": "z",
    "report-capabilities": "c",
    "reserve": "R",
    "unreg": "U",
    "verbose": "v",
    "version": "V",
}
_LONG_VALUES = {
    "alloc-length": "l",
    "device": "d",
    "maxlen": "m",
    "param-rk": "K",
    "param-sark": "S",
    "prout-type": "T",
    "relative-target-port": "Q",
    "transport-id": "X",
}


def _long_options() -> dict[str, str]:
    """Every long name in both spellings (sg_persist accepts _ and -)."""
    names = {}
    for table, suffix in ((_LONG_FLAGS, ""), (_LONG_VALUES, "=")):
        for name, letter in table.items():
            names[name + suffix] = letter
            names[name.replace("-", "_") + suffix] = letter
    return names


_LONG = _long_options()
_PRIN = {"k": PRInAction.READ_KEYS, "r": PRInAction.READ_RESERVATION}
_PRIN.update({"c": PRInAction.REPORT_CAPABILITIES, "s": PRInAction.READ_FULL_STATUS})
_PROUT = {
    "G": PROutAction.REGISTER,
    "R": PROutAction.RESERVE,
    "L": PROutAction.RELEASE,
    "C": PROutAction.CLEAR,
    "P": PROutAction.PREEMPT,
    "A": PROutAction.PREEMPT_AND_ABORT,
    "I": PROutAction.REGISTER_AND_IGNORE_EXISTING_KEY,
    "M": PROutAction.REGISTER_AND_MOVE,
    "z": PROutAction.REPLACE_LOST_RESERVATION,
}
_PRIN_NAMES = ("Read keys", "Read reservation", "Report capabilities", "Read full status")
_PROUT_NAMES = (
    "Register",
    "Reserve",
    "Release",
    "Clear",
    "Preempt",
    "Preempt and abort",
    "Register and ignore existing key",
    "Register and move",
    "Replace lost reservation",
)
_HEX = re.compile(r"\s*(?:0[xX])?([0-9a-fA-F]+)")


class _Exit(Exception):
    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Options:
    """What the command line asked for (sg_persist's struct opts_t)."""

    device: str | None = None
    want_in: bool = False
    want_out: bool = False
    prin: list[PRInAction] = field(default_factory=list)
    prout: list[PROutAction] = field(default_factory=list)
    inquiry: bool = True
    hex: int = 0
    verbose: int = 0
    readonly: bool = False
    readwrite_force: bool = False
    allocation: int = MAX_ALLOCATION
    key: int = 0
    service_action_key: int = 0
    type: int = 0
    relative_target_port: int = 0
    aptpl: bool = False
    all_target_ports: bool = False
    unregister: bool = False
    transport_ids: list[TransportID] = field(default_factory=list)
    help: int = 0
    version: bool = False


def _hex_number(text: str, option: str, bits: int) -> int:
    """sscanf("%x"): leading hex digits, an optional 0x; the rest ignored.
    A number too large for the field is refused (sscanf would keep some of
    its bits, and a key would go out truncated)."""
    match = _HEX.match(text)
    if match is None or int(match.group(1), 16) >> bits:
        raise _Exit(ExitCode.SYNTAX_ERROR, f"bad argument to '--{option}'")
    return int(match.group(1), 16)


def _transport_ids(text: str) -> list[TransportID]:
    if text == "-" or text[:5] in ("file=", "FILE="):
        try:
            if text == "-":
                lines = sys.stdin.read()
            else:
                with open(text[5:], encoding="utf-8") as file:
                    lines = file.read()
        except OSError as error:
            raise _Exit(ExitCode.SYNTAX_ERROR, f"unable to open {text[5:]}: {error}") from None
        items = [ln.split("#", 1)[0].strip() for ln in lines.splitlines()]
        return [TransportID.parse(item) for item in items if item]
    return [TransportID.parse(text)]


def parse(argv: Sequence[str]) -> Options:
    """sg_persist's command line: raises _Exit for what sg_persist refuses."""
    try:
        pairs, rest = getopt.gnu_getopt(list(argv), _SHORT, list(_LONG))
    except getopt.GetoptError as error:
        # sg_persist prints its usage and exits 0 on an unknown option.
        raise _Exit(ExitCode.OK, f"sg_persist: {error}") from None
    op = Options()
    for name, value in pairs:
        letter = name[1:] if not name.startswith("--") else _LONG[_long_name(name)]
        _apply(op, letter, value)
    if rest:
        if op.device is None:
            op.device, rest = rest[0], rest[1:]
        if rest:
            raise _Exit(ExitCode.SYNTAX_ERROR, f"Unexpected extra argument: {rest[0]}")
    return op


def _long_name(option: str) -> str:
    bare = option[2:]
    return bare if bare in _LONG else bare + "="


def _apply(op: Options, letter: str, value: str) -> None:
    if letter in _PRIN:
        op.prin.append(_PRIN[letter])
    elif letter in _PROUT:
        op.prout.append(_PROUT[letter])
    elif letter in "KSTQ":
        names = {"K": "param-rk", "S": "param-sark", "T": "prout-type"}
        bits = {"K": 64, "S": 64, "T": 32, "Q": 32}[letter]
        number = _hex_number(value, names.get(letter, "relative-target-port"), bits)
        if letter == "K":
            op.key = number
        elif letter == "S":
            op.service_action_key = number
        elif letter == "T":
            op.type = number
        elif number > 0xFFFF:
            raise _Exit(
                ExitCode.SYNTAX_ERROR,
                "argument to '--relative-target-port' 0 to ffff inclusive",
            )
        else:
            op.relative_target_port = number
    elif letter in "lm":
        op.allocation = _allocation(letter, value)
    elif letter == "X":
        try:
            op.transport_ids = _transport_ids(value)
        except (ValueError, TypeError):
            raise _Exit(ExitCode.SYNTAX_ERROR, "bad argument to '--transport-id'") from None
    elif letter == "y":
        if not op.readwrite_force:
            op.readwrite_force, op.readonly = op.readonly, not op.readonly
    else:
        _apply_flag(op, letter, value)


def _apply_flag(op: Options, letter: str, value: str) -> None:
    if letter == "d":
        op.device = value
    elif letter == "h":
        op.help += 1
    elif letter == "H":
        op.hex += 1
    elif letter == "i":
        op.want_in = True
    elif letter == "o":
        op.want_out = True
    elif letter == "n":
        op.inquiry = False
    elif letter == "U":
        op.unregister = True
    elif letter == "v":
        op.verbose += 1
    elif letter == "V":
        op.version = True
    elif letter == "Y":
        op.all_target_ports = True
    elif letter == "Z":
        op.aptpl = True


def _allocation(letter: str, value: str) -> int:
    name = "maxlen" if letter == "m" else "alloc-length"
    if letter == "l":
        number = _hex_number(value, name, 32)
    else:
        try:
            number = int(value, 0)
        except ValueError:
            raise _Exit(ExitCode.SYNTAX_ERROR, f"bad argument to '--{name}'") from None
    if number > MAX_ALLOCATION:
        raise _Exit(
            ExitCode.SYNTAX_ERROR,
            f"'--{name}' argument exceeds maximum value ({MAX_ALLOCATION})",
        )
    return number


def check(op: Options) -> None:
    """sg_persist's checks of the option combination (main(), after getopt)."""
    if op.device is None:
        raise _Exit(ExitCode.SYNTAX_ERROR, "No device name given")
    if op.want_in and op.want_out:
        raise _Exit(ExitCode.CONTRADICT, "choose '--in' _or_ '--out' (not both)")
    if op.want_out:
        if len(op.prout) != 1 or op.prin:
            raise _Exit(
                ExitCode.CONTRADICT,
                ">> For Persistent Reserve Out one and only one appropriate\n"
                ">> service action must be chosen (e.g. '--register')",
            )
    else:
        if op.prout:
            raise _Exit(
                ExitCode.CONTRADICT,
                ">> When a service action for Persistent Reserve Out is chosen the\n"
                ">> '--out' option must be given (as a safeguard)",
            )
        if not op.prin:
            print(
                ">> No service action given; assume Persistent Reserve In command\n"
                ">> with Read Keys service action",
                file=sys.stderr,
            )
            op.prin.append(PRInAction.READ_KEYS)
        elif len(op.prin) > 1:
            raise _Exit(ExitCode.CONTRADICT, "Too many service actions given; choose one only")
    action = op.prout[0] if op.want_out else None
    if (op.unregister or op.relative_target_port) and action != PROutAction.REGISTER_AND_MOVE:
        raise _Exit(
            ExitCode.CONTRADICT,
            "--unreg or --relative-target-port only useful with --register-move",
        )
    if action == PROutAction.REGISTER_AND_MOVE and len(op.transport_ids) != 1:
        raise _Exit(
            ExitCode.CONTRADICT,
            "with --register-move one (and only one) --transport-id should be given",
        )
    if op.transport_ids and action not in (PROutAction.REGISTER, PROutAction.REGISTER_AND_MOVE):
        raise _Exit(
            ExitCode.CONTRADICT,
            "--transport-id only with --register or --register-move (pr_native)",
        )
    needs_type = (PROutAction.RESERVE, PROutAction.RELEASE, PROutAction.PREEMPT)
    if action in (*needs_type, PROutAction.PREEMPT_AND_ABORT) and op.type == 0:
        print("warning>>> --prout-type probably needs to be given", file=sys.stderr)


def _type(op: Options) -> ReservationType:
    if op.type not in SENDABLE_TYPES:
        raise _Exit(
            ExitCode.SYNTAX_ERROR,
            f"--prout-type={op.type:x}: pr_native sends only the SPC types 1, 3, 5, 6, 7, 8",
        )
    return ReservationType(op.type)


def prout(op: Options, device: Device) -> None:
    """Send the one PR OUT the options ask for, once."""
    action = op.prout[0]
    if action == PROutAction.REGISTER_AND_MOVE and op.service_action_key == 0:
        raise _Exit(ExitCode.SYNTAX_ERROR, "--param-sark must not be 0 for --register-move")
    typed = action in TYPED_ACTIONS or (action == PROutAction.REGISTER_AND_MOVE and op.type)
    OutRequest(
        action,
        key=op.key,
        service_action_key=op.service_action_key,
        type=_type(op) if typed else None,
        aptpl=op.aptpl,
        all_target_ports=op.all_target_ports,
        unregister=op.unregister,
        relative_target_port=op.relative_target_port,
        transport_ids=tuple(op.transport_ids),
    ).send(device)


def _verdict(error: BaseException, out: bool, name: str) -> str:
    """sg_persist's one-line verdict on a failed PR command."""
    code = exit_code(error)
    head = f"PR {'out' if out else 'in'} ({name}): "
    if code == ExitCode.INVALID_OPCODE:
        text = "command not supported"
    elif code == ExitCode.ILLEGAL_REQUEST:
        text = "bad field in cdb" + ("" if out else " or parameter list")
        text += " (perhaps unsupported service action)"
    elif code == ExitCode.INVALID_PARAMETER and out:
        text = "bad field parameter list"
    else:
        text = meaning(code)
    return head + text


def _inquiry(path: str, timeout_ms: int) -> bytes:
    # Windows pass-through needs a handle opened read-write; SG_IO does not.
    with Device(path, read_only=sys.platform != "win32") as device:
        command = _batch.Command(device, bytes([0x12, 0, 0, 0, 36, 0]), 36, "INQUIRY")
        (outcome,) = _batch.execute([command], timeout_ms)
    if outcome.error is not None:
        raise outcome.error
    return outcome.data


def run(op: Options) -> int:
    """Everything after the option checks: INQUIRY, open, the PR command."""
    assert op.device is not None
    timeout_ms = 60_000  # sg_persist's DEF_PT_TIMEOUT
    if op.inquiry:
        try:
            for line in _sgtext.inquiry_text(_inquiry(op.device, timeout_ms)):
                print(line)
        except OSError as error:
            reason = os.strerror(error.errno or 0)
            print(f"sg_persist: error opening file (ro): {op.device}: {reason}", file=sys.stderr)
            return exit_code(error)
        except PRError as error:
            print(f"sg_persist: SCSI INQUIRY failed on {op.device}")
            return exit_code(error)
    readonly = op.readonly
    if op.readwrite_force:
        readonly = False
    elif os.environ.get("SG_PERSIST_IN_RDONLY") and not op.want_out:
        readonly = True
    try:
        device = Device(op.device, timeout=timeout_ms / 1000, read_only=readonly)
    except OSError as error:
        mode = "o" if readonly else "w"
        print(
            f"sg_persist: error opening file {op.device} (r{mode}): "
            f"{os.strerror(error.errno or 0)}",
            file=sys.stderr,
        )
        return exit_code(error)
    with device:
        code = _prin(op, device) if not op.want_out else _prout(op, device)
    if code and not op.verbose:
        print(f"sg_persist failed: {meaning(code)}", file=sys.stderr)
    return code


def _prin(op: Options, device: Device) -> int:
    action = op.prin[0]
    try:
        # sg_persist reads once with its ALLOCATION LENGTH (-l), no re-read.
        response = device._read_response(action, op.allocation, 60_000)
    except PRError as error:
        _report(error, False, _PRIN_NAMES[action], op.verbose)
        return exit_code(error)
    except OSError as error:  # sg_convert_errno(): 50 + errno, one line
        print(f"PR in ({_PRIN_NAMES[action]}): {error}", file=sys.stderr)
        return exit_code(error)
    text = _sgtext.prin_text(action, response, op.hex, op.allocation)
    for line in text.stdout:
        print(line)
    if text.warning:
        print(text.warning, file=sys.stderr)
    return ExitCode.MALFORMED if text.malformed else ExitCode.OK


def _prout(op: Options, device: Device) -> int:
    action = op.prout[0]
    name = _PROUT_NAMES[action]
    if action == PROutAction.REGISTER_AND_MOVE:
        name = "register and move"
    if device.read_only:
        # sg_persist would send it on a read-only descriptor and get EPERM;
        # pr_native refuses before any I/O, with the same status.
        print(
            f"sg_persist: PR out on {op.device} needs read-write access (-y given)", file=sys.stderr
        )
        return exit_code(PermissionError(errno.EPERM, "read-only", op.device))
    try:
        prout(op, device)
    except PRError as error:
        _report(error, True, name, op.verbose)
        return exit_code(error)
    except OSError as error:  # refused before dispatch: sg_convert_errno()
        print(f"PR out ({name}): {error}", file=sys.stderr)
        return exit_code(error)
    if op.verbose:
        print(f"PR out: command ({name}) successful", file=sys.stderr)
    return ExitCode.OK


def _report(error: PRError, out: bool, name: str, verbose: int) -> None:
    print(_verdict(error, out, name), file=sys.stderr)
    print(f"  pr_native: {error}", file=sys.stderr)
    if verbose:
        print("\n".join(error.details().splitlines()[1:]), file=sys.stderr)


USAGE = """Usage: pr-native sg-persist [OPTIONS] [DEVICE]
  sg_persist's options: -i|--in (default) or -o|--out, then one of
    PR In:  -k --read-keys (default), -r --read-reservation,
            -c --report-capabilities, -s --read-full-status
    PR Out: -G --register, -I --register-ignore, -R --reserve, -L --release,
            -C --clear, -P --preempt, -A --preempt-abort, -M --register-move,
            -z --replace-lost
  and -K RK (hex), -S SARK (hex), -T TYPE, -Y (ALL_TG_PT), -Z (APTPL),
  -X TRANSPORTID, -Q RTPI, -U (unreg), -H (hex), -n (no INQUIRY),
  -y (read-only), -l LEN (hex) / -m LEN, -d DEVICE, -v, -V, -h."""


def main(argv: Sequence[str]) -> int:
    """Run ``sg-persist`` with sg_persist's arguments; returns its exit status."""
    try:
        op = parse(argv)
        if op.help or op.version:
            print(USAGE if op.help else f"version: {VERSION}", file=sys.stderr)
            return ExitCode.OK
        check(op)
        return run(op)
    except _Exit as stop:
        if stop.message:
            print(stop.message, file=sys.stderr)
        if stop.code == ExitCode.OK:  # an unknown option: usage, as sg_persist
            print(USAGE, file=sys.stderr)
        return stop.code
    except (ValueError, TypeError) as error:
        print(f"sg_persist: {error}", file=sys.stderr)
        return ExitCode.SYNTAX_ERROR
