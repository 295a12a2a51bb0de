"""Ports of the planning context."""

from __future__ import annotations

import builtins
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
    Initiative,
    InitiativeRepositoryLink,
    Page,
    Phase,
    PhaseDependency,
    Proposal,
    ProposalStatus,
    ReviewComment,
    Task,
    TaskDependency,
)
from agentkeel.ports.base import EntityRepository


class Initiatives(EntityRepository[Initiative], Protocol):
    """Initiatives of projects."""


class InitiativeRepositories(EntityRepository[InitiativeRepositoryLink], Protocol):
    """The git repositories initiatives work in."""


class Phases(EntityRepository[Phase], Protocol):
    """Phases of initiatives."""


class PhaseDependencies(EntityRepository[PhaseDependency], Protocol):
    """Dependencies between phases (a DAG)."""


class Tasks(EntityRepository[Task], Protocol):
    """Tasks of projects."""


class TaskDependencies(EntityRepository[TaskDependency], Protocol):
    """Dependencies between tasks (a DAG)."""


class Pages(EntityRepository[Page], Protocol):
    """Pages of initiatives: one tree each."""


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
        in the order given), all or nothing. Raises InvalidValue, ReferenceMissing."""
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
        Conflict naming the entity when one is no longer exactly as the change left it (a
        later change touched it), and Conflict when it was already reverted; then nothing
        is written. The rules of pages, phases and tasks apply to the restored rows."""
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
    """Errands on branches of repositories."""
