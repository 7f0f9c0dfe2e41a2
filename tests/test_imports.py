"""Imports flow one way: no cycle between files or between subpackages, and every import goes
down the layering of docs/architecture.md.

Every ``import`` statement of every module is read with ``ast``, wherever it stands (module
level, inside a function, under ``if``): an import inside a function that dodges a cycle at
load time is still a cycle of the design. An import of ``a.b.c`` depends on ``a.b.c`` and on
each package above it that the importing module is not itself inside (Python runs those
``__init__`` files first).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "handgrad"

#: the layering, bottom first: a unit may import its own modules and units of lower levels
LEVELS = [
    ("handgrad._checks", "handgrad._files", "handgrad._blas",          # validation, files, BLAS threads,
     "handgrad._threads", "handgrad._memory", "handgrad._memo",       # threads per operation, malloc,
     "handgrad._shards"),                                              # shards of a batch (DataParallel, MPI)
    ("handgrad.parameter", "handgrad.data"),
    ("handgrad.summary", "handgrad.gradcheck",                         # need only the layer contract
     "handgrad.init", "handgrad.functional"),
    ("handgrad.kernels", "handgrad.backend"),                          # compiled ops; which ops run
    ("handgrad.layers",),
    ("handgrad.losses", "handgrad.models"),
    ("handgrad.optim",),
    ("handgrad.io",),
    ("handgrad.training",),
    ("handgrad.config", "handgrad.distributed", "handgrad.report", "handgrad.raven"),    # distributed: MPI ranks around fit; raven: an application
    ("handgrad.commands",),
    ("handgrad.cli",),
    ("handgrad.__main__",),
    ("handgrad",),                                                     # the package's public names
]
LEVEL = {unit: i for i, units in enumerate(LEVELS) for unit in units}


def module_names():
    """Dotted name -> path of every module of the package (a package is its __init__)."""
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _ancestors(name):
    """``a.b.c`` -> ``["a", "a.b"]``."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imports_of(name, path, modules):
    """The package modules that importing ``name`` (at ``path``) runs, from its import statements."""
    is_package = path.name == "__init__.py"
    own = set(_ancestors(name)) | ({name} if is_package else set())
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module
            found = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in found:
            if target in modules:
                targets.update(t for t in [*_ancestors(target), target] if t in modules)
    return targets - own - {name}


def graph():
    modules = module_names()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def unit(name):
    """The subpackage or top-level module a module belongs to (``handgrad.layers.conv`` -> ``handgrad.layers``)."""
    return ".".join(name.split(".")[:2])


def cycles(edges):
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_cycle_between_files():
    assert cycles(graph()) == []


def test_no_cycle_between_subpackages():
    units = {}
    for name, targets in graph().items():
        units.setdefault(unit(name), set()).update(unit(t) for t in targets if unit(t) != unit(name))
    assert cycles(units) == []


def test_imports_go_down_the_layers():
    units = {unit(name) for name in module_names()}
    unplaced = sorted(units - set(LEVEL))
    assert not unplaced, f"place {unplaced} in LEVELS here and in docs/architecture.md"
    upward = sorted(f"{name} imports {t}" for name, targets in graph().items() for t in targets
                    if unit(t) != unit(name) and LEVEL[unit(t)] >= LEVEL[unit(name)])
    assert upward == []


def test_the_reader_sees_function_level_imports(tmp_path):
    # a cycle made only by an import inside a function is found
    pkg = tmp_path / PACKAGE
    (pkg / "a").mkdir(parents=True)
    (pkg / "b").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("from .x import f\n")
    (pkg / "a" / "x.py").write_text("def f():\n    from ..b.y import g\n    return g\n")
    (pkg / "b" / "__init__.py").write_text("")
    (pkg / "b" / "y.py").write_text("from ..a import f as g\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        edges = graph()
    finally:
        ROOT = saved
    assert edges["handgrad.a.x"] == {"handgrad.b", "handgrad.b.y"}
    assert edges["handgrad.b.y"] == {"handgrad.a"}
    assert cycles(edges) == [["handgrad.a", "handgrad.a.x", "handgrad.b.y"]]


@pytest.mark.parametrize("edges,expected", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
])
def test_cycles_finds_strongly_connected_components(edges, expected):
    assert cycles(edges) == expected
