"""The floor plan holds: each layer imports only the layers below it, no module imports
itself back through others, no source file outgrows a sitting, and the repositories reach
one another only through the unit of work.

The layers, bottom up: `domain` (entities, rules, events), `schema` (tables), `ports` (the
protocols, the row store among them), `repositories` (the rules written once over the row
store, and the unit of work that wires them), `adapters` (a row store per backend),
`services` (policy across aggregates, written against the ports), and the entry points
at the top (`database`, `cli`, `demo`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SOURCE / "agentkeel"
MAX_LINES = 600

# What each layer may import (besides itself). The entry points may import anything.
ALLOWED: dict[str, frozenset[str]] = {
    "domain": frozenset(),
    "schema": frozenset({"domain"}),
    "ports": frozenset({"domain", "schema"}),
    "repositories": frozenset({"domain", "schema", "ports"}),
    "adapters": frozenset({"domain", "schema", "ports", "repositories"}),
    "services": frozenset({"domain", "ports"}),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def runtime_imports(path: Path) -> Iterator[str]:
    """The agentkeel modules `path` imports when it runs (a function's own imports
    included; those under `if TYPE_CHECKING:` are for the type checker only)."""

    def walk(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module:
                if child.module.startswith("agentkeel"):
                    yield child.module
            elif isinstance(child, ast.Import):
                yield from (a.name for a in child.names if a.name.startswith("agentkeel"))
            yield from walk(child)

    yield from walk(ast.parse(path.read_text()))


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else "top"


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = set()
        for target in runtime_imports(path):
            # `from agentkeel.x import y` may name a module y of package x.
            targets.add(target if target in known else target.rsplit(".", 1)[0])
        graph[name] = {t for t in targets if t in known and t != name}
    return graph


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if (layer := layer_of(module)) in ALLOWED
        and layer_of(target) != layer
        and layer_of(target) not in ALLOWED[layer]
    ]
    assert not wrong, "\n".join(wrong)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    # A package's __init__ re-exporting its modules is not a cycle of the code.
    graph = {
        module: {t for t in targets if not module.startswith(t + ".")}
        for module, targets in import_graph().items()
    }
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=module_name)
def test_no_source_file_is_longer_than_600_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(SOURCE)} has {lines} lines: split it"


def private_names(path: Path) -> set[str]:
    """The private names a class of `path` defines: its methods and `self` attributes."""
    tree = ast.parse(path.read_text())
    names = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    names |= {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }
    return {name for name in names if name.startswith("_") and not name.endswith("__")}


def repository_members() -> frozenset[str]:
    """The private members of the generic repository (those an entity has too, such as
    the row it was read from, are the entity's to share)."""
    base = private_names(PACKAGE / "repositories" / "base.py")
    return frozenset(base - private_names(PACKAGE / "domain" / "entity.py"))


def private_reaches(path: Path) -> Iterator[str]:
    """Where a repository module builds a repository of another module, or reaches into
    a private member of a repository other than itself."""
    members = repository_members()
    tree = ast.parse(path.read_text())
    own = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name.endswith("Table") and name not in own and name != "Table":
                yield f"line {node.lineno}: builds {name} (use self._uow)"
        if (
            isinstance(node, ast.Attribute)
            and node.attr in members
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            and not (isinstance(node.value, ast.Call) and ast.unparse(node.value) == "super()")
        ):
            yield f"line {node.lineno}: {ast.unparse(node)} is another repository's private member"


@pytest.mark.parametrize("path", sorted((PACKAGE / "repositories").rglob("*.py")), ids=module_name)
def test_repositories_reach_one_another_through_the_unit_of_work(path: Path) -> None:
    found = list(private_reaches(path))
    assert not found, "\n".join(found)
