"""The parts of tracer/ import one way (DESIGN.md §2, README "Layout").

The import graph is read from the source of every module: an import inside a function counts
(it runs when the function does), one under `if TYPE_CHECKING:` does not. An import names the
module it reads from: `from tracer.hooks import callargs` is an edge to tracer.hooks.callargs,
`from tracer.fingerprint import fingerprint` one to tracer.fingerprint (the package). Modules
imported by name from a table (cli's COMMANDS, renderers.base's EXPORTERS) are not seen.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from support import ROOT

# Bottom to top: a module may import its own layer or a lower one. An entry names one module,
# or with ".*" a package and everything in it; a module is placed by its most specific entry.
# fmt: off
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("tracer._version", "tracer.exceptions", "tracer.types", "tracer.reprs",
              "tracer.home", "tracer.env")),
    ("catalog, fingerprint", ("tracer.catalog.*", "tracer.fingerprint.*")),
    ("events", ("tracer.events.*",)),
    ("hooks", ("tracer.hooks.*",)),
    # (the bytecode reader, hooks/callargs.py, is the hot path's and the recorder's both)
    ("recorder", ("tracer.recorder.*",)),
    ("lineage", ("tracer.lineage.*",)),
    ("store", ("tracer.store.*",)),
    ("renderers", ("tracer.renderers.*",)),
    ("front", ("tracer", "tracer.__main__", "tracer._boot.*", "tracer.api", "tracer.auto",
               "tracer.children", "tracer.faults", "tracer.runner", "tracer.cli.*",
               "tracer.jupyter.*")),
]
# fmt: on

# What reads logs never imports what writes them, though it sits higher: a live session hands
# the model what it needs, and views work from logs alone.
APART = {reader: ("hooks", "recorder") for reader in ("lineage", "store", "renderers")}

# Imports allowed to break a rule for now, each with what removes it: (importer, imported) ->
# why. The list only shrinks: an entry whose import is gone, or no longer breaks a rule, fails
# the test. Empty since the redesign ("op semantics declared once").
KNOWN: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    where: str  # file:line

    def __str__(self) -> str:
        return f"{self.where}: {self.importer} imports {self.imported}"


def modules_of(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package under `root` (its directory), by dotted name."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((package, *parts))] = path
    return found


def imports_of(modules: dict[str, Path], package: str, base: Path) -> list[Import]:
    """Every import of one module of `modules` by another (file paths relative to `base`)."""
    found = []
    for importer, path in modules.items():
        where = path.relative_to(base)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in sorted(_import_statements(tree), key=lambda n: n.lineno):
            for name in _names(node, importer, path.name == "__init__.py", modules):
                if name == package or name.startswith(package + "."):
                    imported = _module(name, modules)
                    if imported != importer:
                        found.append(Import(importer, imported, f"{where}:{node.lineno}"))
    return found


def _import_statements(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        else:
            todo.extend(ast.iter_child_nodes(node))
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _names(
    node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: dict[str, Path]
) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    source = node.module or ""
    if node.level:
        parts = importer.split(".")[: None if is_package else -1]
        parts = parts[: len(parts) - node.level + 1]
        source = ".".join([*parts, source] if source else parts)
    submodules = (f"{source}.{alias.name}" for alias in node.names)
    return [name if name in modules else source for name in submodules]


def _module(name: str, modules: dict[str, Path]) -> str:
    """The module a dotted name lives in (`tracer.hooks._ctracer`, a C extension: tracer.hooks)."""
    while name not in modules:
        name = name.rpartition(".")[0]
    return name


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), members sorted."""
    graph: dict[str, list[str]] = defaultdict(list)
    for a, b in sorted(edges):
        graph[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


RANK = {layer: rank for rank, (layer, _) in enumerate(LAYERS)}


def placed(module: str) -> tuple[str, str] | None:
    """The module's layer and its most specific entry in LAYERS."""
    keys = [module]
    name = module
    while name:
        keys.append(f"{name}.*")
        name = name.rpartition(".")[0]
    for key in keys:
        for layer, entries in LAYERS:
            if key in entries:
                return layer, key
    return None


def layer_of(module: str) -> str:
    where = placed(module)
    assert where is not None, f"{module} has no layer"
    return where[0]


def broken_rule(imp: Import) -> str | None:
    """Which layer rule the import breaks, in words, or None."""
    a, b = layer_of(imp.importer), layer_of(imp.imported)
    if RANK[b] > RANK[a]:
        return f"{a} imports the higher layer {b}"
    if b in APART.get(a, ()):
        return f"{a} never imports {b}"
    return None


MODULES = modules_of(ROOT / "tracer", "tracer")
IMPORTS = imports_of(MODULES, "tracer", ROOT)


def _lines(imports: list[Import]) -> str:
    return "\n".join(f"  {imp}" for imp in imports)


def test_every_module_has_a_layer():
    where = {m: placed(m) for m in MODULES}
    unplaced = [m for m, w in where.items() if w is None]
    assert not unplaced, "place each module in a layer of LAYERS:\n  " + "\n  ".join(unplaced)
    used = {w[1] for w in where.values() if w is not None}
    stale = [e for _, entries in LAYERS for e in entries if e not in used]
    assert not stale, f"entries of LAYERS that place no module: {stale}"


def test_no_import_cycles():
    edges = {(i.importer, i.imported) for i in IMPORTS} - set(KNOWN)
    found = cycles(edges)
    report = [
        f"import cycle among {', '.join(members)}:\n"
        + _lines(
            [
                i
                for i in IMPORTS
                if {i.importer, i.imported} <= set(members) and (i.importer, i.imported) in edges
            ]
        )
        for members in found
    ]
    assert not found, "\n".join(report)


def test_imports_go_down_the_layers():
    broken = [
        f"  {imp}: {rule}"
        for imp in IMPORTS
        if (imp.importer, imp.imported) not in KNOWN and (rule := broken_rule(imp))
    ]
    assert not broken, "imports against the layers (LAYERS, APART):\n" + "\n".join(broken)


def test_known_exceptions_still_occur():
    in_cycle = {
        pair
        for members in cycles({(i.importer, i.imported) for i in IMPORTS})
        for pair in KNOWN
        if set(pair) <= set(members)
    }
    stale = []
    for pair, why in KNOWN.items():
        found = [i for i in IMPORTS if (i.importer, i.imported) == pair]
        if not found:
            stale.append(f"  {pair[0]} does not import {pair[1]} ({why})")
        elif pair not in in_cycle and broken_rule(found[0]) is None:
            stale.append(f"  {pair[0]} -> {pair[1]} breaks no rule any more:\n{_lines(found)}")
    assert not stale, "remove from KNOWN:\n" + "\n".join(stale)


def test_the_graph_counts_what_runs_and_finds_cycles(tmp_path):
    # GIVEN a package whose modules import each other in every way tracer's do
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    sources = {
        "__init__.py": "VALUE = 1\n",
        "a.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.c\nelse:\n"
            "    import os\n\ndef f():\n    from pkg import b\n"
        ),
        "b.py": "from pkg import a, VALUE\n",
        "c.py": "",
        "e.py": "import pkg.sub.d as d\n",
        "sub/__init__.py": "from . import d\n",
        "sub/d.py": "from .. import c\nfrom ..a import f\n",
    }
    for name, text in sources.items():
        (pkg / name).write_text(text)
    # WHEN its graph is read
    imports = imports_of(modules_of(pkg, "pkg"), "pkg", tmp_path)
    edges = {(i.importer, i.imported) for i in imports}
    # THEN function-level and relative imports count, TYPE_CHECKING ones do not, a name that
    # is no submodule is the package's, and the loop a -> b -> a is the one cycle
    assert edges == {
        ("pkg.a", "pkg.b"),
        ("pkg.b", "pkg.a"),
        ("pkg.b", "pkg"),  # VALUE is a name in pkg, no module of its own
        ("pkg.e", "pkg.sub.d"),
        ("pkg.sub", "pkg.sub.d"),
        ("pkg.sub.d", "pkg.c"),
        ("pkg.sub.d", "pkg.a"),
    }
    assert "pkg/a.py:8: pkg.a imports pkg.b" in {str(i) for i in imports}
    assert cycles(edges) == [["pkg.a", "pkg.b"]]
