"""Sphinx configuration: the API reference is generated from the docstrings.

Build: ``.venv/bin/python -m sphinx -E -W --keep-going -n -b html docs build/docs/html``
(scripts/test runs it; tests/unit/test_docs.py checks the site it builds).
"""

from __future__ import annotations

from typing import Any

import pr_native
from pr_native._record import Record

project = "pr_native"
copyright = "2026 The pr_native authors (MIT License)"
release = version = pr_native.__version__

extensions = ["sphinx.ext.autodoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns: list[str] = []
html_theme = "alabaster"
html_theme_options = {"description": "SCSI-3 Persistent Reservations from Python"}
html_static_path: list[str] = []

# Every member, with or without a docstring, so an undocumented one shows up
# in the site (and fails tests/unit/test_docs.py) instead of disappearing.
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
    "member-order": "bysource",
}
autodoc_typehints_format = "short"
myst_heading_anchors = 3

# -n: every cross-reference must resolve.  The build runs offline (no
# intersphinx), so the standard library's classes in signatures and base
# lists have no target; they are the only exceptions.
nitpicky = True
nitpick_ignore = [
    ("py:class", "os.PathLike"),
    ("py:class", "collections.abc.Iterable"),
    ("py:class", "collections.abc.Sequence"),
    ("py:class", "enum.Enum"),
    ("py:class", "enum.IntEnum"),
    ("py:class", "collections.abc.AsyncIterator"),
    # aio.watch yields pr_native.watch.Event, the command line's event type
    # (its fields are described there and in the CLI JSON page).
    ("py:class", "Event"),
]


def _record_signature(
    app: Any,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """Records take their fields (``Registrations(generation, keys)``); their
    constructor is written as ``__new__(cls, *args, **kwargs)``."""
    if what != "class" or not isinstance(obj, type) or not issubclass(obj, Record):
        return None
    fields = [f"{f}={obj._defaults[f]!r}" if f in obj._defaults else f for f in obj._fields]
    return f"({', '.join(fields)})", return_annotation


def _public_bases(app: Any, name: str, obj: Any, options: Any, bases: list[type]) -> None:
    """Show the public class a private base stands for (``_WireEnum`` is an
    ``IntEnum``, ``Record`` a ``tuple``), and no ``object``."""
    public = []
    for base in bases:
        while base.__name__.startswith("_") or base is Record:
            base = base.__bases__[0]
        if base is not object:
            public.append(base)
    bases[:] = public


def setup(app: Any) -> None:
    app.connect("autodoc-process-signature", _record_signature)
    app.connect("autodoc-process-bases", _public_bases)
