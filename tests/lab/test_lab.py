"""The lab suite (tests/lab/suite) against the kernel's LIO target, booted in
a QEMU guest by prlab, in the configurations that together cover it all.

The guest's pytest output streams through, so the run lists every lab test;
the JUnit report it writes is then checked here: no failures, and no skips
beyond the ones a configuration expects.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import prlab


@dataclass(frozen=True)
class Run:
    config: prlab.LabConfig
    selection: tuple[str, ...] = ("tests/lab/suite",)
    # Tests this configuration cannot run (each is run by another one).
    expected_skips: frozenset[str] = field(default_factory=frozenset)


# tests/lab/suite/test_fencing.py: the "iscsi-fencing" run
FENCING_ONLY = (
    "test_differential_against_fence_scsi",
    "test_every_action_twice_sends_no_pr_out_the_second_time",
    "test_preempt_and_abort_stopped_mid_command_ends_verified",
    "test_a_multipath_node_is_registered_and_fenced_on_every_path",
    "test_a_fenced_node_stays_refused_after_its_status_and_monitor",
    "test_a_single_device_that_stops_answering_ends_at_the_timeout",
    "test_stale_nexus_is_removed_after_a_new_login",
)

# tests/lab/suite/test_faults.py: the "iscsi-slow-backstore" run
STALL_ONLY = (
    "test_pr_out_stalled_by_the_backstore",
    "test_polling_round_stalled_by_the_backstore",
    "test_pr_in_stalled_by_the_backstore",
)

# tests/lab/suite/test_multipath.py beyond two paths (the "loop-multipath"
# run); the other runs register through a two-path node only.
MULTIPATH_ONLY = (
    "test_register_through_the_node_registers_every_path",  # [4]
    "test_io_through_every_path_under_a_registrants_only_reservation",
    "test_release_goes_down_the_holder_path",
    "test_a_failed_path_is_reported_and_skipped",
    "test_unregister_removes_every_path",
    "test_a_register_one_path_refuses_reports_which_paths_succeeded",
    "test_command_line_on_the_node",
)

RUNS = {
    # The whole suite over tcm_loop (SAS TransportIDs), except PREEMPT AND
    # ABORT, which self-deadlocks LIO on this fabric; a second LU (LUN 1):
    # another logical unit has another lu_name.
    "loop": Run(
        prlab.LabConfig(fabric="loop", initiators=3, extra_lus=1),
        # and valgrind's memcheck on the C core (tests/valgrind)
        selection=("tests/lab/suite", "tests/valgrind/test_valgrind.py"),
        expected_skips=frozenset(
            {
                "test_full_status_larger_than_8_kib",
                "test_preempt_and_abort_fences_the_holder",
                "test_preempt_and_abort_without_reservation",
                "test_commands_in_flight_are_aborted",
                "test_poll_32_nodes",
                # tests/lab/suite/test_exactly_once.py: the "iscsi-delay" run
                "test_stopped_and_continued_mid_command",
                "test_sigalrm_storm_during_pr_out",
                "test_path_lost_mid_command",
                "test_poll_rounds_end_while_the_portal_is_disabled",
                "test_watch_exits_on_sigterm",
                "test_exporter_exits_on_sigterm",
                # tests/lab/suite/test_aio.py: "loop-many-initiators", "iscsi-delay"
                "test_many_devices_awaited_from_one_thread",
                "test_cancelled_pr_out_in_flight_is_outcome_unknown_and_ran_once",
                *MULTIPATH_ONLY,
                *FENCING_ONLY,
                *STALL_ONLY,
            }
        ),
    ),
    # The whole suite over iSCSI (iSCSI TransportIDs with ISIDs).
    "iscsi": Run(
        prlab.LabConfig(fabric="iscsi", initiators=3),
        expected_skips=frozenset(
            {
                "test_another_logical_unit_has_another_lu_name",  # the "loop" run
                "test_nodes_of_two_logical_units_are_refused",  # the "loop" run
                # tests/lab/suite/test_bad_input.py: the "loop" run
                "test_bad_input_reaches_nothing",
                "test_the_counter_counts",
                "test_full_status_larger_than_8_kib",
                "test_commands_in_flight_are_aborted",
                "test_poll_32_nodes",
                # tests/lab/suite/test_exactly_once.py: the "iscsi-delay" run
                "test_stopped_and_continued_mid_command",
                "test_sigalrm_storm_during_pr_out",
                "test_path_lost_mid_command",
                "test_poll_rounds_end_while_the_portal_is_disabled",
                "test_watch_exits_on_sigterm",
                "test_exporter_exits_on_sigterm",
                # tests/lab/suite/test_aio.py: "loop-many-initiators", "iscsi-delay"
                "test_many_devices_awaited_from_one_thread",
                "test_cancelled_pr_out_in_flight_is_outcome_unknown_and_ran_once",
                *MULTIPATH_ONLY,
                *FENCING_ONLY,
                *STALL_ONLY,
            }
        ),
    ),
    # A backstore that takes a second per I/O, so the victim of PREEMPT AND
    # ABORT still has a command at the target; with one tag, writes queued
    # ahead hold an initiator's iSCSI connection, and its PR commands,
    # beyond their timeout (docs/faults.md).
    "iscsi-slow-backstore": Run(
        prlab.LabConfig(fabric="iscsi", initiators=2, backstore="nullb:1000:1"),
        selection=(
            "tests/lab/suite/test_preempt_and_abort.py::test_commands_in_flight_are_aborted",
            *(f"tests/lab/suite/test_faults.py::{name}" for name in STALL_ONLY),
        ),
    ),
    # 34 initiators with 223-byte iSCSI names: READ FULL STATUS beyond 8 KiB,
    # and polling 34 device nodes at once.
    "loop-many-initiators": Run(
        prlab.LabConfig(fabric="loop", initiators=34, names="iqn", name_len=223),
        selection=(
            "tests/lab/suite/test_large.py",
            "tests/lab/suite/test_poll.py",
            "tests/lab/suite/test_aio.py::test_many_devices_awaited_from_one_thread",
        ),
    ),
    # 300 ms of netem delay on the iSCSI loopback keeps every command in
    # flight for about 0.6 s: long enough to stop and continue the sender,
    # break its path or disable the portal group under it (exactly-once PR
    # OUT, bounded waits).
    "iscsi-delay": Run(
        prlab.LabConfig(fabric="iscsi", initiators=3, latency="300ms"),
        selection=(
            "tests/lab/suite/test_exactly_once.py",
            "tests/lab/suite/test_aio.py::"
            "test_cancelled_pr_out_in_flight_is_outcome_unknown_and_ran_once",
        ),
    ),
    # fence_pr_native against fence_scsi (whose off is PREEMPT AND ABORT, so
    # over iSCSI) on one LU and on three, idempotence, a new ISID, and a
    # PREEMPT AND ABORT stopped or interrupted mid-command on a netem delay.
    "iscsi-fencing": Run(
        prlab.LabConfig(fabric="iscsi", initiators=3, extra_lus=2, env={"PRLAB_FENCING": "1"}),
        selection=("tests/lab/suite/test_fencing.py",),
    ),
    # dm-multipath built with dmsetup over 2 and 4 of the initiators' disks of
    # the one LU (no multipathd), the fifth initiator another host.
    "loop-multipath": Run(
        prlab.LabConfig(fabric="loop", initiators=5),
        selection=("tests/lab/suite/test_multipath.py",),
    ),
}


def _outcomes(report: Path) -> dict[str, str]:
    """test id -> passed / failure / error / skipped, from a JUnit report."""
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = kinds[0] if kinds else "passed"
    return outcomes


@pytest.mark.parametrize("name", list(RUNS))
def test_lab_suite(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = RUNS[name]
    prlab.require_lab(run.config.fabric)
    report = tmp_path / "junit.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        *run.selection,
        "-v",
        "-rs",
        "-p",
        "no:cacheprovider",
        f"--junitxml={report}",
    ]
    config = prlab.LabConfig(**{**vars(run.config), "shares": (str(tmp_path),), "timeout": 600.0})
    with capsys.disabled():
        print(f"\n--- lab run {name!r}: {' '.join(command[1:])}")
        result = prlab.run(command, config, stream=True)
    assert not result.timed_out, f"the lab run timed out; results in {result.out_dir}"
    assert result.returncode == 0, f"lab tests failed; results in {result.out_dir}"
    outcomes = _outcomes(report)
    assert outcomes, "the lab run executed no test"
    bad = {k: v for k, v in outcomes.items() if v in ("failure", "error")}
    assert not bad
    skipped = {k.split("::")[1].split("[")[0] for k, v in outcomes.items() if v == "skipped"}
    assert skipped <= run.expected_skips, f"unexpected skips: {skipped - run.expected_skips}"
    assert any(v == "passed" for v in outcomes.values())
