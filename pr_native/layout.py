"""Sizes and field offsets of every buffer the C core builds, read from the
compiled C (not from Python constants).

``python -m pr_native.layout [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

from ._native import ffi, lib


@dataclass(frozen=True)
class LayoutField:
    """One row of ``layout()``: a field of a C structure as compiled."""

    structure: str
    """The structure, e.g. ``"PERSISTENT_RESERVE_COMMAND"``."""
    field: str
    """The field, or ``"sizeof"`` for the row of the whole structure."""
    offset: int
    """Its offset in bytes (0 for ``"sizeof"``)."""
    size: int
    """Its size in bytes; for ``"sizeof"`` the structure's size."""


def layout() -> tuple[LayoutField, ...]:
    """The portable DDK buffers, then this platform's transport structs."""
    rows = []
    for table in (lib.pr_layout, lib.pr_transport_layout):
        fields = ffi.new("const struct pr_layout_field **")
        for i in range(table(fields)):
            f = fields[0][i]
            rows.append(
                LayoutField(
                    ffi.string(f.structure).decode(), ffi.string(f.field).decode(), f.offset, f.size
                )
            )
    return tuple(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m pr_native.layout [--json]``: print the table, or JSON (a list
    of ``LayoutField`` objects as dicts); returns the exit status."""
    from ._stdout import guarded

    with guarded():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pr_native.layout", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    rows = layout()
    if args.json:
        json.dump([asdict(r) for r in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    current = None
    for r in rows:
        if r.structure != current:
            current = r.structure
            print(current)
        if r.field == "sizeof":
            print(f"  {'sizeof':<34} {r.size:>4}")
        else:
            print(f"  {r.field:<34} {r.offset:>4}  ({r.size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
