"""Claiming ready tasks with leases (`tasks.claim_next_ready`, `tasks.renew_lease`,
`services.planning.claim_next_ready_task`), on every backend."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

import pytest

from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import Conflict, InvalidValue, NotFound
from agentkeel.domain.planning import TaskStatus
from agentkeel.domain.planning.events import TaskAssigned, TaskStarted
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
    with pytest.raises(Conflict, match="no longer holds"):
        uow.tasks.renew_lease(task.id, dead.id, LEASE)


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
    with pytest.raises(Conflict):
        uow.tasks.renew_lease(task.id, agent.id, LEASE)


def test_a_crash_retry_frees_the_task_and_past_the_limit_no_lease_hands_it_out(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project, retry_count=3)  # at the default limit
    dead, other = factories.agent(uow, "dead"), factories.agent(uow, "other")
    planning.claim_next_ready_task(uow, dead.id, project_id=project.id, lease=LEASE)
    stuck = uow.tasks.record_crash(task.id)
    assert stuck.status is TaskStatus.IN_PROGRESS and stuck.claimed_until is None
    clock_of(uow).advance(LEASE * 2)
    assert planning.claim_next_ready_task(uow, other.id, project_id=project.id) is None


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
    assert uow.tasks.list(project.id)[0].status is TaskStatus.PENDING
