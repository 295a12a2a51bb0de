"""Workflow steps: order, the status machine and its stamps, counters of the workflow,
output edits, CLI output setting, timeouts, pause behaviour, audit entries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentkeel.domain.audit import EventCategory, EventSource
from agentkeel.domain.errors import AlreadyExists, InvalidTransition, InvalidValue, NotFound
from agentkeel.domain.workflows import (
    PauseBehavior,
    StepStatus,
    StepType,
    Workflow,
    WorkflowStatus,
    WorkflowStep,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories

S = StepStatus
W = WorkflowStatus


def _tick(uow: UnitOfWork, seconds: float = 1) -> None:
    uow.clock.advance(timedelta(seconds=seconds))  # type: ignore[attr-defined]


def _field(state: object, name: str) -> object:
    assert isinstance(state, dict)
    return state[name]


def _running(uow: UnitOfWork, behavior: PauseBehavior = PauseBehavior.CONTINUOUS) -> Workflow:
    workflow = factories.workflow(uow, factories.project(uow), pause_behavior=behavior)
    return uow.workflows.start(workflow.id)


def _counters(uow: UnitOfWork, workflow_id: str) -> tuple[int | None, int | None]:
    workflow = uow.workflows.get(workflow_id)
    return workflow.current_step_number, workflow.total_steps


def test_steps_come_in_step_order_and_numbers_are_unique(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    third = factories.step(uow, workflow, 3)
    first = factories.step(uow, workflow, 1)
    assert [s.id for s in uow.workflow_steps.find_by_workflow(workflow.id)] == [
        first.id,
        third.id,
    ]
    with pytest.raises(AlreadyExists):
        factories.step(uow, workflow, 3)
    other = _running(uow)
    factories.step(uow, other, 3)  # unique per workflow only


def test_counters_follow_adds_moves_renumbering_and_deletes(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    assert _counters(uow, workflow.id) == (0, 0)
    one, two = factories.step(uow, workflow, 1), factories.step(uow, workflow, 2)
    assert _counters(uow, workflow.id) == (0, 2)
    uow.workflow_steps.start(one.id)
    assert _counters(uow, workflow.id) == (1, 2)
    uow.workflow_steps.complete(one.id)
    uow.workflow_steps.skip(two.id)
    assert _counters(uow, workflow.id) == (2, 2)
    renumbered = uow.workflow_steps.get(two.id)
    renumbered.step_number = 7
    uow.workflow_steps.update(renumbered)
    assert _counters(uow, workflow.id) == (7, 2)
    uow.workflow_steps.delete(two.id)
    assert _counters(uow, workflow.id) == (1, 1)
    # The workflow's own row version is left alone: a copy read before still updates.
    stale = uow.workflows.get(workflow.id)
    factories.step(uow, workflow, 2)
    stale.feature_request = "Build it better"
    assert uow.workflows.update(stale).feature_request == "Build it better"


def test_the_named_moves_follow_the_machine_and_stamp_times(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    step = factories.step(uow, workflow, 1)
    with pytest.raises(InvalidTransition):
        uow.workflow_steps.complete(step.id)
    started = uow.workflow_steps.start(step.id)
    assert started.status == S.RUNNING and started.started_at is not None
    assert uow.workflow_steps.pause(step.id).status == S.PAUSED
    assert uow.workflow_steps.resume(step.id).status == S.RUNNING
    assert uow.workflow_steps.edit(step.id).status == S.EDITING
    assert uow.workflow_steps.resume(step.id).status == S.RUNNING
    _tick(uow, 1.5)
    failed = uow.workflow_steps.fail(step.id, "exit 1", cli_output="boom", cli_exit_code=1)
    assert failed.status == S.FAILED and failed.error_message == "exit 1"
    assert (failed.cli_output, failed.cli_exit_code) == ("boom", 1)
    assert failed.completed_at is not None and failed.duration_ms == 1500
    with pytest.raises(InvalidTransition):
        uow.workflow_steps.skip(step.id)
    assert uow.workflows.get(workflow.id).status == W.FAILED  # continuous: the step failed it
    uow.workflows.retry(workflow.id)  # which reopens its steps
    retried = uow.workflow_steps.retry(step.id)
    assert retried.status == S.RUNNING and retried.retry_count == 1
    assert (retried.completed_at, retried.duration_ms, retried.error_message) == (None,) * 3
    uow.workflow_steps.edit(step.id)
    done = uow.workflow_steps.complete(
        step.id, output_text="plan", output_structured={"files": ["a.py"], "n": 1}
    )
    assert done.status == S.COMPLETED and done.output_text == "plan"
    assert done.output_structured == {"files": ["a.py"], "n": 1}
    for move in (uow.workflow_steps.retry, uow.workflow_steps.start, uow.workflow_steps.pause):
        with pytest.raises(InvalidTransition):
            move(step.id)
    pending = factories.step(uow, workflow, 2)
    assert uow.workflow_steps.skip(pending.id).status == S.SKIPPED
    with pytest.raises(NotFound):
        uow.workflow_steps.start("x" * 21)


def test_update_cannot_go_around_the_machine_or_move_a_step(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    step = factories.step(uow, workflow, 1)
    step.status = S.COMPLETED
    with pytest.raises(InvalidTransition):
        uow.workflow_steps.update(step)
    step = uow.workflow_steps.get(step.id)
    step.workflow_id = _running(uow).id
    with pytest.raises(InvalidValue) as error:
        uow.workflow_steps.update(step)
    assert error.value.field == "workflow_id"


def test_editing_the_output_keeps_the_first_original(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    step = factories.step(uow, workflow, 1)
    with pytest.raises(InvalidValue) as error:
        uow.workflow_steps.edit_output(step.id, "too early")
    assert error.value.field == "status"
    uow.workflow_steps.start(step.id)
    uow.workflow_steps.complete(step.id, output_text="first")
    edited = uow.workflow_steps.edit_output(step.id, "second")
    assert (edited.output_text, edited.original_output_text) == ("second", "first")
    assert edited.is_output_edited
    again = uow.workflow_steps.edit_output(step.id, "third")
    assert (again.output_text, again.original_output_text) == ("third", "first")
    assert again.output_edited_at == edited.output_edited_at  # a flag keeps its first time
    again.original_output_text = "forged"
    with pytest.raises(InvalidValue) as error:
        uow.workflow_steps.update(again)
    assert error.value.field == "original_output_text"
    entries = uow.audit_logs.list(event_type="workflow_step.output_edited")
    assert len(entries) == 2
    assert all(e.workflow_step_id == step.id and e.workflow_id == workflow.id for e in entries)
    assert _field(entries[-1].before_state, "output_text") == "first"  # the first edit


def test_cli_output_is_stored_only_when_the_setting_says_so(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    kept = factories.step(uow, workflow, 1, cli_output="raw", cli_exit_code=0)
    assert (kept.cli_output, kept.cli_exit_code) == ("raw", 0)
    uow.settings.set_value("logging.includeCliOutput", False)
    dropped = factories.step(uow, workflow, 2, cli_output="raw", cli_exit_code=0)
    assert (dropped.cli_output, dropped.cli_exit_code) == (None, None)
    uow.workflow_steps.start(dropped.id)
    done = uow.workflow_steps.complete(dropped.id, cli_output="more", cli_exit_code=3)
    assert (done.cli_output, done.cli_exit_code) == (None, None)
    # What was kept before stays.
    assert uow.workflow_steps.start(kept.id).cli_output == "raw"


def test_each_step_type_has_its_timeout(uow: UnitOfWork) -> None:
    expected = {
        StepType.CLARIFICATION: 60,
        StepType.REFINEMENT: 30,
        StepType.DISCOVERY: 120,
        StepType.PLANNING: 180,
        StepType.ROUTING: 180,
        StepType.IMPLEMENTATION: 300,
        StepType.QUALITY_GATE: 120,
        StepType.GEMINI_REVIEW: 180,
    }
    assert {t: uow.workflow_steps.timeout_seconds(t) for t in StepType} == expected
    uow.settings.set_value("workflow.planningTimeout", 240)
    assert uow.workflow_steps.timeout_seconds(StepType.ROUTING) == 240
    with pytest.raises(InvalidValue):
        uow.workflow_steps.timeout_seconds("napping")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("behavior", "paused_after"),
    [
        (PauseBehavior.CONTINUOUS, [False, False, False]),
        (PauseBehavior.AUTO_PAUSE, [True, True, False]),
        (PauseBehavior.GATES_ONLY, [False, True, False]),
    ],
)
def test_pause_behaviour_decides_whether_the_workflow_pauses(
    uow: UnitOfWork, behavior: PauseBehavior, paused_after: list[bool]
) -> None:
    workflow = _running(uow, behavior)
    types = [StepType.DISCOVERY, StepType.IMPLEMENTATION, StepType.QUALITY_GATE]
    steps = [factories.step(uow, workflow, n, t) for n, t in enumerate(types, start=1)]
    seen = []
    for step in steps:
        uow.workflow_steps.start(step.id)
        uow.workflow_steps.complete(step.id)
        status = uow.workflows.get(workflow.id).status
        seen.append(status == W.PAUSED)
        if status == W.PAUSED:
            uow.workflows.resume(workflow.id)
    assert seen == paused_after


@pytest.mark.parametrize(
    ("behavior", "after"),
    [
        (PauseBehavior.CONTINUOUS, W.FAILED),
        (PauseBehavior.AUTO_PAUSE, W.PAUSED),
        (PauseBehavior.GATES_ONLY, W.PAUSED),
    ],
)
def test_a_failed_step_pauses_or_fails_the_workflow(
    uow: UnitOfWork, behavior: PauseBehavior, after: WorkflowStatus
) -> None:
    workflow = _running(uow, behavior)
    step = factories.step(uow, workflow, 1)
    uow.workflow_steps.start(step.id)
    uow.workflow_steps.fail(step.id, "tests fail")
    stopped = uow.workflows.get(workflow.id)
    assert stopped.status == after
    if after == W.FAILED:
        assert stopped.error_message is not None and "tests fail" in stopped.error_message


def test_a_paused_workflow_is_left_as_it_is(uow: UnitOfWork) -> None:
    workflow = _running(uow, PauseBehavior.CONTINUOUS)
    step = factories.step(uow, workflow, 1)
    uow.workflow_steps.start(step.id)
    uow.workflows.pause(workflow.id)
    uow.workflow_steps.fail(step.id, "no")
    assert uow.workflows.get(workflow.id).status == W.PAUSED


def test_every_step_state_change_is_audited_with_its_source(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    step = factories.step(uow, workflow, 1)
    _tick(uow)
    uow.workflow_steps.start(step.id)
    _tick(uow)
    uow.workflow_steps.complete(step.id, output_text="ok")
    trail = [e for e in uow.workflows.audit_trail(workflow.id) if e.entity_id == step.id]
    assert [e.event_type for e in trail] == ["workflow_step.running", "workflow_step.completed"]
    assert all(e.event_category == EventCategory.STEP for e in trail)
    assert all(e.workflow_step_id == step.id for e in trail)
    assert _field(trail[1].before_state, "status") == "running"
    assert _field(trail[1].after_state, "status") == "completed"
    assert trail[0].source == EventSource.SYSTEM


def test_a_step_delete_keeps_its_trail(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    step = factories.step(uow, workflow, 1)
    uow.workflow_steps.start(step.id)
    assert uow.workflow_steps.delete(step.id) == {"workflow_steps": 1}
    entries = uow.audit_logs.list(entity_id=step.id)
    assert {e.event_type for e in entries} == {"workflow_step.running", "workflow_step.deleted"}
    assert all(e.workflow_step_id is None for e in entries)
    assert _counters(uow, workflow.id) == (0, 0)


def test_bad_values_name_their_field(uow: UnitOfWork) -> None:
    workflow = _running(uow)
    with pytest.raises(InvalidValue) as error:
        uow.workflow_steps.add(
            WorkflowStep.model_construct(
                workflow_id=workflow.id,
                step_number=1,
                title="x",
                step_type="napping",  # type: ignore[arg-type]
            )
        )
    assert error.value.field == "step_type"
    step = factories.step(uow, workflow, 1)
    uow.workflow_steps.start(step.id)
    with pytest.raises(InvalidValue) as error:
        uow.workflow_steps.complete(step.id, output_text="a\x00b")
    assert error.value.field == "output_text"
    assert uow.workflow_steps.get(step.id).status == S.RUNNING
    assert _counters(uow, workflow.id) == (1, 1)
