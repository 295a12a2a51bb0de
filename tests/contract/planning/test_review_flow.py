"""001's review flow (DESIGN.md "Review flow"): a phase follows its tasks and an initiative
its phases, in the repositories, so that every path that moves a task or a phase (the
repositories' `complete`, `move_to`, `update`, the services) takes them along."""

from __future__ import annotations

import pytest

from agentkeel.domain.planning import (
    ExecutionMode,
    Initiative,
    InitiativeStatus,
    Phase,
    PhaseStatus,
    TaskStatus,
)
from agentkeel.domain.planning.events import PhaseStatusChanged
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories

P, T, S = PhaseStatus, TaskStatus, InitiativeStatus


def started_phase(uow: UnitOfWork, owner: Initiative, name: str) -> Phase:
    phase = factories.phase(uow, owner, name)
    return uow.phases.move_to(phase.id, P.IN_PROGRESS)


@pytest.mark.parametrize(
    ("mode", "phase_after", "initiative_after"),
    [
        (ExecutionMode.REVIEW_PER_PHASE, P.PENDING_REVIEW, S.PENDING_REVIEW),
        (ExecutionMode.YOLO, P.COMPLETED, S.COMPLETED),
    ],
)
def test_the_last_task_moves_its_phase_and_the_last_phase_its_initiative(
    uow: UnitOfWork,
    mode: ExecutionMode,
    phase_after: PhaseStatus,
    initiative_after: InitiativeStatus,
) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project, execution_mode=mode)
    design, build = (
        started_phase(uow, initiative, "Design"),
        started_phase(uow, initiative, "Build"),
    )
    a = factories.task(uow, project, "a", phase_id=design.id, status=T.IN_PROGRESS)
    b = factories.task(uow, project, "b", phase_id=build.id, status=T.IN_PROGRESS)
    # The repository's own paths, not only the service's.
    uow.tasks.complete(a.id, "a done")
    assert uow.phases.get(design.id).status is phase_after
    assert uow.initiatives.get(initiative.id).status is S.ACTIVE  # Build is not done
    if phase_after is P.PENDING_REVIEW:
        uow.phases.move_to(design.id, P.COMPLETED)  # the review accepts it
        assert uow.initiatives.get(initiative.id).status is S.ACTIVE
    uow.tasks.move_to(b.id, T.COMPLETED)
    assert uow.phases.get(build.id).status is phase_after
    moved = [e for e in factories.recorded(uow) if isinstance(e, PhaseStatusChanged)]
    assert moved[-1] == PhaseStatusChanged(build.id, initiative.id, P.IN_PROGRESS, phase_after)
    if phase_after is P.PENDING_REVIEW:
        assert uow.initiatives.get(initiative.id).status is S.ACTIVE
        uow.phases.move_to(build.id, P.COMPLETED)
    assert uow.initiatives.get(initiative.id).status is initiative_after


def test_a_reopened_task_reopens_its_phase_and_a_reopened_phase_its_initiative(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project, execution_mode=ExecutionMode.YOLO)
    phase = started_phase(uow, initiative, "Design")
    task = factories.task(uow, project, phase_id=phase.id, status=T.IN_PROGRESS)
    uow.tasks.complete(task.id)
    assert uow.initiatives.get(initiative.id).status is S.COMPLETED
    uow.tasks.move_to(task.id, T.PENDING)  # reopened
    assert uow.phases.get(phase.id).status is P.IN_PROGRESS
    assert uow.initiatives.get(initiative.id).status is S.ACTIVE
    # Done again: both follow again.
    uow.tasks.move_to(task.id, T.IN_PROGRESS)
    uow.tasks.complete(task.id)
    assert uow.initiatives.get(initiative.id).status is S.COMPLETED
    # A phase reopened by hand takes its initiative back to active.
    uow.phases.move_to(phase.id, P.IN_PROGRESS)
    assert uow.initiatives.get(initiative.id).status is S.ACTIVE


def test_a_review_asking_for_changes_leaves_the_initiative_active(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    phase = started_phase(uow, initiative, "Design")
    task = factories.task(uow, project, phase_id=phase.id, status=T.IN_PROGRESS)
    uow.tasks.complete(task.id)
    assert uow.phases.get(phase.id).status is P.PENDING_REVIEW
    uow.phases.move_to(phase.id, P.IN_PROGRESS)  # changes asked for
    assert uow.initiatives.get(initiative.id).status is S.ACTIVE
    assert uow.tasks.get(task.id).status is T.COMPLETED


def test_phases_and_initiatives_that_are_not_under_way_do_not_move(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project, execution_mode=ExecutionMode.YOLO)
    pending = factories.phase(uow, initiative, "Not started")
    task = factories.task(uow, project, phase_id=pending.id, status=T.IN_PROGRESS)
    uow.tasks.complete(task.id)
    assert uow.phases.get(pending.id).status is P.PENDING  # not started: not moved
    assert uow.initiatives.get(initiative.id).status is S.ACTIVE
    # The last phase completing does not move an initiative that is not active.
    other = factories.initiative(uow, project, "Other", execution_mode=ExecutionMode.YOLO)
    only = started_phase(uow, other, "Only")
    uow.initiatives.update(uow.initiatives.get(other.id).model_copy(update={"status": S.COMPLETED}))
    uow.phases.move_to(only.id, P.COMPLETED)
    assert uow.initiatives.get(other.id).status is S.COMPLETED
    # Another phase still open keeps the initiative active.
    third = factories.initiative(uow, project, "Third", execution_mode=ExecutionMode.YOLO)
    done, open_ = started_phase(uow, third, "Done"), factories.phase(uow, third, "Open")
    uow.phases.move_to(done.id, P.COMPLETED)
    assert uow.initiatives.get(third.id).status is S.ACTIVE
    assert uow.phases.get(open_.id).status is P.PENDING


def test_what_follows_is_undone_with_the_unit_of_work(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project, execution_mode=ExecutionMode.YOLO)
    phase = started_phase(uow, initiative, "Design")
    task = factories.task(uow, project, phase_id=phase.id, status=T.IN_PROGRESS)
    uow.commit()
    uow.tasks.complete(task.id, "done")
    uow.rollback()
    assert uow.tasks.get(task.id).status is T.IN_PROGRESS
    assert uow.phases.get(phase.id).status is P.IN_PROGRESS
    assert uow.initiatives.get(initiative.id).status is S.ACTIVE
