"""Metrics (NX `metrics`): recorded, listed, and aggregated by the database for a dashboard
(tokens by agent and by project, task-duration percentiles, QA iterations per task), each
aggregate checked against a recount of the listed metrics."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agentkeel.domain.agents import Metric, MetricType
from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidValue,
    NotFound,
    Protected,
    ReferenceMissing,
)
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TOKENS, DURATION, QA = MetricType.TOKEN_USAGE, MetricType.TASK_DURATION, MetricType.QA_ITERATIONS


def record(
    uow: UnitOfWork, project: Project, kind: MetricType, value: float, hour: int = 0, **fields: Any
) -> Metric:
    return uow.metrics.record(
        Metric(
            project_id=project.id,
            type=kind,
            value=value,
            timestamp=T0 + timedelta(hours=hour),
            **fields,
        )
    )


def nearest_rank(values: list[float], percentile: float) -> float:
    """The textbook nearest-rank percentile: the ceil(p/100 * n)-th smallest value."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percentile / 100 * len(ordered))) - 1]


def test_record_and_list_with_every_filter(uow: UnitOfWork) -> None:
    keel, other = factories.project(uow), factories.project(uow, "Other")
    a = record(
        uow,
        keel,
        TOKENS,
        100,
        0,
        agent_id="agent-a",
        task_id="task-1",
        details={"model": "opus 🚢"},
    )
    b = record(uow, keel, DURATION, 2.5, 1, agent_id="agent-b", task_id="task-1")
    c = record(uow, other, TOKENS, 7, 2, agent_id="agent-a")
    assert uow.metrics.get(a.id) == a and a.details == {"model": "opus 🚢"}
    assert uow.metrics.list() == [a, b, c]  # oldest first
    assert uow.metrics.list(project_id=keel.id) == [a, b]
    assert uow.metrics.list(type=TOKENS) == [a, c]
    assert uow.metrics.list(agent_id="agent-a") == [a, c]
    assert uow.metrics.list(task_id="task-1", type=DURATION) == [b]
    assert uow.metrics.list(since=T0 + timedelta(hours=1)) == [b, c]
    assert uow.metrics.list(until=T0 + timedelta(hours=1)) == [a]
    assert uow.metrics.list(since=T0, until=T0 + timedelta(hours=2), limit=1) == [a]
    assert uow.metrics.list(agent_id="never-recorded") == []
    with pytest.raises(InvalidValue, match=r"metric\.agent_id must be 1 to 64"):
        uow.metrics.list(agent_id="'; DROP TABLE metrics;--")
    assert uow.metrics.count() == 3


def test_timestamp_defaults_to_now_and_value_is_a_real(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    before = datetime.now(UTC)
    stored = uow.metrics.record(Metric(project_id=project.id, type=QA, value=3))
    assert before <= stored.timestamp <= datetime.now(UTC)
    assert stored.value == 3.0 and isinstance(uow.metrics.get(stored.id).value, float)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"value": math.nan}, r"metric\.value must be a finite number"),
        ({"value": math.inf}, r"metric\.value must be a finite number"),
        ({"type": "tokens"}, r"metric\.type must be one of"),
        ({"timestamp": datetime(2026, 1, 1)}, r"metric\.timestamp must be timezone-aware"),
        ({"agent_id": "a\x00"}, r"metric\.agent_id"),
        ({"details": {"x": math.nan}}, r"metric\.details must not contain NaN"),
    ],
)
def test_bad_values_are_refused(uow: UnitOfWork, fields: dict[str, Any], message: str) -> None:
    project = factories.project(uow)
    values: dict[str, Any] = {"project_id": project.id, "type": TOKENS, "value": 1.0, **fields}
    with pytest.raises(InvalidValue, match=message):
        uow.metrics.record(Metric.model_validate(values))
    assert uow.metrics.count() == 0


def test_record_errors(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    with pytest.raises(ReferenceMissing):
        uow.metrics.record(Metric(project_id="no-such-project", type=TOKENS, value=1))
    stored = record(uow, project, TOKENS, 1)
    with pytest.raises(AlreadyExists):
        uow.metrics.record(Metric(id=stored.id, project_id=project.id, type=TOKENS, value=2))
    with pytest.raises(NotFound):
        uow.metrics.get("missing")
    assert uow.metrics.find("missing") is None


def test_metrics_cannot_be_changed_or_deleted(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    stored = record(uow, project, TOKENS, 1)
    stored.value = 1000
    with pytest.raises(Protected, match="append-only"):
        uow.metrics.update(stored)
    with pytest.raises(Protected, match="leave with their project"):
        uow.metrics.delete(stored.id)
    assert uow.metrics.get(stored.id).value == 1


def test_metrics_go_with_their_project_and_outlive_agents_and_tasks(uow: UnitOfWork) -> None:
    keel, other = factories.project(uow), factories.project(uow, "Other")
    record(uow, keel, TOKENS, 1, agent_id="gone-agent", task_id="gone-task")
    record(uow, keel, QA, 2)
    kept = record(uow, other, TOKENS, 3)
    removed = uow.projects.delete(keel.id)
    assert removed["metrics"] == 2
    assert uow.metrics.list() == [kept]


def populate(uow: UnitOfWork) -> tuple[Project, Project]:
    keel, other = factories.project(uow), factories.project(uow, "Other")
    for i in range(12):
        record(uow, keel, TOKENS, 100 * (i + 1), i, agent_id=f"agent-{'ab'[i % 2]}")
        record(uow, other, TOKENS, 7 + i, i, agent_id="agent-c" if i % 3 else None)
        record(uow, keel, DURATION, float([5, 1, 3, 3, 9, 2, 8, 3, 7, 4, 6, 10][i]), i)
        record(uow, other, DURATION, 0.5 * (i % 4), i)
        record(uow, keel, QA, 1 + i % 2, i, task_id=f"task-{i % 3}" if i != 5 else None)
    return keel, other


def recount(
    uow: UnitOfWork,
    kind: MetricType,
    per: str,
    project: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for metric in uow.metrics.list(type=kind, project_id=project, since=since, until=until):
        key = getattr(metric, per)
        if key is not None:
            totals[key] += metric.value
    return dict(sorted(totals.items()))


RANGES = [
    (None, None),
    (T0 + timedelta(hours=3), None),
    (None, T0 + timedelta(hours=7)),
    (T0 + timedelta(hours=2), T0 + timedelta(hours=9)),
    (T0 + timedelta(days=9), None),
]


@pytest.mark.parametrize(("since", "until"), RANGES)
def test_token_and_qa_totals_agree_with_a_recount(
    uow: UnitOfWork, since: datetime | None, until: datetime | None
) -> None:
    keel, other = populate(uow)
    for project in (keel, other):
        by_agent = uow.metrics.tokens_by_agent(project.id, since=since, until=until)
        assert by_agent == recount(uow, TOKENS, "agent_id", project.id, since, until)
        assert list(by_agent) == sorted(by_agent)
        by_task = uow.metrics.qa_iterations_by_task(project.id, since=since, until=until)
        assert by_task == recount(uow, QA, "task_id", project.id, since, until)
    assert uow.metrics.tokens_by_project(since=since, until=until) == recount(
        uow, TOKENS, "project_id", None, since, until
    )


def test_totals_by_hand(uow: UnitOfWork) -> None:
    keel, _ = populate(uow)
    assert uow.metrics.tokens_by_agent(keel.id) == {"agent-a": 3600.0, "agent-b": 4200.0}
    assert uow.metrics.qa_iterations_by_task(keel.id) == {
        "task-0": 6.0,
        "task-1": 6.0,
        "task-2": 4.0,
    }
    assert uow.metrics.tokens_by_agent("no-such-project") == {}


@pytest.mark.parametrize(("since", "until"), RANGES)
def test_percentiles_agree_with_the_nearest_rank_of_a_recount(
    uow: UnitOfWork, since: datetime | None, until: datetime | None
) -> None:
    keel, other = populate(uow)
    wanted = [0, 1, 25, 50, 75, 90, 99, 100, 33.3]
    found = uow.metrics.task_duration_percentiles(wanted, since=since, until=until)
    expected = {}
    for project in sorted((keel, other), key=lambda p: p.id):
        values = [
            m.value
            for m in uow.metrics.list(
                type=DURATION, project_id=project.id, since=since, until=until
            )
        ]
        if values:
            expected[project.id] = {float(p): nearest_rank(values, p) for p in wanted}
    assert found == expected
    assert list(found) == sorted(found)
    only = uow.metrics.task_duration_percentiles(
        wanted, project_id=keel.id, since=since, until=until
    )
    assert only == {k: v for k, v in expected.items() if k == keel.id}


def test_percentiles_by_hand(uow: UnitOfWork) -> None:
    keel, _ = populate(uow)  # keel's durations sorted: 1 2 3 3 3 4 5 6 7 8 9 10
    assert uow.metrics.task_duration_percentiles(project_id=keel.id) == {
        keel.id: {50.0: 4.0, 90.0: 9.0, 99.0: 10.0}
    }
    assert uow.metrics.task_duration_percentiles([25], project_id=keel.id)[keel.id] == {25.0: 3.0}


def test_aggregates_of_nothing_are_empty(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    assert uow.metrics.tokens_by_agent(project.id) == {}
    assert uow.metrics.tokens_by_project() == {}
    assert uow.metrics.qa_iterations_by_task(project.id) == {}
    assert uow.metrics.task_duration_percentiles() == {}


@pytest.mark.parametrize(
    ("percentiles", "message"),
    [
        ([101], "must be from 0 to 100"),
        ([-1], "must be from 0 to 100"),
        ([math.nan], "must be from 0 to 100"),
        ([50, 10**400], "must be from 0 to 100"),
        ([math.inf], "must be from 0 to 100"),
        ([True], "must hold only numbers"),
        (["50"], "must hold only numbers"),
        ("50", "must be a list of numbers"),
        ([], "must name at least one"),
        (list(range(21)), "must be at most 20"),
    ],
)
def test_bad_percentiles_are_refused(uow: UnitOfWork, percentiles: Any, message: str) -> None:
    with pytest.raises(InvalidValue, match=rf"metric\.percentiles {message}"):
        uow.metrics.task_duration_percentiles(percentiles)


@pytest.mark.parametrize(
    "call",
    [
        lambda uow: uow.metrics.tokens_by_agent("p", since=datetime(2026, 1, 1)),
        lambda uow: uow.metrics.tokens_by_project(until=datetime(2026, 1, 1)),
        lambda uow: uow.metrics.qa_iterations_by_task("bad id!"),
        lambda uow: uow.metrics.list(type="bogus"),
        lambda uow: uow.metrics.list(limit=-1),
    ],
)
def test_bad_filters_are_refused(uow: UnitOfWork, call: Any) -> None:
    with pytest.raises(InvalidValue, match=r"metric\."):
        call(uow)
