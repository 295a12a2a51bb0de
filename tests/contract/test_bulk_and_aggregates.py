"""The store's bulk insert and aggregates, below the ports, alike in every store.

`insert_many` checks each row as `insert` does and writes all of them or none;
`aggregate` computes each kind of aggregate (a `match` ending in `assert_never` in both
stores) as a recount of the rows in Python does, per group, in the groups' order.
"""

from __future__ import annotations

import math
import typing
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agentkeel.domain.agents import AgentLogChunk, Metric, MetricType
from agentkeel.domain.errors import AlreadyExists, InvalidValue, ReferenceMissing
from agentkeel.domain.workspace import Repository
from agentkeel.ports.store import Aggregate, Count, Eq, Max, NotNull, Percentile, Since, Sum
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import table_of
from tests import factories
from tests.factories import store_of

repositories, metrics, chunks = table_of(Repository), table_of(Metric), table_of(AgentLogChunk)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_every_kind_of_aggregate_is_covered_here() -> None:
    assert set(typing.get_args(Aggregate)) == {Count, Sum, Max, Percentile}


def repository_row(project_id: str, name: str, **fields: Any) -> dict[str, Any]:
    return Repository(project_id=project_id, name=name, path=f"/{name}", **fields).to_row() | {
        "created_at": T0,
        "updated_at": T0,
    }


def test_insert_many_writes_every_row(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    rows = [repository_row(project.id, f"r{i}") for i in range(5)]
    store_of(uow).insert_many(repositories, rows)
    assert [r.name for r in uow.repositories.list(project_id=project.id)] == [
        f"r{i}" for i in range(5)
    ]
    store_of(uow).insert_many(repositories, [])
    assert uow.repositories.count() == 5


@pytest.mark.parametrize(
    ("spoil", "error", "message"),
    [
        (lambda rows, p: rows[3].update(name="r0"), AlreadyExists, "name"),
        (lambda rows, p: rows[3].update(id=rows[0]["id"]), AlreadyExists, "id"),
        (lambda rows, p: rows[3].update(project_id="nobody"), ReferenceMissing, "nobody"),
        (lambda rows, p: rows[3].update(name=None), InvalidValue, "name must not be null"),
        (lambda rows, p: rows[3].update(id=p["stored"]), AlreadyExists, "id"),
    ],
)
def test_a_refused_row_leaves_nothing_of_the_batch(
    uow: UnitOfWork, spoil: Any, error: type[Exception], message: str
) -> None:
    project = factories.project(uow)
    stored = factories.repository(uow, project, "stored")
    rows = [repository_row(project.id, f"r{i}") for i in range(5)]
    spoil(rows, {"stored": stored.id})
    with pytest.raises(error, match=message):
        store_of(uow).insert_many(repositories, rows)
    assert [r.name for r in uow.repositories.list()] == ["stored"]
    # The unit of work is still usable, and the batch goes in once it is fixed.
    store_of(uow).insert_many(repositories, [repository_row(project.id, f"r{i}") for i in range(5)])
    assert uow.repositories.count() == 6


def test_the_first_row_refused_names_the_error_as_one_by_one_inserts_would(
    uow: UnitOfWork,
) -> None:
    """Row 1 clashes with row 0 and row 3 holds a bad value: the clash is named, as the
    fakes, inserting in order, meet it first."""
    project = factories.project(uow)
    rows = [repository_row(project.id, f"r{i}") for i in range(5)]
    rows[1]["name"] = "r0"
    rows[3]["name"] = None
    with pytest.raises(AlreadyExists, match="name"):
        store_of(uow).insert_many(repositories, rows)


def metric_rows(project_ids: list[str]) -> list[dict[str, Any]]:
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0, 9.0, 7.0]
    rows = []
    for i, value in enumerate(values):
        metric = Metric(
            project_id=project_ids[i % len(project_ids)],
            agent_id=None if i % 4 == 0 else f"agent-{i % 3}",
            type=MetricType.TOKEN_USAGE if i % 5 else MetricType.TASK_DURATION,
            value=value,
            timestamp=T0 + timedelta(hours=i),
        )
        rows.append(metric.to_row())
    return rows


def recount(rows: list[dict[str, Any]], aggregate: Aggregate) -> Any:
    match aggregate:
        case Count():
            return len(rows)
        case Sum():
            return sum(r[aggregate.column] for r in rows) if rows else None
        case Max():
            return max(r[aggregate.column] for r in rows) if rows else None
        case Percentile():
            ordered = sorted(r[aggregate.column] for r in rows)
            if not ordered:
                return None
            return ordered[max(1, math.ceil(aggregate.fraction * len(ordered))) - 1]


AGGREGATES: list[Aggregate] = [
    Count(),
    Sum("value"),
    Max("value"),
    Max("timestamp"),
    Percentile("value", 0.0),
    Percentile("value", 0.5),
    Percentile("value", 0.9),
    Percentile("value", 1.0),
]


@pytest.mark.parametrize("group_by", [(), ("agent_id",), ("project_id", "type")])
@pytest.mark.parametrize("since", [None, T0 + timedelta(hours=5), T0 + timedelta(days=5)])
def test_aggregates_agree_with_a_recount(
    uow: UnitOfWork, group_by: tuple[str, ...], since: datetime | None
) -> None:
    projects = [factories.project(uow, name).id for name in ("a", "b", "c")]
    rows = metric_rows(projects)
    store = store_of(uow)
    store.insert_many(metrics, rows)
    where = [] if since is None else [Since("timestamp", since)]
    found = store.aggregate(metrics, AGGREGATES, where, group_by)
    matching = [r for r in rows if since is None or r["timestamp"] >= since]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {} if group_by else {(): []}
    for row in matching:
        groups.setdefault(tuple(row[c] for c in group_by), []).append(row)
    order = sorted(groups, key=lambda key: [(v is not None, v or "") for v in key])
    expected = [(*key, *(recount(groups[key], a) for a in AGGREGATES)) for key in order]
    assert found == expected


def test_counts_and_sums_of_whole_numbers_are_ints(uow: UnitOfWork) -> None:
    store = store_of(uow)
    uow.agent_log_chunks.append("a", "n", 2, ["x", "y"])
    uow.agent_log_chunks.append("b", "n", 5, ["z"])
    found = store.aggregate(
        chunks,
        [Count(), Sum("chunk_number"), Max("session_number")],
        [NotNull("agent_id")],
        ["agent_id"],
    )
    assert found == [("a", 2, 3, 2), ("b", 1, 1, 5)]
    assert all(type(value) is int for row in found for value in row[1:])
    assert store.aggregate(chunks, [Count(), Sum("chunk_number")], [Eq("agent_id", "none")]) == [
        (0, None)
    ]


def test_add_many_obeys_exclusive_flags_as_add_does(uow: UnitOfWork) -> None:
    """Two repositories of one project both added as its default: the second's flag clears
    the first's, as two `add` calls would."""
    from agentkeel.repositories.unit_of_work import BaseUnitOfWork

    assert isinstance(uow, BaseUnitOfWork)
    project = factories.project(uow)
    added = uow.repositories.add_many(
        [
            Repository(project_id=project.id, name=name, path=f"/{name}", set_as_default_at=T0)
            for name in ("api", "web")
        ]
    )
    assert [r.name for r in added] == ["api", "web"]
    default = uow.repositories.default_of(project.id)
    assert default is not None and default.name == "web"
    assert not uow.repositories.get(added[0].id).is_default


def test_a_read_only_unit_of_work_refuses_a_bulk_insert(uow: UnitOfWork) -> None:
    from agentkeel.domain.errors import ReadOnly
    from agentkeel.repositories.read_only import ReadOnlyStore

    project = factories.project(uow)
    with pytest.raises(ReadOnly):
        ReadOnlyStore(store_of(uow)).insert_many(repositories, [repository_row(project.id, "r")])
    assert uow.repositories.count() == 0
