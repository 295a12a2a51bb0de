"""What the generic repository works out once per entity: its table's layout, and the query
terms checked and normalised through the entity's fields."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import assert_never

from sqlalchemy import Table

from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import InvalidValue
from agentkeel.ports.store import (
    AnyRelated,
    Before,
    Eq,
    In,
    IsNull,
    Ne,
    NoneRelated,
    NotNull,
    NotRefersTo,
    Reaches,
    RefersTo,
    Since,
    Where,
)
from agentkeel.schema import entity_of, label_of, metadata, table_of


@cache
def layout(
    entity: type[Entity],
) -> tuple[Table, str, str | None, tuple[tuple[str, str], ...]]:
    """What a repository needs to know of its table, worked out once per entity (a
    repository is built in every unit of work that uses it): the table, its label, the
    row-version column, and the exclusive flags as (flag, the column grouping them)."""
    table = table_of(entity)
    flags = tuple(
        (str(index.info["exclusive_flag"]), index.columns.keys()[0])
        for index in table.indexes
        if index.info.get("exclusive_flag")
    )
    return table, label_of(table), entity.version_field, flags


# Terms a repository declares once (module constants, such as what makes a task ready),
# normalised when declared: keyed by the term object itself, never by its value (1, 1.0 and
# True are equal and hash alike, yet a field takes only one of them), and held here, so that
# no other object ever takes its id.
_NORMALISED: dict[int, Where] = {}


def normalised(entity: type[Entity], *terms: Where) -> tuple[Where, ...]:
    """`terms` normalised for `entity` (`query_term`) once: a query that uses the very terms
    returned skips their normalising (a tenth of a ready-task query's cost)."""
    done = tuple(query_term(entity, term) for term in terms)
    for term in done:
        _NORMALISED[id(term)] = term
    return done


def query_term(entity: type[Entity], term: Where) -> Where:
    """`term` with its value as `entity`'s field holds it; the terms nested in a
    `NoneRelated` or `RefersTo` as the related table's entity holds them."""
    if _NORMALISED.get(id(term)) is term:
        return term
    held = entity.query_value
    match term:
        case Eq() | Ne():
            # Built, not `replace`d: a listing's scope terms pass here at every query.
            return type(term)(term.column, held(term.column, term.value))
        case Before() | Since():
            # Nothing is before or since None (SQL would match no row, the fakes could not
            # compare): the caller forgot the bound.
            if term.value is None:
                problem = "must be given: a bound to compare with, not None"
                raise InvalidValue(entity.label(), term.column, None, problem)
            return type(term)(term.column, held(term.column, term.value))
        case In():
            return In(term.column, frozenset(held(term.column, v) for v in term.values))
        case IsNull() | NotNull():
            return term
        case AnyRelated() | NoneRelated() | RefersTo() | NotRefersTo():
            related = entity_of(metadata.tables[term.table])
            return replace(term, where=tuple(query_term(related, t) for t in term.where))
        case Reaches():
            # `where` and `through` are about rows of this row's own table.
            return replace(
                term,
                where=tuple(query_term(entity, t) for t in term.where),
                through=tuple(query_term(entity, t) for t in term.through),
            )
        case _:
            assert_never(term)
