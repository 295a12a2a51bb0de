"""The schema reference (docs/schema.md), generated from `metadata` so it cannot drift."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, Table, UniqueConstraint, create_engine

from agentkeel.domain.fields import JSON_MAX_DEPTH, JSON_MAX_LENGTH
from agentkeel.schema import metadata
from agentkeel.schema.base import ENTITIES, ExactJson

HEADER = """# Schema reference

Generated from the metadata in `src/agentkeel/schema/` by `make docs`
(`agentkeel schema-doc > docs/schema.md`); a test fails when this file is stale.
Lengths are in characters and are enforced identically by every adapter (the domain checks
them before anything is written). Enum columns also carry a CHECK constraint. A table whose
rows can change has a `row_version` (an update from a stale read is a `Conflict`); the
others are append-only.
"""


# Dialects only, for compiling type names; nothing connects.
_POSTGRES = create_engine("postgresql+psycopg://").dialect
_SQLITE = create_engine("sqlite://").dialect


def _type(column: Column[object]) -> str:
    pg = column.type.compile(dialect=_POSTGRES)
    lite = column.type.compile(dialect=_SQLITE)
    return pg if pg == lite else f"{pg} / {lite}"


def _rules(column: Column[object]) -> str:
    notes = []
    if column.primary_key:
        notes.append("primary key")
    for fk in column.foreign_keys:
        notes.append(f"→ `{fk.column.table.name}.id` ON DELETE {fk.ondelete or 'NO ACTION'}")
    if column.info.get("allowed"):
        notes.append("one of " + ", ".join(f"`{v}`" for v in column.info["allowed"]))
    elif column.info.get("max_length"):
        notes.append(f"≤ {column.info['max_length']:,} chars")
    elif isinstance(column.type, ExactJson):
        notes.append(
            f"JSON payload: ≤ {JSON_MAX_DEPTH} levels deep, ≤ {JSON_MAX_LENGTH:,} chars as "
            "compact JSON, string keys, 64-bit integers, no NUL, NaN or infinity"
        )
    if column.name.endswith("_at") and column.nullable:
        notes.append("flag: null = false")
    return "; ".join(notes)


def _table(table: Table) -> list[str]:
    entity = ENTITIES.get(table.name)
    if entity is None:  # a table of agentkeel's own, storing no entity (the event log)
        lines = [f"## `{table.name}`", "", f"No entity: {table.info['doc']}", ""]
    else:
        paragraph = (entity.__doc__ or "").strip().split("\n\n")[0]
        doc = " ".join(line.strip() for line in paragraph.splitlines())
        lines = [f"## `{table.name}`", "", f"Entity `{entity.__name__}`: {doc}", ""]
    lines += ["| column | type | null | rules |", "| --- | --- | --- | --- |"]
    for column in table.columns:
        null = "yes" if column.nullable else "no"
        lines.append(f"| `{column.name}` | {_type(column)} | {null} | {_rules(column)} |")
    extras = []
    if table.info.get("append_only"):
        extras.append("- append-only: a row never changes once stored (no row version)")
    for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
        if isinstance(constraint, UniqueConstraint):
            columns = ", ".join(c.name for c in constraint.columns)
            extras.append(f"- unique `{constraint.name}` ({columns})")
        elif isinstance(constraint, CheckConstraint):
            extras.append(f"- check `{constraint.name}`")
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        assert isinstance(index, Index)
        columns = ", ".join(c.name for c in index.columns)
        kind = "unique index" if index.unique else "index"
        only = index.info.get("only")
        suffix = f" where {only.describe()}" if only is not None else ""
        if index.info.get("exclusive_flag"):
            suffix += f" (one per {columns})"
        extras.append(f"- {kind} `{index.name}` ({columns}){suffix}")
    return [*lines, "", *extras, ""]


def render_markdown() -> str:
    lines = [HEADER]
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        lines += _table(table)
    return "\n".join(lines).rstrip() + "\n"
