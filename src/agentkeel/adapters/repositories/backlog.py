"""Repositories of the backlog context: only what is particular to each aggregate."""

from __future__ import annotations

from agentkeel.adapters.repositories.base import TableRepository
from agentkeel.domain.backlog import (
    Checkpoint,
    Feature,
    Requirement,
    RequirementFeature,
    SubFeature,
)


class FeatureRepository(TableRepository[Feature]):
    entity = Feature


class SubFeatureRepository(TableRepository[SubFeature]):
    entity = SubFeature


class RequirementRepository(TableRepository[Requirement]):
    entity = Requirement


class RequirementFeatureRepository(TableRepository[RequirementFeature]):
    entity = RequirementFeature


class CheckpointRepository(TableRepository[Checkpoint]):
    entity = Checkpoint
