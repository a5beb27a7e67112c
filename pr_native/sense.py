"""Decoded SCSI sense data (SPC-4 4.5): fixed (70h/71h) and descriptor (72h/73h)."""

from __future__ import annotations

from ._native import ffi, lib
from ._record import Record
from .constants import SenseKey


class Sense(Record):
    """What a CHECK CONDITION said, in either sense data format (fixed
    70h/71h or descriptor 72h/73h); a field the device did not send is 0."""

    __slots__ = ()

    response_code: int
    """RESPONSE CODE: 70h/71h (fixed format), 72h/73h (descriptor format)."""
    sense_key: SenseKey
    """SENSE KEY, a ``SenseKey``."""
    asc: int
    """ADDITIONAL SENSE CODE."""
    ascq: int
    """ADDITIONAL SENSE CODE QUALIFIER."""
    description: str
    """T10's text for the (ASC, ASCQ) pair."""
    information: int | None
    """The INFORMATION field, when the device marked it valid (else None)."""
    command_specific_information: int
    """COMMAND-SPECIFIC INFORMATION."""
    sense_key_specific: int | None
    """The three sense-key-specific bytes as a big-endian integer; None when
    SKSV is clear."""
    field_replaceable_unit: int
    """FIELD REPLACEABLE UNIT CODE."""
    deferred: bool
    """A deferred error (71h/73h): it belongs to an earlier command."""
    descriptor_format: bool
    """Descriptor format (72h/73h)."""
    filemark: bool
    """FILEMARK (stream devices)."""
    end_of_medium: bool
    """EOM: end of medium (stream devices)."""
    incorrect_length: bool
    """ILI: incorrect length indicator."""

    def __str__(self) -> str:
        return (
            f"{self.sense_key.name.replace('_', ' ')}, "
            f"ASC/ASCQ {self.asc:02X}h/{self.ascq:02X}h: {self.description}"
        )


def decode_sense(data: bytes) -> Sense | None:
    """Decode sense bytes; None when they are empty or in no SPC format."""
    from .sense_codes import describe_asc  # T10's table loads on first use

    data = bytes(data)
    out = ffi.new("struct pr_sense *")
    if lib.pr_decode_sense(data, len(data), out) != lib.PR_OK:
        return None
    return Sense(
        response_code=out.response_code,
        sense_key=SenseKey(out.sense_key),
        asc=out.asc,
        ascq=out.ascq,
        description=describe_asc(out.asc, out.ascq),
        information=out.information if out.information_valid else None,
        command_specific_information=out.command_specific,
        sense_key_specific=out.sense_key_specific if out.sense_key_specific_valid else None,
        field_replaceable_unit=out.field_replaceable_unit,
        deferred=bool(out.deferred),
        descriptor_format=bool(out.descriptor_format),
        filemark=bool(out.filemark),
        end_of_medium=bool(out.end_of_medium),
        incorrect_length=bool(out.incorrect_length),
    )
