"""Task dependencies: a DAG within one project, by every path."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import (
    AlreadyExists,
    DependencyCycle,
    InvalidValue,
    NotFound,
    ReferenceMissing,
)
from agentkeel.domain.planning import Task, TaskDependency
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


def _tasks(uow: UnitOfWork, *names: str) -> list[Task]:
    project = factories.project(uow)
    return [factories.task(uow, project, name, id=f"task-{name}") for name in names]


def test_create_get_and_remove(uow: UnitOfWork) -> None:
    a, b, c = _tasks(uow, "a", "b", "c")
    edge = uow.task_dependencies.create(c.id, b.id)
    assert (edge.task_id, edge.depends_on_task_id) == (c.id, b.id)
    uow.task_dependencies.create(c.id, a.id)
    uow.task_dependencies.create(b.id, a.id)
    assert uow.task_dependencies.get_dependencies(c.id) == [a.id, b.id]
    assert uow.task_dependencies.get_dependents(a.id) == [b.id, c.id]
    uow.task_dependencies.remove(c.id, b.id)
    assert uow.task_dependencies.get_dependencies(c.id) == [a.id]
    assert uow.task_dependencies.get_dependents(b.id) == []
    with pytest.raises(NotFound):
        uow.task_dependencies.remove(c.id, b.id)
    [entry] = uow.audit_logs.list(entity_type="task_dependency")
    assert entry.entity_id == edge.id


def test_self_duplicate_and_cycle_are_refused(uow: UnitOfWork) -> None:
    a, b, c, d = _tasks(uow, "a", "b", "c", "d")
    with pytest.raises(DependencyCycle) as caught:
        uow.task_dependencies.create(a.id, a.id)
    assert str(caught.value) == ("task_dependency dependency would form a cycle: task-a -> task-a")
    uow.task_dependencies.create(a.id, b.id)
    uow.task_dependencies.create(b.id, c.id)
    uow.task_dependencies.create(a.id, d.id)
    uow.task_dependencies.create(d.id, c.id)
    with pytest.raises(AlreadyExists):
        uow.task_dependencies.create(a.id, b.id)
    with pytest.raises(DependencyCycle) as caught:
        uow.task_dependencies.create(c.id, a.id)
    # Breadth first, ties by id: the shortest cycle through the smallest ids.
    assert caught.value.path == [c.id, a.id, b.id, c.id]
    with pytest.raises(DependencyCycle):
        uow.task_dependencies.add(TaskDependency(task_id=c.id, depends_on_task_id=a.id))
    assert uow.task_dependencies.count() == 4


def test_both_ends_share_a_project(uow: UnitOfWork) -> None:
    [mine] = _tasks(uow, "mine")
    theirs = factories.task(uow, factories.project(uow, "Theirs"), "theirs")
    with pytest.raises(InvalidValue) as caught:
        uow.task_dependencies.create(mine.id, theirs.id)
    assert caught.value.field == "depends_on_task_id"
    assert "must be a task of the same project" in str(caught.value)
    with pytest.raises(ReferenceMissing):
        uow.task_dependencies.create(mine.id, "missing")
    with pytest.raises(InvalidValue):
        uow.task_dependencies.create(mine.id, "not an id!")
