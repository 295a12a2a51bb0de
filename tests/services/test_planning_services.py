"""Planning services: a task and its agent written together; a phase following its tasks."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import InvalidTransition, InvalidValue, NotFound
from agentkeel.domain.planning import ExecutionMode, PhaseStatus, TaskStatus
from agentkeel.domain.planning.events import TaskAssigned
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.planning import assign_task, complete_task, release_task
from tests import factories


def test_assigning_writes_the_task_and_the_agent_together(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    first, second = factories.task(uow, project, "first"), factories.task(uow, project, "second")
    otter, heron = factories.agent(uow), factories.agent(uow, "calm-heron")
    assigned = assign_task(uow, first.id, otter.id)
    assert assigned.assigned_agent_id == otter.id
    assert uow.agents.get(otter.id).task_id == first.id
    # The otter moves on: its first task is released.
    assign_task(uow, second.id, otter.id)
    assert uow.tasks.get(first.id).assigned_agent_id is None
    assert uow.agents.get(otter.id).task_id == second.id
    # The heron takes the second task over: the otter lets go of it.
    assign_task(uow, second.id, heron.id)
    assert uow.agents.get(otter.id).task_id is None
    assert uow.agents.get(heron.id).task_id == second.id
    assert uow.tasks.get(second.id).assigned_agent_id == heron.id
    released = release_task(uow, second.id)
    assert released.assigned_agent_id is None and uow.agents.get(heron.id).task_id is None
    events = [e for e in factories.recorded(uow) if isinstance(e, TaskAssigned)]
    assert [(e.task_id, e.agent_id) for e in events] == [
        (first.id, otter.id),
        (second.id, otter.id),
        (second.id, heron.id),
        (second.id, None),
    ]


def test_assigning_is_refused_before_anything_is_written(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = factories.task(uow, project, status=TaskStatus.IN_PROGRESS)
    otter = factories.agent(uow)
    with pytest.raises(NotFound):
        assign_task(uow, task.id, "nobody")
    with pytest.raises(NotFound):
        assign_task(uow, "nothing", otter.id)
    uow.tasks.complete(task.id, "done")
    with pytest.raises(InvalidValue) as caught:
        assign_task(uow, task.id, otter.id)
    assert caught.value.field == "status"
    assert uow.agents.get(otter.id).task_id is None
    with pytest.raises(NotFound):
        release_task(uow, "nothing")


@pytest.mark.parametrize(
    ("mode", "after"),
    [
        (ExecutionMode.REVIEW_PER_PHASE, PhaseStatus.PENDING_REVIEW),
        (ExecutionMode.YOLO, PhaseStatus.COMPLETED),
    ],
)
def test_a_phase_follows_its_last_completed_task(
    uow: UnitOfWork, mode: ExecutionMode, after: PhaseStatus
) -> None:
    project = factories.project(uow)
    phase = factories.phase(uow, factories.initiative(uow, project, execution_mode=mode))
    uow.phases.move_to(phase.id, PhaseStatus.IN_PROGRESS)
    a = factories.task(uow, project, "a", phase_id=phase.id, status=TaskStatus.IN_PROGRESS)
    b = factories.task(uow, project, "b", phase_id=phase.id, status=TaskStatus.IN_PROGRESS)
    assert complete_task(uow, a.id, "a done").summary == "a done"
    assert uow.phases.get(phase.id).status is PhaseStatus.IN_PROGRESS
    complete_task(uow, b.id, "b done")
    assert uow.phases.get(phase.id).status is after
    with pytest.raises(InvalidTransition) as caught:
        complete_task(uow, b.id, "again")
    assert str(caught.value) == "task.status cannot change from 'completed' to 'completed'"
    assert uow.tasks.get(b.id).summary == "b done"


def test_a_blocked_phase_does_not_move(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    phase = factories.phase(uow, factories.initiative(uow, project), status=PhaseStatus.BLOCKED)
    task = factories.task(uow, project, phase_id=phase.id, status=TaskStatus.IN_PROGRESS)
    complete_task(uow, task.id)
    assert uow.phases.get(phase.id).status is PhaseStatus.BLOCKED
    loose = factories.task(uow, project, "loose", status=TaskStatus.IN_PROGRESS)
    assert complete_task(uow, loose.id).status is TaskStatus.COMPLETED
