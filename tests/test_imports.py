"""No import cycles among the modules of ``src/nri``.

What is checked: every ``.py`` file under ``src/nri`` is parsed with :mod:`ast` (nothing
is imported) and its *module-level* imports become edges of a graph of modules:
``import a.b`` and ``from a.b import c`` at the top level of a module, also inside
module-level ``if``/``try``/``with`` blocks, but not under ``if TYPE_CHECKING:``
(never run). ``from a import b`` points at the module ``a.b`` when that is a module,
else at the package ``a``; relative imports are resolved against the importing
module. The implicit import of a parent package (``import a.b`` runs
``a/__init__.py`` first) is not an edge: it would make every package with an
``__init__`` that imports its own modules look circular. Imports inside functions and
methods are allowed (the way to defer a heavy or optional dependency) and are not
edges. The test fails on any cycle of this graph and names its modules.

The data layer is held to more: among the modules of ``nri.data`` there is no cycle
even when imports inside functions count (``errors`` -> ``labels``/``files``/
``normalize`` -> ``series``/``loaded`` -> ``splits`` -> ``layout`` -> ``importers`` ->
``dataset``/``custom``, ``custom`` writing through ``writer``, which sits above
``normalize``; the external-format readers sit beside ``importers``).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "nri"


def module_names() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Import statements run when the module is imported (not in functions or
    classes' methods, not under ``if TYPE_CHECKING:``)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _top_level_imports(node.body)
            found += _top_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                found += _top_level_imports(block)
            for handler in node.handlers:
                found += _top_level_imports(handler.body)
        elif isinstance(node, ast.With):
            found += _top_level_imports(node.body)
    return found


def _all_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, in functions too."""
    return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]


def import_graph(in_functions: bool = False) -> dict[str, set[str]]:
    """Module -> the package's modules it imports at module level (and inside
    functions, with ``in_functions``)."""
    modules = module_names()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        targets: set[str] = set()
        tree = ast.parse(path.read_text())
        nodes = _all_imports(tree) if in_functions else _top_level_imports(tree.body)
        for node in nodes:
            if isinstance(node, ast.Import):
                bases = [alias.name for alias in node.names]
                for base in bases:
                    if base in modules:
                        targets.add(base)
                continue
            if node.level:
                up = here[: len(here) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in modules:
                    targets.add(sub)
                elif base in modules:
                    targets.add(base)
        graph[name] = targets - {name}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each
    as a list of its modules, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_finds_a_cycle_when_there_is_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_reads_every_module():
    graph = import_graph()
    assert "nri.data.dataset" in graph and "nri.graph" in graph
    assert "nri.data.files" in graph["nri.data.dataset"] or any(
        t.startswith("nri.data.") for t in graph["nri.data.dataset"]
    )


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles among module-level imports: " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_no_import_cycles_in_the_data_layer_even_inside_functions():
    graph = {
        name: {t for t in targets if t.startswith("nri.data.")}
        for name, targets in import_graph(in_functions=True).items()
        if name.startswith("nri.data.")
    }
    assert not find_cycles(graph), find_cycles(graph)
    assert graph["nri.data.errors"] == set()  # the leaf every module may import
