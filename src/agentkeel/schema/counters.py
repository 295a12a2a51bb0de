"""Counters kept by the generic repository: a column of one table that counts the rows of
another table holding it.

A counter is declared here once, and `TableRepository` keeps it true on every path that
writes the counted table (add, add_many, update, delete, and the rows a delete of any other
table cascades to), in the same transaction and savepoint as the write: no caller can go
around it. Each change is one `UPDATE ... SET column = column + n` on the holder, so that
concurrent writers all count (the holder's row version is left alone, as for the agents'
counters: counts commute).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentkeel.domain.planning import TaskStatus


@dataclass(frozen=True)
class Counter:
    """`holder_table.column` counts the rows of the counted table whose `via` column holds
    the holder's id and whose `when_column` equals `when_value`."""

    holder_table: str
    column: str
    via: str
    when_column: str
    when_value: Any

    def holder(self, row: Mapping[str, Any] | None) -> str | None:
        """The holder `row` counts towards, or None (no row, no holder, not counted)."""
        if row is None or row.get(self.when_column) != self.when_value:
            return None
        holder: str | None = row.get(self.via)
        return holder


# counted table -> the counters counting its rows.
COUNTERS: dict[str, tuple[Counter, ...]] = {
    # `completed_tasks` always equals a recount of the feature's completed tasks
    # (its sub-features' included: a task of a sub-feature holds the sub-feature's feature).
    "tasks": (
        Counter("features", "completed_tasks", "feature_id", "status", TaskStatus.COMPLETED.value),
    ),
}
