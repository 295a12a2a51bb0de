"""Keyset paging for the finders that read a growing table in time order.

A page is asked for `after` a `Position` (the time and id of the last entry read) with a
`limit`. Written with the query terms every store has: the entries of the position's own
time that come after its id, then those of later (or, newest first, earlier) times. Each is
a search of the finder's index (its filter, then its time column), never a walk of what
was read before, so a page costs what it returns (and the entries that share the
position's time)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import InvalidValue
from agentkeel.ports.base import Position
from agentkeel.ports.store import Asc, Before, Desc, Eq, Ne, Order, Since, Where
from agentkeel.repositories.base import TableRepository

E = TypeVar("E", bound=Entity)

POSITION_PROBLEM = (
    "must be the (time, id) of the last entry read: a timezone-aware datetime and an id"
)


class PagedTable(TableRepository[E]):
    """A repository with finders paged by `Position` (mixed in beside its other bases)."""

    def _page(
        self,
        where: Sequence[Where],
        column: str,
        *,
        newest_first: bool = False,
        after: Position | None = None,
        limit: int | None = None,
    ) -> list[E]:
        """The entities matching `where` ordered by `column` (newest first if asked), then
        by id; those after the position `after` (None: from the first), at most `limit`
        (None: all). Raises InvalidValue naming `after` or `limit` for a bad one."""
        self._check_page(limit, 0)
        order: list[Order] = [Desc(column) if newest_first else Asc(column)]
        if after is None:
            return self._select(where, order, limit)
        time, key = self._position(column, after)
        if limit == 0:
            return []
        # Ties are ordered by id in code point order, in both directions; compared here,
        # not by the database, whose text comparisons may follow a locale's collation.
        # Entries of one time are few (each is stamped by the clock as it is written).
        same_time = [
            entity for entity in self._select([*where, Eq(column, time)], order) if entity.id > key
        ][:limit]
        if limit is not None and len(same_time) >= limit:
            return same_time
        rest = None if limit is None else limit - len(same_time)
        beyond: list[Where] = (
            [Before(column, time)] if newest_first else [Since(column, time), Ne(column, time)]
        )
        return same_time + self._select([*where, *beyond], order, rest)

    def _position(self, column: str, after: Any) -> Position:
        """`after` as `column` and the id hold their values; InvalidValue naming `after`
        for anything else (not a pair, a naive datetime, a value no id could be)."""
        if not (isinstance(after, tuple) and len(after) == 2 and isinstance(after[0], datetime)):
            raise InvalidValue(self._label, "after", after, POSITION_PROBLEM)
        try:
            time: datetime = self.entity.query_value(column, after[0])
            key: str = self.entity.query_value("id", after[1])
        except InvalidValue:
            raise InvalidValue(self._label, "after", after, POSITION_PROBLEM) from None
        return time, key
