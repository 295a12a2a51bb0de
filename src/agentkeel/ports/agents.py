"""Ports of the agents context."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from agentkeel.domain.agents import (
    Account,
    Agent,
    AgentLogChunk,
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    Conversation,
    InteractionSession,
    Message,
    Metric,
    MetricType,
)
from agentkeel.ports.base import EntityRepository


class AgentProfiles(EntityRepository[AgentProfile], Protocol):
    """Agent profiles (CO `agents`): global ones and a project's own."""


class AgentProfileTools(EntityRepository[AgentProfileTool], Protocol):
    """The tools of agent profiles."""


class AgentProfileSkills(EntityRepository[AgentProfileSkill], Protocol):
    """The skills of agent profiles."""


class Agents(EntityRepository[Agent], Protocol):
    """Running agents, known by a unique alias."""


class Accounts(EntityRepository[Account], Protocol):
    """Provider accounts agents run under."""


class AgentLogChunks(Protocol):
    """Agents' output (CW `LogChunkRepository`), in chunks that outlive their agent:
    append-only; chunks leave only all together, by agent (`delete_by_agent`).

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

    def find_by_agent(self, agent_id: str) -> builtins.list[AgentLogChunk]:
        """The agent's chunks in order (CW `findByAgentId`); empty for an agent with none,
        deleted or not. Raises InvalidValue for a value no agent id could be."""
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


class Conversations(EntityRepository[Conversation], Protocol):
    """Questions between agents."""


class Messages(EntityRepository[Message], Protocol):
    """Threaded messages between agents and the user."""


class Metrics(Protocol):
    """Measurements of a project (NX `metrics`): append-only; they leave with their project.

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
        limit: int | None = None,
    ) -> builtins.list[Metric]:
        """Metrics matching every filter given, oldest first (`timestamp`, then id); `since`
        is inclusive, `until` exclusive. Raises InvalidValue for a filter value the column
        could never hold (a naive datetime, an unknown type) and a limit that is not a whole
        number >= 0."""
        ...

    def count(self) -> int:
        """How many metrics are stored."""
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
        """Always raises Protected: metrics leave only with their project."""
        ...


class InteractionSessions(EntityRepository[InteractionSession], Protocol):
    """Interview, planning and execution sessions of a project."""
