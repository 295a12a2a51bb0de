"""Statements built once per shape and reused with bind parameters.

Building a SQLAlchemy statement costs more than running it (get by id: 101 µs built each
time, 35 µs cached, on SQLite). So a statement is built once for each shape of call — which
table, which query terms on which columns, which ordering — and every later call with the
same shape only binds its values: `w0, w1, ...` for query terms, `v_<column>` for values
written, `i_<column>` for increments, `limit` and `offset`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any, assert_never

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Delete,
    Float,
    FromClause,
    Insert,
    Select,
    String,
    Table,
    Update,
    and_,
    bindparam,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from agentkeel.ports.store import (
    Aggregate,
    AnyRelated,
    Asc,
    Before,
    Count,
    Desc,
    Eq,
    In,
    IsNull,
    Max,
    Ne,
    NoneRelated,
    NotNull,
    NotRefersTo,
    Order,
    Percentile,
    Reaches,
    RefersTo,
    Since,
    Sum,
    Where,
    referenced_table,
)
from agentkeel.schema import metadata

# The query terms with their values left out: what a statement's SQL depends on.
Shape = tuple[Where, ...]
# Stands for the values of a non-empty IN (an empty one compiles to FALSE instead).
_SOME: frozenset[Any] = frozenset({"…"})


def _blank(term: Where) -> Where:
    match term:
        case Eq() | Ne() | Before() | Since():
            return replace(term, value=None)
        case In():
            return In(term.column, _SOME if term.values else frozenset())
        case IsNull() | NotNull():
            return term
        case AnyRelated() | NoneRelated() | RefersTo() | NotRefersTo():
            return replace(term, where=shape_of(term.where))
        case Reaches():
            return replace(term, where=shape_of(term.where), through=shape_of(term.through))
        case _:
            assert_never(term)


def shape_of(where: Sequence[Where]) -> Shape:
    return tuple(_blank(term) for term in where)


def where_params(where: Sequence[Where], prefix: str = "w") -> dict[str, Any]:
    """The bind values of `where`: `w0, w1, ...`; a nested term's own `w2_0, w2_1, ...`."""
    params: dict[str, Any] = {}
    for i, term in enumerate(where):
        match term:
            case Eq() | Ne() | Before() | Since():
                params[f"{prefix}{i}"] = term.value
            case In():
                if term.values:
                    params[f"{prefix}{i}"] = sorted(term.values)
            case IsNull() | NotNull():
                pass
            case AnyRelated() | NoneRelated() | RefersTo() | NotRefersTo():
                params.update(where_params(term.where, f"{prefix}{i}_"))
            case Reaches():
                params.update(where_params(term.where, f"{prefix}{i}_"))
                params.update(where_params(term.through, f"{prefix}{i}t"))
            case _:
                assert_never(term)
    return params


def _clauses(table: FromClause, shape: Shape, prefix: str = "w") -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for i, term in enumerate(shape):
        name = f"{prefix}{i}"
        param: BindParameter[Any] = bindparam(name, expanding=isinstance(term, In))
        match term:
            case Eq():
                clauses.append(table.c[term.column] == param)
            case Ne():
                clauses.append(table.c[term.column] != param)
            case In():
                clauses.append(table.c[term.column].in_(param) if term.values else false())
            case IsNull():
                clauses.append(table.c[term.column].is_(None))
            case NotNull():
                clauses.append(table.c[term.column].is_not(None))
            case Before():
                clauses.append(table.c[term.column] < param)
            case Since():
                clauses.append(table.c[term.column] >= param)
            case AnyRelated() | NoneRelated():
                # Each subquery gets an alias of its own: it may read the outer table again.
                related = metadata.tables[term.table].alias(f"r_{name}")
                inner = _clauses(related, term.where, f"{name}_")
                if isinstance(term, AnyRelated) and any(isinstance(t, Eq) for t in term.where):
                    # The related rows of one value (a task's dependencies) are few: their
                    # ids found first through the related table's index, then looked up by
                    # key. A correlated EXISTS would have SQLite walk the whole outer table.
                    clauses.append(table.c["id"].in_(select(related.c[term.column]).where(*inner)))
                    continue
                # Otherwise per outer row, through the link's index. (NOT EXISTS, never NOT
                # IN: one NULL among the related column's values makes NOT IN unknown.)
                link = related.c[term.column] == table.c["id"]
                found = exists().where(link, *inner)
                clauses.append(found if isinstance(term, AnyRelated) else ~found)
            case RefersTo() | NotRefersTo():
                target = metadata.tables[term.table].alias(f"r_{name}")
                inner = _clauses(target, term.where, f"{name}_")
                link = target.c["id"] == table.c[term.column]
                found = exists().where(link, *inner)
                clauses.append(found if isinstance(term, RefersTo) else ~found)
            case Reaches():
                clauses.append(table.c["id"].in_(_reached(table, term, name)))
            case _:
                assert_never(term)
    return clauses


def _reached(table: FromClause, term: Reaches, name: str) -> Select[Any]:
    """The ids of the rows that match `term.where`, and of those that reach one along
    `term.table`'s edges through rows matching `term.through`: a recursive CTE, walked
    from the matching rows backwards along the edges (from target to source)."""
    nodes: Any = table
    while not isinstance(nodes, Table):
        nodes = nodes.element  # an alias of the table, in a nested term
    seed = nodes.alias(f"s_{name}")
    found = (
        select(seed.c["id"])
        .where(*_clauses(seed, term.where, f"{name}_"))
        .cte(f"reach_{name}", recursive=True, nesting=True)
    )
    edges = metadata.tables[term.table].alias(f"e_{name}")
    step = select(edges.c[term.source]).where(edges.c[term.target] == found.c["id"])
    if term.through:
        passed = nodes.alias(f"p_{name}")
        step = step.where(
            passed.c["id"] == edges.c[term.source], *_clauses(passed, term.through, f"{name}t")
        )
    return select(found.union(step).c["id"])


def _ordering(table: Table, order: tuple[tuple[str, bool], ...], postgres: bool) -> list[Any]:
    terms: list[Any] = []
    for column, ascending in (*order, ("id", True)):
        col: Any = table.c[column]
        if postgres and isinstance(col.type, String):
            col = col.collate("C")  # code point order, as SQLite and the fakes sort
        terms.append(col.asc().nulls_first() if ascending else col.desc().nulls_last())
    return terms


def _ascending(term: Order) -> bool:
    match term:
        case Asc():
            return True
        case Desc():
            return False
        case _:
            assert_never(term)


def order_of(order_by: Sequence[Order]) -> tuple[tuple[str, bool], ...]:
    return tuple((term.column, _ascending(term)) for term in order_by)


@lru_cache(maxsize=1024)
def insert_statement(table: Table, skip_clashes: bool = False) -> Insert:
    """An INSERT; with `skip_clashes` (PostgreSQL) a row that breaks a unique rule is
    skipped rather than refused, which would abort the transaction, and the statement
    returns the id of the row it inserted (none when it skipped it)."""
    if skip_clashes:
        return postgresql.insert(table).on_conflict_do_nothing().returning(table.c.id)
    return insert(table)


@lru_cache(maxsize=1024)
def checked_insert_statement(table: Table, references: tuple[tuple[str, Table], ...]) -> Insert:
    """PostgreSQL: an INSERT of a row with references (foreign-key column, table referred
    to) that skips the row, rather than being refused, if it breaks a unique rule (ON
    CONFLICT DO NOTHING) or refers to a row that does not exist (INSERT ... SELECT ... WHERE
    EXISTS), and returns the id of the row it inserted (none when it skipped it). Neither
    aborts the transaction, so no savepoint is needed."""
    binds = {column.name: bindparam(column.name, type_=column.type) for column in table.columns}
    values = select(*binds.values()).where(
        *(exists().where(target.c.id == binds[column]) for column, target in references)
    )
    statement = postgresql.insert(table).from_select(list(binds), values)
    return statement.on_conflict_do_nothing().returning(table.c.id)


@lru_cache(maxsize=1024)
def get_statement(table: Table, for_update: bool) -> Select[Any]:
    statement = select(table).where(table.c.id == bindparam("key"))
    return statement.with_for_update() if for_update else statement


@lru_cache(maxsize=1024)
def select_statement(
    table: Table,
    shape: Shape,
    order: tuple[tuple[str, bool], ...],
    postgres: bool,
    limited: bool,
    offset: bool,
) -> Select[Any]:
    statement = select(table).where(*_clauses(table, shape))
    statement = statement.order_by(*_ordering(table, order, postgres))
    if limited:
        statement = statement.limit(bindparam("limit", type_=BigInteger()))
    if offset:
        statement = statement.offset(bindparam("offset", type_=BigInteger()))
    return statement


# Prefix of the labels under which a joined row's columns come back (no column of ours has
# a double underscore in its name).
REFERENCED = "ref__"


@lru_cache(maxsize=1024)
def select_with_statement(
    table: Table,
    via: str,
    columns: tuple[str, ...],
    shape: Shape,
    order: tuple[tuple[str, bool], ...],
    postgres: bool,
    limited: bool,
    offset: bool,
) -> Select[Any]:
    """`select_statement` with a LEFT JOIN to the row that `via` refers to, whose id and
    `columns` come back labelled `ref__<column>`."""
    target = referenced_table(table, via).alias("referenced")
    joined = [target.c[name].label(f"{REFERENCED}{name}") for name in ("id", *columns)]
    statement = (
        select(table, *joined)
        .select_from(table.outerjoin(target, table.c[via] == target.c.id))
        .where(*_clauses(table, shape))
        .order_by(*_ordering(table, order, postgres))
    )
    if limited:
        statement = statement.limit(bindparam("limit", type_=BigInteger()))
    if offset:
        statement = statement.offset(bindparam("offset", type_=BigInteger()))
    return statement


@lru_cache(maxsize=1024)
def count_statement(table: Table, shape: Shape) -> Select[Any]:
    return select(func.count()).select_from(table).where(*_clauses(table, shape))


@lru_cache(maxsize=1024)
def referrers_statement(table: Table, column: str) -> Select[Any]:
    col = table.c[column]
    return select(table.c.id, col).where(col.in_(bindparam("keys", expanding=True)))


@lru_cache(maxsize=1024)
def update_statement(
    table: Table,
    shape: Shape,
    columns: tuple[str, ...],
    increments: tuple[str, ...],
    returning: bool,
) -> Update:
    values: dict[Any, Any] = {
        table.c[c]: bindparam(f"v_{c}", type_=table.c[c].type) for c in columns
    }
    values.update(
        {table.c[c]: table.c[c] + bindparam(f"i_{c}", type_=BigInteger()) for c in increments}
    )
    statement = update(table).where(*_clauses(table, shape)).values(values)
    return statement.returning(*table.c) if returning else statement


def update_params(values: Mapping[str, Any], increments: Mapping[str, int]) -> dict[str, Any]:
    params = {f"v_{column}": value for column, value in values.items()}
    params.update({f"i_{column}": delta for column, delta in increments.items()})
    return params


@lru_cache(maxsize=1024)
def claim_statement(
    table: Table,
    shape: Shape,
    order: tuple[tuple[str, bool], ...],
    columns: tuple[str, ...],
    postgres: bool,
) -> Update:
    """UPDATE the first matching row, in `order`, and return it: one statement.

    SQLite's writer lock runs claimers one after another. On PostgreSQL (READ COMMITTED)
    they run together, so the row is chosen by a locking read that skips rows other
    transactions are claiming (FOR UPDATE SKIP LOCKED). That alone is not enough: a row
    another claimer changed and committed after this statement's snapshot is locked in its
    new version and re-checked against the WHERE only, which the order columns (the last
    use) are not in, so it would be handed out twice. The row is therefore joined to itself
    as this statement first saw it (`seen`), with its order columns required unchanged:
    the re-check drops a row claimed meanwhile and the read moves on to the next."""
    first = select(table.c.id).where(*_clauses(table, shape))
    if postgres:
        seen = table.alias("seen")
        unchanged = [table.c.id == seen.c.id]
        unchanged += [table.c[c].is_not_distinct_from(seen.c[c]) for c, _ in order]
        first = first.join_from(table, seen, and_(*unchanged))
    first = first.order_by(*_ordering(table, order, postgres)).limit(1)
    if postgres:
        first = first.with_for_update(skip_locked=True, of=table)
    values: dict[Any, Any] = {
        table.c[c]: bindparam(f"v_{c}", type_=table.c[c].type) for c in columns
    }
    # Nothing to set: the row is still claimed (locked) and returned.
    values = values or {table.c.id: table.c.id}
    chosen = first.correlate(None).scalar_subquery()
    statement = update(table).where(table.c.id == chosen).values(values)
    return statement.returning(*table.c)


@lru_cache(maxsize=1024)
def delete_statement(table: Table, shape: Shape) -> Delete:
    return delete(table).where(*_clauses(table, shape))


@lru_cache(maxsize=1024)
def delete_first_statement(
    table: Table, shape: Shape, order: tuple[tuple[str, bool], ...], postgres: bool
) -> Delete:
    """DELETE the first `limit` rows matching, in `order`: one statement, whose subquery
    chooses the rows' ids (ORDER BY ... LIMIT, served by an index on the order's columns)."""
    chosen = (
        select(table.c.id)
        .where(*_clauses(table, shape))
        .order_by(*_ordering(table, order, postgres))
        .limit(bindparam("limit", type_=BigInteger()))
    )
    # Not correlated: the subquery reads the table the DELETE removes from.
    return delete(table).where(table.c.id.in_(chosen.correlate(None)))


def aggregates_shape(aggregates: Sequence[Aggregate]) -> tuple[Aggregate, ...]:
    """The aggregates with their values (a percentile's fraction) left out."""
    return tuple(
        replace(aggregate, fraction=0.0) if isinstance(aggregate, Percentile) else aggregate
        for aggregate in aggregates
    )


def aggregate_params(aggregates: Sequence[Aggregate]) -> dict[str, Any]:
    return {
        f"p{i}": aggregate.fraction
        for i, aggregate in enumerate(aggregates)
        if isinstance(aggregate, Percentile)
    }


@lru_cache(maxsize=1024)
def aggregate_statement(
    table: Table,
    aggregates: tuple[Aggregate, ...],
    shape: Shape,
    group_by: tuple[str, ...],
    postgres: bool,
) -> Select[Any]:
    """`SELECT <groups>, <aggregates> ... GROUP BY <groups> ORDER BY <groups>`. With a
    percentile, the rows come from a subquery that adds each percentile's
    `cume_dist() OVER (PARTITION BY <groups> ORDER BY <column>)`, and the percentile is the
    least value whose cume_dist reaches the fraction (nearest rank)."""
    percentiles = [i for i, aggregate in enumerate(aggregates) if isinstance(aggregate, Percentile)]
    source: Any = table
    if percentiles:
        columns = dict.fromkeys(
            [*group_by, *(a.column for a in aggregates if not isinstance(a, Count))]
        )
        partition = [table.c[column] for column in group_by] or None
        windows = []
        for i in percentiles:
            aggregate = aggregates[i]
            assert isinstance(aggregate, Percentile)
            ordered = table.c[aggregate.column]
            assert not ordered.nullable, "a percentile is taken over a NOT NULL column"
            over = func.cume_dist().over(partition_by=partition, order_by=ordered)
            windows.append(over.label(f"cd{i}"))
        inner = select(*(table.c[column] for column in columns), *windows)
        source = inner.where(*_clauses(table, shape)).subquery()
    expressions: list[Any] = []
    for i, aggregate in enumerate(aggregates):
        match aggregate:
            case Count():
                expressions.append(func.count().label(f"a{i}"))
            case Sum():
                expressions.append(func.sum(source.c[aggregate.column]).label(f"a{i}"))
            case Max():
                expressions.append(func.max(source.c[aggregate.column]).label(f"a{i}"))
            case Percentile():
                reached = source.c[f"cd{i}"] >= bindparam(f"p{i}", type_=Float())
                value = case((reached, source.c[aggregate.column]))
                expressions.append(func.min(value).label(f"a{i}"))
            case _:
                assert_never(aggregate)
    groups: list[Any] = [source.c[column] for column in group_by]
    statement = select(*groups, *expressions).select_from(source)
    if not percentiles:
        statement = statement.where(*_clauses(table, shape))
    ordering = []
    for group in groups:
        if postgres and isinstance(group.type, String):
            group = group.collate("C")
        ordering.append(group.asc().nulls_first())
    return statement.group_by(*groups).order_by(*ordering)


@lru_cache(maxsize=1)
def advisory_lock_statement() -> Select[Any]:
    """PostgreSQL: wait for the transaction-scoped advisory lock named `name` (hashed to
    64 bits; a collision only makes two names take turns)."""
    key = func.hashtextextended(bindparam("name", type_=String()), 0)
    return select(func.pg_advisory_xact_lock(key))


@lru_cache(maxsize=1)
def nothing_statement() -> Select[Any]:
    """A statement that reads nothing: what begins a transaction."""
    return select(literal(1).label("one"))


@lru_cache(maxsize=8)
def append_statement(table: Table) -> Insert:
    """An INSERT of a log table's row, its `sequence` left to the database."""
    return insert(table).values(
        {
            column.name: bindparam(column.name, type_=column.type)
            for column in table.columns
            if column.name != "sequence"
        }
    )


@lru_cache(maxsize=8)
def read_log_statement(table: Table) -> Select[Any]:
    """The rows of a log table after a sequence number, in order, up to a limit."""
    return (
        select(table)
        .where(table.c.sequence > bindparam("after", type_=BigInteger()))
        .order_by(table.c.sequence)
        .limit(bindparam("limit", type_=BigInteger()))
    )


@lru_cache(maxsize=8)
def log_times_statement(table: Table) -> Select[Any]:
    """The numbers and times of a log table's rows after a number and up to another, in
    order, up to a limit (the purge's look at what it may remove)."""
    return (
        select(table.c.sequence, table.c.recorded_at)
        .where(
            table.c.sequence > bindparam("after", type_=BigInteger()),
            table.c.sequence <= bindparam("upto", type_=BigInteger()),
        )
        .order_by(table.c.sequence)
        .limit(bindparam("limit", type_=BigInteger()))
    )


@lru_cache(maxsize=8)
def trim_log_statement(table: Table) -> Delete:
    """DELETE a log table's rows numbered after a number and up to another."""
    return delete(table).where(
        table.c.sequence > bindparam("after", type_=BigInteger()),
        table.c.sequence <= bindparam("through", type_=BigInteger()),
    )
