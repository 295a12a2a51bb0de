"""The model (docs/model.md), generated from the schema and the entities so it cannot drift.

The tables are grouped by the context whose `agentkeel.schema` module declares them; the
entity-relationship diagrams (Mermaid `erDiagram`), the cascades, the archivable tables, the
timestamp flags and the versioned and append-only tables are all read from `metadata` and
the entity classes. Only the prose that explains the decisions is written by hand, here.
`describe_field` (one field of an entity: its type, default, limits and who sets it) is
shared with the API reference.

Run `python -m agentkeel.model_reference > docs/model.md` to write it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import ModuleType
from typing import Any

from pydantic.fields import FieldInfo
from sqlalchemy import Column, Table

from agentkeel.domain.entity import Entity, Flag
from agentkeel.domain.fields import (
    INT64_MAX,
    INT64_MIN,
    JSON_MAX_DEPTH,
    JSON_MAX_LENGTH,
    FloatRule,
    IdRule,
    IntRule,
    JsonRule,
    TextRule,
    UtcRule,
)
from agentkeel.domain.ids import ID_MAX_LENGTH
from agentkeel.schema import agents, audit, backlog, events, planning, workflows, workspace
from agentkeel.schema.base import ENTITIES, metadata

# The six contexts, in the order a reader meets them, each with the schema modules that
# declare its tables and what it is about. The event log's tables (`schema/events.py`) are
# the audit context's.
CONTEXTS: tuple[tuple[str, tuple[ModuleType, ...], str], ...] = (
    (
        "workspace",
        (workspace,),
        "Projects and what they work on: git repositories, worktrees, settings and templates.",
    ),
    (
        "agents",
        (agents,),
        "Agent profiles, the agents that run, the provider accounts they use, their logs, "
        "conversations, messages, interaction sessions and metrics.",
    ),
    (
        "planning",
        (planning,),
        "Initiatives, their phases and tasks with the dependencies between them, pages, "
        "proposals and their reviews, chat sessions, change sets and errands.",
    ),
    (
        "workflows",
        (workflows,),
        "Workflows and their steps, the files a step discovers, and implementation plans "
        "with their steps and files.",
    ),
    (
        "backlog",
        (backlog,),
        "Features, sub-features and requirements of a project, and checkpoints (snapshots "
        "of a project's plan that can be restored).",
    ),
    (
        "audit",
        (audit, events),
        "The audit trail, idempotency keys, and the event log with its consumers.",
    ),
)


def tables_of(modules: tuple[ModuleType, ...]) -> list[Table]:
    """The tables the modules declare, by name."""
    found = {
        value.name: value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, Table)
    }
    return [found[name] for name in sorted(found)]


def context_of(table: Table) -> str:
    """The name of the context that declares `table`."""
    for name, modules, _ in CONTEXTS:
        if table in tables_of(modules):
            return name
    raise KeyError(table.name)


# -- one field of an entity ------------------------------------------------------------------


@dataclass(frozen=True)
class FieldFacts:
    """What a reader needs to know of one entity field, as text."""

    name: str
    type: str
    required: bool  # must be given to the constructor
    nullable: bool
    default: str  # "" when required
    limits: str
    set_by: str


def _rules(annotation: Any) -> tuple[Any, list[Any], bool]:
    """(the base type, the field rules, nullable) of a field's annotation."""
    nullable = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        nullable = len(members) < len(typing.get_args(annotation))
        annotation = members[0]
    rules: list[Any] = []
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *rules = typing.get_args(annotation)
    return annotation, rules, nullable


def _type_and_limits(base: Any, rules: list[Any]) -> tuple[str, list[str]]:
    for rule in rules:
        if isinstance(rule, IdRule):
            return "id", [f"1 to {ID_MAX_LENGTH} URL-safe characters"]
        if isinstance(rule, TextRule):
            limits = [f"≤ {rule.max_length:,} chars"]
            if rule.max_bytes is not None:
                limits.append(f"≤ {rule.max_bytes:,} bytes of UTF-8")
            if not rule.blank:
                limits.append("not blank")
            if rule.pattern is not None:
                limits.append(f"matches `{rule.pattern}`")
            if rule.name:
                limits.append("a name: trimmed, spaces collapsed, Unicode NFC")
            return "text", limits
        if isinstance(rule, IntRule):
            if (rule.minimum, rule.maximum) == (INT64_MIN, INT64_MAX):
                return "int", ["64-bit"]
            if rule.maximum == INT64_MAX:
                return "int", [f"≥ {rule.minimum:,}"]
            return "int", [f"{rule.minimum:,} to {rule.maximum:,}"]
        if isinstance(rule, FloatRule):
            return "float", ["finite"]
        if isinstance(rule, UtcRule):
            return "datetime", ["timezone-aware (stored in UTC)"]
        if isinstance(rule, JsonRule):
            return "JSON", [
                f"≤ {JSON_MAX_DEPTH} levels deep, ≤ {JSON_MAX_LENGTH:,} chars as compact JSON"
            ]
    if isinstance(base, type) and issubclass(base, StrEnum):
        return f"`{base.__name__}`", ["one of " + ", ".join(f"`{m.value}`" for m in base)]
    raise TypeError(f"no description for the field type {base!r}")


def _default(info: FieldInfo) -> str:
    factory = info.default_factory
    if factory is not None:
        name = getattr(factory, "__name__", "")
        return {"new_id": "a new id", "utc_now": "now"}.get(name, f"`{name}()`")
    if info.is_required():
        return ""
    value = info.default
    return f"`{value.value}`" if isinstance(value, StrEnum) else f"`{value!r}`"


def flags_of(entity: type[Entity]) -> dict[str, str]:
    """The entity's timestamp flags: field -> the name of its boolean view."""
    return {
        value.field: name
        for klass in reversed(entity.__mro__)
        for name, value in vars(klass).items()
        if isinstance(value, Flag)
    }


def _set_by(entity: type[Entity], name: str) -> str:
    notes = []
    if name == "id":
        notes.append("generated when not given; never changes once stored")
    if name in entity.stamped_on_insert:
        notes.append("stamped on add")
    if name in entity.stamped_on_update:
        notes.append("stamped on every update")
    if name == entity.version_field:
        notes.append("1 on add, one more on every update (a stale update is `Conflict`)")
    if name in flags_of(entity):
        notes.append(f"a flag: `{flags_of(entity)[name]}` is true while it is set")
    if name in entity.secret_fields:
        notes.append("secret: never shown in repr, audit states or errors")
    return "; ".join(notes)


def describe_field(entity: type[Entity], name: str) -> FieldFacts:
    """The facts of `entity.name`, read from its annotation, default and class variables."""
    info = entity.model_fields[name]
    hints = typing.get_type_hints(entity, include_extras=True)
    base, rules, nullable = _rules(hints[name])
    kind, limits = _type_and_limits(base, [*rules, *info.metadata])
    return FieldFacts(
        name=name,
        type=kind,
        required=info.is_required(),
        nullable=nullable,
        default=_default(info),
        limits="; ".join(limits),
        set_by=_set_by(entity, name),
    )


# -- diagrams ----------------------------------------------------------------------------------

_MERMAID_TYPES: dict[str, str] = {
    "BigInteger": "bigint",
    "Double": "double",
    "ExactJson": "json",
    "Integer": "int",
    "String": "string",
    "Text": "text",
    "UtcDateTime": "datetime",
}


def _column_type(table: Table, column: Column[Any]) -> str:
    """The column's type as a diagram shows it: its enum's name, else a SQL type's."""
    entity = ENTITIES.get(table.name)
    if column.info.get("allowed") and entity is not None:
        return describe_field(entity, column.name).type.strip("`")
    return _MERMAID_TYPES[type(column.type).__name__]


def _column_line(table: Table, column: Column[Any]) -> str:
    marks = []
    if column.primary_key:
        marks.append("PK")
    if column.foreign_keys:
        marks.append("FK")
    keys = f" {', '.join(marks)}" if marks else ""
    return f"        {_column_type(table, column)} {column.name}{keys}"


@dataclass(frozen=True)
class Reference:
    """`child.column` refers to `parent.id`, with this ON DELETE."""

    child: Table
    column: Column[Any]
    parent: Table
    on_delete: str


def references() -> list[Reference]:
    """Every foreign key of the schema, by child table and column."""
    found = [
        Reference(table, fk.parent, fk.column.table, (fk.ondelete or "NO ACTION").upper())
        for table in metadata.tables.values()
        for fk in table.foreign_keys
    ]
    return sorted(found, key=lambda r: (r.child.name, r.column.name))


def _relation_line(ref: Reference) -> str:
    # Mermaid's crow's feet: the parent side is "exactly one" for a required key, "zero or
    # one" for a nullable one; a parent has any number of children.
    parent_side = "|o" if ref.column.nullable else "||"
    label = f"{ref.column.name}, {ref.on_delete.lower()}"
    return f'    {ref.parent.name} {parent_side}--o{{ {ref.child.name} : "{label}"'


def er_diagram(tables: list[Table], *, columns: bool) -> list[str]:
    """A Mermaid erDiagram of `tables` and the references among them and to their parents
    (a parent of another context is drawn without its columns)."""
    names = {table.name for table in tables}
    lines = ["```mermaid", "erDiagram"]
    refs = [r for r in references() if r.child.name in names]
    if columns:
        for table in tables:
            lines.append(f"    {table.name} {{")
            lines += [_column_line(table, column) for column in table.columns]
            lines.append("    }")
    else:
        lines += [f"    {table.name}" for table in tables]
    lines += [_relation_line(ref) for ref in refs]
    return [*lines, "```"]


# -- the document ------------------------------------------------------------------------------

HEADER = """# The model

Generated from the schema (`src/agentkeel/schema/`) and the entities
(`src/agentkeel/domain/`) by `make docs` (`python -m agentkeel.model_reference >
docs/model.md`); a test fails when this file is stale. Every column of every table, with its
type and rules, is in the [schema reference](schema.md); every entity's fields, with their
defaults and limits, in the [API reference](api.md#entities). This page is the map: six
contexts, how their tables relate, and the decisions a user of the library must know.

In the diagrams an edge reads *parent has many children*; its label is the child's column and
what a delete of the parent does to the child (`cascade`: removed with it; `set null`: the
reference is cleared; `restrict` or `no action`: the delete is refused, `StillReferenced`,
while a child points at it). A parent drawn with a plain edge (`||`) is required, one with
`|o` optional (the column may be null). A context's diagram shows its own tables with their
columns (an enum column by its enum's name), and the tables of other contexts they refer to
by name only.
"""


def _section(title: str, *paragraphs: str) -> list[str]:
    return [f"## {title}", "", *(line for p in paragraphs for line in (p, ""))]


def _listing(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def _contexts() -> list[str]:
    lines = _section(
        "Contexts",
        "The tables fall in six contexts, each a package of `agentkeel.domain` (its "
        "entities, enums and rules) and a module of `agentkeel.schema` (its tables). A "
        "project is the root of most of them: deleting one removes, through its cascades, "
        "the rows of " + ", ".join(f"`{name}`" for name in cascade_from("projects")) + " "
        "that belong to it. The others live on their own: "
        + ", ".join(
            f"`{name}`"
            for name in sorted(metadata.tables)
            if name != "projects" and name not in cascade_from("projects")
        )
        + ".",
    )
    for name, modules, about in CONTEXTS:
        tables = tables_of(modules)
        listed = ", ".join(f"`{t.name}`" for t in tables)
        lines += [f"- **{name}**: {about} Tables: {listed}."]
    crossing = [
        f"`{ref.child.name}.{ref.column.name}` ({context_of(ref.child)}) → "
        f"`{ref.parent.name}` ({context_of(ref.parent)}), {ref.on_delete}"
        for ref in references()
        if context_of(ref.child) != context_of(ref.parent)
    ]
    lines += ["", "The references from one context to another:", "", _listing(crossing), ""]
    lines += ["### All contexts", "", "Tables and references, without their columns.", ""]
    lines += er_diagram(sorted(metadata.tables.values(), key=lambda t: t.name), columns=False)
    lines.append("")
    for name, modules, about in CONTEXTS:
        lines += [f"### The {name} context", "", about, ""]
        lines += er_diagram(tables_of(modules), columns=True)
        lines.append("")
    return lines


def _entity_tables(wanted: Callable[[type[Entity]], bool]) -> list[str]:
    return sorted(name for name, entity in ENTITIES.items() if wanted(entity))


def cascade_from(name: str) -> list[str]:
    """The tables a delete of a row of `name` may remove rows of, through CASCADE keys."""
    reached: set[str] = set()
    todo = [name]
    while todo:
        parent = todo.pop()
        for ref in references():
            cascades = ref.parent.name == parent and ref.on_delete == "CASCADE"
            if cascades and ref.child.name not in reached:
                reached.add(ref.child.name)
                todo.append(ref.child.name)
    return sorted(reached - {name})


def _exclusive_flags() -> list[str]:
    return sorted(
        f"`{table.name}.{index.info['exclusive_flag']}` (one per "
        + ", ".join(f"`{column.name}`" for column in index.columns)
        + ")"
        for table in metadata.tables.values()
        for index in table.indexes
        if index.info.get("exclusive_flag")
    )


def _decisions() -> list[str]:
    archivable = [
        f"`{name}` (`{ENTITIES[name].__name__}`)"
        for name in _entity_tables(lambda e: "archived_at" in e.model_fields)
    ]
    flags = [
        f"`{name}`: " + ", ".join(f"`{f}` (`{v}`)" for f, v in sorted(flags_of(e).items()))
        for name, e in sorted(ENTITIES.items())
        if flags_of(e)
    ]
    by_rule: dict[str, list[str]] = {}
    for ref in references():
        by_rule.setdefault(ref.on_delete, []).append(
            f"`{ref.child.name}.{ref.column.name}` → `{ref.parent.name}`"
        )
    cascades = [f"**{rule}**: " + ", ".join(refs) for rule, refs in sorted(by_rule.items())]
    no_keys = [
        f"`{table.name}`"
        for table in sorted(metadata.tables.values(), key=lambda t: t.name)
        if not table.foreign_keys
        and not any(ref.parent is table for ref in references())
        and context_of(table) == "audit"
    ]
    versioned = _entity_tables(lambda e: e.version_field is not None)
    append_only = _entity_tables(lambda e: e.append_only)
    return [
        *_section(
            "Archiving is a flag, not a delete",
            "Archiving removes nothing: the archived row is hidden from its own listings "
            "(`list(...)` takes `include_archived=True` to show it) and stays readable by "
            "id. `archive(key)` sets `archived_at` (kept if already set), `unarchive(key)` "
            "clears it. It does not reach down: the initiatives, tasks and workflows of an "
            "archived project are listed, ready and claimable as before, so stop or archive "
            "the work itself when a project is shelved. To remove rows, delete them (below). "
            "The archivable tables (those whose entity has an `archived_at` field):",
            _listing(archivable),
        ),
        *_section(
            "Flags are timestamps",
            "No column is a boolean. A yes/no fact is a nullable timestamp named `<word>_at`: "
            "null means false, a time means *true since then* (the schema refuses a boolean "
            "field). The entity reads it as a boolean through a property; a method or "
            "repository call raises or lowers it, and raising a flag already raised keeps "
            "the first time. The flags, per table:",
            _listing(flags),
            "Some flags are exclusive: at most one row of a group has it set, which a partial "
            "unique index enforces even under concurrent writers, and a write that sets it "
            "on one row clears it on the group's others in the same write. The exclusive "
            "flags: " + ", ".join(_exclusive_flags()) + ".",
        ),
        *_section(
            "Hard deletes cascade; the audit trail survives",
            "`delete(key)` removes the row and, following the foreign keys exactly as the "
            "database applies them, everything that cascades from it; it clears the "
            "references declared `SET NULL`, and is refused with `StillReferenced` while a "
            "row of a `RESTRICT` or `NO ACTION` reference points at it (delete or move that "
            "row first). It returns the rows removed per table and writes one audit entry "
            "with those counts and the row's state before the delete. The audit trail, the "
            "idempotency keys and the event log have no foreign key to what they record, so "
            "they survive any delete (until the retention purge removes them by age); an "
            "audit entry's workflow references are cleared, never cascaded. Every reference, "
            "by what a delete of its parent does:",
            _listing(cascades),
            "Tables with no foreign key in or out, which no delete reaches: "
            + ", ".join(no_keys)
            + ".",
        ),
        *_section(
            "Row versions: a stale write is a `Conflict`",
            "Every table whose rows change has a `row_version`: 1 when the row is added, one "
            "more on every update. An entity remembers the version it was read at, and "
            "`update` writes only if the row still has it; otherwise another unit of work "
            "wrote the row since, and the update raises `Conflict`. Read again, decide "
            "again, and retry the unit of work (`Busy`, a lock held past the wait limit, is "
            "a `Conflict` too). The versioned tables: "
            + ", ".join(f"`{name}`" for name in versioned)
            + ". The append-only tables (`update` raises `Protected`): "
            + ", ".join(f"`{name}`" for name in append_only)
            + "; the event log is append-only too.",
        ),
        *_section(
            "Events: after a commit, in process and in the event log",
            "Repositories record domain events as they write (`TaskCompleted`, "
            "`ProjectArchived`, `RecordDeleted`, ...). On `commit()` they reach the handlers "
            "subscribed in this process (`db.subscribe(TaskCompleted, handler)`); a handler "
            "that fails is logged and returned by `commit()`, never raised. The same events "
            "are appended to the event log (`event_log`, an outbox written in the "
            "committing transaction), numbered in commit order, for other processes: "
            "`services.events.EventLogReader(db, consumer=name)` reads them in order and "
            "saves its position as a named consumer (`event_consumers`). The retention "
            "purge removes old events, never one a registered consumer has not "
            "acknowledged; an anonymous reader that falls behind the purge gets "
            "`EventsPurged`. A rolled-back unit of work records nothing.",
        ),
    ]


def render_markdown() -> str:
    """docs/model.md."""
    lines = [HEADER, *_contexts(), *_decisions()]
    return "\n".join(lines).rstrip() + "\n"


def model_doc() -> str:
    """The model document (docs/model.md), for the `agentkeel model-doc` command."""
    return render_markdown()


if __name__ == "__main__":
    print(render_markdown(), end="")
