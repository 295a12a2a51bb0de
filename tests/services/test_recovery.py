"""Recovery after a crash of the orchestrator (`services.recovery.recover`), on every
backend."""

from __future__ import annotations

import pytest

from agentkeel.domain.agents import Agent, AgentStatus
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.planning import TaskStatus
from agentkeel.domain.workflows import PauseBehavior, StepStatus, WorkflowStatus
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
    assert stuck.status is TaskStatus.BLOCKED and stuck.claimed_until is None
    assert stuck.blocked_by == "crashed 4 times (tasks.maxCrashRetries is 3)"
    assert stuck.assigned_agent_id is None and uow.agents.get(dead.id).task_id is None
    assert uow.tasks.needing_attention(project_id=project.id) == [stuck]
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


@pytest.mark.parametrize(
    ("behavior", "expected"),
    [
        (PauseBehavior.AUTO_PAUSE, WorkflowStatus.PAUSED),
        (PauseBehavior.GATES_ONLY, WorkflowStatus.PAUSED),
        (PauseBehavior.CONTINUOUS, WorkflowStatus.FAILED),
    ],
)
def test_workflows_left_running_fail_their_step_and_pause_or_fail(
    uow: UnitOfWork, behavior: PauseBehavior, expected: WorkflowStatus
) -> None:
    project = factories.project(uow)
    workflow = factories.workflow(uow, project, pause_behavior=behavior)
    step = factories.step(uow, workflow, 1)
    uow.workflows.start(workflow.id)
    uow.workflow_steps.start(step.id)
    between = factories.workflow(uow, project, name="Between", pause_behavior=behavior)
    uow.workflows.start(between.id)

    done = recover(uow, [])

    assert done.failed_steps == [step.id]
    assert uow.workflow_steps.get(step.id).status is StepStatus.FAILED
    assert uow.workflows.get(workflow.id).status is expected
    assert uow.workflows.get(between.id).status is expected
    stopped = sorted([workflow.id, between.id])
    if expected is WorkflowStatus.PAUSED:
        assert sorted(done.paused_workflows) == stopped and done.failed_workflows == []
    else:
        assert sorted(done.failed_workflows) == stopped and done.paused_workflows == []
    trail = uow.workflows.audit_trail(workflow.id)
    assert trail[-1].after_state is not None
    assert not recover(uow, []).changed
