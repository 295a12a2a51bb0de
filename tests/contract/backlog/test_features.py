"""Features and sub-features: defaults, finders, status machines, the links of tasks to
them, `completed_tasks` kept equal to a recount on every path, and deletes."""

from __future__ import annotations

import pytest

from agentkeel.domain.backlog import Feature, FeaturePriority, FeatureStatus, SubFeature
from agentkeel.domain.errors import (
    InvalidTransition,
    InvalidValue,
    NotFound,
    ReferenceMissing,
    StillReferenced,
)
from agentkeel.domain.planning import TaskStatus
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.planning import complete_task
from tests import factories

F = FeatureStatus
S = TaskStatus


def _counted(uow: UnitOfWork, *features: Feature) -> list[int]:
    """Each feature's stored `completed_tasks`, checked against a recount."""
    counts = []
    for feature in features:
        stored = uow.features.get(feature.id).completed_tasks
        assert stored == uow.features.recount(feature.id)
        counts.append(stored)
    return counts


def _done(uow: UnitOfWork, task_id: str) -> None:
    uow.tasks.move_to(task_id, S.IN_PROGRESS)
    uow.tasks.complete(task_id)


# -- features and sub-features ------------------------------------------------------------------


def test_feature_defaults_and_finders(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    login = factories.feature(uow, project)
    assert login.priority is FeaturePriority.SHOULD and login.status is F.BACKLOG
    assert (login.estimated_tasks, login.completed_tasks) == (0, 0)
    export = factories.feature(
        uow, project, "Export", priority=FeaturePriority.MUST, estimated_tasks=4
    )
    uow.features.move_to(export.id, F.PLANNED)
    factories.feature(uow, factories.project(uow, "Other"), "Elsewhere")
    assert [f.name for f in uow.features.find_by_project(project.id)] == ["Login", "Export"]
    assert [f.name for f in uow.features.find_by_project(project.id, status=F.PLANNED)] == [
        "Export"
    ]
    by_priority = uow.features.find_by_project(project.id, priority=FeaturePriority.MUST)
    assert [f.name for f in by_priority] == ["Export"]
    assert [f.name for f in uow.features.find_by_status(F.BACKLOG)] == ["Login", "Elsewhere"]
    assert [f.name for f in uow.features.find_by_status(F.BACKLOG, project_id=project.id)] == [
        "Login"
    ]
    with pytest.raises(InvalidValue, match="status"):
        uow.features.find_by_status(None)  # type: ignore[arg-type]


def test_feature_status_machine(uow: UnitOfWork) -> None:
    feature = factories.feature(uow, factories.project(uow))
    for status in (F.PLANNED, F.IN_PROGRESS, F.DONE, F.IN_PROGRESS, F.CANCELLED, F.BACKLOG):
        feature = uow.features.move_to(feature.id, status)
        assert feature.status is status
    with pytest.raises(InvalidTransition, match="backlog"):
        uow.features.move_to(feature.id, F.DONE)
    feature.status = F.DONE
    with pytest.raises(InvalidTransition):
        uow.features.update(feature)
    with pytest.raises(NotFound):
        uow.features.move_to("nope", F.PLANNED)


def test_a_feature_stays_in_its_project_and_its_count_is_not_written(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    feature = factories.feature(uow, project)
    feature.project_id = factories.project(uow, "Other").id
    with pytest.raises(InvalidValue, match="project_id"):
        uow.features.update(feature)
    feature = uow.features.get(feature.id)
    feature.completed_tasks = 3
    with pytest.raises(InvalidValue, match="completed_tasks"):
        uow.features.update(feature)
    with pytest.raises(InvalidValue, match="completed_tasks"):
        factories.feature(uow, project, "Counted", completed_tasks=1)
    feature = uow.features.get(feature.id)
    feature.estimated_tasks = 7
    assert uow.features.update(feature).estimated_tasks == 7
    with pytest.raises(ReferenceMissing):
        factories.feature(uow, project.model_copy(update={"id": "missing"}))


def test_sub_feature_defaults_finders_and_machine(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    feature = factories.feature(uow, project)
    other = factories.feature(uow, project, "Other")
    form = factories.sub_feature(uow, feature)
    assert form.status is F.BACKLOG and form.created_at is not None
    api = factories.sub_feature(uow, feature, "API")
    factories.sub_feature(uow, other, "Elsewhere")
    uow.sub_features.move_to(api.id, F.IN_PROGRESS)
    assert [s.name for s in uow.sub_features.find_by_feature(feature.id)] == ["Form", "API"]
    in_progress = uow.sub_features.find_by_feature(feature.id, status=F.IN_PROGRESS)
    assert [s.name for s in in_progress] == ["API"]
    assert [s.name for s in uow.sub_features.find_by_status(F.BACKLOG)] == ["Form", "Elsewhere"]
    found = uow.sub_features.find_by_status(F.BACKLOG, feature_id=other.id)
    assert [s.name for s in found] == ["Elsewhere"]
    with pytest.raises(InvalidTransition):
        uow.sub_features.move_to(form.id, F.DONE)
    form.feature_id = other.id
    with pytest.raises(InvalidValue, match="feature_id"):
        uow.sub_features.update(form)
    with pytest.raises(ReferenceMissing):
        uow.sub_features.add(SubFeature(feature_id="missing", name="x"))


# -- the links of tasks ---------------------------------------------------------------------------


def test_a_tasks_feature_is_of_its_project_and_its_sub_feature_of_its_feature(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    feature = factories.feature(uow, project)
    other = factories.feature(uow, project, "Other")
    form = factories.sub_feature(uow, feature)
    elsewhere = factories.feature(uow, factories.project(uow, "Elsewhere"))
    with pytest.raises(InvalidValue, match="feature_id"):
        factories.task(uow, project, feature_id=elsewhere.id)
    with pytest.raises(InvalidValue, match="sub_feature_id"):
        factories.task(uow, project, feature_id=other.id, sub_feature_id=form.id)
    task = factories.task(uow, project, sub_feature_id=form.id)
    assert task.feature_id == feature.id  # taken from its sub-feature
    task.feature_id = other.id
    with pytest.raises(InvalidValue, match="sub_feature_id"):
        uow.tasks.update(task)
    with pytest.raises(ReferenceMissing):
        factories.task(uow, project, feature_id="missing")
    with pytest.raises(ReferenceMissing):
        factories.task(uow, project, sub_feature_id="missing")


# -- completed_tasks ------------------------------------------------------------------------------


def test_completed_tasks_follows_completions_and_reopenings(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    feature = factories.feature(uow, project)
    form = factories.sub_feature(uow, feature)
    one = factories.task(uow, project, "one", feature_id=feature.id)
    two = factories.task(uow, project, "two", sub_feature_id=form.id)
    factories.task(uow, project, "free")
    assert _counted(uow, feature) == [0]
    _done(uow, one.id)
    assert _counted(uow, feature) == [1]
    uow.tasks.move_to(two.id, S.IN_PROGRESS)
    complete_task(uow, two.id, "done")
    assert _counted(uow, feature) == [2]
    uow.tasks.move_to(one.id, S.PENDING)  # reopened
    assert _counted(uow, feature) == [1]
    # Created completed counts at once.
    factories.task(uow, project, "born done", feature_id=feature.id, status=S.COMPLETED)
    assert _counted(uow, feature) == [2]


def test_completed_tasks_follows_moves_between_features(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    first, second = factories.feature(uow, project), factories.feature(uow, project, "Second")
    part = factories.sub_feature(uow, second)
    task = factories.task(uow, project, feature_id=first.id)
    _done(uow, task.id)
    assert _counted(uow, first, second) == [1, 0]
    task = uow.tasks.get(task.id)
    task.feature_id = second.id
    task = uow.tasks.update(task)
    assert _counted(uow, first, second) == [0, 1]
    task.sub_feature_id = part.id
    task = uow.tasks.update(task)
    assert _counted(uow, first, second) == [0, 1]
    task.sub_feature_id, task.feature_id = None, None
    task = uow.tasks.update(task)
    assert _counted(uow, first, second) == [0, 0]
    task.feature_id = first.id
    uow.tasks.update(task)
    assert _counted(uow, first, second) == [1, 0]


def test_completed_tasks_follows_deletes_and_their_cascades(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    feature = factories.feature(uow, project)
    initiative = factories.initiative(uow, project)
    phase = factories.phase(uow, initiative)
    alone = factories.task(uow, project, "alone", feature_id=feature.id)
    parent = factories.task(uow, project, "parent", feature_id=feature.id)
    child = factories.task(uow, project, "child", feature_id=feature.id, parent_task_id=parent.id)
    in_phase = factories.task(uow, project, "phase", feature_id=feature.id, phase_id=phase.id)
    in_initiative = factories.task(
        uow, project, "initiative", feature_id=feature.id, initiative_id=initiative.id
    )
    for task in (alone, parent, child, in_phase, in_initiative):
        _done(uow, task.id)
    assert _counted(uow, feature) == [5]
    uow.tasks.delete(alone.id)
    assert _counted(uow, feature) == [4]
    uow.tasks.delete(parent.id)  # and its subtask
    assert _counted(uow, feature) == [2]
    uow.phases.delete(phase.id)
    assert _counted(uow, feature) == [1]
    uow.initiatives.delete(initiative.id)
    assert _counted(uow, feature) == [0]


def test_completed_tasks_of_tasks_added_in_bulk(uow: UnitOfWork) -> None:
    from agentkeel.domain.planning import Task

    project = factories.project(uow)
    feature = factories.feature(uow, project)
    uow.tasks.add_many(
        [
            Task(project_id=project.id, name=str(i), feature_id=feature.id, status=status)
            for i, status in enumerate([S.COMPLETED, S.PENDING, S.COMPLETED])
        ]
    )
    assert _counted(uow, feature) == [2]


def test_a_refused_task_write_changes_no_count(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    feature = factories.feature(uow, project)
    task = factories.task(uow, project, feature_id=feature.id, status=S.COMPLETED)
    task.feature_id = "missing"
    with pytest.raises(ReferenceMissing):
        uow.tasks.update(task)
    assert _counted(uow, feature) == [1]


# -- deletes ---------------------------------------------------------------------------------------


def test_a_feature_held_by_tasks_is_not_deleted_and_the_error_says_how_many(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    feature = factories.feature(uow, project)
    form = factories.sub_feature(uow, feature)
    factories.task(uow, project, "one", feature_id=feature.id)
    factories.task(uow, project, "two", sub_feature_id=form.id)
    with pytest.raises(StillReferenced, match=r"2 tasks hold it") as refused:
        uow.features.delete(feature.id)
    assert (refused.value.referenced_by, refused.value.field, refused.value.count) == (
        "task",
        "feature_id",
        2,
    )
    with pytest.raises(StillReferenced, match=r"1 task holds it") as refused:
        uow.sub_features.delete(form.id)
    assert refused.value.field == "sub_feature_id"
    assert uow.features.get(feature.id) and uow.sub_features.get(form.id)


def test_a_feature_without_tasks_goes_with_its_sub_features_and_links(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    feature = factories.feature(uow, project)
    factories.sub_feature(uow, feature)
    requirement = factories.requirement(uow, project)
    uow.requirement_features.link(requirement.id, feature.id)
    removed = uow.features.delete(feature.id)
    assert removed == {"features": 1, "sub_features": 1, "requirement_features": 1}
    assert uow.requirements.get(requirement.id)


def test_deleting_the_project_removes_features_sub_features_and_tasks_together(
    uow: UnitOfWork,
) -> None:
    project = factories.project(uow)
    feature = factories.feature(uow, project)
    form = factories.sub_feature(uow, feature)
    factories.task(uow, project, "one", feature_id=feature.id, status=S.COMPLETED)
    factories.task(uow, project, "two", sub_feature_id=form.id)
    removed = uow.projects.delete(project.id)
    assert removed["features"] == 1 and removed["sub_features"] == 1 and removed["tasks"] == 2
    assert uow.features.count() == uow.sub_features.count() == uow.tasks.count() == 0
