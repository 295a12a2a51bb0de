"""Planning rules that span aggregates: who holds a task, and a phase following its tasks."""

from __future__ import annotations

from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.planning import (
    ExecutionMode,
    PhaseStatus,
    Task,
    TaskStatus,
)
from agentkeel.domain.planning.events import TaskAssigned
from agentkeel.ports.unit_of_work import UnitOfWork


def assign_task(uow: UnitOfWork, task_id: str, agent_id: str) -> Task:
    """The agent takes the task: `tasks.assigned_agent_id` and `agents.task_id` are written
    together, in the unit of work's transaction (DESIGN: one truth, written in one place).
    The task's previous agent lets go of it, and the task the agent held before is
    released, so an agent holds at most one task and a task one agent. Records
    `TaskAssigned`. Raises NotFound; InvalidValue for a completed task; Conflict when
    another unit of work changed the task or agent meanwhile (retry the unit of work).
    Every check comes before the first write."""
    task = uow.tasks.get(task_id)
    agent = uow.agents.get(agent_id)
    if task.status is TaskStatus.COMPLETED:
        raise InvalidValue(
            "task", "status", task.status.value, "is completed: it cannot be assigned"
        )
    if task.assigned_agent_id not in (None, agent.id):
        previous = uow.agents.find(task.assigned_agent_id)
        if previous is not None and previous.task_id == task.id:
            previous.task_id = None
            uow.agents.update(previous)
    if agent.task_id not in (None, task.id):
        held = uow.tasks.find(agent.task_id)
        if held is not None and held.assigned_agent_id == agent.id:
            held.assigned_agent_id = None
            uow.tasks.update(held)
    agent.task_id = task.id
    uow.agents.update(agent)
    task.assigned_agent_id = agent.id
    assigned = uow.tasks.update(task)
    uow.record(TaskAssigned(task.id, agent.id))
    return assigned


def release_task(uow: UnitOfWork, task_id: str) -> Task:
    """Nobody holds the task any more: its `assigned_agent_id` and its agent's `task_id`
    (if it still points at the task) are cleared together. Records `TaskAssigned` with no
    agent. Raises NotFound."""
    task = uow.tasks.get(task_id)
    if task.assigned_agent_id is not None:
        agent = uow.agents.find(task.assigned_agent_id)
        if agent is not None and agent.task_id == task.id:
            agent.task_id = None
            uow.agents.update(agent)
        task.assigned_agent_id = None
        task = uow.tasks.update(task)
    uow.record(TaskAssigned(task.id, None))
    return task


def complete_task(uow: UnitOfWork, task_id: str, summary: str | None = None) -> Task:
    """Complete the task with its summary (`tasks.complete`); when it was the last open
    task of an in-progress phase, the phase follows (001's review flow): `pending_review`
    if its initiative reviews each phase, else `completed`. Raises NotFound,
    InvalidTransition."""
    task = uow.tasks.complete(task_id, summary)
    if task.phase_id is None:
        return task
    phase = uow.phases.get(task.phase_id)
    if phase.status is not PhaseStatus.IN_PROGRESS:
        return task
    if any(t.status is not TaskStatus.COMPLETED for t in uow.tasks.find_by_phase(phase.id)):
        return task
    initiative = uow.initiatives.get(phase.initiative_id)
    reviewed = initiative.execution_mode is ExecutionMode.REVIEW_PER_PHASE
    uow.phases.move_to(phase.id, PhaseStatus.PENDING_REVIEW if reviewed else PhaseStatus.COMPLETED)
    return task
