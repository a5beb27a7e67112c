"""fence_pr_native: the fence-agents protocol (options on the command line
and on standard input, fence_scsi's names and defaults, the metadata, exit
codes) and its actions against the simulated logical units of
test_fencing."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import xml.dom.minidom
from pathlib import Path

import pytest

from pr_native import fence_agent, fencing
from pr_native.fence_agent import Failed

from .test_fencing import K1, K2, Sim, SimLU
from .test_fencing import sim as sim  # the fixture, by its name

FENCE_SCSI_PARAMETERS = {
    # name: (required, content type, default), from fence_scsi 4.12.1's metadata
    "action": ("1", "string", "off"),
    "aptpl": ("0", "boolean", ""),
    "devices": ("0", "string", ""),
    "key": ("0", "string", ""),
    "plug": ("1", "string", ""),
    "port": ("1", "string", ""),
    "readonly": ("0", "boolean", ""),
    "suppress-errors": ("0", "boolean", ""),
    "suppress_errors": ("0", "boolean", ""),
    "logfile": ("0", "string", ""),
    "quiet": ("0", "boolean", ""),
    "verbose": ("0", "boolean", ""),
    "verbose_level": ("0", "integer", ""),
    "debug": ("0", "string", ""),
    "debug_file": ("0", "string", ""),
    "version": ("0", "boolean", ""),
    "help": ("0", "boolean", ""),
    "plug_separator": ("0", "string", ","),
    "delay": ("0", "second", "0"),
    "disable_timeout": ("0", "string", ""),
    "login_timeout": ("0", "second", "5"),
    "power_timeout": ("0", "second", "20"),
    "power_wait": ("0", "second", "0"),
    "shell_timeout": ("0", "second", "3"),
    "stonith_status_sleep": ("0", "second", "1"),
    "retry_on": ("0", "integer", "1"),
    "corosync_cmap_path": ("0", "string", "/usr/sbin/corosync-cmapctl"),
    "key_value": ("0", "string", "id"),
    "sg_persist_path": ("0", "string", "/usr/bin/sg_persist"),
    "sg_turs_path": ("0", "string", "/usr/bin/sg_turs"),
    "vgs_path": ("0", "string", "/sbin/vgs"),
}
FENCE_SCSI_ACTIONS = ["on", "off", "status", "monitor", "metadata", "manpage", "validate-all"]


def parameters(text: str) -> tuple[dict[str, tuple[str, ...]], list[tuple[str, str, str]]]:
    """name -> (required, type, default, deprecated, obsoletes, getopt) and
    the actions of a metadata document (which must be well-formed XML)."""
    document = xml.dom.minidom.parseString(text)
    found: dict[str, tuple[str, ...]] = {}
    for p in document.getElementsByTagName("parameter"):
        content = p.getElementsByTagName("content")[0]
        found[p.getAttribute("name")] = (
            p.getAttribute("required"),
            content.getAttribute("type"),
            content.getAttribute("default"),
            p.getAttribute("deprecated"),
            p.getAttribute("obsoletes"),
            p.getElementsByTagName("getopt")[0].getAttribute("mixed"),
        )
    actions = [
        (a.getAttribute("name"), a.getAttribute("on_target"), a.getAttribute("automatic"))
        for a in document.getElementsByTagName("action")
    ]
    return found, actions


def test_metadata_is_fence_scsis(capsys: pytest.CaptureFixture[str]) -> None:
    assert fence_agent.main(["-o", "metadata"]) == 0
    text = capsys.readouterr().out
    found, actions = parameters(text)
    assert {n: v[:3] for n, v in found.items() if n in FENCE_SCSI_PARAMETERS} == (
        FENCE_SCSI_PARAMETERS
    )
    assert set(found) - set(FENCE_SCSI_PARAMETERS) == {"store_path"}
    assert found["port"][3] == "1" and found["plug"][4] == "port"
    assert found["devices"][5] == "-d, --devices=[devices]"
    assert [a[0] for a in actions] == FENCE_SCSI_ACTIONS
    assert actions[0] == ("on", "1", "1")  # unfencing runs on the node itself, automatically
    assert 'resource-agent name="fence_pr_native"' in text
    assert fence_agent.main(["-o", "meta-data"]) == 0
    assert capsys.readouterr().out == text


def test_metadata_against_the_installed_fence_scsi(capsys: pytest.CaptureFixture[str]) -> None:
    agent = shutil.which("fence_scsi") or "/usr/sbin/fence_scsi"
    if not Path(agent).exists():
        pytest.skip("fence_scsi (Debian package fence-agents) is not installed")
    done = subprocess.run([agent, "-o", "metadata"], capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"fence_scsi does not run here: {done.stderr.strip()[-200:]}")
    theirs, their_actions = parameters(done.stdout)
    assert fence_agent.main(["--action=metadata"]) == 0
    ours, our_actions = parameters(capsys.readouterr().out)
    assert {n: ours[n] for n in theirs} == theirs
    assert our_actions == their_actions


def test_command_line_options() -> None:
    options = fence_agent.parse_arguments(
        [
            *("-o", "on", "-d", "/dev/sdb,/dev/sdc", "-n", "node1", "-a", "-vv", "-H", "5"),
            *("--key-value=hash", "--readonly", "--power-timeout", "7", "--nodename=node1"),
        ]
    )
    assert options == {
        "action": "on",
        "devices": "/dev/sdb,/dev/sdc",
        "plug": "node1",
        "aptpl": "1",
        "verbose": "1",
        "delay": "5",
        "key_value": "hash",
        "readonly": "1",
        "power_timeout": "7",
        "nodename": "node1",
        "verbose_level": "2",
    }
    with pytest.raises(Failed, match="Parse error"):
        fence_agent.parse_arguments(["--no-such-option"])


ARGV_CASES = [
    ["-o", "on", "-d", "/dev/sdb", "-vv", "-aq"],
    ["-oon", "-d/dev/sdb", "node-extra", "--plug", "n1"],
    ["--act=off", "--dev=/dev/sdb,/dev/sdc", "--plug=n2", "--plug-s=;", "--", "-k", "x"],
    ["--key-value", "hash", "--verbose", "--verbose-level=3", "-n", "--weird"],
    ["-H", "5", "--readonly", "--nodename=n1", "-C", ";"],
]


@pytest.mark.parametrize("argv", ARGV_CASES)
def test_command_line_is_parsed_as_gnu_getopt_does(argv: list[str]) -> None:
    """The agent's own parser (no getopt import at start-up) against the
    standard library's gnu_getopt with the same option table."""
    import getopt

    options = fence_agent.OPTIONS
    shorts = "".join(
        o.letter + (":" if o.takes_value else "") for o in options.values() if o.letter
    )
    longs = [o.long + ("=" if o.takes_value else "") for o in options.values()]
    entered, left = getopt.gnu_getopt(argv, shorts, longs)
    by_flag = {f"-{o.letter}": n for n, o in options.items() if o.letter}
    by_flag.update({f"--{o.long}": n for n, o in options.items()})
    assert fence_agent._getopt(argv) == ([(by_flag[f], v) for f, v in entered], left)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--no-such"], "--no-such not recognized"),
        (["--p"], "not a unique prefix"),  # --plug, --plug-separator, --power-*
        (["-z"], "-z not recognized"),
        (["-d"], "-d requires argument"),
        (["--devices"], "--devices requires argument"),
        (["--aptpl=1"], "must not have an argument"),
    ],
)
def test_command_line_errors(argv: list[str], message: str) -> None:
    with pytest.raises(Failed, match=message):
        fence_agent.parse_arguments(argv)


def test_corosync_output_is_read_as_fence_scsi_reads_it(tmp_path: Path) -> None:
    script = tmp_path / "cmapctl"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = nodelist ]; then\n'
        "  printf 'nodelist.node.0.ring0_addr (str) = 10.0.0.1\\n'\n"
        "  printf 'nodelist.node.1.name (str) = node b\\n'\n"
        "  printf 'nodelist.node.2.name (str) = n3\\n'\n"
        "  printf 'nodelist.node.3.ring1_addr (str) = n4\\n'\n"
        "else printf 'totem.cluster_name (str) = alpha\\n'; fi\n"
    )
    script.chmod(0o755)
    options = {"corosync_cmap_path": str(script)}
    assert fence_agent.cluster_name(options) == "alpha"
    assert fence_agent.node_position(options, "n3") == 2
    assert fence_agent.node_position(options, "10.0.0.1") == 0  # fence_scsi's older format
    assert fence_agent.node_position(options, "n4") == 3
    with pytest.raises(Failed, match="node does not exist"):
        fence_agent.node_position(options, "node b")  # a value with a space never matches
    with pytest.raises(Failed, match="Unable to run"):
        fence_agent.cluster_name({"corosync_cmap_path": str(tmp_path / "absent")})


def test_a_program_that_does_not_end_is_killed(tmp_path: Path) -> None:
    assert fence_agent._output(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], 10) == (
        3,
        "out\n",
    )
    with pytest.raises(OSError, match="did not end"):
        fence_agent._output(["/bin/sleep", "30"], 0.2)


def test_standard_input_options(capsys: pytest.CaptureFixture[str]) -> None:
    text = "\n".join(
        [
            "# Pacemaker's lines",
            "action=off",
            "port=node2",
            'devices="/dev/sdb,/dev/sdc"',
            "key-value=hash",
            "sg_persist-path=/usr/bin/sg_persist",
            "aptpl=0",
            "readonly=yes",
            "suppress-errors=1",
            "nodename=node2",
            "pcmk_host_list=node1",
            "verbose=maybe",
            "",
        ]
    )
    options = fence_agent.parse_stdin(text)
    assert options == {
        "action": "off",
        "plug": "node2",
        "devices": "/dev/sdb,/dev/sdc",
        "key_value": "hash",
        "sg_persist_path": "/usr/bin/sg_persist",
        "readonly": "1",
        "suppress_errors": "1",
        "nodename": "node2",
        "verbose_level": "0",
    }
    err = capsys.readouterr().err
    assert "Ignoring unknown option 'pcmk_host_list=node1'" in err
    assert "Ignoring option 'verbose' because it does not have value" in err


def test_defaults_are_fence_scsis() -> None:
    assert fence_agent.with_defaults({"action": "Meta-Data"})["action"] == "metadata"
    options = fence_agent.with_defaults({})
    for name, (_, _, default) in FENCE_SCSI_PARAMETERS.items():
        if default and name in fence_agent.OPTIONS:
            assert options[name] == default, name
    assert fence_agent.with_defaults({"action": "enable"})["action"] == "on"


def test_keys_are_hex_as_fence_scsi_reads_them() -> None:
    assert fence_agent.parse_key("b1431645") == fence_agent.parse_key("0xB1431645") == K1
    for bad in ("0", "000", "xyz", "1" * 17, ""):
        with pytest.raises(Failed):
            fence_agent.parse_key(bad)


def test_store_path_is_the_installed_fence_scsis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "fence_scsi"
    script.write_text('#!/usr/bin/python3 -tt\nimport sys\n\nSTORE_PATH = "/var/run/cluster"\n')
    monkeypatch.setattr(fence_agent, "FENCE_SCSI", str(script))
    assert fence_agent.store_path({}) == "/var/run/cluster"
    assert fence_agent.store_path({"store_path": "/tmp/x"}) == "/tmp/x"
    monkeypatch.setattr(fence_agent, "FENCE_SCSI", str(tmp_path / "absent"))
    assert fence_agent.store_path({}) == fence_agent.DEFAULT_STORE


# -- actions against the simulated logical unit ---------------------------------------


class Cluster:
    """Two nodes sharing one simulated logical unit, each with its own disk
    node and key store."""

    def __init__(self, sim: Sim, tmp_path: Path) -> None:
        self.lu = SimLU()
        self.disk = {}
        self.store = {}
        for node, nexus, isid in (("node1", "a", 1), ("node2", "b", 2)):
            disk = tmp_path / f"disk-{node}"
            disk.touch()
            sim.attach(str(disk), self.lu, nexus, isid)
            self.disk[node] = str(disk)
            self.store[node] = str(tmp_path / node / "fence_scsi")
        cmapctl = tmp_path / "corosync-cmapctl"
        cmapctl.write_text(
            "#!/bin/sh\n"
            'case "$1" in\n'
            '  totem.cluster_name) echo "totem.cluster_name (str) = prlab" ;;\n'
            '  nodelist) printf "nodelist.node.0.name (str) = node1\\n'
            'nodelist.node.1.name (str) = node2\\n" ;;\n'
            "esac\n"
        )
        cmapctl.chmod(0o755)
        self.cmapctl = str(cmapctl)

    def run(self, node: str, action: str, *options: str) -> int:
        argv = ["-o", action, "-d", self.disk[node], f"--store-path={self.store[node]}"]
        argv += ["--key-value=hash", f"--corosync-cmap-path={self.cmapctl}", *options]
        return fence_agent.main(argv)


@pytest.fixture
def cluster(sim: Sim, tmp_path: Path) -> Cluster:
    return Cluster(sim, tmp_path)


def test_on_off_status_monitor(
    cluster: Cluster,
    sim: Sim,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lu = cluster.lu
    assert cluster.run("node1", "on", "--plug=node1") == 0
    assert capsys.readouterr().out == "Success: Powered ON\n"
    assert Path(cluster.store["node1"] + ".key").read_text() == f"{K1:x}\n"
    assert Path(cluster.store["node1"] + ".dev").read_text() == cluster.disk["node1"] + "\n"
    assert cluster.run("node2", "on", "--plug=node2") == 0
    assert lu.registrations == {"a": K1, "b": K2} and lu.reserved() == (K1, 5)
    sent = len(sim.pr_outs())
    assert cluster.run("node1", "on", "--plug=node1") == 0  # nothing missing: nothing sent
    assert len(sim.pr_outs()) == sent
    assert cluster.run("node1", "monitor") == 0
    assert cluster.run("node2", "status", "--plug=node1") == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Status: ON"

    assert cluster.run("node2", "off", "--plug=node1") == 0
    assert capsys.readouterr().out == "Success: Powered OFF\n"
    assert lu.registrations == {"b": K2} and lu.reserved() == (K2, 5)
    assert [a for _, a, _, _ in lu.pr_out][-1] == 5  # PREEMPT AND ABORT
    sent = len(sim.pr_outs())
    assert cluster.run("node2", "off", "--plug=node1") == 0
    assert capsys.readouterr().out == "Success: Already OFF\n"
    assert len(sim.pr_outs()) == sent
    for node in ("node1", "node2"):
        assert cluster.run(node, "status", "--plug=node1") == 2
        assert capsys.readouterr().out == "Status: OFF\n"
        assert cluster.run(node, "status", "--plug=node2") == 0
        assert capsys.readouterr().out == "Status: ON\n"
    assert cluster.run("node1", "monitor") == 1
    assert "not registered" in capsys.readouterr().err
    assert cluster.run("node2", "monitor") == 0

    assert cluster.run("node1", "on", "--plug=node1") == 0  # let back in after being fenced
    assert lu.registrations == {"b": K2, "a": K1}
    assert cluster.run("node2", "reboot", "--plug=node1") == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Success: Rebooted"
    assert lu.registrations == {"b": K2}


def test_the_logical_units_store_is_replaced_whole_and_survives_bad_bytes(tmp_path: Path) -> None:
    options = {"store_path": str(tmp_path / "fence")}
    store = tmp_path / "fence.lu"
    fence_agent.save_registrations(options, K1, ["naa.1", "naa.2"])
    fence_agent.save_registrations(options, K1, ["naa.2"])  # a device taken out
    assert store.read_text() == f"{K1:x} naa.2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["fence.lu"]  # no temporary left
    store.write_bytes(b"\xff\xfe garbage\n" + f"{K1:x} naa.2\n".encode())
    assert fence_agent.stored_registrations(options, K1) == ["naa.2"]


def test_on_keeps_the_logical_units_so_a_monitor_cannot_hide_a_fence(
    cluster: Cluster, sim: Sim, capsys: pytest.CaptureFixture[str]
) -> None:
    """STORE.lu: the LUs node 1's key was registered on.  After node 1 was
    fenced, its monitor's READ FULL STATUS consumes the REGISTRATIONS
    PREEMPTED unit attention; unfence still refuses with what the store
    kept, and on (after_fenced) says in its log that the node was fenced."""
    lu = cluster.lu
    assert cluster.run("node1", "on", "--plug=node1") == 0
    assert Path(cluster.store["node1"] + ".lu").read_text() == f"{K1:x} {lu.lu_name}\n"
    assert cluster.run("node2", "on", "--plug=node2") == 0
    assert cluster.run("node2", "off", "--plug=node1") == 0
    assert cluster.run("node1", "monitor") == 1
    assert cluster.run("node1", "status", "--plug=node1") == 2
    assert lu.nexus("a").unit_attentions == []  # consumed by the monitor
    known = fence_agent.stored_registrations({"store_path": cluster.store["node1"]}, K1)
    assert known == [lu.lu_name]
    assert fence_agent.stored_registrations({"store_path": cluster.store["node1"]}, K2) == []
    refused = fencing.unfence([cluster.disk["node1"]], K1, registered_on=known)
    assert refused.devices[0].verdict == fencing.Verdict.FENCED and refused.sent == 0
    capsys.readouterr()
    assert cluster.run("node1", "on", "--plug=node1", "--verbose") == 0
    assert "this host was fenced; after_fenced lets it back in" in capsys.readouterr().err
    assert lu.registrations == {"b": K2, "a": K1}


def test_a_node_cannot_fence_itself(cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert cluster.run("node1", "on", "--plug=node1") == 0
    assert cluster.run("node1", "off", "--plug=node1") == 1
    assert "keys cannot be same. You can not fence yourself." in capsys.readouterr().err
    assert cluster.lu.registrations == {"a": K1}


def test_off_without_a_key_store(cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    """As fence_scsi: a node that is off already is no error, any other is."""
    assert cluster.run("node2", "off", "--plug=node1") == 0
    assert capsys.readouterr().out == "Success: Already OFF\n"
    assert cluster.run("node1", "on", "--plug=node1") == 0
    assert cluster.run("node2", "off", "--plug=node1") == 1
    assert 'Cannot open file "' in capsys.readouterr().err


def test_keys_from_corosync(cluster: Cluster) -> None:
    """--key-value=hash: fencing.node_key; id (the default): the nodelist position."""
    options = {"corosync_cmap_path": cluster.cmapctl, "plug": "node2", "key_value": "hash"}
    assert fence_agent.target_key(options) == K2 == fencing.node_key("prlab", "node2")
    options["key_value"] = "id"
    assert fence_agent.target_key(options) == fencing.node_id_key("prlab", 1)
    options["plug"] = "node9"
    with pytest.raises(Failed, match="node does not exist"):
        fence_agent.target_key(options)
    assert fence_agent.target_key({"key": "a1", "plug": "x"}) == 0xA1


def test_standard_input_drives_the_agent(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        "action=on",
        f"devices={cluster.disk['node1']}",
        "nodename=node1",
        "port=node2",  # nodename wins, as in fence_scsi
        "key_value=hash",
        f"corosync_cmap_path={cluster.cmapctl}",
        f"store_path={cluster.store['node1']}",
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert fence_agent.main([]) == 0
    assert capsys.readouterr().out == "Success: Powered ON\n"
    assert cluster.lu.registrations == {"a": K1}


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["-o", "validate-all"], 0, "nodename or key is required"),
        (["-o", "validate-all", "-n", "node1", "--key-value=name"], 1, "key-value has to be"),
        (["-o", "validate-all", "-k", "0"], 1, "key cannot be 0"),
        (["-o", "status"], 1, "nodename or key is required"),
        (["-o", "dance", "-k", "a1"], 1, "Unrecognised action 'dance'"),
        (["-o", "on", "-k", "a1", "-d", "/nonexistent/disk"], 1, "does not exist"),
    ],
)
def test_usage_errors(
    argv: list[str], status: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fence_agent.main(argv) == status
    assert message in capsys.readouterr().err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert fence_agent.main(["-h"]) == 0
    out = capsys.readouterr().out
    assert "-d, --devices=[devices]" in out and "--key-value=<id|hash>" in out
    assert fence_agent.main(["-V"]) == 0
    assert capsys.readouterr().out.strip() == __import__("pr_native").__version__


def test_list_prints_the_nodes(cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert fence_agent.main(["-o", "list", f"--corosync-cmap-path={cluster.cmapctl}"]) == 0
    assert capsys.readouterr().out == "node1,node1\nnode2,node2\n"


HEAVY = ("subprocess", "logging", "argparse", "getopt", "xml")


@pytest.mark.parametrize("action", ["metadata", "status"])
def test_start_up_imports_nothing_heavy(action: str, cluster: Cluster) -> None:
    """Neither the metadata nor an action that derives the key from corosync
    imports subprocess, logging, argparse, getopt or xml; the metadata not
    even pr_native.fencing."""
    argv = ["-o", action, "-d", cluster.disk["node1"], "--plug=node1", "--key-value=hash"]
    argv.append(f"--corosync-cmap-path={cluster.cmapctl}")
    code = (
        "import sys; import pr_native.fence_agent as a; a.main(sys.argv[1:]);"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}"
        " or m == 'pr_native.fencing'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=False
    )
    expected = "[]" if action == "metadata" else "['pr_native.fencing']"
    assert done.stdout.strip().splitlines()[-1] == expected, done.stderr
