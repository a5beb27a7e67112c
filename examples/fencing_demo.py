"""The classic two-host fencing story, against a real SCSI target.

Host A and host B share one logical unit.  Both register, A takes the
reservation, A "fails", B reads the reservation, preempts A's key (PREEMPT,
service action 04h, with B's own key naming A's key as the victim) and takes
over; A's next command gets the unit attention REGISTRATIONS PREEMPTED, and
A can no longer take the reservation back.

Run it through the lab, which boots a guest with the kernel's LIO target:
``scripts/demo``.  Inside the guest it reads the initiators' device nodes
from A_SG and B_SG; it also runs on any two paths to one shared LU:
``python examples/fencing_demo.py /dev/sgA /dev/sgB``.
"""

from __future__ import annotations

import os
import sys

import pr_native as pr

KEY_A = 0xA1A1A1A1
KEY_B = 0xB2B2B2B2
FENCING_TYPE = pr.ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY


def show(step: str, dev: pr.Device) -> None:
    status = dev.read_full_status()
    print(f"\n== {step}")
    print(f"   PR generation {status.generation}, {len(status.registrants)} registration(s)")
    for r in status.registrants:
        holder = f"  HOLDER of {r.type.name}" if r.holder and r.type is not None else ""
        print(f"   key 0x{r.key:x} via {r.transport_id} (port {r.relative_target_port}){holder}")
    if not status.registrants:
        print("   (no registrations)")


def main(argv: list[str]) -> int:
    path_a, path_b = argv[1:3] if len(argv) >= 3 else (os.environ["A_SG"], os.environ["B_SG"])
    with pr.Device(path_a) as host_a, pr.Device(path_b) as host_b:
        show("start", host_a)

        host_a.register(KEY_A)
        host_b.register(KEY_B)
        show("A and B register their keys", host_a)

        host_a.reserve(KEY_A, FENCING_TYPE)
        show(f"A reserves ({FENCING_TYPE.name})", host_a)

        print("\n== A stops responding; B decides to fence it")
        seen = host_b.read_reservation().reservation
        assert seen is not None, "A's reservation should be visible to B"
        print(f"   B reads the reservation: key 0x{seen.key:x}, {seen.type.name}")

        host_b.preempt(KEY_B, preempt_key=seen.key, type=FENCING_TYPE)
        show("B preempts A's key with its own key and takes over", host_b)

        print("\n== A comes back and sends its next command")
        try:
            host_a.read_reservation()
        except pr.UnitAttention as ua:
            condition = ua.condition.name if ua.condition else "?"
            print(f"   A gets UNIT ATTENTION {condition}: {ua.sense}")
        else:
            print("   A got no unit attention (unexpected)")
            return 1
        try:
            host_a.reserve(KEY_A, FENCING_TYPE)
        except pr.ReservationConflict:
            print("   A tries to reserve again: RESERVATION CONFLICT, A is fenced")
        else:
            print("   A could reserve again (unexpected)")
            return 1

        host_b.clear(KEY_B)
        show("B clears the registrations to leave the LU as it found it", host_b)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
