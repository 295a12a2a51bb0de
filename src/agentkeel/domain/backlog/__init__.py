"""The backlog context: features and sub-features, requirements and the features that meet
them, and checkpoints of a project's state.

One module per aggregate; everything is importable from this package."""

from __future__ import annotations

from agentkeel.domain.backlog.checkpoints import Checkpoint
from agentkeel.domain.backlog.features import (
    Feature,
    FeaturePriority,
    FeatureStatus,
    SubFeature,
)
from agentkeel.domain.backlog.requirements import (
    Requirement,
    RequirementFeature,
    RequirementPriority,
)

__all__ = [
    "Checkpoint",
    "Feature",
    "FeaturePriority",
    "FeatureStatus",
    "Requirement",
    "RequirementFeature",
    "RequirementPriority",
    "SubFeature",
]
