"""Dependencies between phases and between tasks: within one initiative, no cycle."""

from __future__ import annotations

import builtins
from typing import ClassVar, TypeVar

from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import (
    DependencyCycle,
    InvalidValue,
    NotFound,
)
from agentkeel.domain.planning import (
    Phase,
    PhaseDependency,
    Task,
    TaskDependency,
)
from agentkeel.ports.store import (
    Asc,
    Eq,
    In,
    Ne,
    Row,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema import label_of, table_of
from agentkeel.schema.columns import PHASE_DEPENDENCIES

D = TypeVar("D", bound=Entity)


class DependenciesTable(TableRepository[D]):
    """The edges of a dependency graph between rows of one table (`node`), kept a DAG
    within one scope (the initiative of phases, the project of tasks): `source` waits for
    `target`. Written once for phases and tasks."""

    node: ClassVar[type[Entity]]
    source: ClassVar[str]
    target: ClassVar[str]
    scope: ClassVar[str]

    def create(self, node_id: str, depends_on_id: str) -> D:
        edge: D = self.entity(**{self.source: node_id, self.target: depends_on_id})
        return self.add(edge)

    def get_dependencies(self, node_id: str) -> builtins.list[str]:
        edges = self._select([Eq(self.source, node_id)], [Asc(self.target)])
        return [getattr(edge, self.target) for edge in edges]

    def get_dependents(self, node_id: str) -> builtins.list[str]:
        edges = self._select([Eq(self.target, node_id)], [Asc(self.source)])
        return [getattr(edge, self.source) for edge in edges]

    def remove(self, node_id: str, depends_on_id: str) -> None:
        edge = self._first([Eq(self.source, node_id), Eq(self.target, depends_on_id)])
        if edge is None:
            raise NotFound(
                self._label,
                f"{node_id} -> {depends_on_id}",
                field=f"{self.source} -> {self.target}",
            )
        self.delete(edge.id)

    def _before_write(self, edge: D, stored: Row | None) -> None:
        waiting, awaited = getattr(edge, self.source), getattr(edge, self.target)
        if stored is not None and (stored[self.source], stored[self.target]) == (waiting, awaited):
            return
        if waiting == awaited:
            raise DependencyCycle(self._label, [waiting, awaited])
        nodes = table_of(self.node)
        scopes = {
            row[PHASE_DEPENDENCIES.id]: row[self.scope]
            for row in self._store.select(
                nodes, [In(PHASE_DEPENDENCIES.id, frozenset({waiting, awaited}))]
            )
        }
        if len(scopes) < 2:
            return  # a missing end: the foreign key refuses it (ReferenceMissing)
        if scopes[waiting] != scopes[awaited]:
            kind = label_of(nodes)
            raise InvalidValue(
                self._label,
                self.target,
                awaited,
                f"must be a {kind} of the same {self.scope.removesuffix('_id')} as "
                f"{self.source} ({scopes[waiting]!r}), not of {scopes[awaited]!r}",
            )
        # Two units of work adding edges that close a cycle only together would each find
        # none: checks in one scope take turns (SQLite and the fakes have one writer anyway).
        (foreign_key,) = nodes.c[self.scope].foreign_keys
        self._store.serialize(foreign_key.column.table, scopes[waiting])
        path = self._path(awaited, waiting, edge.id)
        if path is not None:
            raise DependencyCycle(self._label, [waiting, *path])

    def _path(self, awaited: str, waiting: str, skip: str) -> builtins.list[str] | None:
        """The first path (breadth first, ties by id) from `awaited` to `waiting` along the
        stored edges other than `skip`, or None: one query per step of depth. It searches
        backwards, from `waiting` through its dependents: new edges mostly come from new
        nodes, which have none yet, so the common case costs one query however deep the
        graph behind `awaited` is."""
        reached_from: dict[str, str] = {}
        frontier = [waiting]
        seen = {waiting}
        while frontier:
            rows = self._store.select(
                self._table,
                [In(self.target, frozenset(frontier)), Ne(PHASE_DEPENDENCIES.id, skip)],
                [Asc(self.target), Asc(self.source)],
            )
            following = []
            for row in rows:
                node = row[self.source]
                if node in seen:
                    continue
                seen.add(node)
                reached_from[node] = row[self.target]
                if node == awaited:
                    path = [node]
                    while path[-1] != waiting:
                        path.append(reached_from[path[-1]])
                    return path
                following.append(node)
            frontier = following
        return None


class PhaseDependenciesTable(DependenciesTable[PhaseDependency]):
    entity = PhaseDependency
    node = Phase
    source, target, scope = "phase_id", "depends_on_phase_id", "initiative_id"


class TaskDependenciesTable(DependenciesTable[TaskDependency]):
    entity = TaskDependency
    node = Task
    source, target, scope = "task_id", "depends_on_task_id", "project_id"
