"""TransportIDs (SPC-4 7.6.4): how an initiator port is named in PR data.

Every protocol SPC defines has its own class; anything else, or any encoding
that is not in the canonical form, is kept byte for byte as a
``RawTransportID``, so ``TransportID.from_bytes(b).to_bytes() == b`` always.
``TransportID.parse`` reads the symbolic forms sg_persist accepts.
"""

from __future__ import annotations

from functools import lru_cache

from ._record import Record
from .constants import ProtocolIdentifier

_FIXED_LENGTH = 24  # every format except iSCSI
_ISCSI_NAME_MAX = 223  # RFC 7143 4.2.7.1: iSCSI names are at most 223 bytes
_ISCSI_ISID_SEPARATOR = ",i,0x"
_ISCSI_PREFIXES = ("iqn.", "eui.", "naa.")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _is_hex(text: str) -> bool:
    return bool(text) and _HEX_DIGITS.issuperset(text)


def _check_uint(value: object, bits: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value < 1 << bits:
        raise ValueError(f"{what} must be in 0 .. 2**{bits}-1, got {value}")
    return value


def _fixed(protocol: ProtocolIdentifier, offset: int, field: bytes) -> bytes:
    data = bytearray(_FIXED_LENGTH)
    data[0] = protocol
    data[offset : offset + len(field)] = field
    return bytes(data)


class TransportID(Record):
    """Base class of every TransportID; use the protocol subclasses.

    ``str()`` of a TransportID is the symbolic form sg_persist prints, which
    ``parse`` reads back; the protocol classes' repr is ``TransportID.parse('...')``.
    """

    __slots__ = ()

    @property
    def protocol(self) -> ProtocolIdentifier:
        """PROTOCOL IDENTIFIER, from the encoded first byte."""
        return ProtocolIdentifier(self.to_bytes()[0] & 0x0F)

    @property
    def format_code(self) -> int:
        """FORMAT CODE (byte 0, bits 7-6): 0, or 1 for iSCSI's initiator-port form."""
        return self.to_bytes()[0] >> 6

    def to_bytes(self) -> bytes:
        """The encoding PR OUT parameter lists carry and READ FULL STATUS reports."""
        raise TypeError("TransportID is abstract: use a protocol subclass")

    def __repr__(self) -> str:
        # The symbolic form sg_persist prints, and parse() reads back.
        if type(self) is TransportID:
            return "TransportID()"
        return f"TransportID.parse({str(self)!r})"

    @staticmethod
    def from_bytes(data: bytes) -> TransportID:
        """Decode a TransportID; never fails (unknown forms become raw)."""
        return _from_bytes(bytes(data))

    @staticmethod
    def parse(text: str) -> TransportID:
        """Parse sg_persist's symbolic forms, or comma/space separated hex bytes.

        ``sas,<16 hex>``, ``fcp,<16 hex>``, ``sbp,<16 hex>``, ``srp,<32 hex>``,
        ``spi,<scsi address>,<relative port>``, ``sop,<routing id hex>``,
        ``iqn.…`` (also ``eui.…``, ``naa.…``), ``iqn.…,i,0x<ISID>``; a ``0x``
        before the hex digits is accepted.
        """
        if not isinstance(text, str):
            raise TypeError(f"transport id text must be a str, not {type(text).__name__}")
        return _parse(text.strip())


class FCPTransportID(TransportID):
    """Fibre Channel: the initiator's N_PORT_NAME (SPC-4 7.6.4.2)."""

    __slots__ = ()

    n_port_name: int
    """N_PORT_NAME, a 64-bit int."""

    def _check(self) -> None:
        _check_uint(self.n_port_name, 64, "n_port_name")

    def to_bytes(self) -> bytes:
        return _fixed(ProtocolIdentifier.FCP, 8, self.n_port_name.to_bytes(8, "big"))

    def __str__(self) -> str:
        return f"fcp,{self.n_port_name:016x}"


class SPITransportID(TransportID):
    """Parallel SCSI (obsolete): SCSI address and relative port (SPC-4 7.6.4.3)."""

    __slots__ = ()

    scsi_address: int
    """SCSI ADDRESS of the initiator (16 bits)."""
    relative_target_port: int
    """RELATIVE TARGET PORT IDENTIFIER of the port the address applies to."""

    def _check(self) -> None:
        _check_uint(self.scsi_address, 16, "scsi_address")
        _check_uint(self.relative_target_port, 16, "relative_target_port")

    def to_bytes(self) -> bytes:
        data = bytearray(_fixed(ProtocolIdentifier.SPI, 2, self.scsi_address.to_bytes(2, "big")))
        data[6:8] = self.relative_target_port.to_bytes(2, "big")
        return bytes(data)

    def __str__(self) -> str:
        return f"spi,{self.scsi_address},{self.relative_target_port}"


class SBPTransportID(TransportID):
    """IEEE 1394 (SBP-3): the initiator's EUI-64 (SPC-4 7.6.4.4)."""

    __slots__ = ()

    eui64: int
    """The initiator port's EUI-64, a 64-bit int."""

    def _check(self) -> None:
        _check_uint(self.eui64, 64, "eui64")

    def to_bytes(self) -> bytes:
        return _fixed(ProtocolIdentifier.SBP, 8, self.eui64.to_bytes(8, "big"))

    def __str__(self) -> str:
        return f"sbp,{self.eui64:016x}"


class SRPTransportID(TransportID):
    """SCSI RDMA: the 16-byte INITIATOR PORT IDENTIFIER (SPC-4 7.6.4.5)."""

    __slots__ = ()

    port_identifier: bytes
    """INITIATOR PORT IDENTIFIER, exactly 16 bytes."""

    def _check(self) -> None:
        if not isinstance(self.port_identifier, bytes) or len(self.port_identifier) != 16:
            raise ValueError("port_identifier must be 16 bytes")

    def to_bytes(self) -> bytes:
        return _fixed(ProtocolIdentifier.SRP, 8, self.port_identifier)

    def __str__(self) -> str:
        return f"srp,{self.port_identifier.hex()}"


class ISCSITransportID(TransportID):
    """iSCSI: the initiator name, plus the ISID for the port form (format 01b).

    Encoded NUL-terminated and NUL-padded to a multiple of 4, with an
    ADDITIONAL LENGTH of at least 20 (SPC-4 7.6.4.6).
    """

    __slots__ = ()

    name: str
    """The iSCSI name (``iqn.``, ``eui.`` or ``naa.``), at most 223 bytes of UTF-8."""
    isid: int | None = None
    """The 48-bit ISID of the initiator-port form, None for the device form."""

    def _check(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, not {type(self.name).__name__}")
        encoded = self.name.encode("utf-8")
        if (
            not self.name.lower().startswith(_ISCSI_PREFIXES)
            or len(encoded) > _ISCSI_NAME_MAX
            or b"\0" in encoded
            or "," in self.name
        ):
            raise ValueError(f"not an iSCSI name (iqn., eui. or naa.): {self.name!r}")
        if self.isid is not None:
            _check_uint(self.isid, 48, "isid")

    def _text(self) -> str:
        if self.isid is None:
            return self.name
        return f"{self.name}{_ISCSI_ISID_SEPARATOR}{self.isid:012x}"

    def to_bytes(self) -> bytes:
        text = self._text().encode("utf-8")
        additional = max(20, (len(text) + 1 + 3) // 4 * 4)
        head = bytes([(0x40 if self.isid is not None else 0) | ProtocolIdentifier.ISCSI, 0])
        return head + additional.to_bytes(2, "big") + text.ljust(additional, b"\0")

    def __str__(self) -> str:
        return self._text()


class SASTransportID(TransportID):
    """SAS: the initiator port's SAS address (SPC-4 7.6.4.7)."""

    __slots__ = ()

    sas_address: int
    """SAS ADDRESS of the initiator port, a 64-bit int."""

    def _check(self) -> None:
        _check_uint(self.sas_address, 64, "sas_address")

    def to_bytes(self) -> bytes:
        return _fixed(ProtocolIdentifier.SAS, 4, self.sas_address.to_bytes(8, "big"))

    def __str__(self) -> str:
        return f"sas,{self.sas_address:016x}"


class SOPTransportID(TransportID):
    """SCSI over PCIe: the ROUTING IDENTIFIER (SPC-5 7.6.4.8)."""

    __slots__ = ()

    routing_id: int
    """ROUTING IDENTIFIER (16 bits)."""

    def _check(self) -> None:
        _check_uint(self.routing_id, 16, "routing_id")

    def to_bytes(self) -> bytes:
        return _fixed(ProtocolIdentifier.SOP, 2, self.routing_id.to_bytes(2, "big"))

    def __str__(self) -> str:
        return f"sop,{self.routing_id:04x}"


class RawTransportID(TransportID):
    """Bytes kept as received: another protocol, or a non-canonical encoding."""

    __slots__ = ()
    __repr__ = Record.__repr__  # bytes kept as received, shown as bytes

    data: bytes
    """The TransportID's bytes, as received or given."""

    def _check(self) -> None:
        if not isinstance(self.data, bytes):
            raise TypeError(f"data must be bytes, not {type(self.data).__name__}")

    @property
    def protocol(self) -> ProtocolIdentifier:
        return ProtocolIdentifier(self.data[0] & 0x0F if self.data else ProtocolIdentifier.NONE)

    @property
    def format_code(self) -> int:
        return self.data[0] >> 6 if self.data else 0

    def to_bytes(self) -> bytes:
        return self.data

    def __str__(self) -> str:
        return ",".join(f"{b:02x}" for b in self.data)


@lru_cache(maxsize=4096)
def _from_bytes(data: bytes) -> TransportID:
    # TransportIDs are immutable and a monitor reads the same few on every
    # READ FULL STATUS: each is decoded (and checked by re-encoding) once.
    decoded = _decode(data)
    if decoded is not None and decoded.to_bytes() == data:
        return decoded
    return RawTransportID(data)


def _decode(data: bytes) -> TransportID | None:
    if len(data) < 4:
        return None
    protocol = data[0] & 0x0F
    format_code = data[0] >> 6
    if protocol == ProtocolIdentifier.ISCSI and format_code in (0, 1):
        return _decode_iscsi(data, format_code)
    if format_code != 0 or len(data) != _FIXED_LENGTH:
        return None
    if protocol == ProtocolIdentifier.FCP:
        return FCPTransportID(int.from_bytes(data[8:16], "big"))
    if protocol == ProtocolIdentifier.SPI:
        return SPITransportID(int.from_bytes(data[2:4], "big"), int.from_bytes(data[6:8], "big"))
    if protocol == ProtocolIdentifier.SBP:
        return SBPTransportID(int.from_bytes(data[8:16], "big"))
    if protocol == ProtocolIdentifier.SRP:
        return SRPTransportID(data[8:24])
    if protocol == ProtocolIdentifier.SAS:
        return SASTransportID(int.from_bytes(data[4:12], "big"))
    if protocol == ProtocolIdentifier.SOP:
        return SOPTransportID(int.from_bytes(data[2:4], "big"))
    return None


def _decode_iscsi(data: bytes, format_code: int) -> TransportID | None:
    additional = int.from_bytes(data[2:4], "big")
    if len(data) != 4 + additional:
        return None
    raw = data[4:].split(b"\0", 1)[0]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    isid: int | None = None
    if format_code == 1:
        name, sep, isid_hex = text.partition(_ISCSI_ISID_SEPARATOR)
        if not sep or len(isid_hex) != 12 or not _is_hex(isid_hex):
            return None
        text, isid = name, int(isid_hex, 16)
    try:
        return ISCSITransportID(text, isid)
    except ValueError:
        return None


def _hex_field(text: str, digits: int, form: str) -> bytes:
    if text[:2].lower() == "0x":
        text = text[2:]
    if len(text) != digits or not _is_hex(text):
        raise ValueError(f"{form} TransportID needs exactly {digits} hex digits, got {text!r}")
    return bytes.fromhex(text)


def _parse(text: str) -> TransportID:
    lower = text.lower()
    head, _, rest = text.partition(",")
    kind = head.lower()
    if kind == "sas":
        return SASTransportID(int.from_bytes(_hex_field(rest, 16, "sas"), "big"))
    if kind == "fcp":
        return FCPTransportID(int.from_bytes(_hex_field(rest, 16, "fcp"), "big"))
    if kind == "sbp":
        return SBPTransportID(int.from_bytes(_hex_field(rest, 16, "sbp"), "big"))
    if kind == "srp":
        return SRPTransportID(_hex_field(rest, 32, "srp"))
    if kind == "spi":
        address, _, port = rest.partition(",")
        if not address.isdigit() or not port.isdigit():
            raise ValueError(f"spi TransportID is spi,<address>,<relative port>: {text!r}")
        return SPITransportID(int(address), int(port))
    if kind == "sop":
        digits = rest[2:] if rest[:2].lower() == "0x" else rest
        if not 1 <= len(digits) <= 4 or not _is_hex(digits):
            raise ValueError(f"sop TransportID needs a 16-bit hex routing id: {text!r}")
        return SOPTransportID(int(digits, 16))
    if lower.startswith(_ISCSI_PREFIXES):
        name, sep, isid = text.partition(_ISCSI_ISID_SEPARATOR)
        if not sep:
            return ISCSITransportID(text)
        return ISCSITransportID(name, int.from_bytes(_hex_field(isid, 12, "iSCSI ISID"), "big"))
    return _parse_hex_bytes(text)


def _parse_hex_bytes(text: str) -> TransportID:
    tokens = text.replace(",", " ").split()
    if not tokens or not all(_is_hex(t) and len(t) <= 2 for t in tokens):
        raise ValueError(f"unrecognised TransportID: {text!r}")
    data = bytes(int(t, 16) for t in tokens)
    # Like sg_persist, pad a short list with zeros to the protocol's length.
    length = _FIXED_LENGTH
    if data[0] & 0x0F == ProtocolIdentifier.ISCSI:
        # iSCSI: ADDITIONAL LENGTH (bytes 2-3, zero where not given) says how
        # long it is, so that str() of the result parses back to it.
        data = data.ljust(4, b"\0")
        length = 4 + int.from_bytes(data[2:4], "big")
    return TransportID.from_bytes(data.ljust(length, b"\0"))
