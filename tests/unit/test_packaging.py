"""The installed package: version single-sourced and compiled into the core,
the core refused when it comes from another build, and the shipped header.

These run against a wheel too (cibuildwheel, scripts/check-dist); the checks
of the repository's own files skip there, and only there.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import pr_native
from pr_native._native import lib
from pr_native._version import check_core_version, core_version

ROOT = Path(__file__).resolve().parents[2]
needs_checkout = pytest.mark.skipif(
    not (ROOT / "pyproject.toml").is_file(),
    reason="the tests were copied without the source tree (testing an installed wheel)",
)


def test_core_was_built_for_this_version() -> None:
    assert core_version() == pr_native.__version__


def test_metadata_has_the_same_version() -> None:
    assert importlib.metadata.version("pr_native") == pr_native.__version__


def test_mismatch_is_refused() -> None:
    with pytest.raises(ImportError) as info:
        check_core_version("0.0.1", "0.2.0")
    message = str(info.value)
    assert "pr_native 0.2.0" in message
    assert "built for version 0.0.1" in message
    assert "pip install" in message


def test_match_is_accepted() -> None:
    check_core_version("1.2.3", "1.2.3")


def _import_with_core(tmp_path: Path, lib_body: str) -> subprocess.CompletedProcess[str]:
    """``import pr_native`` in a fresh interpreter whose ``_native`` is a fake."""
    code = textwrap.dedent(
        """
        import sys, types

        class Lib:
        {lib_body}

        class FFI:
            @staticmethod
            def string(value):
                return value

        fake = types.ModuleType("pr_native._native")
        fake.ffi, fake.lib = FFI(), Lib()
        sys.modules["pr_native._native"] = fake
        import pr_native
        """
    ).format(lib_body=textwrap.indent(textwrap.dedent(lib_body), "    "))
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_import_refuses_a_core_of_another_version(tmp_path: Path) -> None:
    done = _import_with_core(
        tmp_path,
        """
        @staticmethod
        def pr_core_version():
            return b"0.0.1"
        """,
    )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: pr_native ")
    assert f"pr_native {pr_native.__version__} found" in last
    assert "built for version 0.0.1" in last


def test_import_refuses_a_core_without_a_version(tmp_path: Path) -> None:
    done = _import_with_core(tmp_path, "pass")
    assert done.returncode != 0
    assert "built for version unknown" in done.stderr


def test_get_include_has_the_header() -> None:
    header = Path(pr_native.get_include()) / "pr_native.h"
    text = header.read_text(encoding="utf-8")
    assert "/* cdef-begin */" in text
    # The header describes the compiled core: every function and constant
    # the extension exposes is declared in it.
    missing = [name for name in dir(lib) if not re.search(rf"\b{name}\b", text)]
    assert missing == []


@needs_checkout
def test_get_include_in_a_checkout_is_csrc() -> None:
    if Path(pr_native.__file__).resolve().parent != ROOT / "pr_native":
        pytest.skip("pr_native is not imported from this checkout")
    assert Path(pr_native.get_include()) == ROOT / "csrc"


@pytest.fixture
def pyproject() -> dict[str, Any]:
    tomllib = pytest.importorskip("tomllib")
    data: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return data


@needs_checkout
def test_version_has_one_source(pyproject: dict[str, Any]) -> None:
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "pr_native._version.__version__"}
    init = (ROOT / "pr_native" / "__init__.py").read_text("utf-8")
    assert "from ._version import __version__" in init
    assert not re.search(r"^__version__\s*=", init, re.M)


@needs_checkout
def test_build_compiles_the_same_version(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cffi")
    monkeypatch.chdir(ROOT)  # setuptools runs _build.py from the project root
    build = importlib.import_module("pr_native._build")
    assert build._version(ROOT / "pr_native" / "_version.py") == pr_native.__version__


@needs_checkout
def test_abi3_floor_matches_requires_python(pyproject: dict[str, Any]) -> None:
    floor = re.fullmatch(r">=3\.(\d+)", pyproject["project"]["requires-python"])
    assert floor is not None
    tag = f"cp3{floor[1]}"
    assert f'"py_limited_api": "{tag}"' in (ROOT / "setup.py").read_text("utf-8")
    assert f"{tag}-*" in pyproject["tool"]["cibuildwheel"]["build"]
