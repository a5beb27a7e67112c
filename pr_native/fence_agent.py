"""``fence_pr_native``: a fence agent for Pacemaker and the fence-agents
protocol, a drop-in for ``fence_scsi`` built on ``pr_native.fencing``.

It takes fence_scsi's options with the same names, defaults and meaning,
as ``--long-options`` (and fence_scsi's short ones) or as ``name=value``
lines on standard input, so that ``stonith:fence_scsi`` becomes
``stonith:fence_pr_native`` and nothing else changes::

    fence_pr_native --devices=/dev/sdb,/dev/sdc --plug=node1 --action=on
    echo -e "devices=/dev/sdb\\nplug=node2\\naction=off" | fence_pr_native

Actions (exit status 0 success, 1 failure, 2 for ``status`` of a node that
is off):

- ``on``: unfence this node (``fencing.unfence`` with ``after_fenced``: the
  cluster lets it back in), keeping its key in the key store
  (``STORE.key``) and its devices in ``STORE.dev``, as fence_scsi does, and
  (its own addition) ``STORE.lu``: the logical units (``lu_name``) its key
  was verified registered on, one ``key lu_name`` line each, passed as
  ``registered_on`` to the next unfence, so that a node fenced since is
  known as fenced even after a monitor's PR IN consumed the REGISTRATIONS
  PREEMPTED unit attention (the log then says so);
- ``off``: fence the node ``--plug`` names (``fencing.fence``, PREEMPT AND
  ABORT with this node's key from the key store); ``reboot`` is ``off``: a
  fabric-fenced node lets itself back in with ``on`` when it rejoins;
- ``status``: ON while the node's key is registered on a device;
- ``monitor``: every device answers, this node's key is registered through
  every path of each, and each holds a reservation;
- ``list``: the cluster's node names (corosync), ``metadata``,
  ``validate-all``.

Keys are fence_scsi's: ``--key`` in hex, else from the node name
(``--key-value=hash``: ``fencing.node_key``) or the node's position in
corosync's nodelist (``id``, the default: ``fencing.node_id_key``), with the
cluster name from ``corosync-cmapctl``.  ``STORE`` is the installed
fence_scsi's own (its ``STORE_PATH``), so that fence_scsi, its watchdog
``fence_scsi_check`` and this agent share one key store; without
fence_scsi it is ``/var/run/cluster/fence_scsi``; ``--store-path`` changes it.

Differences from fence_scsi, each on purpose: every operation is verified
and idempotent (``pr_native.fencing``), so a repeated ``on`` sends nothing;
a ``/dev/sdX`` is reached through its ``/dev/sgN`` node, and ``/dev/sgN``
nodes are accepted too; ``off`` takes a reservation where the victim is gone
but none is held (fence_scsi reports a failure there); ``on`` removes the
key's registrations on I_T nexuses this node no longer has; ``reboot`` and
``list`` work; a boolean set to 0/no/off/false on standard input is off (in
fence-agents it is on); ``validate-all`` fails on a key or key-value that
can never work.  ``--sg_persist-path`` and ``--sg_turs-path`` are accepted
and unused: no program is run per command.
"""

from __future__ import annotations

import os
import sys
import time

from ._record import TYPE_CHECKING, Record

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

    from .fencing import Report

__all__ = [
    "ACTIONS",
    "AGENT",
    "DEFAULT_STORE",
    "EC_FAILED",
    "EC_OFF",
    "EC_OK",
    "OPTIONS",
    "Failed",
    "Option",
    "main",
    "metadata",
    "store_path",
    "stored_devices",
    "stored_key",
    "stored_registrations",
]

AGENT = "fence_pr_native"
"""The agent's name, as the metadata and Pacemaker know it."""
FENCE_SCSI = "/usr/sbin/fence_scsi"
DEFAULT_STORE = "/var/run/cluster/fence_scsi"
"""The key store without the installed fence_scsi to name its own."""
_NO_TIMEOUT = 60.0  # seconds for a whole operation when the timeout is disabled

EC_OK = 0
"""Exit status: the action succeeded (``status``: the node is on)."""
EC_FAILED = 1
"""Exit status: the action failed."""
EC_OFF = 2
"""Exit status of ``status`` for a node that is off."""

ACTIONS = (
    "on",
    "off",
    "reboot",
    "status",
    "monitor",
    "list",
    "metadata",
    "manpage",
    "validate-all",
)
"""Every action the agent carries out."""
# The actions the metadata advertises: fence_scsi's, so that Pacemaker treats
# both alike (reboot is carried out as off, list is not advertised).
_ADVERTISED = ("on", "off", "status", "monitor", "metadata", "manpage", "validate-all")

_TRUE = ("1", "yes", "on", "true")
_FALSE = ("0", "no", "off", "false")


class Option(Record):
    """One option as fence-agents describe it (fence_scsi's, with its defaults)."""

    __slots__ = ()

    getopt: str
    """Its short and long forms as the metadata's ``getopt mixed`` shows them."""
    default: str | None
    """The value when it is not given (None: none)."""
    required: str
    """The metadata's ``required``: ``"1"`` or ``"0"``."""
    content: str
    """The metadata's content type: string, boolean, integer, second."""
    order: int
    """Its place in the usage text and the metadata."""
    help: str
    """The usage line; empty for options only Pacemaker passes."""
    shortdesc: str
    """The metadata's description."""
    short: str = ""
    """Its short option where the metadata does not show it (``-H``: delay)."""

    @property
    def letter(self) -> str:
        """The short option: ``d`` for ``-d, --devices``."""
        shown = self.getopt[1] if self.getopt[:1] == "-" and self.getopt[1:2] != "-" else ""
        return self.short or shown

    @property
    def long(self) -> str:
        """The long option: ``devices`` for ``-d, --devices``."""
        return self.getopt.split("--", 1)[1].split("=", 1)[0]

    @property
    def takes_value(self) -> bool:
        """It takes a value (every content type but boolean)."""
        return self.content != "boolean"


OPTIONS: dict[str, Option] = {
    "action": Option(
        "-o, --action=[action]",
        "off",
        "1",
        "string",
        1,
        "Action: on, off (default), reboot, status, list, monitor, metadata or validate-all",
        "Fencing action",
    ),
    "aptpl": Option(
        "-a, --aptpl",
        None,
        "0",
        "boolean",
        1,
        "Use the APTPL flag for registrations",
        "Use the APTPL flag for registrations. This option is only used for the 'on' action.",
    ),
    "devices": Option(
        "-d, --devices=[devices]",
        None,
        "0",
        "string",
        1,
        "List of devices to use for current operation",
        "List of devices to use for current operation. Devices can be comma or space separated "
        "list of raw devices (eg. /dev/sdc, /dev/sg2) or multipath nodes. Each device must "
        "support SCSI-3 persistent reservations. Optional if cluster is configured with clvm or "
        "lvmlockd.",
    ),
    "key": Option(
        "-k, --key=[key]",
        None,
        "0",
        "string",
        1,
        "Key to use for the current operation",
        'Key to use for the current operation. This key should be unique to a node. For the "on" '
        'action, the key specifies the key use to register the local node. For the "off" action, '
        "this key specifies the key to be removed from the device(s).",
    ),
    "plug": Option(
        "-n, --plug=[nodename]",
        None,
        "1",
        "string",
        1,
        "Name of the node to be fenced",
        "Name of the node to be fenced. The node name is used to generate the key value used for "
        "the current operation. This option will be ignored when used with the -k option.",
    ),
    "nodename": Option(
        "--nodename",
        None,
        "0",
        "string",
        1,
        "",
        "",
    ),
    "readonly": Option(
        "--readonly",
        None,
        "0",
        "boolean",
        4,
        "Open DEVICE read-only.",
        "Open DEVICE read-only.",
    ),
    "suppress_errors": Option(
        "--suppress-errors",
        None,
        "0",
        "boolean",
        5,
        "Suppress error log.",
        "Error log suppression.",
    ),
    "logfile": Option(
        "-f, --logfile",
        None,
        "0",
        "string",
        6,
        "Log output (stdout and stderr) to file",
        "Log output (stdout and stderr) to file",
    ),
    "quiet": Option(
        "-q, --quiet",
        None,
        "0",
        "boolean",
        50,
        "Disable logging to stderr.",
        "Disable logging to stderr. Does not affect --verbose or --debug-file or logging to "
        "syslog.",
    ),
    "verbose": Option(
        "-v, --verbose",
        None,
        "0",
        "boolean",
        51,
        "Verbose mode.",
        "Verbose mode. Multiple -v flags can be stacked on the command line (e.g., -vvv) to "
        "increase verbosity.",
    ),
    "verbose_level": Option(
        "--verbose-level",
        None,
        "0",
        "integer",
        52,
        "Level of debugging detail in output.",
        "Level of debugging detail in output. Defaults to the number of --verbose flags specified "
        "on the command line, or to 1 if verbose=1 in a stonith device configuration (i.e., on "
        "stdin).",
    ),
    "debug_file": Option(
        "-D, --debug-file=[debugfile]",
        None,
        "0",
        "string",
        53,
        "Debugging to output file",
        "Write debug information to given file",
    ),
    "version": Option(
        "-V, --version",
        None,
        "0",
        "boolean",
        54,
        "Display version information and exit",
        "Display version information and exit",
    ),
    "help": Option(
        "-h, --help",
        None,
        "0",
        "boolean",
        55,
        "Display this help and exit",
        "Display help and exit",
    ),
    "plug_separator": Option(
        "--plug-separator=[char]",
        ",",
        "0",
        "string",
        100,
        "Separator for plug parameter when specifying more than 1 plug",
        "Separator for plug parameter when specifying more than 1 plug",
    ),
    "separator": Option(
        "-C, --separator=[char]",
        ",",
        "0",
        "string",
        100,
        "Separator for CSV created by 'list' operation",
        "Separator for CSV created by 'list' operation",
    ),
    "delay": Option(
        "--delay=[seconds]",
        "0",
        "0",
        "second",
        200,
        "Wait X seconds before fencing is started",
        "Wait X seconds before fencing is started",
        short="H",
    ),
    "disable_timeout": Option(
        "--disable-timeout=[true/false]",
        None,
        "0",
        "string",
        200,
        "Disable timeout (true/false) (default: true when run from Pacemaker 2.0+)",
        "Disable timeout (true/false) (default: true when run from Pacemaker 2.0+)",
    ),
    "login_timeout": Option(
        "--login-timeout=[seconds]",
        "5",
        "0",
        "second",
        200,
        "Wait X seconds for cmd prompt after login",
        "Wait X seconds for cmd prompt after login",
    ),
    "power_timeout": Option(
        "--power-timeout=[seconds]",
        "20",
        "0",
        "second",
        200,
        "Test X seconds for status change after ON/OFF",
        "Test X seconds for status change after ON/OFF (here: the time limit of the whole "
        "operation on every device)",
    ),
    "power_wait": Option(
        "--power-wait=[seconds]",
        "0",
        "0",
        "second",
        200,
        "Wait X seconds after issuing ON/OFF",
        "Wait X seconds after issuing ON/OFF",
    ),
    "shell_timeout": Option(
        "--shell-timeout=[seconds]",
        "3",
        "0",
        "second",
        200,
        "Wait X seconds for cmd prompt after issuing command",
        "Wait X seconds for cmd prompt after issuing command",
    ),
    "stonith_status_sleep": Option(
        "--stonith-status-sleep=[seconds]",
        "1",
        "0",
        "second",
        200,
        "Sleep X seconds between status calls during a STONITH action",
        "Sleep X seconds between status calls during a STONITH action",
    ),
    "retry_on": Option(
        "--retry-on=[attempts]",
        "1",
        "0",
        "integer",
        201,
        "Count of attempts to retry power on",
        "Count of attempts to retry power on",
    ),
    "corosync_cmap_path": Option(
        "--corosync-cmap-path=[path]",
        "/usr/sbin/corosync-cmapctl",
        "0",
        "string",
        300,
        "Path to corosync-cmapctl binary",
        "Path to corosync-cmapctl binary",
    ),
    "key_value": Option(
        "--key-value=<id|hash>",
        "id",
        "0",
        "string",
        300,
        "SCSI key node generation method",
        'Method used to generate the SCSI key. "id" (default) uses the positional ID from '
        '"corosync-cmactl nodelist" output which can get inconsistent when nodes are removed from '
        'cluster without full cluster restart. "hash" uses part of hash made out of node names '
        "which is not affected over time but there is theoretical chance that hashes can collide "
        "as size of SCSI key is quite limited.",
    ),
    "sg_persist_path": Option(
        "--sg_persist-path=[path]",
        "/usr/bin/sg_persist",
        "0",
        "string",
        300,
        "Path to sg_persist binary (accepted, unused)",
        "Path to sg_persist binary (accepted for fence_scsi's sake; unused)",
    ),
    "sg_turs_path": Option(
        "--sg_turs-path=[path]",
        "/usr/bin/sg_turs",
        "0",
        "string",
        300,
        "Path to sg_turs binary (accepted, unused)",
        "Path to sg_turs binary (accepted for fence_scsi's sake; unused)",
    ),
    "vgs_path": Option(
        "--vgs-path=[path]",
        "/sbin/vgs",
        "0",
        "string",
        300,
        "Path to vgs binary",
        "Path to vgs binary",
    ),
    "store_path": Option(
        "--store-path=[path]",
        None,
        "0",
        "string",
        300,
        "Key store: PATH.key and PATH.dev (default: fence_scsi's)",
        "Where the node's key (PATH.key) and devices (PATH.dev) are kept; default: the installed "
        "fence_scsi's store, else /var/run/cluster/fence_scsi.",
    ),
}
"""fence_scsi's options and the agent's own, by their names on standard input."""
# fence-agents' older names, accepted on standard input and listed in the
# metadata as deprecated.
_ALIASES = {"port": "plug", "debug": "debug_file", "suppress-errors": "suppress_errors"}
_OBSOLETES = {new: old for old, new in _ALIASES.items()}


class Failed(Exception):
    """Ends the agent with exit status 1 after logging the message."""


class _Log:
    """fence-agents' logging (stderr unless --quiet, the debug file, syslog
    for warnings and errors), without importing ``logging``."""

    def __init__(self) -> None:
        self.verbose = False
        self.quiet = False
        self.debug_file: TextIO | None = None

    def _line(self, level: str, message: str) -> str:
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        return f"{stamp},{int(now % 1 * 1000):03d} {level}: {message}"

    def _emit(self, level: str, message: str) -> None:
        line = self._line(level, message)
        if self.debug_file is not None:
            self.debug_file.write(line + "\n")
            self.debug_file.flush()
        if level == "DEBUG" and not self.verbose:
            return
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)
        if level in ("ERROR", "WARNING"):
            try:
                import syslog

                syslog.syslog(syslog.LOG_ERR if level == "ERROR" else syslog.LOG_WARNING, message)
            except ImportError:  # pragma: no cover - not POSIX
                pass

    def debug(self, message: str) -> None:
        self._emit("DEBUG", message)

    def warning(self, message: str) -> None:
        self._emit("WARNING", message)

    def error(self, message: str) -> None:
        self._emit("ERROR", message)


LOG = _Log()


# -- options ---------------------------------------------------------------------


def _by_long() -> dict[str, str]:
    return {option.long: name for name, option in OPTIONS.items()}


def _getopt(argv: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """GNU getopt's rules without importing getopt (and gettext, re): options
    and arguments in any order, ``--`` ends the options, ``-vv`` and ``-dX``
    clusters, ``--long=value`` or ``--long value``, a long option's unique
    prefix.  Returns (option name, value) pairs and the other arguments."""
    by_letter = {o.letter: name for name, o in OPTIONS.items() if o.letter}
    by_long = _by_long()
    found: list[tuple[str, str]] = []
    left: list[str] = []
    words = list(argv)
    while words:
        word = words.pop(0)
        if word == "--":
            left += words
            break
        if word.startswith("--"):
            text, has_value, value = word[2:].partition("=")
            matches = [n for n in by_long if n.startswith(text)]
            exact = text if text in by_long else matches[0] if len(matches) == 1 else None
            if exact is None:
                why = "not a unique prefix" if matches else "not recognized"
                raise Failed(f"Parse error: option --{text} {why}")
            name = by_long[exact]
            if OPTIONS[name].takes_value and not has_value:
                if not words:
                    raise Failed(f"Parse error: option --{exact} requires argument")
                value = words.pop(0)
            elif has_value and not OPTIONS[name].takes_value:
                raise Failed(f"Parse error: option --{exact} must not have an argument")
            found.append((name, value))
        elif word.startswith("-") and word != "-":
            letters = word[1:]
            while letters:
                letter, letters = letters[0], letters[1:]
                if letter not in by_letter:
                    raise Failed(f"Parse error: option -{letter} not recognized")
                name = by_letter[letter]
                value = ""
                if OPTIONS[name].takes_value:
                    if not letters and not words:
                        raise Failed(f"Parse error: option -{letter} requires argument")
                    value, letters = (letters or words.pop(0)), ""
                found.append((name, value))
        else:
            left.append(word)
    return found, left


def parse_arguments(argv: Sequence[str]) -> dict[str, str]:
    """fence-agents' command line: short and long options (GNU getopt), as
    ``{option name: value}``; a flag's value is ``"1"``; ``verbose`` counts."""
    entered, left = _getopt(argv)
    if left:
        LOG.warning(f"Unused arguments on command line: {left}")
    options: dict[str, str] = {}
    verbose = 0
    for name, value in entered:
        if name == "verbose":
            verbose += 1
        options[name] = value if OPTIONS[name].takes_value else "1"
    options.setdefault("verbose_level", str(verbose))
    return options


def parse_stdin(text: str) -> dict[str, str]:
    """fence-agents' standard input: ``name=value`` lines (``#`` comments,
    quotes around the value dropped); ``-`` and ``_`` are alike in names,
    and a flag is set by 1/yes/on/true and unset by 0/no/off/false."""
    by_long = _by_long()
    options: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        key = name.strip()
        found = next(
            (
                candidate
                for candidate in (key, key.replace("-", "_"), key.replace("_", "-"))
                if candidate in OPTIONS or candidate in by_long or candidate in _ALIASES
            ),
            None,
        )
        if found is None:
            LOG.warning(f"Parse error: Ignoring unknown option '{line}'")
            continue
        option = _ALIASES.get(found) or by_long.get(found) or found
        if OPTIONS[option].takes_value:
            options[option] = value
        elif value.lower() in _TRUE:
            options[option] = "1"
        elif value.lower() in _FALSE:
            options.pop(option, None)
        else:
            LOG.warning(f"Parse error: Ignoring option '{name}' because it does not have value")
    options.setdefault("verbose_level", "1" if "verbose" in options else "0")
    return options


def with_defaults(options: dict[str, str]) -> dict[str, str]:
    """Every option with a default gets it; the action is lower-case
    (``meta-data`` is ``metadata``, ``enable``/``disable`` are on/off)."""
    full = {name: o.default for name, o in OPTIONS.items() if o.default is not None}
    full.update(options)
    action = full["action"].lower()
    full["action"] = {"meta-data": "metadata", "enable": "on", "disable": "off"}.get(action, action)
    return full


# -- documentation --------------------------------------------------------------


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&apos;")
    )


_LONGDESC = (
    "fence_pr_native is an I/O fencing agent that uses SCSI-3 persistent reservations to "
    "control access to shared storage devices, a drop-in for fence_scsi with the same "
    "options, built on pr_native: every command is built and decoded by a small C core and "
    "sent once, every operation reads the state first, sends only what is missing and "
    "reads the state again to prove the result. Each node registers its own key through "
    'every path of every device; one node holds a "write exclusive, registrants only" '
    "reservation, so only registered nodes may write. Fencing a node removes its key with "
    "PREEMPT AND ABORT; the node registers again (on) when the cluster lets it rejoin. "
    "Registrations of a node's key through I_T nexuses it no longer has (an iSCSI session "
    "logged in again with a new ISID) are removed when it registers."
)


def metadata() -> str:
    """The fence-agents metadata XML."""
    lines = [
        '<?xml version="1.0" ?>',
        f'<resource-agent name="{AGENT}" '
        'shortdesc="Fence agent for SCSI persistent reservation (pr_native)" >',
        f"<longdesc>{_escape(_LONGDESC)}</longdesc>",
        "<vendor-url>https://github.com/pr-native/pr_native</vendor-url>",
        "<parameters>",
    ]
    # separator serves list, which fence_scsi does not advertise either
    entries = [(o.order, name, o) for name, o in OPTIONS.items() if o.help and name != "separator"]
    entries += [(OPTIONS[new].order, old, OPTIONS[new]) for old, new in _ALIASES.items()]
    for _, name, option in sorted(entries, key=lambda e: (e[0], e[1])):
        default = "" if option.default is None else f'default="{_escape(option.default)}" '
        if name in _ALIASES:
            extra = ' deprecated="1"'
        else:
            extra = f' obsoletes="{_OBSOLETES[name]}"' if name in _OBSOLETES else ""
        lines += [
            f'\t<parameter name="{name}" unique="0" required="{option.required}"{extra}>',
            f'\t\t<getopt mixed="{_escape(option.getopt)}" />',
            f'\t\t<content type="{option.content}" {default}/>',
            f'\t\t<shortdesc lang="en">{_escape(option.shortdesc)}</shortdesc>',
            "\t</parameter>",
        ]
    lines += ["</parameters>", "<actions>", '\t<action name="on" on_target="1" automatic="1"/>']
    lines += [f'\t<action name="{a}" />' for a in _ADVERTISED if a != "on"]
    lines += ["</actions>", "</resource-agent>"]
    return "\n".join(lines)


def usage() -> str:
    lines = ["Usage:", f"\t{AGENT} [options]", "Options:"]
    for option in sorted(OPTIONS.values(), key=lambda o: o.order):
        if option.help:
            lines.append(f"   {option.getopt:<30} {option.help}")
    return "\n".join(lines)


# -- keys, devices and the key store ----------------------------------------------


def parse_key(text: str) -> int:
    """A key as fence_scsi and sg_persist read it: hex, ``0x`` optional."""
    digits = text.strip().lower()
    digits = digits[2:] if digits.startswith("0x") else digits
    if not digits or len(digits) > 16 or any(c not in "0123456789abcdef" for c in digits):
        raise Failed(f"Failed: key {text!r} is not a reservation key (up to 16 hex digits)")
    key = int(digits, 16)
    if key == 0:
        raise Failed("Failed: key cannot be 0")
    return key


def _output(command: list[str], timeout: float) -> tuple[int, str]:
    """Run ``command`` (no input, standard error discarded): its exit status
    and standard output.  posix_spawn, not subprocess: the agent's start-up
    stays light.  OSError when it cannot be started or does not end."""
    import select
    import signal

    read_end, write_end = os.pipe()
    try:
        pid = os.posix_spawn(
            command[0],
            command,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, write_end, 1),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_CLOSE, read_end),
            ],
        )
    finally:
        os.close(write_end)
    chunks = []
    try:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise OSError(f"{command[0]} did not end within {timeout:.0f} s")
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
    status = os.waitpid(pid, 0)[1]
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def _cmapctl(options: dict[str, str], what: str) -> str:
    command = [options["corosync_cmap_path"], what]
    try:
        return _output(command, 20.0)[1]
    except OSError as error:
        raise Failed(f"Unable to run {' '.join(command)}: {error}") from None


def _cmap_values(out: str) -> list[tuple[str, str]]:
    """(key, value) of each ``key (str) = value`` line corosync-cmapctl prints."""
    found = []
    for line in out.split("\n")[:-1]:  # a value counts only with its newline
        key, sep, value = line.partition(" (str) = ")
        if sep and value and not any(c.isspace() for c in value):
            found.append((key, value))
    return found


def cluster_name(options: dict[str, str]) -> str:
    values = _cmap_values(_cmapctl(options, "totem.cluster_name"))
    if not values:
        raise Failed("Failed: cannot get cluster name")
    return values[0][1]


def node_position(options: dict[str, str], node: str) -> int:
    """The node's N in corosync's ``nodelist.node.N.name`` (else
    ``...N.ringX_addr``): fence_scsi's "id"."""
    values = _cmap_values(_cmapctl(options, "nodelist"))
    for wanted in (_is_name, _is_ring_address):
        for key, value in values:
            parts = key.split(".")
            if value == node and len(parts) > 1 and parts[-2].isdigit() and wanted(parts[-1]):
                return int(parts[-2])
    raise Failed("Failed: unable to parse output of corosync-cmapctl or node does not exist")


def _is_name(field: str) -> bool:
    return field == "name"


def _is_ring_address(field: str) -> bool:
    """``ring0_addr`` .. ``ring7_addr`` (fence_scsi's ``ring._addr``)."""
    return len(field) == len("ring0_addr") and field[:4] == "ring" and field[5:] == "_addr"


def target_key(options: dict[str, str]) -> int:
    """``--key``, else the key of ``--plug`` (``--key-value``)."""
    from . import fencing

    if options.get("key"):
        return parse_key(options["key"])
    node = options["plug"]
    if options["key_value"] == "hash":
        return fencing.node_key(cluster_name(options), node)
    return fencing.node_id_key(cluster_name(options), node_position(options, node))


def store_path(options: dict[str, str]) -> str:
    """The key store's path (without ``.key``/``.dev``): ``--store-path``,
    else the installed fence_scsi's ``STORE_PATH``, else DEFAULT_STORE."""
    if options.get("store_path"):
        return options["store_path"]
    try:
        with open(FENCE_SCSI, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return DEFAULT_STORE
    for line in head.splitlines():
        name, _, value = line.partition("=")
        value = value.strip()
        if name.strip() == "STORE_PATH" and len(value) > 2 and value[0] == value[-1] == '"':
            path = value[1:-1]
            if path.startswith("/"):
                return path
    return DEFAULT_STORE


def _write(path: str, text: str, mode: str) -> None:
    directory = os.path.dirname(path)
    try:
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(path, mode, encoding="utf-8") as f:
            f.write(text)
    except OSError:
        raise Failed(f'Failed: Cannot open file "{path}"') from None


def save_key(options: dict[str, str], key: int) -> None:
    _write(store_path(options) + ".key", f"{key:x}\n", "w")


def stored_key(options: dict[str, str]) -> int:
    """This node's key, as ``on`` kept it in ``STORE.key`` (``Failed`` without it)."""
    path = store_path(options) + ".key"
    try:
        with open(path, encoding="utf-8") as f:
            text = f.readline().strip()
    except OSError:
        raise Failed(f'Failed: Cannot open file "{path}"') from None
    return parse_key(text)


def save_registrations(options: dict[str, str], key: int, lu_names: Sequence[str]) -> None:
    """``STORE.lu``: the logical units ``on`` registered ``key`` on, these
    and only these (a device taken out of the configuration, or another key,
    leaves no line behind).  Written to a temporary file and renamed over
    the old one, so that a crash leaves the old list or the new one."""
    if not lu_names:
        return
    path = store_path(options) + ".lu"
    partial = f"{path}.{os.getpid()}.tmp"
    _write(partial, "".join(f"{key:x} {n}\n" for n in dict.fromkeys(lu_names)), "w")
    try:
        os.replace(partial, path)
    except OSError:
        raise Failed(f'Failed: Cannot open file "{path}"') from None


def stored_registrations(options: dict[str, str], key: int) -> list[str]:
    """The logical units ``STORE.lu`` says ``key`` was registered on (bytes
    that are not UTF-8 make their line match nothing)."""
    try:
        with open(store_path(options) + ".lu", encoding="utf-8", errors="replace") as f:
            lines = [line.split() for line in f]
    except OSError:
        return []
    return [fields[1] for fields in lines if len(fields) == 2 and fields[0] == f"{key:x}"]


def save_devices(options: dict[str, str], devices: Sequence[str]) -> None:
    path = store_path(options) + ".dev"
    try:
        with open(path, encoding="utf-8") as f:
            known = {line.strip() for line in f}
    except OSError:
        known = set()
    new = [d for d in dict.fromkeys(devices) if d not in known]
    if new:
        _write(path, "".join(d + "\n" for d in new), "a")


def stored_devices(options: dict[str, str]) -> list[str]:
    """The devices ``on`` kept in ``STORE.dev`` (``Failed`` without them)."""
    path = store_path(options) + ".dev"
    try:
        with open(path, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    except OSError:
        raise Failed(f'Failed: Cannot open file "{path}"') from None


def shared_devices(options: dict[str, str]) -> list[str]:
    """The physical volumes of shared volume groups (clvm, lvmlockd), as
    fence_scsi finds them when ``--devices`` is not given."""
    command = [
        options["vgs_path"],
        "--noheadings",
        "--separator",
        ":",
        "--sort",
        "pv_uuid",
        "--options",
        "vg_attr,pv_name",
        "--config",
        'global { locking_type = 0 } devices { preferred_names = [ "^/dev/dm" ] }',
    ]
    try:
        status, out = _output(command, 60.0)
    except OSError:
        raise Failed("Failed: Cannot get shared devices") from None
    if status:
        raise Failed("Failed: Cannot get shared devices")
    devices = []
    for line in out.splitlines():
        attr, _, pv = line.strip().partition(":")
        if len(attr) > 5 and attr[5] in "cs":
            devices.append(pv)
    return devices


def device_list(options: dict[str, str]) -> list[str]:
    text = options.get("devices", "")
    devices = [d for d in text.replace(",", " ").split() if d]
    if not devices and not text:
        devices = shared_devices(options)
    if not devices:
        raise Failed("Failed: No devices found")
    for device in devices:
        if not os.path.exists(device):
            raise Failed(f'Failed: device "{device}" does not exist')
    return devices


def operation_timeout(options: dict[str, str]) -> float:
    """``--power-timeout`` (seconds): the limit of the whole operation; with
    ``--disable-timeout`` (set by Pacemaker 2's fenced) the cluster's own."""
    disable = options.get("disable_timeout")
    service = os.environ.get("PCMK_service")  # noqa: SIM112 (Pacemaker's name)
    if disable is None and service == "pacemaker-fenced":
        disable = "1"
    seconds = _number(options, "power_timeout")
    if (disable or "").lower() in _TRUE or seconds <= 0:
        return _NO_TIMEOUT
    return seconds


def _number(options: dict[str, str], name: str) -> float:
    try:
        return float(options[name])
    except (KeyError, ValueError):
        raise Failed(
            f"Failed: The value you have entered for --{OPTIONS[name].long} is not a valid number"
        ) from None


# -- actions -------------------------------------------------------------------------


def _log_report(report: Report) -> None:
    for device in report.devices:
        for ua in device.unit_attentions:
            LOG.debug(f"{device.device}: unit attention {ua.condition} on {ua.path} ({ua.command})")
        for action in device.actions:
            LOG.debug(
                f"{device.device}: {action.command} on {action.path}: {action.outcome}"
                f" ({action.reason})"
            )
        for decision in device.decisions:
            LOG.debug(f"{device.device}: {decision}")
        if not device.ok:
            LOG.error(f"{device.device}: {device.verdict.value}: {device.error or ''}")


def action_on(options: dict[str, str], devices: list[str], key: int) -> int:
    from . import fencing

    save_key(options, key)
    attempts = 1 + max(0, int(_number(options, "retry_on")))
    for attempt in range(attempts):
        report = fencing.unfence(
            devices,
            key,
            aptpl="aptpl" in options,
            after_fenced=True,
            registered_on=stored_registrations(options, key),
            timeout=operation_timeout(options),
        )
        _log_report(report)
        save_devices(options, [d.device for d in report.devices if d.ok])
        save_registrations(
            options, key, [d.lu_name for d in report.devices if d.ok and d.lu_name is not None]
        )
        if report.ok:
            _power_wait(options)
            print("Success: Powered ON")
            return EC_OK
        if any(a.outcome == "unknown" for d in report.devices for a in d.actions):
            break  # a PR OUT may still run: never send it again, let the cluster decide
        if attempt + 1 < attempts:
            LOG.debug(f"on: attempt {attempt + 1} of {attempts} failed; reading the state again")
    bad = sum(not d.ok for d in report.devices)
    LOG.error(f"Failed to verify {bad} device(s)")
    return EC_FAILED


def _power_wait(options: dict[str, str]) -> None:
    wait = _number(options, "power_wait")
    if wait > 0:
        time.sleep(wait)


def _delay(options: dict[str, str], started: float) -> None:
    left = _number(options, "delay") - (time.monotonic() - started)
    if left > 0:
        LOG.debug(f"Delay {left:.0f} second(s) before fencing")
        time.sleep(left)


def action_off(options: dict[str, str], devices: list[str], victim: int, started: float) -> int:
    from . import fencing

    try:
        own = stored_key(options)
    except Failed:
        # fence_scsi reads the status first: a node already off is no error
        # without a key store either.
        report = fencing.status(devices, victim, timeout=operation_timeout(options))
        if all(d.before is not None and victim not in d.before.keys for d in report.devices):
            print("Success: Already OFF")
            return EC_OK
        raise
    if own == victim:
        raise Failed("Failed: keys cannot be same. You can not fence yourself.")
    _delay(options, started)
    report = fencing.fence(devices, own, victim, abort=True, timeout=operation_timeout(options))
    _log_report(report)
    if not report.ok:
        bad = sum(not d.ok for d in report.devices)
        LOG.error(f"Failed to verify {bad} device(s)")
        return EC_FAILED
    already = all(d.before is not None and victim not in d.before.keys for d in report.devices)
    _power_wait(options)
    if options["action"] == "reboot":
        print("Success: Rebooted")
    else:
        print("Success: Already OFF" if already else "Success: Powered OFF")
    return EC_OK


def action_status(options: dict[str, str], devices: list[str], key: int) -> int:
    """ON while ``key`` is registered on any device, through any I_T nexus
    (the node may be another one: its nexuses are not this host's)."""
    from . import fencing

    report = fencing.status(
        devices, key, read_only="readonly" in options, timeout=operation_timeout(options)
    )
    unread = [d for d in report.devices if d.before is None]
    for device in unread:
        LOG.error(f'Cannot get registration keys on device "{device.device}": {device.error}')
    if unread:
        return EC_FAILED
    on = any(d.before is not None and key in d.before.keys for d in report.devices)
    print(f"Status: {'ON' if on else 'OFF'}")
    return EC_OK if on else EC_OFF


def action_monitor(options: dict[str, str]) -> int:
    """Every device answers, this node's key (the key store's) is registered
    through every path, and each device holds a reservation."""
    from . import fencing

    try:
        key = stored_key(options)
        devices = device_list(options) if options.get("devices") else stored_devices(options)
    except Failed as failed:
        if "suppress_errors" not in options:
            raise
        LOG.debug(str(failed))
        return EC_FAILED
    report = fencing.status(
        devices, key, read_only="readonly" in options, timeout=operation_timeout(options)
    )
    problems = []
    for device in report.devices:
        if device.before is None:
            problems.append(f"{device.device}: cannot be read: {device.error}")
            continue
        for path in device.paths:
            if path.error is not None:
                problems.append(f"{device.device}: path {path.path}: {path.error}")
            elif path.registered is False:
                problems.append(f"{device.device}: key 0x{key:x} not registered on {path.path}")
        if key not in device.before.keys:
            problems.append(f"{device.device}: key 0x{key:x} is not registered")
        if device.before.reservation is None:
            problems.append(f"{device.device}: no reservation is held")
    for problem in problems:
        LOG.error(f"Failed: {problem}")
    return EC_FAILED if problems else EC_OK


def action_list(options: dict[str, str]) -> int:
    """The cluster's node names as ``name<separator>name`` lines (corosync)."""
    try:
        out = _cmapctl(options, "nodelist")
    except Failed:
        out = ""
    names = [value for key, value in _cmap_values(out) if key.endswith(".name")]
    if not names:
        print("NOTICE: List option is not working on this device yet")
    for name in names:
        print(f"{name}{options['separator']}{name}")
    return EC_OK


def validate(options: dict[str, str]) -> int:
    """validate-all: what Pacemaker passes when a resource is configured.
    Neither plug nor key is given then, so their absence is only logged (as
    fence_scsi does); a key or key-value that can never work fails."""
    if not options.get("plug") and not options.get("key"):
        LOG.error("Failed: nodename or key is required")
    if options["key_value"] not in ("id", "hash"):
        raise Failed("Failed: key-value has to be 'id' or 'hash'")
    if options.get("key"):
        parse_key(options["key"])
    return EC_OK


def run(options: dict[str, str], started: float) -> int:
    action = options["action"]
    if action not in ACTIONS:
        raise Failed(f"Failed: Unrecognised action '{action}'")
    if action == "validate-all":
        return validate(options)
    if action == "monitor":
        return action_monitor(options)
    if action == "list":
        return action_list(options)
    if options.get("nodename"):
        options["plug"] = options["nodename"]
    if not options.get("plug") and not options.get("key"):
        raise Failed("Failed: nodename or key is required")
    if options["key_value"] not in ("id", "hash"):
        raise Failed("Failed: key-value has to be 'id' or 'hash'")
    key = target_key(options)
    devices = device_list(options)
    if action == "on":
        return action_on(options, devices, key)
    if action == "status":
        return action_status(options, devices, key)
    return action_off(options, devices, key, started)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script ``fence_pr_native``."""
    started = time.monotonic()
    arguments = sys.argv[1:] if argv is None else list(argv)
    try:
        given = parse_arguments(arguments) if arguments else parse_stdin(sys.stdin.read())
        options = with_defaults(given)
        if "help" in options:
            print(usage())
            return EC_OK
        if options["action"] in ("metadata", "manpage"):
            print(metadata())
            return EC_OK
        if "version" in options:
            from . import __version__

            print(__version__)
            return EC_OK
        _setup_logging(options)
        return run(options, started)
    except Failed as failed:
        LOG.error(str(failed))
        LOG.error("Please use '-h' for usage")
        return EC_FAILED
    finally:
        if LOG.debug_file is not None:
            LOG.debug_file.close()
            LOG.debug_file = None


def _setup_logging(options: dict[str, str]) -> None:
    LOG.quiet = "quiet" in options
    try:
        LOG.verbose = "verbose" in options or int(options.get("verbose_level", "0")) > 0
    except ValueError:
        LOG.warning("Parse error: Option 'verbose_level' must be an integer")
    if options.get("logfile"):
        try:
            logfile = open(options["logfile"], "w", encoding="utf-8")  # noqa: SIM115
        except OSError:
            raise Failed(f"Failed: Unable to create file {options['logfile']}") from None
        sys.stdout = sys.stderr = logfile
    if options.get("debug_file"):
        try:
            LOG.debug_file = open(options["debug_file"], "a", encoding="utf-8")  # noqa: SIM115
        except OSError:
            raise Failed(f"Failed: Unable to create file {options['debug_file']}") from None


if __name__ == "__main__":
    sys.exit(main())
