"""Recovery after a crash of the orchestrator (`services.recovery.recover`), on every
backend."""

from __future__ import annotations

import pytest

from agentkeel.domain.agents import Agent, AgentStatus
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.planning import TaskStatus
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import planning
from agentkeel.services.recovery import recover
from tests import factories


def running(
    uow: UnitOfWork, name: str, pid: int | None, status: AgentStatus = AgentStatus.RUNNING
) -> Agent:
    agent = factories.agent(uow, name, pid=pid)
    uow.agents.move_to(agent.id, AgentStatus.RUNNING)
    if status is not AgentStatus.RUNNING:
        uow.agents.move_to(agent.id, status)
    return uow.agents.get(agent.id)


def test_agents_whose_process_is_gone_crash_and_their_tasks_are_retried(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project)
    dead = running(uow, "dead", 101)
    alive = running(uow, "alive", 202)
    waiting = running(uow, "waiting", None, AgentStatus.WAITING_FOR_INPUT)
    idle = factories.agent(uow, "idle", pid=303)
    planning.claim_next_ready_task(uow, dead.id, project_id=project.id)

    done = recover(uow, [202])

    assert sorted(done.crashed_agents) == sorted([dead.id, waiting.id])
    assert done.retried_tasks == [task.id] and done.tasks_needing_attention == []
    assert uow.agents.get(dead.id).status is AgentStatus.CRASHED
    assert uow.agents.get(dead.id).termination_reason == "process gone at recovery"
    assert uow.agents.get(dead.id).task_id is None
    assert uow.agents.get(alive.id).status is AgentStatus.RUNNING
    assert uow.agents.get(idle.id).status is AgentStatus.IDLE
    retried = uow.tasks.get(task.id)
    assert retried.status is TaskStatus.PENDING and retried.retry_count == 1
    assert retried.assigned_agent_id is None and retried.claimed_until is None
    trail = uow.audit_logs.list(event_type="recovery.agent_crashed")
    assert {e.entity_id for e in trail} == {dead.id, waiting.id}
    [entry] = uow.audit_logs.list(event_type="recovery.task_retried")
    assert isinstance(entry.before_state, dict) and isinstance(entry.after_state, dict)
    assert entry.before_state["status"] == "in_progress"
    assert entry.after_state["status"] == "pending"


def test_a_task_past_its_crash_retries_is_left_for_a_person(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project, retry_count=3)
    dead = running(uow, "dead", 101)
    planning.claim_next_ready_task(uow, dead.id, project_id=project.id)
    done = recover(uow, [])
    assert done.tasks_needing_attention == [task.id]
    stuck = uow.tasks.get(task.id)
    assert stuck.status is TaskStatus.IN_PROGRESS and stuck.claimed_until is None
    assert stuck.assigned_agent_id == dead.id
    assert uow.audit_logs.list(event_type="recovery.task_needs_attention")


def test_recovering_twice_changes_nothing_the_second_time(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    factories.task(uow, project)
    dead = running(uow, "dead", 101)
    planning.claim_next_ready_task(uow, dead.id, project_id=project.id)
    assert recover(uow, []).changed
    entries = uow.audit_logs.count()
    again = recover(uow, [])
    assert not again.changed and uow.audit_logs.count() == entries


@pytest.mark.parametrize("pid", ["101", 1.5, None, True])
def test_a_pid_that_is_not_a_whole_number_is_refused(uow: UnitOfWork, pid: object) -> None:
    dead = running(uow, "dead", 101)
    with pytest.raises(InvalidValue) as raised:
        recover(uow, [pid])  # type: ignore[list-item]
    assert raised.value.field == "pid"
    assert uow.agents.get(dead.id).status is AgentStatus.RUNNING
