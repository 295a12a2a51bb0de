"""The row store: the small storage interface the repositories are written against.

Repositories are written once, over a `RowStore`; each adapter supplies one store. The SQL
store turns the calls into SQLAlchemy Core statements; the memory store carries them out on
dictionaries and enforces the schema's constraints itself. Both raise the same domain errors.
Rows are plain dicts of column values; keys are primary-key values (`id`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, assert_never

from sqlalchemy import Table

from agentkeel.domain.clock import Clock
from agentkeel.schema.base import Only

Row = dict[str, Any]


# -- query terms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eq:
    column: str
    value: Any


@dataclass(frozen=True)
class Ne:
    """Not equal; like SQL, a NULL column matches neither Eq nor Ne."""

    column: str
    value: Any


@dataclass(frozen=True)
class In:
    column: str
    values: frozenset[Any]


@dataclass(frozen=True)
class IsNull:
    column: str


@dataclass(frozen=True)
class NotNull:
    column: str


@dataclass(frozen=True)
class Before:
    """column < value (NULLs never match)."""

    column: str
    value: Any


@dataclass(frozen=True)
class Since:
    """column >= value (NULLs never match)."""

    column: str
    value: Any


@dataclass(frozen=True)
class AnyRelated:
    """EXISTS: some row of `table` holds this row's id in `column` and matches `where`
    (e.g. the tasks some task depends on). Nests like `NoneRelated`."""

    table: str
    column: str
    where: tuple[Where, ...] = ()


@dataclass(frozen=True)
class NoneRelated:
    """NOT EXISTS: no row of `table` holds this row's id in `column` and matches `where`
    (e.g. no dependency of a task whose other end is unfinished). `column` is a column of
    `table`, usually its foreign key to this row; the terms of `where` apply to `table`'s
    rows and may nest `RefersTo` and `NoneRelated` themselves."""

    table: str
    column: str
    where: tuple[Where, ...] = ()


@dataclass(frozen=True)
class RefersTo:
    """EXISTS: the row of `table` whose id this row holds in `column` matches `where`
    (a NULL `column` never matches)."""

    column: str
    table: str
    where: tuple[Where, ...] = ()


@dataclass(frozen=True)
class NotRefersTo:
    """NOT EXISTS: the row of `table` whose id this row holds in `column` does not match
    `where` (a NULL `column` always matches: it refers to nothing)."""

    column: str
    table: str
    where: tuple[Where, ...] = ()


@dataclass(frozen=True)
class Reaches:
    """This row matches `where`, or reaches a row of its own table that does by following
    the edges of `table` (an edge leads from the row whose id is in its `source` column to
    the row whose id is in its `target` column), one or more of them, through rows that
    all match `through` (this row included, unless it matches `where` itself): e.g. the
    tasks that wait, directly or not, for a blocked one. One recursive query in SQL."""

    table: str
    source: str
    target: str
    where: tuple[Where, ...]
    through: tuple[Where, ...] = ()


Where = (
    Eq
    | Ne
    | In
    | IsNull
    | NotNull
    | Before
    | Since
    | AnyRelated
    | NoneRelated
    | RefersTo
    | NotRefersTo
    | Reaches
)


def referenced_table(table: Table, via: str) -> Table:
    """The table the foreign key `via` of `table` refers to."""
    (key,) = table.c[via].foreign_keys
    return key.column.table


def covered(only: Only) -> Where:
    """The query term selecting the rows a partial unique index covers."""
    match only.state:
        case "set":
            return NotNull(only.column)
        case "unset":
            return IsNull(only.column)
        case "equal":
            return Eq(only.column, only.value)
        case _:
            assert_never(only.state)


@dataclass(frozen=True)
class Asc:
    column: str


@dataclass(frozen=True)
class Desc:
    column: str


Order = Asc | Desc


# -- aggregates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """How many rows."""


@dataclass(frozen=True)
class Sum:
    """The sum of a column's values; None over no rows. NULLs are skipped."""

    column: str


@dataclass(frozen=True)
class Max:
    """The greatest of a column's values; None over no rows. NULLs are skipped."""

    column: str


@dataclass(frozen=True)
class Percentile:
    """The nearest-rank percentile of a NOT NULL column: the smallest value v such that at
    least `fraction` of the rows hold a value <= v (`fraction` from 0 to 1; 0 gives the
    least value); None over no rows. Computed with `cume_dist()` in SQL (SQLite has no
    `percentile_cont`), and the same way in the fakes: the same float division, the same
    comparison."""

    column: str
    fraction: float


Aggregate = Count | Sum | Max | Percentile


@dataclass(frozen=True)
class Referenced:
    """Some columns of the row that the foreign key `via` refers to, read along with each
    selected row in the same query (a LEFT JOIN): the referenced row's `id` and `columns`,
    or None where `via` is NULL."""

    via: str
    columns: tuple[str, ...]


def older_run(rows: Sequence[Row], before: datetime) -> int | None:
    """The `sequence` of the last of a log table's `rows` (in sequence order) in the run,
    from the first, of rows whose `recorded_at` is before `before`; None when the first is
    not, or there are no rows (see `RowStore.log_prefix`)."""
    last = None
    for row in rows:
        if row["recorded_at"] >= before:
            break
        last = int(row["sequence"])
    return last


class RowStore(Protocol):
    """Storage for one unit of work's transaction.

    Every write checks the schema's constraints and raises AlreadyExists, ReferenceMissing,
    InvalidValue or StillReferenced; a failed write changes nothing. Orderings always end
    with the primary key, so equal sort keys come back in the same order everywhere, and
    text sorts by code point on every backend. Rows returned are new dicts, JSON values
    included, the caller's to keep (repositories keep them as the rows their entities were
    read as).
    """

    clock: Clock

    def insert(self, table: Table, row: Row) -> None:
        """Insert one row (every column given). A duplicate key or unique value raises
        `AlreadyExists`, a reference to a missing row `ReferenceMissing`, a value a check
        refuses `InvalidValue`, each naming the rule; nothing is written then."""
        ...

    def insert_many(self, table: Table, rows: Sequence[Row]) -> None:
        """Insert the rows, checked as `insert` checks one, in one bulk statement (the
        driver's executemany) where the backend allows; all of them or, on error, none."""
        ...

    def get(self, table: Table, key: str, *, for_update: bool = False) -> Row | None:
        """The row with this key; `for_update` locks it until the transaction ends."""
        ...

    def select(
        self,
        table: Table,
        where: Sequence[Where] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Row]:
        """The rows matching every term of `where`, in `order_by` order (then by key, so
        that paging is stable), from `offset`, at most `limit` of them."""
        ...

    def select_with(
        self,
        table: Table,
        referenced: Referenced,
        where: Sequence[Where] = (),
        order_by: Sequence[Order] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple[Row, Row | None]]:
        """Like `select`, one query: each row with the `referenced` row's `id` and columns
        (None where the foreign key is NULL)."""
        ...

    def count(self, table: Table, where: Sequence[Where] = ()) -> int:
        """How many rows match every term of `where`."""
        ...

    def aggregate(
        self,
        table: Table,
        aggregates: Sequence[Aggregate],
        where: Sequence[Where] = (),
        group_by: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        """One statement: for each group of the matching rows (grouped by the values of
        `group_by`), a tuple of the group's values followed by each aggregate's value, the
        groups in ascending order of their values (NULL first, text by code point). With no
        `group_by` there is exactly one tuple, over all matching rows (Count 0, the others
        None when none match); with a `group_by`, no tuple for no rows. A Sum of whole
        numbers is exact; a Sum of fractional reals may differ in its last bits between
        backends, which add in different orders."""
        ...

    def update(
        self,
        table: Table,
        where: Sequence[Where],
        values: Mapping[str, Any],
        increments: Mapping[str, int] | None = None,
    ) -> int:
        """Set `values` and add `increments` on every matching row; return how many matched."""
        ...

    def update_one(
        self,
        table: Table,
        where: Sequence[Where],
        values: Mapping[str, Any],
        increments: Mapping[str, int] | None = None,
    ) -> Row | None:
        """Set `values` and add `increments` on the one matching row and return it as
        stored (one statement, with RETURNING), or None if none matched."""
        ...

    def claim(
        self,
        table: Table,
        where: Sequence[Where],
        order_by: Sequence[Order],
        values: Mapping[str, Any],
    ) -> Row | None:
        """Set `values` on the first row matching `where` in `order_by` order and return it
        as stored, or None if none matches, in one atomic step: concurrent claimers never
        get the same row (a row another open transaction is claiming is skipped, not waited
        for). For handing out a pooled resource (an account)."""
        ...

    def delete(self, table: Table, where: Sequence[Where]) -> int:
        """Delete matching rows with the schema's ON DELETE effects; return how many matched."""
        ...

    def delete_first(
        self, table: Table, where: Sequence[Where], order_by: Sequence[Order], limit: int
    ) -> int:
        """Delete the first `limit` rows matching `where`, in `order_by` order, with the
        schema's ON DELETE effects, in one statement (`DELETE ... WHERE id IN (SELECT id ...
        ORDER BY ... LIMIT n)`); return how many went. For purges in bounded batches."""
        ...

    def referrers(self, table: Table, column: str, keys: set[str]) -> Iterator[tuple[str, str]]:
        """(key, `column` value) of each row of `table` whose `column` is one of `keys`."""
        ...

    def atomic(self) -> AbstractContextManager[None]:
        """A savepoint: if the block raises, everything it wrote is undone."""
        ...

    def serialize(self, table: Table, key: str) -> None:
        """Take turns, until this transaction ends, with every unit of work that serializes
        on the same (table, key): for a check that reads many rows before a write that
        depends on them all (no cycle in an initiative's phase graph). It locks no row, so
        readers and writers of the row itself do not wait. Waits past the wait limit: Busy.
        """
        ...

    def append_log(self, table: Table, rows: Sequence[Row]) -> None:
        """Append `rows` to an append-only log table (`event_log`), in one bulk statement,
        numbering them in its `sequence` column: strictly increasing, in commit order. A
        transaction that appends holds the log until it ends (SQLite: the writer lock it
        holds anyway; PostgreSQL: a transaction-scoped advisory lock; the fakes: their
        writer lock), so a sequence number becomes visible only after every smaller one
        has: a reader that reads after the last number it saw misses none. A rolled-back
        append leaves a gap that never fills. Nothing at all for no rows."""
        ...

    def read_log(self, table: Table, after: int, limit: int) -> list[Row]:
        """The first `limit` rows of a log table whose `sequence` is greater than `after`,
        in sequence order."""
        ...

    def log_prefix(
        self, table: Table, after: int, upto: int, before: datetime, limit: int
    ) -> int | None:
        """Among the first `limit` rows of a log table numbered after `after` and up to
        `upto`, in sequence order: the number of the last row of the run, from the first,
        whose `recorded_at` is before `before`; None when the first is not (or there is no
        row). Reads only the two columns (one statement). What a purge may remove without
        leaving a hole: it stops at the first row that is too new."""
        ...

    def trim_log(self, table: Table, after: int, through: int) -> int:
        """Delete the rows of a log table numbered after `after` and up to `through` (one
        statement: a range of the primary key, so rows already gone are not walked again);
        return how many went."""
        ...
