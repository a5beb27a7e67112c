"""sg_persist (sg3-utils) as a peer initiator: run it and parse what it prints.

The parsers follow sg_persist's prin_work() output; each returns the same
result dataclasses pr_native returns, so a differential test compares them
with ``==``.
"""

from __future__ import annotations

import re
import subprocess

import pr_native as pr
from pr_native.constants import SENDABLE_TYPES
from pr_native.exit_codes import exit_code

TYPE_NAMES = {
    "Write Exclusive": pr.ReservationType.WRITE_EXCLUSIVE,
    "Exclusive Access": pr.ReservationType.EXCLUSIVE_ACCESS,
    "Write Exclusive, registrants only": pr.ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY,
    "Exclusive Access, registrants only": pr.ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY,
    "Write Exclusive, all registrants": pr.ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS,
    "Exclusive Access, all registrants": pr.ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS,
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sg_persist", "-n", *args], capture_output=True, text=True, timeout=60, check=False
    )


def _output(*args: str) -> str:
    done = run(*args)
    assert done.returncode == 0, f"sg_persist {' '.join(args)}: {done.returncode} {done.stderr}"
    return done.stdout


def _generation(text: str) -> int:
    match = re.search(r"PR generation=0x([0-9a-f]+)", text)
    assert match, text
    return int(match.group(1), 16)


def read_keys(path: str) -> pr.Registrations:
    text = _output("-i", "-k", path)
    keys = tuple(int(k, 16) for k in re.findall(r"^\s+0x([0-9a-f]+)$", text, re.M))
    return pr.Registrations(_generation(text), keys)


def _type(name: str) -> pr.ReservationType:
    return TYPE_NAMES[name.strip()]


def read_reservation(path: str) -> pr.ReservationStatus:
    text = _output("-i", "-r", path)
    if "NO reservation held" in text:
        return pr.ReservationStatus(_generation(text), None)
    key = re.search(r"Key=0x([0-9a-f]+)", text)
    kind = re.search(r"type: (.+)$", text, re.M)
    assert key and kind and "LU_SCOPE" in text, text
    reservation = pr.Reservation(int(key.group(1), 16), _type(kind.group(1)), pr.Scope.LU)
    return pr.ReservationStatus(_generation(text), reservation)


def report_capabilities(path: str) -> pr.Capabilities:
    text = _output("-i", "-c", path)

    def bit(label: str) -> int:
        match = re.search(re.escape(label) + r": (\d+)", text)
        assert match, (label, text)
        return int(match.group(1))

    tmv = bool(bit("Type Mask Valid(TMV)"))
    supported = frozenset(t for name, t in TYPE_NAMES.items() if tmv and bit(name))
    mask = 0
    for kind, value in (
        (pr.ReservationType.WRITE_EXCLUSIVE_ALL_REGISTRANTS, 0x8000),
        (pr.ReservationType.EXCLUSIVE_ACCESS_REGISTRANTS_ONLY, 0x4000),
        (pr.ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY, 0x2000),
        (pr.ReservationType.EXCLUSIVE_ACCESS, 0x0800),
        (pr.ReservationType.WRITE_EXCLUSIVE, 0x0200),
        (pr.ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS, 0x0001),
    ):
        mask |= value if kind in supported else 0
    assert supported <= SENDABLE_TYPES
    return pr.Capabilities(
        replace_lost_reservation_capable=bool(bit("Replace Lost Reservation Capable(RLR_C)")),
        compatible_reservation_handling=bool(bit("Compatible Reservation Handling(CRH)")),
        specify_initiator_ports_capable=bool(bit("Specify Initiator Ports Capable(SIP_C)")),
        all_target_ports_capable=bool(bit("All Target Ports Capable(ATP_C)")),
        persist_through_power_loss_capable=bool(bit("Persist Through Power Loss Capable(PTPL_C)")),
        type_mask_valid=tmv,
        allow_commands=bit("Allow Commands"),
        persist_through_power_loss_active=bool(bit("Persist Through Power Loss Active(PTPL_A)")),
        type_mask=mask,  # sg_persist prints only the defined bits
        supported_types=supported,
    )


def read_full_status(path: str) -> list[dict[str, object]]:
    """One dict per descriptor: key, all_target_ports, relative_target_port
    (None when ALL_TG_PT is set: sg_persist omits it), holder, type, and the
    initiator as sg_persist names it (SAS address or iSCSI text)."""
    text = _output("-i", "-s", path)
    entries: list[dict[str, object]] = []
    for block in re.split(r"^    Key=", text, flags=re.M)[1:]:
        key, _, body = block.partition("\n")
        port = re.search(r"Relative port address: 0x([0-9a-f]+)", body)
        kind = re.search(r"type: (.+)$", body, re.M)
        sas = re.search(r"SAS address: 0x([0-9a-f]+)", body)
        iscsi = re.search(r"iSCSI (?:name|world wide unique port id): (.+)$", body, re.M)
        initiator: object = int(sas.group(1), 16) if sas else iscsi.group(1) if iscsi else None
        entries.append(
            {
                "key": int(key, 16),
                "all_target_ports": "All target ports bit set" in body,
                "relative_target_port": int(port.group(1), 16) if port else None,
                "holder": "<< Reservation holder >>" in body,
                "type": _type(kind.group(1)) if kind else None,
                "initiator": initiator,
            }
        )
    return entries


def describe(status: pr.FullStatus) -> list[dict[str, object]]:
    """pr_native's READ FULL STATUS in the shape read_full_status() returns."""
    entries: list[dict[str, object]] = []
    for r in status.registrants:
        tid = r.transport_id
        initiator: object = tid.sas_address if isinstance(tid, pr.SASTransportID) else str(tid)
        entries.append(
            {
                "key": r.key,
                "all_target_ports": r.all_target_ports,
                "relative_target_port": None if r.all_target_ports else r.relative_target_port,
                "holder": r.holder,
                "type": r.type,
                "initiator": initiator,
            }
        )
    return entries


# sg3_utils' exit status for each pr_native outcome: the library's mapping,
# which `pr-native sg-persist` uses too.
expected_exit_code = exit_code
