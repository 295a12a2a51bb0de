"""Agent log chunks (Codewalkers' `agent_log_chunks`): raw JSONL output, appended in order."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity
from agentkeel.domain.fields import Id, IntRule, LongText, Name, UtcDateTime

SessionNumber = Annotated[int, Strict(), IntRule(minimum=1)]
ChunkNumber = Annotated[int, Strict(), IntRule(minimum=1)]


class AgentLogChunk(Entity):
    """A chunk of an agent's output. No foreign key: chunks outlive their agent, whose
    name is kept as it was (`agent_name`). `session_number` is 1 for the spawn and one more
    for every resume; `chunk_number` orders an agent's chunks. Append-only."""

    stamped_on_insert = ("created_at",)
    append_only = True

    agent_id: Id
    agent_name: Name
    session_number: SessionNumber = 1
    chunk_number: ChunkNumber = 1
    content: LongText
    created_at: UtcDateTime = Field(default_factory=utc_now)
