"""Tables of the backlog context.

`tasks.feature_id / sub_feature_id` are declared with the tasks table (NO ACTION, as Nexus
declares them: a feature or sub-feature that still has tasks cannot be deleted; deleting the
project removes both together).
"""

from agentkeel.domain.backlog import (
    Checkpoint,
    Feature,
    Requirement,
    RequirementFeature,
    SubFeature,
)
from agentkeel.schema.base import entity_table, index, references, unique

features = entity_table(
    Feature,
    "features",
    references("project_id", "projects", on_delete="CASCADE"),
    index("status"),
)

sub_features = entity_table(
    SubFeature,
    "sub_features",
    references("feature_id", "features", on_delete="CASCADE"),
)

requirements = entity_table(
    Requirement,
    "requirements",
    references("project_id", "projects", on_delete="CASCADE"),
)

requirement_features = entity_table(
    RequirementFeature,
    "requirement_features",
    references("requirement_id", "requirements", on_delete="CASCADE", index=False),
    references("feature_id", "features", on_delete="CASCADE"),
    unique("requirement_id", "feature_id"),
)

checkpoints = entity_table(
    Checkpoint,
    "checkpoints",
    references("project_id", "projects", on_delete="CASCADE", index=False),
    index("project_id", "created_at"),
)
