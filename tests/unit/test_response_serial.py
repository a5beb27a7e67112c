"""pr_response_serial (pr_ops.c): the C core's verdict "the same response as
last time", on which read_keys()/read_reservation() reuse a result."""

from __future__ import annotations

from typing import Any

from pr_native._native import ffi, lib

KEYS_TWO = bytes.fromhex("00 00 00 2a 00 00 00 10 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 02")
KEYS_ONE = KEYS_TWO[:7] + b"\x08" + KEYS_TWO[8:16]


def previous(capacity: int) -> tuple[Any, Any]:
    data = ffi.new("uint8_t[]", capacity)
    return ffi.new("struct pr_previous *", {"data": data, "capacity": capacity}), data


def serial(kept: Any, response: bytes) -> int:
    return int(lib.pr_response_serial(kept, ffi.from_buffer(response), len(response)))


def test_the_same_bytes_keep_their_serial_and_any_change_takes_the_next() -> None:
    kept, data = previous(64)
    assert serial(kept, KEYS_TWO) == 1
    assert bytes(ffi.buffer(data, kept.length)) == KEYS_TWO
    assert serial(kept, KEYS_TWO) == 1
    assert serial(kept, KEYS_ONE) == 2
    # Only the previous response is kept: the first one again is new.
    assert serial(kept, KEYS_TWO) == 3
    # One byte, anywhere, and the length alone each make a response new.
    assert serial(kept, KEYS_TWO[:-1] + b"\x03") == 4
    assert serial(kept, KEYS_TWO[:-1] + b"\x03" + b"\x00") == 5
    assert serial(kept, KEYS_TWO[:-1] + b"\x03" + b"\x00") == 5


def test_a_response_longer_than_the_room_is_new_every_time() -> None:
    kept, _ = previous(len(KEYS_TWO) - 1)
    assert serial(kept, KEYS_ONE) == 1
    assert serial(kept, KEYS_TWO) == 2
    assert serial(kept, KEYS_TWO) == 3  # not kept, so never "the same"
    assert serial(kept, KEYS_ONE) == 4
    assert serial(kept, KEYS_ONE) == 4
    empty = ffi.new("struct pr_previous *")  # no room at all
    assert [serial(empty, KEYS_ONE) for _ in range(3)] == [1, 2, 3]


def test_the_serial_wraps_to_one_and_never_reaches_zero() -> None:
    kept, _ = previous(64)
    assert serial(kept, KEYS_ONE) == 1
    kept.serial = 2**31 - 1
    assert serial(kept, KEYS_ONE) == 2**31 - 1  # still the kept bytes
    assert serial(kept, KEYS_TWO) == 1
    assert serial(kept, KEYS_TWO) == 1


def test_a_struct_it_did_not_fill_is_taken_as_keeping_nothing() -> None:
    kept, room = previous(8)
    assert serial(kept, KEYS_ONE[:8]) == 1 and bytes(room) == KEYS_ONE[:8]
    for no_serial in (0, -5):  # the same bytes in the room, but no serial
        kept.serial = no_serial
        assert serial(kept, KEYS_ONE[:8]) == 1
    kept.serial, kept.capacity = 3, 4  # the same bytes, but a length beyond the room
    assert serial(kept, KEYS_ONE[:8]) == 4
    roomless = ffi.new("struct pr_previous *", {"capacity": 64, "length": 8, "serial": 1})
    assert serial(roomless, KEYS_ONE[:8]) == 2  # no room: nothing kept, nothing read
    assert roomless.length == 2**32 - 1 and serial(roomless, KEYS_ONE[:8]) == 3


def test_no_struct_or_no_bytes_is_refused() -> None:
    kept, _ = previous(64)
    assert lib.pr_response_serial(ffi.NULL, ffi.from_buffer(KEYS_ONE), 16) == lib.PR_ERR_ARGUMENT
    assert lib.pr_response_serial(kept, ffi.NULL, 16) == lib.PR_ERR_ARGUMENT
    assert kept.serial == 0


def test_the_hot_path_functions_refuse_no_previous_before_any_io() -> None:
    device = ffi.new("struct pr_device *")
    device.handle = -1
    result = ffi.new("struct pr_result *")
    result.cdb_len, result.os_error = 10, 5  # a previous command's
    buffer = ffi.new("uint8_t[]", 64)
    keys = ffi.new("uint64_t[]", 8)
    keys_out = ffi.new("struct pr_keys *")
    reservation_out = ffi.new("struct pr_reservation *")
    assert (
        lib.pr_read_keys_serial(device, buffer, 64, 1000, keys, 8, keys_out, result, ffi.NULL)
        == lib.PR_ERR_ARGUMENT
    )
    assert (
        lib.pr_read_reservation_serial(device, buffer, 64, 1000, reservation_out, result, ffi.NULL)
        == lib.PR_ERR_ARGUMENT
    )
    # zeroed, as every refused argument leaves it, and no CDB built: nothing sent
    assert (result.cdb_len, result.os_error) == (0, 0)
