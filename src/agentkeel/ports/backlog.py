"""Ports of the backlog context."""

from __future__ import annotations

from typing import Protocol

from agentkeel.domain.backlog import (
    Checkpoint,
    Feature,
    Requirement,
    RequirementFeature,
    SubFeature,
)
from agentkeel.ports.base import EntityRepository


class Features(EntityRepository[Feature], Protocol):
    """Features of projects' backlogs."""


class SubFeatures(EntityRepository[SubFeature], Protocol):
    """Parts of features."""


class Requirements(EntityRepository[Requirement], Protocol):
    """Requirements of projects."""


class RequirementFeatures(EntityRepository[RequirementFeature], Protocol):
    """Features that meet requirements."""


class Checkpoints(EntityRepository[Checkpoint], Protocol):
    """Snapshots of projects' backlogs and tasks."""
