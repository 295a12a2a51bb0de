"""Metrics (Nexus' `metrics`) and interaction sessions (Nexus' `sessions`) of a project."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity, Timestamped
from agentkeel.domain.fields import Id, Json, Real, UtcDateTime


class MetricType(StrEnum):
    """The metrics Nexus records; the aggregates read these."""

    TOKEN_USAGE = "token_usage"
    TASK_DURATION = "task_duration"
    QA_ITERATIONS = "qa_iterations"


class Metric(Entity):
    """One measurement of a project. `agent_id` and `task_id` have no foreign key: metrics
    outlive the agents and tasks they measure. Append-only; `timestamp` defaults to now."""

    project_id: Id
    agent_id: Id | None = None
    task_id: Id | None = None
    type: MetricType
    value: Real
    # Nexus' `metadata`: the name is SQLModel's own attribute (the tables' MetaData).
    details: Json | None = None
    timestamp: UtcDateTime = Field(default_factory=utc_now)


class SessionType(StrEnum):
    INTERVIEW = "interview"
    PLANNING = "planning"
    EXECUTION = "execution"


class SessionStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class InteractionSession(Timestamped):
    """An interview, planning or execution session of a project (Nexus' `sessions`), with
    its JSON `data`; active until it is completed or abandoned (`ended_at`)."""

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
