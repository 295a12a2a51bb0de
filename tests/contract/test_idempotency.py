"""Creating under an idempotency key: at most once per key, on every backend."""

from __future__ import annotations

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import InvalidValue, NotFound, ReferenceMissing
from agentkeel.domain.planning import Task
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import backlog, workflows
from tests import factories
from tests.contract.workflows import plan_data


def test_a_repeated_add_returns_the_first_entity_and_writes_nothing(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    first = uow.tasks.add(Task(project_id=project.id, name="Write it"), idempotency_key="req-1")
    again = uow.tasks.add(Task(project_id=project.id, name="Other"), idempotency_key="req-1")
    assert again.id == first.id and again.name == "Write it"
    assert uow.tasks.count() == 1


def test_the_repeat_sees_the_entity_as_it_is_now(db: Database) -> None:
    with db.unit_of_work() as uow:
        project = uow.projects.add(Project(name="Keel"), idempotency_key="p")
        uow.commit()
    with db.unit_of_work() as uow:
        uow.projects.update(project.model_copy(update={"description": "since"}))
        uow.commit()
    with db.unit_of_work() as uow:
        again = uow.projects.add(Project(name="Other"), idempotency_key="p")
        assert (again.id, again.name, again.description) == (project.id, "Keel", "since")
        assert uow.projects.count() == 1


def test_a_failed_command_leaves_the_key_unused(uow: UnitOfWork) -> None:
    with pytest.raises(ReferenceMissing):
        uow.tasks.add(Task(project_id="nowhere", name="Write it"), idempotency_key="req-2")
    project = factories.project(uow)
    task = uow.tasks.add(Task(project_id=project.id, name="Write it"), idempotency_key="req-2")
    assert uow.tasks.get(task.id).name == "Write it"


def test_a_rolled_back_unit_of_work_leaves_the_key_unused(db: Database) -> None:
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        uow.commit()
    with db.unit_of_work() as uow:
        uow.tasks.add(Task(project_id=project.id, name="Lost"), idempotency_key="req-3")
        uow.rollback()
    with db.unit_of_work() as uow:
        kept = uow.tasks.add(Task(project_id=project.id, name="Kept"), idempotency_key="req-3")
        uow.commit()
    with db.unit_of_work() as uow:
        assert [t.name for t in uow.tasks.list(project_id=project.id)] == [
            "Kept"
        ] and kept.name == "Kept"


@pytest.mark.parametrize("key", ["", "with space", "x" * 65, "naïve", "a'; DROP TABLE tasks;--"])
def test_a_malformed_key_is_refused_naming_the_field(uow: UnitOfWork, key: str) -> None:
    project = factories.project(uow)
    with pytest.raises(InvalidValue) as raised:
        uow.tasks.add(Task(project_id=project.id, name="Write it"), idempotency_key=key)
    assert raised.value.field == "idempotency_key"
    assert uow.tasks.count() == 0


def test_a_key_used_for_another_kind_of_entity_is_refused(uow: UnitOfWork) -> None:
    project = uow.projects.add(Project(name="Keel"), idempotency_key="req-4")
    with pytest.raises(InvalidValue, match="already used to create project") as raised:
        uow.tasks.add(Task(project_id=project.id, name="Write it"), idempotency_key="req-4")
    assert raised.value.field == "idempotency_key"
    assert uow.tasks.count() == 0


def test_a_key_whose_entity_was_deleted_is_not_reused(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    task = uow.tasks.add(Task(project_id=project.id, name="Write it"), idempotency_key="req-5")
    uow.tasks.delete(task.id)
    with pytest.raises(NotFound):
        uow.tasks.add(Task(project_id=project.id, name="Write it"), idempotency_key="req-5")
    assert uow.tasks.count() == 0


def test_created_under_names_what_a_key_created(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    assert uow.tasks.created_under("req-6") is None
    task = uow.tasks.add(Task(project_id=project.id, name="Write it"), idempotency_key="req-6")
    found = uow.tasks.created_under("req-6")
    assert found is not None and found.id == task.id
    with pytest.raises(InvalidValue, match="already used to create task"):
        uow.projects.created_under("req-6")
    with pytest.raises(InvalidValue):
        uow.tasks.created_under("not a key")


def test_starting_an_implementation_twice_under_one_key_starts_it_once(uow: UnitOfWork) -> None:
    plan = plan_data.plan(uow)
    plan_data.plan_step(uow, plan, "Model")
    plan_data.plan_step(uow, plan, "Build")
    uow.implementation_plans.approve(plan.id)
    first = workflows.start_implementation(uow, plan.id, idempotency_key="start-1")
    again = workflows.start_implementation(uow, plan.id, idempotency_key="start-1")
    assert again.id == first.id
    assert [s.title for s in uow.workflow_steps.find_by_workflow(first.id)] == ["Model", "Build"]
    assert len(uow.workflows.find_by_parent(plan.workflow_id)) == 1


def test_a_checkpoint_under_one_key_is_taken_once(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    first = backlog.create_checkpoint(uow, project.id, "before", idempotency_key="cp-1")
    factories.task(uow, project)
    again = backlog.create_checkpoint(uow, project.id, "before", idempotency_key="cp-1")
    assert again.id == first.id and again.state == first.state
    assert [c.id for c in uow.checkpoints.list(project_id=project.id)] == [first.id]
