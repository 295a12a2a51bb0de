"""Features and sub-features of a project's backlog (Nexus)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity, RowVersion, Timestamped
from agentkeel.domain.fields import Count, Description, Id, Name, UtcDateTime


class FeaturePriority(StrEnum):
    """MoSCoW."""

    MUST = "must"
    SHOULD = "should"
    COULD = "could"
    WONT = "wont"


class FeatureStatus(StrEnum):
    """The statuses of features and sub-features (Nexus names only the default, `backlog`)."""

    BACKLOG = "backlog"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


_F = FeatureStatus

# The moves: forward through the backlog, back one
# step while planning, a done feature reopened into progress, a cancelled one revived.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    _F.BACKLOG: frozenset({_F.PLANNED, _F.IN_PROGRESS, _F.CANCELLED}),
    _F.PLANNED: frozenset({_F.BACKLOG, _F.IN_PROGRESS, _F.CANCELLED}),
    _F.IN_PROGRESS: frozenset({_F.PLANNED, _F.DONE, _F.CANCELLED}),
    _F.DONE: frozenset({_F.IN_PROGRESS}),
    _F.CANCELLED: frozenset({_F.BACKLOG}),
}


class Feature(Timestamped):
    """A feature of a project's backlog. `completed_tasks` always equals a recount of its
    completed tasks (its sub-features' included), changed in the same transaction as they
    and by nothing else; `estimated_tasks` is the planner's estimate.

    Status: backlog -> planned | in_progress | cancelled; planned -> backlog | in_progress |
    cancelled; in_progress -> planned | done | cancelled; done -> in_progress (reopened);
    cancelled -> backlog (revived)."""

    transitions = {"status": STATUS_TRANSITIONS}

    project_id: Id
    name: Name
    description: Description | None = None
    priority: FeaturePriority = FeaturePriority.SHOULD
    status: FeatureStatus = FeatureStatus.BACKLOG
    estimated_tasks: Count = 0
    completed_tasks: Count = 0


class SubFeature(Entity):
    """A part of a feature (Nexus: `created_at` only); its status moves as a feature's."""

    stamped_on_insert = ("created_at",)
    version_field = "row_version"
    transitions = {"status": STATUS_TRANSITIONS}

    feature_id: Id
    name: Name
    description: Description | None = None
    status: FeatureStatus = FeatureStatus.BACKLOG
    created_at: UtcDateTime = Field(default_factory=utc_now)
    row_version: RowVersion = 1
