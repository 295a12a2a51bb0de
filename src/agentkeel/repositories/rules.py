"""Small checks that the aggregates' rules share, on an entity about to be written and its
row as stored (None: not stored yet)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import InvalidValue
from agentkeel.ports.store import Asc, IsNull, NotNull, Order, Row, Where

# The order of a parent's children when nothing else is asked for.
OLDEST_FIRST: tuple[Order, ...] = (Asc("created_at"),)


def changed(entity: Entity, stored: Row | None, column: str) -> bool:
    """Whether this write sets `column` (a new row sets every column)."""
    return stored is None or stored[column] != getattr(entity, column)


def was_set(stored: Row | None, flag: str) -> bool:
    """Whether the stored row had the timestamp flag `flag` raised."""
    return stored is not None and stored[flag] is not None


def fixed(label: str, entity: Entity, stored: Row | None, columns: Collection[str]) -> None:
    """Refuse a change of a column that never changes once stored (InvalidValue naming the
    column and what it was): a row does not move to another parent or change its kind."""
    if stored is None:
        return
    for column in columns:
        if stored[column] != getattr(entity, column):
            was = stored[column]
            raise InvalidValue(
                label, column, getattr(entity, column), f"cannot change (was {was!r})"
            )


def milliseconds(start: datetime | None, end: datetime) -> int | None:
    """How long from `start` to `end`, in whole milliseconds (None without a start)."""
    if start is None:
        return None
    return max(0, int((end - start).total_seconds() * 1000))


def flag_terms(label: str, name: str, column: str, is_set: bool | None) -> list[Where]:
    """The terms of a filter on a timestamp flag: raised (True), not raised (False) or
    either (None); anything else is refused (InvalidValue naming the argument)."""
    match is_set:
        case None:
            return []
        case True:
            return [NotNull(column)]
        case False:
            return [IsNull(column)]
    raise InvalidValue(label, name, is_set, "must be True, False or None")
