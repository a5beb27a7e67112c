"""``pr-native``: persistent reservations from the shell (also ``python -m pr_native``).

    pr-native read-keys /dev/sg3
    pr-native reserve /dev/sg3 --key 0xa1 --type write-exclusive-registrants-only
    pr-native preempt /dev/sg3 --key 0xb2 --preempt-key 0xa1 --type EA --dry-run
    pr-native sg-persist -n -i -k /dev/sg3          # sg_persist's options and output
    pr-native watch /dev/sg3 /dev/sg4 --interval 0.1 --json  # events until SIGINT/SIGTERM
    pr-native exporter --listen 127.0.0.1:9739 /dev/sg3 /dev/sg4  # Prometheus /metrics

PR IN: ``read-keys``, ``read-reservation``, ``report-capabilities``,
``read-full-status`` (``--hex``: the raw response bytes too; ``--read-only``
opens the node O_RDONLY).  PR OUT: ``register``, ``register-ignore``,
``unregister``, ``reserve``, ``release``, ``clear``, ``preempt``,
``preempt-abort``, ``register-move``, ``replace-lost`` (``--dry-run``: print
the CDB and parameter list and send nothing; the device is not opened).
A PR OUT is sent once, never repeated.  A device-mapper multipath node
(``/dev/mapper/NAME``) is handled path by path (``pr_native.multipath``);
``paths`` lists its paths with their state and registration.

Keys are hex, with or without ``0x``, as sg_persist reads them.  ``--type``
is a number (1, 3, 5-8), a name (``write-exclusive-registrants-only``, ``EXCLUSIVE_ACCESS``) or an
abbreviation: WE, EA, WE_RO, EA_RO, WE_AR, EA_AR.  ``--transport-id`` takes
sg_persist's forms (``sas,5001405000000001``, ``iqn.…,i,0x<ISID>``, hex bytes).

Exit status is sg3_utils': 0 success, 1 bad arguments (nothing sent),
2 not ready, 5 illegal request, 6 unit attention, 9 invalid opcode,
19 invalid field in parameter list, 24 reservation conflict, 33 timeout,
35 transport error, 50 + errno for an OS error (e.g. 52: no such device),
97 malformed response, 99 other (see ``pr_native.exit_codes``).  A failure
prints one line on stderr with the decoded sense; ``-v`` adds the CDB, the
status bytes and the raw sense.

JSON (``--json``, every command): one object per line; schema version 1:

    {"schema_version": 1, "command": "read-keys", "device": "/dev/sg3",
     "ok": true, "exit_code": 0, "result": {...}, "error": null}

``result`` per command: read-keys ``{"generation", "keys": ["0x…16 hex"]}``;
read-reservation ``{"generation", "reservation": null | {"key", "type",
"type_code", "scope"}}``; report-capabilities (every bit by name,
``allow_commands``, ``type_mask``, ``supported_types``); read-full-status
``{"generation", "registrants": [{"key", "holder", "all_target_ports",
"relative_target_port", "scope", "type", "type_code", "transport_id":
{"protocol", "text", "hex"}}]}``; with ``--hex`` also ``"raw"`` (hex string).
PR OUT: ``{"service_action", "cdb", "parameters", "sent"}`` (hex strings;
``sent`` false for ``--dry-run``).  ``error`` (when ``ok`` is false):
``{"type", "message", "exit_code", "exit_meaning", "command", "cdb",
"status", "status_name", "host_status", "driver_status", "sense_data",
"sense": {"sense_key", "asc", "ascq", "description", "information"}}``
(``errno`` instead of the SCSI fields for an OS error).  ``watch`` prints
events; docs/cli-json.md has the whole schema.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from . import _json, _validate
from ._out_request import OutRequest
from ._record import TYPE_CHECKING
from .constants import SENDABLE_TYPES, PRInAction, PROutAction, ReservationType
from .device import Device
from .errors import OutcomeUnknown, PartialRegistration, PRError, ReservationConflict
from .exit_codes import ExitCode, exit_code, meaning
from .transport_id import TransportID

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn

PROG = "pr-native"

# SPC's abbreviations of the reservation types.
TYPE_ALIASES = {
    "WE": ReservationType.WRITE_EXCLUSIVE,
    "EA": ReservationType.EXCLUSIVE_ACCESS,
    "WE_RO": ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY,
    "EA_RO": ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY,
    "WE_AR": ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS,
    "EA_AR": ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS,
}


class UsageError(Exception):
    """Bad command-line arguments: exit 1 (SG_LIB_SYNTAX_ERROR), nothing sent."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter: descriptions as written (lists keep their lines),
    every option's default shown, and told the width (left to itself it
    imports shutil, and with it bz2 and lzma, at the first add_argument())."""

    def __init__(self, prog: str) -> None:
        try:
            columns = os.get_terminal_size(sys.stderr.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = int(os.environ.get("COLUMNS", "80") or 80)
        super().__init__(prog, width=max(columns - 2, 40))

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            text
            and "(default" not in text
            and default not in (None, False, argparse.SUPPRESS)
            and action.option_strings
        ):
            text += f" (default: {default})"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.SYNTAX_ERROR, f"{self.prog}: error: {message}\n")


# -- argument types ---------------------------------------------------------


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
KEY_HELP = "hex, 0x optional, as sg_persist reads keys"


def parse_key(text: str) -> int:
    """A reservation key in hex, with or without ``0x``, as sg_persist,
    mpathpersist and fence_scsi read keys: 1 to 16 hex digits."""
    digits = text.strip()
    if digits[:2] in ("0x", "0X"):
        digits = digits[2:]
    if not digits or len(digits) > 16 or not _HEX_DIGITS.issuperset(digits):
        raise argparse.ArgumentTypeError(
            f"not a key: {text!r} (1 to 16 hex digits, 0x optional: keys are hex)"
        )
    return int(digits, 16)


def parse_type(text: str) -> ReservationType:
    """A reservation type by number, name or abbreviation."""
    name = text.strip().upper().replace("-", "_")
    try:
        value: int = int(text, 0)
    except ValueError:
        if name in TYPE_ALIASES:
            return TYPE_ALIASES[name]
        if name in ReservationType.__members__:
            value = ReservationType[name]
        else:
            raise argparse.ArgumentTypeError(
                f"unknown reservation type {text!r}: use 1, 3, 5-8, a name such as "
                f"write-exclusive-registrants-only, or one of {', '.join(TYPE_ALIASES)}"
            ) from None
    if value not in SENDABLE_TYPES:
        raise argparse.ArgumentTypeError(f"not a reservation type: {text!r}")
    return ReservationType(value)


def parse_transport_id(text: str) -> TransportID:
    try:
        return TransportID.parse(text)
    except (ValueError, TypeError) as error:
        raise argparse.ArgumentTypeError(f"bad transport id {text!r}: {error}") from None


def parse_port(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"relative target port must be 0 .. 65535: {text!r}")
    return value


def parse_seconds(text: str) -> float:
    try:
        value = float(text)
        _validate.timeout_ms(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds > 0: {text!r}") from None
    return value


# -- output -----------------------------------------------------------------


class Output:
    """Where and how a command reports: JSON lines or text, and verbosity."""

    def __init__(self, json: bool, verbose: int, command: str, device: str | None) -> None:
        self.json = json
        self.verbose = verbose
        self.command = command
        self.device = device

    def emit(self, data: dict[str, Any]) -> None:
        print(json.dumps(data, sort_keys=False), flush=True)

    def success(self, result: dict[str, Any] | None, text: list[str], **extra: Any) -> int:
        if self.json:
            self.emit(
                _json.envelope(
                    self.command,
                    self.device,
                    **extra,
                    ok=True,
                    exit_code=0,
                    result=result,
                    error=None,
                )
            )
        else:
            for line in text:
                print(line)
        return ExitCode.OK

    def failure(self, error: BaseException) -> int:
        code = exit_code(error)
        if self.json:
            self.emit(
                _json.envelope(
                    self.command,
                    self.device,
                    ok=False,
                    exit_code=code,
                    result=None,
                    error=_json.error(error),
                )
            )
        else:
            print(f"{PROG} {self.command}: {describe_error(error)}", file=sys.stderr)
            hint = getattr(error, "hint", None)
            if hint:
                print(f"  hint: {hint}", file=sys.stderr)
            if self.verbose and isinstance(error, PRError):
                print("\n".join(error.details().splitlines()[1:]), file=sys.stderr)
                parameters = getattr(error, "parameters", b"")
                if parameters:
                    print(f"  parameter list: {parameters.hex(' ')}", file=sys.stderr)
        return code


def describe_error(error: BaseException) -> str:
    """One line: what failed, the decoded sense, and the exit status meaning."""
    code = exit_code(error)
    text = str(error)
    if isinstance(error, PRError) and error.__cause__ is not None:
        text += f" (cause: {error.__cause__})"
    return f"{text} [exit {code}: {meaning(code)}]"


# -- PR IN ------------------------------------------------------------------

_IN_ACTIONS = {
    "read-keys": PRInAction.READ_KEYS,
    "read-reservation": PRInAction.READ_RESERVATION,
    "report-capabilities": PRInAction.REPORT_CAPABILITIES,
    "read-full-status": PRInAction.READ_FULL_STATUS,
}
_IN_HELP = {
    "read-keys": "READ KEYS: the PR generation and every registered key",
    "read-reservation": "READ RESERVATION: the reservation, if any",
    "report-capabilities": "REPORT CAPABILITIES: supported PR features and types",
    "read-full-status": "READ FULL STATUS: every registration with its initiator port",
}
# By name: a MultipathDevice has the same readers.
_READERS: dict[PRInAction, str] = {
    PRInAction.READ_KEYS: "read_keys",
    PRInAction.READ_RESERVATION: "read_reservation",
    PRInAction.REPORT_CAPABILITIES: "report_capabilities",
    PRInAction.READ_FULL_STATUS: "read_full_status",
}
_TO_JSON: dict[PRInAction, Callable[[Any], dict[str, Any]]] = {
    PRInAction.READ_KEYS: _json.registrations,
    PRInAction.READ_RESERVATION: _json.reservation_status,
    PRInAction.REPORT_CAPABILITIES: _json.capabilities,
    PRInAction.READ_FULL_STATUS: _json.full_status,
}


def _text(action: PRInAction, result: Any) -> list[str]:
    key = "0x{:x}".format
    if action == PRInAction.READ_KEYS:
        head = f"PR generation 0x{result.generation:x}, {len(result.keys)} registered key(s)"
        return [head + (":" if result.keys else ""), *(f"  {key(k)}" for k in result.keys)]
    if action == PRInAction.READ_RESERVATION:
        held = result.reservation
        head = f"PR generation 0x{result.generation:x}, "
        if held is None:
            return [head + "no reservation"]
        return [
            head + f"reservation held with key {key(held.key)}",
            f"  type: {held.type.name} ({int(held.type)}), scope: {held.scope.name}",
        ]
    if action == PRInAction.REPORT_CAPABILITIES:
        data = _json.capabilities(result)
        return [f"{name}: {value}" for name, value in data.items()]
    lines = [f"PR generation 0x{result.generation:x}, {len(result.registrants)} registrant(s)"]
    for r in result.registrants:
        holder = f", holds {r.type.name} ({int(r.type)})" if r.holder else ""
        ports = "all target ports" if r.all_target_ports else f"port {r.relative_target_port}"
        lines.append(f"  {key(r.key)}: {r.transport_id} via {ports}{holder}")
    return lines


def _identity_text(ident: Any) -> list[str]:
    kind = f"{ident.peripheral_type.name} ({int(ident.peripheral_type)})"
    lines = [
        " ".join(t for t in (ident.vendor, ident.product, ident.revision) if t) + f", {kind}",
        f"  serial number: {ident.serial}",
        f"  lu_name: {ident.lu_name}",
        f"  relative target port: {ident.relative_target_port}",
        f"  designators ({len(ident.designators)}):",
    ]
    if ident.source != "inquiry":
        lines.insert(1, f"  from: {ident.source} (no SCSI pass-through)")
    for d in ident.designators:
        where = d.association.name.lower().replace("_", " ")
        if d.protocol_identifier is not None:
            where += f" ({d.protocol_identifier.name})"
        lines.append(f"    {d.type.name}, {where}: {d}")
    return lines


def _run_identify(args: argparse.Namespace, out: Output) -> int:
    """``identify``: INQUIRY and VPD 00h, 80h, 83h; changes nothing."""
    # Through a multipath node too: INQUIRY goes down one path, the LU is the same.
    with Device(
        args.device, timeout=args.timeout, read_only=args.read_only, transport=args.transport
    ) as device:
        ident = device.identify()
    return out.success(_json.identity(ident), _identity_text(ident))


def _lu_name(device: Any) -> str | None:
    """The ``lu_name`` of the logical unit a PR IN was read from
    (``identify()``; the one name a multipath node's paths share), or None
    when it cannot be read: the PR IN's output does not fail for it."""
    try:
        if isinstance(device, Device):
            return device.identify().lu_name
        names = {p.lu_name for p in device.paths() if p.lu_name is not None}
        return names.pop() if len(names) == 1 else None
    except (PRError, OSError):
        return None


def _run_in(args: argparse.Namespace, out: Output) -> int:
    action = _IN_ACTIONS[args.command]
    lu_name = None
    with _open(args) as device:
        if args.hex:
            result, raw = device._read_with_response(action)
        else:
            raw, result = b"", getattr(device, _READERS[action])()
        if out.json:  # INQUIRY after the PR IN: it neither reports nor clears a unit attention
            lu_name = _lu_name(device)
    data = _TO_JSON[action](result)
    text = _text(action, result)
    if args.hex:
        data["raw"] = raw.hex()
        from ._sgtext import hex_lines

        text += ["response bytes:", *hex_lines(raw, 0)]
    return out.success(data, text, lu_name=lu_name)


def _open(args: argparse.Namespace) -> Device:
    """The device to send to: a MultipathDevice for a device-mapper
    multipath node (every path its own I_T nexus), else a Device."""
    from . import multipath

    if multipath.is_multipath(args.device):
        # Device's methods, path by path: the same calls work on it.
        return multipath.MultipathDevice(  # type: ignore[return-value]
            args.device, timeout=args.timeout, read_only=getattr(args, "read_only", False)
        )
    return Device(
        args.device,
        timeout=args.timeout,
        read_only=getattr(args, "read_only", False),
        transport=args.transport,
    )


# -- PR OUT -----------------------------------------------------------------


def _request(args: argparse.Namespace) -> OutRequest:
    """The PR OUT a subcommand asks for; UsageError for a missing option."""
    command, tids = args.command, tuple(getattr(args, "transport_id", None) or ())
    if command in ("reserve", "release", "replace-lost"):
        action = {
            "reserve": PROutAction.RESERVE,
            "release": PROutAction.RELEASE,
            "replace-lost": PROutAction.REPLACE_LOST_RESERVATION,
        }[command]
        return OutRequest(action, key=args.key, type=args.type)
    if command in ("preempt", "preempt-abort"):
        action = PROutAction.PREEMPT if command == "preempt" else PROutAction.PREEMPT_AND_ABORT
        return OutRequest(action, args.key, args.preempt_key, args.type)
    if command in ("clear", "unregister"):
        action = PROutAction.CLEAR if command == "clear" else PROutAction.REGISTER
        return OutRequest(action, key=args.key)
    if command == "register":
        return OutRequest(
            PROutAction.REGISTER,
            key=args.key,
            service_action_key=args.new_key,
            aptpl=args.aptpl,
            all_target_ports=args.all_target_ports,
            transport_ids=tids,
        )
    if command == "register-ignore":
        return OutRequest(
            PROutAction.REGISTER_AND_IGNORE_EXISTING_KEY,
            service_action_key=args.new_key,
            aptpl=args.aptpl,
            all_target_ports=args.all_target_ports,
        )
    if len(tids) != 1:
        raise UsageError("register-move needs exactly one --transport-id")
    if args.new_key == 0:
        raise UsageError("register-move: --new-key must not be 0 (SPC-4 6.16.4)")
    return OutRequest(
        PROutAction.REGISTER_AND_MOVE,
        key=args.key,
        service_action_key=args.new_key,
        type=args.type,
        aptpl=args.aptpl,
        unregister=args.unregister,
        relative_target_port=args.relative_target_port,
        transport_ids=tids,
    )


def _run_out(args: argparse.Namespace, out: Output) -> int:
    request = _request(args)
    parameters = request.parameters()
    cdb_bytes = request.cdb(parameters)
    data = {
        "service_action": request.action.name,
        "cdb": cdb_bytes.hex(),
        "parameters": parameters.hex(),
        "sent": not args.dry_run,
    }
    name = request.action.name.replace("_", " ")
    listing = [
        f"CDB: {cdb_bytes.hex(' ')}",
        f"parameter list ({len(parameters)} bytes): {parameters.hex(' ')}",
    ]
    if args.dry_run:
        return out.success(data, [f"PERSISTENT RESERVE OUT ({name}), not sent:", *listing])
    with _open(args) as device:
        try:
            request.send(device)
        except PRError as error:
            error.hint = _hint(request, error, device)  # type: ignore[attr-defined]
            error.parameters = parameters  # type: ignore[attr-defined]
            raise
        text = [f"PERSISTENT RESERVE OUT ({name}): done"]
        if not isinstance(device, Device):  # a multipath node: say where it stands per path
            try:
                data["paths"], lines = _path_table(device.read_full_status())
            except (PRError, OSError) as error:
                data["paths"], lines = None, [f"per-path state unknown: {describe_error(error)}"]
            text += lines
    return out.success(data, text + (listing if args.verbose else []))


def _path_table(status: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """A MultipathFullStatus's per-path table: JSON rows and text lines."""
    rows, lines = [], []
    for entry in status.paths:
        p, registered = entry.path, entry.registered
        port = p.initiator_port
        rows.append(
            {
                "block_device": p.block_device,
                "sg_node": p.sg_node,
                "dev": p.dev,
                "state": p.state,
                "group": p.group,
                "group_state": p.group_state,
                "fail_count": p.fail_count,
                "lu_name": p.lu_name,
                "initiator_port": None if port is None else _json.transport_id(port),
                "relative_target_port": p.relative_target_port,
                "registered": registered,
                "key": None if entry.key is None else _json.key(entry.key),
                "holder": entry.holder,
            }
        )
        if registered is None:
            verdict = "registration unknown"
        elif registered:
            verdict = f"registered 0x{entry.key:x}" + (", holder" if entry.holder else "")
        else:
            verdict = "not registered"
        nexus = "initiator port unknown" if port is None else f"{port}"
        if p.relative_target_port is not None:
            nexus += f" via target port {p.relative_target_port}"
        state = {"A": "active", "F": "failed"}.get(p.state, p.state)
        lines.append(
            f"  {p.block_device} ({p.sg_node or 'no sg node'}, {p.dev}) {state}, group "
            f"{p.group} ({p.group_state}), {nexus}: {verdict}"
            + ("" if p.lu_name else " [did not answer INQUIRY: never sent a PR OUT]")
        )
    return rows, lines


def _run_paths(args: argparse.Namespace, out: Output) -> int:
    """``paths``: each path of a multipath node, and its registration."""
    from . import multipath

    with multipath.MultipathDevice(args.device, timeout=args.timeout) as device:
        status = device.read_full_status()
    rows, lines = _path_table(status)
    head = f"{args.device}: {len(rows)} path(s), PR generation 0x{status.generation:x}"
    return out.success({"generation": status.generation, "paths": rows}, [head, *lines])


def _hint(request: OutRequest, error: PRError, device: Device) -> str | None:
    """A line for the refusals people meet most, or None."""
    sense = error.sense
    if (
        request.action == PROutAction.RESERVE
        and sense is not None
        and (sense.asc, sense.ascq) == (8, 0)
    ):
        # LIO answers a RESERVE from an unregistered I_T nexus with 02/08/00.
        return (
            f"is this initiator registered? {_registered_keys(device)} (LIO answers an "
            "unregistered RESERVE with this NOT READY; read-reservation shows it did not run)"
        )
    if isinstance(error, OutcomeUnknown):
        return "the command may have run: read the state (read-full-status) before acting"
    if isinstance(error, PartialRegistration):
        return f"each path's registration now: {PROG} paths {device.path}"
    a = PROutAction
    if isinstance(error, ReservationConflict) and request.action in (
        a.PREEMPT,
        a.PREEMPT_AND_ABORT,
    ):
        return (
            "is this initiator registered with --key, and is the key you preempt "
            f"registered? {_registered_keys(device)}"
        )
    if isinstance(error, ReservationConflict):
        return (
            "is this initiator registered with that --key (another initiator's key does "
            f"not count: keys belong to I_T nexuses)? {_registered_keys(device)}"
        )
    return None


def _registered_keys(device: Device) -> str:
    """What READ KEYS says now (a PR IN: it changes nothing)."""
    try:
        keys = device.read_keys().keys
    except (PRError, OSError) as error:
        return f"(READ KEYS failed too: {error})"
    if not keys:
        return "no key is registered"
    return "registered keys: " + ", ".join(f"0x{k:x}" for k in keys)


_OUT_HELP = {
    "register": "REGISTER: register --new-key for this initiator, or change its key",
    "register-ignore": "REGISTER AND IGNORE EXISTING KEY: set this initiator's key",
    "unregister": "REGISTER with new key 0: remove this initiator's registration",
    "reserve": "RESERVE: take the reservation with this initiator's key",
    "release": "RELEASE the reservation (a registered non-holder's RELEASE succeeds "
    "and changes nothing, SPC-4 5.13.11.2)",
    "clear": "CLEAR: remove the reservation and EVERY registration of the LU",
    "preempt": "PREEMPT: remove the victim's registrations (and take its reservation)",
    "preempt-abort": "PREEMPT AND ABORT: as preempt, and abort the victim's tasks",
    "register-move": "REGISTER AND MOVE the reservation to another initiator port",
    "replace-lost": "REPLACE LOST RESERVATION (SPC-5)",
}


# -- the parser -------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "device",
        help="/dev/sgN (preferred), /dev/sdX, a multipath node (/dev/mapper/NAME: path by "
        "path); \\\\.\\PhysicalDriveN on Windows",
    )
    parser.add_argument(
        "--json", action="store_true", help="JSON output (schema_version 1: docs/cli-json.md)"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="on errors also the CDB, the parameter list, the status bytes and the raw sense",
    )
    parser.add_argument(
        "--timeout",
        type=parse_seconds,
        default=30.0,
        help="seconds per command, as the SCSI layer counts them: not a wall-clock "
        "limit (an iSCSI session in recovery holds commands for its replacement "
        "timeout; on /dev/sgN the wait still ends one second after it)",
    )
    if sys.platform == "win32":
        parser.add_argument(
            "--transport",
            choices=("auto", "storage-ioctl", "pass-through"),
            default="auto",
            help="how commands travel (the README's Windows section)",
        )
    else:
        parser.set_defaults(transport="auto")


TYPE_HELP = (
    "1, 3, 5-8, a name (write-exclusive-registrants-only, EXCLUSIVE_ACCESS, ...) "
    f"or {', '.join(a.lower().replace('_', '-') for a in TYPE_ALIASES)}"
)

# Each PR OUT subcommand's options: (flags, required, keyword arguments).
_KEY = ("--key", {"type": parse_key, "help": f"this initiator's reservation key ({KEY_HELP})"})
_NEW_KEY = ("--new-key", {"type": parse_key, "help": f"the key to register ({KEY_HELP})"})
_TYPE = ("--type", {"type": parse_type, "help": f"reservation type: {TYPE_HELP}"})
_APTPL = ("--aptpl", {"action": "store_true", "help": "persist through power loss (APTPL)"})
_ALL_PORTS = (
    "--all-target-ports",
    {"action": "store_true", "help": "ALL_TG_PT: register on every target port"},
)
_OUT_OPTIONS: dict[str, list[tuple[tuple[str, dict[str, Any]], bool]]] = {
    "register": [
        (
            (
                "--key",
                {
                    "type": parse_key,
                    "default": 0,
                    "help": f"the key registered now, 0 if none ({KEY_HELP})",
                },
            ),
            False,
        ),
        (_NEW_KEY, True),
        (_APTPL, False),
        (_ALL_PORTS, False),
        (
            (
                "--transport-id",
                {
                    "action": "append",
                    "type": parse_transport_id,
                    "help": "SPEC_I_PT: also register this initiator port (repeatable; "
                    "sg_persist's forms: sas,<hex>, iqn....[,i,0x<ISID>], hex bytes)",
                },
            ),
            False,
        ),
    ],
    "register-ignore": [(_NEW_KEY, True), (_APTPL, False), (_ALL_PORTS, False)],
    "unregister": [(_KEY, True)],
    "reserve": [(_KEY, True), (_TYPE, True)],
    "release": [(_KEY, True), ((_TYPE[0], {**_TYPE[1], "help": "the reservation's type"}), True)],
    "clear": [(_KEY, True)],
    "preempt": [
        (_KEY, True),
        (("--preempt-key", {"type": parse_key, "help": f"the victim's key ({KEY_HELP})"}), True),
        (_TYPE, True),
    ],
    "replace-lost": [(_KEY, True), (_TYPE, True)],
    "register-move": [
        (_KEY, True),
        (("--new-key", {**_NEW_KEY[1], "help": "the key registered for the target nexus"}), True),
        (
            (
                "--transport-id",
                {
                    "action": "append",
                    "type": parse_transport_id,
                    "help": "the initiator port that receives the reservation (once; "
                    "sg_persist's forms)",
                },
            ),
            True,
        ),
        (
            (
                "--relative-target-port",
                {
                    "type": parse_port,
                    "help": "RELATIVE TARGET PORT IDENTIFIER of the target nexus "
                    "(read-full-status shows it)",
                },
            ),
            True,
        ),
        (
            (
                "--type",
                {"type": parse_type, "help": f"type of the reservation moved: {TYPE_HELP}"},
            ),
            False,
        ),
        (
            ("--unregister", {"action": "store_true", "help": "UNREG: drop this registration"}),
            False,
        ),
        (_APTPL, False),
    ],
}
_OUT_OPTIONS["preempt-abort"] = _OUT_OPTIONS["preempt"]


def build_parser(wanted: str | None = None) -> argparse.ArgumentParser:
    """The parser; ``wanted`` names the command about to run (None: all of
    them in full, as --help shows them)."""
    parser = _Parser(
        prog=PROG,
        description="SCSI-3 Persistent Reservations (PERSISTENT RESERVE IN/OUT).\n\n"
        f"Keys are hex ({KEY_HELP}).  A PR OUT is sent once, never repeated.",
        epilog="pr-native sg-persist [sg_persist options] DEVICE: sg_persist's "
        "options, output and exit codes.",
    )
    parser.add_argument("--version", action="store_true", help="print the version")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in _IN_HELP.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _common(sub)
        sub.add_argument("--hex", action="store_true", help="also the raw response bytes")
        sub.add_argument(
            "--read-only", action="store_true", help="open the device O_RDONLY (PR IN only)"
        )
        sub.set_defaults(run=_run_in)
    identify_help = "INQUIRY: which logical unit this is (lu_name, serial, designators)"
    sub = commands.add_parser("identify", help=identify_help, description=identify_help)
    _common(sub)
    sub.add_argument("--read-only", action="store_true", help="open the device O_RDONLY (Linux)")
    sub.set_defaults(run=_run_identify)
    for name, help_text in _OUT_HELP.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _common(sub)
        for (flag, options), required in _OUT_OPTIONS[name]:
            sub.add_argument(flag, required=required, **options)
        sub.add_argument(
            "--dry-run", action="store_true", help="print the CDB and parameter list, send nothing"
        )
        sub.set_defaults(run=_run_out)
    paths_help = "each path of a device-mapper multipath node: its state and registration"
    sub = commands.add_parser("paths", help=paths_help, description=paths_help)
    _common(sub)
    sub.set_defaults(run=_run_paths)
    _add_extra_commands(commands, wanted)
    return parser


# The monitoring commands' modules load only when one of them runs (or for
# --help): reading keys must not pay for the exporter's or watch's imports.
_MONITORS = {
    "watch": "print reservation changes and unit attentions until interrupted",
    "exporter": "Prometheus metrics of the PR state (needs pr_native[exporter])",
}
# The conformance run loads the same way.
_SELFTEST = {
    "selftest": "DESTRUCTIVE: SPC conformance run of PR on your own LU through 2-3 of its "
    "I_T nexuses (needs --yes; exit 4: departures)",
}


def _add_extra_commands(commands: Any, wanted: str | None) -> None:
    commands.add_parser(
        "sg-persist",
        help="sg_persist compatibility: its options, text output and exit codes",
        add_help=False,
    )
    for name, help_text in {**_MONITORS, **_SELFTEST}.items():
        if wanted in (name, None):
            from importlib import import_module

            import_module(f".{name}", __package__).add_parser(commands, help_text)
        else:
            commands.add_parser(name, help=help_text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from ._stdout import guarded

    with guarded():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["sg-persist"]:
        from . import sg_persist_cli

        return sg_persist_cli.main(arguments[1:])
    helping = not arguments or any(a in ("-h", "--help") for a in arguments)
    parser = build_parser(None if helping else arguments[0])
    try:
        args = parser.parse_args(arguments)
    except SystemExit as stop:  # --help, or a bad argument (exit 1)
        return stop.code if isinstance(stop.code, int) else ExitCode.SYNTAX_ERROR
    if args.version:
        from . import __version__

        print(f"{PROG} {__version__}")
        return ExitCode.OK
    if args.command is None:
        parser.print_help(sys.stderr)
        return ExitCode.SYNTAX_ERROR
    out = Output(args.json, args.verbose, args.command, getattr(args, "device", None))
    try:
        return int(args.run(args, out))
    except UsageError as error:
        print(f"{PROG} {args.command}: {error}", file=sys.stderr)
        return ExitCode.SYNTAX_ERROR
    except (PRError, OSError, ValueError, TypeError) as error:
        return out.failure(error)
    except KeyboardInterrupt:
        return 130
