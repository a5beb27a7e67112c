"""docs/api.md documents every public name, and nothing that does not exist.

The reference is written by hand: one ``## `module` `` section per public
module and one ``### `name…` `` entry per public name (an entry may name
several constants).  A class entry mentions, inside code spans, each of the
class's own public members: methods, properties, dataclass fields, enum
members and ``__init__`` parameters.  A name re-exported from pr_native is
documented once, where it is defined.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

import pr_native

API = Path(__file__).resolve().parents[2] / "docs" / "api.md"

if not API.is_file():
    pytest.skip(
        "the tests were copied without the source tree (testing an installed wheel)",
        allow_module_level=True,
    )

PUBLIC_MODULES = (
    "pr_native",
    "pr_native.constants",
    "pr_native.results",
    "pr_native.transport_id",
    "pr_native.errors",
    "pr_native.cdb",
    "pr_native.winioctl",
    "pr_native.layout",
    "pr_native.poll",
)


def public_names(module: ModuleType) -> list[str]:
    """``__all__`` (plus ``__version__`` for the package), else what the
    module itself defines at top level without a leading underscore."""
    if module is pr_native:
        return [*pr_native.__all__, "__version__"]
    if hasattr(module, "__all__"):
        return list(module.__all__)
    names: list[str] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                names.append(node.name)
            elif isinstance(node, ast.Assign):
                names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.append(node.target.id)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(node.orelse)

    visit(ast.parse(Path(inspect.getfile(module)).read_text("utf-8")).body)
    # TYPE_CHECKING = False: the idiom that keeps typing out of the import
    return [n for n in dict.fromkeys(names) if not n.startswith("_") and n != "TYPE_CHECKING"]


def entries() -> dict[str, dict[str, str]]:
    """``{module: {name: entry text}}`` as docs/api.md lays them out."""
    found: dict[str, dict[str, str]] = {}
    section: dict[str, str] = {}
    current: list[str] = []
    for line in API.read_text("utf-8").splitlines():
        module = re.fullmatch(r"## `([\w.]+)`", line)
        if module:
            section = found.setdefault(module[1], {})
            current = []
        elif line.startswith("### "):
            current = re.findall(r"`([A-Za-z_]\w*)", line)
            for name in current:
                section[name] = ""
        elif line.startswith("#"):
            current = []
        for name in current:
            section[name] += line + "\n"
    return found


ENTRIES = entries()
PUBLIC = [(m, n) for m in PUBLIC_MODULES for n in public_names(importlib.import_module(m))]


def test_a_section_per_public_module() -> None:
    assert list(ENTRIES) == list(PUBLIC_MODULES)


@pytest.mark.parametrize(("module", "name"), PUBLIC)
def test_public_name_is_documented(module: str, name: str) -> None:
    obj = getattr(importlib.import_module(module), name)
    places = [
        m
        for m, section in ENTRIES.items()
        if name in section and getattr(importlib.import_module(m), name, None) is obj
    ]
    assert places, f"{module}.{name} is not in docs/api.md"
    assert len(places) == 1, f"{module}.{name} is documented in {places}: keep one"


@pytest.mark.parametrize(
    ("module", "name"), [(m, n) for m, section in ENTRIES.items() for n in section]
)
def test_documented_name_exists(module: str, name: str) -> None:
    assert name in public_names(importlib.import_module(module)), f"{module}.{name} is gone"


def own_members(cls: type) -> set[str]:
    """Public members the class adds to its bases: what its entry must name."""
    inherited = {k for base in cls.__mro__[1:] for k in vars(base)}
    names = {k for k in vars(cls) if not k.startswith("_")}
    if issubclass(cls, enum.Enum):
        names |= set(cls.__members__)
    if dataclasses.is_dataclass(cls):
        names |= {f.name for f in dataclasses.fields(cls)}
    elif "__init__" in vars(cls):
        names |= set(inspect.signature(cls).parameters)
    for base in cls.__mro__[1:]:
        if dataclasses.is_dataclass(base):
            inherited |= {f.name for f in dataclasses.fields(base)}
    return names - inherited


CLASSES = [
    (m, n)
    for m, section in ENTRIES.items()
    for n in section
    if inspect.isclass(getattr(importlib.import_module(m), n, None))
]


@pytest.mark.parametrize(("module", "name"), CLASSES)
def test_class_members_are_documented(module: str, name: str) -> None:
    cls = getattr(importlib.import_module(module), name)
    spans = " ".join(re.findall(r"`[^`]+`", ENTRIES[module][name]))
    missing = sorted(m for m in own_members(cls) if not re.search(rf"\b{m}\b", spans))
    assert missing == [], f"{module}.{name}: document {missing}"
