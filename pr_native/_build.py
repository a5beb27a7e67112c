"""cffi builder of ``pr_native._native`` (API mode, out of line).

setuptools runs this file on its own through ``cffi_modules`` in setup.py; it
must not import the package.  The cdef is the part of csrc/pr_native.h between
the cdef markers, the same header the C files include.

The package version (pr_native/_version.py, read as text) is compiled in as
PR_NATIVE_VERSION, which ``pr_core_version()`` returns.  The extension uses
the limited API (an abi3 wheel, tagged in setup.py) except on free-threaded
CPython, where it is built for that one version.

``PR_NATIVE_SANITIZE=1`` in the environment of the build adds
AddressSanitizer and UndefinedBehaviorSanitizer (gcc or clang), for testing
only: the module then needs the ASan runtime preloaded into the interpreter
(scripts/test-asan does both).
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig
from pathlib import Path

from cffi import FFI

_CSRC = Path("csrc")
_HEADER = _CSRC / "pr_native.h"
_VERSION_FILE = Path("pr_native", "_version.py")
_PORTABLE_SOURCES = ("pr_cdb.c", "pr_decode.c", "pr_winbuf.c", "pr_ops.c", "pr_layout.c")


def _cdef(header: Path) -> str:
    text = header.read_text(encoding="utf-8")
    begin, end = "/* cdef-begin */", "/* cdef-end */"
    return text[text.index(begin) + len(begin) : text.index(end)]


def _version(path: Path) -> str:
    """``__version__ = "..."`` from pr_native/_version.py, without importing it.

    Only PEP 440 characters are accepted, so it is safe in a C string literal.
    """
    found = re.search(r'^__version__ = "([0-9A-Za-z.+!-]+)"$', path.read_text("utf-8"), re.M)
    if found is None:
        raise ValueError(f'{path}: no __version__ = "..." line')
    return found[1]


def _transport_source() -> str:
    if sys.platform.startswith("linux"):
        return "pr_linux.c"
    if sys.platform == "win32":
        return "pr_windows.c"
    return "pr_unsupported.c"


_SANITIZE = os.environ.get("PR_NATIVE_SANITIZE") == "1" and sys.platform != "win32"
_SANITIZERS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


def _compile_args() -> list[str]:
    if sys.platform == "win32":
        return ["/W4"]
    sanitize = [*_SANITIZERS, "-fno-omit-frame-pointer", "-g"] if _SANITIZE else []
    return ["-std=c99", "-Wall", "-Wextra", *sanitize]


ffibuilder = FFI()
ffibuilder.cdef(_cdef(_HEADER))
ffibuilder.set_source(
    "pr_native._native",
    '#include "pr_native.h"',
    sources=[
        str(_CSRC / name)
        for name in (
            *_PORTABLE_SOURCES,
            _transport_source(),
            *(
                ("pr_sg_queue.c", "pr_poll_linux.c")
                if sys.platform.startswith("linux")
                else ("pr_poll_fallback.c",)
            ),
        )
    ],
    include_dirs=[str(_CSRC)],
    define_macros=[("PR_NATIVE_VERSION", f'"{_version(_VERSION_FILE)}"')],
    extra_compile_args=_compile_args(),
    extra_link_args=_SANITIZERS if _SANITIZE else [],
    # Free-threaded CPython has no limited API (cffi would otherwise try abi3t).
    py_limited_api=not sysconfig.get_config_var("Py_GIL_DISABLED"),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
