"""Metrics (Nexus' `metrics`) of a project."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity
from agentkeel.domain.fields import Id, Json, Real, UtcDateTime


class MetricType(StrEnum):
    """The metrics Nexus records; the aggregates read these."""

    TOKEN_USAGE = "token_usage"
    TASK_DURATION = "task_duration"
    QA_ITERATIONS = "qa_iterations"


class Metric(Entity):
    """One measurement of a project. `agent_id` and `task_id` have no foreign key: metrics
    outlive the agents and tasks they measure. Append-only; `timestamp` defaults to now."""

    append_only = True

    project_id: Id
    agent_id: Id | None = None
    task_id: Id | None = None
    type: MetricType
    value: Real
    # Nexus' `metadata`: the name is SQLModel's own attribute (the tables' MetaData).
    details: Json | None = None
    timestamp: UtcDateTime = Field(default_factory=utc_now)
