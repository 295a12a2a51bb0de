"""Ports of the agents context."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import JsonValue

from agentkeel.domain.agents import (
    Account,
    Agent,
    AgentLogChunk,
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    AgentStatus,
    InteractionSession,
    Metric,
    MetricType,
    ProfileType,
    SessionStatus,
    SessionType,
)
from agentkeel.ports.base import EntityRepository, Position
from agentkeel.ports.conversations import Conversations, Messages

__all__ = [
    "Accounts",
    "AgentLogChunks",
    "AgentProfileSkills",
    "AgentProfileTools",
    "AgentProfiles",
    "Agents",
    "Conversations",
    "InteractionSessions",
    "Messages",
    "Metrics",
]


class AgentProfiles(EntityRepository[AgentProfile], Protocol):
    """Agent profiles (CO `agents`): global ones (`project_id` null) and a project's own,
    which go with their project. Names are unique across all profiles (AlreadyExists).

    Rules that hold on every path (`add`, `update`, `delete` and the methods below):
    - `version` counts edits of the profile's definition: an `update` that changes its name,
      display name, type, description, system prompt, colour or project adds one, and so
      does every add, change or delete of one of its tools or skills (in SQL, one
      statement). Deactivating, reactivating and the `parent_profile_id` link are not edits.
      `version` itself is the repository's: an `update` that changes it is InvalidValue.
    - A built-in profile (`built_in_at` set) is global (InvalidValue on `project_id`
      otherwise) and read-only: only `deactivated_at` may change (Protected: customize it),
      its tools and skills cannot change (Protected), and it cannot be deleted (Protected:
      deactivate it). `built_in_at` is set only when a profile is added (InvalidValue).
    - Deleting a profile deletes its tools and skills, and clears `parent_profile_id` on
      the copies made from it.
    """

    def list(
        self,
        *,
        project_id: str | None = None,
        include_global: bool = True,
        type: ProfileType | None = None,
        include_deactivated: bool = False,
    ) -> builtins.list[AgentProfile]:
        """Profiles by name (code point order). Without `project_id`: the global profiles.
        With it: the global ones and that project's own, or only the project's own when
        `include_global` is False (InvalidValue without a `project_id`). Optionally of one
        `type`; deactivated ones only when `include_deactivated`."""
        ...

    def find_by_name(self, name: str) -> AgentProfile | None:
        """The profile with this name (names are unique across projects), or None."""
        ...

    def deactivate(self, key: str) -> AgentProfile:
        """Hide the profile from listings (`deactivated_at`, kept if already set); this is
        how a built-in profile is retired. Not an edit: `version` stays. Raises NotFound."""
        ...

    def reactivate(self, key: str) -> AgentProfile:
        """Clear `deactivated_at`. Raises NotFound."""
        ...

    def customize(
        self, key: str, *, project_id: str | None = None, name: str | None = None
    ) -> AgentProfile:
        """An active, custom copy of the profile (built in or not) with copies of its tools
        and skills, all in one step: `parent_profile_id` names the source, `version` is 1,
        `built_in_at` and `deactivated_at` are null. The copy belongs to `project_id` (None:
        global). Its name is `name`, or else the first free one of `<source name>-custom`,
        `<source name>-custom-2`, `-custom-3`, ... (the source name cut short so that the
        whole fits 200 characters).

        Raises NotFound; AlreadyExists when the name is taken (a caller's name, or a chosen
        one that a concurrent unit of work took first: never two profiles of one name);
        ReferenceMissing (no such project); InvalidValue. On error nothing is written.
        """
        ...


class AgentProfileTools(EntityRepository[AgentProfileTool], Protocol):
    """The tools of agent profiles: unique per (profile, `tool_name`, `tool_pattern`),
    `tool_pattern` `*` by default; an entry is allowed while `disallowed_at` is null.
    `tool_name` is free text (`Read`, `Bash`, `mcp__github__create_issue`, ...). A write of
    a tool counts as an edit of its profile (`version` + 1); the tools of a built-in profile
    cannot change (Protected). `add` raises AlreadyExists and ReferenceMissing too."""

    def list(
        self, *, profile_id: str, disallowed: bool | None = None
    ) -> builtins.list[AgentProfileTool]:
        """The profile's tools by `order_index`, then tool name, then pattern; only the
        disallowed (True) or allowed (False) ones if asked."""
        ...

    def allow(self, key: str) -> AgentProfileTool:
        """Clear `disallowed_at`. Raises NotFound, Protected (a built-in's tool)."""
        ...

    def disallow(self, key: str) -> AgentProfileTool:
        """Set `disallowed_at` (kept if already set). Raises NotFound, Protected."""
        ...

    def effective(self, profile_id: str) -> builtins.list[AgentProfileTool]:
        """What the profile's agent may use, in `list` order, read in one query: its allowed
        entries, less every entry of a tool that has a disallowed entry with pattern `*`
        (a denied `Bash` / `*` removes `Bash` / `pnpm lint` too). A disallowed entry with a
        narrower pattern removes no allowed entry (there cannot be an allowed one with the
        same tool and pattern): it narrows what a wider allowed pattern grants and is passed
        on to the agent as a denial (`list(profile_id=..., disallowed=True)`)."""
        ...


class AgentProfileSkills(EntityRepository[AgentProfileSkill], Protocol):
    """The skills of agent profiles: unique per (profile, `skill_name`); required while
    `required_at` is set. A write of a skill counts as an edit of its profile (`version` +
    1); the skills of a built-in profile cannot change (Protected). `add` raises
    AlreadyExists and ReferenceMissing too."""

    def list(
        self, *, profile_id: str, required: bool | None = None
    ) -> builtins.list[AgentProfileSkill]:
        """The profile's skills by `order_index`, then name; only the required (True) or
        optional (False) ones if asked."""
        ...

    def require(self, key: str) -> AgentProfileSkill:
        """Set `required_at` (kept if already set). Raises NotFound, Protected."""
        ...

    def make_optional(self, key: str) -> AgentProfileSkill:
        """Clear `required_at`. Raises NotFound, Protected."""
        ...


class Agents(EntityRepository[Agent], Protocol):
    """Running agents, known by a unique alias (`name`).

    `add` of an agent given no name generates an `adjective-animal` alias, retrying other
    aliases while one is taken (by a stored agent, or by a concurrent unit of work) and then
    appending a number (InvalidValue naming `name` if every draw is taken: give it one); a
    name the caller chose that is taken is AlreadyExists.

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

    def find_by_task_id(self, task_id: str) -> Agent | None:
        """The agent working on task `task_id` (`agents.task_id`; the first spawned, if
        several), dismissed or not; None if there is none. Raises InvalidValue for an id
        no task could have."""
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


class AgentLogChunks(Protocol):
    """Agents' output (CW `LogChunkRepository`), in chunks that outlive their agent:
    append-only; chunks leave all together, by agent (`delete_by_agent`), or the oldest
    first, by the retention purge (`purge_before`).

    An agent's chunks are numbered 1, 2, 3... in the order they were appended
    (`chunk_number`, unique per agent). On PostgreSQL, two units of work appending to the
    same agent's log at the same moment: the second waits for the first to end, then is
    refused (AlreadyExists on the chunk number); retry the unit of work."""

    def append(
        self, agent_id: str, agent_name: str, session_number: int, contents: Sequence[str]
    ) -> int:
        """Append one chunk per text of `contents`, in order, numbered after the agent's last
        chunk, in one bulk insert; return the agent's last chunk number afterwards (the
        chunks appended are numbered from it minus len(contents) plus 1). No contents:
        nothing is written and the last chunk number is returned (0 for none).

        `agent_name` is kept as given (a snapshot for display), `session_number` is 1 for
        the agent's spawn and one more for each resume. Raises InvalidValue naming the field
        (`contents[i]` for a chunk: NUL, a lone surrogate, more than 1,000,000 characters,
        not a string; a bad agent id, a blank name, a session number below 1); on error
        nothing of the batch is written."""
        ...

    def insert_chunk(
        self, agent_id: str, agent_name: str, session_number: int, content: str
    ) -> AgentLogChunk:
        """Append one chunk (CW `insertChunk`) and return it as stored. Errors as `append`."""
        ...

    def get(self, key: str) -> AgentLogChunk:
        """The chunk with this id. Raises NotFound."""
        ...

    def find(self, key: str) -> AgentLogChunk | None:
        """The chunk with this id, or None."""
        ...

    def find_by_agent(
        self, agent_id: str, *, after: int = 0, limit: int | None = None
    ) -> builtins.list[AgentLogChunk]:
        """The agent's chunks in order (CW `findByAgentId`), those numbered after `after`, at
        most `limit` of them (None: all): a reader that follows a growing log passes the
        last number it has read, so that each call costs what it returns, not the whole
        log. Empty for an agent with none, deleted or not. Raises InvalidValue for a value
        no agent id could be, and for an `after` or `limit` that is not a whole number
        >= 0."""
        ...

    def find_by_agents(self, agent_ids: Iterable[str]) -> builtins.list[AgentLogChunk]:
        """The chunks of all these agents in one query, by agent id (code point order), then
        in order. Raises InvalidValue for something that is not a collection of ids (a
        string is refused, not read as its characters), for a value no agent id could be,
        and for more than 10,000 ids."""
        ...

    def delete_by_agent(self, agent_id: str) -> int:
        """Hard-delete the agent's chunks (CW `deleteByAgentId`); return how many went.
        Writes one audit entry with the count when any went. Raises InvalidValue."""
        ...

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        """The retention purge: delete the chunks appended before `cutoff`, the oldest
        first (an agent's chunks of one moment in their order, so an agent's log loses its
        beginning, never a piece in the middle), at most `limit` (1 to 100,000; None: all)
        in one statement; return how many went. An agent keeps numbering after its last
        chunk kept; one whose chunks all went starts again at 1, as after
        `delete_by_agent`. Writes one audit entry (`agent_log_chunks.purged`) and records
        `RecordsPurged` when any went. Raises InvalidValue naming `created_at` for a
        cutoff that is not a timezone-aware datetime, `limit` for a bad bound."""
        ...

    def session_count(self, agent_id: str) -> int:
        """The agent's highest session number among its chunks (CW `getSessionCount`): the
        sessions it has logged, 0 when it has no chunks. Raises InvalidValue."""
        ...

    def count(self) -> int:
        """How many chunks are stored."""
        ...

    def update(self, chunk: AgentLogChunk) -> AgentLogChunk:
        """Always raises Protected: chunks are never changed."""
        ...

    def delete(self, key: str) -> dict[str, int]:
        """Always raises Protected: chunks leave only by agent, with `delete_by_agent`."""
        ...


class Metrics(Protocol):
    """Measurements of a project (NX `metrics`): append-only; they leave with their project,
    or by the retention purge (`purge_before`), after which the aggregates no longer count
    them.

    The aggregates are computed by the database, one statement each, over the metrics whose
    `timestamp` falls in [since, until) (either bound may be left out). Sums of whole
    numbers (token counts) are exact everywhere; sums of fractional values may differ in
    their last bits between backends, which add in different orders."""

    def record(self, metric: Metric) -> Metric:
        """Store a measurement and return it as stored. Raises InvalidValue, ReferenceMissing
        (no such project), AlreadyExists (the id is taken)."""
        ...

    def get(self, key: str) -> Metric:
        """The metric with this id. Raises NotFound."""
        ...

    def find(self, key: str) -> Metric | None:
        """The metric with this id, or None."""
        ...

    def list(
        self,
        *,
        project_id: str | None = None,
        type: MetricType | None = None,
        agent_id: str | None = None,
        task_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: Position | None = None,
        limit: int | None = None,
    ) -> builtins.list[Metric]:
        """Metrics matching every filter given, oldest first (`timestamp`, then id); `since`
        is inclusive, `until` exclusive. Raises InvalidValue for a filter value the column
        could never hold (a naive datetime, an unknown type).
        Paged (see `Position`): at most `limit` after `after` (timestamp, id), oldest first;
        InvalidValue naming `after` or `limit` for a bad one."""
        ...

    def count(self) -> int:
        """How many metrics are stored."""
        ...

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        """The retention purge: delete the metrics whose `timestamp` is before `cutoff`, the
        oldest first, at most `limit` (1 to 100,000; None: all) in one statement; return
        how many went. Writes one audit entry (`metrics.purged`) and records
        `RecordsPurged` when any went. Raises InvalidValue naming `timestamp` for a cutoff
        that is not a timezone-aware datetime, `limit` for a bad bound."""
        ...

    def tokens_by_agent(
        self, project_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        """Token usage of each agent of the project: agent id -> the sum of its
        `token_usage` values, agents in code point order; metrics with no agent are left
        out. Raises InvalidValue."""
        ...

    def tokens_by_project(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        """Token usage of each project: project id -> the sum of its `token_usage` values,
        projects in code point order. Raises InvalidValue."""
        ...

    def task_duration_percentiles(
        self,
        percentiles: Sequence[float] = (50.0, 90.0, 99.0),
        *,
        project_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, dict[float, float]]:
        """Percentiles of the `task_duration` values of each project (or of `project_id`
        only): project id -> {percentile -> value}. Nearest rank: the p-th percentile is the
        least value v such that at least p% of the values are <= v (the 0th is the least,
        the 100th the greatest), always a value that was recorded. Projects without
        durations are left out. Raises InvalidValue for a percentile outside 0..100 (or not
        a number) and for no percentiles or more than 20."""
        ...

    def qa_iterations_by_task(
        self, project_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        """QA iterations of each task of the project: task id -> the sum of its
        `qa_iterations` values (a metric records the iterations it counts, so one record of
        3 or three of 1 give 3), tasks in code point order; metrics with no task are left
        out. Raises InvalidValue."""
        ...

    def update(self, metric: Metric) -> Metric:
        """Always raises Protected: measurements are never changed."""
        ...

    def delete(self, key: str) -> dict[str, int]:
        """Always raises Protected: metrics leave only with their project or by the purge."""
        ...


class InteractionSessions(EntityRepository[InteractionSession], Protocol):
    """Interview, planning and execution sessions of a project (NX `sessions`); they go with
    their project. By every path: the status moves active -> completed | abandoned, both
    final (InvalidTransition); `started_at` is stamped when the session is stored; `ended_at`
    is stamped when it ends without one (a caller's own time is kept; one before
    `started_at` is InvalidValue naming `ended_at`), and one given to an active session, by
    `add` or `update`, is InvalidValue naming `ended_at`."""

    def start(
        self, project_id: str, type: SessionType, data: JsonValue | None = None
    ) -> InteractionSession:
        """Store a new active session of the project, started now.

        Raises InvalidValue (an unknown type, data that is not storable JSON),
        ReferenceMissing (no such project).
        """
        ...

    def complete(self, key: str) -> InteractionSession:
        """End an active session as completed, stamping `ended_at`.

        Raises NotFound; InvalidTransition naming `status` when it has already ended.
        """
        ...

    def abandon(self, key: str) -> InteractionSession:
        """End an active session as abandoned, stamping `ended_at`.

        Raises NotFound; InvalidTransition naming `status` when it has already ended.
        """
        ...

    def update_data(self, key: str, data: JsonValue | None) -> InteractionSession:
        """Replace the session's JSON `data` (an ended session's too: its record).

        Raises NotFound, InvalidValue (not storable JSON).
        """
        ...

    def list(
        self,
        *,
        project_id: str,
        type: SessionType | None = None,
        status: SessionStatus | None = None,
    ) -> builtins.list[InteractionSession]:
        """The project's sessions, newest first (by `started_at`), optionally of one type
        and/or in one status."""
        ...

    def active_for(
        self, project_id: str, *, type: SessionType | None = None
    ) -> builtins.list[InteractionSession]:
        """The project's active sessions (of one type, if given), newest first. Nothing
        limits how many are active at once (Nexus does not)."""
        ...
