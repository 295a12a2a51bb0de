"""Copy a whole database into another, empty one at the same schema revision (the embedded
SQLite file into PostgreSQL, say), then prove the copy: `copy_database`.

How it goes, and why it is safe to run again after an interruption:

1. Both databases must be at this agentkeel's schema revision (the caller migrates an
   empty target to head first). A target holding any row is refused, unless `resume`.
2. The source is read in one snapshot (one read transaction for the whole copy), so a copy
   taken while writers go on is consistent as of one moment.
3. Tables go in dependency order (`rows.insert_plan`), each in batches of `batch_size` rows
   in primary-key order; every batch is its own transaction on the target, so an
   interruption loses at most the batch in flight. A column that refers to a table later in
   the order, or to its own table (a subtask's parent), is written empty at first and set
   once every row is in, so no batch waits for a row of a later one.
4. With `resume`, rows the target has already (by primary key) are skipped: a copy that was
   interrupted is finished by running it again with `resume`; the deferred references are
   written again (the same values), and the verification below proves the result.
5. On PostgreSQL, a sequence behind an integer key (the event log's numbers) is moved past
   the highest number copied, so new events go on numbering after the copied ones.
6. Verification: every table's row count and checksum (`rows.checksum`: the rows in
   primary-key order, normalized so that SQLite and PostgreSQL values compare equal) on
   both sides. `CopyReport.mismatched` names the tables that differ (none, for a copy into
   an empty target).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, or_, select, update

from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.engine import read_only_connection
from agentkeel.adapters.sql.rows import (
    Digest,
    TableStep,
    checksum,
    insert_plan,
    key_order,
    primary_key,
    read_rows,
    rows_by_key,
    self_references,
)

DEFAULT_BATCH = 1000
# (stage, table, rows done, rows of the table): stage is "copy", "link" or "verify".
Progress = Callable[[str, str, int, int], None]


class CopyRefused(Exception):
    """A copy refused before writing anything: `problem` says why. (Not a
    DomainError: an operator's refusal, which no code of the domain raises or handles.)"""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"copy refused: {problem}")


@dataclass(frozen=True)
class TableCopied:
    """One table of a copy: rows written, rows skipped (there already), both digests."""

    name: str
    copied: int
    skipped: int
    source: Digest
    target: Digest

    @property
    def matches(self) -> bool:
        return self.source == self.target


@dataclass
class CopyReport:
    """What `copy_database` did, table by table, in insert order."""

    revision: str
    tables: list[TableCopied] = field(default_factory=list)

    @property
    def mismatched(self) -> list[str]:
        """The tables whose row count or checksum differs between source and target."""
        return [table.name for table in self.tables if not table.matches]


def copy_database(
    source: Engine,
    target: Engine,
    *,
    batch_size: int = DEFAULT_BATCH,
    resume: bool = False,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every row of `source` into `target`, then verify both (see the module's
    docstring). Raises CopyRefused for a revision other than this agentkeel's on either
    side, or a target that holds rows (without `resume`)."""
    if batch_size < 1:
        raise CopyRefused(f"the batch size must be at least 1 (got {batch_size})")
    report = progress or (lambda _stage, _table, _done, _total: None)
    for side, engine in (("source", source), ("target", target)):
        revision = migrate.current_revision(engine)
        if revision != migrate.HEAD:
            raise CopyRefused(
                f"the {side} database is at schema revision {revision}, not this agentkeel's "
                f"{migrate.HEAD}: migrate it (`agentkeel migrate`) or use the matching agentkeel"
            )
    plan = insert_plan()
    if not resume:
        _refuse_rows(target, plan)
    result = CopyReport(migrate.HEAD)
    with read_only_connection(source) as reading, reading.begin():
        totals = {step.table.name: _count(reading, step.table) for step in plan}
        counts = {}
        for step in plan:
            counts[step.table.name] = _copy_table(
                reading, target, step, batch_size, resume, totals, report
            )
        for step in plan:
            _link_table(reading, target, step, batch_size, totals, report)
        _advance_sequences(target, plan)
        with target.connect() as written:
            for step in plan:
                name = step.table.name
                report("verify", name, 0, totals[name])
                mine, theirs = checksum(reading, step.table), checksum(written, step.table)
                report("verify", name, totals[name], totals[name])
                result.tables.append(TableCopied(name, *counts[name], mine, theirs))
    return result


def _count(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _refuse_rows(target: Engine, plan: list[TableStep]) -> None:
    with target.connect() as connection:
        held = {step.table.name: _count(connection, step.table) for step in plan}
    filled = {name: count for name, count in held.items() if count}
    if filled:
        shown = ", ".join(f"{name} has {count}" for name, count in sorted(filled.items())[:3])
        raise CopyRefused(
            f"the target database is not empty ({shown} row(s)): copy into a new, empty "
            "database (do not open it with agentkeel first: copy migrates it), or finish an "
            "interrupted copy with --resume"
        )


def _later(step: TableStep) -> tuple[str, ...]:
    """The columns written once every row is in: references forward or to the table."""
    return tuple(sorted({*step.deferred, *self_references(step.table)}))


def _copy_table(
    reading: Connection,
    target: Engine,
    step: TableStep,
    batch_size: int,
    resume: bool,
    totals: dict[str, int],
    report: Progress,
) -> tuple[int, int]:
    """Copy one table in batches; returns (rows copied, rows skipped)."""
    table, later = step.table, _later(step)
    key = primary_key(table).name
    total, copied, skipped, last = totals[table.name], 0, 0, None
    report("copy", table.name, 0, total)
    while True:
        rows = read_rows(reading, table, after=last, limit=batch_size)
        if not rows:
            break
        last = rows[-1][key]
        with target.begin() as writing:
            if resume:
                there = {r[key] for r in rows_by_key(writing, table, key, [r[key] for r in rows])}
                fresh = [row for row in rows if row[key] not in there]
                skipped += len(rows) - len(fresh)
                rows = fresh
            if rows:
                writing.execute(insert(table), [{**row, **dict.fromkeys(later)} for row in rows])
                copied += len(rows)
        report("copy", table.name, copied + skipped, total)
    return copied, skipped


def _link_table(
    reading: Connection,
    target: Engine,
    step: TableStep,
    batch_size: int,
    totals: dict[str, int],
    report: Progress,
) -> None:
    """Write the deferred references of one table, in batches of rows that have any."""
    later = _later(step)
    if not later:
        return
    table = step.table
    key, order = primary_key(table), key_order(reading, table)
    statement = (
        update(table)
        .where(key == bindparam("_key"))
        .values({name: bindparam(f"_{name}") for name in later})
    )
    has_any = or_(*(table.c[name].is_not(None) for name in later))
    done, last = 0, None
    while True:
        query = select(table).where(has_any).order_by(order).limit(batch_size)
        if last is not None:
            query = query.where(order > last)
        rows = [dict(row) for row in reading.execute(query).mappings()]
        if not rows:
            break
        last = rows[-1][key.name]
        values: list[dict[str, Any]] = [
            {"_key": row[key.name], **{f"_{name}": row[name] for name in later}} for row in rows
        ]
        with target.begin() as writing:
            writing.execute(statement, values)
        done += len(rows)
        report("link", table.name, done, totals[table.name])


def _advance_sequences(target: Engine, plan: list[TableStep]) -> None:
    """On PostgreSQL, move each serial key's sequence past the highest key copied."""
    if target.dialect.name != "postgresql":
        return
    with target.begin() as connection:
        for step in plan:
            column = primary_key(step.table)
            if column.type.python_type is not int or not column.autoincrement:
                continue
            name = step.table.name
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{name}', '{column.name}'), "
                f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
                f'FROM "{name}"'
            )
