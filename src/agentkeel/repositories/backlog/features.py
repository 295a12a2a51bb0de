"""Features and sub-features of a project, and the rule that keeps a task's feature links in
its project.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection, Iterable

from sqlalchemy import Table

from agentkeel.domain.backlog import (
    Feature,
    FeaturePriority,
    FeatureStatus,
    SubFeature,
)
from agentkeel.domain.errors import (
    InvalidValue,
    StillReferenced,
)
from agentkeel.domain.planning import Task, TaskStatus
from agentkeel.ports.store import (
    Eq,
    Row,
    RowStore,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.rules import OLDEST_FIRST, fixed
from agentkeel.schema import table_of
from agentkeel.schema.columns import FEATURES, SUB_FEATURES, TASKS


def read_task_links_ahead(
    read_rows: Callable[[Table, Collection[str | None]], None], tasks: Iterable[Task]
) -> None:
    """Read ahead what `check_task_links` reads for a batch of tasks, a table at a time."""
    tasks = list(tasks)
    read_rows(table_of(SubFeature), {task.sub_feature_id for task in tasks})
    read_rows(table_of(Feature), {task.feature_id for task in tasks})


def check_task_links(
    read: Callable[[Table, str], Row | None], task: Task, stored: Row | None
) -> None:
    """A task's feature is of the task's project, its sub-feature of its feature (a task
    given a sub-feature and no feature takes the sub-feature's). A missing row is left to
    the foreign key (ReferenceMissing). Called by the task repository on every write, with
    its reader of rows (`read(table, id)`)."""

    def changed(column: str) -> bool:
        return stored is None or stored[column] != getattr(task, column)

    if task.sub_feature_id is not None and (changed("sub_feature_id") or changed("feature_id")):
        sub_feature = read(table_of(SubFeature), task.sub_feature_id)
        if sub_feature is not None:
            if task.feature_id is None:
                task.feature_id = sub_feature[SUB_FEATURES.feature_id]
            elif sub_feature[SUB_FEATURES.feature_id] != task.feature_id:
                raise InvalidValue(
                    "task",
                    "sub_feature_id",
                    task.sub_feature_id,
                    f"is a sub-feature of feature {sub_feature[SUB_FEATURES.feature_id]!r}, "
                    f"not of the task's feature {task.feature_id!r}",
                )
    if task.feature_id is not None and changed("feature_id"):
        feature = read(table_of(Feature), task.feature_id)
        if feature is not None and feature[FEATURES.project_id] != task.project_id:
            raise InvalidValue(
                "task",
                "feature_id",
                task.feature_id,
                f"is a feature of project {feature[FEATURES.project_id]!r}, "
                f"not of the task's project {task.project_id!r}",
            )


def _refuse_if_held(store: RowStore, label: str, key: str, column: str) -> None:
    """StillReferenced, with how many tasks hold the row, if any task does."""
    held = store.count(table_of(Task), [Eq(column, key)])
    if held:
        raise StillReferenced(label, key, "task", column, count=held)


class FeaturesTable(TableRepository[Feature]):
    entity = Feature

    def find_by_project(
        self,
        project_id: str,
        *,
        status: FeatureStatus | None = None,
        priority: FeaturePriority | None = None,
    ) -> builtins.list[Feature]:
        filters = self._eq_filters(status=status, priority=priority)
        return self._select([Eq(FEATURES.project_id, project_id), *filters], OLDEST_FIRST)

    def find_by_status(
        self, status: FeatureStatus, *, project_id: str | None = None
    ) -> builtins.list[Feature]:
        filters = self._eq_filters(status=status, project_id=project_id)
        if not any(isinstance(term, Eq) and term.column == "status" for term in filters):
            raise InvalidValue(self._label, "status", status, "must be a feature status")
        return self._select(filters, OLDEST_FIRST)

    def move_to(self, key: str, status: FeatureStatus) -> Feature:
        return self._move(key, status)

    def recount(self, key: str) -> int:
        key = self._key(key)
        self.get(key)
        completed = [Eq(TASKS.feature_id, key), Eq(TASKS.status, TaskStatus.COMPLETED.value)]
        return self._store.count(table_of(Task), completed)

    def _before_write(self, feature: Feature, stored: Row | None) -> None:
        fixed(self._label, feature, stored, (FEATURES.project_id,))
        counted = 0 if stored is None else stored[FEATURES.completed_tasks]
        if feature.completed_tasks != counted:
            raise InvalidValue(
                self._label,
                "completed_tasks",
                feature.completed_tasks,
                f"is counted from the feature's tasks and cannot be written (it is {counted})",
            )

    def _before_delete(self, feature: Feature) -> None:
        _refuse_if_held(self._store, self._label, feature.id, "feature_id")


class SubFeaturesTable(TableRepository[SubFeature]):
    entity = SubFeature

    def find_by_feature(
        self, feature_id: str, *, status: FeatureStatus | None = None
    ) -> builtins.list[SubFeature]:
        filters = self._eq_filters(status=status)
        return self._select([Eq(SUB_FEATURES.feature_id, feature_id), *filters], OLDEST_FIRST)

    def find_by_status(
        self, status: FeatureStatus, *, feature_id: str | None = None
    ) -> builtins.list[SubFeature]:
        filters = self._eq_filters(status=status, feature_id=feature_id)
        if not any(isinstance(term, Eq) and term.column == "status" for term in filters):
            raise InvalidValue(self._label, "status", status, "must be a feature status")
        return self._select(filters, OLDEST_FIRST)

    def move_to(self, key: str, status: FeatureStatus) -> SubFeature:
        return self._move(key, status)

    def _before_write(self, sub_feature: SubFeature, stored: Row | None) -> None:
        fixed(self._label, sub_feature, stored, (SUB_FEATURES.feature_id,))

    def _before_delete(self, sub_feature: SubFeature) -> None:
        _refuse_if_held(self._store, self._label, sub_feature.id, "sub_feature_id")
