"""One PERSISTENT RESERVE OUT as the command lines describe it: its bytes
(for --dry-run) and the one Device method that sends exactly those bytes.
Shared by ``pr-native`` and ``pr-native sg-persist``."""

from __future__ import annotations

from . import cdb
from ._record import Record
from .constants import PROutAction, ReservationType, Scope
from .device import Device
from .transport_id import TransportID


class OutRequest(Record):
    """Everything one PERSISTENT RESERVE OUT sends."""

    __slots__ = ()

    action: PROutAction
    key: int = 0
    service_action_key: int = 0
    type: ReservationType | None = None
    aptpl: bool = False
    all_target_ports: bool = False
    unregister: bool = False
    relative_target_port: int = 0
    transport_ids: tuple[TransportID, ...] = ()

    def parameters(self) -> bytes:
        return cdb.pr_out_parameters(
            self.action,
            self.key,
            self.service_action_key,
            aptpl=self.aptpl,
            all_target_ports=self.all_target_ports,
            transport_ids=self.transport_ids,
            unregister=self.unregister,
            relative_target_port=self.relative_target_port,
        )

    def cdb(self, parameters: bytes) -> bytes:
        kind = 0 if self.type is None else self.type
        return cdb.pr_out_cdb(self.action, Scope.LU, kind, len(parameters))

    def required_type(self) -> ReservationType:
        """The type of RESERVE, RELEASE, PREEMPT (AND ABORT), REPLACE LOST;
        the others never use it (register-move passes ``type`` itself)."""
        if self.type is None and self.action in TYPED_ACTIONS:
            raise ValueError(f"{self.action.name} needs a reservation type")
        return self.type or ReservationType.WRITE_EXCLUSIVE

    def send(self, device: Device) -> None:
        """The Device method that sends exactly these bytes (once)."""
        a, kind = PROutAction, self.required_type()
        if self.action == a.REGISTER:
            device.register(
                self.service_action_key,
                key=self.key,
                aptpl=self.aptpl,
                all_target_ports=self.all_target_ports,
                transport_ids=self.transport_ids,
            )
        elif self.action == a.REGISTER_AND_IGNORE_EXISTING_KEY:
            device.register_and_ignore(
                self.service_action_key, aptpl=self.aptpl, all_target_ports=self.all_target_ports
            )
        elif self.action == a.RESERVE:
            device.reserve(self.key, kind)
        elif self.action == a.RELEASE:
            device.release(self.key, kind)
        elif self.action == a.CLEAR:
            device.clear(self.key)
        elif self.action == a.PREEMPT:
            device.preempt(self.key, self.service_action_key, kind)
        elif self.action == a.PREEMPT_AND_ABORT:
            device.preempt_and_abort(self.key, self.service_action_key, kind)
        elif self.action == a.REGISTER_AND_MOVE:
            device.register_and_move(
                self.key,
                self.service_action_key,
                self.relative_target_port,
                self.transport_ids[0],
                unregister=self.unregister,
                aptpl=self.aptpl,
                type=self.type,
            )
        else:
            device.replace_lost_reservation(self.key, kind)


TYPED_ACTIONS = frozenset(
    {
        PROutAction.RESERVE,
        PROutAction.RELEASE,
        PROutAction.PREEMPT,
        PROutAction.PREEMPT_AND_ABORT,
        PROutAction.REPLACE_LOST_RESERVATION,
    }
)
