"""Workflows: finders, the status machine and its stamps, the concurrency cap, pause
behaviour default, parents, counters kept by the steps, audit trail, worktree cleanup."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentkeel.domain.audit import EventCategory
from agentkeel.domain.errors import (
    InvalidTransition,
    InvalidValue,
    LimitReached,
    NotFound,
    ReferenceMissing,
)
from agentkeel.domain.workflows import PauseBehavior, Workflow, WorkflowStatus, WorkflowType
from agentkeel.domain.workspace import WorktreeStatus
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories

S = WorkflowStatus
PLANNING, IMPLEMENTATION = WorkflowType.PLANNING, WorkflowType.IMPLEMENTATION


def _tick(uow: UnitOfWork, seconds: float = 1) -> None:
    uow.clock.advance(timedelta(seconds=seconds))  # type: ignore[attr-defined]


def _field(state: object, name: str) -> object:
    assert isinstance(state, dict)
    return state[name]


# -- finders ----------------------------------------------------------------------------------


def test_list_is_newest_first_filtered_and_hides_archived(uow: UnitOfWork) -> None:
    project, other = factories.project(uow), factories.project(uow, "Other")
    first = factories.workflow(uow, project, PLANNING, "one")
    _tick(uow)
    second = factories.workflow(uow, project, IMPLEMENTATION, "two")
    _tick(uow)
    third = factories.workflow(uow, other, IMPLEMENTATION, "three")
    assert [w.id for w in uow.workflows.list()] == [third.id, second.id, first.id]
    assert [w.id for w in uow.workflows.list(project_id=project.id)] == [second.id, first.id]
    assert [w.id for w in uow.workflows.list(type=PLANNING)] == [first.id]
    uow.workflows.start(second.id)
    assert [w.id for w in uow.workflows.list(status=S.RUNNING, type=IMPLEMENTATION)] == [second.id]
    assert [w.id for w in uow.workflows.list(limit=1, offset=1)] == [second.id]
    archived = uow.workflows.archive(first.id)
    assert archived.is_archived
    assert first.id not in [w.id for w in uow.workflows.list()]
    assert first.id in [w.id for w in uow.workflows.list(include_archived=True)]
    assert uow.workflows.get(first.id).is_archived
    assert not uow.workflows.unarchive(first.id).is_archived
    assert first.id in [w.id for w in uow.workflows.list(project_id=project.id)]


def test_find_by_parent_and_parent_rules(uow: UnitOfWork) -> None:
    project, other = factories.project(uow), factories.project(uow, "Other")
    planning = factories.workflow(uow, project, PLANNING)
    child = factories.workflow(uow, project, parent_workflow_id=planning.id)
    assert [w.id for w in uow.workflows.find_by_parent(planning.id)] == [child.id]
    with pytest.raises(InvalidValue) as error:
        factories.workflow(uow, other, parent_workflow_id=planning.id)
    assert error.value.field == "parent_workflow_id"
    with pytest.raises(InvalidValue):
        factories.workflow(uow, project, parent_workflow_id=child.id)  # not a planning one
    with pytest.raises(InvalidValue):
        factories.workflow(uow, project, PLANNING, parent_workflow_id=planning.id)
    with pytest.raises(ReferenceMissing):
        factories.workflow(uow, project, parent_workflow_id="x" * 21)
    uow.workflows.delete(planning.id)
    assert uow.workflows.get(child.id).parent_workflow_id is None  # SET NULL


def test_worktree_of_is_found_through_the_worktree(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    repo = factories.repository(uow, project)
    workflow = factories.workflow(uow, project)
    assert uow.workflows.worktree_of(workflow.id) is None
    tree = factories.worktree(uow, repo, workflow_id=workflow.id)
    found = uow.workflows.worktree_of(workflow.id)
    assert found is not None and found.id == tree.id
    with pytest.raises(NotFound):
        uow.workflows.worktree_of("x" * 21)


# -- the status machine -----------------------------------------------------------------------


def test_the_named_moves_follow_the_machine_and_stamp_times(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    workflow = factories.workflow(uow, project)
    assert workflow.status == S.CREATED and workflow.started_at is None
    with pytest.raises(InvalidTransition):
        uow.workflows.pause(workflow.id)
    started = uow.workflows.start(workflow.id)
    assert started.status == S.RUNNING and started.started_at is not None
    assert started.updated_at - started.started_at < timedelta(milliseconds=1)
    with pytest.raises(InvalidTransition):
        uow.workflows.start(workflow.id)
    assert uow.workflows.pause(workflow.id).status == S.PAUSED
    assert uow.workflows.edit(workflow.id).status == S.EDITING
    assert uow.workflows.pause(workflow.id).status == S.PAUSED
    assert uow.workflows.edit(workflow.id).status == S.EDITING
    _tick(uow, 2.5)
    assert uow.workflows.resume(workflow.id).status == S.RUNNING
    failed = uow.workflows.fail(workflow.id, "the agent crashed")
    assert failed.status == S.FAILED and failed.error_message == "the agent crashed"
    assert failed.completed_at is not None and failed.duration_ms == 2500
    retried = uow.workflows.retry(workflow.id)
    assert retried.status == S.RUNNING
    assert (retried.completed_at, retried.duration_ms, retried.error_message) == (None,) * 3
    assert retried.started_at == started.started_at
    _tick(uow)
    done = uow.workflows.complete(workflow.id)
    assert done.status == S.COMPLETED and done.duration_ms == 3500
    for move in (uow.workflows.cancel, uow.workflows.resume, uow.workflows.retry):
        with pytest.raises(InvalidTransition):
            move(workflow.id)


def test_cancel_from_every_unfinished_status(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    created = factories.workflow(uow, project)
    cancelled = uow.workflows.cancel(created.id)
    assert cancelled.status == S.CANCELLED and cancelled.completed_at is not None
    assert cancelled.duration_ms is None  # it never ran
    failed = factories.workflow(uow, project)
    uow.workflows.start(failed.id)
    uow.workflows.fail(failed.id, "no")
    assert uow.workflows.cancel(failed.id).status == S.CANCELLED
    with pytest.raises(InvalidTransition):
        uow.workflows.retry(failed.id)


def test_update_cannot_go_around_the_machine(uow: UnitOfWork) -> None:
    workflow = factories.workflow(uow, factories.project(uow))
    workflow.status = S.COMPLETED
    with pytest.raises(InvalidTransition):
        uow.workflows.update(workflow)
    workflow = uow.workflows.get(workflow.id)
    workflow.type = PLANNING
    with pytest.raises(InvalidValue):
        uow.workflows.update(workflow)
    workflow = uow.workflows.get(workflow.id)
    workflow.total_steps = 5
    with pytest.raises(InvalidValue) as error:
        uow.workflows.update(workflow)
    assert error.value.field == "total_steps"


def test_an_unknown_workflow_is_not_found(uow: UnitOfWork) -> None:
    for move in (uow.workflows.start, uow.workflows.archive, uow.workflows.audit_trail):
        with pytest.raises(NotFound):
            move("x" * 21)


# -- pause behaviour default ------------------------------------------------------------------


def test_pause_behavior_defaults_to_the_setting(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    assert factories.workflow(uow, project).pause_behavior == PauseBehavior.AUTO_PAUSE
    uow.settings.set_value("workflow.defaultPauseBehavior", "gates_only")
    assert factories.workflow(uow, project, name="b").pause_behavior == PauseBehavior.GATES_ONLY
    given = factories.workflow(uow, project, name="c", pause_behavior=PauseBehavior.CONTINUOUS)
    assert given.pause_behavior == PauseBehavior.CONTINUOUS
    explicit_default = factories.workflow(
        uow, project, name="d", pause_behavior=PauseBehavior.AUTO_PAUSE
    )
    assert explicit_default.pause_behavior == PauseBehavior.AUTO_PAUSE


# -- the concurrency cap ----------------------------------------------------------------------


def test_at_most_max_concurrent_implementations_hold_a_slot(uow: UnitOfWork) -> None:
    uow.settings.set_value("workflow.maxConcurrentImplementations", 2)
    project = factories.project(uow)
    one, two, three = (factories.workflow(uow, project, name=n) for n in ("a", "b", "c"))
    planning = factories.workflow(uow, project, PLANNING)
    uow.workflows.start(one.id)
    uow.workflows.start(two.id)
    uow.workflows.pause(two.id)
    assert uow.workflows.count_active_implementations() == 2
    with pytest.raises(LimitReached) as error:
        uow.workflows.start(three.id)
    assert error.value.setting == "workflow.maxConcurrentImplementations"
    assert error.value.limit == 2
    assert uow.workflows.get(three.id).status == S.CREATED
    uow.workflows.start(planning.id)  # planning workflows take no slot
    # Moving between slot-holding statuses keeps the slot.
    uow.workflows.edit(two.id)
    uow.workflows.resume(two.id)
    uow.workflows.fail(one.id, "boom")
    uow.workflows.start(three.id)
    with pytest.raises(LimitReached):
        uow.workflows.retry(one.id)
    with pytest.raises(LimitReached):
        factories.workflow(uow, project, name="d", status=S.RUNNING)
    uow.workflows.cancel(three.id)
    assert uow.workflows.retry(one.id).status == S.RUNNING
    assert uow.workflows.count_active_implementations() == 2


def test_add_many_counts_the_slots_its_own_workflows_take(uow: UnitOfWork) -> None:
    """The adapters' bulk `add_many` (below the port) keeps the cap too."""
    from agentkeel.repositories.unit_of_work import BaseUnitOfWork

    assert isinstance(uow, BaseUnitOfWork)
    uow.settings.set_value("workflow.maxConcurrentImplementations", 1)
    project = factories.project(uow)

    def running(name: str) -> Workflow:
        return Workflow(
            project_id=project.id,
            type=IMPLEMENTATION,
            status=S.RUNNING,
            feature_name=name,
            feature_request="r",
        )

    with pytest.raises(LimitReached):
        uow.workflows.add_many([running("a"), running("b")])
    assert uow.workflows.count() == 0
    [added] = uow.workflows.add_many([running("a")])
    assert added.started_at is not None and added.pause_behavior == PauseBehavior.AUTO_PAUSE


# -- audit ------------------------------------------------------------------------------------


def test_every_state_change_writes_an_audit_entry_in_time_order(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    workflow = factories.workflow(uow, project)
    _tick(uow)
    uow.workflows.start(workflow.id)
    _tick(uow)
    uow.workflows.pause(workflow.id)
    _tick(uow)
    uow.workflows.archive(workflow.id)
    trail = uow.workflows.audit_trail(workflow.id)
    assert [e.event_type for e in trail] == [
        "workflow.created",
        "workflow.running",
        "workflow.paused",
        "workflow.archived",
    ]
    assert all(e.event_category == EventCategory.WORKFLOW for e in trail)
    assert all(e.workflow_id == workflow.id for e in trail)
    assert trail[0].before_state is None and trail[0].after_state is not None
    assert _field(trail[2].before_state, "status") == "running"
    assert _field(trail[2].after_state, "status") == "paused"
    assert trail[1].source.value == "system"


def test_a_hard_delete_keeps_the_trail_and_adds_its_own_entry(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    workflow = factories.workflow(uow, project)
    step = factories.step(uow, workflow, 1)
    uow.workflows.start(workflow.id)
    uow.workflow_steps.start(step.id)
    before = len(uow.workflows.audit_trail(workflow.id))
    assert before == 3
    removed = uow.workflows.delete(workflow.id)
    assert removed == {"workflows": 1, "workflow_steps": 1}
    entries = uow.audit_logs.list()
    kept = [e for e in entries if e.entity_id in {workflow.id, step.id}]
    assert len(kept) == before + 1
    assert all(e.workflow_id is None and e.workflow_step_id is None for e in kept)
    [deletion] = uow.audit_logs.list(event_type="workflow.deleted")
    assert deletion.entity_id == workflow.id
    assert _field(deletion.before_state, "status") == "running"
    with pytest.raises(NotFound):
        uow.workflows.audit_trail(workflow.id)


# -- worktree cleanup -------------------------------------------------------------------------


def test_completing_moves_the_worktree_to_cleaning_when_auto_cleanup(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    repo = factories.repository(uow, project)
    workflow = factories.workflow(uow, project)
    tree = factories.worktree(uow, repo, "/wt/a", workflow_id=workflow.id)
    uow.workflows.start(workflow.id)
    uow.workflows.complete(workflow.id)
    assert uow.worktrees.get(tree.id).status == WorktreeStatus.CLEANING
    [entry] = uow.audit_logs.list(category=EventCategory.WORKTREE)
    assert entry.workflow_id == workflow.id

    uow.settings.set_value("worktree.autoCleanup", False)
    kept = factories.workflow(uow, project, name="kept")
    kept_tree = factories.worktree(uow, repo, "/wt/b", workflow_id=kept.id)
    uow.workflows.start(kept.id)
    uow.workflows.complete(kept.id)
    assert uow.worktrees.get(kept_tree.id).status == WorktreeStatus.ACTIVE


def test_cancelling_leaves_the_worktree_alone(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    repo = factories.repository(uow, project)
    workflow = factories.workflow(uow, project)
    tree = factories.worktree(uow, repo, workflow_id=workflow.id)
    uow.workflows.cancel(workflow.id)
    assert uow.worktrees.get(tree.id).status == WorktreeStatus.ACTIVE


def test_bad_values_name_their_field(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    with pytest.raises(InvalidValue) as error:
        uow.workflows.add(
            Workflow.model_construct(
                project_id=project.id,
                feature_name="x",
                feature_request="y",
                type="sideways",  # type: ignore[arg-type]
            )
        )
    assert error.value.field == "type"
    workflow = factories.workflow(uow, project)
    uow.workflows.start(workflow.id)
    with pytest.raises(InvalidValue) as error:
        uow.workflows.fail(workflow.id, "x" * 10_001)
    assert error.value.field == "error_message"
    assert uow.workflows.get(workflow.id).status == S.RUNNING
