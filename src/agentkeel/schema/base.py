"""How tables are made from entities: the one place that turns field rules into columns.

A table is declared once, as `entity_table(Entity, name, *relations)`. Columns, their types,
lengths, nullability and enum CHECK constraints come from the entity's fields; the relation
helpers add foreign keys (with their ON DELETE), uniques, indexes and exclusive flags.
The SQL adapter, the in-memory fakes and Alembic all read the resulting `metadata`.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Dialect,
    Double,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
)
from sqlalchemy.types import DateTime, TypeDecorator, TypeEngine

from agentkeel.domain.entity import Entity, enum_values
from agentkeel.domain.fields import FloatRule, IdRule, IntRule, JsonRule, TextRule, UtcRule
from agentkeel.domain.ids import ID_MAX_LENGTH

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)
# table name -> the entity it stores
ENTITIES: dict[str, type[Entity]] = {}


def label_of(table: Table) -> str:
    """The entity's name for a table, as errors use it: `template_placeholders` ->
    `template_placeholder` (a table that stores no entity goes by its own name)."""
    entity = ENTITIES.get(table.name)
    return table.name if entity is None else entity.label()


# Text longer than this is stored as TEXT rather than VARCHAR(n); the domain enforces the limit.
VARCHAR_LIMIT = 4096

OnDelete = Literal["CASCADE", "SET NULL", "RESTRICT", "NO ACTION"]


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend; naive values are refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite has no time zones: store UTC wall time, read it back as UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Any:
        # SQLite stores the text SQLAlchemy's DATETIME writes ("2026-01-01 00:00:00.000000"):
        # isoformat writes the same in C, several times faster than its formatting.
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # SQLite hands back the stored text ("2026-01-01 00:00:00.000000"): the C parser of
        # fromisoformat reads it in a fraction of the time SQLAlchemy's regex takes, which
        # counts on listings (two timestamps a row).
        if dialect.name == "sqlite":
            return _sqlite_utc
        return super().result_processor(dialect, coltype)


def _sqlite_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    # In UTC the offset isoformat ends with is always "+00:00": cut, not `.replace`d away.
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:-6]


def _sqlite_utc(value: str | None) -> datetime | None:
    # Parsing the offset is several times cheaper than `.replace(tzinfo=UTC)` after it.
    return None if value is None else datetime.fromisoformat(value + "+00:00")


# What one index entry may hold, in bytes: PostgreSQL refuses B-tree entries over 2,704 bytes
# (a third of a page), headers included. Every index is checked against it when its table is
# declared, from the most each column can hold, so a text column too long to index fails at
# import instead of at the first long value.
INDEX_ENTRY_LIMIT = 2600
# The most bytes a non-text column takes in an index entry.
FIXED_SIZE = 16


class ExactJson(TypeDecorator[Any]):
    """JSON that reads back exactly as written: PostgreSQL's `json` keeps the text it is
    given; on SQLite the text goes in a TEXT column, since a column typed JSON has numeric
    affinity there and turns a bare `1.0` into `1`, `2**63` into a float, `1e400` into
    infinity. Python None is SQL NULL."""

    impl = JSON(none_as_null=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return self.impl_instance

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name != "sqlite" or value is None:
            return value
        # Compact, as json_problem measures a payload's length.
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name != "sqlite" or value is None:
            return value
        return json.loads(value)


@dataclass(frozen=True)
class FieldSpec:
    """What an entity field says about its column."""

    type: TypeEngine[Any]
    nullable: bool
    max_length: int | None = None
    allowed: tuple[str, ...] | None = None
    max_bytes: int = FIXED_SIZE


def field_spec(annotation: Any) -> FieldSpec:
    """Read a field's annotation: `Name | None` -> VARCHAR(200) NULL, and so on."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        nullable = len(members) < len(typing.get_args(annotation))
        if len(members) != 1:
            raise TypeError(f"cannot map a union of {members} to a column")
        annotation = members[0]
    rules: tuple[Any, ...] = ()
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *extras = typing.get_args(annotation)
        rules = tuple(extras)
    for rule in rules:
        if isinstance(rule, IdRule):
            return FieldSpec(String(ID_MAX_LENGTH), nullable, ID_MAX_LENGTH, None, ID_MAX_LENGTH)
        if isinstance(rule, TextRule):
            length = rule.max_length
            sql_type = String(length) if length <= VARCHAR_LIMIT else Text()
            # A character takes up to 4 bytes of UTF-8.
            return FieldSpec(sql_type, nullable, length, None, rule.max_bytes or 4 * length)
        if isinstance(rule, IntRule):
            return FieldSpec(BigInteger(), nullable)
        if isinstance(rule, FloatRule):
            return FieldSpec(Double(), nullable)
        if isinstance(rule, UtcRule):
            return FieldSpec(UtcDateTime(), nullable)
        if isinstance(rule, JsonRule):
            return FieldSpec(ExactJson(), True)
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        allowed = enum_values(annotation)
        # Room to add values later without widening the column.
        width = max(32, *map(len, allowed))
        return FieldSpec(String(width), nullable, allowed=allowed, max_bytes=width)
    if annotation is bool:
        raise TypeError("flags are nullable <word>_at timestamps, never booleans")
    raise TypeError(f"no column type for {annotation!r}: give the field a rule from domain.fields")


# -- relations: what a table adds to its entity's columns ------------------------------------

Relation = Callable[[str, dict[str, Column[Any]]], list[Any]]


def references(
    field: str, target: str, *, on_delete: OnDelete, index: bool = True, cycle: bool = False
) -> Relation:
    """`field` is a foreign key to `target.id`, with the given ON DELETE.

    `cycle` marks the one key of a cycle of tables (agents.task_id -> tasks,
    tasks.assigned_agent_id -> agents) that is added after both tables exist."""

    def apply(table_name: str, columns: dict[str, Column[Any]]) -> list[Any]:
        key = ForeignKey(f"{target}.id", ondelete=on_delete, use_alter=cycle)
        columns[field].append_foreign_key(key)
        return [Index(f"ix_{table_name}_{field}", field)] if index else []

    return apply


def unique(*fields: str) -> Relation:
    """No two rows share these values (rows with a NULL among them never clash, as in SQL)."""

    def apply(table_name: str, columns: dict[str, Column[Any]]) -> list[Any]:
        return [UniqueConstraint(*fields, name=f"uq_{table_name}_{'_'.join(fields)}")]

    return apply


def index(*fields: str) -> Relation:
    def apply(table_name: str, columns: dict[str, Column[Any]]) -> list[Any]:
        return [Index(f"ix_{table_name}_{'_'.join(fields)}", *fields)]

    return apply


@dataclass(frozen=True)
class Only:
    """The rows a partial unique index covers: those whose `column` is set (not null),
    unset (null), or equal to `value`. The database reads it as the index's WHERE; the
    fakes and the error translation read it from the index's `info`."""

    column: str
    state: Literal["set", "unset", "equal"]
    value: str | None = None

    def holds(self, row: typing.Mapping[str, Any]) -> bool:
        value = row.get(self.column)
        match self.state:
            case "set":
                return value is not None
            case "unset":
                return value is None
            case "equal":
                return bool(value == self.value)
            case _:
                typing.assert_never(self.state)

    def clause(self) -> Any:
        match self.state:
            case "set":
                return column(self.column).is_not(None)
            case "unset":
                return column(self.column).is_(None)
            case "equal":
                return column(self.column) == self.value
            case _:
                typing.assert_never(self.state)

    def describe(self) -> str:
        match self.state:
            case "set":
                return f"`{self.column}` is set"
            case "unset":
                return f"`{self.column}` is null"
            case "equal":
                return f"`{self.column}` = '{self.value}'"
            case _:
                typing.assert_never(self.state)


def unique_where(*fields: str, only: Only, name: str) -> Relation:
    """No two rows covered by `only` share these values: a partial unique index (one root
    page per initiative, one active chat session per target), refused by the database even
    under concurrent writers, and alike by the fakes."""

    def apply(table_name: str, columns: dict[str, Column[Any]]) -> list[Any]:
        return [_partial_unique(f"uq_{table_name}_{'_'.join(fields)}_{name}", fields, only)]

    return apply


def exclusive_flag(flag: str, *, per: str) -> Relation:
    """At most one row per `per` value has `flag` set: a partial unique index. The
    repositories clear the flag on the group's other rows when a write sets it.

    The database refuses a second flagged row even under concurrent writers; the fakes read
    the same rule from the index's `info`.
    """

    def apply(table_name: str, columns: dict[str, Column[Any]]) -> list[Any]:
        index = _partial_unique(f"uq_{table_name}_{per}_{flag}", (per,), Only(flag, "set"))
        index.info["exclusive_flag"] = flag
        return [index]

    return apply


def _partial_unique(name: str, fields: tuple[str, ...], only: Only) -> Index:
    where = only.clause()
    return Index(
        name,
        *fields,
        unique=True,
        sqlite_where=where,
        postgresql_where=where,
        info={"only": only},
    )


def entity_table(entity: type[Entity], name: str, *relations: Relation) -> Table:
    """The table of `entity`: one column per field, `id` the primary key."""
    columns: dict[str, Column[Any]] = {}
    extras: list[Any] = []
    hints = typing.get_type_hints(entity, include_extras=True)
    for field_name in entity.model_fields:
        spec = field_spec(hints[field_name])
        col: Column[Any] = Column(
            field_name,
            spec.type,
            primary_key=field_name == "id",
            nullable=spec.nullable and field_name != "id",
            info={
                "max_length": spec.max_length,
                "allowed": spec.allowed,
                "max_bytes": spec.max_bytes,
            },
        )
        if spec.allowed is not None:
            extras.append(
                CheckConstraint(
                    column(field_name).in_(spec.allowed),
                    name=field_name,
                    info={"column": field_name},
                )
            )
        columns[field_name] = col
    for relation in relations:
        extras.extend(relation(name, columns))
    ENTITIES[name] = entity
    table = Table(
        name, metadata, *columns.values(), *extras, info={"append_only": entity.append_only}
    )
    _check_indexable(table)
    return table


def _check_indexable(table: Table) -> None:
    uniques = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    keyed: list[Index | UniqueConstraint] = [*table.indexes, *uniques]
    for index in keyed:
        size = sum(column.info["max_bytes"] for column in index.columns)
        if size > INDEX_ENTRY_LIMIT:
            raise TypeError(
                f"{table.name}: an entry of {index.name} can take {size} bytes, more than "
                f"{INDEX_ENTRY_LIMIT}: give its text columns a lower max_length or max_bytes"
            )
