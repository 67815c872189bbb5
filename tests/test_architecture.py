"""The package's shape: layers import downward only, no import cycle, no presenter switching on result types.

The import graph is read from the source with ``ast`` — imports inside functions count; only
``if TYPE_CHECKING:`` imports are exempt (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "derivgen"

# rank of each layer: a module may import its own layer and those below, never one above
LAYERS = {"input": 1, "calculus": 2, "presentation": 3, "documents": 4}
SHARED = {"derivgen.errors", "derivgen.options", "derivgen.version"}  # leaf modules every layer may use
TOP = 5  # derivgen itself, derivgen.api, derivgen.cli, derivgen.__main__
RESULT_CLASSES = {"Derivation", "MatrixDerivation", "MatrixCalculus"}
PRESENTERS = ("derivgen.presentation", "derivgen.documents", "derivgen.cli", "derivgen.api")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(inner) for statement in node.body for inner in ast.walk(statement)}
    return skipped


def imports_of(module: str) -> set[str]:
    """The derivgen modules ``module`` imports anywhere in its code (TYPE_CHECKING blocks aside)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    skipped = _type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target, *(f"{target}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {candidate for candidate in candidates if candidate in MODULES and candidate != module}
    return found


def rank(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], TOP) if len(parts) > 1 else TOP


def test_the_import_graph_has_no_cycle() -> None:
    graph = {module: imports_of(module) for module in MODULES}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append(" → ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_layers_import_downward_only() -> None:
    upward = [
        f"{module} → {target}"
        for module in sorted(MODULES)
        for target in sorted(imports_of(module))
        if target not in SHARED and rank(target) > rank(module)
    ]
    assert upward == []


def test_the_checker_itself_sees_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the graph must count imports inside functions: a model that imported the printer in to_dict()
    source = "def to_dict():\n    from ..presentation.printer import to_latex\n    return to_latex\n"
    planted = tmp_path / "planted.py"
    planted.write_text(source)
    monkeypatch.setitem(MODULES, "derivgen.calculus.planted", planted)
    assert "derivgen.presentation.printer" in imports_of("derivgen.calculus.planted")


def _class_tests(module: str) -> list[str]:
    """``isinstance(x, Derivation)`` and the like in a module: a switch on the kind of result."""
    tree = ast.parse(MODULES[module].read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            classes = ast.walk(node.args[1]) if len(node.args) > 1 else iter(())
            named = [n for n in classes if isinstance(n, ast.Name | ast.Attribute)]
            names = {n.id if isinstance(n, ast.Name) else n.attr for n in named}
            if names & RESULT_CLASSES:
                found.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_presenter_switches_on_the_kind_of_result() -> None:
    presenters = [module for module in MODULES if module.startswith(PRESENTERS)]
    assert presenters, "the presenter modules moved: update PRESENTERS"
    assert [found for module in sorted(presenters) for found in _class_tests(module)] == []


def test_the_class_test_finder_finds_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("def rows(d):\n    if isinstance(d, (MatrixCalculus, int)):\n        return 1\n")
    monkeypatch.setitem(MODULES, "derivgen.presentation.planted", planted)
    assert len(_class_tests("derivgen.presentation.planted")) == 1
