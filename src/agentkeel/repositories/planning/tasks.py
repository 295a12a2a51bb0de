"""Tasks: readiness, claims with leases, the crash rule, and the phase that follows its tasks."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import assert_never, cast

from agentkeel.domain.errors import (
    InvalidTransition,
    InvalidValue,
    LeaseLost,
)
from agentkeel.domain.planning import (
    ExecutionMode,
    Initiative,
    Phase,
    Task,
    TaskStatus,
)
from agentkeel.domain.planning.events import (
    TaskCompleted,
    TaskCrashed,
    TaskFailed,
    TaskNeedsAttention,
    TaskReopened,
    TaskStarted,
)
from agentkeel.domain.planning.phases import PhaseStatus
from agentkeel.ports.store import (
    AnyRelated,
    Asc,
    Before,
    Eq,
    Ne,
    Order,
    RefersTo,
    Row,
    Where,
)
from agentkeel.repositories.backlog.features import check_task_links, read_task_links_ahead
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.planning.readiness import READY, WAITING_FOR_A_PERSON
from agentkeel.repositories.planning.targets import release_targets
from agentkeel.repositories.rules import changed
from agentkeel.schema import table_of
from agentkeel.schema.columns import (
    AGENTS,
    INITIATIVES,
    PHASES,
    TASK_DEPENDENCIES,
    TASKS,
)

MAX_CRASH_RETRIES = "tasks.maxCrashRetries"


# Tasks come in the order a planner gave them, then in the order they were created.
TASK_ORDER: tuple[Order, ...] = (Asc(TASKS.order_index), Asc(TASKS.created_at))


_T = TaskStatus
_P = PhaseStatus
_PHASES = table_of(Phase)


# What a claim writes on a task whose lease ran out, to take it before crashing it.
_NO_LEASE = {"claimed_until": None}


@dataclass(frozen=True)
class _Crash:
    """An attempt that ended because its agent crashed (or its lease was taken over)."""

    def blocked_by(self, attempts: int, limit: int) -> str:
        times = "once" if attempts == 1 else f"{attempts} times"
        return f"crashed {times} ({MAX_CRASH_RETRIES} is {limit})"


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

    def list(
        self,
        *,
        project_id: str,
        initiative_id: str | None = None,
        phase_id: str | None = None,
        status: TaskStatus | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Task]:
        where = [
            *self._scope(project_id, initiative_id, phase_id, "list"),
            *self._eq_filters(status=status),
        ]
        return self._select(where, TASK_ORDER, limit, offset)

    def _before_delete(self, task: Task) -> None:
        release_targets(self._uow, self._table, task.id)

    def find_by_parent_task(self, parent_task_id: str) -> builtins.list[Task]:
        return self._select([Eq(TASKS.parent_task_id, parent_task_id)], TASK_ORDER)

    def find_by_phase(self, phase_id: str) -> builtins.list[Task]:
        return self._select([Eq(TASKS.phase_id, phase_id)], TASK_ORDER)

    def ready_tasks(
        self,
        *,
        project_id: str | None = None,
        initiative_id: str | None = None,
        phase_id: str | None = None,
    ) -> builtins.list[Task]:
        scope = self._scope(project_id, initiative_id, phase_id, "ready_tasks")
        return self._select([*scope, *READY], TASK_ORDER)

    def needing_attention(
        self,
        *,
        project_id: str | None = None,
        initiative_id: str | None = None,
        phase_id: str | None = None,
    ) -> builtins.list[Task]:
        scope = self._scope(project_id, initiative_id, phase_id, "needing_attention")
        return self._select([*scope, WAITING_FOR_A_PERSON], TASK_ORDER)

    def _scope(
        self, project_id: str | None, initiative_id: str | None, phase_id: str | None, asked: str
    ) -> builtins.list[Where]:
        """The terms that keep the tasks of the scope given. The narrowest scope given is
        the term on the tasks' own column, which leads an index with the status and the task
        order; a wider one given too is checked through the narrower one's row (the phase's
        initiative, the initiative's project), which selects the same tasks, since a task's
        phase is of its initiative and its initiative of its project on every path. So the
        planner walks the narrow scope's index, whatever its statistics say."""
        if phase_id is not None:
            through_phase: builtins.list[Where] = self._eq_filters(initiative_id=initiative_id)
            if project_id is not None:
                of_project = (Eq(INITIATIVES.project_id, project_id),)
                through_phase.append(RefersTo(PHASES.initiative_id, INITIATIVES.TABLE, of_project))
            scope: builtins.list[Where] = [Eq(TASKS.phase_id, phase_id)]
            if through_phase:
                scope.append(RefersTo(TASKS.phase_id, PHASES.TABLE, tuple(through_phase)))
            return scope
        if initiative_id is not None:
            scope = [Eq(TASKS.initiative_id, initiative_id)]
            if project_id is not None:
                of_project = (Eq(INITIATIVES.project_id, project_id),)
                scope.append(RefersTo(TASKS.initiative_id, INITIATIVES.TABLE, of_project))
            return scope
        if project_id is not None:
            return [Eq(TASKS.project_id, project_id)]
        problem = f"{asked} needs a project, an initiative or a phase"
        raise InvalidValue("task", "project_id", None, problem)

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
        run_out = [*scope, Eq(TASKS.status, _T.IN_PROGRESS), Before(TASKS.claimed_until, now)]
        while (row := self._store.claim(self._table, run_out, TASK_ORDER, _NO_LEASE)) is not None:
            self._attempt_ended(self._entity(row), _Crash())
        ready = self._query([*scope, *READY])
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
        held = [
            Eq(TASKS.id, key),
            Eq(TASKS.status, _T.IN_PROGRESS),
            Eq(TASKS.assigned_agent_id, agent_id),
        ]
        stamps = dict.fromkeys(self.entity.stamped_on_update, self._store.clock.now())
        row = self._store.update_one(self._table, held, {TASKS.claimed_until: until, **stamps})
        if row is None:
            raise self._lost(self.get(key), agent_id)
        return self._entity(row)

    def dependency_context(self, key: str) -> builtins.list[Task]:
        key = self._key(key)
        waited_for = AnyRelated(
            TASK_DEPENDENCIES.TABLE,
            TASK_DEPENDENCIES.depends_on_task_id,
            (Eq(TASK_DEPENDENCIES.task_id, key),),
        )
        found = self._select([waited_for], TASK_ORDER)
        if not found:
            self.get(key)  # NotFound for a task that does not exist
        return found

    def move_to(self, key: str, status: TaskStatus, *, blocked_by: str | None = None) -> Task:
        return self._move(key, status, blocked_by=blocked_by)

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
        self._uow.agents.set_where([Eq(AGENTS.task_id, task.id)], {AGENTS.task_id: None})
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
        return task  # (blocked: `_after_write` recorded TaskNeedsAttention)

    def record_qa_iteration(self, key: str) -> Task:
        key = self._key(key)
        current = self.get(key)
        stamps = {name: self._store.clock.now() for name in self.entity.stamped_on_update}
        # In SQL, so that concurrent iterations all count, and never past the maximum.
        below_maximum: builtins.list[Where] = [
            Eq(TASKS.id, key),
            Eq(TASKS.max_iterations, current.max_iterations),
            Before(TASKS.qa_iterations, current.max_iterations),
        ]
        row = self._store.update_one(self._table, below_maximum, stamps, {TASKS.qa_iterations: 1})
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
        return int(cast(int, self._uow.settings.value_or_default(MAX_CRASH_RETRIES)))

    # -- the rules, on every path ----------------------------------------------------------

    def _before_write(self, task: Task, stored: Row | None) -> None:
        if stored is not None and stored[TASKS.project_id] != task.project_id:
            was = stored[TASKS.project_id]
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
        self._check_links(task, stored)
        check_task_links(self._read, task, stored)  # its feature and sub-feature (backlog)
        self._stamp(task, stored)

    def _read_ahead(self, batch: Sequence[Task]) -> None:
        # What the checks read, a table at a time: phases, initiatives (a task given only a
        # phase takes its phase's), parents not in the batch, features, sub-features.
        self._read_rows(_PHASES, {task.phase_id for task in batch})
        phases = [(t, self._read(_PHASES, t.phase_id) if t.phase_id else None) for t in batch]
        of = {t.initiative_id or (p or {}).get(PHASES.initiative_id) for t, p in phases}
        self._read_rows(table_of(Initiative), of)
        self._read_rows(self._table, {t.parent_task_id for t in batch} - {t.id for t in batch})
        read_task_links_ahead(self._read_rows, batch)

    def _check_links(self, task: Task, stored: Row | None) -> None:
        """A task's phase belongs to its initiative (a task given only a phase takes the
        phase's initiative), and its initiative and parent to its project. A missing row is
        left to its foreign key (ReferenceMissing)."""
        if task.phase_id is not None and (
            changed(task, stored, TASKS.phase_id) or changed(task, stored, TASKS.initiative_id)
        ):
            phase = self._read(table_of(Phase), task.phase_id)
            if phase is not None:
                if task.initiative_id is None:
                    task.initiative_id = phase[PHASES.initiative_id]
                elif phase[PHASES.initiative_id] != task.initiative_id:
                    raise InvalidValue(
                        "task",
                        "phase_id",
                        task.phase_id,
                        f"is a phase of initiative {phase[PHASES.initiative_id]!r}, "
                        f"not of the task's initiative {task.initiative_id!r}",
                    )
        if task.initiative_id is not None and changed(task, stored, TASKS.initiative_id):
            initiative = self._read(table_of(Initiative), task.initiative_id)
            if initiative is not None and initiative[INITIATIVES.project_id] != task.project_id:
                raise InvalidValue(
                    "task",
                    "initiative_id",
                    task.initiative_id,
                    f"is an initiative of project {initiative[INITIATIVES.project_id]!r}, "
                    f"not of the task's project {task.project_id!r}",
                )
        if task.parent_task_id is not None and changed(task, stored, TASKS.parent_task_id):
            self._check_parent(task, stored)

    def _check_parent(self, task: Task, stored: Row | None) -> None:
        assert task.parent_task_id is not None
        parent = self._read(self._table, task.parent_task_id)
        if parent is None:
            return
        if parent[TASKS.project_id] != task.project_id:
            raise InvalidValue(
                "task",
                "parent_task_id",
                task.parent_task_id,
                f"is a task of project {parent[TASKS.project_id]!r}, "
                f"not of the task's project {task.project_id!r}",
            )
        # A stored task may not move under itself or its own subtasks.
        ancestor: Row | None = parent if stored is not None else None
        while ancestor is not None:
            if ancestor[TASKS.id] == task.id:
                raise InvalidValue(
                    "task",
                    "parent_task_id",
                    task.parent_task_id,
                    "would make the task its own ancestor",
                )
            above = ancestor[TASKS.parent_task_id]
            ancestor = None if above is None else self._store.get(self._table, above)

    def _stamp(self, task: Task, stored: Row | None) -> None:
        if task.status != _T.IN_PROGRESS or task.assigned_agent_id is None:
            task.claimed_until = None  # a lease is an in-progress task's, held by an agent
        was = None if stored is None else stored[TASKS.status]
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
        was = None if stored is None else stored[TASKS.status]
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
                case _T.BLOCKED:  # by a person, or by the crash rule: either way, a person's
                    reason = task.blocked_by or "blocked"
                    self._record(
                        TaskNeedsAttention(task.id, task.project_id, task.retry_count, reason)
                    )
                case _T.PENDING:
                    pass
                case _:
                    assert_never(task.status)
        left = None if stored is None else stored[TASKS.phase_id]
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
            # A new task's phase as this write's checks (or its batch's) read it: one not in
            # progress has nothing to finish (no lock, no second read).
            row = self._read(_PHASES, phase_id) if was is None else None
            if row is None or row[PHASES.status] == _P.IN_PROGRESS:
                self._phase_may_finish(phase_id)
            return
        started = status is _T.IN_PROGRESS
        if not started and was not in (None, _T.COMPLETED):
            return  # pending <-> blocked, a crash: the phase's state does not change
        reopening = {_P.PENDING_REVIEW, _P.COMPLETED}
        moving = reopening | {_P.PENDING, _P.APPROVED} if started else reopening
        # Mostly the phase stays as it is (its first task started it): its status alone is
        # looked at, as this write's checks (or its batch's) read it; read whole only to
        # move it (or to say it is gone: NotFound).
        row = self._read(_PHASES, phase_id)
        if row is None or _P(row[PHASES.status]) in moving:
            self._uow.phases.move_to(phase_id, _P.IN_PROGRESS)
            self._forget(_PHASES, phase_id)

    def _phase_may_finish(self, phase_id: str, *, emptied: bool = False) -> None:
        """An in-progress phase none of whose tasks is unfinished any more moves on.
        `emptied`: an unfinished task left it (deleted or moved out), so the phase moves
        on only if it still has a completed task: a phase left with no task waits for
        one."""
        # Two units of work completing a phase's last two tasks at once would each find the
        # other's task unfinished (PostgreSQL reads what is committed): they take turns.
        self._store.serialize(table_of(Phase), phase_id)
        phases = self._uow.phases
        phase = phases.get(phase_id)
        if phase.status is not _P.IN_PROGRESS:
            return
        of_phase: builtins.list[Where] = [Eq(TASKS.phase_id, phase_id)]
        if self._store.select(
            self._table, [*of_phase, Ne(TASKS.status, _T.COMPLETED.value)], limit=1
        ):
            return
        if emptied and not self._store.select(self._table, of_phase, limit=1):
            return
        initiative = self._uow.initiatives.get(phase.initiative_id)
        reviewed = initiative.execution_mode is ExecutionMode.REVIEW_PER_PHASE
        phases.move_to(phase_id, _P.PENDING_REVIEW if reviewed else _P.COMPLETED)
        self._forget(_PHASES, phase_id)
