"""Recovery: mend what a process that is gone left behind (a crash of the orchestrator, of an
agent's process, of a worker), at start-up or at any moment while the orchestrator runs,
without touching live work."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar, assert_never

from agentkeel.domain.agents import Agent, AgentStatus
from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.errors import InvalidValue, NotSupported
from agentkeel.domain.planning import Task, TaskStatus
from agentkeel.domain.workflows import (
    ENDED_WORKFLOW_STATUSES,
    StepStatus,
    WorkflowStatus,
    WorkflowStep,
)
from agentkeel.ports.unit_of_work import UnitOfWork

# Agents in these states have a process that should be alive.
_LIVE = (AgentStatus.RUNNING, AgentStatus.WAITING_FOR_INPUT)
# A step's runner agent in one of these has no process running the step any more.
_GONE = frozenset({AgentStatus.STOPPED, AgentStatus.CRASHED})
_PAGE = 500
# The largest process id (`pid_t` is a C int).
_MAX_PID = 2**31 - 1
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
        """Whether recovery changed anything at all."""
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


def pid_is_alive(pid: int) -> bool:
    """Whether a process with id `pid` exists on this host now, as `kill(pid, 0)` says (no
    signal is sent): one owned by another user (PermissionError) is alive; 0, negative ids
    (process groups, to `kill`) and ids past `pid_t`'s range never are. A process that has
    exited but that its parent has not reaped yet (a zombie) still counts as alive: a
    coordinator reaps the agents it starts. Pass it to `recover` on the host where the
    agents run.

    Raises InvalidValue for a pid that is not a whole number; NotSupported on Windows, where
    `os.kill(pid, 0)` would end the process (tell `recover` the live pids instead)."""
    if not isinstance(pid, int) or isinstance(pid, bool):
        raise InvalidValue("process", "pid", pid, "must be a whole number (a process id)")
    if sys.platform == "win32":
        raise NotSupported(
            "pid_is_alive",
            "Windows",
            "os.kill(pid, 0) ends the process there; pass recover() the ids of the live "
            "processes instead",
        )
    if not 0 < pid <= _MAX_PID:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, and belongs to another user
    return True


def recover(uow: UnitOfWork, live_pids: Iterable[int] | Callable[[int], bool]) -> Recovery:
    """Reconcile the database with the processes that are really alive. It touches only
    what belonged to a process that is gone, and takes nothing without a recorded owner for
    dead, so a coordinator may call it at start-up or at any moment while it runs, as often
    as it likes, without harming live work. One unit of work: commit it.

    `live_pids` is either the ids of the live processes, or a function answering, for one
    pid, whether that process is alive (`pid_is_alive`, on the host where the agents run).
    The function is asked when each row is checked, just after the row is read again: a
    list of this host's processes taken before the rows are read misses an agent started
    in between and takes it for dead, while a process whose pid is in a row read first,
    and that is asked about afterwards, existed before the question.

    - An agent marked running or waiting for input whose `pid` is not alive becomes
      crashed, with the reason "process gone at recovery". An agent without a pid is left
      as it is: nothing says whose process it would be.
    - That agent's in-progress task follows the crash rule (`tasks.record_crash`): back to
      pending while retries are left, else blocked for a person (`blocked_by` says why);
      either way it is released (neither it nor the agent points at the other any more)
      and its lease is gone, so no claim hands the task to the dead.
    - A running step whose runner is gone fails ("its runner is gone ..."): its runner
      agent is stopped or crashed (also crashed by this very call), or its runner pid is
      not alive. Its workflow follows as the step repository says: a running workflow
      pauses for a person, or fails under `continuous`. A running step without a recorded
      runner is left alone, and so is one of a completed, failed or cancelled workflow
      (its steps do not move). A workflow running between steps has no recorded owner
      and is left alone.
    - Every change writes an audit entry (`recovery.*` for agents and tasks, the steps' and
      workflows' own, with before and after state); when nothing is gone nothing is
      written, not even an `updated_at`. Running it again changes nothing.

    Raises InvalidValue for a pid in `live_pids` that is not a whole number (before
    anything is written), or an answer of the function that is not True or False (roll the
    unit of work back); Conflict when a row it changes was changed meanwhile by another
    unit of work, or InvalidTransition when a step's workflow ended meanwhile (retry the
    unit of work)."""
    alive = _liveness(live_pids)
    done = Recovery()
    listed = partial(uow.agents.list, include_dismissed=True)
    for agent in [a for status in _LIVE for a in _all(partial(listed, status=status))]:
        _recover_agent(uow, agent.id, alive, done)
    for step in _all(partial(uow.workflow_steps.list, status=StepStatus.RUNNING)):
        _recover_step(uow, step.id, alive, done)
    return done


def _liveness(live_pids: Iterable[int] | Callable[[int], bool]) -> Callable[[int], bool]:
    """One question for both forms of `live_pids`, its answers checked."""
    if callable(live_pids):
        ask = live_pids

        def answer(pid: int) -> bool:
            said = ask(pid)
            if not isinstance(said, bool):
                raise InvalidValue(
                    "recovery", "live_pids", said, f"must answer True or False (for pid {pid})"
                )
            return said

        return answer
    pids = set()
    for pid in live_pids:
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise InvalidValue("agent", "pid", pid, "must be a whole number (a process id)")
        pids.add(pid)
    return pids.__contains__


def _recover_agent(uow: UnitOfWork, key: str, alive: Callable[[int], bool], done: Recovery) -> None:
    agent = uow.agents.find(key)  # as it is now: the listing may be older than the answer
    if agent is None or agent.status not in _LIVE or agent.pid is None or alive(agent.pid):
        return
    crashed = uow.agents.move_to(agent.id, AgentStatus.CRASHED, "process gone at recovery")
    done.crashed_agents.append(crashed.id)
    _audit(uow, "agent", crashed.id, "recovery.agent_crashed", agent, crashed)
    task = None if agent.task_id is None else uow.tasks.find(agent.task_id)
    if task is not None and _held_by(task, agent):
        _crash_task(uow, task, agent, done)


def _recover_step(uow: UnitOfWork, key: str, alive: Callable[[int], bool], done: Recovery) -> None:
    step = uow.workflow_steps.find(key)
    if step is None or step.status is not StepStatus.RUNNING:
        return
    gone = _gone_runner(uow, step, alive)
    if gone is None:
        return
    workflow = uow.workflows.get(step.workflow_id)
    if workflow.status in ENDED_WORKFLOW_STATUSES:
        return  # its steps do not move
    uow.workflow_steps.fail(step.id, f"its runner is gone ({gone}), found at recovery")
    done.failed_steps.append(step.id)
    if workflow.status is not WorkflowStatus.RUNNING:
        return  # a paused or editing workflow waits for a person already
    after = uow.workflows.get(workflow.id)
    match after.status:
        case WorkflowStatus.PAUSED:
            done.paused_workflows.append(after.id)
        case WorkflowStatus.FAILED:
            done.failed_workflows.append(after.id)
        case (
            WorkflowStatus.CREATED
            | WorkflowStatus.RUNNING
            | WorkflowStatus.EDITING
            | WorkflowStatus.COMPLETED
            | WorkflowStatus.CANCELLED
        ):
            raise AssertionError(f"a running workflow whose step failed is {after.status}")
        case _:
            assert_never(after.status)


def _gone_runner(uow: UnitOfWork, step: WorkflowStep, alive: Callable[[int], bool]) -> str | None:
    """Why the step's recorded runner is gone, or None if it is not (or none is recorded)."""
    if step.runner_agent_id is not None:
        agent = uow.agents.find(step.runner_agent_id)
        if agent is not None and agent.status in _GONE:
            return f"agent {agent.name!r} is {agent.status.value}"
    if step.runner_pid is not None and not alive(step.runner_pid):
        return f"process {step.runner_pid} is not alive"
    return None


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
