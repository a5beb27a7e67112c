"""READ FULL STATUS: TransportIDs, holders, target ports; ALL_TG_PT, APTPL,
SPEC_I_PT and REGISTER AND MOVE (conformance 3.4-3.6, 3.8)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pr_native as pr

from .conftest import KEY_A, KEY_B, Initiator, drain_unit_attentions

T = pr.ReservationType


def expected_transport_id(initiator: Initiator, fabric: str) -> pr.TransportID:
    """tcm_loop with naa. names reports SAS TransportIDs built from the 16 hex
    digits of the nexus name; iSCSI reports the initiator name with its ISID."""
    if fabric == "loop" and initiator.name.startswith("naa."):
        return pr.SASTransportID(int(initiator.name[4:], 16))
    return pr.ISCSITransportID(initiator.name)


def matches(tid: pr.TransportID, expected: pr.TransportID) -> bool:
    if isinstance(expected, pr.ISCSITransportID) and isinstance(tid, pr.ISCSITransportID):
        return tid.name == expected.name  # the ISID is chosen by the session
    return tid == expected


def registrant_of(status: pr.FullStatus, key: int) -> pr.Registrant:
    (found,) = [r for r in status.registrants if r.key == key]
    return found


def test_full_status_names_each_nexus(
    a: pr.Device, b: pr.Device, initiators: list[Initiator], fabric: str
) -> None:
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, T.EXCLUSIVE_ACCESS)
    status = b.read_full_status()
    assert status.generation == b.read_keys().generation
    holder, other = registrant_of(status, KEY_A), registrant_of(status, KEY_B)
    assert (holder.holder, holder.type, holder.scope) == (True, T.EXCLUSIVE_ACCESS, pr.Scope.LU)
    assert (other.holder, other.type, other.scope) == (False, None, None)
    assert not holder.all_target_ports and not other.all_target_ports
    assert matches(holder.transport_id, expected_transport_id(initiators[0], fabric))
    assert matches(other.transport_id, expected_transport_id(initiators[1], fabric))
    assert holder.relative_target_port > 0 and other.relative_target_port > 0
    if fabric == "iscsi":
        assert isinstance(holder.transport_id, pr.ISCSITransportID)
        assert holder.transport_id.isid is not None


def test_all_registrants_type_marks_every_registrant_holder(a: pr.Device, b: pr.Device) -> None:
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS)
    status = a.read_full_status()
    assert all(r.holder for r in status.registrants)
    assert {r.type for r in status.registrants} == {T.EXCLUSIVE_ACCESS_ALL_REGISTRANTS}


def test_all_target_ports_registration(a: pr.Device) -> None:
    """ALL_TG_PT=1: LIO sets the ALL_TG_PT bit of the registration.  Each lab
    initiator has its own name, so no other port gets registered (X26).

    LIO departs from SPC-4 6.16.3 here: once a nexus is registered with
    ALL_TG_PT=1, every later REGISTER from it must carry ALL_TG_PT=1 too,
    else CHECK CONDITION 05/24/00 (core_scsi3_emulate_pro_register)."""
    a.register(KEY_A, all_target_ports=True)
    (registrant,) = a.read_full_status().registrants
    assert registrant.key == KEY_A and registrant.all_target_ports
    with pytest.raises(pr.IllegalRequest) as info:
        a.unregister(KEY_A)
    assert info.value.sense is not None
    assert (info.value.sense.asc, info.value.sense.ascq) == (0x24, 0x00)
    a.register(0, key=KEY_A, all_target_ports=True)
    assert a.read_keys().keys == ()


def test_aptpl_sets_ptpl_active(a: pr.Device, initiators: list[Initiator]) -> None:
    """APTPL=1 on REGISTER makes REPORT CAPABILITIES show PTPL_A and LIO write
    the registration to <dbroot>/pr/aptpl_<serial>; a later REGISTER with
    APTPL=0 clears both (conformance 3.5)."""
    state = Path(os.environ["PRLAB_DBROOT"]) / "pr" / f"aptpl_{os.environ['PRLAB_SERIAL']}"
    a.register(KEY_A, aptpl=True)
    assert a.report_capabilities().persist_through_power_loss_active
    saved = state.read_text()
    assert f"sa_res_key={KEY_A}" in saved and f"initiator_node={initiators[0].name}" in saved
    a.register(KEY_B, key=KEY_A, aptpl=False)
    assert not a.report_capabilities().persist_through_power_loss_active
    assert state.read_text().startswith("No Registrations or Reservations")


def test_spec_i_pt_registers_another_initiator(
    a: pr.Device, b: pr.Device, c: pr.Device, initiators: list[Initiator], fabric: str
) -> None:
    """SPEC_I_PT: A registers itself and C's port in one command.  Kernels
    before "Generate correct identifiers for PR OUT transport IDs" (2025)
    compare SAS TransportIDs as raw bytes against naa. names and answer
    05/26/00; either outcome is accepted, and must be consistent."""
    target = expected_transport_id(initiators[2], fabric)
    try:
        a.register(KEY_A, transport_ids=[target])
    except pr.IllegalRequest as error:
        assert error.sense is not None and error.sense.asc == 0x26
        assert a.read_keys().keys == ()
        return
    keys = sorted(a.read_keys().keys)
    assert keys == [KEY_A, KEY_A]
    c.unregister(KEY_A)  # C really holds a registration now
    assert a.read_keys().keys == (KEY_A,)


def test_register_and_move(a: pr.Device, b: pr.Device) -> None:
    """REGISTER AND MOVE hands A's reservation to B's nexus, named by the
    TransportID and target port READ FULL STATUS reported for it.  As with
    SPEC_I_PT, older kernels reject SAS TransportIDs with 05/26/00: either
    outcome passes."""
    a.register(KEY_A)
    b.register(KEY_B)
    a.reserve(KEY_A, T.WRITE_EXCLUSIVE)
    destination = registrant_of(a.read_full_status(), KEY_B)
    b.unregister(KEY_B)
    g = a.read_keys().generation
    try:
        a.register_and_move(
            KEY_A,
            KEY_B,
            destination.relative_target_port,
            destination.transport_id,
            unregister=True,
            type=T.WRITE_EXCLUSIVE,
        )
    except pr.IllegalRequest as error:
        assert error.sense is not None and error.sense.asc == 0x26
        assert a.read_reservation().reservation == pr.Reservation(
            KEY_A, T.WRITE_EXCLUSIVE, pr.Scope.LU
        )
        return
    assert a.read_keys() == pr.Registrations(g + 1, (KEY_B,))
    assert a.read_reservation().reservation == pr.Reservation(KEY_B, T.WRITE_EXCLUSIVE, pr.Scope.LU)
    assert drain_unit_attentions(b) == []  # REGISTER AND MOVE sends no UA


def test_replace_lost_reservation_is_not_implemented_by_lio(a: pr.Device) -> None:
    """LIO has no REPLACE LOST RESERVATION (RLR_C=0): 05/24/00."""
    a.register(KEY_A)
    with pytest.raises(pr.IllegalRequest) as info:
        a.replace_lost_reservation(KEY_A, T.EXCLUSIVE_ACCESS)
    assert info.value.sense is not None
    assert (info.value.sense.asc, info.value.sense.ascq) == (0x24, 0x00)
    assert info.value.cdb[:2] == bytes([0x5F, 0x08])
