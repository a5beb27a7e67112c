"""cffi builder of ``pr_native._native`` (API mode, out of line).

setuptools runs this file on its own through ``cffi_modules`` in setup.py; it
must not import the package.  The cdef is the part of csrc/pr_native.h between
the cdef markers, the same header the C files include.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cffi import FFI

_CSRC = Path("csrc")
_HEADER = _CSRC / "pr_native.h"
_PORTABLE_SOURCES = ("pr_cdb.c", "pr_decode.c", "pr_winbuf.c", "pr_ops.c", "pr_layout.c")


def _cdef(header: Path) -> str:
    text = header.read_text(encoding="utf-8")
    begin, end = "/* cdef-begin */", "/* cdef-end */"
    return text[text.index(begin) + len(begin) : text.index(end)]


def _transport_source() -> str:
    if sys.platform.startswith("linux"):
        return "pr_linux.c"
    if sys.platform == "win32":
        return "pr_windows.c"
    return "pr_unsupported.c"


def _compile_args() -> list[str]:
    if sys.platform == "win32":
        return ["/W4"]
    return ["-std=c99", "-Wall", "-Wextra"]


ffibuilder = FFI()
ffibuilder.cdef(_cdef(_HEADER))
ffibuilder.set_source(
    "pr_native._native",
    '#include "pr_native.h"',
    sources=[str(_CSRC / name) for name in (*_PORTABLE_SOURCES, _transport_source())],
    include_dirs=[str(_CSRC)],
    extra_compile_args=_compile_args(),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
