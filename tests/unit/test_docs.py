"""The documentation site documents every public name, each with a description.

The API reference is generated from the docstrings (docs/, Sphinx autodoc).
This builds the site as scripts/test does and reads what the build produced:
its inventory (``objects.inv``) names every documented object, and each
object's entry in the HTML must say more than its signature.

Public: the names of a public module (``__all__``, else what the module
itself defines at top level without a leading underscore; ``__version__``
for the package) and, for a public class, the public members it adds to its
bases: methods, properties (record fields included), enum members (their
entry shows the value, so they need no text of their own), dataclass fields
and the attributes ``__init__`` sets.  A name re-exported from pr_native is
documented once, where it is defined.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
import zlib
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest

import pr_native

DOCS = Path(__file__).resolve().parents[2] / "docs"

if not (DOCS / "conf.py").is_file():
    pytest.skip(
        "the tests were copied without the source tree (testing an installed wheel)",
        allow_module_level=True,
    )
for _tool in ("sphinx", "myst_parser"):
    pytest.importorskip(_tool, reason="the docs extra is not installed (scripts/setup-env does)")

PUBLIC_MODULES = (
    "pr_native",
    "pr_native.constants",
    "pr_native.results",
    "pr_native.identity",
    "pr_native.transport_id",
    "pr_native.errors",
    "pr_native.cdb",
    "pr_native.winioctl",
    "pr_native.layout",
    "pr_native.poll",
    "pr_native.aio",
    "pr_native.multipath",
    "pr_native.fencing",
    "pr_native.fence_agent",
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


def own_members(cls: type) -> tuple[list[str], list[str]]:
    """The public members ``cls`` adds to its bases: (those that need a
    description, enum members)."""
    members = [
        name
        for name, value in vars(cls).items()
        if not name.startswith("_")
        and (callable(value) or isinstance(value, (property, staticmethod, classmethod)))
    ]
    if dataclasses.is_dataclass(cls):
        inherited = {
            f.name
            for b in cls.__mro__[1:]
            if dataclasses.is_dataclass(b)
            for f in dataclasses.fields(b)
        }
        members += [f.name for f in dataclasses.fields(cls) if f.name not in inherited]
    if "__init__" in vars(cls) and not dataclasses.is_dataclass(cls):
        tree = ast.parse(textwrap.dedent(inspect.getsource(vars(cls)["__init__"])))
        members += [
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
            and not node.attr.startswith("_")
        ]
    values = list(cls.__members__) if issubclass(cls, enum.Enum) else []
    return list(dict.fromkeys(m for m in members if m not in values)), values


class _Descriptions(HTMLParser):
    """The text of each object's description in one HTML page: the ``<dd>``
    after its ``<dt id=...>``, without the descriptions nested in it (a
    class's members), its signature or its base list."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self._anchor: str | None = None
        self._in_signature = 0
        self._open: list[tuple[str | None, list[str]]] = []  # (id, paragraphs) per <dd>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "dt":
            self._in_signature += 1
            self._anchor = dict(attrs).get("id") or self._anchor
        elif tag == "dd":
            self._open.append((self._anchor, [""]))
            self._anchor = None
        elif tag == "p" and self._open:
            self._open[-1][1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "dt":
            self._in_signature -= 1
        elif tag == "dd" and self._open:
            anchor, paragraphs = self._open.pop()
            text = " ".join(p.strip() for p in paragraphs if not p.lstrip().startswith("Bases:"))
            if anchor is not None:
                self.found[anchor] = " ".join(text.split())
            elif self._open:  # a field list or definition list inside a description
                self._open[-1][1].append(text)

    def handle_data(self, data: str) -> None:
        if self._open and not self._in_signature:
            self._open[-1][1][-1] += data


# How scripts/test builds the site: every module reread, warnings are errors
# (--keep-going still writes every page), every cross-reference resolved.
SPHINX = "-m sphinx -E -W --keep-going -n -q -b html docs"
Site = tuple[Path, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The site, built as scripts/test builds it, and how the build went."""
    out = tmp_path_factory.mktemp("docs") / "html"
    build = subprocess.run(
        [sys.executable, *SPHINX.split(), str(out)],
        cwd=DOCS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    return out, build


def inventory(out: Path) -> list[tuple[str, str, str]]:
    """``objects.inv`` (format 2: four header lines, then zlib-compressed
    ``name domain:role priority uri display`` lines): the Python objects the
    site shows, as ``(name, role, page#anchor)``."""
    data = (out / "objects.inv").read_bytes()
    header = data.split(b"\n", 4)
    assert header[0] == b"# Sphinx inventory version 2", header[0]
    found = []
    for line in zlib.decompress(header[4]).decode("utf-8").splitlines():
        match = re.fullmatch(r"(\S+)\s+py:(\w+)\s+(-?\d+)\s+(\S+)\s+.*", line)
        if match and match[3] != "-1":  # -1: a canonical alias, not shown
            name, role, uri = match[1], match[2], match[4]
            found.append((name, role, uri[:-1] + name if uri.endswith("$") else uri))
    return found


@pytest.fixture(scope="session")
def documented(site: Site) -> dict[str, str | None]:
    """``{documented name: its description}`` from the built site, for every
    object but the modules (``pr_native.poll`` is a module and a function)."""
    out, build = site
    if not (out / "objects.inv").is_file():
        pytest.fail(f"the site was not built:\n{build.stderr}")
    pages: dict[str, dict[str, str]] = {}
    described: dict[str, str | None] = {}
    for name, role, uri in inventory(out):
        if role == "module":
            continue
        page, _, anchor = uri.partition("#")
        if page not in pages:
            parser = _Descriptions()
            parser.feed((out / page).read_text("utf-8"))
            pages[page] = parser.found
        described[name] = pages[page].get(anchor)
    return described


def test_site_builds_without_warnings(site: Site) -> None:
    assert f".venv/bin/python {SPHINX} " in (DOCS.parent / "scripts" / "test").read_text("utf-8")
    _, build = site
    assert build.returncode == 0, build.stderr


def test_a_page_per_public_module(site: Site) -> None:
    out, _ = site
    modules = [name for name, role, _ in inventory(out) if role == "module"]
    assert sorted(modules) == sorted(PUBLIC_MODULES)


def _homes(module: str, name: str, documented: dict[str, str | None]) -> list[str]:
    """Where ``module.name`` is documented: the public modules holding the
    same object under that name whose entry the site has (one, or it is
    documented twice)."""
    obj = getattr(importlib.import_module(module), name)
    return [
        f"{m}.{name}"
        for m in PUBLIC_MODULES
        if getattr(importlib.import_module(m), name, None) is obj and f"{m}.{name}" in documented
    ]


def _silent(text: str | None) -> bool:
    """No description, or only the one every record field's property has."""
    return not text or re.fullmatch(r"Field \d+: \w+\.", text) is not None


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_names_are_documented(module: str, documented: dict[str, str | None]) -> None:
    problems = []
    for name in public_names(importlib.import_module(module)):
        homes = _homes(module, name, documented)
        if not homes:
            problems.append(f"{module}.{name} is not in the site")
        elif len(homes) > 1:
            problems.append(f"{module}.{name} is documented as {homes}: keep one")
        elif _silent(documented[homes[0]]):
            problems.append(f"{homes[0]} is documented without a description")
    assert problems == []


def _classes() -> dict[type, tuple[str, str]]:
    """Each public class once (re-exports share it), with a name it has."""
    found: dict[type, tuple[str, str]] = {}
    for module in PUBLIC_MODULES:
        for name in public_names(importlib.import_module(module)):
            obj = getattr(importlib.import_module(module), name)
            if inspect.isclass(obj):
                found.setdefault(obj, (module, name))
    return found


CLASSES = list(_classes().values())


@pytest.mark.parametrize(("module", "name"), CLASSES, ids=[f"{m}.{n}" for m, n in CLASSES])
def test_class_members_are_documented(
    module: str, name: str, documented: dict[str, str | None]
) -> None:
    homes = _homes(module, name, documented)
    assert len(homes) == 1, f"{module}.{name} is documented as {homes}"
    described, values = own_members(getattr(importlib.import_module(module), name))
    missing = [m for m in described + values if f"{homes[0]}.{m}" not in documented]
    silent = [m for m in described if m not in missing and _silent(documented[f"{homes[0]}.{m}"])]
    assert (missing, silent) == ([], []), f"{homes[0]}: (not in the site, without a description)"
