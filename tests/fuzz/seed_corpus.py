"""Seed inputs for the libFuzzer targets, from the unit tests' golden bytes
and from real responses of the LIO lab.

    python tests/fuzz/seed_corpus.py tests        # record what the golden tests decode
    python tests/lab/prlab.py run --share DIR -- \\
        python tests/fuzz/seed_corpus.py lab DIR  # capture LIO's responses in the lab

``tests`` runs the unit tests that hold hand-built responses and parameter
lists with every call to the C decoders and builders recorded, and writes
each distinct input to tests/fuzz/corpus/<target>/test-<sha1>.  ``lab``
(in the guest: PRLAB_IN_GUEST=1) registers, reserves and preempts on the
lab's LU, and writes the raw PR IN responses and sense data it gets to
DIR/<target>/lab-<fabric>-<what>; copy the ones worth keeping into
tests/fuzz/corpus.  Both are run by hand: the files are checked in.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = HERE / "corpus"
GOLDEN_TESTS = (
    "tests/unit/test_decode.py",
    "tests/unit/test_sense.py",
    "tests/unit/test_parameters.py",
    "tests/unit/test_sgtext.py",
)
DECODERS = {
    "pr_decode_read_keys": "read_keys",
    "pr_decode_read_reservation": "read_reservation",
    "pr_decode_report_capabilities": "report_capabilities",
    "pr_decode_read_full_status": "read_full_status",
    "pr_decode_sense": "sense",
}


def out_parameters_input(request: Any, tids: bytes, extra_capacity: int = 0) -> bytes:
    """A pr_out_request in fuzz_out_parameters.c's input format."""
    header = bytes(
        [
            request.service_action,
            request.scope,
            request.type,
            request.aptpl,
            request.all_target_ports,
            request.unregister,
        ]
    )
    header += request.key.to_bytes(8, "big") + request.service_action_key.to_bytes(8, "big")
    header += request.relative_target_port.to_bytes(2, "big") + bytes([extra_capacity])
    return bytes(header + tids)


def poll_decode_input(entries: list[tuple[int, bytes]]) -> bytes:
    """(service action, response) pairs in fuzz_poll_decode.c's input format."""
    data = bytes([len(entries) - 1])
    for action, response in entries:
        max_keys = min(255, len(response) // 8 + 1)
        data += bytes([0, action, max_keys, 0]) + len(response).to_bytes(2, "big") + response
    return data


def write(target: str, name: str, data: bytes, corpus: Path = CORPUS) -> None:
    directory = corpus / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)


def sha1_name(prefix: str, data: bytes) -> str:
    return f"{prefix}-{hashlib.sha1(data).hexdigest()[:16]}"


class _Recording:
    """Stands in for ``lib`` in the modules that call the pure C functions."""

    def __init__(self, lib: Any, ffi: Any, seen: dict[str, set[bytes]]) -> None:
        self._lib, self._ffi, self._seen = lib, ffi, seen

    def __getattr__(self, name: str) -> Any:
        function = getattr(self._lib, name)
        if name in DECODERS:

            def decode(data: Any, length: int, *rest: Any) -> Any:
                self._seen.setdefault(DECODERS[name], set()).add(bytes(data[:length]))
                return function(data, length, *rest)

            return decode
        if name == "pr_build_out_parameters":

            def build(request: Any, *rest: Any) -> Any:
                tids = bytes(self._ffi.buffer(request.transport_ids, request.transport_ids_length))
                seed = out_parameters_input(request, tids)
                self._seen.setdefault("out_parameters", set()).add(seed)
                return function(request, *rest)

            return build
        return function


def from_tests() -> int:
    import pytest

    import pr_native._decode
    import pr_native.cdb
    import pr_native.sense
    from pr_native._native import ffi, lib

    seen: dict[str, set[bytes]] = {}
    recording = _Recording(lib, ffi, seen)
    for module in (pr_native._decode, pr_native.cdb, pr_native.sense):
        setattr(module, "lib", recording)  # noqa: B010 (replaced for the recording)
    os.chdir(ROOT)
    status = pytest.main(["-q", "-p", "no:cacheprovider", *GOLDEN_TESTS])
    if status != 0:
        return int(status)
    for target, inputs in seen.items():
        for data in inputs:
            write(target, sha1_name("test", data), data)
    pairs = [(0, d) for d in seen.get("read_keys", ())]
    pairs += [(1, d) for d in seen.get("read_reservation", ())]
    for action, data in pairs:
        seed = poll_decode_input([(action, data)])
        write("poll_decode", sha1_name("test", seed), seed)
    print({target: len(inputs) for target, inputs in seen.items()})
    return 0


def from_lab(out: Path) -> int:
    """In the lab guest: LIO's own responses, in the states a cluster sees."""
    import pr_native as pr
    from pr_native._native import ffi, lib

    fabric = os.environ["PRLAB_FABRIC"]
    a, b, c = (pr.Device(os.environ[f"{x}_SG"]) for x in "ABC")
    actions = {
        "read_keys": pr.PRInAction.READ_KEYS,
        "read_reservation": pr.PRInAction.READ_RESERVATION,
        "report_capabilities": pr.PRInAction.REPORT_CAPABILITIES,
        "read_full_status": pr.PRInAction.READ_FULL_STATUS,
    }

    def capture(state: str, allocations: tuple[int, ...] = (8192,)) -> None:
        for target, action in actions.items():
            for allocation in allocations:
                data = a._read_response(action, allocation, 10_000)
                cut = "" if allocation == 8192 else f"-cut{allocation}"
                write(target, f"lab-{fabric}-{state}{cut}", data, out)

    def sense_of(name: str, cdb: bytes, parameters: bytes = b"") -> None:
        """Send a raw CDB through A's node and keep the sense data LIO returns."""
        result = ffi.new("struct pr_result *")
        buffer = ffi.new("uint8_t[]", max(len(parameters), 8192))
        ffi.memmove(buffer, parameters, len(parameters))
        direction = lib.PR_DIR_TO_DEVICE if parameters else lib.PR_DIR_FROM_DEVICE
        lib.pr_execute(
            a._device, cdb, len(cdb), direction, buffer, max(len(parameters), 16), 10_000, result
        )
        if result.sense_len:
            write("sense", f"lab-{fabric}-{name}", bytes(result.sense[0 : result.sense_len]), out)

    def inquiry(target: str, evpd: int, page: int, allocation: int = 255) -> None:
        cdb = ffi.new("uint8_t[6]")
        assert lib.pr_build_inquiry_cdb(cdb, evpd, page, allocation) == lib.PR_OK
        result = ffi.new("struct pr_result *")
        buffer = ffi.new("uint8_t[]", allocation)
        rc = lib.pr_execute(
            a._device, cdb, 6, lib.PR_DIR_FROM_DEVICE, buffer, allocation, 10_000, result
        )
        assert rc == lib.PR_OK, rc
        cut = "" if allocation == 255 else f"-cut{allocation}"
        data = bytes(buffer[0 : result.transferred])
        write(
            target,
            f"lab-{fabric}-page-{page:02x}{cut}" if evpd else f"lab-{fabric}{cut}",
            data,
            out,
        )

    inquiry("inquiry", 0, 0)
    inquiry("inquiry", 0, 0, 36)
    inquiry("supported_vpd_pages", 1, 0x00)
    inquiry("unit_serial_number", 1, 0x80)
    inquiry("device_identification", 1, 0x83)
    inquiry("device_identification", 1, 0x83, 24)
    for device in (a, b, c):
        device.register_and_ignore(0)
    capture("empty")
    a.register(0xA1)
    b.register(0xB2)
    c.register(0xC3, aptpl=True)
    capture("three-registered")
    a.reserve(0xA1, pr.ReservationType.WRITE_EXCLUSIVE_REGISTRANTS_ONLY)
    capture("reserved", (8192, 8, 20, 30, 40))
    b.preempt(0xB2, preempt_key=0xA1, type=pr.ReservationType.EXCLUSIVE_ACCESS)
    try:
        a.read_keys()  # the unit attention the preemption left for A
    except pr.UnitAttention as error:
        write("sense", f"lab-{fabric}-registrations-preempted", error.sense_data, out)
    capture("preempted")
    b.release(0xB2, pr.ReservationType.EXCLUSIVE_ACCESS)
    a.register(0xA1)
    a.reserve(0xA1, pr.ReservationType.EXCLUSIVE_ACCESS_ALL_REGISTRANTS)
    capture("all-registrants")
    # ILLEGAL REQUEST from LIO: a PR IN service action that does not exist,
    # and a PR OUT parameter list of the wrong length.
    sense_of("invalid-service-action", bytes([0x5E, 0x1F, 0, 0, 0, 0, 0, 0x20, 0, 0]))
    sense_of(
        "parameter-list-length",
        bytes([0x5F, 0x00, 0, 0, 0, 0, 0, 0, 20, 0]),
        bytes(20),
    )
    b.clear(0xB2)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["tests"]:
        return from_tests()
    if argv[:1] == ["lab"] and len(argv) == 2 and os.environ.get("PRLAB_IN_GUEST") == "1":
        return from_lab(Path(argv[1]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
