"""Reading sysfs (and configfs) attributes: a missing file is None, not an error."""

from __future__ import annotations

import os


def read_text(path: str) -> str | None:
    """The attribute's text without surrounding whitespace, or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


def first_entry(directory: str) -> str | None:
    """The first name in ``directory`` (sorted), or None."""
    try:
        return min(os.listdir(directory), default=None)
    except OSError:
        return None
