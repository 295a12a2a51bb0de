"""Ports of the agents context."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol

from agentkeel.domain.agents import (
    Account,
    Agent,
    AgentLogChunk,
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    AgentStatus,
    Conversation,
    InteractionSession,
    Message,
    Metric,
)
from agentkeel.ports.base import EntityRepository


class AgentProfiles(EntityRepository[AgentProfile], Protocol):
    """Agent profiles (CO `agents`): global ones and a project's own."""


class AgentProfileTools(EntityRepository[AgentProfileTool], Protocol):
    """The tools of agent profiles."""


class AgentProfileSkills(EntityRepository[AgentProfileSkill], Protocol):
    """The skills of agent profiles."""


class Agents(EntityRepository[Agent], Protocol):
    """Running agents, known by a unique alias (`name`).

    `add` of an agent given no name generates an `adjective-animal` alias, retrying other
    aliases while one is taken (by a stored agent, or by a concurrent unit of work) and then
    appending a number; a name the caller chose that is taken is AlreadyExists.

    The status follows its state machine whatever method writes it: idle -> running;
    running -> waiting_for_input | idle | stopped | crashed; waiting_for_input -> running |
    stopped | crashed; stopped | crashed -> running (a resume). On every path:
    `spawned_at` is stamped on insert; `last_activity_at` on insert and on every write that
    changes the agent (counters included); entering stopped or crashed stamps
    `terminated_at` (`termination_reason` is the reason given); any other status clears
    both; a resume adds one to `session_number` (the log session: 1 at spawn). Stopping,
    crashing and resuming record `AgentStopped`, `AgentCrashed`, `AgentResumed`.
    Deleting the agent's profile or account leaves it with `profile_id` / `account_id` None.
    """

    def list(
        self,
        *,
        status: AgentStatus | None = None,
        profile_id: str | None = None,
        include_dismissed: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Agent]:
        """Agents, oldest spawned first, optionally in one status and/or of one profile;
        those the user dismissed only when `include_dismissed`. Raises InvalidValue."""
        ...

    def find_by_name(self, name: str) -> Agent | None:
        """The agent with this alias (aliases are unique)."""
        ...

    def find_by_session_id(self, session_id: str) -> Agent | None:
        """The agent running CLI session `session_id` (the first spawned, if several)."""
        ...

    def move_to(self, key: str, status: AgentStatus, reason: str | None = None) -> Agent:
        """Move the agent to `status` (see the state machine above); `reason` is the
        termination reason, given only with stopped or crashed.

        Raises NotFound, InvalidTransition, InvalidValue (an unknown status, a reason with
        another status), Conflict (it moved concurrently).
        """
        ...

    def dismiss(self, key: str) -> Agent:
        """Hide the agent from default listings (`user_dismissed_at`; kept if already
        set). Raises NotFound."""
        ...

    def record_tokens(self, key: str, tokens: int) -> Agent:
        """Add `tokens` (a whole number >= 0) to `tokens_used`, in one statement (safe
        under concurrent writers). Raises NotFound, InvalidValue (nothing written)."""
        ...

    def record_task_completed(self, key: str) -> Agent:
        """Add one to `tasks_completed`, in one statement. Raises NotFound."""
        ...

    def record_task_failed(self, key: str) -> Agent:
        """Add one to `tasks_failed`, in one statement. Raises NotFound."""
        ...


class Accounts(EntityRepository[Account], Protocol):
    """Provider accounts agents run under. `credentials` and `config_json` are secrets:
    never in repr, error messages, audit states or events. Marking an account exhausted
    (by any path) records `AccountExhausted`. Deleting an account leaves its agents with
    `account_id` None."""

    def list(self, *, provider: str | None = None) -> builtins.list[Account]:
        """Accounts (of one provider, if given) by provider, then `sort_order`."""
        ...

    def next_available(self, provider: str) -> Account | None:
        """Hand out an account of `provider` round-robin: the least recently used one
        (never used first; ties by `sort_order`, then id) that is not exhausted or whose
        `exhausted_until` has passed, and stamp its `last_used_at` now, in one atomic step:
        k concurrent callers with k <= the available accounts get k different accounts.
        Expired exhaustions of the provider are cleared on the way. None when no account
        is available. Sharing, not leasing: there is nothing to release. Raises InvalidValue.
        """
        ...

    def mark_exhausted(self, key: str, until: datetime | None) -> Account:
        """Mark the account out of quota now (`exhausted_at`) until `until` (None: until
        cleared by hand); `next_available` skips it meanwhile. Records `AccountExhausted`.
        Raises NotFound, InvalidValue (a naive datetime)."""
        ...

    def clear_expired_exhaustion(self) -> int:
        """Clear the exhaustion of every account whose `exhausted_until` has passed;
        return how many were cleared."""
        ...


class AgentLogChunks(EntityRepository[AgentLogChunk], Protocol):
    """Agents' output, in chunks that outlive their agent."""


class Conversations(EntityRepository[Conversation], Protocol):
    """Questions between agents."""


class Messages(EntityRepository[Message], Protocol):
    """Threaded messages between agents and the user."""


class Metrics(EntityRepository[Metric], Protocol):
    """Measurements of a project."""


class InteractionSessions(EntityRepository[InteractionSession], Protocol):
    """Interview, planning and execution sessions of a project."""
