"""Ports of the planning context."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import timedelta
from typing import Protocol

from agentkeel.domain.planning import (
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
    Initiative,
    InitiativeRepositoryLink,
    InitiativeStatus,
    Page,
    Phase,
    PhaseDependency,
    PhaseStatus,
    Proposal,
    ProposalStatus,
    ReviewComment,
    Task,
    TaskDependency,
    TaskStatus,
)
from agentkeel.domain.workspace import Repository
from agentkeel.ports.base import EntityRepository


class Initiatives(EntityRepository[Initiative], Protocol):
    """Initiatives of projects (deleted with their project). The status follows its state
    machine by every path: active -> pending_review | completed, pending_review -> active |
    completed, completed -> active (InvalidTransition otherwise). Archiving is the
    `archived_at` flag, not a status: archived initiatives are hidden from listings and stay
    readable by id. An initiative written without a `branch`, by any path, gets
    `agentkeel/<slug of its name>` (lowercase ASCII letters, digits and hyphens, cut to
    255 characters), with `-2`, `-3`... appended when another initiative of the project
    already has that branch; a branch the caller gives is kept as given. The status
    follows the phases (001's review flow, written by the phases' repository): when the last
    phase of an active initiative completes, the initiative goes to pending_review
    (`review_per_phase`) or completed (`yolo`); a phase reopened from completed makes a
    pending_review or completed initiative active again."""

    def list(
        self, *, project_id: str | None = None, include_archived: bool = False
    ) -> builtins.list[Initiative]:
        """Initiatives (of one project, if given), oldest first; archived ones only when
        `include_archived`."""
        ...

    def find_by_status(
        self, status: InitiativeStatus, *, include_archived: bool = False
    ) -> builtins.list[Initiative]:
        """Initiatives in this status, oldest first; archived ones only when
        `include_archived`. CW's `archived` is not a status: InvalidValue (use `list`)."""
        ...

    def archive(self, key: str) -> Initiative:
        """Set `archived_at` (kept if already set). Raises NotFound."""
        ...

    def unarchive(self, key: str) -> Initiative:
        """Clear `archived_at`. Raises NotFound."""
        ...


class InitiativeRepositories(EntityRepository[InitiativeRepositoryLink], Protocol):
    """The git repositories initiatives work in (CW `initiative_projects`). A link's
    repository belongs to the initiative's project, by every path (InvalidValue naming
    `repository_id` otherwise); a pair is linked once (AlreadyExists)."""

    def set_for_initiative(
        self, initiative_id: str, repository_ids: Iterable[str]
    ) -> builtins.list[InitiativeRepositoryLink]:
        """Make the initiative's repositories exactly `repository_ids` (CW
        `setInitiativeProjects`): links to new ones are added, links to missing ones removed,
        the others left untouched (same rows, same `created_at`); repeated ids count once.
        All or nothing. Returns the links, oldest first. Raises NotFound (the initiative);
        ReferenceMissing (a repository that does not exist); InvalidValue (a repository of
        another project, or an id no repository could have)."""
        ...

    def of_initiative(self, initiative_id: str) -> builtins.list[Repository]:
        """The repositories the initiative works in, by name (CW
        `findProjectsByInitiativeId`); none for an unknown initiative."""
        ...


class Phases(EntityRepository[Phase], Protocol):
    """Phases of initiatives. A phase stays in its initiative (changing `initiative_id`:
    InvalidValue). Its status follows `Phase.transitions` by every path (InvalidTransition),
    and each change records `PhaseStatusChanged`. Deleting a phase removes its
    dependencies (both ways), its tasks (with theirs) and its review comments.

    The status follows the tasks (001's review flow, written by the tasks' repository, in
    the same transaction): when the last open task of an in_progress phase completes, the
    phase goes to pending_review (its initiative is `review_per_phase`) or completed
    (`yolo`); a task reopened in a pending_review or completed phase puts the phase back
    in progress. Its initiative follows the phase in turn (see `Initiatives`)."""

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
      reopened); leaving `blocked` clears `blocked_by`; a lease (`claimed_until`) is only
      an in-progress task's, held by an agent. Events: `TaskStarted`, `TaskCompleted`,
      `TaskReopened`.
    - The task's phase follows it both ways (see `Phases`): the first task of a pending,
      approved, pending_review or completed phase to start moves the phase to
      in_progress; the last task of an in-progress phase to complete moves it on as its
      initiative's review flow says; a reopened task reopens a completed or pending_review
      phase. The phase's initiative follows the phase.
    - The crash rule: an attempt that ends without completion (its agent crashed, its
      lease ran out and a claim took the task over, or its agent gave up) adds one to
      `retry_count`; the task goes back to pending while `retry_count` is within the
      setting `tasks.maxCrashRetries`, and past it becomes `blocked`, `blocked_by` saying
      why (e.g. "crashed 4 times (tasks.maxCrashRetries is 3)"), with `TaskNeedsAttention`
      recorded. Either way nobody holds it any more: its lease, its `assigned_agent_id`
      and the `task_id` of every agent pointing at it are cleared. A person's `retry`
      brings it back to pending with the count reset.
    - A worker's write about the task it holds (`renew_lease`; `complete`,
      `record_failure` and `record_crash` given its `agent_id`) raises `LeaseLost`, not a
      `Conflict`, when the agent no longer holds the task: no retry can win it back.
    - Deleting a task removes its subtasks and dependencies (both ways) and clears the
      `task_id` of agents and conversations pointing at it.
    """

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
        """The ready tasks of the given scope (every argument given must hold), in task
        order, in one query. A task is ready when it is pending, every task it depends on
        is completed, every phase its phase depends on is completed, and its phase (if it
        has one) is neither blocked nor completed. Raises InvalidValue when no scope is
        given."""
        ...

    def needing_attention(
        self,
        *,
        project_id: str | None = None,
        initiative_id: str | None = None,
        phase_id: str | None = None,
    ) -> builtins.list[Task]:
        """The tasks of the scope that cannot run until a person acts, in task order, in
        one query: every blocked task, and every unfinished task that depends on one,
        directly or through other unfinished tasks. Raises InvalidValue when no scope is
        given."""
        ...

    def claim_next_ready(
        self,
        agent_id: str,
        lease: timedelta,
        *,
        project_id: str | None = None,
        initiative_id: str | None = None,
        phase_id: str | None = None,
    ) -> Task | None:
        """Hand the agent the next ready task of the scope (as `ready_tasks` orders them),
        which starts, or None if there is none. The task gets `assigned_agent_id` and a
        lease `claimed_until` = now + `lease`. First, every in-progress task of the scope
        whose lease has run out is taken over: its holder crashed as far as the task is
        concerned, so the crash rule applies to it (`TaskCrashed`; back to pending, where
        this very claim may hand it out, or blocked past the limit). Atomic: concurrent
        claimers never get the same task, nor take over the same one (SQLite: its one
        writer; PostgreSQL: FOR UPDATE SKIP LOCKED; the fakes: their lock). The agent's own
        `task_id` is the service's to write (`services.planning.claim_next_ready_task`).
        Raises InvalidValue (no scope, a lease that is not a positive timedelta)."""
        ...

    def renew_lease(self, key: str, agent_id: str, lease: timedelta) -> Task:
        """Extend the lease of the agent's claimed task to now + `lease`. Raises NotFound,
        InvalidValue (a lease that is not a positive timedelta), LeaseLost when the agent
        no longer holds the task (another claim took it over, or it left in_progress)."""
        ...

    def dependency_context(self, key: str) -> builtins.list[Task]:
        """The tasks this task depends on, in task order (their `summary` is its context),
        in one query. Raises NotFound."""
        ...

    def move_to(self, key: str, status: TaskStatus, *, blocked_by: str | None = None) -> Task:
        """Move the task to `status` (with the reason when blocking it). Raises NotFound,
        InvalidTransition."""
        ...

    def complete(
        self, key: str, summary: str | None = None, *, agent_id: str | None = None
    ) -> Task:
        """Complete an in-progress task and store its summary. With `agent_id` (a worker
        completing its own task), the agent must still hold the task. Raises NotFound,
        InvalidTransition, LeaseLost."""
        ...

    def record_crash(self, key: str, *, agent_id: str | None = None) -> Task:
        """The agent of an in-progress task crashed: the crash rule applies (see above;
        `TaskCrashed`, and `TaskNeedsAttention` when it blocks the task). With `agent_id`,
        only if that agent still holds the task (a crash reported after a takeover must
        not count twice). Raises NotFound, InvalidValue (not in progress), LeaseLost."""
        ...

    def record_failure(self, key: str, reason: str, *, agent_id: str | None = None) -> Task:
        """The agent of an in-progress task gave up, saying why: the crash rule applies, as
        for a crash (`TaskFailed`, and `TaskNeedsAttention` when it blocks the task). With
        `agent_id`, only if that agent still holds the task. Raises NotFound, InvalidValue
        (not in progress, a blank reason), LeaseLost."""
        ...

    def retry(self, key: str) -> Task:
        """A person's retry: back to pending with `retry_count` 0 (a blocked task's
        `blocked_by` is cleared). Raises NotFound, InvalidTransition."""
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
    """Pages of initiatives: one tree each, whose root has no parent. By every path: an
    initiative has at most one root (a second is AlreadyExists, even from two units of work
    at once); a page's parent is in the page's initiative (InvalidValue naming
    `parent_page_id`); a page never moves to another initiative (InvalidValue naming
    `initiative_id`) nor under itself or its own descendant (DependencyCycle naming the
    path). Deleting a page deletes its subtree."""

    def find_root_page(self, initiative_id: str) -> Page | None:
        """The initiative's root page, if it has one."""
        ...

    def get_or_create_root_page(self, initiative_id: str, *, title: str | None = None) -> Page:
        """The initiative's root page, created (titled `title`, or the initiative's name)
        if it has none. Two units of work calling it at once get the same root. Raises
        NotFound (the initiative), InvalidValue (the title)."""
        ...

    def find_by_parent_page(self, parent_page_id: str) -> builtins.list[Page]:
        """The children of a page by `sort_order`, then oldest first."""
        ...

    def find_by_initiative(self, initiative_id: str) -> builtins.list[Page]:
        """Every page of the initiative by `sort_order`, then oldest first."""
        ...


class Proposals(EntityRepository[Proposal], Protocol):
    """Agents' proposed changes to pages, phases and tasks of their initiative. A proposal's
    `target_id`, when given, must name a page, phase or task (per `target_type`) of the
    proposal's initiative (InvalidValue on `add` and on any `update` that moves it). Status:
    pending -> accepted | dismissed, dismissed -> pending; accepted is final. Deleting the
    target (or what it cascades from) dismisses the pending proposals naming it.
    Accepting is `services.planning.accept_proposal`."""

    def find_by_agent_and_status(
        self, agent_id: str, status: ProposalStatus | None = None
    ) -> builtins.list[Proposal]:
        """The agent's proposals (in one status, if given), by `sort_order` then age."""
        ...

    def count_by_agent_and_status(self, agent_id: str, status: ProposalStatus | None = None) -> int:
        """How many proposals the agent has (in one status, if given)."""
        ...

    def update_many_by_agent(
        self,
        agent_id: str,
        *,
        status: ProposalStatus,
        from_status: ProposalStatus | None = None,
    ) -> int:
        """Move every proposal of the agent that may move to `status` (only those in
        `from_status`, if given) in one set-based UPDATE; each moved one gets `updated_at`
        stamped and its `row_version` one more, as `update` does. Returns how many moved.
        Raises InvalidTransition if `from_status` can never move to `status`."""
        ...


class ReviewComments(EntityRepository[ReviewComment], Protocol):
    """Inline review comments on phases' diffs; `add` is CW's create, author `you` by
    default."""

    def find_by_phase(
        self, phase_id: str, *, include_resolved: bool = True
    ) -> builtins.list[ReviewComment]:
        """The phase's comments by file, then line, then age; unresolved ones only when
        `include_resolved` is False."""
        ...

    def resolve(self, key: str) -> ReviewComment:
        """Stamp `resolved_at` (kept if already set). Raises NotFound."""
        ...

    def unresolve(self, key: str) -> ReviewComment:
        """Clear `resolved_at`. Raises NotFound."""
        ...


class ChatSessions(EntityRepository[ChatSession], Protocol):
    """Chat sessions refining a phase or task of their initiative (the target must exist
    there: InvalidValue naming `target_id`). At most one session per target is active, even
    under concurrent units of work (a partial unique index: a second active one is
    AlreadyExists). Status: active -> closed, final. Deleting the target (or what it
    cascades from) closes its active session."""

    def create_session(self, session: ChatSession) -> ChatSession:
        """Store `session`, or return the target's active session if it has one (then
        `session` is not stored): get-or-create, race-free. Raises InvalidValue,
        ReferenceMissing."""
        ...

    def find_active_session(self, target_type: ChatTarget, target_id: str) -> ChatSession | None:
        """The target's active session, if any."""
        ...

    def find_active_session_by_agent(self, agent_id: str) -> ChatSession | None:
        """The newest active session linked to the agent, if any."""
        ...

    def update_session(
        self, key: str, *, agent_id: str | None = ..., status: ChatStatus | None = None
    ) -> ChatSession:
        """Link another agent (None unlinks; left out keeps it) and/or move the status.
        Raises NotFound, ReferenceMissing, InvalidTransition, Conflict."""
        ...

    def close_session(self, key: str) -> ChatSession:
        """Close the session (a closed one stays as it is). Raises NotFound."""
        ...


class ChatMessages(EntityRepository[ChatMessage], Protocol):
    """Messages of chat sessions, append-only: `update` and `delete` are Protected (they go
    with their session). Each gets the next `sequence` of its session, whatever it carried."""

    def create_message(
        self, session_id: str, role: ChatRole, content: str, change_set_id: str | None = None
    ) -> ChatMessage:
        """Append a message to an active session. Only an assistant's message may link a
        change set, one of the session's initiative. Raises NotFound (no such session),
        Protected (the session is closed), InvalidValue."""
        ...

    def find_messages_by_session(self, session_id: str) -> builtins.list[ChatMessage]:
        """The session's messages in the order they were appended."""
        ...


class ChangeSets(EntityRepository[ChangeSet], Protocol):
    """What a change did to an initiative's pages, phases and tasks, entity by entity, and
    its undoing."""

    def record(self, change_set: ChangeSet, changes: builtins.list[ChangeSetEntry]) -> ChangeSet:
        """Store the change set and its entries (their `change_set_id` set to it, numbered
        in the order given), all or nothing. Raises InvalidValue (naming `changes` when it
        is not a list of change set entries), ReferenceMissing."""
        ...

    def entries(self, change_set_id: str) -> builtins.list[ChangeSetEntry]:
        """The change set's entries in the order the changes were made."""
        ...

    def find_by_initiative(self, initiative_id: str) -> builtins.list[ChangeSet]:
        """The initiative's change sets, oldest first."""
        ...

    def revert(self, change_set_id: str) -> ChangeSet:
        """Undo the change set, newest entry first, in one step: delete what it created,
        restore every field but the bookkeeping (`created_at`, `updated_at`, `row_version`)
        of what it updated, re-add what it deleted; stamp `reverted_at`. Raises NotFound;
        Protected naming the entity when one is no longer exactly as the change left it (a
        later change touched it: revert that first), and Protected naming the change set
        when it was already reverted; then nothing is written (neither is a Conflict: a
        retry meets the same). The rules of pages, phases and tasks apply to the restored
        rows."""
        ...


class ChangeSetEntries(EntityRepository[ChangeSetEntry], Protocol):
    """The entities a change set touched, append-only (`update` and `delete` are Protected:
    they go with their change set); a reverted
    change set takes no new entries (Protected). A create has only `after_state`, a delete
    only `before_state`, an update both, each the state of `entity_id` (InvalidValue)."""

    def find_by_change_set(self, change_set_id: str) -> builtins.list[ChangeSetEntry]:
        """The change set's entries by `position`."""
        ...


class Errands(EntityRepository[Errand], Protocol):
    """Errands on branches of repositories (deleted with their repository; an agent's
    deletion leaves them unassigned). The caller may supply the id. The status follows its
    state machine by every path (InvalidTransition): active <-> pending_review; active |
    pending_review -> conflict -> active | pending_review; pending_review -> merged; any
    but merged and abandoned -> abandoned."""

    def find_with_alias(self, key: str) -> ErrandWithAlias | None:
        """The errand with its agent's alias (CW `findById`), in one query."""
        ...

    def find_all(
        self, *, repository_id: str | None = None, status: ErrandStatus | None = None
    ) -> builtins.list[ErrandWithAlias]:
        """Errands (of one repository, in one status, when given), newest `created_at`
        first, each with its agent's alias, in one query."""
        ...
