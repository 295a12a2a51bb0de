"""docs/ stays true: the schema and API references are regenerated from the code and compared."""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import functools
import inspect
import re
import sys
import typing
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path

import pytest

import agentkeel
from agentkeel import (
    Clock,
    Database,
    DomainError,
    DomainEvent,
    FakeClock,
    HandlerFailure,
    InvalidValue,
    Project,
    SystemClock,
    Task,
    TaskPriority,
    TaskStatus,
    UnitOfWork,
    api_reference,
    model_reference,
)
from agentkeel.schema import metadata
from agentkeel.schema.base import ENTITIES
from agentkeel.schema.reference import render_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


@functools.cache
def api_text() -> str:
    """docs/api.md as the code makes it now (made once: it takes seconds)."""
    return api_reference.render_markdown()


def test_schema_reference_is_fresh() -> None:
    written = (DOCS / "schema.md").read_text(encoding="utf-8")
    assert written == render_markdown(), "docs/schema.md is stale: run `make docs`"


def test_api_reference_is_fresh() -> None:
    written = (DOCS / "api.md").read_text(encoding="utf-8")
    assert written == api_text(), "docs/api.md is stale: run `make docs`"


def test_api_reference_has_every_port_of_the_unit_of_work_and_every_exported_error() -> None:
    reference = api_text()
    ports = [p.fget for p in vars(UnitOfWork).values() if isinstance(p, property) and p.fget]
    port_names = [inspect.signature(fget).return_annotation for fget in ports]
    errors = [
        name
        for name in agentkeel.__all__
        if isinstance(thing := getattr(agentkeel, name), type) and issubclass(thing, DomainError)
    ]
    assert port_names and errors
    for name in port_names:
        assert f"### `{name}`" in reference, f"the port {name} is missing from docs/api.md"
    for name in errors:
        assert f"### `{name}" in reference, f"the error {name} is missing from docs/api.md"


def test_api_reference_says_what_schema_revision_is_on_memory() -> None:
    with Database.open("memory://") as db:
        revision = db.schema_revision()
    doc = inspect.getdoc(Database.schema_revision) or ""
    assert revision is None and "None" in doc and "in-memory" in doc


def test_every_documented_class_and_function_has_a_docstring() -> None:
    missing = api_reference.undocumented()
    assert not missing, "no docstring (docs/api.md says 'Not documented yet'):\n" + "\n".join(
        missing
    )


def test_seed_mapping_names_every_table() -> None:
    mapping = (DOCS / "seed-mapping.md").read_text(encoding="utf-8")
    for table in metadata.tables:
        assert f"`{table}" in mapping, f"docs/seed-mapping.md does not mention {table}"


def test_model_document_is_fresh() -> None:
    written = (DOCS / "model.md").read_text(encoding="utf-8")
    assert written == model_reference.render_markdown(), "docs/model.md is stale: run `make docs`"
    assert model_reference.model_doc() == written


def test_model_document_places_every_table_in_one_context() -> None:
    placed = [
        table.name
        for _, modules, _ in model_reference.CONTEXTS
        for table in model_reference.tables_of(modules)
    ]
    assert sorted(placed) == sorted(metadata.tables), "a table is in no context, or in two"
    assert [name for name, _, _ in model_reference.CONTEXTS] == [
        "workspace",
        "agents",
        "planning",
        "workflows",
        "backlog",
        "audit",
    ]


def test_api_reference_documents_every_entity_field() -> None:
    reference = api_text()
    for entity in ENTITIES.values():
        assert f"#### `{entity.__name__}`" in reference, f"entity {entity.__name__} missing"
        for name in entity.model_fields:
            assert f"| `{name}` |" in reference


def test_api_reference_documents_every_enum_with_its_values() -> None:
    reference = api_text()
    enums = api_reference.enums()
    used = {
        part
        for entity in ENTITIES.values()
        for info in entity.model_fields.values()
        for part in (info.annotation, *typing.get_args(info.annotation))
        if isinstance(part, type) and issubclass(part, StrEnum)
    }
    assert used <= set(enums)
    for enum in enums:
        assert f"### `{enum.__name__}`" in reference
        for member in enum:
            assert f"| `{member.name}` | `{member.value}` |" in reference


def public_returns() -> Iterator[tuple[str, type]]:
    """Every class a public callable's return annotation names, resolved by hand here (not
    with the reference's own walk), that is a record: a dataclass or a named tuple."""
    api_text()  # imports every module
    namespace: dict[str, object] = {**vars(typing), **vars(collections.abc), **vars(datetime)}
    for name, module in sorted(sys.modules.items()):
        if name.startswith("agentkeel"):
            namespace.update(vars(module))
    for function in api_reference._callables():
        written = inspect.signature(function).return_annotation
        if written is inspect.Signature.empty:
            continue
        returned = eval(written, {**namespace, **function.__globals__})
        for part in _parts(returned):
            is_record = dataclasses.is_dataclass(part) or (
                issubclass(part, tuple) and hasattr(part, "_fields")
            )
            if is_record:
                yield function.__qualname__, part


def _parts(annotation: object) -> Iterator[type]:
    if isinstance(annotation, type):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _parts(argument)


def test_every_public_return_type_is_documented() -> None:
    """A record a public function or method returns is a result type (or an event), and the
    reference has a section for it."""
    reference = api_text()
    returned = list(public_returns())
    assert {"AcceptedProposal", "Recovery", "ErrandWithAlias", "LoggedEvent", "WorktreePlan"} <= {
        cls.__name__ for _, cls in returned
    }
    for where, cls in returned:
        if issubclass(cls, DomainEvent) or cls is HandlerFailure:
            assert f"### `{cls.__name__}" in reference, f"{where} returns {cls}"
        else:
            assert cls in api_reference.result_types(), f"{where} returns {cls}"
            assert f"### `{cls.__name__}`" in reference, f"{where} returns {cls}"


def test_every_documented_class_imports_from_agentkeel() -> None:
    """What the reference's paragraph on imports says: every entity, enum, result type,
    event and error documented, with the facade, the unit of work and the clocks, imports
    from `agentkeel`; the ports are in `agentkeel.ports`, the services in
    `agentkeel.services`."""
    api_text()  # imports every module
    documented: list[type] = [Database, UnitOfWork, Clock, SystemClock, FakeClock]
    documented += ENTITIES.values()
    documented += api_reference.enums()
    documented += api_reference.result_types()
    documented += [cls for _, cls in api_reference._descendants(DomainEvent)]
    documented += [cls for _, cls in api_reference._descendants(DomainError)]
    documented.append(HandlerFailure)
    missing = [
        cls.__qualname__ for cls in documented if getattr(agentkeel, cls.__name__, None) is not cls
    ]
    assert not missing, f"documented but not importable from agentkeel: {missing}"
    assert all(name in agentkeel.__all__ for name in (cls.__name__ for cls in documented))
    reference = api_text()
    for section in ("Repository ports", "Services"):
        start = reference.index(f"\n## {section}")
        end = reference.index("\n## ", start + 1)
        for line in reference[start:end].splitlines():
            if line.startswith("`agentkeel.") and not line.startswith("`agentkeel.ports."):
                assert line.startswith("`agentkeel.services."), line


def test_enum_arguments_accept_their_values_as_plain_strings() -> None:
    """What the reference's paragraph on enums says: the value's text is accepted wherever
    the enum is (entity fields, repository and service arguments, `unit_of_work(source=)`);
    the member's name, or another case, is InvalidValue naming the field."""
    with Database.open("memory://") as db:
        with db.unit_of_work(source="user") as uow:  # type: ignore[arg-type]
            project = uow.projects.add(Project(name="Keel", mode="genesis"))  # type: ignore[arg-type]
            task = uow.tasks.add(Task(project_id=project.id, name="A", priority="high"))  # type: ignore[arg-type]
            assert task.priority is TaskPriority.HIGH and typing.cast(str, task.priority) == "high"
            assert uow.tasks.list(project_id=project.id, status="pending") == [task]  # type: ignore[arg-type]
            moved = uow.tasks.move_to(task.id, "blocked", blocked_by="waiting")  # type: ignore[arg-type]
            assert moved.status is TaskStatus.BLOCKED
            for wrong in ("BLOCKED", "Pending"):
                with pytest.raises(InvalidValue) as raised:
                    uow.tasks.move_to(task.id, wrong)  # type: ignore[arg-type]
                assert raised.value.field == "status" and "'pending'" in str(raised.value)
            with pytest.raises(InvalidValue):
                Task(project_id=project.id, name="B", priority="HIGH")  # type: ignore[arg-type]
            uow.commit()
        with pytest.raises(InvalidValue):
            db.unit_of_work(source="USER")  # type: ignore[arg-type]


ER_LINE = re.compile(
    r"    \w+"  # an entity alone
    r"|    \w+ \{|    \}"  # an entity's attributes open and close
    r"|        \w+ \w+( PK| FK| PK, FK)?"  # an attribute: type, name, keys
    r'|    \w+ (\|\||\|o)--o\{ \w+ : "[\w, ]+"'  # a relation, labelled
)


def test_model_diagrams_hold_only_what_mermaid_er_diagrams_take() -> None:
    text = (DOCS / "model.md").read_text(encoding="utf-8")
    diagrams = re.findall(r"```mermaid\nerDiagram\n(.*?)```", text, re.S)
    assert len(diagrams) == 1 + len(model_reference.CONTEXTS)
    for diagram in diagrams:
        bad = [line for line in diagram.splitlines() if not ER_LINE.fullmatch(line)]
        assert not bad, bad
    drawn = set(re.findall(r"^    (\w+) \|", diagrams[0], re.M))
    assert drawn <= set(metadata.tables)
    cascades = sum(1 for ref in model_reference.references() if ref.on_delete == "CASCADE")
    assert diagrams[0].count(', cascade"') == cascades
