"""Agent log chunks: appended in order, read back by agent, purged by age."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime

from agentkeel.domain.agents import (
    AgentLogChunk,
)
from agentkeel.domain.errors import (
    InvalidValue,
    Protected,
)
from agentkeel.domain.events import RecordDeleted
from agentkeel.domain.fields import INT64_MAX, TextRule
from agentkeel.domain.ids import new_id
from agentkeel.ports.store import Asc, Eq, In, Max, Since, Where
from agentkeel.repositories.purging import PurgingTable
from agentkeel.schema.columns import AGENT_LOG_CHUNKS

# `find_by_agents` binds one value per id; SQLite takes at most 32,766 in a statement.
MAX_AGENTS_AT_ONCE = 10_000


def _content_rule() -> TextRule:
    return next(
        r
        for r in AgentLogChunk.model_fields[AGENT_LOG_CHUNKS.content].metadata
        if isinstance(r, TextRule)
    )


class AgentLogChunksTable(PurgingTable[AgentLogChunk]):
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

    def find_by_agent(
        self, agent_id: str, *, after: int = 0, limit: int | None = None
    ) -> builtins.list[AgentLogChunk]:
        if after is None:  # (the page check takes None for "no bound"; a position is given)
            raise InvalidValue(self._label, "after", after, "must be a whole number >= 0")
        self._check_page(limit, after, "after")
        where: builtins.list[Where] = [Eq(AGENT_LOG_CHUNKS.agent_id, self._agent_key(agent_id))]
        if after >= INT64_MAX:
            return []  # no chunk is numbered past the largest number
        if after:
            where.append(Since(AGENT_LOG_CHUNKS.chunk_number, after + 1))
        return self._select(where, [Asc(AGENT_LOG_CHUNKS.chunk_number)], limit)

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
        where = [In(AGENT_LOG_CHUNKS.agent_id, frozenset(ids))]
        return self._select(
            where, [Asc(AGENT_LOG_CHUNKS.agent_id), Asc(AGENT_LOG_CHUNKS.chunk_number)]
        )

    def delete_by_agent(self, agent_id: str) -> int:
        key = self._agent_key(agent_id)
        with self._store.atomic():
            removed = self._store.delete(self._table, [Eq(AGENT_LOG_CHUNKS.agent_id, key)])
            if removed:
                counts = {self._table.name: removed}
                message = f"Deleted {removed} log chunk{'s' * (removed != 1)} of agent {key!r}"
                self._audit_deleted_rows(key, counts, message, None)
        if removed:
            # The entity id of the event and of the audit entry is the agent's.
            self._record(RecordDeleted(self._label, key, {self._table.name: removed}))
        return removed

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        # Oldest first, and an agent's chunks of one moment in their order: a batch never
        # leaves a hole in the middle of an agent's log.
        return self._purge_before(
            AGENT_LOG_CHUNKS.created_at, cutoff, limit, [Asc(AGENT_LOG_CHUNKS.chunk_number)]
        )

    def session_count(self, agent_id: str) -> int:
        key = self._agent_key(agent_id)
        ((highest,),) = self._store.aggregate(
            self._table,
            [Max(AGENT_LOG_CHUNKS.session_number)],
            [Eq(AGENT_LOG_CHUNKS.agent_id, key)],
        )
        return int(highest or 0)

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
            self._table,
            [Max(AGENT_LOG_CHUNKS.chunk_number)],
            [Eq(AGENT_LOG_CHUNKS.agent_id, agent_id)],
        )
        return int(last or 0)
