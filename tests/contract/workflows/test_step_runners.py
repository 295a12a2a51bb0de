"""The runner of a workflow step (`runner_agent_id`, `runner_pid`): named by each run,
kept as a record once the step leaves running, checked on every path; and the steps of
a completed, failed or cancelled workflow, which do not move. On every backend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agentkeel.domain.agents import Agent, AgentStatus
from agentkeel.domain.errors import InvalidTransition, InvalidValue, ReferenceMissing
from agentkeel.domain.workflows import (
    PauseBehavior,
    StepStatus,
    Workflow,
    WorkflowStatus,
    WorkflowStep,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories

S = StepStatus
W = WorkflowStatus


def _running(uow: UnitOfWork, behavior: PauseBehavior = PauseBehavior.CONTINUOUS) -> Workflow:
    workflow = factories.workflow(uow, factories.project(uow), pause_behavior=behavior)
    return uow.workflows.start(workflow.id)


def _agent(uow: UnitOfWork, name: str, status: AgentStatus = AgentStatus.RUNNING) -> Agent:
    agent = factories.agent(uow, name, pid=4242)
    if status is not AgentStatus.IDLE:
        uow.agents.move_to(agent.id, AgentStatus.RUNNING)
    if status not in (AgentStatus.IDLE, AgentStatus.RUNNING):
        uow.agents.move_to(agent.id, status)
    return uow.agents.get(agent.id)


def _runner(step: WorkflowStep) -> tuple[str | None, int | None]:
    return step.runner_agent_id, step.runner_pid


# -- the runner ----------------------------------------------------------------------------


def test_each_run_names_its_runner_and_the_last_one_stays_as_a_record(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    first, second = _agent(uow, "first-otter"), _agent(uow, "second-heron")
    step = factories.step(uow, workflow, 1)
    assert _runner(step) == (None, None)
    started = uow.workflow_steps.start(step.id, agent_id=first.id, pid=101)
    assert _runner(started) == (first.id, 101)
    assert _runner(uow.workflow_steps.pause(step.id)) == (first.id, 101)  # the record
    # A new run names its own: none given is none recorded, whoever ran it before.
    assert _runner(uow.workflow_steps.resume(step.id)) == (None, None)
    uow.workflow_steps.edit(step.id)
    assert _runner(uow.workflow_steps.resume(step.id, pid=202)) == (None, 202)
    failed = uow.workflow_steps.fail(step.id, "exit 1")  # continuous: the workflow fails
    assert _runner(failed) == (None, 202)
    uow.workflows.retry(workflow.id)
    retried = uow.workflow_steps.retry(step.id, agent_id=second.id)
    assert _runner(retried) == (second.id, None) and retried.retry_count == 1
    done = uow.workflow_steps.complete(step.id, output_text="ok")
    assert _runner(done) == (second.id, None)
    assert [s.id for s in uow.workflow_steps.list(runner_agent_id=second.id)] == [step.id]
    # The audit entries carry the runner in their states.
    trail = [e for e in uow.workflows.audit_trail(workflow.id) if e.entity_id == step.id]
    assert isinstance(trail[0].after_state, dict)
    assert trail[0].after_state["runner_agent_id"] == first.id
    assert trail[0].after_state["runner_pid"] == 101


def test_the_same_runner_may_resume_by_naming_itself(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    agent = _agent(uow, "brave-otter")
    step = factories.step(uow, workflow, 1)
    uow.workflow_steps.start(step.id, agent_id=agent.id, pid=7)
    uow.workflow_steps.pause(step.id)
    resumed = uow.workflow_steps.resume(step.id, agent_id=agent.id, pid=7)
    assert _runner(resumed) == (agent.id, 7)


def test_update_into_running_takes_the_runner_it_writes_never_the_last_runs(
    uow: UnitOfWork,
) -> None:
    workflow = _running(uow)
    agent, other = _agent(uow, "brave-otter"), _agent(uow, "calm-heron")
    step = factories.step(uow, workflow, 1)
    uow.workflow_steps.start(step.id, agent_id=agent.id, pid=11)
    paused = uow.workflow_steps.pause(step.id)
    paused.status = S.RUNNING  # the runner columns left as they were: no runner
    assert _runner(uow.workflow_steps.update(paused)) == (None, None)
    uow.workflow_steps.pause(step.id)
    again = uow.workflow_steps.get(step.id)
    again.status, again.runner_agent_id = S.RUNNING, other.id
    assert _runner(uow.workflow_steps.update(again)) == (other.id, None)
    # While it runs, an update hands it over.
    handed = uow.workflow_steps.get(step.id)
    handed.runner_agent_id, handed.runner_pid = agent.id, 12
    assert _runner(uow.workflow_steps.update(handed)) == (agent.id, 12)
    # A step added running has the runner it was added with.
    added = factories.step(uow, workflow, 2, status=S.RUNNING, runner_pid=13)
    assert _runner(added) == (None, 13)


def test_the_runner_of_a_step_that_is_not_running_does_not_change(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    agent = _agent(uow, "brave-otter")
    step = factories.step(uow, workflow, 1)
    pending = uow.workflow_steps.get(step.id)
    pending.runner_pid = 5
    with pytest.raises(InvalidValue) as error:
        uow.workflow_steps.update(pending)
    assert error.value.field == "runner_pid"
    uow.workflow_steps.start(step.id, agent_id=agent.id)
    done = uow.workflow_steps.complete(step.id)
    done.runner_agent_id = None
    with pytest.raises(InvalidValue) as error:
        uow.workflow_steps.update(done)
    assert error.value.field == "runner_agent_id"
    assert "record" in str(error.value)
    # Leaving running and changing the runner in one write is refused too.
    other = factories.step(uow, workflow, 2)
    uow.workflow_steps.start(other.id, pid=3)
    leaving = uow.workflow_steps.get(other.id)
    leaving.status, leaving.runner_pid = S.COMPLETED, 4
    with pytest.raises(InvalidValue) as error:
        uow.workflow_steps.update(leaving)
    assert error.value.field == "runner_pid"
    with pytest.raises(InvalidValue) as error:
        factories.step(uow, workflow, 3, runner_agent_id=agent.id)
    assert error.value.field == "runner_agent_id"
    assert uow.workflow_steps.count() == 2


def test_a_runner_agent_must_exist_and_not_be_stopped_or_crashed(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    step = factories.step(uow, workflow, 1)
    with pytest.raises(ReferenceMissing) as missing:
        uow.workflow_steps.start(step.id, agent_id="no-such-agent")
    assert missing.value.field == "runner_agent_id"
    for status in (AgentStatus.STOPPED, AgentStatus.CRASHED):
        gone = _agent(uow, f"gone-{status.value}", status)
        with pytest.raises(InvalidValue) as error:
            uow.workflow_steps.start(step.id, agent_id=gone.id)
        assert error.value.field == "runner_agent_id"
        assert status.value in str(error.value)
    unchanged = uow.workflow_steps.get(step.id)
    assert unchanged.status is S.PENDING and unchanged.row_version == 1
    idle = _agent(uow, "idle-otter", AgentStatus.IDLE)  # spawned, not yet running: fine
    started = uow.workflow_steps.start(step.id, agent_id=idle.id)
    assert started.runner_agent_id == idle.id
    # A runner that stops later stays the record; completing the step is not refused.
    uow.agents.move_to(idle.id, AgentStatus.RUNNING)
    uow.agents.move_to(idle.id, AgentStatus.STOPPED)
    assert uow.workflow_steps.complete(step.id).runner_agent_id == idle.id


@pytest.mark.parametrize("pid", [0, -5, 2**31, True, "12", 1.5])
def test_a_runner_pid_is_a_positive_whole_number(uow: UnitOfWork, pid: Any) -> None:
    workflow = _running(uow)
    step = factories.step(uow, workflow, 1)
    moves: list[Callable[[], object]] = [
        lambda: uow.workflow_steps.start(step.id, pid=pid),
        lambda: uow.workflow_steps.resume(step.id, pid=pid),
        lambda: uow.workflow_steps.retry(step.id, pid=pid),
    ]
    for move in moves:
        with pytest.raises(InvalidValue) as error:
            move()
        assert error.value.field == "runner_pid"
    assert uow.workflow_steps.get(step.id).status is S.PENDING
    assert uow.workflow_steps.start(step.id, pid=2**31 - 1).runner_pid == 2**31 - 1


def test_deleting_the_runner_agent_clears_it(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    agent = _agent(uow, "brave-otter")
    step = factories.step(uow, workflow, 1)
    uow.workflow_steps.start(step.id, agent_id=agent.id, pid=9)
    uow.agents.delete(agent.id)
    assert _runner(uow.workflow_steps.get(step.id)) == (None, 9)


def test_steps_are_listed_by_workflow_and_number_filtered_by_what_is_given(
    uow: UnitOfWork,
) -> None:
    one, two = _running(uow), _running(uow)
    agent = _agent(uow, "brave-otter")
    steps = [factories.step(uow, w, n) for w in (one, two) for n in (2, 1)]
    uow.workflow_steps.start(steps[1].id, agent_id=agent.id)
    uow.workflow_steps.start(steps[2].id)
    expected = sorted(steps, key=lambda s: (s.workflow_id, s.step_number))
    assert [s.id for s in uow.workflow_steps.list()] == [s.id for s in expected]
    running = uow.workflow_steps.list(status=S.RUNNING)
    assert {s.id for s in running} == {steps[1].id, steps[2].id}
    assert [s.id for s in uow.workflow_steps.list(workflow_id=one.id, status=S.PENDING)] == [
        steps[0].id
    ]
    assert [s.id for s in uow.workflow_steps.list(runner_agent_id=agent.id)] == [steps[1].id]
    paged = uow.workflow_steps.list(limit=2, offset=1)
    assert [s.id for s in paged] == [s.id for s in expected[1:3]]
    with pytest.raises(InvalidValue) as error:
        uow.workflow_steps.list(status="napping")  # type: ignore[arg-type]
    assert error.value.field == "status"


# -- the steps of an ended workflow --------------------------------------------------------


def _steps_in_every_status(uow: UnitOfWork) -> tuple[Workflow, dict[StepStatus, WorkflowStep]]:
    """A continuous workflow with a step in each status; the failed one fails it."""
    workflow = _running(uow)
    made = {status: factories.step(uow, workflow, n) for n, status in enumerate(S, start=1)}
    steps = uow.workflow_steps
    for status in (S.RUNNING, S.PAUSED, S.EDITING, S.COMPLETED, S.FAILED):
        steps.start(made[status].id, pid=77)
    steps.pause(made[S.PAUSED].id)
    steps.edit(made[S.EDITING].id)
    steps.complete(made[S.COMPLETED].id)
    steps.skip(made[S.SKIPPED].id)
    steps.fail(made[S.FAILED].id, "exit 1")
    assert uow.workflows.get(workflow.id).status is W.FAILED
    return workflow, {status: steps.get(step.id) for status, step in made.items()}


# Every move the step machine allows, by the step's status: (name, call).
def _moves(uow: UnitOfWork, key: str, status: StepStatus) -> list[tuple[str, Callable[[], Any]]]:
    steps = uow.workflow_steps
    by_status: dict[StepStatus, list[tuple[str, Callable[[], Any]]]] = {
        S.PENDING: [("start", lambda: steps.start(key, pid=1)), ("skip", lambda: steps.skip(key))],
        S.RUNNING: [
            ("pause", lambda: steps.pause(key)),
            ("edit", lambda: steps.edit(key)),
            ("complete", lambda: steps.complete(key, output_text="late")),
            ("fail", lambda: steps.fail(key, "late")),
        ],
        S.PAUSED: [("resume", lambda: steps.resume(key))],
        S.EDITING: [
            ("resume", lambda: steps.resume(key)),
            ("complete", lambda: steps.complete(key)),
        ],
        S.FAILED: [("retry", lambda: steps.retry(key))],
        S.COMPLETED: [],
        S.SKIPPED: [],
    }
    return by_status[status]


@pytest.mark.parametrize("ended", [W.FAILED, W.COMPLETED, W.CANCELLED])
def test_no_step_of_an_ended_workflow_moves_by_any_path(
    uow: UnitOfWork, ended: WorkflowStatus
) -> None:
    workflow, steps = _steps_in_every_status(uow)
    if ended is not W.FAILED:
        uow.workflows.retry(workflow.id)
        getattr(uow.workflows, "complete" if ended is W.COMPLETED else "cancel")(workflow.id)
    assert uow.workflows.get(workflow.id).status is ended
    before = {step.id: uow.workflow_steps.get(step.id) for step in steps.values()}
    entries = uow.audit_logs.count()
    tried = 0
    for status, step in steps.items():
        for name, move in _moves(uow, step.id, status):
            with pytest.raises(InvalidTransition) as error:
                move()
            assert f"its workflow {workflow.id!r} is {ended.value}" in str(error.value), name
            assert error.value.reason is not None and error.value.current == status.value
            tried += 1
        for target in WorkflowStep.transitions["status"][status]:
            changed = uow.workflow_steps.get(step.id)
            changed.status = StepStatus(target)
            with pytest.raises(InvalidTransition) as error:
                uow.workflow_steps.update(changed)
            assert error.value.reason is not None
            tried += 1
    assert tried == 20
    with pytest.raises(InvalidTransition):
        factories.step(uow, workflow, 9, status=S.RUNNING)
    assert {step.id: uow.workflow_steps.get(step.id) for step in steps.values()} == before
    assert uow.audit_logs.count() == entries
    # What is not a move of status still goes: an output edit, a new pending step.
    edited = uow.workflow_steps.edit_output(steps[S.COMPLETED].id, "fixed")
    assert edited.output_text == "fixed" and edited.status is S.COMPLETED
    assert factories.step(uow, workflow, 9).status is S.PENDING


def test_a_retry_of_the_failed_workflow_reopens_its_steps(uow: UnitOfWork) -> None:
    workflow, steps = _steps_in_every_status(uow)
    failed = steps[S.FAILED]
    with pytest.raises(InvalidTransition) as error:
        uow.workflow_steps.retry(failed.id)
    assert "retry the workflow" in str(error.value)
    uow.workflows.retry(workflow.id)
    retried = uow.workflow_steps.retry(failed.id, pid=78)
    assert retried.status is S.RUNNING and retried.retry_count == 1
    assert uow.workflow_steps.start(steps[S.PENDING].id).status is S.RUNNING
    assert uow.workflow_steps.resume(steps[S.PAUSED].id).status is S.RUNNING


def test_the_refusal_message_says_why(uow: UnitOfWork) -> None:
    workflow, steps = _steps_in_every_status(uow)
    uow.workflows.cancel(workflow.id)
    with pytest.raises(InvalidTransition) as error:
        uow.workflow_steps.complete(steps[S.RUNNING].id)
    assert str(error.value) == (
        "workflow_step.status cannot change from 'running' to 'completed': its workflow "
        f"{workflow.id!r} is cancelled, and the steps of a completed, failed or cancelled "
        "workflow do not move (it is final)"
    )
    assert (error.value.entity, error.value.field) == ("workflow_step", "status")
    assert (error.value.current, error.value.requested) == ("running", "completed")
