"""The API reference (docs/api.md), generated from signatures and docstrings so it cannot drift.

What it documents is discovered, not listed: the Protocol classes of the modules of
`agentkeel.ports`, the public functions of the modules of `agentkeel.services`, and the
subclasses of `DomainEvent` and `DomainError` defined anywhere in agentkeel. An entry without a
docstring is marked as such in the text and named by `undocumented()`.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from enum import Enum, StrEnum
from functools import cache
from types import ModuleType
from typing import Any, get_args, get_origin

from typing_extensions import is_protocol

import agentkeel
from agentkeel import Database, UnitOfWork, ports, services
from agentkeel.domain.clock import Clock, FakeClock, SystemClock
from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import DomainError
from agentkeel.domain.events import DomainEvent, HandlerFailure
from agentkeel.model_reference import CONTEXTS, describe_field, tables_of
from agentkeel.ports.base import EntityRepository
from agentkeel.schema.base import ENTITIES

HEADER = """# API reference

Generated from the signatures and docstrings in `src/agentkeel/` by `make docs`
(`agentkeel api-doc > docs/api.md`); a test fails when this file is stale. Annotations are
shown as written in the source. Start with the [guide](guide.md); the tables and how they
relate are in [the model](model.md).

**Imports.** What an application names imports from `agentkeel` itself: `Database`,
`UnitOfWork`, the clocks, the [entities](#entities), the [enums](#enums), the
[result types](#result-types), the [events](#events) and the [errors](#errors)
(`from agentkeel import Task, TaskStatus, Recovery, Conflict`). Two kinds of names on this
page are elsewhere: the repository ports, which an application reaches as a unit of
work's attributes (`uow.tasks` is a `Tasks`; the Protocol classes are in `agentkeel.ports`
for annotations), and the services, functions and classes of the modules of
`agentkeel.services` (`from agentkeel.services import planning`; `from
agentkeel.services.events import EventLogReader`). A test checks both rules for every name
on this page.

**Enums as strings.** Every enum is a `StrEnum`. Wherever one is expected (an entity field,
an argument of a repository or a service: `uow.tasks.move_to(key, "completed")`,
`uow.tasks.list(project_id=..., status="pending")`, `db.unit_of_work(source="user")`), its
member's value, as text, is accepted as well as the member itself: exactly the value listed
under [enums](#enums) (`"in_progress"`; not the member's name `"IN_PROGRESS"`, nor another
case). Anything else is `InvalidValue`, naming the field and the values allowed. An entity
read back or returned holds the member (`task.status is TaskStatus.PENDING`), which compares
equal to its text. This is the run time's rule: the annotations name the enum, so code a
type checker reads passes members (or `TaskStatus(text)`, which raises `ValueError` for
text that is no value); plain strings suit values from outside (JSON, a form, a command
line).
"""
MISSING = "*Not documented yet.*"


class _Written(str):
    """Text that a signature shows as it is (inspect would quote a string annotation)."""

    def __repr__(self) -> str:
        return str(self)


def _annotation(annotation: object) -> str:
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _value(value: object) -> str:
    return f"{type(value).__name__}.{value.name}" if isinstance(value, Enum) else repr(value)


def _shown(value: object, text: Callable[[object], str]) -> object:
    return value if value is inspect.Parameter.empty else _Written(text(value))


def _signature(obj: Callable[..., object], *, drop_first: bool = False) -> str:
    """`(name: annotation = default, ...) -> annotation`, without `self` when `drop_first`."""
    try:
        signature = inspect.signature(obj)
    except ValueError:  # a class whose constructor is a builtin's (Exception's)
        return "(*args)"
    parameters = [
        p.replace(annotation=_shown(p.annotation, _annotation), default=_shown(p.default, _value))
        for p in list(signature.parameters.values())[int(drop_first) :]
    ]
    returned = _shown(signature.return_annotation, _annotation)
    return str(signature.replace(parameters=parameters, return_annotation=returned))


def _own_doc(obj: Any) -> str | None:
    """The object's own docstring: not one inherited, nor the one `dataclass` makes up."""
    doc = vars(obj).get("__doc__") if isinstance(obj, type) else obj.__doc__
    if dataclasses.is_dataclass(obj) and isinstance(obj, type):  # `Name(field: 'type', ...)`
        made_up = obj.__name__ + str(inspect.signature(obj)).replace(" -> None", "")
        doc = None if doc == made_up else doc
    return inspect.getdoc(obj) if doc else None


def _name(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _line(obj: Any) -> int:
    return inspect.getsourcelines(obj)[1]


def _modules(package: ModuleType) -> list[ModuleType]:
    """The package and its modules, subpackages included, by name (never `__main__`)."""
    prefix = package.__name__ + "."
    names = sorted(info.name for info in pkgutil.walk_packages(package.__path__, prefix))
    return [package, *(importlib.import_module(n) for n in names if not n.endswith("__main__"))]


def _defined_in(module: ModuleType, wanted: Callable[[Any], bool]) -> list[Any]:
    """The module's own public objects that are `wanted`, in source order."""
    found = [obj for name, obj in vars(module).items() if not name.startswith("_") and wanted(obj)]
    return sorted((obj for obj in found if obj.__module__ == module.__name__), key=_line)


def _descendants(cls: type, depth: int = 0) -> Iterator[tuple[int, type]]:
    """`cls` and its subclasses defined in agentkeel, at every depth, each after its parent
    (siblings in module, then source order), with its depth."""
    yield depth, cls
    subclasses: list[type] = cls.__subclasses__()
    ours = [sub for sub in subclasses if sub.__module__.startswith("agentkeel.")]
    for sub in sorted(ours, key=lambda found: (found.__module__, _line(found))):
        yield from _descendants(sub, depth + 1)


def _title(cls: type, depth: int) -> str:
    return f"`{cls.__name__}({cls.__bases__[0].__name__})`" if depth else f"`{cls.__name__}`"


def _fields(cls: type) -> str:
    shown = []
    for field in dataclasses.fields(cls):
        text = f"{field.name}: {_annotation(field.type)}"
        if field.default is not dataclasses.MISSING:
            text += f" = {_value(field.default)}"
        elif field.default_factory is not dataclasses.MISSING:
            text += f" = {getattr(field.default_factory, '__name__', '?')}()"
        shown.append(f"`{text}`")
    return "Fields: " + (", ".join(shown) or "none") + "."


def _generic(cls: type) -> str:
    parameters = ", ".join(p.__name__ for p in getattr(cls, "__parameters__", ()))
    return f"{cls.__name__}[{parameters}]" if parameters else cls.__name__


def _built_on(cls: type, bases: list[type]) -> str:
    """Which generic ports `cls` is built on, and with what type arguments."""
    notes = []
    for written in getattr(cls, "__orig_bases__", ()):
        origin = get_origin(written) or written
        if origin in bases:
            pairs = zip(origin.__parameters__, get_args(written), strict=True)
            given = ", ".join(f"`{p.__name__}` = `{_annotation(a)}`" for p, a in pairs)
            notes.append(f"Also has the generic methods of `{_generic(origin)}`, with {given}.")
    return " ".join(notes)


class _Reference:
    """The lines written so far, and the names of the entries that have no docstring."""

    def __init__(self) -> None:
        self.lines = [HEADER]
        self.undocumented: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines += [*lines, ""]

    def doc(self, obj: Any) -> None:
        text = _own_doc(obj)
        if text is None:
            self.undocumented.append(_name(obj))
        self.add(text or MISSING)

    def cls(self, cls: type, *, title: str = "", constructor: bool = False, note: str = "") -> None:
        """A class: its docstring, its annotated and property attributes, its methods."""
        signature = _signature(cls).removesuffix(" -> None") if constructor else ""
        self.add(f"### {title or f'`{cls.__name__}`'}", "", f"`{_name(cls)}{signature}`")
        self.doc(cls)
        if note:
            self.add(note)
        attributes = [
            f"- `{name}: {_annotation(annotation)}`"
            for name, annotation in vars(cls).get("__annotations__", {}).items()
            if not name.startswith("_")
        ]
        methods: list[tuple[str, Callable[..., object], bool, str]] = []
        for name, value in vars(cls).items():
            if name.startswith("_"):
                continue
            if isinstance(value, property) and value.fget is not None:
                returned = inspect.signature(value.fget).return_annotation
                attributes.append(f"- `{name}: {_annotation(returned)}` (read-only)")
            elif isinstance(value, classmethod | staticmethod):
                kind = type(value).__name__
                methods.append((name, value.__func__, kind == "classmethod", f" ({kind})"))
            elif inspect.isfunction(value):
                methods.append((name, value, True, ""))
        if attributes:
            self.add("Attributes:", "", *attributes)
        if "__enter__" in vars(cls):
            self.add("Used in a `with` block (it defines `__enter__` and `__exit__`).")
        for name, function, drop_first, kind in methods:
            signature = _signature(function, drop_first=drop_first)
            self.add(f"#### `{cls.__name__}.{name}`", "", f"`{name}{signature}`{kind}")
            self.doc(function)


def _ports(ref: _Reference) -> None:
    found = [
        cls
        for module in _modules(ports)
        for cls in _defined_in(module, lambda o: isinstance(o, type) and is_protocol(o))
        if cls is not UnitOfWork
    ]
    bases = [cls for cls in found if any(cls in other.__mro__[1:] for other in found)]
    ref.add(
        "## Repository ports",
        "",
        "Every Protocol class of the modules of `agentkeel.ports`, by module. The methods of a "
        "generic port that others are built on are shown once, in a section of their own.",
    )
    for base in bases:
        ref.cls(base, title=f"Generic methods: `{_generic(base)}`")
    for cls in found:
        if cls not in bases:
            ref.cls(cls, note=_built_on(cls, bases))


def _services(ref: _Reference) -> None:
    ref.add("## Services", "", "The public functions of the modules of `agentkeel.services`.")
    for module in _modules(services)[1:]:
        functions = _defined_in(module, inspect.isfunction)
        if functions:
            ref.add(f"### `{module.__name__}`", "", inspect.getdoc(module) or "")
        for function in functions:
            name = function.__name__
            ref.add(f"#### `{name}`", "", f"`{name}{_signature(function)}`")
            ref.doc(function)
        for cls in _defined_in(module, inspect.isclass):
            # Enums and result types have sections of their own.
            if not issubclass(cls, StrEnum) and cls not in result_types():
                ref.cls(cls, constructor=not is_protocol(cls))


def _events(ref: _Reference) -> None:
    ref.add("## Events", "", inspect.getdoc(inspect.getmodule(DomainEvent)) or "")
    events = [(_title(cls, depth), cls) for depth, cls in _descendants(DomainEvent)]
    for title, cls in [*events, (_title(HandlerFailure, 0), HandlerFailure)]:
        ref.add(f"### {title}", "", f"`{_name(cls)}`", "", _fields(cls))
        ref.doc(cls)


def _errors(ref: _Reference) -> None:
    errors = list(_descendants(DomainError))
    ref.add("## Errors", "", inspect.getdoc(inspect.getmodule(DomainError)) or "")
    ref.add(*(f"{'  ' * depth}- `{cls.__name__}`" for depth, cls in errors))
    for depth, cls in errors:
        ref.cls(cls, title=_title(cls, depth), constructor=True)


def _state_machines(ref: _Reference) -> None:
    ref.add(
        "## State machines",
        "",
        "Every field with a state machine (`Entity.transitions`), from the code: each state, "
        "the states it may move to, and the same as a diagram (`[*] -->` marks the default a "
        "new entity takes; `--> [*]` a final state). Every write path checks it: a move "
        "elsewhere is `InvalidTransition`. Rules a repository adds on top (who may move a "
        "task, what a terminal workflow allows its steps) are in its port's docstring above "
        "and in the lifecycle guide (`docs/lifecycle.md`).",
    )
    entities: list[type[Entity]] = sorted(
        (cls for _, cls in _descendants(Entity) if "transitions" in vars(cls)),
        key=lambda found: (found.__module__, _line(found)),
    )
    for cls in entities:
        for field, graph in cls.transitions.items():
            initial = cls.model_fields[field].default
            states = list(graph)
            ref.add(
                f"### `{cls.__name__}.{field}`",
                "",
                "| from | may move to |",
                "| --- | --- |",
                *(
                    f"| `{state}` | "
                    + (", ".join(f"`{t}`" for t in _in_order(graph[state], states)) or "(final)")
                    + " |"
                    for state in states
                ),
            )
            lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {_state(initial)}"]
            for state in states:
                targets = _in_order(graph[state], states)
                lines += [f"    {_state(state)} --> {_state(t)}" for t in targets]
                if not targets:
                    lines.append(f"    {_state(state)} --> [*]")
            ref.add(*lines, "```")


def _in_order(targets: frozenset[str], states: list[str]) -> list[str]:
    return [state for state in states if state in targets]


def _state(value: object) -> str:
    return str(value.value if isinstance(value, Enum) else value)


def _entities(ref: _Reference) -> None:
    ref.add(
        "## Entities",
        "",
        "Every entity, by context (see [the model](model.md)), with its table and fields, read "
        "from the field declarations. *Required*: the constructor needs it; *null*: it may "
        "be None. *Default*: what a new entity holds when the field is not given (`now`: the "
        "clock's time at construction, replaced by the repository's stamp when stored). "
        "*Limits* are checked on construction and on every assignment (`InvalidValue`); "
        "*set by* names what the repositories write themselves. Rules a repository adds "
        "(consistency across rows, what a status move stamps) are in the entity's and its "
        "port's docstrings.",
    )
    for context, modules, _ in CONTEXTS:
        ref.add(f"### The {context} context")
        for table in tables_of(modules):
            entity = ENTITIES.get(table.name)
            if entity is None:
                continue
            ref.add(f"#### `{entity.__name__}`", "", f"`{_name(entity)}`, table `{table.name}`")
            ref.doc(entity)
            rows = [describe_field(entity, name) for name in entity.model_fields]
            ref.add(
                "| field | type | required | null | default | limits | set by |",
                "| --- | --- | --- | --- | --- | --- | --- |",
                *(
                    f"| `{f.name}` | {f.type} | {'yes' if f.required else 'no'} | "
                    f"{'yes' if f.nullable else 'no'} | {f.default} | {f.limits} | {f.set_by} |"
                    for f in rows
                ),
            )


def enums() -> list[type[StrEnum]]:
    """Every public enum defined in agentkeel, by name."""
    found = {
        cls
        for module in _modules(agentkeel)
        for cls in _defined_in(module, lambda o: isinstance(o, type) and issubclass(o, StrEnum))
    }
    return sorted(found, key=lambda cls: cls.__name__)


def _enums(ref: _Reference) -> None:
    ref.add(
        "## Enums",
        "",
        "Every enum, by name, with its members and their values: the value is what is stored, "
        "and what is accepted as a plain string wherever the enum is expected.",
    )
    for enum in enums():
        ref.add(f"### `{enum.__name__}`", "", f"`{_name(enum)}`")
        doc = _own_doc(enum)
        if doc:
            ref.add(doc)
        ref.add(
            "| member | value |",
            "| --- | --- |",
            *(f"| `{member.name}` | `{member.value}` |" for member in enum),
        )


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _callables() -> Iterator[Callable[..., object]]:
    """Every public function and method an application calls: of `Database`, `UnitOfWork`,
    the repository ports, the services (their functions and their classes' methods)."""
    classes: list[type] = [Database, UnitOfWork]
    for module in _modules(ports):
        classes += _defined_in(module, lambda o: isinstance(o, type) and is_protocol(o))
    for module in _modules(services)[1:]:
        yield from _defined_in(module, inspect.isfunction)
        classes += _defined_in(module, inspect.isclass)
    for cls in classes:
        for name, value in vars(cls).items():
            if isinstance(value, classmethod | staticmethod):
                value = value.__func__
            if isinstance(value, property):
                value = value.fget
            if not name.startswith("_") and inspect.isfunction(value):
                yield value


def _named_types(annotation: object, namespace: dict[str, Any]) -> Iterator[type]:
    """The classes an annotation names (as written, resolved in `namespace`)."""
    for word in _IDENTIFIER.findall(_annotation(annotation)):
        found = namespace.get(word)
        if isinstance(found, type):
            yield found


def _is_result(cls: type) -> bool:
    record = dataclasses.is_dataclass(cls) or (issubclass(cls, tuple) and hasattr(cls, "_fields"))
    ours = cls.__module__.startswith("agentkeel.")
    return (
        record and ours and not issubclass(cls, DomainEvent | Entity) and cls is not HandlerFailure
    )


@cache
def result_types() -> list[type]:
    """Every record (dataclass or named tuple) that a public function or method returns,
    or that such a record holds, by name: found by walking the return annotations, so a
    new one cannot be left out. Events and `HandlerFailure` have sections of their own."""
    everything: dict[str, Any] = {}
    for module in _modules(agentkeel):
        everything.update(
            (name, value) for name, value in vars(module).items() if isinstance(value, type)
        )
    todo = [
        found
        for function in _callables()
        for found in _named_types(
            inspect.signature(function).return_annotation, {**everything, **function.__globals__}
        )
    ]
    results: set[type] = set()
    while todo:
        cls = todo.pop()
        if cls in results or not _is_result(cls):
            continue
        results.add(cls)
        namespace = {**everything, **vars(inspect.getmodule(cls))}
        for hint in vars(cls).get("__annotations__", {}).values():
            todo += _named_types(hint, namespace)
    return sorted(results, key=lambda cls: cls.__name__)


def _results(ref: _Reference) -> None:
    ref.add(
        "## Result types",
        "",
        "What a service or a repository returns when it is not an entity: every dataclass "
        "or named tuple named by a public return annotation (or held by one), found by "
        "walking them. They are plain values: reading one never touches the database.",
    )
    for cls in result_types():
        ref.cls(cls)


def _port_name(fget: Callable[..., object]) -> str:
    return _annotation(inspect.signature(fget).return_annotation)


def _add_many(ref: _Reference) -> None:
    port_classes = {
        cls.__name__: cls
        for module in _modules(ports)
        for cls in _defined_in(module, lambda o: isinstance(o, type) and is_protocol(o))
    }
    with Database.open("memory://") as db, db.unit_of_work(read_only=True) as uow:
        bulk = sorted(
            name
            for name, value in vars(UnitOfWork).items()
            if isinstance(value, property)
            and value.fget is not None
            and EntityRepository in port_classes[_port_name(value.fget)].__mro__
            and hasattr(getattr(uow, name), "add_many")
        )
    ref.add(
        "## Writing many rows at once: `add_many`",
        "",
        "`add_many(entities)` adds a list of entities of one kind as `add` adds each, and "
        "returns them as stored, in order: each checked by its aggregate's rules, stamped "
        "(`created_at`, `updated_at`, `row_version` 1), counted and its events recorded, as "
        "by `add`. It is all or nothing: on any error (the one `add` would raise for the "
        "first entity refused: `InvalidValue`, `AlreadyExists`, `ReferenceMissing`, "
        "`DependencyCycle`, ...) nothing of the call is written and the unit of work goes "
        "on. It is the way to write many rows: the rows the rules read (a task's phase, "
        "initiative and parent; a dependency's two tasks and its cycle search) are read a "
        "batch at a time, and the rows go in one bulk insert, so a batch costs a few "
        "statements whatever its size. An entity may refer to one before it in the batch "
        "(a task's parent, a dependency between two new tasks). Where adding one row may "
        "change another (a table with an exclusive flag, an agent that draws its name, the "
        "workflows' concurrency cap, an implementation plan's step numbers) they are added "
        "one by one in one savepoint, with the same result. It takes no idempotency key. "
        "Declared on `EntityRepository`, so on every port built on it: "
        + ", ".join(f"`uow.{name}`" for name in bulk)
        + ".",
    )


def _write() -> _Reference:
    _modules(agentkeel)  # imports every module, so that every event and error class is defined
    ref = _Reference()
    ref.add("## Database and unit of work")
    ref.cls(Database)
    ref.cls(UnitOfWork)
    ref.add("## Clock", "", "`Database.open(clock=...)` takes any `Clock`; `uow.clock` is it.")
    for clock in (Clock, SystemClock, FakeClock):
        ref.cls(clock, constructor=not is_protocol(clock))
    _ports(ref)
    _add_many(ref)
    _services(ref)
    _entities(ref)
    _enums(ref)
    _results(ref)
    _state_machines(ref)
    _events(ref)
    _errors(ref)
    return ref


def render_markdown() -> str:
    return "\n".join(_write().lines).rstrip() + "\n"


def undocumented() -> list[str]:
    """The qualified names of the classes and functions documented here without a docstring."""
    return _write().undocumented
