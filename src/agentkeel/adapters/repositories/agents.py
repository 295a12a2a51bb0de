"""Repositories of the agents context: only what is particular to each aggregate."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from agentkeel.adapters.repositories.base import TableRepository
from agentkeel.adapters.store import (
    Aggregate,
    Asc,
    Before,
    Eq,
    In,
    Max,
    NotNull,
    Percentile,
    Since,
    Sum,
    Where,
)
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
from agentkeel.domain.errors import InvalidValue, Protected
from agentkeel.domain.events import RecordDeleted
from agentkeel.domain.fields import TextRule
from agentkeel.domain.ids import new_id


class AgentProfileRepository(TableRepository[AgentProfile]):
    entity = AgentProfile


class AgentProfileToolRepository(TableRepository[AgentProfileTool]):
    entity = AgentProfileTool


class AgentProfileSkillRepository(TableRepository[AgentProfileSkill]):
    entity = AgentProfileSkill


class AgentRepository(TableRepository[Agent]):
    entity = Agent


class AccountRepository(TableRepository[Account]):
    entity = Account


# `find_by_agents` binds one value per id; SQLite takes at most 32,766 in a statement.
MAX_AGENTS_AT_ONCE = 10_000


def _content_rule() -> TextRule:
    return next(
        r for r in AgentLogChunk.model_fields["content"].metadata if isinstance(r, TextRule)
    )


class AgentLogChunkRepository(TableRepository[AgentLogChunk]):
    """The hot write path: `append` validates the batch's shared fields once (through an
    entity) and each content with the content field's own rule, builds the rows itself
    rather than an entity per chunk, and writes them with one bulk insert."""

    entity = AgentLogChunk
    _content = _content_rule()

    def append(
        self, agent_id: str, agent_name: str, session_number: int, contents: Sequence[str]
    ) -> int:
        shared = AgentLogChunk(
            agent_id=agent_id, agent_name=agent_name, session_number=session_number, content=""
        )
        texts = self._contents(contents)
        last = self._last_chunk_number(shared.agent_id)
        if not texts:
            return last
        now = self._store.clock.now()
        rows = [
            {
                "id": new_id(),
                "agent_id": shared.agent_id,
                "agent_name": shared.agent_name,
                "session_number": shared.session_number,
                "chunk_number": last + number,
                "content": text,
                "created_at": now,
            }
            for number, text in enumerate(texts, 1)
        ]
        self._store.insert_many(self._table, rows)
        return last + len(rows)

    def insert_chunk(
        self, agent_id: str, agent_name: str, session_number: int, content: str
    ) -> AgentLogChunk:
        chunk = AgentLogChunk(
            agent_id=agent_id, agent_name=agent_name, session_number=session_number, content=content
        )
        chunk.chunk_number = self._last_chunk_number(chunk.agent_id) + 1
        return self.add(chunk)

    def find_by_agent(self, agent_id: str) -> builtins.list[AgentLogChunk]:
        return self._select([Eq("agent_id", self._agent_key(agent_id))], [Asc("chunk_number")])

    def find_by_agents(self, agent_ids: Iterable[str]) -> builtins.list[AgentLogChunk]:
        if isinstance(agent_ids, str | bytes) or not isinstance(agent_ids, Iterable):
            raise InvalidValue(
                self._label, "agent_ids", agent_ids, "must be a collection of agent ids"
            )
        ids = []
        for agent_id in agent_ids:
            ids.append(self._agent_key(agent_id))
            if len(ids) > MAX_AGENTS_AT_ONCE:
                raise InvalidValue(
                    self._label,
                    "agent_ids",
                    f"{len(ids)}+ ids",
                    f"must name at most {MAX_AGENTS_AT_ONCE} agents",
                )
        where = [In("agent_id", frozenset(ids))]
        return self._select(where, [Asc("agent_id"), Asc("chunk_number")])

    def delete_by_agent(self, agent_id: str) -> int:
        key = self._agent_key(agent_id)
        with self._store.atomic():
            removed = self._store.delete(self._table, [Eq("agent_id", key)])
            if removed:
                counts = {self._table.name: removed}
                message = f"Deleted {removed} log chunk{'s' * (removed != 1)} of agent {key!r}"
                self._audit_deleted_rows(key, counts, message, None)
        if removed:
            # The entity id of the event and of the audit entry is the agent's.
            self._record(RecordDeleted(self._label, key, {self._table.name: removed}))
        return removed

    def session_count(self, agent_id: str) -> int:
        key = self._agent_key(agent_id)
        ((highest,),) = self._store.aggregate(
            self._table, [Max("session_number")], [Eq("agent_id", key)]
        )
        return int(highest or 0)

    def update(self, entity: AgentLogChunk) -> AgentLogChunk:
        raise Protected(self._label, entity.id, "cannot be changed: log chunks are append-only")

    def delete(self, key: str) -> dict[str, int]:
        raise Protected(self._label, key, "cannot be deleted alone: an agent's chunks go together")

    def _contents(self, contents: Sequence[str]) -> builtins.list[str]:
        """The batch's texts, each checked by the content field's rule (InvalidValue naming
        `contents[i]`), before anything is written."""
        if isinstance(contents, str | bytes) or not isinstance(contents, Iterable):
            raise InvalidValue(
                self._label, "contents", contents, "must be a list of texts, one per chunk"
            )
        texts = list(contents)
        check = self._content.check
        for position, text in enumerate(texts):
            problem = (
                check(text) if type(text) is str else f"must be a string, not {type(text).__name__}"
            )
            if problem is not None:
                raise InvalidValue(self._label, f"contents[{position}]", text, problem)
        return texts

    def _agent_key(self, agent_id: str) -> str:
        """An agent id to look up, refused (InvalidValue) if no agent could have it."""
        key: str | None = self.entity.query_value("agent_id", agent_id)
        if key is None:
            raise InvalidValue(self._label, "agent_id", None, "is required")
        return key

    def _last_chunk_number(self, agent_id: str) -> int:
        ((last,),) = self._store.aggregate(
            self._table, [Max("chunk_number")], [Eq("agent_id", agent_id)]
        )
        return int(last or 0)


class ConversationRepository(TableRepository[Conversation]):
    entity = Conversation


class MessageRepository(TableRepository[Message]):
    entity = Message


# A dashboard asks for a few percentiles; each is a window over the project's durations.
MAX_PERCENTILES = 20


class MetricRepository(TableRepository[Metric]):
    entity = Metric

    def record(self, metric: Metric) -> Metric:
        return self.add(metric)

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
        where = self._eq_filters(
            project_id=project_id, type=type, agent_id=agent_id, task_id=task_id
        )
        where += self._within(since, until)
        return self._select(where, [Asc("timestamp")], limit)

    def tokens_by_agent(
        self, project_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        where: builtins.list[Where] = [Eq("project_id", project_id), NotNull("agent_id")]
        return self._totals(MetricType.TOKEN_USAGE, "agent_id", where, since, until)

    def tokens_by_project(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        return self._totals(MetricType.TOKEN_USAGE, "project_id", [], since, until)

    def qa_iterations_by_task(
        self, project_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        where: builtins.list[Where] = [Eq("project_id", project_id), NotNull("task_id")]
        return self._totals(MetricType.QA_ITERATIONS, "task_id", where, since, until)

    def task_duration_percentiles(
        self,
        percentiles: Sequence[float] = (50.0, 90.0, 99.0),
        *,
        project_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, dict[float, float]]:
        wanted = self._percentiles(percentiles)
        where = [Eq("type", MetricType.TASK_DURATION), *self._eq_filters(project_id=project_id)]
        where += self._within(since, until)
        aggregates: builtins.list[Aggregate] = [Percentile("value", p / 100) for p in wanted]
        rows = self._store.aggregate(self._table, aggregates, self._query(where), ["project_id"])
        return {row[0]: dict(zip(wanted, row[1:], strict=True)) for row in rows}

    def update(self, entity: Metric) -> Metric:
        raise Protected(self._label, entity.id, "cannot be changed: metrics are append-only")

    def delete(self, key: str) -> dict[str, int]:
        raise Protected(self._label, key, "cannot be deleted: metrics leave with their project")

    def _totals(
        self,
        kind: MetricType,
        per: str,
        where: builtins.list[Where],
        since: datetime | None,
        until: datetime | None,
    ) -> dict[str, float]:
        """The sum of the values of one type of metric, per value of the column `per`."""
        where = self._query([*where, Eq("type", kind), *self._within(since, until)])
        rows = self._store.aggregate(self._table, [Sum("value")], where, [per])
        return dict(rows)

    @staticmethod
    def _within(since: datetime | None, until: datetime | None) -> builtins.list[Where]:
        """[since, until): `timestamp` from `since` (inclusive) up to `until` (exclusive)."""
        where: builtins.list[Where] = []
        if since is not None:
            where.append(Since("timestamp", since))
        if until is not None:
            where.append(Before("timestamp", until))
        return where

    def _percentiles(self, percentiles: Any) -> builtins.list[float]:
        if isinstance(percentiles, str | bytes) or not isinstance(percentiles, Iterable):
            raise InvalidValue(
                self._label, "percentiles", percentiles, "must be a list of numbers from 0 to 100"
            )
        wanted: builtins.list[float] = []
        for p in percentiles:
            if len(wanted) == MAX_PERCENTILES:
                raise InvalidValue(
                    self._label, "percentiles", "more", f"must be at most {MAX_PERCENTILES}"
                )
            if isinstance(p, bool) or not isinstance(p, int | float):
                raise InvalidValue(self._label, "percentiles", p, "must hold only numbers")
            if not 0 <= p <= 100:  # NaN compares false; a huge int is no float
                raise InvalidValue(self._label, "percentiles", p, "must be from 0 to 100")
            wanted.append(float(p))
        if not wanted:
            raise InvalidValue(self._label, "percentiles", percentiles, "must name at least one")
        return wanted


class InteractionSessionRepository(TableRepository[InteractionSession]):
    entity = InteractionSession
