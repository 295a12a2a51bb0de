"""Recovery (`services.recovery.recover`), on every backend: what belonged to a process
that is gone is mended, live work and rows without a recorded owner are left exactly as
they were; and `pid_is_alive`, the question a coordinator passes it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agentkeel import cli
from agentkeel.database import Database
from agentkeel.domain.agents import Agent, AgentStatus
from agentkeel.domain.errors import InvalidValue, NotSupported
from agentkeel.domain.planning import TaskStatus
from agentkeel.domain.workflows import (
    PauseBehavior,
    StepStatus,
    Workflow,
    WorkflowStatus,
    WorkflowStep,
    WorkflowType,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import metadata
from agentkeel.services import planning
from agentkeel.services.recovery import Recovery, pid_is_alive, recover
from tests import factories

# The tables recovery could write.
TABLES = ("agents", "tasks", "workflows", "workflow_steps", "audit_logs")


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
    waiting = running(uow, "waiting", 404, AgentStatus.WAITING_FOR_INPUT)
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


def rows(uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    """Every row recovery could change, as stored (stamps and row versions included)."""
    store = factories.store_of(uow)
    return {
        name: sorted(store.select(metadata.tables[name]), key=lambda row: str(row["id"]))
        for name in TABLES
    }


def running_workflow(
    uow: UnitOfWork, project: Any, name: str, behavior: PauseBehavior = PauseBehavior.AUTO_PAUSE
) -> Workflow:
    # Planning workflows: they take no implementation slot (at most 3 by default).
    workflow = factories.workflow(
        uow, project, WorkflowType.PLANNING, name=name, pause_behavior=behavior
    )
    return uow.workflows.start(workflow.id)


def started_step(
    uow: UnitOfWork, workflow: Workflow, *, agent_id: str | None = None, pid: int | None = None
) -> WorkflowStep:
    step = factories.step(uow, workflow, 1)
    return uow.workflow_steps.start(step.id, agent_id=agent_id, pid=pid)


def test_an_agent_without_a_pid_is_not_taken_for_dead(uow: UnitOfWork) -> None:
    agents = [
        running(uow, "no-pid", None),
        running(uow, "no-pid-waiting", None, AgentStatus.WAITING_FOR_INPUT),
    ]
    before = rows(uow)
    assert not recover(uow, []).changed
    assert [uow.agents.get(a.id).status for a in agents] == [a.status for a in agents]
    assert rows(uow) == before


LIVE = frozenset({202, 303})


@pytest.mark.parametrize(
    "live",
    [LIVE, sorted(LIVE), LIVE.__contains__],
    ids=["a set", "a list", "a question"],
)
def test_a_live_coordinator_leaves_live_work_exactly_as_it_was(
    uow: UnitOfWork, live: Iterable[int] | Callable[[int], bool]
) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project)
    worker = running(uow, "worker", 202)
    planning.claim_next_ready_task(uow, worker.id, project_id=project.id)
    by_agent = started_step(uow, running_workflow(uow, project, "A"), agent_id=worker.id)
    by_pid = started_step(uow, running_workflow(uow, project, "B"), pid=303)
    by_both = started_step(uow, running_workflow(uow, project, "C"), agent_id=worker.id, pid=303)
    unowned = started_step(uow, running_workflow(uow, project, "D"))
    between = running_workflow(uow, project, "E")
    factories.step(uow, between, 1)
    no_pid = running(uow, "no-pid", None)
    factories.agent(uow, "idle", pid=999)  # idle: it runs nothing, its pid is not asked
    uow.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    before = rows(uow)

    for _ in range(3):
        assert recover(uow, live) == Recovery()

    assert rows(uow) == before  # updated_at and row_version included; no audit entry
    assert uow.tasks.get(task.id).status is TaskStatus.IN_PROGRESS
    for step in (by_agent, by_pid, by_both, unowned):
        assert uow.workflow_steps.get(step.id).status is StepStatus.RUNNING
    assert uow.workflows.get(between.id).status is WorkflowStatus.RUNNING
    assert uow.agents.get(no_pid.id).status is AgentStatus.RUNNING


@pytest.mark.parametrize(
    ("behavior", "expected"),
    [
        (PauseBehavior.AUTO_PAUSE, WorkflowStatus.PAUSED),
        (PauseBehavior.GATES_ONLY, WorkflowStatus.PAUSED),
        (PauseBehavior.CONTINUOUS, WorkflowStatus.FAILED),
    ],
)
def test_steps_whose_runner_is_gone_fail_and_their_workflows_follow(
    uow: UnitOfWork, behavior: PauseBehavior, expected: WorkflowStatus
) -> None:
    project = factories.project(uow)
    dead = running(uow, "dead-runner", 101)
    alive = running(uow, "live-runner", 202)
    workflows = [running_workflow(uow, project, name, behavior) for name in "ABC"]
    by_dead_agent = started_step(uow, workflows[0], agent_id=dead.id)
    by_dead_pid = started_step(uow, workflows[1], pid=505)
    by_live_agent_dead_pid = started_step(uow, workflows[2], agent_id=alive.id, pid=606)
    live_work = started_step(uow, running_workflow(uow, project, "D", behavior), agent_id=alive.id)
    steps = [by_dead_agent, by_dead_pid, by_live_agent_dead_pid]

    done = recover(uow, [202])

    assert done.crashed_agents == [dead.id]  # crashed first, then its step fails
    assert sorted(done.failed_steps) == sorted(s.id for s in steps)
    stopped = sorted(w.id for w in workflows)
    if expected is WorkflowStatus.PAUSED:
        assert sorted(done.paused_workflows) == stopped and done.failed_workflows == []
    else:
        assert sorted(done.failed_workflows) == stopped and done.paused_workflows == []
    for step, why in zip(
        steps,
        ["agent 'dead-runner' is crashed", "process 505 is not alive", "process 606 is not alive"],
        strict=True,
    ):
        failed = uow.workflow_steps.get(step.id)
        assert failed.status is StepStatus.FAILED
        assert failed.error_message == f"its runner is gone ({why}), found at recovery"
        assert (failed.runner_agent_id, failed.runner_pid) == (
            step.runner_agent_id,
            step.runner_pid,
        )  # kept: the record of who ran it
    for workflow in workflows:
        assert uow.workflows.get(workflow.id).status is expected
        trail = [e.event_type for e in uow.workflows.audit_trail(workflow.id)]
        assert trail[-2:] == ["workflow_step.failed", f"workflow.{expected.value}"]
    assert uow.workflow_steps.get(live_work.id).status is StepStatus.RUNNING
    assert uow.agents.get(alive.id).status is AgentStatus.RUNNING

    after = rows(uow)
    for _ in range(2):
        assert recover(uow, [202]) == Recovery()
    assert rows(uow) == after


def test_a_step_whose_runner_agent_stopped_fails_and_a_paused_workflow_stays_paused(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    agent = running(uow, "stopper", 202)
    workflow = running_workflow(uow, project, "A", PauseBehavior.CONTINUOUS)
    step = started_step(uow, workflow, agent_id=agent.id)
    uow.agents.move_to(agent.id, AgentStatus.STOPPED)  # its step is still marked running
    uow.workflows.pause(workflow.id)

    done = recover(uow, [202])

    assert done == Recovery(failed_steps=[step.id])
    assert uow.workflow_steps.get(step.id).error_message == (
        "its runner is gone (agent 'stopper' is stopped), found at recovery"
    )
    assert uow.workflows.get(workflow.id).status is WorkflowStatus.PAUSED


def test_a_running_step_of_an_ended_workflow_is_left_alone(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    cancelled = running_workflow(uow, project, "A")
    step = started_step(uow, cancelled, pid=505)
    uow.workflows.cancel(cancelled.id)
    before = rows(uow)
    assert recover(uow, []) == Recovery()
    assert rows(uow) == before
    assert uow.workflow_steps.get(step.id).status is StepStatus.RUNNING


def test_the_question_is_asked_of_each_row_it_checks(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    agent = running(uow, "asked", 202)
    running(uow, "not-asked", None)
    factories.agent(uow, "idle", pid=999)
    started_step(uow, running_workflow(uow, project, "A"), pid=303)
    started_step(uow, running_workflow(uow, project, "B"))
    asked: list[int] = []

    def alive(pid: int) -> bool:
        asked.append(pid)
        return True

    assert recover(uow, alive) == Recovery()
    assert asked == [202, 303]  # agents first, then the steps' runners
    assert uow.agents.get(agent.id).status is AgentStatus.RUNNING
    with pytest.raises(InvalidValue) as error:
        recover(uow, lambda pid: None)  # type: ignore[arg-type,return-value]
    assert error.value.field == "live_pids"
    assert uow.agents.get(agent.id).status is AgentStatus.RUNNING


def test_recovery_with_pid_is_alive_tells_live_processes_from_gone_ones(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as child:
        try:
            live = running(uow, "live", child.pid)
            gone = running(uow, "gone", reaped_pid())
            step = started_step(uow, running_workflow(uow, project, "A"), pid=os.getpid())
            done = recover(uow, pid_is_alive)
            assert done.crashed_agents == [gone.id]
            assert uow.agents.get(live.id).status is AgentStatus.RUNNING
            assert uow.workflow_steps.get(step.id).status is StepStatus.RUNNING
        finally:
            child.kill()


def reaped_pid() -> int:
    """The id of a process that has exited and been reaped."""
    with subprocess.Popen([sys.executable, "-c", "pass"]) as child:
        child.wait()
    return child.pid


def test_pid_is_alive_asks_the_operating_system() -> None:
    assert pid_is_alive(os.getpid())
    assert pid_is_alive(1)  # init: alive, whoever owns it (PermissionError counts as alive)
    assert not pid_is_alive(reaped_pid())
    for group_or_out_of_range in (0, -1, -os.getpid(), 2**31, 2**63):
        assert not pid_is_alive(group_or_out_of_range)
    for bad in ("1", 1.5, True, None):
        with pytest.raises(InvalidValue) as error:
            pid_is_alive(bad)  # type: ignore[arg-type]
        assert error.value.field == "pid"


def test_pid_is_alive_refuses_to_run_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")  # os.kill(pid, 0) would end the process
    with pytest.raises(NotSupported):
        pid_is_alive(os.getpid())


def test_the_recover_command_mends_a_database_with_this_hosts_processes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "agentkeel.db")
    with Database.open(path) as db, db.unit_of_work() as uow:
        gone = running(uow, "gone", reaped_pid())
        live = running(uow, "live", os.getpid())
        uow.commit()
    assert cli.main(["recover", path]) == 0
    out = capsys.readouterr().out
    assert "crashed agents: 1" in out
    with Database.open(path) as db, db.unit_of_work() as uow:
        assert uow.agents.get(gone.id).status is AgentStatus.CRASHED
        assert uow.agents.get(live.id).status is AgentStatus.RUNNING
    assert cli.main(["recover", path]) == 0
    assert "nothing to recover" in capsys.readouterr().out
