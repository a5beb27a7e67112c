"""The version of pr_native, written here and nowhere else, and the check that
the compiled core was built for it.

setuptools reads ``__version__`` for the package metadata
(``[tool.setuptools.dynamic]`` in pyproject.toml) and pr_native/_build.py
compiles it into the C core, where ``pr_core_version()`` returns it; both read
this file as text and never import it.  ``pr_native/__init__.py`` imports this
module first, so a stale or foreign ``_native`` extension is refused with one
clear message before any other module touches it.
"""

from __future__ import annotations

from ._native import ffi, lib

__version__ = "0.1.0"


def core_version() -> str:
    """The version compiled into ``pr_native._native``."""
    try:
        version = lib.pr_core_version
    except AttributeError:  # a core built before it recorded its version
        return "unknown"
    return str(ffi.string(version()).decode("ascii"))


def check_core_version(core: str, package: str) -> None:
    """Refuse to run a compiled core built from another version's C."""
    if core != package:
        raise ImportError(
            f"pr_native {package} found a compiled core (pr_native._native) built for "
            f"version {core}: the C extension and the Python package come from different "
            f"builds.  Reinstall pr_native (pip install --force-reinstall pr_native), or "
            f"rebuild it in a checkout (pip install -e .)."
        )


check_core_version(core_version(), __version__)
