"""Repositories of the backlog context: features and their sub-features, requirements and the
features they ask for, checkpoints.
"""

from agentkeel.repositories.backlog.checkpoints import CheckpointsTable
from agentkeel.repositories.backlog.features import FeaturesTable, SubFeaturesTable
from agentkeel.repositories.backlog.requirements import RequirementFeaturesTable, RequirementsTable

__all__ = [
    "CheckpointsTable",
    "FeaturesTable",
    "RequirementFeaturesTable",
    "RequirementsTable",
    "SubFeaturesTable",
]
