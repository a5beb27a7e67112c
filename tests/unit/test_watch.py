"""pr-native watch: which rounds produce which events (no device)."""

from __future__ import annotations

import errno
import json
from datetime import datetime, timezone

import pr_native as pr
from pr_native.poll import PollResult
from pr_native.sense import decode_sense
from pr_native.watch import Watcher

NOW = datetime(2026, 11, 25, 21, 0, 0, 123000, tzinfo=timezone.utc)
T = pr.ReservationType


def state(generation: int, keys: tuple[int, ...], holder: int | None = None) -> PollResult:
    reservation = (
        None if holder is None else pr.Reservation(holder, T.EXCLUSIVE_ACCESS, pr.Scope.LU)
    )
    return PollResult(
        "/dev/sg1",
        pr.Registrations(generation, keys),
        pr.ReservationStatus(generation, reservation),
        0.001,
    )


def events(watcher: Watcher, *entries: object) -> list[str]:
    return [e.event for e in watcher.round(list(entries), NOW)]


def test_events_only_on_change() -> None:
    watcher = Watcher(["/dev/sg1"])
    assert events(watcher, state(1, ())) == ["initial"]
    assert events(watcher, state(1, ())) == []
    (changed,) = watcher.round([state(2, (0xA1,))], NOW)
    assert changed.event == "changed" and changed.changes == ("generation", "keys")
    (taken,) = watcher.round([state(2, (0xA1,), holder=0xA1)], NOW)
    assert taken.changes == ("holder", "type")
    assert taken.to_text() == (
        "2026-11-25T21:00:00.123Z /dev/sg1 changed: holder none -> 0xa1 (EXCLUSIVE_ACCESS), "
        "type none -> EXCLUSIVE_ACCESS"
    )
    doc = taken.to_json()
    assert doc["schema_version"] == 1 and doc["event"] == "changed"
    assert doc["time"] == "2026-11-25T21:00:00.123Z"
    assert doc["state"]["reservation"]["key"] == "0x00000000000000a1"
    assert doc["previous"]["reservation"] is None
    json.dumps(doc)


def test_unit_attention_gone_and_back() -> None:
    watcher = Watcher(["/dev/sg1"])
    events(watcher, state(1, ()))
    raw = bytes([0x70, 0, 6, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x2A, 5, 0, 0, 0, 0])
    ua = pr.UnitAttention("ua", status=2, sense_data=raw, sense=decode_sense(raw))
    (event,) = watcher.round([ua], NOW)
    assert event.event == "unit_attention"
    assert event.to_json()["error"]["sense"]["asc"] == 0x2A
    gone = OSError(errno.ENODEV, "gone")
    assert events(watcher, gone) == ["gone"]
    assert events(watcher, FileNotFoundError(errno.ENOENT, "no node")) == []
    assert events(watcher, state(1, ())) == ["back"]
    busy = pr.DeviceBusy("busy", status=8)
    assert events(watcher, busy) == ["error"]
    assert events(watcher, busy) == []


def test_events_carry_the_lu_name_of_their_device() -> None:
    """Poller.identify()'s names label every event of their device; a
    device without one (it did not answer INQUIRY) has lu_name null."""
    watcher = Watcher(["/dev/sg1", "/dev/sg2"])
    gone = OSError(errno.ENODEV, "No such device", "/dev/sg2")
    name = "naa.6001405ab00000000000000000000001"
    initial, error = watcher.round([state(1, ()), gone], NOW, [name, None])
    assert (initial.event, initial.lu_name) == ("initial", name)
    assert (error.event, error.lu_name) == ("gone", None)
    doc = initial.to_json()
    assert list(doc)[:4] == ["schema_version", "command", "device", "lu_name"]
    assert doc["lu_name"] == name and error.to_json()["lu_name"] is None
    (changed,) = watcher.round([state(2, (0xA1,)), gone], NOW, [name, None])
    assert changed.to_json()["lu_name"] == name
    (unnamed,) = watcher.round([state(3, (0xA1,)), gone], NOW)
    assert unnamed.lu_name is None
