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

from agentkeel.schema import metadata
from agentkeel.schema.column_names import render_module

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
    text = path.read_text()
    if "do not edit" in (ast.get_docstring(ast.parse(text)) or ""):
        return  # generated data (schema/columns.py), written and checked by a test
    lines = len(text.splitlines())
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


# -- the rules name columns through schema.columns ---------------------------------------------

_COLUMN_NAMES = frozenset(
    column.name for table in metadata.tables.values() for column in table.columns
)
_TABLE_NAMES = frozenset(metadata.tables)
# Query terms and orders, and the argument positions that name a column or a table.
_TERM_NAMES = {
    "Eq": (0,),
    "Ne": (0,),
    "In": (0,),
    "IsNull": (0,),
    "NotNull": (0,),
    "Before": (0,),
    "Since": (0,),
    "Asc": (0,),
    "Desc": (0,),
    "Sum": (0,),
    "Max": (0,),
    "Percentile": (0,),
    "AnyRelated": (0, 1),
    "NoneRelated": (0, 1),
    "RefersTo": (0, 1),
    "NotRefersTo": (0, 1),
    "Reaches": (0, 1, 2),
}
# The shared checks of repositories/rules.py and the base, and where they take a column.
_COLUMN_ARGUMENTS = {
    "changed": (2,),
    "was_set": (1,),
    "fixed": (3,),
    "flag_terms": (2,),
    "_increment": (1,),
    "_bounds": (0,),
    "_purge_before": (0,),
}


def _literals(node: ast.AST) -> Iterator[ast.Constant]:
    """The string literals of `node`, itself or the elements of a tuple, list or set."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for element in node.elts:
            yield from _literals(element)


def column_literals(path: Path) -> Iterator[str]:
    """Where an aggregate's repository names a column or table with a string literal."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            name = (
                node.func.id
                if isinstance(node.func, ast.Name)
                else node.func.attr
                if isinstance(node.func, ast.Attribute)
                else ""
            )
            positions = _TERM_NAMES.get(name, ()) + _COLUMN_ARGUMENTS.get(name, ())
            for position in positions:
                if position < len(node.args):
                    for literal in _literals(node.args[position]):
                        yield f"line {literal.lineno}: {name}({literal.value!r})"
            # (An audit entry's event_data is a payload of its own, not columns.)
            data = (k.value for k in node.keywords if k.arg != "event_data")
            for argument in (*node.args, *data):
                if isinstance(argument, ast.Dict):
                    for key in argument.keys:
                        if key is not None:
                            for literal in _literals(key):
                                if literal.value in _COLUMN_NAMES:
                                    yield f"line {literal.lineno}: {{{literal.value!r}: ...}}"
        if isinstance(node, ast.Subscript):
            for literal in _literals(node.slice):
                if literal.value in _COLUMN_NAMES | _TABLE_NAMES:
                    yield f"line {literal.lineno}: {ast.unparse(node)}"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (PACKAGE / "repositories").glob("*/*.py") if p.name != "__init__.py"),
    ids=module_name,
)
def test_the_aggregates_name_columns_through_the_schema(path: Path) -> None:
    found = list(column_literals(path))
    assert not found, (
        "name the column as schema.columns has it (TASKS.status, not 'status'), so that "
        "mypy checks it:\n" + "\n".join(found)
    )


def test_the_column_check_finds_each_kind_of_named_column(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "Eq('status', 1)\n"
        "row['phase_id']\n"
        "store.update(table, [], {'claimed_until': None})\n"
        "changed(task, stored, 'initiative_id')\n"
        "AnyRelated('task_dependencies', TASK_DEPENDENCIES.task_id)\n"
        "Eq(TASKS.status, 1), row[TASKS.phase_id], audit(event_data={'status': 1})\n"
    )
    assert [found.split(":")[0] for found in column_literals(module)] == [
        "line 1",
        "line 2",
        "line 3",
        "line 4",
        "line 5",
    ]


def test_columns_module_is_fresh() -> None:
    written = (PACKAGE / "schema" / "columns.py").read_text()
    assert written == render_module(), "schema/columns.py is stale: run `make docs`"
