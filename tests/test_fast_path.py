"""The read and write fast path gives what the general path gives.

Rows read back become entities through code written out once per statement
(`prepared.row_reader`) and once per entity class (`Entity.whole_row_builder`); query terms
a repository declares once are normalised once (`queries.normalised`); ids come from one
call of the operating system's generator. Each is checked here against the plain way of
doing the same thing, for every table and every entity."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import Dialect, create_engine, select

from agentkeel.adapters.sql.prepared import prepare, row_reader
from agentkeel.domain.entity import Entity, _enum_fields, _json_fields
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.ids import ID_LENGTH, new_id
from agentkeel.domain.planning import Task, TaskStatus
from agentkeel.domain.workspace import Project
from agentkeel.ports.store import Eq, In
from agentkeel.repositories.queries import normalised, query_term
from agentkeel.schema.base import ENTITIES, metadata

DIALECTS: dict[str, Dialect] = {
    "sqlite": create_engine("sqlite://").dialect,
    "postgresql": create_engine("postgresql+psycopg://").dialect,
}
TABLES = sorted(metadata.tables)
ENTITY_TABLES = sorted(ENTITIES)  # every table but the event log and the counters


def _plain_row(columns: tuple[str, ...], results: tuple[Any, ...], raw: tuple[Any, ...]) -> Any:
    row = dict(zip(columns, raw, strict=True))
    for name, process in zip(columns, results, strict=True):
        if process is not None and row[name] is not None:
            row[name] = process(row[name])
    return row


def _stored_text(column_type: str) -> Any:
    """A value as the SQLite driver hands one back, by the column's type."""
    if "DATETIME" in column_type or "TIMESTAMP" in column_type:
        return "2026-12-07 10:11:12.131415"
    if "JSON" in column_type or column_type == "TEXT":
        return '{"a": [1, "two", null]}'
    if "INT" in column_type:
        return 7
    if "FLOAT" in column_type or "REAL" in column_type or "DOUBLE" in column_type:
        return 0.5
    return "text 'quoted' \u00e9 \U0001f600"


@pytest.mark.parametrize("table_name", TABLES)
def test_a_row_reader_gives_the_values_of_the_plain_loop(table_name: str) -> None:
    dialect = DIALECTS["sqlite"]
    table = metadata.tables[table_name]
    prepared = prepare(select(table), dialect)
    types = [str(table.c[name].type.compile(dialect)).upper() for name in prepared.columns]
    whole = tuple(_stored_text(kind) for kind in types)
    empty = tuple(None for _ in types)
    mixed = tuple(value if i % 2 else None for i, value in enumerate(whole))
    for raw in (whole, empty, mixed):
        assert prepared.row(raw) == _plain_row(prepared.columns, prepared.results, raw)


def test_a_row_reader_calls_a_processor_only_on_a_value() -> None:
    seen: list[Any] = []

    def process(value: Any) -> Any:
        seen.append(value)
        return f"<{value}>"

    read = row_reader(("id", "it's", "n"), (None, process, process))
    assert read(("k", "v", None)) == {"id": "k", "it's": "<v>", "n": None}
    assert seen == ["v"]


def _row_for(entity: type[Entity]) -> dict[str, Any]:
    """A whole row of `entity`: every field, enums as their stored text, JSON containers
    nested (to tell a copy from the same object), anything else a marker."""
    enums = dict(_enum_fields(entity))
    json_fields = set(_json_fields(entity))
    row: dict[str, Any] = {}
    for name in entity.model_fields:
        if name in enums:
            row[name] = next(iter(enums[name])).value
        elif name in json_fields:
            row[name] = {"nested": [1, {"deep": "x"}]}
        else:
            row[name] = f"{name} value"
    return row


def _general(entity: type[Entity], row: dict[str, Any]) -> Entity:
    # A row that is not the caller's to give away takes the general path.
    return entity.from_row(dict(row), owned=False)


@pytest.mark.parametrize("table_name", ENTITY_TABLES)
def test_an_entity_built_from_a_whole_row_is_the_one_the_general_path_builds(
    table_name: str,
) -> None:
    entity = ENTITIES[table_name]
    row = _row_for(entity)
    build, whole = entity.whole_row_builder()
    assert whole == len(row)
    fast, general = build(copy.deepcopy(row)), _general(entity, row)
    assert type(fast) is entity
    assert fast.__dict__ == general.__dict__
    assert list(fast.__dict__) == list(general.__dict__)  # the same order, the row's
    for name, value in fast.__dict__.items():
        assert type(value) is type(general.__dict__[name]), name
    assert fast._stored == general._stored == row
    assert fast.model_fields_set == general.model_fields_set
    assert fast.is_checked() and general.is_checked()
    assert fast.changed_columns() == {}
    assert entity.from_row(copy.deepcopy(row), owned=True).__dict__ == fast.__dict__


@pytest.mark.parametrize("table_name", [n for n in ENTITY_TABLES if _json_fields(ENTITIES[n])])
def test_a_json_value_of_an_entity_is_its_own_copy(table_name: str) -> None:
    entity = ENTITIES[table_name]
    build, _ = entity.whole_row_builder()
    row = _row_for(entity)
    built = build(row)
    for name in _json_fields(entity):
        held = built.__dict__[name]
        assert held == row[name] and held is not row[name]
        held["nested"].append(2)  # changed in place: a change to write
        assert name in built.changed_columns()


def test_enum_text_becomes_members_and_unknown_text_is_refused_on_both_paths() -> None:
    build, _ = Task.whole_row_builder()
    row = _row_for(Task)
    row["status"] = "in_progress"
    task = build(dict(row))
    assert task.status is TaskStatus.IN_PROGRESS and isinstance(task.status, StrEnum)
    row["status"] = "no such status"
    with pytest.raises(ValueError, match="no such status"):
        build(dict(row))
    with pytest.raises(ValueError, match="no such status"):
        _general(Task, row)


def test_a_term_declared_once_is_normalised_once_and_an_equal_one_as_ever() -> None:
    declared = normalised(Task, Eq("status", TaskStatus.PENDING), Eq("order_index", 1))
    assert declared[0] == Eq("status", "pending") and type(declared[0].value) is str
    for term in declared:
        assert query_term(Task, term) is term
    # An equal term made elsewhere is no declared one, and is checked as any term is:
    # True equals 1 (and hashes alike), yet no integer field takes it.
    assert Eq("order_index", True) == declared[1]
    with pytest.raises(InvalidValue):
        query_term(Task, Eq("order_index", True))
    with pytest.raises(InvalidValue):
        normalised(Task, In("status", frozenset({"done"})))
    assert query_term(Project, Eq("name", "  spaced  ")) == Eq("name", "spaced")


def test_ids_are_nanoids_from_the_whole_alphabet() -> None:
    ids = [new_id() for _ in range(4000)]
    assert len(set(ids)) == len(ids)
    assert all(len(key) == ID_LENGTH and re.fullmatch(r"[A-Za-z0-9_-]+", key) for key in ids)
    used = set("".join(ids))
    assert len(used) == 64  # 84,000 draws from 64 characters miss none


def test_clearing_a_clear_field_leaves_the_entity_as_it_was() -> None:
    project = Project(name="p")
    assert project.archived_at is None
    project.archived_at = None
    assert project.is_checked() and "archived_at" in project.model_fields_set
    project.archived_at = datetime(2026, 1, 1, tzinfo=UTC)
    project.archived_at = None
    assert project.archived_at is None
