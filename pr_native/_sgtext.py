"""sg3_utils' text formats, byte for byte: sg_persist's PR IN output
(prin_work() in src/sg_persist.c), its hex dumps (dStrHexFp() in
lib/sg_lib.c) and TransportID descriptions (sg_decode_transportid_str()).

The output is that of sg_persist 0.67 (sg3-utils 1.46, Debian bookworm;
prin_work() prints the same in 0.73), so scripts that match its output with
regular expressions keep working.  The text is formatted from what the C
decoders (``_decode``) made of the response, never by reading its fields
again; only hex dumps, and the TransportIDs the C core delimits, are shown
from their bytes.

A response cut short (a small ``--alloc-length``) differs on purpose:
sg_persist trusts ADDITIONAL LENGTH and formats the zeroed rest of its buffer
as if the device had sent it ("0x0" keys, type "obsolete [0]"); here only
what the decoders received whole is printed, and a one-line warning goes to
stderr (sg_persist's own where it has one: -H's "truncate").
"""

from __future__ import annotations

from . import _decode
from ._native import lib
from ._record import TYPE_CHECKING, Record
from .constants import PRInAction

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

TYPE_NAMES = (
    "obsolete [0]",
    "Write Exclusive",
    "obsolete [2]",
    "Exclusive Access",
    "obsolete [4]",
    "Write Exclusive, registrants only",
    "Exclusive Access, registrants only",
    "Write Exclusive, all registrants",
    "Exclusive Access, all registrants",
    "obsolete [9]",
    "obsolete [0xa]",
    "obsolete [0xb]",
    "obsolete [0xc]",
    "obsolete [0xd]",
    "obsolete [0xe]",
    "obsolete [0xf]",
)

# sg_lib_pdt_strs (lib/sg_lib_data.c), by peripheral device type.
PDT_NAMES = (
    "disk",
    "tape",
    "printer",
    "processor",
    "write once optical disk",
    "cd/dvd",
    "scanner",
    "optical memory device",
    "medium changer",
    "communications",
    "graphics [0xa]",
    "graphics [0xb]",
    "storage array controller",
    "enclosure services device",
    "simplified direct access device",
    "optical card reader/writer device",
    "bridge controller commands",
    "object based storage",
    "automation/driver interface",
    "security manager device",
    "host managed zoned block",
    *(f"0x{n:x}" for n in range(0x15, 0x1E)),
    "well known logical unit",
    "unknown or no device type",
)


def _printable(byte: int) -> bool:
    return 0x20 <= byte < 0x7F


def hex_lines(data: bytes, no_ascii: int) -> list[str]:
    """dStrHexFp(): 16 bytes a line; ``no_ascii`` 0: offset, hex and ASCII;
    1: offset and hex; -1: hex only."""
    lines: list[str] = []
    if no_ascii < 0:
        for start in range(0, len(data), 16):
            chunk = data[start : start + 16]
            left = " ".join(f"{b:02x}" for b in chunk[:8])
            right = " ".join(f"{b:02x}" for b in chunk[8:])
            lines.append((left + ("  " + right if right else "")).rstrip())
        return lines
    for start in range(0, len(data), 16):
        chunk = data[start : start + 16]
        address = f"{start:02x}"
        line = list(" " + address + " " * (79 - len(address)))
        pos = 5
        for i, byte in enumerate(chunk):
            pos += 3
            if pos == 5 + 27:
                pos += 1
            line[pos : pos + 2] = f"{byte:02x}"
            if not no_ascii:
                line[60 + i] = chr(byte) if _printable(byte) else "."
        if no_ascii:
            lines.append("".join(line).rstrip())
        elif len(chunk) == 16:
            lines.append("".join(line)[:76])
        else:
            lines.append("".join(line)[: 60 + len(chunk)])
    return lines


def _hex_str(data: bytes, leadin: str, ascii: bool = False) -> list[str]:
    """dStrHexStr() (hex2str()): the leadin, then 16 bytes of hex a line;
    oformat 0 (``ascii``) adds the printable characters in a column."""
    lines = []
    width = len(leadin) + 16 * 3 + 1
    for start in range(0, len(data), 16):
        chunk = data[start : start + 16]
        left = " ".join(f"{b:02x}" for b in chunk[:8])
        right = " ".join(f"{b:02x}" for b in chunk[8:])
        hex_part = (leadin + left + ("  " + right if right else "")).rstrip()
        if ascii:
            text = "".join(chr(b) if _printable(b) else "." for b in chunk)
            lines.append(f"{hex_part:<{width}}   {text:<16}")
        else:
            lines.append(hex_part)
    return lines


def transport_id_lines(tid: bytes, leadin: str = "      ") -> list[str]:
    """sg_decode_transportid_str() for one TransportID."""
    lines = []
    if len(tid) < 24 or len(tid) % 4:
        # sg_decode_transportid_str() prints its output buffer's size as the
        # length, and decodes a short TransportID from the bytes after it:
        # here its real length, and a short one's own bytes in hex.
        lines.append(f"{leadin}Transport Id short or not multiple of 4 [length={len(tid)}]:")
        if len(tid) < 24:
            return lines + _hex_str(tid, leadin)
    else:
        lines.append(f"{leadin}Transport Id of initiator:")
    tpid_format, protocol = tid[0] >> 6, tid[0] & 0x0F
    unexpected = f"{leadin}  [Unexpected TPID format: {tpid_format}]"
    normal = tid[:24]
    if protocol == 0x0:
        lines.append(f"{leadin}  FCP-2 World Wide Name:")
        lines += [unexpected] if tpid_format else []
        lines += _hex_str(tid[8:16], leadin)
    elif protocol == 0x1:
        lines.append(
            f"{leadin}  Parallel SCSI initiator SCSI address: 0x{int.from_bytes(tid[2:4], 'big'):x}"
        )
        lines += [unexpected] if tpid_format else []
        lines.append(
            f"{leadin}  relative port number (of corresponding target): "
            f"0x{int.from_bytes(tid[6:8], 'big'):x}"
        )
    elif protocol == 0x3:
        lines.append(f"{leadin}  IEEE 1394 EUI-64 name:")
        lines += [unexpected] if tpid_format else []
        lines += _hex_str(tid[8:16], leadin)
    elif protocol == 0x4:
        lines.append(f"{leadin}  RDMA initiator port identifier:")
        lines += [unexpected] if tpid_format else []
        lines += _hex_str(tid[8:24], leadin)
    elif protocol == 0x5:
        length = int.from_bytes(tid[2:4], "big")
        name = tid[4 : 4 + length].split(b"\0", 1)[0].decode("latin-1")
        if tpid_format == 0:
            lines.append(f"{leadin}  iSCSI name: {name}")
        elif tpid_format == 1:
            lines.append(f"{leadin}  iSCSI world wide unique port id: {name}")
        else:
            lines.append(f"{leadin}  iSCSI   [Unexpected TPID format: {tpid_format}]")
            lines += _hex_str(tid[: length + 4], leadin, ascii=True)
    elif protocol == 0x6:
        lines.append(f"{leadin}  SAS address: 0x{int.from_bytes(tid[4:12], 'big'):x}")
        lines += [unexpected] if tpid_format else []
    elif protocol == 0xA and tpid_format == 0:
        lines.append(f"{leadin}  SOP Routing ID: 0x{int.from_bytes(tid[2:4], 'big'):x}")
    elif protocol == 0xF:
        lines.append(f"{leadin}  No specified protocol")
    else:
        named = {0x2: "SSA (transport id not defined):", 0x7: "ADT:", 0x8: "ATAPI:"}
        named.update({0x9: "UAS:", 0xB: "PCIE:"})
        if protocol == 0xA:
            lines.append(f"{leadin}  SOP   [Unexpected TPID format: {tpid_format}]")
        elif protocol in named:
            lines.append(f"{leadin}  {named[protocol]}")
            lines.append(f"{leadin}  TPID format: {tpid_format}")
        else:
            lines.append(f"{leadin}  unknown protocol id=0x{protocol:x}  TPID format={tpid_format}")
        lines += _hex_str(normal, leadin)
    return lines


_HEADER_LEN = 8  # PRGENERATION and ADDITIONAL LENGTH (SPC-4 6.15.1)


class PRInText(Record):
    """What sg_persist prints for one PR IN response."""

    __slots__ = ()

    stdout: list[str]
    warning: str = ""
    """One line for stderr, or ""."""
    malformed: bool = False
    """The response violates SPC: exit with SG_LIB_CAT_MALFORMED."""


def _truncated(needed: int, received: int) -> str:
    if received >= needed:
        return ""
    return (
        f"PR in: response truncated to {received} of {needed} bytes; "
        "what was not received in full is not shown"
    )


def _scope_and_type(scope: int, type: int, leadin: str) -> str:
    head = f"{leadin}scope: LU_SCOPE, " if scope == 0 else f"{leadin}scope: {scope} "
    return f"{head} type: {TYPE_NAMES[type]}"


def prin_text(action: PRInAction, data: bytes, hex_level: int, allocation: int) -> PRInText:
    """sg_persist's output for a successful PR IN that returned ``data``
    (``hex_level``: how many -H were given; ``allocation``: -l)."""
    if action == PRInAction.REPORT_CAPABILITIES:
        return _capabilities_text(data, hex_level)
    decoded = _DECODERS[action](data)
    if hex_level > 1:  # hex2stdout(pr_buff, add_len + 8, ...)
        lines = hex_lines(data[: decoded.needed], 1 if hex_level == 2 else -1)
        return PRInText(lines, _truncated(decoded.needed, len(data)))
    if len(data) < _HEADER_LEN:
        return PRInText([], _truncated(decoded.needed, len(data)))
    if hex_level:
        return _hex_text(decoded, data, allocation)
    warning = _truncated(decoded.needed, len(data))
    malformed = decoded.rc != lib.PR_OK and not warning
    if malformed:
        warning = (
            f"PR in: malformed response (ADDITIONAL LENGTH {decoded.out.additional_length}); "
            "only what decodes is shown"
        )
    return PRInText(_TEXT[action](decoded, data), warning, malformed)


def _hex_text(decoded: _decode.Decoded, data: bytes, allocation: int) -> PRInText:
    """prin_work() with one -H: the header fields, then the rest in hex."""
    first = f"  PR generation=0x{decoded.out.generation:x}, "
    additional = decoded.out.additional_length
    lines = []
    if additional == 0:  # printed here and again below, as sg_persist does
        lines.append(first + "Additional length=0")
        first = ""
    # ADDITIONAL LENGTH is unsigned here: sg_persist prints one of 2**31 or
    # more as a negative number.
    if additional > allocation - _HEADER_LEN:  # sg_persist's own warning
        lines.append(first + f"Additional length too large={additional}, truncate")
        return PRInText(lines + hex_lines(data[_HEADER_LEN:], 1))
    lines.append(first + f"Additional length={additional}")
    lines += hex_lines(data[_HEADER_LEN : _HEADER_LEN + additional], 1)
    return PRInText(lines, _truncated(decoded.needed, len(data)))


def _keys_text(decoded: _decode.Decoded, data: bytes) -> list[str]:
    """prin_work()'s PRIN_RKEY_SA branch.  The count is ADDITIONAL LENGTH's;
    the keys are those received whole (sg_persist prints all of them, the
    missing ones from its zeroed buffer as 0x0)."""
    out = decoded.out
    head = f"  PR generation=0x{out.generation:x}, "
    count = out.additional_length // 8
    if count == 0:
        return [head + "there are NO registered reservation keys"]
    if count == 1:
        head += "1 registered reservation key follows:"
    else:
        head += f"{count} registered reservation keys follow:"
    return [head, *(f"    0x{decoded.items[i]:x}" for i in range(out.count))]


def _reservation_text(decoded: _decode.Decoded, data: bytes) -> list[str]:
    """prin_work()'s PRIN_RRES_SA branch."""
    out = decoded.out
    head = f"  PR generation=0x{out.generation:x}, "
    if out.additional_length // 16 == 0:
        return [head + "there is NO reservation held"]
    lines = [head + "Reservation follows:"]
    if out.reserved:  # the whole descriptor arrived (else sg_persist prints zeros)
        lines.append(f"    Key=0x{out.key:x}")
        lines.append(_scope_and_type(out.scope, out.type, "    "))
    return lines


def _full_status_text(decoded: _decode.Decoded, data: bytes) -> list[str]:
    """prin_work()'s PRIN_RFSTAT_SA branch."""
    out = decoded.out
    lines = [f"  PR generation=0x{out.generation:x}"]
    if out.additional_length == 0:
        lines.append("  No full status descriptors")
    for r in decoded.items[0 : out.count]:
        lines.append(f"    Key=0x{r.key:x}")
        if r.all_target_ports:
            lines.append("      All target ports bit set")
        else:
            lines.append("      All target ports bit clear")
            lines.append(f"      Relative port address: 0x{r.relative_target_port:x}")
        if r.holder:
            lines.append("      << Reservation holder >>")
            lines.append(_scope_and_type(r.scope, r.type, "      "))
        else:
            lines.append("      not reservation holder")
        if r.transport_id_length:
            start = r.transport_id_offset
            lines += transport_id_lines(data[start : start + r.transport_id_length])
    return lines


_DECODERS: dict[PRInAction, Callable[[bytes], _decode.Decoded]] = {
    PRInAction.READ_KEYS: _decode.read_keys,
    PRInAction.READ_RESERVATION: _decode.read_reservation,
    PRInAction.READ_FULL_STATUS: _decode.read_full_status,
}
_TEXT: dict[PRInAction, Callable[[_decode.Decoded, bytes], list[str]]] = {
    PRInAction.READ_KEYS: _keys_text,
    PRInAction.READ_RESERVATION: _reservation_text,
    PRInAction.READ_FULL_STATUS: _full_status_text,
}


def _capabilities_text(data: bytes, hex_level: int) -> PRInText:
    """prin_work()'s PRIN_RCAP_SA branch."""
    decoded = _decode.report_capabilities(data)
    out: Any = decoded.out
    if len(data) >= 2 and out.length != 8:  # LENGTH arrived: "8 != pr_buff[1]"
        lines = hex_lines(data[: out.length], 1) if hex_level else []
        return PRInText(lines, "Unexpected response for PRIN Report Capabilities", True)
    if decoded.rc != lib.PR_OK:  # cut short before its 8 bytes
        lines = hex_lines(data, 1) if hex_level else []
        return PRInText(lines, _truncated(decoded.needed, len(data)))
    if hex_level:
        return PRInText(hex_lines(data[:8], 1))
    lines = [
        "Report capabilities response:",
        f"  Replace Lost Reservation Capable(RLR_C): {out.replace_lost_reservation_capable}",
        f"  Compatible Reservation Handling(CRH): {out.compatible_reservation_handling}",
        f"  Specify Initiator Ports Capable(SIP_C): {out.specify_initiator_ports_capable}",
        f"  All Target Ports Capable(ATP_C): {out.all_target_ports_capable}",
        f"  Persist Through Power Loss Capable(PTPL_C): {out.persist_through_power_loss_capable}",
        f"  Type Mask Valid(TMV): {out.type_mask_valid}",
        f"  Allow Commands: {out.allow_commands}",
        f"  Persist Through Power Loss Active(PTPL_A): {out.persist_through_power_loss_active}",
    ]
    if out.type_mask_valid:
        lines.append("    Support indicated in Type mask:")
        for kind, bit in _decode.TYPE_MASK_BITS.items():
            lines.append(f"      {TYPE_NAMES[kind]}: {int(bool(out.type_mask & bit))}")
    return PRInText(lines)


def inquiry_text(data: bytes) -> list[str]:
    """The two lines sg_persist prints from INQUIRY unless -n is given."""
    data = data + bytes(max(0, 36 - len(data)))

    def text(raw: bytes) -> str:
        return raw.decode("latin-1")

    pdt = data[0] & 0x1F
    return [
        f"  {text(data[8:16])}  {text(data[16:32])}  {text(data[32:36])}",
        f"  Peripheral device type: {PDT_NAMES[pdt]}",
    ]
