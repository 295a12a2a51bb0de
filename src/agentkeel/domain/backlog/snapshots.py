"""The JSON a checkpoint holds: a snapshot of one project's backlog and tasks.

    {"format": 1, "project_id": "...",
     "features": [...], "sub_features": [...], "requirements": [...],
     "requirement_features": [...], "tasks": [...], "task_dependencies": [...]}

Each list holds the rows of one table as JSON (`Entity.audit_state`), by id, without
`row_version` (which counts writes for concurrency, and is no part of the state). The
tasks are every task of the project, with their status and assignment
(`assigned_agent_id`); the dependencies are those between them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from agentkeel.domain.backlog.features import Feature, SubFeature
from agentkeel.domain.backlog.requirements import Requirement, RequirementFeature
from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import DomainError, InvalidValue
from agentkeel.domain.planning.tasks import Task, TaskDependency, TaskStatus

SNAPSHOT_FORMAT = 1

# The tables a snapshot holds, parents before children (the order rows are put back in).
SNAPSHOT_TABLES: dict[str, type[Entity]] = {
    "features": Feature,
    "sub_features": SubFeature,
    "requirements": Requirement,
    "requirement_features": RequirementFeature,
    "tasks": Task,
    "task_dependencies": TaskDependency,
}

# Bookkeeping left out of a snapshot.
UNSNAPPED = frozenset({"row_version"})


def snapshot_row(entity: Entity) -> dict[str, Any]:
    """One row as a snapshot holds it."""
    return {k: v for k, v in entity.audit_state().items() if k not in UNSNAPPED}


def snapshot(project_id: str, rows: Mapping[str, list[Entity]]) -> dict[str, Any]:
    """The snapshot of a project made of its rows per table (every table of
    `SNAPSHOT_TABLES`), each table's rows by id."""
    state: dict[str, Any] = {"format": SNAPSHOT_FORMAT, "project_id": project_id}
    for name in SNAPSHOT_TABLES:
        state[name] = [snapshot_row(e) for e in sorted(rows[name], key=lambda e: e.id)]
    return state


def _invalid(problem: str) -> InvalidValue:
    return InvalidValue("checkpoint", "state", "<snapshot>", problem)


def snapshot_entities(state: object, project_id: str) -> dict[str, list[Entity]]:
    """The rows a snapshot of `project_id` holds, per table, validated as entities (row
    versions 1). Raises InvalidValue naming `state` unless `state` is such a snapshot: its
    format, every row valid, features, requirements and tasks of the project, every other
    row's parents in the snapshot, ids unique, and each feature's `completed_tasks` equal to
    the count of its completed tasks."""
    if not isinstance(state, dict):
        raise _invalid("must be a snapshot object (made by services.backlog.create_checkpoint)")
    expected = {"format", "project_id", *SNAPSHOT_TABLES}
    if set(state) != expected:
        raise _invalid(f"must have exactly the keys {sorted(expected)}")
    if state["format"] != SNAPSHOT_FORMAT or isinstance(state["format"], bool):
        raise _invalid(f"must be of format {SNAPSHOT_FORMAT}")
    if state["project_id"] != project_id:
        raise _invalid(f"must be a snapshot of the checkpoint's project {project_id!r}")
    entities: dict[str, list[Entity]] = {}
    for name, entity in SNAPSHOT_TABLES.items():
        rows = state[name]
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise _invalid(f"{name} must be a list of rows")
        try:
            entities[name] = [entity.model_validate_json(json.dumps(row)) for row in rows]
        except DomainError as exc:
            raise _invalid(f"holds a row of {name} that is not valid: {exc}") from None
        ids = [e.id for e in entities[name]]
        if len(set(ids)) != len(ids):
            raise _invalid(f"holds a row of {name} twice")
    _check_links(entities, project_id)
    return entities


def check_snapshot(state: object, project_id: str) -> None:
    """Raise InvalidValue naming `state` unless it is a snapshot of `project_id`."""
    snapshot_entities(state, project_id)


def _check_links(entities: dict[str, list[Entity]], project_id: str) -> None:
    def ids(name: str) -> set[str]:
        return {e.id for e in entities[name]}

    def held(name: str, column: str, among: set[str], *, optional: bool = False) -> None:
        for e in entities[name]:
            value = getattr(e, column)
            if (value is not None or not optional) and value not in among:
                raise _invalid(f"{name} {e.id!r} has a {column} outside the snapshot")

    for name in ("features", "requirements", "tasks"):
        if any(e.to_row()["project_id"] != project_id for e in entities[name]):
            raise _invalid(f"{name} must all be of project {project_id!r}")
    held("sub_features", "feature_id", ids("features"))
    held("requirement_features", "requirement_id", ids("requirements"))
    held("requirement_features", "feature_id", ids("features"))
    held("tasks", "feature_id", ids("features"), optional=True)
    held("tasks", "sub_feature_id", ids("sub_features"), optional=True)
    held("tasks", "parent_task_id", ids("tasks"), optional=True)
    held("task_dependencies", "task_id", ids("tasks"))
    held("task_dependencies", "depends_on_task_id", ids("tasks"))
    feature_of = {e.id: e.to_row()["feature_id"] for e in entities["sub_features"]}
    completed: Counter[str] = Counter()
    for task in entities["tasks"]:
        assert isinstance(task, Task)
        if task.sub_feature_id is not None and feature_of[task.sub_feature_id] != task.feature_id:
            raise _invalid(f"tasks {task.id!r} has a sub-feature of another feature")
        if task.feature_id is not None and task.status is TaskStatus.COMPLETED:
            completed[task.feature_id] += 1
    for feature in entities["features"]:
        assert isinstance(feature, Feature)
        if feature.completed_tasks != completed[feature.id]:
            raise _invalid(f"features {feature.id!r} has a completed_tasks that is no recount")
