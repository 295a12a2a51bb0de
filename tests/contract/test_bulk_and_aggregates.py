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

from agentkeel.database import Database
from agentkeel.domain.agents import AgentLogChunk, Metric, MetricType
from agentkeel.domain.errors import (
    AlreadyExists,
    DependencyCycle,
    InvalidValue,
    ReferenceMissing,
)
from agentkeel.domain.planning import PhaseStatus, Task, TaskDependency, TaskStatus
from agentkeel.domain.workspace import Project, Repository
from agentkeel.ports.store import (
    Aggregate,
    Before,
    Count,
    Eq,
    Max,
    NotNull,
    Percentile,
    RowStore,
    Since,
    Sum,
    Where,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import table_of
from agentkeel.schema.columns import AGENT_LOG_CHUNKS
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


def test_the_greatest_number_of_a_group_follows_every_write(db: Database) -> None:
    """A Max of the column an index ends in, over one group of its leading columns (an
    agent's last chunk number, which the fakes read from the end of an index of their own),
    follows inserts, deletes, a rolled-back savepoint and a unit of work rolled back, and
    is what a recount of the group's rows gives, in a writing and in a read-only unit."""
    highest = [Max(AGENT_LOG_CHUNKS.chunk_number)]

    def last(store: RowStore, agent: str, *more: Where) -> Any:
        where: list[Where] = [Eq(AGENT_LOG_CHUNKS.agent_id, agent), *more]
        ((found,),) = store.aggregate(chunks, highest, where)
        rows = store.select(chunks, where)
        assert found == max((row[AGENT_LOG_CHUNKS.chunk_number] for row in rows), default=None)
        return found

    with db.unit_of_work() as uow:
        store = store_of(uow)
        assert last(store, "a") is None
        uow.agent_log_chunks.append("a", "n", 1, ["x", "y", "z"])
        uow.agent_log_chunks.append("b", "m", 1, ["x"])
        assert (last(store, "a"), last(store, "b"), last(store, "c")) == (3, 1, None)
        assert last(store, "a", Before(AGENT_LOG_CHUNKS.chunk_number, 3)) == 2
        third = store.select(chunks, [Eq(AGENT_LOG_CHUNKS.chunk_number, 3)])[0]
        store.delete(chunks, [Eq(AGENT_LOG_CHUNKS.id, third[AGENT_LOG_CHUNKS.id])])
        assert last(store, "a") == 2
        with pytest.raises(InvalidValue), store.atomic():
            uow.agent_log_chunks.append("a", "n", 1, ["w"])
            assert last(store, "a") == 3
            raise InvalidValue("test", "field", None, "rolls the savepoint back")
        assert last(store, "a") == 2
        uow.commit()
    with db.unit_of_work() as uow:
        uow.agent_log_chunks.append("a", "n", 1, ["w"])
        assert last(store_of(uow), "a") == 3
        with db.unit_of_work(read_only=True) as reader:
            assert last(store_of(reader), "a") == 2  # what was committed
    with db.unit_of_work(read_only=True) as reader:
        assert last(store_of(reader), "a") == 2  # the writer was rolled back


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


# -- add_many: the rules of add, a batch at a time ---------------------------------------


def test_add_many_of_nothing_adds_nothing(uow: UnitOfWork) -> None:
    assert uow.projects.add_many([]) == []
    assert uow.projects.count() == 0


def test_add_many_takes_parents_and_dependencies_from_its_own_batch(uow: UnitOfWork) -> None:
    """A task may name a parent added before it in the same batch, and a dependency may
    join two tasks of one batch; a task given only a phase takes the phase's initiative,
    as `add` does."""
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    phase = factories.phase(uow, initiative)
    parent = Task(project_id=project.id, name="parent", phase_id=phase.id)
    child = Task(project_id=project.id, name="child", parent_task_id=parent.id)
    stored = uow.tasks.add_many([parent, child])
    assert [task.name for task in stored] == ["parent", "child"]
    assert stored[0].initiative_id == initiative.id
    assert uow.tasks.get(child.id).parent_task_id == parent.id
    edges = uow.task_dependencies.add_many(
        [TaskDependency(task_id=child.id, depends_on_task_id=parent.id)]
    )
    assert uow.task_dependencies.get_dependencies(child.id) == [parent.id]
    assert edges[0].created_at is not None


def test_a_batch_refused_midway_writes_nothing_and_names_the_first_refusal(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    other = factories.initiative(uow, project, "Other")
    phase = factories.phase(uow, initiative)
    fine = Task(project_id=project.id, name="fine", phase_id=phase.id)
    wrong = Task(project_id=project.id, name="wrong", phase_id=phase.id, initiative_id=other.id)
    with pytest.raises(InvalidValue) as refused:
        uow.tasks.add_many([fine, wrong, Task(project_id=project.id, name="after")])
    assert refused.value.field == "phase_id"
    missing = Task(project_id=project.id, name="orphan", parent_task_id="no-such-task")
    with pytest.raises(ReferenceMissing):
        uow.tasks.add_many([fine, missing])
    assert uow.tasks.count() == 0


def test_a_batch_of_dependencies_closing_a_cycle_is_refused_whole(uow: UnitOfWork) -> None:
    """Within the batch (a -> b, b -> c, c -> a) and across it and the stored edges."""
    project = factories.project(uow)
    a, b, c, d = (factories.task(uow, project, name) for name in "abcd")

    def edge(waiting: Task, awaited: Task) -> TaskDependency:
        return TaskDependency(task_id=waiting.id, depends_on_task_id=awaited.id)

    with pytest.raises(DependencyCycle) as cycle:
        uow.task_dependencies.add_many([edge(a, b), edge(b, c), edge(c, a)])
    assert cycle.value.path == [c.id, a.id, b.id, c.id]
    assert uow.task_dependencies.count() == 0
    uow.task_dependencies.create(c.id, d.id)
    with pytest.raises(DependencyCycle) as cycle:  # a -> c (stored: c -> d) -> a
        uow.task_dependencies.add_many([edge(d, a), edge(a, c)])
    assert cycle.value.path == [a.id, c.id, d.id, a.id]
    with pytest.raises(DependencyCycle):
        uow.task_dependencies.add_many([edge(d, d)])
    assert uow.task_dependencies.count() == 1
    uow.task_dependencies.add_many([edge(a, b), edge(b, c), edge(a, c)])
    assert uow.task_dependencies.get_dependencies(a.id) == sorted([b.id, c.id])


def test_a_batch_of_tasks_moves_their_phase_as_adds_do(uow: UnitOfWork) -> None:
    """An unfinished task new to a completed phase reopens it (once, for the batch)."""
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    phase = factories.phase(uow, initiative)
    first = factories.task(uow, project, "first", phase_id=phase.id)
    uow.tasks.move_to(first.id, TaskStatus.IN_PROGRESS)
    uow.tasks.move_to(first.id, TaskStatus.COMPLETED)
    assert uow.phases.get(phase.id).status is not PhaseStatus.IN_PROGRESS
    uow.tasks.add_many(
        [Task(project_id=project.id, name=f"more {n}", phase_id=phase.id) for n in range(3)]
    )
    assert uow.phases.get(phase.id).status is PhaseStatus.IN_PROGRESS


def test_a_batch_that_finishes_a_phase_then_adds_to_it_leaves_it_as_adds_would(
    uow: UnitOfWork,
) -> None:
    """Added one by one, a completed task would close the in-progress phase it finishes and
    a pending one after it open it again; completed tasks new to a pending phase leave it
    be. A batch leaves the phases where those adds would."""
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    working, waiting = factories.phase(uow, initiative), factories.phase(uow, initiative, "next")
    first = factories.task(uow, project, "first", phase_id=working.id)
    uow.tasks.move_to(first.id, TaskStatus.IN_PROGRESS)
    assert uow.phases.get(working.id).status is PhaseStatus.IN_PROGRESS
    uow.tasks.move_to(first.id, TaskStatus.COMPLETED)
    assert uow.phases.get(working.id).status is PhaseStatus.PENDING_REVIEW
    uow.phases.move_to(working.id, PhaseStatus.IN_PROGRESS)

    def task(name: str, status: TaskStatus, phase: str) -> Task:
        return Task(project_id=project.id, name=name, status=status, phase_id=phase)

    uow.tasks.add_many(
        [
            task("done", TaskStatus.COMPLETED, working.id),  # finishes the phase
            task("late", TaskStatus.PENDING, working.id),  # opens it again
            task("early", TaskStatus.COMPLETED, waiting.id),
        ]
    )
    assert uow.phases.get(working.id).status is PhaseStatus.IN_PROGRESS
    assert uow.phases.get(waiting.id).status is PhaseStatus.PENDING


def test_a_write_validates_what_skipped_validation(uow: UnitOfWork) -> None:
    """An entity every value of which passed validation is written without validating
    again; one made by `model_copy(update=)` or `model_construct`, which skip validation,
    is validated on its way in, as is a JSON payload changed in place."""
    project = factories.project(uow)
    bad_name = Project(name="fine").model_copy(update={"name": "\x00"})
    with pytest.raises(InvalidValue) as refused:
        uow.projects.add(bad_name)
    assert refused.value.field == "name"
    with pytest.raises(InvalidValue):
        uow.projects.add_many([Project.model_construct(name="")])
    initiative = factories.initiative(uow, project)
    phase = factories.phase(uow, initiative, content={"blocks": []})
    read = uow.phases.get(phase.id)
    assert isinstance(read.content, dict)
    read.content["blocks"] = [float("nan")]  # no JSON value
    with pytest.raises(InvalidValue) as refused:
        uow.phases.update(read)
    assert refused.value.field == "content"
    assert uow.phases.get(phase.id).content == {"blocks": []}
    assert uow.projects.count() == 1
