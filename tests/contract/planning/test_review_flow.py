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
from agentkeel.services import planning
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
    held = uow.phases.move_to(factories.phase(uow, initiative, "Held").id, P.BLOCKED)
    task = factories.task(uow, project, phase_id=held.id)
    uow.tasks.move_to(task.id, T.IN_PROGRESS)  # started by hand, in a blocked phase
    uow.tasks.complete(task.id)
    assert uow.phases.get(held.id).status is P.BLOCKED  # a person blocked it: not moved
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


@pytest.mark.parametrize("before", [P.PENDING, P.APPROVED])
def test_the_first_task_to_start_moves_its_phase_and_initiative_under_way(
    uow: UnitOfWork, before: PhaseStatus
) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project, execution_mode=ExecutionMode.YOLO)
    phase = factories.phase(uow, initiative, status=before)
    first, second = (factories.task(uow, project, n, phase_id=phase.id) for n in "ab")
    uow.tasks.move_to(first.id, T.IN_PROGRESS)
    assert uow.phases.get(phase.id).status is P.IN_PROGRESS
    moved = [e for e in factories.recorded(uow) if isinstance(e, PhaseStatusChanged)]
    assert moved == [PhaseStatusChanged(phase.id, initiative.id, before, P.IN_PROGRESS)]
    uow.tasks.move_to(second.id, T.IN_PROGRESS)  # the phase is under way: nothing more
    assert len([e for e in factories.recorded(uow) if isinstance(e, PhaseStatusChanged)]) == 1


def test_a_claim_by_initiative_carries_phase_and_initiative_to_the_end(uow: UnitOfWork) -> None:
    # Before phases followed their tasks both ways, a phase that was still pending when
    # its tasks were claimed and completed stayed pending for ever.
    project = factories.project(uow)
    initiative = factories.initiative(uow, project, execution_mode=ExecutionMode.YOLO)
    design, build = (factories.phase(uow, initiative, name) for name in ("Design", "Build"))
    uow.phase_dependencies.create(build.id, design.id)
    for phase in (design, build):
        for name in ("one", "two"):
            factories.task(uow, project, f"{phase.name} {name}", phase_id=phase.id)
    worker = factories.agent(uow)
    done = []
    while task := planning.claim_next_ready_task(uow, worker.id, initiative_id=initiative.id):
        done.append(task.name)
        planning.complete_task(uow, task.id, "done", agent_id=worker.id)
    assert done == ["Design one", "Design two", "Build one", "Build two"]
    assert [uow.phases.get(p.id).status for p in (design, build)] == [P.COMPLETED] * 2
    assert uow.initiatives.get(initiative.id).status is S.COMPLETED


def test_a_task_starting_in_a_phase_under_review_reopens_the_phase(uow: UnitOfWork) -> None:
    # The decision: pending_review means every task is done and a person looks at the
    # phase. A task added meanwhile (the review asked for changes) is ready, and starting
    # it (or adding it) takes the phase, and a pending_review initiative, back to
    # in_progress and active; its completion asks for the review again.
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    phase = started_phase(uow, initiative, "Design")
    task = factories.task(uow, project, phase_id=phase.id, status=T.IN_PROGRESS)
    uow.tasks.complete(task.id)
    uow.phases.move_to(phase.id, P.COMPLETED)
    assert uow.initiatives.get(initiative.id).status is S.PENDING_REVIEW
    fix = factories.task(uow, project, "Fix the review's point", phase_id=phase.id)
    assert uow.phases.get(phase.id).status is P.IN_PROGRESS
    assert uow.initiatives.get(initiative.id).status is S.ACTIVE
    assert [t.id for t in uow.tasks.ready_tasks(phase_id=phase.id)] == [fix.id]
    uow.tasks.move_to(fix.id, T.IN_PROGRESS)
    uow.tasks.complete(fix.id)
    assert uow.phases.get(phase.id).status is P.PENDING_REVIEW


def test_the_last_unfinished_task_leaving_a_phase_lets_it_move_on(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    initiative = factories.initiative(uow, project, execution_mode=ExecutionMode.YOLO)
    phase, other = started_phase(uow, initiative, "Design"), factories.phase(uow, initiative)
    done = factories.task(uow, project, "done", phase_id=phase.id, status=T.IN_PROGRESS)
    uow.tasks.complete(done.id)
    left = factories.task(uow, project, "left", phase_id=phase.id)
    assert uow.phases.get(phase.id).status is P.IN_PROGRESS
    uow.tasks.update(uow.tasks.get(left.id).model_copy(update={"phase_id": other.id}))
    assert uow.phases.get(phase.id).status is P.COMPLETED
    dropped = factories.task(uow, project, "dropped", phase_id=phase.id)
    assert uow.phases.get(phase.id).status is P.IN_PROGRESS
    uow.tasks.delete(dropped.id)
    assert uow.phases.get(phase.id).status is P.COMPLETED
    # A phase whose only task goes waits for work: it does not move on empty.
    empty = started_phase(uow, initiative, "Empty")
    only = factories.task(uow, project, "only", phase_id=empty.id)
    uow.tasks.delete(only.id)
    assert uow.phases.get(empty.id).status is P.IN_PROGRESS
