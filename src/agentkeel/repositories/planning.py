"""Repositories of the planning context: only what is particular to each aggregate."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, TypeVar, assert_never

from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import (
    AlreadyExists,
    DependencyCycle,
    InvalidTransition,
    InvalidValue,
    LeaseLost,
    NotFound,
    Protected,
)
from agentkeel.domain.planning import (
    ChangeAction,
    ChangedEntity,
    ChangeSet,
    ChangeSetEntry,
    ChatMessage,
    ChatRole,
    ChatSession,
    ChatStatus,
    ChatTarget,
    Errand,
    ErrandStatus,
    ErrandWithAlias,
    ExecutionMode,
    Initiative,
    InitiativeRepositoryLink,
    InitiativeStatus,
    Page,
    Phase,
    PhaseDependency,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    ReviewComment,
    Task,
    TaskDependency,
    TaskStatus,
    generated_branch,
)
from agentkeel.domain.planning.events import (
    PhaseStatusChanged,
    TaskCompleted,
    TaskCrashed,
    TaskFailed,
    TaskNeedsAttention,
    TaskReopened,
    TaskStarted,
)
from agentkeel.domain.planning.phases import PhaseStatus
from agentkeel.domain.workspace import SETTING_DEFINITIONS, Repository, Setting
from agentkeel.ports.store import (
    AnyRelated,
    Asc,
    Before,
    Desc,
    Eq,
    In,
    IsNull,
    Ne,
    NoneRelated,
    NotRefersTo,
    Order,
    Reaches,
    Referenced,
    RefersTo,
    Row,
    Where,
)
from agentkeel.repositories.agents import AgentsTable
from agentkeel.repositories.backlog import check_task_links
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.workspace import RepositoriesTable
from agentkeel.schema import label_of, metadata, table_of
from agentkeel.schema.graph import plan_delete

D = TypeVar("D", bound=Entity)

MAX_CRASH_RETRIES = "tasks.maxCrashRetries"
# Tasks come in the order a planner gave them, then in the order they were created.
TASK_ORDER: tuple[Order, ...] = (Asc("order_index"), Asc("created_at"))


class InitiativesTable(TableRepository[Initiative]):
    entity = Initiative

    def list(
        self, *, project_id: str | None = None, include_archived: bool = False
    ) -> builtins.list[Initiative]:
        where = self._eq_filters(project_id=project_id)
        return self._select(where + _unarchived(include_archived), [Asc("created_at")])

    def find_by_status(
        self, status: InitiativeStatus, *, include_archived: bool = False
    ) -> builtins.list[Initiative]:
        where: builtins.list[Where] = [Eq("status", status), *_unarchived(include_archived)]
        return self._select(where, [Asc("created_at")])

    def archive(self, key: str) -> Initiative:
        initiative = self.get(key)
        initiative.archive(self._store.clock.now())
        return self.update(initiative)

    def unarchive(self, key: str) -> Initiative:
        initiative = self.get(key)
        initiative.unarchive()
        return self.update(initiative)

    def _before_write(self, initiative: Initiative, stored: Row | None) -> None:
        if initiative.branch is None:
            others = self._store.select(
                self._table, [Eq("project_id", initiative.project_id), Ne("id", initiative.id)]
            )
            taken = {row["branch"] for row in others if row["branch"] is not None}
            initiative.branch = generated_branch(initiative.name, taken)


def _unarchived(include_archived: bool) -> builtins.list[Where]:
    return [] if include_archived else [IsNull("archived_at")]


class InitiativeRepositoriesTable(TableRepository[InitiativeRepositoryLink]):
    entity = InitiativeRepositoryLink

    def set_for_initiative(
        self, initiative_id: str, repository_ids: Iterable[str]
    ) -> builtins.list[InitiativeRepositoryLink]:
        initiative_id = self.entity.query_value("initiative_id", initiative_id)
        if isinstance(repository_ids, str | bytes) or not isinstance(repository_ids, Iterable):
            raise InvalidValue(
                self._label, "repository_ids", repository_ids, "must be a collection of ids"
            )
        wanted = list(
            dict.fromkeys(self.entity.query_value("repository_id", r) for r in repository_ids)
        )
        if self._store.get(table_of(Initiative), initiative_id) is None:
            raise NotFound("initiative", initiative_id)
        linked = self._select([Eq("initiative_id", initiative_id)])
        kept = {link.repository_id for link in linked}
        wanted_ids = set(wanted)
        with self._store.atomic():
            gone = [link.id for link in linked if link.repository_id not in wanted_ids]
            if gone:
                self._store.delete(self._table, [In("id", frozenset(gone))])
            for repository_id in wanted:
                if repository_id not in kept:
                    link = InitiativeRepositoryLink(
                        initiative_id=initiative_id, repository_id=repository_id
                    )
                    self.add(link)
        return self._select([Eq("initiative_id", initiative_id)], [Asc("created_at")])

    def of_initiative(self, initiative_id: str) -> builtins.list[Repository]:
        links = self._select([Eq("initiative_id", initiative_id)])
        ids = frozenset(link.repository_id for link in links)
        return RepositoriesTable(self._state)._select([In("id", ids)], [Asc("name")])

    def _before_write(self, link: InitiativeRepositoryLink, stored: Row | None) -> None:
        initiative = self._store.get(table_of(Initiative), link.initiative_id)
        repository = self._store.get(table_of(Repository), link.repository_id)
        # A missing one is the foreign key's to report (ReferenceMissing).
        if initiative is None or repository is None:
            return
        if repository["project_id"] != initiative["project_id"]:
            raise InvalidValue(
                self._label,
                "repository_id",
                link.repository_id,
                f"belongs to project {repository['project_id']!r}, not to the"
                f" initiative's project {initiative['project_id']!r}",
            )


def _changed(entity: Entity, stored: Row | None, column: str) -> bool:
    return stored is None or stored[column] != getattr(entity, column)


_P = PhaseStatus


class PhasesTable(TableRepository[Phase]):
    entity = Phase

    def find_by_initiative(self, initiative_id: str) -> builtins.list[Phase]:
        return self._select([Eq("initiative_id", initiative_id)], [Asc("created_at")])

    def _before_delete(self, phase: Phase) -> None:
        _release_targets(self, phase.id)

    def move_to(self, key: str, status: PhaseStatus) -> Phase:
        phase = self.get(key)
        phase.status = status
        return self.update(phase)

    def _before_write(self, phase: Phase, stored: Row | None) -> None:
        # Its dependencies, tasks and review comments are the initiative's: it stays there.
        if stored is not None and stored["initiative_id"] != phase.initiative_id:
            was = stored["initiative_id"]
            raise InvalidValue(
                "phase", "initiative_id", phase.initiative_id, f"cannot change (was {was!r})"
            )

    def _after_write(self, phase: Phase, stored: Row | None) -> None:
        if stored is not None and stored["status"] != phase.status:
            self._record(
                PhaseStatusChanged(phase.id, phase.initiative_id, stored["status"], phase.status)
            )
            self._initiative_follows(phase, stored["status"])

    def _initiative_follows(self, phase: Phase, was: str) -> None:
        """001's review flow, one level up: when the last phase of an active initiative
        completes, the initiative goes to pending_review (review_per_phase) or completed
        (yolo); when a phase of a pending_review or completed initiative has work again
        (it goes in progress, or leaves completed), the initiative is active again."""
        if phase.status not in (_P.COMPLETED, _P.IN_PROGRESS) and was != _P.COMPLETED:
            return  # nothing for the initiative (and no read)
        # The last two phases completing at once: in turns, as the tasks of a phase.
        self._store.serialize(table_of(Initiative), phase.initiative_id)
        initiatives = InitiativesTable(self._state)
        initiative = initiatives.get(phase.initiative_id)
        if phase.status is PhaseStatus.COMPLETED:
            if initiative.status is not InitiativeStatus.ACTIVE:
                return
            unfinished: builtins.list[Where] = [
                Eq("initiative_id", phase.initiative_id),
                Ne("status", _P.COMPLETED.value),
            ]
            if self._store.select(self._table, unfinished, limit=1):
                return
            reviewed = initiative.execution_mode is ExecutionMode.REVIEW_PER_PHASE
            initiative.status = (
                InitiativeStatus.PENDING_REVIEW if reviewed else InitiativeStatus.COMPLETED
            )
            initiatives.update(initiative)
        elif initiative.status is not InitiativeStatus.ACTIVE:
            initiative.status = InitiativeStatus.ACTIVE
            initiatives.update(initiative)


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
            row["id"]: row[self.scope]
            for row in self._store.select(nodes, [In("id", frozenset({waiting, awaited}))])
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
                [In(self.target, frozenset(frontier)), Ne("id", skip)],
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


_T = TaskStatus
# A task none of whose dependencies is unfinished.
_NOTHING_UNFINISHED = NoneRelated(
    "task_dependencies",
    "task_id",
    (RefersTo("depends_on_task_id", "tasks", (Ne("status", _T.COMPLETED),)),),
)
# A task whose phase (if it has one) is neither blocked nor completed...
_PHASE_OPEN = NotRefersTo(
    "phase_id", "phases", (In("status", frozenset({_P.BLOCKED, _P.COMPLETED})),)
)
# ...and waits for no phase that is not completed.
_PHASE_UNHELD = NotRefersTo(
    "phase_id",
    "phases",
    (
        AnyRelated(
            "phase_dependencies",
            "phase_id",
            (RefersTo("depends_on_phase_id", "phases", (Ne("status", _P.COMPLETED),)),),
        ),
    ),
)
# What makes a task ready (docs/lifecycle.md), in one query.
_READY: tuple[Where, ...] = (
    Eq("status", _T.PENDING),
    _NOTHING_UNFINISHED,
    _PHASE_OPEN,
    _PHASE_UNHELD,
)
# A task that is blocked, or waits (directly or not, through unfinished tasks) for one.
_WAITING_FOR_A_PERSON = Reaches(
    "task_dependencies",
    "task_id",
    "depends_on_task_id",
    (Eq("status", _T.BLOCKED),),
    (Ne("status", _T.COMPLETED),),
)


# What a claim writes on a task whose lease ran out, to take it before crashing it.
_NO_LEASE = {"claimed_until": None}


@dataclass(frozen=True)
class _Crash:
    """An attempt that ended because its agent crashed (or its lease was taken over)."""

    def blocked_by(self, attempts: int, limit: int) -> str:
        return f"crashed {attempts} times ({MAX_CRASH_RETRIES} is {limit})"


@dataclass(frozen=True)
class _Failure:
    """An attempt its agent gave up, saying why."""

    reason: str

    def blocked_by(self, attempts: int, limit: int) -> str:
        ending = f" (after {attempts} crashes and failures; {MAX_CRASH_RETRIES} is {limit})"
        return f"failed: {self.reason[: 10_000 - len(ending) - 8]}{ending}"


def _checked_lease(lease: object) -> timedelta:
    if not isinstance(lease, timedelta) or lease <= timedelta(0):
        raise InvalidValue("task", "lease", lease, "must be a positive timedelta")
    return lease


def _checked_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidValue("task", "reason", reason, "must be a non-blank text")
    return reason


class TasksTable(TableRepository[Task]):
    entity = Task
    # The phase row this write's own checks read (`_check_links`), if they read it.
    _phase_read: Row | None = None

    def list(
        self,
        project_id: str,
        *,
        initiative_id: str | None = None,
        phase_id: str | None = None,
        status: TaskStatus | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Task]:
        filters = self._eq_filters(initiative_id=initiative_id, phase_id=phase_id, status=status)
        return self._select([Eq("project_id", project_id), *filters], TASK_ORDER, limit, offset)

    def _before_delete(self, task: Task) -> None:
        _release_targets(self, task.id)

    def find_by_parent_task(self, parent_task_id: str) -> builtins.list[Task]:
        return self._select([Eq("parent_task_id", parent_task_id)], TASK_ORDER)

    def find_by_phase(self, phase_id: str) -> builtins.list[Task]:
        return self._select([Eq("phase_id", phase_id)], TASK_ORDER)

    def ready_tasks(
        self,
        *,
        project_id: str | None = None,
        initiative_id: str | None = None,
        phase_id: str | None = None,
    ) -> builtins.list[Task]:
        scope = self._scope(project_id, initiative_id, phase_id, "ready_tasks")
        return self._select([*scope, *_READY], TASK_ORDER)

    def needing_attention(
        self,
        *,
        project_id: str | None = None,
        initiative_id: str | None = None,
        phase_id: str | None = None,
    ) -> builtins.list[Task]:
        scope = self._scope(project_id, initiative_id, phase_id, "needing_attention")
        return self._select([*scope, _WAITING_FOR_A_PERSON], TASK_ORDER)

    def _scope(
        self, project_id: str | None, initiative_id: str | None, phase_id: str | None, asked: str
    ) -> builtins.list[Where]:
        scope = self._eq_filters(
            project_id=project_id, initiative_id=initiative_id, phase_id=phase_id
        )
        if not scope:
            problem = f"{asked} needs a project, an initiative or a phase"
            raise InvalidValue("task", "project_id", None, problem)
        return scope

    # -- a worker's task: claimed with a lease, renewed, completed, failed or crashed ----

    def claim_next_ready(
        self,
        agent_id: str,
        lease: timedelta,
        *,
        project_id: str | None = None,
        initiative_id: str | None = None,
        phase_id: str | None = None,
    ) -> Task | None:
        scope = self._query(self._scope(project_id, initiative_id, phase_id, "claim_next_ready"))
        agent_id = Task.query_value("assigned_agent_id", agent_id)
        now = self._store.clock.now()
        until = now + _checked_lease(lease)
        # Leases that ran out first: their holders crashed, as far as these tasks go. Each
        # is taken (its lease cleared, so no other claim takes it too) and crashed by the
        # crash rule: back to pending, or blocked past the limit.
        run_out = [*scope, Eq("status", _T.IN_PROGRESS), Before("claimed_until", now)]
        while (row := self._store.claim(self._table, run_out, TASK_ORDER, _NO_LEASE)) is not None:
            self._attempt_ended(self._entity(row), _Crash())
        ready = self._query([*scope, *_READY])
        held = {"assigned_agent_id": agent_id, "claimed_until": until}
        row = self._store.claim(self._table, ready, TASK_ORDER, held)
        if row is None:
            return None
        # The claim reserved the row; the update writes the start through every rule
        # (transition, stamps, row version, events, the phase that follows).
        task = self._entity(row)
        task.status = _T.IN_PROGRESS
        return self.update(task)

    def renew_lease(self, key: str, agent_id: str, lease: timedelta) -> Task:
        key = self._key(key)
        agent_id = Task.query_value("assigned_agent_id", agent_id)
        until = self._store.clock.now() + _checked_lease(lease)
        held = [Eq("id", key), Eq("status", _T.IN_PROGRESS), Eq("assigned_agent_id", agent_id)]
        stamps = dict.fromkeys(self.entity.stamped_on_update, self._store.clock.now())
        row = self._store.update_one(self._table, held, {"claimed_until": until, **stamps})
        if row is None:
            raise self._lost(self.get(key), agent_id)
        return self._entity(row)

    def dependency_context(self, key: str) -> builtins.list[Task]:
        key = self._key(key)
        waited_for = AnyRelated("task_dependencies", "depends_on_task_id", (Eq("task_id", key),))
        found = self._select([waited_for], TASK_ORDER)
        if not found:
            self.get(key)  # NotFound for a task that does not exist
        return found

    def move_to(self, key: str, status: TaskStatus, *, blocked_by: str | None = None) -> Task:
        task = self.get(key)
        task.status = status
        if blocked_by is not None:
            task.blocked_by = blocked_by
        return self.update(task)

    def complete(
        self, key: str, summary: str | None = None, *, agent_id: str | None = None
    ) -> Task:
        task = self.get(key) if agent_id is None else self._held(key, agent_id)
        if task.status == _T.COMPLETED:  # a second completion would overwrite the summary
            raise InvalidTransition("task", "status", task.status.value, _T.COMPLETED.value)
        task.status = _T.COMPLETED
        task.summary = summary
        return self.update(task)

    def record_crash(self, key: str, *, agent_id: str | None = None) -> Task:
        task = self._in_progress(key, agent_id, "for a crash to be recorded")
        return self._attempt_ended(task, _Crash())

    def record_failure(self, key: str, reason: str, *, agent_id: str | None = None) -> Task:
        reason = _checked_reason(reason)
        task = self._in_progress(key, agent_id, "for a failure to be recorded")
        return self._attempt_ended(task, _Failure(reason))

    def retry(self, key: str) -> Task:
        task = self.get(key)
        task.status = _T.PENDING
        task.retry_count = 0
        return self.update(task)

    def _held(self, key: str, agent_id: str) -> Task:
        """The task, in progress and held by the agent; LeaseLost otherwise."""
        agent_id = Task.query_value("assigned_agent_id", agent_id)
        task = self.get(key)
        if task.status is not _T.IN_PROGRESS or task.assigned_agent_id != agent_id:
            raise self._lost(task, agent_id)
        return task

    def _in_progress(self, key: str, agent_id: str | None, purpose: str) -> Task:
        task = self.get(key) if agent_id is None else self._held(key, agent_id)
        if task.status is not _T.IN_PROGRESS:
            problem = f"must be 'in_progress' {purpose}"
            raise InvalidValue("task", "status", task.status.value, problem)
        return task

    def _lost(self, task: Task, agent_id: str) -> LeaseLost:
        return LeaseLost(task.id, agent_id, task.assigned_agent_id, task.status.value)

    def _attempt_ended(self, task: Task, ending: _Crash | _Failure) -> Task:
        """The crash rule, for a crash, a lease taken over and a failure alike: the attempt
        counts (`retry_count` + 1); the task goes back to pending while the count is within
        `tasks.maxCrashRetries`, else it is blocked, `blocked_by` saying why. Either way
        nobody holds it any more: its lease and both agent links are cleared."""
        limit = self._crash_limit()
        holder = task.assigned_agent_id
        task.retry_count += 1
        task.assigned_agent_id = None
        task.claimed_until = None
        retried = task.retry_count <= limit
        if retried:
            task.status = _T.PENDING
        else:
            task.status = _T.BLOCKED
            task.blocked_by = ending.blocked_by(task.retry_count, limit)
        task = self.update(task)
        AgentsTable(self._state)._update_many([Eq("task_id", task.id)], {"task_id": None})
        match ending:
            case _Crash():
                self._record(TaskCrashed(task.id, task.retry_count, retried, holder))
            case _Failure():
                self._record(
                    TaskFailed(
                        task.id, task.project_id, holder, ending.reason, task.retry_count, retried
                    )
                )
            case _:
                assert_never(ending)
        if not retried:
            assert task.blocked_by is not None
            self._record(
                TaskNeedsAttention(task.id, task.project_id, task.retry_count, task.blocked_by)
            )
        return task

    def record_qa_iteration(self, key: str) -> Task:
        key = self._key(key)
        current = self.get(key)
        stamps = {name: self._store.clock.now() for name in self.entity.stamped_on_update}
        # In SQL, so that concurrent iterations all count, and never past the maximum.
        below_maximum: builtins.list[Where] = [
            Eq("id", key),
            Eq("max_iterations", current.max_iterations),
            Before("qa_iterations", current.max_iterations),
        ]
        row = self._store.update_one(self._table, below_maximum, stamps, {"qa_iterations": 1})
        if row is not None:
            return self._entity(row)
        now = self.get(key)
        if now.max_iterations != current.max_iterations:
            raise self._stale(key)
        raise InvalidValue(
            "task",
            "qa_iterations",
            now.qa_iterations + 1,
            f"must not exceed max_iterations ({now.max_iterations})",
        )

    def _crash_limit(self) -> int:
        rows = self._store.select(table_of(Setting), [Eq("key", MAX_CRASH_RETRIES)], limit=1)
        value: Any = (
            Setting.from_row(rows[0]).typed_value
            if rows
            else SETTING_DEFINITIONS[MAX_CRASH_RETRIES].default
        )
        return int(value)

    # -- the rules, on every path ----------------------------------------------------------

    def _before_write(self, task: Task, stored: Row | None) -> None:
        if stored is not None and stored["project_id"] != task.project_id:
            was = stored["project_id"]
            raise InvalidValue(
                "task", "project_id", task.project_id, f"cannot change (was {was!r})"
            )
        if task.qa_iterations > task.max_iterations:
            raise InvalidValue(
                "task",
                "qa_iterations",
                task.qa_iterations,
                f"must not exceed max_iterations ({task.max_iterations})",
            )
        self._phase_read = None
        self._check_links(task, stored)
        check_task_links(self._store, task, stored)  # its feature and sub-feature (backlog)
        self._stamp(task, stored)

    def _check_links(self, task: Task, stored: Row | None) -> None:
        """A task's phase belongs to its initiative (a task given only a phase takes the
        phase's initiative), and its initiative and parent to its project. A missing row is
        left to its foreign key (ReferenceMissing)."""
        if task.phase_id is not None and (
            _changed(task, stored, "phase_id") or _changed(task, stored, "initiative_id")
        ):
            phase = self._phase_read = self._store.get(table_of(Phase), task.phase_id)
            if phase is not None:
                if task.initiative_id is None:
                    task.initiative_id = phase["initiative_id"]
                elif phase["initiative_id"] != task.initiative_id:
                    raise InvalidValue(
                        "task",
                        "phase_id",
                        task.phase_id,
                        f"is a phase of initiative {phase['initiative_id']!r}, "
                        f"not of the task's initiative {task.initiative_id!r}",
                    )
        if task.initiative_id is not None and _changed(task, stored, "initiative_id"):
            initiative = self._store.get(table_of(Initiative), task.initiative_id)
            if initiative is not None and initiative["project_id"] != task.project_id:
                raise InvalidValue(
                    "task",
                    "initiative_id",
                    task.initiative_id,
                    f"is an initiative of project {initiative['project_id']!r}, "
                    f"not of the task's project {task.project_id!r}",
                )
        if task.parent_task_id is not None and _changed(task, stored, "parent_task_id"):
            self._check_parent(task, stored)

    def _check_parent(self, task: Task, stored: Row | None) -> None:
        assert task.parent_task_id is not None
        parent = self._store.get(self._table, task.parent_task_id)
        if parent is None:
            return
        if parent["project_id"] != task.project_id:
            raise InvalidValue(
                "task",
                "parent_task_id",
                task.parent_task_id,
                f"is a task of project {parent['project_id']!r}, "
                f"not of the task's project {task.project_id!r}",
            )
        # A stored task may not move under itself or its own subtasks.
        ancestor: Row | None = parent if stored is not None else None
        while ancestor is not None:
            if ancestor["id"] == task.id:
                raise InvalidValue(
                    "task",
                    "parent_task_id",
                    task.parent_task_id,
                    "would make the task its own ancestor",
                )
            above = ancestor["parent_task_id"]
            ancestor = None if above is None else self._store.get(self._table, above)

    def _stamp(self, task: Task, stored: Row | None) -> None:
        if task.status != _T.IN_PROGRESS or task.assigned_agent_id is None:
            task.claimed_until = None  # a lease is an in-progress task's, held by an agent
        was = None if stored is None else stored["status"]
        if task.status == was:
            return
        now = self._store.clock.now()
        if task.status == _T.IN_PROGRESS and task.started_at is None:
            task.started_at = now
        if task.status == _T.COMPLETED and (was is not None or task.completed_at is None):
            task.completed_at = now
        if was == _T.COMPLETED:
            task.completed_at = None  # reopened: not completed any more
        if was == _T.BLOCKED:
            task.blocked_by = None

    def _after_write(self, task: Task, stored: Row | None) -> None:
        was = None if stored is None else stored["status"]
        if stored is not None and was != task.status:
            match task.status:
                case _T.IN_PROGRESS:
                    self._record(TaskStarted(task.id, task.project_id))
                case _T.COMPLETED:
                    self._record(
                        TaskCompleted(task.id, task.project_id, task.initiative_id, task.phase_id)
                    )
                case _T.PENDING if was == _T.COMPLETED:
                    self._record(TaskReopened(task.id, task.project_id))
                case _T.PENDING | _T.BLOCKED:
                    pass
                case _:
                    assert_never(task.status)
        left = None if stored is None else stored["phase_id"]
        if left is not None and left != task.phase_id and was != _T.COMPLETED:
            self._phase_may_finish(left, emptied=True)  # its last unfinished task moved out
        if task.phase_id is not None:
            self._phase_follows(task, task.phase_id, None if left != task.phase_id else was)

    def delete(self, key: str) -> dict[str, int]:
        task = self.get(key)
        with self._store.atomic():
            removed = super().delete(key)
            if task.phase_id is not None and task.status is not _T.COMPLETED:
                self._phase_may_finish(task.phase_id, emptied=True)
        return removed

    def _phase_follows(self, task: Task, phase_id: str, was: str | None) -> None:
        """The phase follows its tasks both ways (docs/lifecycle.md); `was` is the task's
        status before, None for a task new to the phase.
        - A task that starts moves a pending, approved, pending_review or completed phase
          to in_progress (a blocked phase stays blocked: a person blocked it).
        - An unfinished task new to a pending_review or completed phase, or reopened in
          one, moves it back to in_progress: the phase has work left again.
        - The last unfinished task of an in-progress phase to complete moves the phase to
          pending_review (its initiative reviews each phase) or completed (yolo).
        The phase's initiative follows the phase in turn (`PhasesTable`)."""
        status = task.status
        if status == was:
            return  # nothing for the phase (and no read)
        if status is _T.COMPLETED:
            self._phase_may_finish(phase_id)
            return
        started = status is _T.IN_PROGRESS
        if not started and was not in (None, _T.COMPLETED):
            return  # pending <-> blocked, a crash: the phase's state does not change
        reopening = {_P.PENDING_REVIEW, _P.COMPLETED}
        moving = reopening | {_P.PENDING, _P.APPROVED} if started else reopening
        if was is None and self._phase_read is not None and self._phase_read["id"] == phase_id:
            current = _P(self._phase_read["status"])  # read by this write's own checks
        else:
            current = PhasesTable(self._state).get(phase_id).status
        if current in moving:
            PhasesTable(self._state).move_to(phase_id, _P.IN_PROGRESS)

    def _phase_may_finish(self, phase_id: str, *, emptied: bool = False) -> None:
        """An in-progress phase none of whose tasks is unfinished any more moves on.
        `emptied`: an unfinished task left it (deleted or moved out), so the phase moves
        on only if it still has a completed task: a phase left with no task waits for
        one."""
        # Two units of work completing a phase's last two tasks at once would each find the
        # other's task unfinished (PostgreSQL reads what is committed): they take turns.
        self._store.serialize(table_of(Phase), phase_id)
        phases = PhasesTable(self._state)
        phase = phases.get(phase_id)
        if phase.status is not _P.IN_PROGRESS:
            return
        of_phase: builtins.list[Where] = [Eq("phase_id", phase_id)]
        if self._store.select(self._table, [*of_phase, Ne("status", _T.COMPLETED.value)], limit=1):
            return
        if emptied and not self._store.select(self._table, of_phase, limit=1):
            return
        initiative = InitiativesTable(self._state).get(phase.initiative_id)
        reviewed = initiative.execution_mode is ExecutionMode.REVIEW_PER_PHASE
        phases.move_to(phase_id, _P.PENDING_REVIEW if reviewed else _P.COMPLETED)


class PagesTable(TableRepository[Page]):
    entity = Page

    def find_root_page(self, initiative_id: str) -> Page | None:
        return self._first([Eq("initiative_id", initiative_id), IsNull("parent_page_id")])

    def get_or_create_root_page(self, initiative_id: str, *, title: str | None = None) -> Page:
        initiative_id = self.entity.query_value("initiative_id", initiative_id)
        root = self.find_root_page(initiative_id)
        if root is not None:
            return root
        initiative = self._store.get(table_of(Initiative), initiative_id)
        if initiative is None:
            raise NotFound("initiative", initiative_id)
        page = Page(
            initiative_id=initiative_id, title=initiative["name"] if title is None else title
        )
        try:
            # A savepoint: a clash with a concurrent unit of work's root leaves this one usable.
            with self._store.atomic():
                return self.add(page)
        except AlreadyExists:
            winner = self.find_root_page(initiative_id)
            if winner is None:
                raise
            return winner

    def find_by_parent_page(self, parent_page_id: str) -> builtins.list[Page]:
        where = [Eq("parent_page_id", parent_page_id)]
        return self._select(where, [Asc("sort_order"), Asc("created_at")])

    def find_by_initiative(self, initiative_id: str) -> builtins.list[Page]:
        where = [Eq("initiative_id", initiative_id)]
        return self._select(where, [Asc("sort_order"), Asc("created_at")])

    def _before_write(self, page: Page, stored: Row | None) -> None:
        if stored is not None and stored["initiative_id"] != page.initiative_id:
            raise InvalidValue(
                self._label,
                "initiative_id",
                page.initiative_id,
                f"cannot change: a page stays in its initiative ({stored['initiative_id']!r})",
            )
        if page.parent_page_id is None:
            roots: builtins.list[Where] = [
                Eq("initiative_id", page.initiative_id),
                IsNull("parent_page_id"),
                Ne("id", page.id),
            ]
            if self._store.count(self._table, roots):
                raise AlreadyExists(
                    self._label, {"initiative_id": page.initiative_id, "parent_page_id": None}
                )
            return
        self._check_ancestry(page)

    def _check_ancestry(self, page: Page) -> None:
        """The new parent is in the page's initiative, and the page is not among its own
        ancestors (walked up from the parent: trees are shallow)."""
        path = [page.id]
        parent_id: str | None = page.parent_page_id
        while parent_id is not None:
            path.append(parent_id)
            if parent_id == page.id:
                raise DependencyCycle(self._label, path)
            parent = self._store.get(self._table, parent_id)
            if parent is None:
                return  # a missing parent is the foreign key's to report (ReferenceMissing)
            if len(path) == 2 and parent["initiative_id"] != page.initiative_id:
                raise InvalidValue(
                    self._label,
                    "parent_page_id",
                    parent_id,
                    f"is a page of initiative {parent['initiative_id']!r}, not of the"
                    f" page's initiative {page.initiative_id!r}",
                )
            parent_id = parent["parent_page_id"]
            if parent_id in path[1:]:
                return  # a cycle among stored rows that does not pass through this page

    def _before_delete(self, page: Page) -> None:
        _release_targets(self, page.id)


# -- targets without a foreign key -------------------------------------------------------------

# The planning tables whose rows proposals and chat sessions name without a foreign key.
_TARGET_TABLES = {
    "pages": ProposalTarget.PAGE,
    "phases": ProposalTarget.PHASE,
    "tasks": ProposalTarget.TASK,
}


def _release_targets(repository: TableRepository[Any], key: str) -> None:
    """Before a page, phase or task is deleted: dismiss the pending proposals and close the
    active chat sessions that name it, or any page, phase or task its delete cascades to
    (a phase's tasks, a task's subtasks), in the same transaction (docs/decisions.md,
    "Targets without a foreign key"). Called from the `_before_delete` hook, so no delete
    path skips it."""
    plan = plan_delete(repository._table, {key}, repository._store.referrers)
    proposals = ProposalsTable(repository._state)
    sessions = ChatSessionsTable(repository._state)
    for table, kind in _TARGET_TABLES.items():
        ids = plan.removed.get(table)
        if not ids:
            continue
        target: list[Where] = [Eq("target_type", kind.value), In("target_id", frozenset(ids))]
        proposals._update_many(
            [*target, Eq("status", ProposalStatus.PENDING.value)],
            {"status": ProposalStatus.DISMISSED.value},
        )
        if kind is not ProposalTarget.PAGE:
            sessions._update_many(
                [*target, Eq("status", ChatStatus.ACTIVE.value)],
                {"status": ChatStatus.CLOSED.value},
            )


def _check_target(
    repository: TableRepository[Any],
    label: str,
    kind: ProposalTarget | ChatTarget,
    target_id: str,
    initiative_id: str,
) -> None:
    """Refuse a target that does not exist or is not in the initiative (InvalidValue)."""
    table = {"page": "pages", "phase": "phases", "task": "tasks"}[kind.value]
    row = repository._store.get(metadata.tables[table], target_id)
    if row is None:
        raise InvalidValue(label, "target_id", target_id, f"names no {kind.value}")
    if row["initiative_id"] != initiative_id:
        raise InvalidValue(
            label,
            "target_id",
            target_id,
            f"is a {kind.value} of another initiative than {initiative_id!r}",
        )


class ProposalsTable(TableRepository[Proposal]):
    entity = Proposal

    def find_by_agent_and_status(
        self, agent_id: str, status: ProposalStatus | None = None
    ) -> builtins.list[Proposal]:
        where = [Eq("agent_id", agent_id), *self._eq_filters(status=status)]
        return self._select(where, [Asc("sort_order"), Asc("created_at")])

    def count_by_agent_and_status(self, agent_id: str, status: ProposalStatus | None = None) -> int:
        where = self._query([Eq("agent_id", agent_id), *self._eq_filters(status=status)])
        return self._store.count(self._table, where)

    def update_many_by_agent(
        self,
        agent_id: str,
        *,
        status: ProposalStatus,
        from_status: ProposalStatus | None = None,
    ) -> int:
        held = self.entity.query_value("status", status)
        if held is None:
            raise InvalidValue("proposal", "status", None, "must be given")
        new = ProposalStatus(held)
        graph = Proposal.transitions["status"]
        sources = {str(old) for old, targets in graph.items() if new in targets}
        if from_status is not None:
            old = str(self.entity.query_value("status", from_status))
            if old not in sources:
                raise InvalidTransition("proposal", "status", old, new.value)
            sources = {old}
        where: list[Where] = [Eq("agent_id", agent_id), In("status", frozenset(sources))]
        return self._update_many(where, {"status": new.value})

    def _before_write(self, proposal: Proposal, stored: Row | None) -> None:
        moved = (
            stored is None
            or any(
                stored[name] != getattr(proposal, name) for name in ("target_id", "initiative_id")
            )
            or stored["target_type"] != proposal.target_type.value
        )
        if proposal.target_id is not None and moved:
            _check_target(
                self, "proposal", proposal.target_type, proposal.target_id, proposal.initiative_id
            )


class ReviewCommentsTable(TableRepository[ReviewComment]):
    entity = ReviewComment

    def find_by_phase(
        self, phase_id: str, *, include_resolved: bool = True
    ) -> builtins.list[ReviewComment]:
        where: list[Where] = [Eq("phase_id", phase_id)]
        if not include_resolved:
            where.append(IsNull("resolved_at"))
        order = [Asc("file_path"), Asc("line_number"), Asc("created_at")]
        return self._select(where, order)

    def resolve(self, key: str) -> ReviewComment:
        comment = self.get(key)
        comment.resolved_at = comment.resolved_at or self._store.clock.now()
        return self.update(comment)

    def unresolve(self, key: str) -> ReviewComment:
        comment = self.get(key)
        comment.resolved_at = None
        return self.update(comment)


_KEEP: Any = object()


class ChatSessionsTable(TableRepository[ChatSession]):
    entity = ChatSession

    def create_session(self, session: ChatSession) -> ChatSession:
        existing = self.find_active_session(session.target_type, session.target_id)
        if existing is not None:
            return existing
        try:
            return self.add(session)
        except AlreadyExists:
            # A concurrent unit of work created the target's active session first: the
            # partial unique index refused ours; theirs is committed by now.
            existing = self.find_active_session(session.target_type, session.target_id)
            if existing is None:
                raise
            return existing

    def find_active_session(self, target_type: ChatTarget, target_id: str) -> ChatSession | None:
        where = [
            Eq("target_type", target_type),
            Eq("target_id", target_id),
            Eq("status", ChatStatus.ACTIVE),
        ]
        return self._first(where)

    def find_active_session_by_agent(self, agent_id: str) -> ChatSession | None:
        where = [Eq("agent_id", agent_id), Eq("status", ChatStatus.ACTIVE)]
        return self._first(where, [Desc("created_at")])

    def update_session(
        self,
        key: str,
        *,
        agent_id: str | None = _KEEP,
        status: ChatStatus | None = None,
    ) -> ChatSession:
        session = self.get(key)
        if agent_id is not _KEEP:
            session.agent_id = agent_id
        if status is not None:
            session.status = status
        return self.update(session)

    def close_session(self, key: str) -> ChatSession:
        return self.update_session(key, status=ChatStatus.CLOSED)

    def _before_write(self, session: ChatSession, stored: Row | None) -> None:
        moved = (
            stored is None
            or any(
                stored[name] != getattr(session, name) for name in ("target_id", "initiative_id")
            )
            or stored["target_type"] != session.target_type.value
        )
        if moved:
            _check_target(
                self, "chat_session", session.target_type, session.target_id, session.initiative_id
            )


class ChatMessagesTable(TableRepository[ChatMessage]):
    entity = ChatMessage

    def create_message(
        self, session_id: str, role: ChatRole, content: str, change_set_id: str | None = None
    ) -> ChatMessage:
        message = ChatMessage(
            chat_session_id=session_id, role=role, content=content, change_set_id=change_set_id
        )
        return self.add(message)

    def find_messages_by_session(self, session_id: str) -> builtins.list[ChatMessage]:
        return self._select([Eq("chat_session_id", session_id)], [Asc("sequence")])

    def _before_delete(self, message: ChatMessage) -> None:
        raise Protected("chat_message", message.id, "is append-only: it goes with its session")

    def _before_write(self, message: ChatMessage, stored: Row | None) -> None:
        # Locking the session serialises appends to it, so the numbers never clash.
        session = self._store.get(table_of(ChatSession), message.chat_session_id, for_update=True)
        if session is None:
            raise NotFound("chat_session", message.chat_session_id)
        if session["status"] != ChatStatus.ACTIVE.value:
            raise Protected("chat_session", session["id"], "is closed: it takes no new messages")
        if message.change_set_id is not None:
            if message.role is not ChatRole.ASSISTANT:
                raise InvalidValue(
                    "chat_message",
                    "change_set_id",
                    message.change_set_id,
                    "links only an assistant's message to the changes it applied",
                )
            change_set = self._store.get(table_of(ChangeSet), message.change_set_id)
            if change_set is None:
                raise InvalidValue(
                    "chat_message", "change_set_id", message.change_set_id, "names no change set"
                )
            if change_set["initiative_id"] != session["initiative_id"]:
                raise InvalidValue(
                    "chat_message",
                    "change_set_id",
                    message.change_set_id,
                    "is a change set of another initiative than the session's",
                )
        last = self._first([Eq("chat_session_id", message.chat_session_id)], [Desc("sequence")])
        message.sequence = 1 if last is None else last.sequence + 1


class ChangeSetsTable(TableRepository[ChangeSet]):
    entity = ChangeSet

    def record(
        self,
        change_set: ChangeSet,
        changes: builtins.list[ChangeSetEntry],
    ) -> ChangeSet:
        if isinstance(changes, str | bytes) or not isinstance(changes, Sequence):
            problem = "must be a list of change set entries"
            raise InvalidValue("change_set", "changes", changes, problem)
        for position, entry in enumerate(changes):
            if not isinstance(entry, ChangeSetEntry):
                problem = f"must be a change set entry, not {type(entry).__name__}"
                raise InvalidValue("change_set", f"changes[{position}]", entry, problem)
        with self._store.atomic():
            stored = self.add(change_set)
            entries = ChangeSetEntriesTable(self._state)
            for entry in changes:
                entry.change_set_id = stored.id
                entries.add(entry)
        return stored

    def entries(self, change_set_id: str) -> builtins.list[ChangeSetEntry]:
        return ChangeSetEntriesTable(self._state).find_by_change_set(change_set_id)

    def find_by_initiative(self, initiative_id: str) -> builtins.list[ChangeSet]:
        return self._select([Eq("initiative_id", initiative_id)], [Asc("created_at")])

    def revert(self, change_set_id: str) -> ChangeSet:
        with self._store.atomic():
            row = self._store.get(self._table, self._key(change_set_id), for_update=True)
            if row is None:
                raise NotFound("change_set", change_set_id)
            change_set = self._entity(row)
            # Refusals a retry cannot lift (the change set's state, a later change): no
            # Conflict.
            if change_set.is_reverted:
                raise Protected(
                    "change_set",
                    change_set.id,
                    f"was already reverted at {change_set.reverted_at.isoformat()}",  # type: ignore[union-attr]
                )
            entries = self.entries(change_set.id)
            # Every entity first, so that a refusal leaves nothing half-undone; an entity
            # changed twice by the change set is compared with its last state.
            last: dict[tuple[str, str], ChangeSetEntry] = {}
            for entry in entries:
                last[(entry.entity_type.value, entry.entity_id)] = entry
            for entry in last.values():
                current = _repository_for(self, entry.entity_type).find(entry.entity_id)
                now = None if current is None else current.audit_state()
                if now != entry.after_state:
                    raise Protected(
                        entry.entity_type.value,
                        entry.entity_id,
                        f"was changed after change set {change_set.id!r}: "
                        "revert the later change first",
                    )
            for entry in reversed(entries):
                _undo(self, entry)
            change_set.reverted_at = self._store.clock.now()
            return self.update(change_set)


def _repository_for(repository: TableRepository[Any], kind: ChangedEntity) -> TableRepository[Any]:
    match kind:
        case ChangedEntity.PAGE:
            return PagesTable(repository._state)
        case ChangedEntity.PHASE:
            return PhasesTable(repository._state)
        case ChangedEntity.TASK:
            return TasksTable(repository._state)
        case _:
            assert_never(kind)


def _undo(repository: TableRepository[Any], entry: ChangeSetEntry) -> None:
    """Put one entity back as it was before the change (checked to be as the change left it)."""
    target = _repository_for(repository, entry.entity_type)
    match entry.action:
        case ChangeAction.CREATE:
            # An earlier undo's cascade (a page created under one created before) may have
            # removed it already.
            if target.find(entry.entity_id) is not None:
                target.delete(entry.entity_id)
        case ChangeAction.UPDATE:
            current = target.get(entry.entity_id)
            before = _as_entity(target, entry.before_state)
            for name in type(current).model_fields:
                if name not in _BOOKKEEPING:
                    setattr(current, name, getattr(before, name))
            target.update(current)
        case ChangeAction.DELETE:
            target.add(_as_entity(target, entry.before_state))
        case _:
            assert_never(entry.action)


# Columns the repositories stamp: a revert restores every other field.
_BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "row_version"})


def _as_entity(repository: TableRepository[Any], state: Any) -> Any:
    # An audit state is the JSON dump; validating it as JSON turns its text back into
    # datetimes and enums under the strict field rules.
    return repository.entity.model_validate_json(json.dumps(state))


class ChangeSetEntriesTable(TableRepository[ChangeSetEntry]):
    entity = ChangeSetEntry

    def find_by_change_set(self, change_set_id: str) -> builtins.list[ChangeSetEntry]:
        return self._select([Eq("change_set_id", change_set_id)], [Asc("position")])

    def _before_delete(self, entry: ChangeSetEntry) -> None:
        raise Protected("change_set_entry", entry.id, "is append-only: it goes with its change set")

    def _before_write(self, entry: ChangeSetEntry, stored: Row | None) -> None:
        change_set = self._store.get(table_of(ChangeSet), entry.change_set_id, for_update=True)
        if change_set is None:
            raise NotFound("change_set", entry.change_set_id)
        if change_set["reverted_at"] is not None:
            raise Protected("change_set", change_set["id"], "is reverted: it takes no new entries")
        before_needed = entry.action is not ChangeAction.CREATE
        after_needed = entry.action is not ChangeAction.DELETE
        for name, needed in (("before_state", before_needed), ("after_state", after_needed)):
            value = getattr(entry, name)
            if needed and not isinstance(value, dict):
                raise InvalidValue(
                    "change_set_entry",
                    name,
                    value,
                    f"must be the entity's state for a {entry.action.value}",
                )
            if not needed and value is not None:
                raise InvalidValue(
                    "change_set_entry", name, value, f"must be null for a {entry.action.value}"
                )
        for name in ("before_state", "after_state"):
            value = getattr(entry, name)
            if isinstance(value, dict) and value.get("id") != entry.entity_id:
                raise InvalidValue(
                    "change_set_entry", name, value.get("id"), "must be the state of entity_id"
                )
        last = self._first([Eq("change_set_id", entry.change_set_id)], [Desc("position")])
        entry.position = 1 if last is None else last.position + 1


class ErrandsTable(TableRepository[Errand]):
    entity = Errand

    # The agent's alias, read in the same query (a LEFT JOIN).
    _alias = Referenced("agent_id", ("name",))

    def find_with_alias(self, key: str) -> ErrandWithAlias | None:
        found = self._select_with(self._alias, [Eq("id", self._key(key))])
        return _with_alias(*found[0]) if found else None

    def find_all(
        self, *, repository_id: str | None = None, status: ErrandStatus | None = None
    ) -> builtins.list[ErrandWithAlias]:
        where = self._eq_filters(repository_id=repository_id, status=status)
        return [
            _with_alias(*pair)
            for pair in self._select_with(self._alias, where, [Desc("created_at")])
        ]


def _with_alias(errand: Errand, agent: Row | None) -> ErrandWithAlias:
    return ErrandWithAlias(errand, None if agent is None else agent["name"])
