"""Interaction sessions (Nexus' `sessions`): an interview, planning or execution session of a
project, renamed because "session" also means a database session and an agent's CLI session."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.fields import Id, Json, UtcDateTime


class SessionType(StrEnum):
    INTERVIEW = "interview"
    PLANNING = "planning"
    EXECUTION = "execution"


class SessionStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class InteractionSession(Timestamped):
    """An interview, planning or execution session of a project, with its JSON `data`.

    Status: active -> completed | abandoned, both final. `started_at` is stamped when the
    session is stored. `ended_at` is empty while it is active; when it completes or is
    abandoned it is the caller's time if one is given (never before `started_at`), else
    stamped then (the repository keeps all of this true on every path)."""

    stamped_on_insert = ("created_at", "updated_at", "started_at")

    transitions = {
        "status": {
            SessionStatus.ACTIVE: frozenset({SessionStatus.COMPLETED, SessionStatus.ABANDONED}),
            SessionStatus.COMPLETED: frozenset(),
            SessionStatus.ABANDONED: frozenset(),
        }
    }

    project_id: Id
    type: SessionType
    status: SessionStatus = SessionStatus.ACTIVE
    data: Json | None = None
    started_at: UtcDateTime = Field(default_factory=utc_now)
    ended_at: UtcDateTime | None = None

    is_ended: ClassVar[Flag] = Flag("ended_at")
