"""Checkpoints: a snapshot of a project's planning, and its restore."""

from __future__ import annotations

import builtins
from typing import Any

from agentkeel.domain.audit import EventCategory
from agentkeel.domain.backlog import (
    Checkpoint,
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
    NotFound,
    Protected,
    ReferenceMissing,
)
from agentkeel.domain.planning import Initiative, Phase, Task
from agentkeel.domain.workspace import Project
from agentkeel.ports.store import (
    Desc,
    Eq,
    In,
    RefersTo,
    Row,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.planning.targets import release_targets
from agentkeel.schema import metadata, table_of
from agentkeel.schema.columns import (
    AGENTS,
    ANY_TABLE,
    CHECKPOINTS,
    FEATURES,
    REQUIREMENT_FEATURES,
    REQUIREMENTS,
    SUB_FEATURES,
    TASK_DEPENDENCIES,
    TASKS,
)
from agentkeel.schema.graph import plan_delete


class CheckpointsTable(TableRepository[Checkpoint]):
    entity = Checkpoint

    def list(self, *, project_id: str, limit: int | None = None) -> builtins.list[Checkpoint]:
        return self._select([Eq(CHECKPOINTS.project_id, project_id)], _NEWEST_FIRST, limit)

    def latest(self, project_id: str) -> Checkpoint | None:
        return self._first([Eq(CHECKPOINTS.project_id, project_id)], _NEWEST_FIRST)

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
        features = (Eq(FEATURES.project_id, project_id),)
        requirements = (Eq(REQUIREMENTS.project_id, project_id),)
        tasks = (Eq(TASKS.project_id, project_id),)
        scope: dict[str, list[Where]] = {
            FEATURES.TABLE: list(features),
            SUB_FEATURES.TABLE: [RefersTo(SUB_FEATURES.feature_id, FEATURES.TABLE, features)],
            REQUIREMENTS.TABLE: list(requirements),
            REQUIREMENT_FEATURES.TABLE: [
                RefersTo(REQUIREMENT_FEATURES.requirement_id, REQUIREMENTS.TABLE, requirements)
            ],
            TASKS.TABLE: list(tasks),
            TASK_DEPENDENCIES.TABLE: [RefersTo(TASK_DEPENDENCIES.task_id, TASKS.TABLE, tasks)],
        }
        found: dict[str, dict[str, Entity]] = {}
        for name, entity in SNAPSHOT_TABLES.items():
            rows = self._store.select(metadata.tables[name], scope[name])
            found[name] = {row[ANY_TABLE.id]: entity.from_row(row, owned=True) for row in rows}
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
            unassigned = self._check_outside(checkpoint.id, wanted[TASKS.TABLE])
            changes = {name: dict.fromkeys(("created", "updated", "deleted"), 0) for name in wanted}
            # Links first: a pair linked again since has another id, and frees its pair.
            for name in ("requirement_features", "task_dependencies"):
                self._remove(name, set(current[name]) - set(wanted[name]), changes)
            for name in ("features", "sub_features", "requirements", "tasks"):
                self._put_back(name, current[name], wanted[name], changes)
            cleared = self._remove_tasks(
                set(current[TASKS.TABLE]) - set(wanted[TASKS.TABLE]), changes
            )
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
            if agent is not None and self._store.get(metadata.tables[AGENTS.TABLE], agent) is None:
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
            self._store.update(table, [Eq(ANY_TABLE.id, key)], values)
            changes[name]["updated"] += 1

    def _remove(self, name: str, keys: set[str], changes: dict[str, dict[str, int]]) -> None:
        # Every key is of a stored row; some may go with another's cascade before the
        # statement reaches them (so the statement's own count differs between backends).
        if keys:
            self._store.delete(metadata.tables[name], [In(ANY_TABLE.id, frozenset(keys))])
            changes[name]["deleted"] += len(keys)

    def _remove_tasks(self, keys: set[str], changes: dict[str, dict[str, int]]) -> dict[str, int]:
        """Delete the tasks created since the checkpoint, as deleting each would (their
        proposals dismissed, chat sessions closed); returns the references to them that
        their SET NULL clears, per `table.column` (agents' and conversations' task links)."""
        if not keys:
            return {}
        for task_key in sorted(keys):
            release_targets(self._uow, table_of(Task), task_key)
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


_NEWEST_FIRST = (Desc(CHECKPOINTS.created_at), Desc(CHECKPOINTS.id))
