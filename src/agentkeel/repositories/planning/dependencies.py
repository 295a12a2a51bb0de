"""Dependencies between phases and between tasks: within one initiative, no cycle."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
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
    Row,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema import label_of, table_of
from agentkeel.schema.columns import ANY_TABLE

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

    @contextmanager
    def _reading(self) -> Iterator[None]:
        # A write's (or a batch's) cycle search reads each node's stored dependents once,
        # sees the edges the batch adds before their insert, and takes each scope's turn
        # once.
        if self._reads is not None:
            yield
            return
        self._dependents: dict[str, builtins.list[tuple[str, str]]] = {}
        self._adding: dict[str, builtins.list[tuple[str, str]]] = {}
        self._turns: set[str] = set()
        with super()._reading():
            yield

    def _read_ahead(self, batch: Sequence[D]) -> None:
        ends = {getattr(edge, name) for edge in batch for name in (self.source, self.target)}
        self._read_rows(table_of(self.node), ends)
        self._read_dependents({getattr(edge, self.source) for edge in batch})

    def _readable(self, row: Row) -> None:
        super()._readable(row)
        self._adding.setdefault(row[self.target], []).append((row[self.source], row[ANY_TABLE.id]))

    def _before_write(self, edge: D, stored: Row | None) -> None:
        waiting, awaited = getattr(edge, self.source), getattr(edge, self.target)
        if stored is not None and (stored[self.source], stored[self.target]) == (waiting, awaited):
            return
        if waiting == awaited:
            raise DependencyCycle(self._label, [waiting, awaited])
        nodes = table_of(self.node)
        with self._reading():
            self._read_rows(nodes, {waiting, awaited})
            ends = [self._read(nodes, waiting), self._read(nodes, awaited)]
            if ends[0] is None or ends[1] is None:
                return  # a missing end: the foreign key refuses it (ReferenceMissing)
            scope, other = ends[0][self.scope], ends[1][self.scope]
            if scope != other:
                kind = label_of(nodes)
                raise InvalidValue(
                    self._label,
                    self.target,
                    awaited,
                    f"must be a {kind} of the same {self.scope.removesuffix('_id')} as "
                    f"{self.source} ({scope!r}), not of {other!r}",
                )
            # Two units of work adding edges that close a cycle only together would each
            # find none: checks in one scope take turns (SQLite and the fakes have one
            # writer anyway), each scope once per write or batch.
            if scope not in self._turns:
                (foreign_key,) = nodes.c[self.scope].foreign_keys
                self._store.serialize(foreign_key.column.table, scope)
                self._turns.add(scope)
            path = self._path(awaited, waiting, edge.id)
        if path is not None:
            raise DependencyCycle(self._label, [waiting, *path])

    def _read_dependents(self, nodes: Collection[str]) -> None:
        """The stored edges into these nodes (their dependents), in one query."""
        wanted = frozenset(node for node in nodes if node not in self._dependents)
        if not wanted:
            return
        for node in wanted:
            self._dependents[node] = []
        rows = self._store.select(
            self._table, [In(self.target, wanted)], [Asc(self.target), Asc(self.source)]
        )
        for row in rows:
            self._dependents[row[self.target]].append((row[self.source], row[ANY_TABLE.id]))

    def _path(self, awaited: str, waiting: str, skip: str) -> builtins.list[str] | None:
        """The first path (breadth first, ties by id) from `awaited` to `waiting` along the
        stored edges other than `skip` and the edges of the batch being added, or None: at
        most one query per step of depth, for the nodes whose dependents are not read yet.
        It searches backwards, from `waiting` through its dependents: new edges mostly come
        from new nodes, which have none yet, so the common case costs one query however
        deep the graph behind `awaited` is (none in a batch, which reads them ahead)."""
        reached_from: dict[str, str] = {}
        frontier = [waiting]
        seen = {waiting}
        while frontier:
            self._read_dependents(frontier)
            edges = sorted(
                (node, dependent)
                for node in frontier
                for dependents in (self._dependents[node], self._adding.get(node, ()))
                for dependent, key in dependents
                if key != skip
            )
            following = []
            for target, node in edges:
                if node in seen:
                    continue
                seen.add(node)
                reached_from[node] = target
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
