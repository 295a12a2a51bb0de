"""A project as one JSON document: `export_project` writes it, `import_project` reads it into
another database (or the same one, once the project is gone), ids kept.

What a document holds, found from the schema rather than listed by hand, so a table added
under projects is carried with no change here:

- the project's tree: the rows a hard delete of the project would remove, found by the
  same walk of the relation graph (`schema.graph.plan_delete`: every CASCADE reference,
  followed to a fixed point), checkpoints and agent profiles of the project among them;
- the audit entries about it: those whose subject (`entity_id`) is a row of the tree or
  the project itself (a deleted row's entries too), or whose workflow or step is in it.

Rows outside the tree that the tree refers to (a task's agent, a step's runner, an agent
profile shared by every project) are not carried: the project refers to them as it refers
to them in its own database, and an import refuses a document whose references find no row
in the target (import the project where those rows are, or `agentkeel copy` the database).
With `clear_missing`, such a reference is cleared instead when the schema lets it go (its
foreign key is ON DELETE SET NULL: an assigned agent, a step's runner), as deleting that
row would clear it; any other missing reference is refused all the same.

The document (`FORMAT`, version `FORMAT_VERSION`):

    {"format": "agentkeel-project", "version": 1, "schema_revision": "0014",
     "project_id": "...", "exported_at": "2026-...+00:00",
     "tables": {"projects": [{"id": ..., "name": ..., ...}], "initiatives": [...], ...}}

Tables appear in insert order, rows in primary-key order, each row with every column of
its table; timestamps are ISO 8601 text in UTC with microseconds, JSON columns their JSON
value, so a row reads back from the target exactly as it was.

An import is one transaction: any refusal (`ImportRefused`: a newer format version or
schema, a damaged or truncated document, an id that exists already in the target, a
reference to a row found nowhere, a row the target's constraints refuse) leaves the
target as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.engine import read_only_connection
from agentkeel.adapters.sql.rows import (
    Row,
    TableStep,
    from_json,
    insert_plan,
    parents_first,
    primary_key,
    rows_by_key,
    to_json,
)
from agentkeel.domain.errors import NotFound
from agentkeel.schema import metadata
from agentkeel.schema.graph import plan_delete

FORMAT = "agentkeel-project"
FORMAT_VERSION = 1
_AUDIT = "audit_logs"
_PROJECTS = "projects"


class ImportRefused(Exception):
    """An import refused, nothing written: `problem` says why. (Not a DomainError: an
    operator's refusal, which no code of the domain raises or handles.)"""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"import refused: {problem}")


@dataclass
class ProjectDocument:
    """A project's rows, by table (insert order), as JSON values."""

    project_id: str
    schema_revision: str
    exported_at: str
    tables: dict[str, list[Row]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Rows per table, for tables that have any."""
        return {name: len(rows) for name, rows in self.tables.items() if rows}

    def to_json(self) -> dict[str, Any]:
        """The document as a JSON object."""
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "schema_revision": self.schema_revision,
            "project_id": self.project_id,
            "exported_at": self.exported_at,
            "tables": self.tables,
        }


def project_tree(connection: Connection, project_id: str) -> dict[str, set[str]]:
    """The keys of every row under the project, by table: what deleting it would remove.
    Raises NotFound if there is no such project."""
    projects = metadata.tables[_PROJECTS]
    found = connection.execute(select(projects.c.id).where(projects.c.id == project_id))
    if found.first() is None:
        raise NotFound("project", project_id)

    def referrers(child: Table, column: str, keys: set[str]) -> Iterable[tuple[str, str]]:
        for row in rows_by_key(connection, child, column, keys):
            yield row[primary_key(child).name], row[column]

    plan = plan_delete(projects, [project_id], referrers)
    return {name: keys for name, keys in plan.removed.items() if keys}


def audit_entries(
    connection: Connection, project_id: str, tree: Mapping[str, set[str]]
) -> list[Row]:
    """The audit entries about the project: about the project itself or a row of its tree
    (by `entity_id`), or about one of its workflows or their steps. Oldest first."""
    audit = metadata.tables[_AUDIT]
    subjects = {project_id}.union(*tree.values())
    workflows = tree.get("workflows", set())
    steps = tree.get("workflow_steps", set())
    found: dict[str, Row] = {}
    for column, keys in (("entity_id", subjects), ("workflow_id", workflows)):
        for row in rows_by_key(connection, audit, column, keys):
            found[row["id"]] = row
    for row in rows_by_key(connection, audit, "workflow_step_id", steps):
        found[row["id"]] = row
    return sorted(found.values(), key=lambda row: (row["timestamp"], row["id"]))


def export_project(engine: Engine, project_id: str) -> ProjectDocument:
    """The project's document, read in one snapshot without waiting for writers (see
    `read_only_connection`). Raises NotFound."""
    with read_only_connection(engine) as connection, connection.begin():
        tree = project_tree(connection, project_id)
        document = ProjectDocument(
            project_id=project_id,
            schema_revision=migrate.HEAD,
            exported_at=datetime.now(UTC).isoformat(timespec="microseconds"),
        )
        for step in insert_plan():
            table = step.table
            if table.name == _AUDIT:
                rows = audit_entries(connection, project_id, tree)
            elif table.name in tree:
                key = primary_key(table).name
                rows = sorted(rows_by_key(connection, table, key, tree[table.name]), key=_key)
            else:
                continue
            encoded = [{c.name: to_json(c, row[c.name]) for c in table.columns} for row in rows]
            if encoded:
                document.tables[table.name] = encoded
    return document


def _key(row: Row) -> Any:
    return row.get("id", row.get("sequence"))


def parse_document(text: str | bytes) -> ProjectDocument:
    """Read a document, checking its shape; raises ImportRefused naming what is wrong (not
    JSON, truncated, another format, a newer version or schema, an unknown table or column,
    a value its column cannot hold)."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRefused(f"the file is not a complete JSON document (damaged?): {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportRefused(f"the file is not an agentkeel project export (format {FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ImportRefused(f"the document's format version is not a number: {version!r}")
    if version > FORMAT_VERSION:
        raise ImportRefused(
            f"the document is format version {version}, written by a newer agentkeel; this "
            f"one reads version {FORMAT_VERSION}: upgrade agentkeel"
        )
    revision = data.get("schema_revision")
    if revision not in migrate.known_revisions():
        raise ImportRefused(
            f"the document was exported at schema revision {revision!r}, which this "
            f"agentkeel does not know (its newest is {migrate.HEAD}): upgrade agentkeel"
        )
    project_id, tables = data.get("project_id"), data.get("tables")
    if not isinstance(project_id, str) or not isinstance(tables, dict):
        raise ImportRefused("the document has no project_id or no tables (damaged?)")
    document = ProjectDocument(project_id, str(revision), str(data.get("exported_at")))
    for name, rows in tables.items():
        document.tables[name] = _decode_rows(name, rows)
    projects = document.tables.get(_PROJECTS, [])
    if [row["id"] for row in projects] != [project_id]:
        raise ImportRefused(f"the document does not hold the project {project_id!r} (damaged?)")
    return document


def _decode_rows(name: str, rows: object) -> list[Row]:
    """A table's rows from the document, as Python values its columns take."""
    table = metadata.tables.get(name)
    if table is None:
        raise ImportRefused(f"the document has a table this agentkeel does not know: {name!r}")
    if not isinstance(rows, list):
        raise ImportRefused(f"the document's {name} is not a list of rows (damaged?)")
    decoded = []
    columns = {column.name for column in table.columns}
    for row in rows:
        if not isinstance(row, dict) or set(row) != columns:
            raise ImportRefused(
                f"a row of {name} does not have the table's columns (damaged?): {row!r:.200}"
            )
        try:
            decoded.append({c.name: from_json(c, row[c.name]) for c in table.columns})
        except ValueError as exc:
            raise ImportRefused(f"a row of {name} is damaged: {exc}") from exc
    return decoded


@dataclass
class ImportReport:
    """What an import wrote: rows per table, and the references it cleared (by
    `table.column`) with `clear_missing`."""

    project_id: str
    rows: dict[str, int]
    cleared: dict[str, int] = field(default_factory=dict)


def import_project(
    engine: Engine, document: ProjectDocument, *, clear_missing: bool = False
) -> ImportReport:
    """Insert the document's rows, ids kept, in one transaction. Raises ImportRefused (and
    writes nothing) if a row's id exists already in the target, if a reference finds its
    row neither in the document nor in the target, or if the target refuses a row.

    With `clear_missing`, a reference to a missing row that the schema declares ON DELETE
    SET NULL (a task's assigned agent, a step's runner) is cleared rather than refused: the
    rows are imported as they would be after deleting that row (`ImportReport.cleared`
    counts them). A missing reference of any other kind is refused all the same."""
    plan = [step for step in insert_plan() if step.table.name in document.tables]
    with engine.begin() as connection:
        _refuse_clashes(connection, document)
        cleared = _settle_references(connection, document, clear_missing)
        deferred: list[tuple[TableStep, Row]] = []
        try:
            for step in plan:
                rows = parents_first(step.table, document.tables[step.table.name])
                if step.deferred:
                    deferred.extend((step, row) for row in rows)
                    rows = [{**row, **dict.fromkeys(step.deferred)} for row in rows]
                connection.execute(insert(step.table), rows)
            for step, row in deferred:
                _write_deferred(connection, step, row)
        except IntegrityError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise ImportRefused(f"the target database refuses a row: {reason}") from exc
    return ImportReport(document.project_id, document.counts(), cleared)


def _write_deferred(connection: Connection, step: TableStep, row: Row) -> None:
    """Set the references of `row` that its first insert left empty (see `insert_plan`)."""
    values = {name: row[name] for name in step.deferred if row[name] is not None}
    if values:
        key = primary_key(step.table)
        connection.execute(update(step.table).where(key == row[key.name]).values(values))


def _refuse_clashes(connection: Connection, document: ProjectDocument) -> None:
    """ImportRefused naming the first rows of the document whose ids the target has."""
    for name, rows in document.tables.items():
        table = metadata.tables[name]
        key = primary_key(table).name
        clash = sorted(row[key] for row in rows_by_key(connection, table, key, _ids(rows, key)))
        if clash:
            shown = ", ".join(map(str, clash[:3])) + (" ..." if len(clash) > 3 else "")
            raise ImportRefused(
                f"{len(clash)} row(s) of {name} exist already in the target with the same "
                f"id ({shown}): the project is there already, or ids clash"
            )


def _ids(rows: Iterable[Row], key: str) -> list[Any]:
    return [row[key] for row in rows]


def _missing_references(
    connection: Connection, document: ProjectDocument
) -> dict[tuple[str, str], set[Any]]:
    """The references that find their row neither in the document nor in the target (a row
    outside the project: an agent, an account, a shared profile), by (table, column)."""
    held = {
        name: {row[primary_key(metadata.tables[name]).name] for row in rows}
        for name, rows in document.tables.items()
    }
    wanted: dict[tuple[str, str], set[Any]] = {}
    for name, rows in document.tables.items():
        for key in metadata.tables[name].foreign_keys:
            target = key.column.table.name
            values = {row[key.parent.name] for row in rows} - {None} - held.get(target, set())
            if values:
                wanted[(name, key.parent.name)] = values
    missing: dict[tuple[str, str], set[Any]] = {}
    for (name, column), values in sorted(wanted.items()):
        [key] = [k for k in metadata.tables[name].foreign_keys if k.parent.name == column]
        table = key.column.table
        ident = primary_key(table).name
        present = {row[ident] for row in rows_by_key(connection, table, ident, values)}
        if values - present:
            missing[(name, column)] = values - present
    return missing


def _settle_references(
    connection: Connection, document: ProjectDocument, clear_missing: bool
) -> dict[str, int]:
    """Refuse (ImportRefused) a document whose references find no row; with
    `clear_missing`, clear instead the missing references the schema lets go (ON DELETE SET
    NULL: the row stays as the database would leave it once that row is deleted). Returns
    how many references were cleared, by `table.column`."""
    cleared: dict[str, int] = {}
    for (name, column), values in _missing_references(connection, document).items():
        [key] = [k for k in metadata.tables[name].foreign_keys if k.parent.name == column]
        loose = (key.ondelete or "").upper() == "SET NULL"
        if not (clear_missing and loose):
            shown = ", ".join(map(str, sorted(values)[:3])) + (" ..." if len(values) > 3 else "")
            hint = (
                "import it where they are, copy the database, or clear such references "
                "with --clear-missing"
                if loose
                else "import it where they are, or copy the database"
            )
            raise ImportRefused(
                f"{name}.{column} refers to {len(values)} row(s) of {key.column.table.name} "
                f"that the target database lacks ({shown}): {hint}"
            )
        for row in document.tables[name]:
            if row[column] in values:
                row[column] = None
                cleared[f"{name}.{column}"] = cleared.get(f"{name}.{column}", 0) + 1
    return cleared


def read_tree_rows(engine: Engine, project_id: str) -> dict[str, list[Row]]:
    """Every row under the project and its audit entries, by table, in primary-key order, as
    the database returns them (to compare a project before and after a transfer)."""
    with engine.connect() as connection:
        tree = project_tree(connection, project_id)
        found: dict[str, list[Row]] = {}
        for name, keys in sorted(tree.items()):
            table = metadata.tables[name]
            key = primary_key(table).name
            found[name] = sorted(rows_by_key(connection, table, key, keys), key=_key)
        found[_AUDIT] = sorted(audit_entries(connection, project_id, tree), key=_key)
    return found
