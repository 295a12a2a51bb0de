"""Claiming ready tasks with leases (`tasks.claim_next_ready`, `tasks.renew_lease`,
`services.planning.claim_next_ready_task`), on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

import pytest

from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import Conflict, InvalidValue, LeaseLost, NotFound
from agentkeel.domain.planning import TaskStatus
from agentkeel.domain.planning.events import (
    TaskAssigned,
    TaskCrashed,
    TaskFailed,
    TaskNeedsAttention,
    TaskStarted,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import planning
from tests import factories

LEASE = timedelta(minutes=5)


def near(a: datetime, b: datetime) -> bool:
    """Equal but for the FakeClock's tick of a microsecond per reading."""
    return abs(a - b) < timedelta(milliseconds=1)


def clock_of(uow: UnitOfWork) -> FakeClock:
    return cast(FakeClock, uow.clock)


def test_a_claim_starts_the_first_ready_task_for_the_agent(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    first = factories.task(uow, project, "First", order_index=1)
    second = factories.task(uow, project, "Second", order_index=2)
    waiting = factories.task(uow, project, "Waiting", order_index=0)
    uow.task_dependencies.create(waiting.id, second.id)
    agent = factories.agent(uow)
    claimed = planning.claim_next_ready_task(uow, agent.id, project_id=project.id, lease=LEASE)
    assert claimed is not None and claimed.id == first.id
    assert claimed.status is TaskStatus.IN_PROGRESS and claimed.assigned_agent_id == agent.id
    assert claimed.claimed_until is not None and claimed.started_at is not None
    assert near(claimed.claimed_until, uow.clock.now() + LEASE)
    assert near(claimed.started_at, uow.clock.now())
    assert uow.agents.get(agent.id).task_id == first.id
    assert uow.agents.find_by_task_id(first.id) == uow.agents.get(agent.id)
    events = factories.recorded(uow)
    assert (
        TaskStarted(first.id, project.id) in events and TaskAssigned(first.id, agent.id) in events
    )


def test_claims_never_hand_one_task_to_two_agents(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    tasks = [factories.task(uow, project, f"T{i}", order_index=i) for i in range(3)]
    agents = [factories.agent(uow, f"agent-{i}") for i in range(4)]
    got = [uow.tasks.claim_next_ready(a.id, LEASE, project_id=project.id) for a in agents]
    assert [t.id if t else None for t in got] == [t.id for t in tasks] + [None]


def test_a_run_out_lease_makes_the_task_claimable_again(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project)
    dead, alive = factories.agent(uow, "dead"), factories.agent(uow, "alive")
    planning.claim_next_ready_task(uow, dead.id, project_id=project.id, lease=LEASE)
    assert planning.claim_next_ready_task(uow, alive.id, project_id=project.id) is None
    clock_of(uow).advance(LEASE + timedelta(seconds=1))
    taken = planning.claim_next_ready_task(uow, alive.id, project_id=project.id, lease=LEASE)
    assert taken is not None and taken.id == task.id and taken.assigned_agent_id == alive.id
    assert taken.started_at is not None and taken.started_at < uow.clock.now()  # kept
    assert uow.agents.get(dead.id).task_id is None
    assert uow.agents.get(alive.id).task_id == task.id
    with pytest.raises(LeaseLost) as lost:
        uow.tasks.renew_lease(task.id, dead.id, LEASE)
    assert not isinstance(lost.value, Conflict)
    assert (lost.value.key, lost.value.agent_id, lost.value.holder) == (task.id, dead.id, alive.id)
    assert str(lost.value) == (
        f"task {task.id!r} is no longer held by agent {dead.id!r}: agent {alive.id!r} holds it"
        " now; stop working on it (a retry cannot win it back)"
    )


def test_renewing_keeps_the_task_held(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project)
    worker, other = factories.agent(uow, "worker"), factories.agent(uow, "other")
    planning.claim_next_ready_task(uow, worker.id, project_id=project.id, lease=LEASE)
    clock_of(uow).advance(LEASE - timedelta(seconds=1))
    renewed = uow.tasks.renew_lease(task.id, worker.id, LEASE)
    assert renewed.claimed_until is not None
    assert near(renewed.claimed_until, uow.clock.now() + LEASE)
    clock_of(uow).advance(timedelta(seconds=2))
    assert planning.claim_next_ready_task(uow, other.id, project_id=project.id) is None


def test_leaving_in_progress_or_the_agent_clears_the_lease(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project)
    agent = factories.agent(uow)
    planning.claim_next_ready_task(uow, agent.id, project_id=project.id, lease=LEASE)
    assert uow.tasks.complete(task.id, "done").claimed_until is None
    uow.tasks.move_to(task.id, TaskStatus.PENDING)
    planning.claim_next_ready_task(uow, agent.id, project_id=project.id, lease=LEASE)
    assert planning.release_task(uow, task.id).claimed_until is None
    with pytest.raises(LeaseLost, match="it is in_progress and nobody holds it"):
        uow.tasks.renew_lease(task.id, agent.id, LEASE)


def test_a_task_past_the_limit_is_blocked_and_no_claim_hands_it_out(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project, retry_count=3)  # at the default limit
    dead, other = factories.agent(uow, "dead"), factories.agent(uow, "other")
    planning.claim_next_ready_task(uow, dead.id, project_id=project.id, lease=LEASE)
    stuck = uow.tasks.record_crash(task.id)
    assert stuck.status is TaskStatus.BLOCKED and stuck.claimed_until is None
    clock_of(uow).advance(LEASE * 2)
    assert planning.claim_next_ready_task(uow, other.id, project_id=project.id) is None


def test_a_lease_taken_over_is_a_crash(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project, "Poison")
    workers = [factories.agent(uow, f"worker-{i}") for i in range(5)]
    first = planning.claim_next_ready_task(uow, workers[0].id, project_id=project.id, lease=LEASE)
    assert first is not None and first.id == task.id
    for count, worker in enumerate(workers[1:4], start=1):
        clock_of(uow).advance(LEASE + timedelta(seconds=1))  # the holder died in its lease
        taken = planning.claim_next_ready_task(uow, worker.id, project_id=project.id, lease=LEASE)
        assert taken is not None and taken.id == task.id
        assert (taken.retry_count, taken.assigned_agent_id) == (count, worker.id)
        assert uow.agents.get(workers[count - 1].id).task_id is None
    # The fourth takeover is one more than tasks.maxCrashRetries (3): the task is blocked.
    clock_of(uow).advance(LEASE + timedelta(seconds=1))
    assert planning.claim_next_ready_task(uow, workers[4].id, project_id=project.id) is None
    blocked = uow.tasks.get(task.id)
    assert (blocked.status, blocked.retry_count) == (TaskStatus.BLOCKED, 4)
    assert blocked.blocked_by == "crashed 4 times (tasks.maxCrashRetries is 3)"
    assert blocked.assigned_agent_id is None and blocked.claimed_until is None
    assert uow.agents.find_by_task_id(task.id) is None
    events = factories.recorded(uow)
    crashes = [e for e in events if isinstance(e, TaskCrashed)]
    assert [(e.retry_count, e.retried, e.agent_id) for e in crashes] == [
        (1, True, workers[0].id),
        (2, True, workers[1].id),
        (3, True, workers[2].id),
        (4, False, workers[3].id),
    ]
    assert sum(isinstance(e, TaskStarted) for e in events) == 4  # one per claim that got it
    assert [e.task_id for e in events if isinstance(e, TaskNeedsAttention)] == [task.id]
    with pytest.raises(LeaseLost, match="it is blocked and nobody holds it"):
        uow.tasks.renew_lease(task.id, workers[3].id, LEASE)


def test_a_worker_whose_task_was_taken_over_cannot_write_about_it(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project)
    dead, alive = factories.agent(uow, "dead"), factories.agent(uow, "alive")
    planning.claim_next_ready_task(uow, dead.id, project_id=project.id, lease=LEASE)
    clock_of(uow).advance(LEASE + timedelta(seconds=1))
    planning.claim_next_ready_task(uow, alive.id, project_id=project.id, lease=LEASE)
    writes: list[Callable[[], object]] = [
        lambda: planning.complete_task(uow, task.id, "late", agent_id=dead.id),
        lambda: planning.fail_task(uow, task.id, "gave up", agent_id=dead.id),
        lambda: planning.release_task(uow, task.id, agent_id=dead.id),
        lambda: uow.tasks.record_crash(task.id, agent_id=dead.id),
        lambda: uow.tasks.renew_lease(task.id, dead.id, LEASE),
    ]
    for write in writes:
        with pytest.raises(LeaseLost) as lost:
            write()
        assert lost.value.holder == alive.id
    held = uow.tasks.get(task.id)
    assert (held.status, held.assigned_agent_id, held.retry_count) == (
        TaskStatus.IN_PROGRESS,
        alive.id,
        1,
    )
    done = planning.complete_task(uow, task.id, "done", agent_id=alive.id)
    assert done.status is TaskStatus.COMPLETED and done.summary == "done"
    after = uow.agents.get(alive.id)
    assert after.task_id is None and after.tasks_completed == 1


def test_a_worker_reports_a_failure(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project)
    worker = factories.agent(uow)
    planning.claim_next_ready_task(uow, worker.id, project_id=project.id, lease=LEASE)
    failed = planning.fail_task(uow, task.id, "the build is broken", agent_id=worker.id)
    assert (failed.status, failed.retry_count) == (TaskStatus.PENDING, 1)
    assert failed.assigned_agent_id is None and failed.claimed_until is None
    after = uow.agents.get(worker.id)
    assert after.task_id is None and after.tasks_failed == 1
    [event] = [e for e in factories.recorded(uow) if isinstance(e, TaskFailed)]
    assert event == TaskFailed(task.id, project.id, worker.id, "the build is broken", 1, True)
    again = planning.claim_next_ready_task(uow, worker.id, project_id=project.id, lease=LEASE)
    assert again is not None and again.id == task.id


def test_an_agent_holding_a_task_cannot_claim_another(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    factories.task(uow, project, "A")
    factories.task(uow, project, "B")
    agent = factories.agent(uow)
    held = planning.claim_next_ready_task(uow, agent.id, project_id=project.id)
    assert held is not None
    with pytest.raises(InvalidValue, match="already holds") as raised:
        planning.claim_next_ready_task(uow, agent.id, project_id=project.id)
    assert raised.value.field == "task_id"


def test_claims_are_scoped(uow: UnitOfWork) -> None:
    project, other = factories.project(uow), factories.project(uow, "Other")
    factories.task(uow, other)
    agent = factories.agent(uow)
    assert uow.tasks.claim_next_ready(agent.id, LEASE, project_id=project.id) is None


@pytest.mark.parametrize("lease", [timedelta(0), timedelta(seconds=-1), 300, None])
def test_bad_leases_and_scopes_are_refused(uow: UnitOfWork, lease: object) -> None:
    project = factories.project(uow)
    factories.task(uow, project)
    agent = factories.agent(uow)
    with pytest.raises(InvalidValue) as raised:
        uow.tasks.claim_next_ready(agent.id, lease, project_id=project.id)  # type: ignore[arg-type]
    assert raised.value.field == "lease"
    with pytest.raises(InvalidValue, match="needs a project"):
        uow.tasks.claim_next_ready(agent.id, LEASE)
    with pytest.raises(NotFound):
        planning.claim_next_ready_task(uow, "nobody", project_id=project.id)
    assert uow.tasks.list(project_id=project.id)[0].status is TaskStatus.PENDING
