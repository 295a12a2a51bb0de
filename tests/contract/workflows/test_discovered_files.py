"""Discovered files: discovery (included unless excluded, re-discovery keeps the user's
edits), user additions and edits (original priority, audit), the finder by priority, and
the cascade from their step."""

from __future__ import annotations

import pytest

from agentkeel.database import Database
from agentkeel.domain.audit import EventCategory, EventSource
from agentkeel.domain.errors import AlreadyExists, InvalidValue, NotFound, ReferenceMissing
from agentkeel.domain.workflows import DiscoveredFile, FileAction, FilePriority
from agentkeel.ports.unit_of_work import UnitOfWork
from tests.contract.workflows import plan_data as data

HIGH, MEDIUM, LOW = FilePriority.HIGH, FilePriority.MEDIUM, FilePriority.LOW


def test_discover_adds_an_included_file(uow: UnitOfWork) -> None:
    step = data.step(uow)
    found = uow.discovered_files.discover(step.id, "src/app.py", priority=HIGH, exists=True)
    assert found.is_included and found.file_exists
    assert found.included_at == found.file_exists_at
    assert found.included_at is not None and found.included_at <= found.created_at
    assert found.priority is HIGH and found.action is FileAction.MODIFY
    assert found.original_priority is None
    assert not found.is_user_added and not found.is_user_modified
    assert uow.discovered_files.get(found.id) == found
    # Discovery is no user edit: no audit entry.
    assert uow.audit_logs.list(entity_type="discovered_file") == []


def test_discover_excluded_and_in_order(uow: UnitOfWork) -> None:
    step = data.step(uow)
    a = uow.discovered_files.discover(step.id, "a.py")
    b = uow.discovered_files.discover(step.id, "b.py", included=False, action=FileAction.CREATE)
    assert (a.order_index, b.order_index) == (0, 1)
    assert not b.is_included and b.action is FileAction.CREATE and not b.file_exists
    c = uow.discovered_files.discover(step.id, "c.py", order_index=7)
    assert c.order_index == 7
    assert uow.discovered_files.discover(step.id, "d.py").order_index == 8


def test_generic_add_includes_unless_told(uow: UnitOfWork) -> None:
    step = data.step(uow)
    included = uow.discovered_files.add(DiscoveredFile(workflow_step_id=step.id, file_path="a"))
    assert included.included_at is not None and included.included_at <= included.created_at
    excluded = uow.discovered_files.add(
        DiscoveredFile(workflow_step_id=step.id, file_path="b", included_at=None)
    )
    assert not excluded.is_included
    [many] = data.below_ports(uow).discovered_files.add_many(
        [DiscoveredFile(workflow_step_id=step.id, file_path="c")]
    )
    assert many.is_included


def test_a_path_is_unique_within_its_step(uow: UnitOfWork) -> None:
    step = data.step(uow)
    other = data.step(uow, uow.workflows.get(step.workflow_id), 2)
    uow.discovered_files.discover(step.id, "a.py")
    with pytest.raises(AlreadyExists):
        uow.discovered_files.add(DiscoveredFile(workflow_step_id=step.id, file_path="a.py"))
    with pytest.raises(AlreadyExists):
        uow.discovered_files.add_by_user(step.id, "a.py")
    assert uow.discovered_files.discover(other.id, "a.py").workflow_step_id == other.id


def test_rediscovery_updates_the_row(uow: UnitOfWork, db: Database) -> None:
    step = data.step(uow)
    first = uow.discovered_files.discover(step.id, "a.py", priority=LOW, description="old")
    db.clock.advance(data.SECOND)  # type: ignore[attr-defined]
    again = uow.discovered_files.discover(
        step.id, "a.py", priority=HIGH, action=FileAction.DELETE, exists=True, included=False
    )
    assert again.id == first.id
    assert again.priority is HIGH and again.action is FileAction.DELETE
    assert again.description == "old"  # not given: kept
    assert again.file_exists and not again.is_included
    assert again.original_priority is None and not again.is_user_modified
    assert len(uow.discovered_files.find_by_step(step.id)) == 1
    gone = uow.discovered_files.discover(step.id, "a.py", exists=False, description="new")
    assert not gone.file_exists and gone.description == "new"


def test_rediscovery_keeps_the_users_edits(uow: UnitOfWork) -> None:
    step = data.step(uow)
    file = uow.discovered_files.discover(step.id, "a.py", priority=LOW)
    uow.discovered_files.set_priority(file.id, HIGH)
    edited = uow.discovered_files.exclude(file.id)
    again = uow.discovered_files.discover(
        step.id, "a.py", priority=MEDIUM, included=True, action=FileAction.CREATE
    )
    assert again.priority is HIGH and not again.is_included
    assert again.original_priority is LOW
    assert again.action is FileAction.CREATE
    assert again.user_modified_at == edited.user_modified_at
    uow.discovered_files.add_by_user(step.id, "b.py", priority=LOW)
    rediscovered = uow.discovered_files.discover(step.id, "b.py", priority=HIGH)
    assert rediscovered.priority is LOW and rediscovered.is_user_added


def test_user_priority_change_keeps_the_first_original(uow: UnitOfWork, db: Database) -> None:
    step = data.step(uow)
    file = uow.discovered_files.discover(step.id, "a.py", priority=MEDIUM)
    first = uow.discovered_files.set_priority(file.id, HIGH)
    assert first.original_priority is MEDIUM and first.is_user_modified
    db.clock.advance(data.SECOND)  # type: ignore[attr-defined]
    second = uow.discovered_files.set_priority(file.id, LOW)
    assert second.priority is LOW and second.original_priority is MEDIUM
    assert second.user_modified_at == first.user_modified_at  # a flag keeps its first time
    same = uow.discovered_files.set_priority(file.id, LOW)
    assert same == second
    # Through the generic update too.
    other = uow.discovered_files.discover(step.id, "b.py", priority=HIGH)
    other.priority = LOW
    updated = uow.discovered_files.update(other)
    assert updated.original_priority is HIGH and updated.is_user_modified


def test_user_edits_are_audited(db: Database) -> None:
    with db.unit_of_work() as uow:
        step = data.step(uow)
        file = uow.discovered_files.discover(step.id, "a.py", priority=MEDIUM)
        uow.commit()
    with db.unit_of_work(source=EventSource.USER) as uow:
        uow.discovered_files.set_priority(file.id, HIGH)
        uow.discovered_files.exclude(file.id)
        uow.discovered_files.exclude(file.id)  # no change, no entry
        uow.discovered_files.include(file.id)
        added = uow.discovered_files.add_by_user(step.id, "b.py", description="forgot")
        uow.commit()
    with db.unit_of_work() as uow:
        entries = uow.audit_logs.list(entity_type="discovered_file")[::-1]
        assert [e.event_type for e in entries] == [
            "discovered_file.user_edited",
            "discovered_file.user_edited",
            "discovered_file.user_edited",
            "discovered_file.user_added",
        ]
        assert {e.event_category for e in entries} == {EventCategory.FILE}
        assert {e.source for e in entries} == {EventSource.USER}
        assert {e.workflow_id for e in entries} == {step.workflow_id}
        assert {e.workflow_step_id for e in entries} == {step.id}
        priority, excluded, included, user_added = entries
        assert priority.entity_id == file.id
        assert data.state(priority.before_state)["priority"] == "medium"
        assert data.state(priority.after_state)["priority"] == "high"
        assert data.state(priority.after_state)["original_priority"] == "medium"
        assert data.state(excluded.after_state)["included_at"] is None
        assert data.state(included.after_state)["included_at"]
        assert user_added.entity_id == added.id and user_added.before_state is None


def test_add_by_user(uow: UnitOfWork) -> None:
    step = data.step(uow)
    uow.discovered_files.discover(step.id, "a.py")
    added = uow.discovered_files.add_by_user(step.id, "b.py", priority=HIGH)
    assert added.is_user_added and added.is_included and added.order_index == 1
    assert added.user_added_at == added.included_at
    with pytest.raises(NotFound):
        uow.discovered_files.add_by_user("no-step", "c.py")
    with pytest.raises(InvalidValue) as caught:
        uow.discovered_files.add_by_user(step.id, "")
    assert caught.value.field == "file_path"


def test_find_by_step_orders_by_priority_then_order(uow: UnitOfWork) -> None:
    step = data.step(uow)
    other = data.step(uow, uow.workflows.get(step.workflow_id), 2)
    low = uow.discovered_files.discover(step.id, "low.py", priority=LOW)
    med_b = uow.discovered_files.discover(step.id, "b.py", priority=MEDIUM, order_index=5)
    high = uow.discovered_files.discover(step.id, "high.py", priority=HIGH, included=False)
    med_a = uow.discovered_files.discover(step.id, "a.py", priority=MEDIUM, order_index=5)
    med_z = uow.discovered_files.discover(step.id, "z.py", priority=MEDIUM, order_index=1)
    uow.discovered_files.discover(other.id, "else.py", priority=HIGH)
    found = uow.discovered_files.find_by_step(step.id)
    assert [f.id for f in found] == [high.id, med_z.id, med_a.id, med_b.id, low.id]
    included = uow.discovered_files.find_by_step(step.id, included_only=True)
    assert [f.id for f in included] == [med_z.id, med_a.id, med_b.id, low.id]
    assert uow.discovered_files.find_by_step("no-step") == []
    assert uow.discovered_files.find_by_path(step.id, "a.py") == med_a
    assert uow.discovered_files.find_by_path(step.id, "nope.py") is None


def test_bad_input(uow: UnitOfWork) -> None:
    step = data.step(uow)
    with pytest.raises(NotFound):
        uow.discovered_files.discover("no-step", "a.py")
    with pytest.raises(InvalidValue) as bad_priority:
        uow.discovered_files.discover(step.id, "a.py", priority="urgent")  # type: ignore[arg-type]
    assert bad_priority.value.field == "priority"
    with pytest.raises(InvalidValue) as bad_flag:
        uow.discovered_files.discover(step.id, "a.py", included="yes")  # type: ignore[arg-type]
    assert bad_flag.value.field == "included"
    with pytest.raises(InvalidValue) as bad_only:
        uow.discovered_files.find_by_step(step.id, included_only=None)  # type: ignore[arg-type]
    assert bad_only.value.field == "included_only"
    with pytest.raises(ReferenceMissing):
        uow.discovered_files.add(DiscoveredFile(workflow_step_id="gone", file_path="a"))
    file = uow.discovered_files.discover(step.id, "a.py")
    other = data.step(uow, uow.workflows.get(step.workflow_id), 2)
    file.workflow_step_id = other.id
    with pytest.raises(InvalidValue) as moved:
        uow.discovered_files.update(file)
    assert moved.value.field == "workflow_step_id"
    with pytest.raises(NotFound):
        uow.discovered_files.set_priority("gone", HIGH)
    assert uow.discovered_files.count() == 1


def test_files_go_with_their_step_and_workflow(uow: UnitOfWork) -> None:
    step = data.step(uow)
    uow.discovered_files.discover(step.id, "a.py")
    uow.discovered_files.discover(step.id, "b.py")
    removed = uow.workflow_steps.delete(step.id)
    assert removed["discovered_files"] == 2
    assert uow.discovered_files.count() == 0
    again = data.step(uow)
    uow.discovered_files.discover(again.id, "a.py")
    uow.workflows.delete(again.workflow_id)
    assert uow.discovered_files.count() == 0
