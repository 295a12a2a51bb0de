"""Requirements of a project (Nexus) and the features that meet them."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Entity, Flag, RowVersion
from agentkeel.domain.fields import Description, Id, Label, ShortText, UtcDateTime


class RequirementPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Requirement(Entity):
    """A requirement of a project; `validated_at` replaces Nexus' `validated` boolean."""

    stamped_on_insert = ("created_at",)
    version_field = "row_version"

    project_id: Id
    category: Label
    description: Description
    priority: RequirementPriority = RequirementPriority.MEDIUM
    source: ShortText | None = None
    validated_at: UtcDateTime | None = None
    created_at: UtcDateTime = Field(default_factory=utc_now)
    row_version: RowVersion = 1

    is_validated: ClassVar[Flag] = Flag("validated_at")


class RequirementFeature(Entity):
    """A feature that meets a requirement (Nexus' `linked_features`, normalized): the pair
    is unique and both are in the same project."""

    stamped_on_insert = ("created_at",)
    version_field = "row_version"

    requirement_id: Id
    feature_id: Id
    created_at: UtcDateTime = Field(default_factory=utc_now)
    row_version: RowVersion = 1
