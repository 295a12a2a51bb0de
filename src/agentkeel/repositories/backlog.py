"""Repositories of the backlog context: only what is particular to each aggregate.

`features.completed_tasks` is kept by the generic repository's counters (`counters.py`),
on every path that writes tasks; the task's own links to a feature and a sub-feature are
checked here (`check_task_links`), called from the task repository's rules.
"""

from __future__ import annotations

import builtins
from typing import Any

from agentkeel.domain.audit import EventCategory
from agentkeel.domain.backlog import (
    Checkpoint,
    Feature,
    FeaturePriority,
    FeatureStatus,
    Requirement,
    RequirementFeature,
    RequirementPriority,
    SubFeature,
)
from agentkeel.domain.backlog.snapshots import (
    SNAPSHOT_TABLES,
    check_snapshot,
    snapshot,
    snapshot_entities,
    snapshot_row,
)
from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import (
    InvalidValue,
    NotFound,
    Protected,
    ReferenceMissing,
    StillReferenced,
)
from agentkeel.domain.planning import Initiative, Phase, Task, TaskStatus
from agentkeel.domain.workspace import Project
from agentkeel.ports.store import (
    AnyRelated,
    Asc,
    Desc,
    Eq,
    In,
    IsNull,
    NotNull,
    RefersTo,
    Row,
    RowStore,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema import metadata, table_of
from agentkeel.schema.graph import plan_delete

OLDEST_FIRST = (Asc("created_at"),)


def _stays(label: str, entity: Any, stored: Row | None, column: str) -> None:
    """Refuse moving a stored row to another parent (InvalidValue naming the column)."""
    if stored is not None and stored[column] != getattr(entity, column):
        was = stored[column]
        raise InvalidValue(label, column, getattr(entity, column), f"cannot change (was {was!r})")


def check_task_links(store: RowStore, task: Task, stored: Row | None) -> None:
    """A task's feature is of the task's project, its sub-feature of its feature (a task
    given a sub-feature and no feature takes the sub-feature's). A missing row is left to
    the foreign key (ReferenceMissing). Called by the task repository on every write."""

    def changed(column: str) -> bool:
        return stored is None or stored[column] != getattr(task, column)

    if task.sub_feature_id is not None and (changed("sub_feature_id") or changed("feature_id")):
        sub_feature = store.get(table_of(SubFeature), task.sub_feature_id)
        if sub_feature is not None:
            if task.feature_id is None:
                task.feature_id = sub_feature["feature_id"]
            elif sub_feature["feature_id"] != task.feature_id:
                raise InvalidValue(
                    "task",
                    "sub_feature_id",
                    task.sub_feature_id,
                    f"is a sub-feature of feature {sub_feature['feature_id']!r}, "
                    f"not of the task's feature {task.feature_id!r}",
                )
    if task.feature_id is not None and changed("feature_id"):
        feature = store.get(table_of(Feature), task.feature_id)
        if feature is not None and feature["project_id"] != task.project_id:
            raise InvalidValue(
                "task",
                "feature_id",
                task.feature_id,
                f"is a feature of project {feature['project_id']!r}, "
                f"not of the task's project {task.project_id!r}",
            )


def _refuse_if_held(repository: TableRepository[Any], key: str, column: str) -> None:
    """StillReferenced, with how many tasks hold the row, if any task does."""
    held = repository._store.count(table_of(Task), [Eq(column, key)])
    if held:
        raise StillReferenced(repository._label, key, "task", column, count=held)


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
        return self._select([Eq("project_id", project_id), *filters], OLDEST_FIRST)

    def find_by_status(
        self, status: FeatureStatus, *, project_id: str | None = None
    ) -> builtins.list[Feature]:
        filters = self._eq_filters(status=status, project_id=project_id)
        if not any(isinstance(term, Eq) and term.column == "status" for term in filters):
            raise InvalidValue(self._label, "status", status, "must be a feature status")
        return self._select(filters, OLDEST_FIRST)

    def move_to(self, key: str, status: FeatureStatus) -> Feature:
        feature = self.get(key)
        feature.status = status
        return self.update(feature)

    def recount(self, key: str) -> int:
        key = self._key(key)
        self.get(key)
        completed = [Eq("feature_id", key), Eq("status", TaskStatus.COMPLETED.value)]
        return self._store.count(table_of(Task), completed)

    def _before_write(self, feature: Feature, stored: Row | None) -> None:
        _stays(self._label, feature, stored, "project_id")
        counted = 0 if stored is None else stored["completed_tasks"]
        if feature.completed_tasks != counted:
            raise InvalidValue(
                self._label,
                "completed_tasks",
                feature.completed_tasks,
                f"is counted from the feature's tasks and cannot be written (it is {counted})",
            )

    def _before_delete(self, feature: Feature) -> None:
        _refuse_if_held(self, feature.id, "feature_id")


class SubFeaturesTable(TableRepository[SubFeature]):
    entity = SubFeature

    def find_by_feature(
        self, feature_id: str, *, status: FeatureStatus | None = None
    ) -> builtins.list[SubFeature]:
        filters = self._eq_filters(status=status)
        return self._select([Eq("feature_id", feature_id), *filters], OLDEST_FIRST)

    def find_by_status(
        self, status: FeatureStatus, *, feature_id: str | None = None
    ) -> builtins.list[SubFeature]:
        filters = self._eq_filters(status=status, feature_id=feature_id)
        if not any(isinstance(term, Eq) and term.column == "status" for term in filters):
            raise InvalidValue(self._label, "status", status, "must be a feature status")
        return self._select(filters, OLDEST_FIRST)

    def move_to(self, key: str, status: FeatureStatus) -> SubFeature:
        sub_feature = self.get(key)
        sub_feature.status = status
        return self.update(sub_feature)

    def _before_write(self, sub_feature: SubFeature, stored: Row | None) -> None:
        _stays(self._label, sub_feature, stored, "feature_id")

    def _before_delete(self, sub_feature: SubFeature) -> None:
        _refuse_if_held(self, sub_feature.id, "sub_feature_id")


class RequirementsTable(TableRepository[Requirement]):
    entity = Requirement

    def find_by_project(
        self,
        project_id: str,
        *,
        category: str | None = None,
        priority: RequirementPriority | None = None,
        validated: bool | None = None,
    ) -> builtins.list[Requirement]:
        filters = self._eq_filters(category=category, priority=priority)
        match validated:
            case None:
                pass
            case True:
                filters.append(NotNull("validated_at"))
            case False:
                filters.append(IsNull("validated_at"))
            case _:
                raise InvalidValue(
                    self._label, "validated", validated, "must be True, False or None"
                )
        return self._select([Eq("project_id", project_id), *filters], OLDEST_FIRST)

    def validate(self, key: str) -> Requirement:
        requirement = self.get(key)
        requirement._raise_flag("validated_at", self._store.clock.now())
        return self.update(requirement)

    def invalidate(self, key: str) -> Requirement:
        requirement = self.get(key)
        requirement._lower_flag("validated_at")
        return self.update(requirement)

    def _before_write(self, requirement: Requirement, stored: Row | None) -> None:
        _stays(self._label, requirement, stored, "project_id")


class RequirementFeaturesTable(TableRepository[RequirementFeature]):
    entity = RequirementFeature

    def link(self, requirement_id: str, feature_id: str) -> RequirementFeature:
        return self.add(RequirementFeature(requirement_id=requirement_id, feature_id=feature_id))

    def unlink(self, requirement_id: str, feature_id: str) -> None:
        pair = [Eq("requirement_id", requirement_id), Eq("feature_id", feature_id)]
        link = self._first(pair)
        if link is None:
            raise NotFound(self._label, f"{requirement_id}->{feature_id}")
        self.delete(link.id)

    def features_of(self, requirement_id: str) -> builtins.list[Feature]:
        features = FeaturesTable(self._state)
        linked = AnyRelated(self._table.name, "feature_id", (Eq("requirement_id", requirement_id),))
        return features._select([linked], OLDEST_FIRST)

    def requirements_of(self, feature_id: str) -> builtins.list[Requirement]:
        requirements = RequirementsTable(self._state)
        linked = AnyRelated(self._table.name, "requirement_id", (Eq("feature_id", feature_id),))
        return requirements._select([linked], OLDEST_FIRST)

    def _before_write(self, link: RequirementFeature, stored: Row | None) -> None:
        requirement = self._store.get(table_of(Requirement), link.requirement_id)
        feature = self._store.get(table_of(Feature), link.feature_id)
        if (
            requirement is not None
            and feature is not None
            and requirement["project_id"] != feature["project_id"]
        ):
            raise InvalidValue(
                self._label,
                "feature_id",
                link.feature_id,
                f"is a feature of project {feature['project_id']!r}, not of the "
                f"requirement's project {requirement['project_id']!r}",
            )


class CheckpointsTable(TableRepository[Checkpoint]):
    entity = Checkpoint

    def list(self, project_id: str, *, limit: int | None = None) -> builtins.list[Checkpoint]:
        return self._select([Eq("project_id", project_id)], _NEWEST_FIRST, limit)

    def latest(self, project_id: str) -> Checkpoint | None:
        return self._first([Eq("project_id", project_id)], _NEWEST_FIRST)

    def delete(self, key: str) -> dict[str, int]:
        raise Protected(self._label, key, "cannot be deleted: checkpoints leave with their project")

    def _before_write(self, checkpoint: Checkpoint, stored: Row | None) -> None:
        check_snapshot(checkpoint.state, checkpoint.project_id)

    # -- snapshots -------------------------------------------------------------------------

    def snapshot(self, project_id: str) -> dict[str, Any]:
        project_id = Project.query_value("id", project_id)
        if self._store.get(table_of(Project), project_id) is None:
            raise NotFound("project", project_id)
        rows = self._rows_of(project_id)
        return snapshot(project_id, {name: list(found.values()) for name, found in rows.items()})

    def _rows_of(self, project_id: str) -> dict[str, dict[str, Entity]]:
        """The project's rows of every snapshot table, by id, as entities."""
        of_project: list[Where] = [Eq("project_id", project_id)]
        scope: dict[str, list[Where]] = {
            "features": of_project,
            "sub_features": [RefersTo("feature_id", "features", tuple(of_project))],
            "requirements": of_project,
            "requirement_features": [RefersTo("requirement_id", "requirements", tuple(of_project))],
            "tasks": of_project,
            "task_dependencies": [RefersTo("task_id", "tasks", tuple(of_project))],
        }
        found: dict[str, dict[str, Entity]] = {}
        for name, entity in SNAPSHOT_TABLES.items():
            rows = self._store.select(metadata.tables[name], scope[name])
            found[name] = {row["id"]: entity.from_row(row, owned=True) for row in rows}
        return found

    def restore(self, key: str) -> dict[str, dict[str, int]]:
        checkpoint = self.get(key)
        project_id = checkpoint.project_id
        saved = snapshot_entities(checkpoint.state, project_id)
        with self._store.atomic():
            # Locks the project (PostgreSQL: rows that refer to it wait) while it is restored.
            self._store.get(table_of(Project), project_id, for_update=True)
            current = self._rows_of(project_id)
            wanted = {name: {e.id: e for e in saved[name]} for name in SNAPSHOT_TABLES}
            unassigned = self._check_outside(checkpoint.id, wanted["tasks"])
            changes = {name: dict.fromkeys(("created", "updated", "deleted"), 0) for name in wanted}
            # Links first: a pair linked again since has another id, and frees its pair.
            for name in ("requirement_features", "task_dependencies"):
                self._remove(name, set(current[name]) - set(wanted[name]), changes)
            for name in ("features", "sub_features", "requirements", "tasks"):
                self._put_back(name, current[name], wanted[name], changes)
            cleared = self._remove_tasks(set(current["tasks"]) - set(wanted["tasks"]), changes)
            for name in ("sub_features", "features", "requirements"):
                self._remove(name, set(current[name]) - set(wanted[name]), changes)
            for name in ("requirement_features", "task_dependencies"):
                self._put_back(name, current[name], wanted[name], changes)
            # Rows written here changed under any entity this unit of work read of them.
            self._state.seen = {
                seen: version
                for seen, version in self._state.seen.items()
                if seen[0] not in SNAPSHOT_TABLES
            }
            changed = {name: counts for name, counts in changes.items() if any(counts.values())}
            self._audit_restore(checkpoint, changed, cleared, unassigned)
        return changed

    def _check_outside(self, key: str, tasks: dict[str, Entity]) -> int:
        """The checkpoint's tasks' links outside the snapshot: an initiative or phase gone
        since is ReferenceMissing naming the task's column (the task went with it, and
        cannot come back alone; no retry brings it back, so it is no Conflict); an agent
        gone since leaves the task unassigned (as its SET NULL did). Returns how many tasks
        lost their agent so."""
        unassigned = 0
        for task in tasks.values():
            assert isinstance(task, Task)
            for column, entity in (("initiative_id", Initiative), ("phase_id", Phase)):
                value = getattr(task, column)
                if value is not None and self._store.get(table_of(entity), value) is None:
                    raise ReferenceMissing("task", column, value, entity.label())
            agent = task.assigned_agent_id
            if agent is not None and self._store.get(metadata.tables["agents"], agent) is None:
                task.assigned_agent_id = None
                unassigned += 1
        return unassigned

    def _put_back(
        self,
        name: str,
        current: dict[str, Entity],
        wanted: dict[str, Entity],
        changes: dict[str, dict[str, int]],
    ) -> None:
        """Insert the wanted rows that are missing (parents first) and write back those
        that differ, exactly as the snapshot holds them (row versions moved on)."""
        table = metadata.tables[name]
        missing = [entity for key, entity in wanted.items() if key not in current]
        for entity in _parents_first(missing):
            self._store.insert(table, entity.to_row())
            changes[name]["created"] += 1
        for key, entity in wanted.items():
            now = current.get(key)
            if now is None or snapshot_row(now) == snapshot_row(entity):
                continue
            values = {k: v for k, v in entity.to_row().items() if k != "id"}
            version = type(entity).version_field
            if version is not None:
                values[version] = getattr(now, version) + 1
            self._store.update(table, [Eq("id", key)], values)
            changes[name]["updated"] += 1

    def _remove(self, name: str, keys: set[str], changes: dict[str, dict[str, int]]) -> None:
        # Every key is of a stored row; some may go with another's cascade before the
        # statement reaches them (so the statement's own count differs between backends).
        if keys:
            self._store.delete(metadata.tables[name], [In("id", frozenset(keys))])
            changes[name]["deleted"] += len(keys)

    def _remove_tasks(self, keys: set[str], changes: dict[str, dict[str, int]]) -> dict[str, int]:
        """Delete the tasks created since the checkpoint, as deleting each would (their
        proposals dismissed, chat sessions closed); returns the references to them that
        their SET NULL clears, per `table.column` (agents' and conversations' task links)."""
        if not keys:
            return {}
        from agentkeel.repositories.planning import TasksTable, _release_targets

        tasks = TasksTable(self._state)
        for task_key in sorted(keys):
            _release_targets(tasks, task_key)
        plan = plan_delete(table_of(Task), keys, self._store.referrers)
        self._remove("tasks", keys, changes)
        return {
            f"{table}.{column}": len(ids)
            for (table, column), ids in sorted(plan.cleared.items())
            if table not in SNAPSHOT_TABLES
        }

    def _audit_restore(
        self,
        checkpoint: Checkpoint,
        changed: dict[str, dict[str, int]],
        cleared: dict[str, int],
        unassigned: int,
    ) -> None:
        parts = [
            f"{name}: " + ", ".join(f"{n} {what}" for what, n in counts.items() if n)
            for name, counts in changed.items()
        ]
        title = f" ({checkpoint.name})" if checkpoint.name else ""
        message = (
            f"Restored project {checkpoint.project_id!r} to checkpoint {checkpoint.id!r}{title}: "
            + ("; ".join(parts) if parts else "nothing had changed")
        )
        if cleared:
            message += "; links to removed tasks cleared: " + ", ".join(
                f"{n} {where}" for where, n in cleared.items()
            )
        if unassigned:
            message += f"; {unassigned} task(s) unassigned: their agent no longer exists"
        self._audit(
            checkpoint.id,
            f"{self._label}.restored",
            EventCategory.RECORD,
            message,
            event_data={
                "project_id": checkpoint.project_id,
                "changes": dict[str, Any](changed),
                "cleared": dict[str, Any](cleared),
                "unassigned_tasks": unassigned,
            },
        )


def _parents_first(entities: list[Entity]) -> list[Entity]:
    """Tasks to insert in an order where a parent task comes before its subtasks."""
    pending = {entity.id: entity for entity in entities}
    ordered: list[Entity] = []
    placed: set[str] = set()

    def place(entity: Entity) -> None:
        chain = []
        while entity.id not in placed:
            chain.append(entity)
            placed.add(entity.id)
            parent = getattr(entity, "parent_task_id", None)
            if parent is None or parent not in pending:
                break
            entity = pending[parent]
        ordered.extend(reversed(chain))

    for entity in entities:
        place(entity)
    return ordered


_NEWEST_FIRST = (Desc("created_at"), Desc("id"))
