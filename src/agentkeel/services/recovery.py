"""Recovery after a crash of the orchestrator: one call at application start-up mends
what the crash left behind."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from agentkeel.domain.agents import Agent, AgentStatus
from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.planning import Task, TaskStatus
from agentkeel.domain.workflows import StepStatus, Workflow, WorkflowStatus, pauses_on_failure
from agentkeel.ports.unit_of_work import UnitOfWork

# Agents in these states have a process that should be alive.
_LIVE = (AgentStatus.RUNNING, AgentStatus.WAITING_FOR_INPUT)
_PAGE = 500
_STOPPED = "the orchestrator stopped while it ran (found at recovery)"
T = TypeVar("T")
_MESSAGES = {
    "recovery.agent_crashed": "crashed (its process is gone)",
    "recovery.task_retried": "back to pending (its agent crashed)",
    "recovery.task_needs_attention": "needs a person (its agent crashed too often)",
}


@dataclass
class Recovery:
    """What `recover` changed, by id."""

    crashed_agents: list[str] = field(default_factory=list)
    retried_tasks: list[str] = field(default_factory=list)
    tasks_needing_attention: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    paused_workflows: list[str] = field(default_factory=list)
    failed_workflows: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.crashed_agents,
                self.retried_tasks,
                self.tasks_needing_attention,
                self.failed_steps,
                self.paused_workflows,
                self.failed_workflows,
            )
        )


def recover(uow: UnitOfWork, live_pids: Iterable[int]) -> Recovery:
    """Reconcile the database with the processes that are really alive, after a crash of
    the orchestrator; meant for application start-up, in one unit of work (commit it).

    - An agent marked running or waiting for input whose `pid` is not in `live_pids` (or
      that has none) becomes crashed, with the reason "process gone at recovery".
    - Its in-progress task follows the crash rule (`tasks.record_crash`): back to pending
      while retries are left, else blocked for a person (`blocked_by` says why); either
      way it is released (neither it nor the agent points at the other any more) and its
      lease is gone, so no claim hands the task to the dead.
    - A step left running fails ("the orchestrator stopped while it ran"), and its workflow
      follows as its pause behaviour says: paused for a person, or failed under
      `continuous`. A workflow left running between steps goes the same way.
    - Every change writes an audit entry (the workflows' and steps' own, with before and
      after state). Running it again changes nothing.

    Raises InvalidValue for a pid that is not a whole number."""
    pids = set()
    for pid in live_pids:
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise InvalidValue("agent", "pid", pid, "must be a whole number (a process id)")
        pids.add(pid)
    done = Recovery()
    for agent in _agents_gone(uow, pids):
        crashed = uow.agents.move_to(agent.id, AgentStatus.CRASHED, "process gone at recovery")
        done.crashed_agents.append(crashed.id)
        _audit(uow, "agent", crashed.id, "recovery.agent_crashed", agent, crashed)
        task = None if agent.task_id is None else uow.tasks.find(agent.task_id)
        if task is not None and _held_by(task, agent):
            _crash_task(uow, task, agent, done)
    running = partial(uow.workflows.list, status=WorkflowStatus.RUNNING, include_archived=True)
    for workflow in _all(running):
        _stop_workflow(uow, workflow, done)
    return done


def _stop_workflow(uow: UnitOfWork, workflow: Workflow, done: Recovery) -> None:
    for step in uow.workflow_steps.find_by_workflow(workflow.id):
        if step.status is StepStatus.RUNNING:
            uow.workflow_steps.fail(step.id, _STOPPED)
            done.failed_steps.append(step.id)
    after = uow.workflows.get(workflow.id)
    if after.status is WorkflowStatus.RUNNING:  # between steps: no step failed for it
        if pauses_on_failure(after.pause_behavior):
            after = uow.workflows.pause(after.id)
        else:
            after = uow.workflows.fail(after.id, _STOPPED)
    match after.status:
        case WorkflowStatus.PAUSED:
            done.paused_workflows.append(after.id)
        case WorkflowStatus.FAILED:
            done.failed_workflows.append(after.id)
        case _:
            raise AssertionError(f"a stopped workflow is {after.status}")


def _agents_gone(uow: UnitOfWork, pids: set[int]) -> list[Agent]:
    return [
        agent
        for status in _LIVE
        for agent in _all(partial(uow.agents.list, status=status, include_dismissed=True))
        if agent.pid is None or agent.pid not in pids
    ]


def _all(page: Callable[..., list[T]]) -> list[T]:
    """Every row a paged finder (taking `limit` and `offset`) returns, read page by page
    before any is changed."""
    rows: list[T] = []
    while found := page(limit=_PAGE, offset=len(rows)):
        rows += found
    return rows


def _held_by(task: Task, agent: Agent) -> bool:
    return task.status is TaskStatus.IN_PROGRESS and task.assigned_agent_id == agent.id


def _crash_task(uow: UnitOfWork, task: Task, agent: Agent, done: Recovery) -> None:
    after = uow.tasks.record_crash(task.id, agent_id=agent.id)
    if after.status is TaskStatus.PENDING:
        done.retried_tasks.append(after.id)
        event = "recovery.task_retried"
    else:
        done.tasks_needing_attention.append(after.id)
        event = "recovery.task_needs_attention"
    _audit(uow, "task", after.id, event, task, after)


def _audit(
    uow: UnitOfWork, kind: str, key: str, event: str, before: Agent | Task, after: Agent | Task
) -> None:
    uow.audit_logs.add(
        AuditEntry(
            entity_type=kind,
            entity_id=key,
            event_type=event,
            event_category=EventCategory.RECORD,
            message=f"Recovery after a crash: {kind} {key!r} {_MESSAGES[event]}",
            before_state=before.audit_state(),
            after_state=after.audit_state(),
            source=uow.source,
        )
    )
