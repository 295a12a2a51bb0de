"""Metrics: recorded points and their aggregates over time."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from agentkeel.domain.agents import (
    Metric,
    MetricType,
)
from agentkeel.domain.errors import (
    InvalidValue,
    Protected,
)
from agentkeel.ports.base import Position
from agentkeel.ports.store import (
    Aggregate,
    Before,
    Eq,
    NotNull,
    Percentile,
    Since,
    Sum,
    Where,
)
from agentkeel.repositories.paging import PagedTable
from agentkeel.repositories.purging import PurgingTable
from agentkeel.schema.columns import METRICS

# A dashboard asks for a few percentiles; each is a window over the project's durations.
MAX_PERCENTILES = 20


class MetricsTable(PagedTable[Metric], PurgingTable[Metric]):
    entity = Metric

    def record(self, metric: Metric) -> Metric:
        return self.add(metric)

    def list(
        self,
        *,
        project_id: str | None = None,
        type: MetricType | None = None,
        agent_id: str | None = None,
        task_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: Position | None = None,
        limit: int | None = None,
    ) -> builtins.list[Metric]:
        where = self._eq_filters(
            project_id=project_id, type=type, agent_id=agent_id, task_id=task_id
        )
        where += self._within(since, until)
        return self._page(where, METRICS.timestamp, after=after, limit=limit)

    def tokens_by_agent(
        self, project_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        where: builtins.list[Where] = [
            Eq(METRICS.project_id, project_id),
            NotNull(METRICS.agent_id),
        ]
        return self._totals(MetricType.TOKEN_USAGE, "agent_id", where, since, until)

    def tokens_by_project(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        return self._totals(MetricType.TOKEN_USAGE, "project_id", [], since, until)

    def qa_iterations_by_task(
        self, project_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        where: builtins.list[Where] = [Eq(METRICS.project_id, project_id), NotNull(METRICS.task_id)]
        return self._totals(MetricType.QA_ITERATIONS, "task_id", where, since, until)

    def task_duration_percentiles(
        self,
        percentiles: Sequence[float] = (50.0, 90.0, 99.0),
        *,
        project_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, dict[float, float]]:
        wanted = self._percentiles(percentiles)
        where = [
            Eq(METRICS.type, MetricType.TASK_DURATION),
            *self._eq_filters(project_id=project_id),
        ]
        where += self._within(since, until)
        aggregates: builtins.list[Aggregate] = [Percentile(METRICS.value, p / 100) for p in wanted]
        rows = self._store.aggregate(self._table, aggregates, self._query(where), ["project_id"])
        return {row[0]: dict(zip(wanted, row[1:], strict=True)) for row in rows}

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        return self._purge_before(METRICS.timestamp, cutoff, limit)

    def delete(self, key: str) -> dict[str, int]:
        raise Protected(
            self._label,
            key,
            "cannot be deleted: metrics leave with their project or by the retention purge",
        )

    def _totals(
        self,
        kind: MetricType,
        per: str,
        where: builtins.list[Where],
        since: datetime | None,
        until: datetime | None,
    ) -> dict[str, float]:
        """The sum of the values of one type of metric, per value of the column `per`."""
        where = self._query([*where, Eq(METRICS.type, kind), *self._within(since, until)])
        rows = self._store.aggregate(self._table, [Sum(METRICS.value)], where, [per])
        return dict(rows)

    @staticmethod
    def _within(since: datetime | None, until: datetime | None) -> builtins.list[Where]:
        """[since, until): `timestamp` from `since` (inclusive) up to `until` (exclusive)."""
        where: builtins.list[Where] = []
        if since is not None:
            where.append(Since(METRICS.timestamp, since))
        if until is not None:
            where.append(Before(METRICS.timestamp, until))
        return where

    def _percentiles(self, percentiles: Any) -> builtins.list[float]:
        if isinstance(percentiles, str | bytes) or not isinstance(percentiles, Iterable):
            raise InvalidValue(
                self._label, "percentiles", percentiles, "must be a list of numbers from 0 to 100"
            )
        wanted: builtins.list[float] = []
        for p in percentiles:
            if len(wanted) == MAX_PERCENTILES:
                raise InvalidValue(
                    self._label, "percentiles", "more", f"must be at most {MAX_PERCENTILES}"
                )
            if isinstance(p, bool) or not isinstance(p, int | float):
                raise InvalidValue(self._label, "percentiles", p, "must hold only numbers")
            if not 0 <= p <= 100:  # NaN compares false; a huge int is no float
                raise InvalidValue(self._label, "percentiles", p, "must be from 0 to 100")
            wanted.append(float(p))
        if not wanted:
            raise InvalidValue(self._label, "percentiles", percentiles, "must name at least one")
        return wanted
