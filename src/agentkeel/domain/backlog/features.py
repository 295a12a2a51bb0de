"""Features and sub-features of a project's backlog (Nexus)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity, Timestamped
from agentkeel.domain.fields import Count, Description, Id, Name, UtcDateTime


class FeaturePriority(StrEnum):
    """MoSCoW."""

    MUST = "must"
    SHOULD = "should"
    COULD = "could"
    WONT = "wont"


class FeatureStatus(StrEnum):
    """DESIGN.md's vocabulary (Nexus names only the default, `backlog`)."""

    BACKLOG = "backlog"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class Feature(Timestamped):
    """A feature of a project's backlog. `completed_tasks` always equals a recount of its
    completed tasks (its sub-features' included), changed in the same transaction as they;
    `estimated_tasks` is the planner's estimate."""

    project_id: Id
    name: Name
    description: Description | None = None
    priority: FeaturePriority = FeaturePriority.SHOULD
    status: FeatureStatus = FeatureStatus.BACKLOG
    estimated_tasks: Count = 0
    completed_tasks: Count = 0


class SubFeature(Entity):
    """A part of a feature (Nexus: `created_at` only)."""

    stamped_on_insert = ("created_at",)

    feature_id: Id
    name: Name
    description: Description | None = None
    status: FeatureStatus = FeatureStatus.BACKLOG
    created_at: UtcDateTime = Field(default_factory=utc_now)
