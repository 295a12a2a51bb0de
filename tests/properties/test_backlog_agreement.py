"""The backlog agrees on every backend, its counters stay true and checkpoints round-trip.

A hypothesis state machine creates features, sub-features and tasks (completed or not, in
an initiative or not, under a parent or not) in two projects, completes, reopens and blocks
tasks, moves them between features and sub-features, deletes tasks, features, sub-features
and initiatives (refusals included), links requirements, and takes and restores checkpoints,
each in its own unit of work on every backend. After each step: the same result or error
everywhere, the same contents everywhere, and every feature's `completed_tasks` equal to a
recount of its completed tasks. A restore must give back exactly the checkpoint's snapshot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    invariant,
    multiple,
    rule,
)

from agentkeel.database import Database
from agentkeel.domain.backlog import (
    Checkpoint,
    Feature,
    Requirement,
    RequirementFeature,
    SubFeature,
)
from agentkeel.domain.entity import Entity
from agentkeel.domain.planning import Initiative, Task, TaskDependency, TaskStatus
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import planning
from tests.properties.harness import AgreementMachine, check_agreement, on_every_backend

E = TypeVar("E", bound=Entity)

PROJECTS = ("project-1", "project-2")
# The tables these operations write (the others stay as the setup left them).
TABLES = (
    "initiatives",
    "features",
    "sub_features",
    "requirements",
    "requirement_features",
    "tasks",
    "task_dependencies",
    "checkpoints",
    "audit_logs",
)


class BacklogAgreement(AgreementMachine):
    compared_tables = TABLES
    initiatives = Bundle("initiatives")
    features = Bundle("features")
    sub_features = Bundle("sub_features")
    tasks = Bundle("tasks")
    requirements = Bundle("requirements")
    checkpoints = Bundle("checkpoints")

    def __init__(self, open_backends: Callable[[], dict[str, Database]]) -> None:
        super().__init__(open_backends)
        self.numbers = iter(range(1, 1_000_000))

        def setup(uow: UnitOfWork) -> None:
            for project in PROJECTS:
                uow.projects.add(Project(id=project, name=project))

        self.run(setup)

    # -- the backlog ------------------------------------------------------------------------

    @rule(target=initiatives, project=st.sampled_from(PROJECTS))
    def create_initiative(self, project: str) -> Any:
        return self.created(
            lambda: Initiative(project_id=project, name="i"),
            lambda uow, initiative: uow.initiatives.add(initiative),
        )

    @rule(initiative=initiatives)
    def delete_initiative(self, initiative: str) -> None:
        self.run(lambda uow: uow.initiatives.delete(initiative))

    @rule(target=features, project=st.sampled_from(PROJECTS))
    def create_feature(self, project: str) -> Any:
        return self.created(
            lambda: Feature(project_id=project, name="f"),
            lambda uow, feature: uow.features.add(feature),
        )

    @rule(target=sub_features, feature=features)
    def create_sub_feature(self, feature: str) -> Any:
        return self.created(
            lambda: SubFeature(feature_id=feature, name="s"),
            lambda uow, sub_feature: uow.sub_features.add(sub_feature),
        )

    @rule(feature=features)
    def delete_feature(self, feature: str) -> None:
        self.run(lambda uow: uow.features.delete(feature))

    @rule(sub_feature=sub_features)
    def delete_sub_feature(self, sub_feature: str) -> None:
        self.run(lambda uow: uow.sub_features.delete(sub_feature))

    @rule(target=requirements, project=st.sampled_from(PROJECTS))
    def create_requirement(self, project: str) -> Any:
        return self.created(
            lambda: Requirement(project_id=project, category="c", description="d"),
            lambda uow, requirement: uow.requirements.add(requirement),
        )

    @rule(requirement=requirements, validate=st.booleans())
    def validate_requirement(self, requirement: str, validate: bool) -> None:
        if validate:
            self.run(lambda uow: uow.requirements.validate(requirement))
        else:
            self.run(lambda uow: uow.requirements.invalidate(requirement))

    # Links are built once (the same id everywhere) and added through the generic `add`,
    # which runs the same checks as `link`.
    @rule(requirement=requirements, feature=features)
    def link_requirement(self, requirement: str, feature: str) -> None:
        self.created(
            lambda: RequirementFeature(requirement_id=requirement, feature_id=feature),
            lambda uow, link: uow.requirement_features.add(link),
        )

    @rule(requirement=requirements, feature=features)
    def unlink_requirement(self, requirement: str, feature: str) -> None:
        self.run(lambda uow: uow.requirement_features.unlink(requirement, feature))

    @rule(requirement=requirements)
    def delete_requirement(self, requirement: str) -> None:
        self.run(lambda uow: uow.requirements.delete(requirement))

    # -- tasks ------------------------------------------------------------------------------

    @rule(
        target=tasks,
        project=st.sampled_from(PROJECTS),
        feature=st.one_of(st.none(), features),
        sub_feature=st.one_of(st.none(), sub_features),
        initiative=st.one_of(st.none(), initiatives),
        parent=st.one_of(st.none(), tasks),
        completed=st.booleans(),
    )
    def create_task(
        self,
        project: str,
        feature: str | None,
        sub_feature: str | None,
        initiative: str | None,
        parent: str | None,
        completed: bool,
    ) -> Any:
        return self.created(
            lambda: Task(
                project_id=project,
                feature_id=feature,
                sub_feature_id=sub_feature,
                initiative_id=initiative,
                parent_task_id=parent,
                name="t",
                status=TaskStatus.COMPLETED if completed else TaskStatus.PENDING,
            ),
            lambda uow, task: uow.tasks.add(task),
        )

    @rule(task=tasks, status=st.sampled_from(list(TaskStatus)))
    def move_task(self, task: str, status: TaskStatus) -> None:
        self.run(lambda uow: uow.tasks.move_to(task, status, blocked_by="why"))

    @rule(task=tasks)
    def complete_task(self, task: str) -> None:
        self.run(lambda uow: planning.complete_task(uow, task, "done"))

    @rule(
        task=tasks,
        feature=st.one_of(st.none(), features),
        sub_feature=st.one_of(st.none(), sub_features),
    )
    def move_between_features(
        self, task: str, feature: str | None, sub_feature: str | None
    ) -> None:
        def move(uow: UnitOfWork) -> Task:
            found = uow.tasks.get(task)
            found.feature_id, found.sub_feature_id = feature, sub_feature
            return uow.tasks.update(found)

        self.run(move)

    @rule(task=tasks, depends_on=tasks)
    def add_task_dependency(self, task: str, depends_on: str) -> None:
        self.created(
            lambda: TaskDependency(task_id=task, depends_on_task_id=depends_on),
            lambda uow, edge: uow.task_dependencies.add(edge),
        )

    @rule(task=tasks)
    def delete_task(self, task: str) -> None:
        self.run(lambda uow: uow.tasks.delete(task))

    # -- checkpoints ------------------------------------------------------------------------

    @rule(target=checkpoints, project=st.sampled_from(PROJECTS))
    def create_checkpoint(self, project: str) -> Any:
        # As services.backlog.create_checkpoint, with an id made here: the same everywhere.
        key = f"checkpoint-{next(self.numbers)}"
        outcome = self.run(
            lambda uow: uow.checkpoints.add(
                Checkpoint(id=key, project_id=project, state=uow.checkpoints.snapshot(project))
            )
        )
        return key if outcome[0] == "ok" else multiple()

    @rule(checkpoint=checkpoints)
    def restore(self, checkpoint: str) -> None:
        def restore_and_compare(uow: UnitOfWork) -> Any:
            changes = uow.checkpoints.restore(checkpoint)
            saved = uow.checkpoints.get(checkpoint)
            # Exact: the snapshot taken now is the one the checkpoint holds.
            assert uow.checkpoints.snapshot(saved.project_id) == saved.state
            return changes

        self.run(restore_and_compare)

    # -- what must always hold --------------------------------------------------------------

    @invariant()
    def backends_agree_and_counters_are_true(self) -> None:
        contents = self.agreed_contents()
        completed = Counter(
            t["feature_id"]
            for t in contents["tasks"]
            if t["status"] == "completed" and t["feature_id"] is not None
        )
        features = {f["id"]: f for f in contents["features"]}
        for feature in features.values():
            assert feature["completed_tasks"] == completed[feature["id"]], feature["id"]
        sub_features = {s["id"]: s for s in contents["sub_features"]}
        for task in contents["tasks"]:
            if task["feature_id"] is not None:
                assert features[task["feature_id"]]["project_id"] == task["project_id"]
            if task["sub_feature_id"] is not None:
                assert sub_features[task["sub_feature_id"]]["feature_id"] == task["feature_id"]


@on_every_backend
def test_backlog_agrees_counts_true_and_checkpoints_round_trip(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    # Each example empties PostgreSQL's tables: 40% of the profile's examples (80 of the
    # CI profile's 200) keep this test near 90 s on a shared two-CPU machine.
    check_agreement(BacklogAgreement, sqlite_template, request, share=0.4)
