"""Ports of the planning context."""

from __future__ import annotations

import builtins
from typing import Protocol

from agentkeel.domain.planning import (
    ChangeSet,
    ChangeSetEntry,
    ChatMessage,
    ChatSession,
    Errand,
    Initiative,
    InitiativeRepositoryLink,
    Page,
    Phase,
    PhaseDependency,
    PhaseStatus,
    Proposal,
    ReviewComment,
    Task,
    TaskDependency,
    TaskStatus,
)
from agentkeel.ports.base import EntityRepository


class Initiatives(EntityRepository[Initiative], Protocol):
    """Initiatives of projects."""


class InitiativeRepositories(EntityRepository[InitiativeRepositoryLink], Protocol):
    """The git repositories initiatives work in."""


class Phases(EntityRepository[Phase], Protocol):
    """Phases of initiatives. A phase stays in its initiative (changing `initiative_id`:
    InvalidValue). Its status follows `Phase.transitions` by every path (InvalidTransition),
    and each change records `PhaseStatusChanged`. Deleting a phase removes its
    dependencies (both ways), its tasks (with theirs) and its review comments."""

    def find_by_initiative(self, initiative_id: str) -> builtins.list[Phase]:
        """The initiative's phases, oldest first."""
        ...

    def move_to(self, key: str, status: PhaseStatus) -> Phase:
        """Move the phase to `status`. Raises NotFound, InvalidTransition."""
        ...


class PhaseDependencies(EntityRepository[PhaseDependency], Protocol):
    """Dependencies between the phases of one initiative, kept a DAG by every path (`add`,
    `update` and `create` alike): a self-dependency or an edge that would close a cycle is
    DependencyCycle (naming the ids along the cycle, the new edge first: `a -> b -> c ->
    a`), a pair stored already is AlreadyExists, phases of two initiatives InvalidValue,
    a missing phase ReferenceMissing. Concurrent units of work adding edges to one
    initiative check one at a time, so two edges that close a cycle only together cannot
    both be stored."""

    def create(self, node_id: str, depends_on_id: str) -> PhaseDependency:
        """Phase `node_id` waits for phase `depends_on_id` (CW `createDependency`)."""
        ...

    def get_dependencies(self, node_id: str) -> builtins.list[str]:
        """Ids of the phases `node_id` waits for, by id (none for an unknown phase)."""
        ...

    def get_dependents(self, node_id: str) -> builtins.list[str]:
        """Ids of the phases waiting for `node_id`, by id (none for an unknown phase)."""
        ...

    def remove(self, node_id: str, depends_on_id: str) -> None:
        """Remove the dependency (an audited hard delete). Raises NotFound."""
        ...


class Tasks(EntityRepository[Task], Protocol):
    """Tasks of projects (CW and NX tasks, one table), by every path:

    - Consistency: a task's initiative and parent task are of its project, its phase of
      its initiative (a task given a phase and no initiative takes the phase's); a task
      cannot be its own ancestor; `project_id` never changes; `qa_iterations` never
      exceeds `max_iterations`. A violation is InvalidValue naming the field.
    - Status follows `Task.transitions` (InvalidTransition). `started_at` is stamped when
      the task first goes in progress, `completed_at` when it completes (cleared when it is
      reopened); leaving `blocked` clears `blocked_by`. Events: `TaskStarted`,
      `TaskCompleted`, `TaskReopened`.
    - Deleting a task removes its subtasks and dependencies (both ways) and clears the
      `task_id` of agents and conversations pointing at it.
    """

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
        """The project's tasks, filtered by the arguments given, by `order_index`, then
        `created_at`, then id."""
        ...

    def find_by_parent_task(self, parent_task_id: str) -> builtins.list[Task]:
        """The subtasks of a task (CW `findByParentTaskId`), in task order."""
        ...

    def find_by_phase(self, phase_id: str) -> builtins.list[Task]:
        """The tasks of a phase (CW `findByPhaseId`), in task order."""
        ...

    def ready_tasks(
        self,
        *,
        project_id: str | None = None,
        initiative_id: str | None = None,
        phase_id: str | None = None,
    ) -> builtins.list[Task]:
        """Pending tasks of the given scope (every argument given must hold) whose
        dependencies are all completed, in task order: one query. Raises InvalidValue when
        no scope is given."""
        ...

    def dependency_context(self, key: str) -> builtins.list[Task]:
        """The tasks this task depends on, in task order (their `summary` is its context),
        in one query. Raises NotFound."""
        ...

    def move_to(self, key: str, status: TaskStatus, *, blocked_by: str | None = None) -> Task:
        """Move the task to `status` (with the reason when blocking it). Raises NotFound,
        InvalidTransition."""
        ...

    def complete(self, key: str, summary: str | None = None) -> Task:
        """Complete an in-progress task and store its summary. Raises NotFound,
        InvalidTransition."""
        ...

    def record_crash(self, key: str) -> Task:
        """The agent of an in-progress task crashed. While `retry_count` is below the
        setting `tasks.maxCrashRetries`, the task goes back to pending with `retry_count`
        + 1 (`TaskCrashed(retried=True)`); past it, the task is left in progress and
        `TaskCrashed(retried=False)` and `TaskNeedsAttention` are recorded for a person.
        Raises NotFound, InvalidValue (not in progress)."""
        ...

    def retry(self, key: str) -> Task:
        """A person's retry: back to pending with `retry_count` 0. Raises NotFound,
        InvalidTransition."""
        ...

    def record_qa_iteration(self, key: str) -> Task:
        """Add one QA iteration, in SQL (concurrent iterations all count), never past
        `max_iterations`: InvalidValue then, and Conflict if `max_iterations` changed
        meanwhile. Raises NotFound."""
        ...


class TaskDependencies(EntityRepository[TaskDependency], Protocol):
    """Dependencies between the tasks of one project, kept a DAG by every path: as
    `PhaseDependencies`, with the project as the scope (tasks of two projects:
    InvalidValue)."""

    def create(self, node_id: str, depends_on_id: str) -> TaskDependency:
        """Task `node_id` waits for task `depends_on_id` (CW `createDependency`)."""
        ...

    def get_dependencies(self, node_id: str) -> builtins.list[str]:
        """Ids of the tasks `node_id` waits for, by id."""
        ...

    def get_dependents(self, node_id: str) -> builtins.list[str]:
        """Ids of the tasks waiting for `node_id`, by id."""
        ...

    def remove(self, node_id: str, depends_on_id: str) -> None:
        """Remove the dependency (an audited hard delete). Raises NotFound."""
        ...


class Pages(EntityRepository[Page], Protocol):
    """Pages of initiatives: one tree each."""


class Proposals(EntityRepository[Proposal], Protocol):
    """Agents' proposed changes to pages, phases and tasks."""


class ReviewComments(EntityRepository[ReviewComment], Protocol):
    """Inline review comments on phases' diffs."""


class ChatSessions(EntityRepository[ChatSession], Protocol):
    """Chat sessions refining a phase or task."""


class ChatMessages(EntityRepository[ChatMessage], Protocol):
    """Messages of chat sessions."""


class ChangeSets(EntityRepository[ChangeSet], Protocol):
    """What a refinement changed, revertible."""


class ChangeSetEntries(EntityRepository[ChangeSetEntry], Protocol):
    """The entities a change set touched."""


class Errands(EntityRepository[Errand], Protocol):
    """Errands on branches of repositories."""
