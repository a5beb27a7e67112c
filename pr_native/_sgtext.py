"""sg3_utils' text formats, byte for byte: sg_persist's PR IN output
(prin_work() in src/sg_persist.c), its hex dumps (dStrHexFp() in
lib/sg_lib.c) and TransportID descriptions (sg_decode_transportid_str()).

They work on the raw response, as sg_persist does, so ``pr-native
sg-persist`` prints what sg_persist prints and scripts that match its output
with regular expressions keep working.
"""

from __future__ import annotations

from .constants import PRInAction

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
        lines.append(f"{leadin}Transport Id short or not multiple of 4 [length={len(tid)}]:")
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


def _generation(data: bytes) -> int:
    return int.from_bytes(data[0:4], "big")


def _scope_and_type(byte: int, leadin: str) -> str:
    scope = byte >> 4
    head = f"{leadin}scope: LU_SCOPE, " if scope == 0 else f"{leadin}scope: {scope} "
    return f"{head} type: {TYPE_NAMES[byte & 0x0F]}"


def prin_text(action: PRInAction, data: bytes, hex_level: int, allocation: int) -> list[str]:
    """sg_persist's stdout for a successful PR IN with response ``data``
    (``hex_level``: how many -H were given).  For a REPORT CAPABILITIES
    response whose length byte is not 8 (``capabilities_malformed``) these
    are only the hex lines sg_persist prints before failing."""
    data = data + bytes(max(0, 8 - len(data)))
    if action == PRInAction.REPORT_CAPABILITIES:
        return _capabilities_text(data, hex_level)
    generation = _generation(data)
    additional = int.from_bytes(data[4:8], "big", signed=True)
    body = data[8:]
    if hex_level > 1:
        return hex_lines(data[: additional + 8], 1 if hex_level == 2 else -1)
    if hex_level:
        first = f"  PR generation=0x{generation:x}, "
        lines = []
        if additional <= 0:
            lines.append(first + f"Additional length={additional}")
            first = ""
        if additional > allocation - 8:
            lines.append(first + f"Additional length too large={additional}, truncate")
            return lines + hex_lines(body[: allocation - 8], 1)
        lines.append(first + f"Additional length={additional}")
        return lines + hex_lines(body[:additional], 1)
    if action == PRInAction.READ_KEYS:
        return _keys_text(generation, additional, body)
    if action == PRInAction.READ_RESERVATION:
        head = f"  PR generation=0x{generation:x}, "
        if additional // 16 <= 0:
            return [head + "there is NO reservation held"]
        return [
            head + "Reservation follows:",
            f"    Key=0x{int.from_bytes(body[0:8], 'big'):x}",
            _scope_and_type(body[13], "    "),
        ]
    return _full_status_text(generation, additional, body)


def _keys_text(generation: int, additional: int, body: bytes) -> list[str]:
    head = f"  PR generation=0x{generation:x}, "
    count = additional // 8
    if count <= 0:
        return [head + "there are NO registered reservation keys"]
    noun = (
        "1 registered reservation key follows:"
        if count == 1
        else (f"{count} registered reservation keys follow:")
    )
    keys = [f"    0x{int.from_bytes(body[8 * k : 8 * k + 8], 'big'):x}" for k in range(count)]
    return [head + noun, *keys]


def _full_status_text(generation: int, additional: int, body: bytes) -> list[str]:
    lines = [f"  PR generation=0x{generation:x}"]
    if additional == 0:
        lines.append("  No full status descriptors")
    offset = 0
    while offset < additional and offset + 24 <= len(body):
        descriptor = body[offset:]
        tid_length = int.from_bytes(descriptor[20:24], "big")
        lines.append(f"    Key=0x{int.from_bytes(descriptor[0:8], 'big'):x}")
        if descriptor[12] & 0x2:
            lines.append("      All target ports bit set")
        else:
            lines.append("      All target ports bit clear")
            lines.append(
                f"      Relative port address: 0x{int.from_bytes(descriptor[18:20], 'big'):x}"
            )
        if descriptor[12] & 0x1:
            lines.append("      << Reservation holder >>")
            lines.append(_scope_and_type(descriptor[13], "      "))
        else:
            lines.append("      not reservation holder")
        if tid_length > 0:
            lines += transport_id_lines(descriptor[24 : 24 + tid_length])
        offset += 24 + tid_length
    return lines


def capabilities_malformed(data: bytes) -> bool:
    """sg_persist insists on LENGTH 8 in a REPORT CAPABILITIES response."""
    return len(data) < 2 or data[1] != 8


def _capabilities_text(data: bytes, hex_level: int) -> list[str]:
    if capabilities_malformed(data):
        return hex_lines(data[: data[1]], 1) if hex_level else []
    if hex_level:
        return hex_lines(data[:8], 1)
    b2, b3, b4, b5 = data[2], data[3], data[4], data[5]
    lines = [
        "Report capabilities response:",
        f"  Replace Lost Reservation Capable(RLR_C): {int(bool(b2 & 0x80))}",
        f"  Compatible Reservation Handling(CRH): {int(bool(b2 & 0x10))}",
        f"  Specify Initiator Ports Capable(SIP_C): {int(bool(b2 & 0x8))}",
        f"  All Target Ports Capable(ATP_C): {int(bool(b2 & 0x4))}",
        f"  Persist Through Power Loss Capable(PTPL_C): {int(bool(b2 & 0x1))}",
        f"  Type Mask Valid(TMV): {int(bool(b3 & 0x80))}",
        f"  Allow Commands: {(b3 >> 4) & 0x7}",
        f"  Persist Through Power Loss Active(PTPL_A): {int(bool(b3 & 0x1))}",
    ]
    if b3 & 0x80:
        lines.append("    Support indicated in Type mask:")
        for name, bit in (
            (TYPE_NAMES[7], b4 & 0x80),
            (TYPE_NAMES[6], b4 & 0x40),
            (TYPE_NAMES[5], b4 & 0x20),
            (TYPE_NAMES[3], b4 & 0x8),
            (TYPE_NAMES[1], b4 & 0x2),
            (TYPE_NAMES[8], b5 & 0x1),
        ):
            lines.append(f"      {name}: {int(bool(bit))}")
    return lines


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
