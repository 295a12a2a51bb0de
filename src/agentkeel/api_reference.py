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
from collections.abc import Callable, Iterator
from enum import Enum
from types import ModuleType
from typing import Any, get_args, get_origin

from typing_extensions import is_protocol

import agentkeel
from agentkeel import Database, UnitOfWork, ports, services
from agentkeel.domain.clock import Clock, FakeClock, SystemClock
from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import DomainError
from agentkeel.domain.events import DomainEvent, HandlerFailure

HEADER = """# API reference

Generated from the signatures and docstrings in `src/agentkeel/` by `make docs`
(`agentkeel api-doc > docs/api.md`); a test fails when this file is stale. Annotations are
shown as written in the source.
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
    _services(ref)
    _state_machines(ref)
    _events(ref)
    _errors(ref)
    return ref


def render_markdown() -> str:
    return "\n".join(_write().lines).rstrip() + "\n"


def undocumented() -> list[str]:
    """The qualified names of the classes and functions documented here without a docstring."""
    return _write().undocumented
