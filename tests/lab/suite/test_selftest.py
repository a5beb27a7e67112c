"""pr-native selftest against LIO: the run completes, leaves the logical unit
clean, and reports exactly LIO's departures from SPC, the ones the rest of
this suite asserts (test_reserve.py, test_full_status.py, test_register.py)
and the few more it establishes, each with its SPC clause; refusals; and an
interrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

import pr_native as pr
from pr_native import selftest

from .conftest import Initiator, drain_unit_attentions

NOT_READY_COMMUNICATION_FAILURE = (2, 0x08, 0x00)
INVALID_FIELD_IN_CDB = (5, 0x24, 0x00)

# LIO 6.1's departures, each with what it answers (sense key, ASC, ASCQ;
# None: RESERVATION CONFLICT or GOOD) and where SPC says otherwise.
LIO_DEPARTURES: dict[str, tuple[tuple[int, int, int] | None, str]] = {
    # test_full_status.py (conformance X04): descriptors that do not fit are
    # left out and ADDITIONAL LENGTH shrunk to match.
    "prin.full-status-length": (None, "SPC-4 6.15.5, 4.2.5.6"),
    # test_reserve.py::test_release_with_the_wrong_type: RESERVATION CONFLICT
    # instead of 05/26/04 INVALID RELEASE OF PERSISTENT RESERVATION.
    "reserve.release-wrong-type": (None, "SPC-4 5.14.11.2"),
    # test_reserve.py::test_reserve_conflicts: 02/08/00 instead of
    # RESERVATION CONFLICT from an unregistered nexus while none is held.
    "reserve.unregistered-reserve": (NOT_READY_COMMUNICATION_FAILURE, "SPC-4 6.16.3, 5.14.9"),
    # test_full_status.py::test_all_target_ports_registration: a nexus
    # registered with ALL_TG_PT=1 must send ALL_TG_PT=1 again, else 05/24/00.
    "register.all-target-ports": (INVALID_FIELD_IN_CDB, "SPC-4 6.16.3"),
    # test_register.py::test_generation_counter ("LIO: unregister does not
    # count"): SPC-4 6.15.2 counts every REGISTER and REGISTER AND IGNORE
    # EXISTING KEY, unregistering ones too.
    "register.generation": (None, "SPC-4 6.15.2"),
    # The same code path as the unregistered RESERVE (core_scsi3_emulate_pro_*
    # finds no registration and answers 02/08/00) for RELEASE and CLEAR; the
    # RESERVATION KEY of an unregistered nexus matches no registered key.
    "reserve.unregistered-release": (NOT_READY_COMMUNICATION_FAILURE, "SPC-4 6.16.3, 5.14.11.2"),
    "preempt.clear-unregistered": (NOT_READY_COMMUNICATION_FAILURE, "SPC-4 6.16.3, 5.14.11.5"),
    # PR IN with ALLOCATION LENGTH 0 (an allocation length of zero is no
    # error): LIO refuses anything below 8 bytes with 05/24/00.
    "prin.allocation-length-zero": (INVALID_FIELD_IN_CDB, "SPC-4 4.2.5.6"),
    # READ KEYS and READ RESERVATION cut inside a field: LIO sends zeros for
    # the part of the key that fits instead of the first bytes of the response.
    "prin.allocation-length-partial": (None, "SPC-4 4.2.5.6"),
}
# Kernels before "Generate correct identifiers for PR OUT transport IDs"
# (2025) compare SAS TransportIDs as raw bytes against naa. names (conformance
# 3.8): SPEC_I_PT and REGISTER AND MOVE with the TransportID READ FULL STATUS
# reported are then refused with 05/26/00.  Either outcome is accepted.
TRANSPORT_ID_BUG = {"register.spec-i-pt", "move.register-and-move"}
INVALID_FIELD_IN_PARAMETER_LIST = (5, 0x26, 0x00)
ABORT_CHECKS = {"preempt.abort-holder", "preempt.abort-registration"}


def _sense(check: dict[str, object]) -> tuple[int, int, int] | None:
    sense = check["sense"]
    if not isinstance(sense, dict):
        return None
    names = {k.name: int(k) for k in pr.SenseKey}
    return (names[str(sense["sense_key"])], int(str(sense["asc"])), int(str(sense["ascq"])))


def _command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "pr_native", "selftest", *arguments]


def assert_clean(devices: list[pr.Device]) -> None:
    """No registration, no reservation, and no unit attention left behind."""
    assert devices[0].read_keys().keys == ()
    assert devices[0].read_reservation().reservation is None
    for dev in devices:
        assert drain_unit_attentions(dev) == []


def test_the_run_reports_exactly_lios_departures(
    devices: list[pr.Device], initiators: list[Initiator], fabric: str
) -> None:
    nodes = [i.sg for i in initiators[:3]]
    done = subprocess.run(
        _command("--yes", "--json", "--write-probes", *nodes),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == selftest.Status.DEPARTURES, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["schema_version"], doc["command"], doc["exit_code"]) == (1, "selftest", 4)
    report = doc["result"]
    assert report["report_version"] == 1
    assert report["logical_unit"]["vendor"] == "LIO-ORG"
    assert report["error"] is None and report["left_clean"] is True
    assert [c["id"] for c in report["checks"]] == [s.id for s in selftest.SPECS]
    outcomes = {c["id"]: c for c in report["checks"]}
    departures = set(report["summary"]["departures"])
    tolerated = {
        i
        for i in TRANSPORT_ID_BUG & departures
        if _sense(outcomes[i]) == INVALID_FIELD_IN_PARAMETER_LIST
    }
    assert departures - tolerated == set(LIO_DEPARTURES)
    for name, (sense, clause) in LIO_DEPARTURES.items():
        check = outcomes[name]
        assert check["clause"] == clause
        assert _sense(check) == sense, check
        assert check["expected"] and check["observed"] and check["cdb"]
    assert outcomes["reserve.release-wrong-type"]["observed"] == "RESERVATION CONFLICT"
    assert outcomes["register.generation"]["observed"].startswith("unregister (REGISTER")
    assert "ADDITIONAL LENGTH 0" in outcomes["prin.full-status-length"]["observed"]
    # PREEMPT AND ABORT self-deadlocks LIO over tcm_loop: skipped there only.
    abort = {outcomes[i]["outcome"] for i in ABORT_CHECKS}
    assert abort == ({"skipped"} if fabric == "loop" else {"pass"})
    # LIO advertises no REPLACE LOST RESERVATION (RLR_C=0).
    assert outcomes["move.replace-lost"]["outcome"] == "n/a"
    assert report["summary"]["n/a"] == 1
    assert_clean(devices)


def test_a_foreign_registration_is_refused_and_kept(
    devices: list[pr.Device], initiators: list[Initiator]
) -> None:
    a = devices[0]
    a.register(0x1234)
    before = a.read_full_status()
    with pytest.raises(selftest.SelftestRefused, match="0x1234") as info:
        selftest.run([i.sg for i in initiators[:3]])
    assert info.value.found is not None and [r.key for r in info.value.found.registrants] == [
        0x1234
    ]
    assert a.read_full_status() == before  # nothing was sent: the generation too


def test_nodes_of_two_logical_units_are_refused(
    devices: list[pr.Device], initiators: list[Initiator], lab_info: dict[str, object]
) -> None:
    extra = lab_info.get("extra_lus")
    if not isinstance(extra, list) or not extra:
        pytest.skip("needs the lab's second logical unit (prlab --extra-lus)")
    other = str(extra[0]["initiators"][1]["sg"])
    with pr.Device(other) as second:
        before = (devices[0].read_keys(), second.read_keys())
        with pytest.raises(selftest.SelftestRefused, match="different logical units"):
            selftest.run([initiators[0].sg, other])
        assert (devices[0].read_keys(), second.read_keys()) == before


def test_one_nexus_given_twice_is_refused(
    devices: list[pr.Device], initiators: list[Initiator]
) -> None:
    a = initiators[0]
    generation = devices[0].read_keys().generation
    with pytest.raises(selftest.SelftestRefused, match="same device node"):
        selftest.run([a.sg, initiators[1].sg, a.sg])
    assert devices[0].read_keys().generation == generation  # nothing sent
    # /dev/sgN and /dev/sdX of one initiator: one I_T nexus; its second
    # REGISTER conflicts, and the registration probe is undone.
    with pytest.raises(selftest.SelftestRefused, match=f"same I_T nexus as {a.sg}"):
        selftest.run([a.sg, a.sd])
    assert_clean(devices)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_run_leaves_the_logical_unit_clean(
    devices: list[pr.Device], initiators: list[Initiator], stop: signal.Signals
) -> None:
    """The signal arrives part-way (in the reservation group, a reservation
    held); the run cleans up, then exits 130."""
    process = subprocess.Popen(
        _command("--yes", *(i.sg for i in initiators[:3])),
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # The lab runs its command in the background, where SIGINT is ignored
        # (and Python then installs no handler of its own): a terminal's
        # Ctrl-C is what is wanted here.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.split()[1:2] and line.split()[1].startswith("reserve.holder-unregisters"):
            process.send_signal(stop)
            break
    rest, _ = process.communicate(timeout=120)
    output = "".join(lines) + rest
    assert process.returncode == selftest.Status.INTERRUPTED, output
    assert "exit status 130" in output
    assert "left with no registration and no reservation" in output
    assert "access." not in output  # it stopped part-way
    assert_clean(devices)


def test_api_and_text_report(devices: list[pr.Device], initiators: list[Initiator]) -> None:
    """run() with two nexuses: C's checks n/a, the same departures otherwise."""
    report = selftest.run([i.sg for i in initiators[:2]], only=["preempt"])
    outcomes = {c.id: c.outcome for c in report.checks}
    assert outcomes["preempt.type-change"] == "n/a"
    assert {c.id for c in report.departures} == {"preempt.clear-unregistered"}
    text = "\n".join(selftest.summary_text(report))
    assert "departures from SPC (1)" in text and report.left_clean
    assert_clean(devices)
