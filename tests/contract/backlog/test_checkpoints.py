"""Checkpoints: snapshots of a project's backlog and tasks, listed newest first, append-only,
restored exactly in one transaction with an audit entry."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from agentkeel.domain.agents import Conversation
from agentkeel.domain.backlog import Checkpoint, FeatureStatus
from agentkeel.domain.errors import InvalidValue, NotFound, Protected, ReferenceMissing
from agentkeel.domain.planning import TaskStatus
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.backlog import create_checkpoint
from agentkeel.services.planning import assign_task
from tests import factories

S = TaskStatus


def _tick(uow: UnitOfWork) -> None:
    uow.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]


def _backlog(uow: UnitOfWork) -> dict[str, Any]:
    """A project with one of everything a snapshot holds."""
    project = factories.project(uow)
    feature = factories.feature(uow, project)
    form = factories.sub_feature(uow, feature)
    requirement = factories.requirement(uow, project)
    uow.requirement_features.link(requirement.id, feature.id)
    first = factories.task(uow, project, "first", feature_id=feature.id)
    second = factories.task(uow, project, "second", sub_feature_id=form.id, parent_task_id=first.id)
    uow.task_dependencies.create(second.id, first.id)
    agent = factories.agent(uow)
    assign_task(uow, first.id, agent.id)
    uow.tasks.move_to(first.id, S.IN_PROGRESS)
    uow.tasks.complete(first.id, "did it")
    return {
        "project": project,
        "feature": feature,
        "form": form,
        "requirement": requirement,
        "first": first,
        "second": second,
        "agent": agent,
    }


def test_a_snapshot_holds_the_backlog_and_every_task(uow: UnitOfWork) -> None:
    made = _backlog(uow)
    factories.feature(uow, factories.project(uow, "Other"), "Not ours")
    state = uow.checkpoints.snapshot(made["project"].id)
    assert state["format"] == 1 and state["project_id"] == made["project"].id
    counts = {name: len(rows) for name, rows in state.items() if isinstance(rows, list)}
    assert counts == {
        "features": 1,
        "sub_features": 1,
        "requirements": 1,
        "requirement_features": 1,
        "tasks": 2,
        "task_dependencies": 1,
    }
    (feature,) = state["features"]
    assert feature["completed_tasks"] == 1 and "row_version" not in feature
    first = next(t for t in state["tasks"] if t["name"] == "first")
    assert first["status"] == "completed" and first["assigned_agent_id"] == made["agent"].id
    with pytest.raises(NotFound):
        uow.checkpoints.snapshot("missing")


def test_checkpoints_list_newest_first_and_the_latest_is_one_call(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    assert uow.checkpoints.latest(project.id) is None
    first = create_checkpoint(uow, project.id, "first", "before planning", "abc1234")
    _tick(uow)
    second = create_checkpoint(uow, project.id, "second")
    create_checkpoint(uow, factories.project(uow, "Other").id, "elsewhere")
    assert first.git_commit == "abc1234" and first.reason == "before planning"
    assert [c.name for c in uow.checkpoints.list(project_id=project.id)] == ["second", "first"]
    assert [c.name for c in uow.checkpoints.list(project_id=project.id, limit=1)] == ["second"]
    assert uow.checkpoints.latest(project.id) == second
    assert uow.checkpoints.get(first.id) == first
    with pytest.raises(InvalidValue, match="git_commit"):
        create_checkpoint(uow, project.id, git_commit="not a commit")
    with pytest.raises(NotFound):
        create_checkpoint(uow, "missing")


def test_checkpoints_are_append_only(uow: UnitOfWork) -> None:
    checkpoint = create_checkpoint(uow, factories.project(uow).id, "one")
    checkpoint.name = "renamed"
    with pytest.raises(Protected):
        uow.checkpoints.update(checkpoint)
    with pytest.raises(Protected):
        uow.checkpoints.delete(checkpoint.id)
    assert uow.checkpoints.count() == 1


def test_a_stored_state_must_be_a_snapshot_of_its_project(uow: UnitOfWork) -> None:
    made = _backlog(uow)
    project_id = made["project"].id
    state = uow.checkpoints.snapshot(project_id)
    other = factories.project(uow, "Other")
    bad_states: list[Any] = [
        None,
        [],
        {"format": 1},
        {**state, "format": 2},
        {**state, "project_id": other.id},
        {**state, "features": [{"name": "no id"}]},
        {**state, "sub_features": []},  # the tasks' sub-feature is missing
        {**state, "tasks": [*state["tasks"], state["tasks"][0]]},
    ]
    wrong_count = copy.deepcopy(state)
    wrong_count["features"][0]["completed_tasks"] = 5
    bad_states.append(wrong_count)
    for bad in bad_states:
        with pytest.raises(InvalidValue, match="state"):
            uow.checkpoints.add(Checkpoint(project_id=project_id, state=bad))
    with pytest.raises(InvalidValue, match="state"):
        uow.checkpoints.add(Checkpoint(project_id=other.id, state=state))
    assert uow.checkpoints.count() == 0


def test_restore_brings_back_exactly_the_snapshot(uow: UnitOfWork) -> None:
    made = _backlog(uow)
    project = made["project"]
    checkpoint = create_checkpoint(uow, project.id, "before", "try something")
    before = uow.checkpoints.snapshot(project.id)
    _tick(uow)
    # Change everything: new rows, changed rows, deleted rows, moves between features.
    later = factories.feature(uow, project, "Later")
    feature = uow.features.move_to(made["feature"].id, FeatureStatus.PLANNED)
    uow.tasks.move_to(made["first"].id, S.PENDING)  # reopened
    third = factories.task(uow, project, "third", feature_id=later.id, status=S.COMPLETED)
    factories.task(uow, project, "under third", parent_task_id=third.id)
    uow.task_dependencies.remove(made["second"].id, made["first"].id)
    uow.task_dependencies.create(made["first"].id, third.id)
    second = uow.tasks.get(made["second"].id)
    second.sub_feature_id, second.feature_id, second.parent_task_id = None, later.id, third.id
    uow.tasks.update(second)
    uow.requirement_features.unlink(made["requirement"].id, feature.id)
    uow.requirement_features.link(made["requirement"].id, feature.id)  # a new link row
    uow.requirements.delete(factories.requirement(uow, project, "gone soon").id)
    uow.requirements.validate(made["requirement"].id)
    factories.requirement(uow, project, "new")
    assert uow.checkpoints.snapshot(project.id) != before

    changes = uow.checkpoints.restore(checkpoint.id)

    assert uow.checkpoints.snapshot(project.id) == before
    assert uow.features.get(feature.id).completed_tasks == uow.features.recount(feature.id) == 1
    assert uow.features.find(later.id) is None
    assert changes["tasks"] == {"created": 0, "updated": 2, "deleted": 2}
    assert changes["features"] == {"created": 0, "updated": 1, "deleted": 1}
    assert changes["requirements"] == {"created": 0, "updated": 1, "deleted": 1}
    assert changes["requirement_features"] == {"created": 1, "updated": 0, "deleted": 1}
    assert changes["task_dependencies"] == {"created": 1, "updated": 0, "deleted": 1}
    (entry,) = uow.audit_logs.list(event_type="checkpoint.restored")
    assert entry.entity_id == checkpoint.id and "tasks: 2 updated, 2 deleted" in entry.message
    assert isinstance(entry.event_data, dict) and entry.event_data["changes"] == changes
    # The restored rows can be written again in this unit of work and counted on.
    uow.tasks.move_to(made["first"].id, S.PENDING)
    assert uow.features.get(feature.id).completed_tasks == uow.features.recount(feature.id) == 0
    # Restoring again changes nothing.
    create_checkpoint(uow, project.id, "now")
    assert uow.checkpoints.restore(uow.checkpoints.latest(project.id).id) == {}  # type: ignore[union-attr]


def test_restore_brings_back_deleted_rows(uow: UnitOfWork) -> None:
    made = _backlog(uow)
    project = made["project"]
    checkpoint = create_checkpoint(uow, project.id)
    before = uow.checkpoints.snapshot(project.id)
    uow.tasks.delete(made["first"].id)  # and its subtask, and the dependency
    uow.features.delete(made["feature"].id)  # and its sub-feature and link
    uow.requirements.delete(made["requirement"].id)
    changes = uow.checkpoints.restore(checkpoint.id)
    assert uow.checkpoints.snapshot(project.id) == before
    assert changes["tasks"] == {"created": 2, "updated": 0, "deleted": 0}
    assert uow.features.get(made["feature"].id).completed_tasks == 1


def test_restore_clears_the_links_of_agents_and_conversations_to_removed_tasks(
    uow: UnitOfWork,
) -> None:
    made = _backlog(uow)
    project = made["project"]
    checkpoint = create_checkpoint(uow, project.id)
    later = factories.task(uow, project, "later")
    worker = factories.agent(uow, "calm-heron")
    assign_task(uow, later.id, worker.id)
    talk = uow.conversations.add(
        Conversation(
            from_agent_id=worker.id, to_agent_id=made["agent"].id, question="?", task_id=later.id
        )
    )
    uow.checkpoints.restore(checkpoint.id)
    assert uow.tasks.find(later.id) is None
    assert uow.agents.get(worker.id).task_id is None
    assert uow.conversations.get(talk.id).task_id is None
    (entry,) = uow.audit_logs.list(event_type="checkpoint.restored")
    assert isinstance(entry.event_data, dict)
    assert entry.event_data["cleared"] == {"agents.task_id": 1, "conversations.task_id": 1}


def test_restore_outside_the_snapshot(uow: UnitOfWork) -> None:
    made = _backlog(uow)
    project = made["project"]
    initiative = factories.initiative(uow, project)
    factories.task(uow, project, "planned", initiative_id=initiative.id)
    checkpoint = create_checkpoint(uow, project.id)
    # An agent deleted since: its task comes back unassigned.
    uow.agents.delete(made["agent"].id)
    uow.tasks.delete(made["first"].id)
    uow.checkpoints.restore(checkpoint.id)
    assert uow.tasks.get(made["first"].id).assigned_agent_id is None
    (entry,) = uow.audit_logs.list(event_type="checkpoint.restored")
    assert "1 task(s) unassigned" in entry.message
    # An initiative deleted since: its tasks cannot come back alone (no retry would bring
    # it back: not a Conflict).
    uow.initiatives.delete(initiative.id)
    with pytest.raises(ReferenceMissing) as caught:
        uow.checkpoints.restore(checkpoint.id)
    assert (caught.value.entity, caught.value.field) == ("task", "initiative_id")
    assert (caught.value.value, caught.value.target) == (initiative.id, "initiative")
    with pytest.raises(NotFound):
        uow.checkpoints.restore("missing")
