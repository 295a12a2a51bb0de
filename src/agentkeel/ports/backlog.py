"""Ports of the backlog context."""

from __future__ import annotations

import builtins
from typing import Any, Protocol

from agentkeel.domain.backlog import (
    Checkpoint,
    Feature,
    FeaturePriority,
    FeatureStatus,
    Requirement,
    RequirementFeature,
    RequirementPriority,
    SubFeature,
)
from agentkeel.ports.base import EntityRepository


class Features(EntityRepository[Feature], Protocol):
    """Features of projects' backlogs (Nexus), by every path:

    - `completed_tasks` always equals a recount of the feature's completed tasks (a task of
      one of its sub-features holds the feature too): it moves in the same transaction as
      a task is created completed, completed, reopened, moved to or from the feature, or
      deleted (by itself or by a cascade), on every backend. It is never written by a
      caller: adding a feature with a count other than 0, or changing it, is InvalidValue.
    - `estimated_tasks` is the planner's estimate, written freely.
    - The status follows `Feature.transitions` (InvalidTransition): backlog -> planned |
      in_progress | cancelled; planned -> backlog | in_progress | cancelled; in_progress ->
      planned | done | cancelled; done -> in_progress; cancelled -> backlog.
    - A feature stays in its project (changing `project_id`: InvalidValue).
    - Deleting a feature that tasks still hold (itself or through a sub-feature) is
      StillReferenced, whose message and `count` say how many tasks hold it; otherwise its
      sub-features and requirement links go with it. Deleting the project removes its
      features, sub-features and tasks together.
    """

    def find_by_project(
        self,
        project_id: str,
        *,
        status: FeatureStatus | None = None,
        priority: FeaturePriority | None = None,
    ) -> builtins.list[Feature]:
        """The project's features (in this status / priority, if given), oldest first."""
        ...

    def find_by_status(
        self, status: FeatureStatus, *, project_id: str | None = None
    ) -> builtins.list[Feature]:
        """Features in this status (of one project, if given), oldest first."""
        ...

    def move_to(self, key: str, status: FeatureStatus) -> Feature:
        """Move the feature to `status`. Raises NotFound, InvalidTransition."""
        ...

    def recount(self, key: str) -> int:
        """How many completed tasks the feature has, counted afresh from the tasks (what
        `completed_tasks` always equals). Raises NotFound."""
        ...


class SubFeatures(EntityRepository[SubFeature], Protocol):
    """Parts of features (Nexus `sub_features`). A sub-feature stays in its feature
    (changing `feature_id`: InvalidValue); its status moves as a feature's
    (InvalidTransition). Deleting one that tasks still hold is StillReferenced with the
    number of tasks."""

    def find_by_feature(
        self, feature_id: str, *, status: FeatureStatus | None = None
    ) -> builtins.list[SubFeature]:
        """The feature's sub-features (in this status, if given), oldest first."""
        ...

    def find_by_status(
        self, status: FeatureStatus, *, feature_id: str | None = None
    ) -> builtins.list[SubFeature]:
        """Sub-features in this status (of one feature, if given), oldest first."""
        ...

    def move_to(self, key: str, status: FeatureStatus) -> SubFeature:
        """Move the sub-feature to `status`. Raises NotFound, InvalidTransition."""
        ...


class Requirements(EntityRepository[Requirement], Protocol):
    """Requirements of projects (Nexus): `category` and `description` are required,
    `priority` is low / medium / high / critical (default medium), `source` says where it
    came from, `validated_at` replaces Nexus' `validated` flag. A requirement stays in its
    project (changing `project_id`: InvalidValue); deleting one removes its feature links."""

    def find_by_project(
        self,
        project_id: str,
        *,
        category: str | None = None,
        priority: RequirementPriority | None = None,
        validated: bool | None = None,
    ) -> builtins.list[Requirement]:
        """The project's requirements (filtered by category, priority and whether they are
        validated, where given), oldest first."""
        ...

    def validate(self, key: str) -> Requirement:
        """Set `validated_at` (kept if already set). Raises NotFound."""
        ...

    def invalidate(self, key: str) -> Requirement:
        """Clear `validated_at`. Raises NotFound."""
        ...


class RequirementFeatures(EntityRepository[RequirementFeature], Protocol):
    """Which features meet which requirements (Nexus `linked_features`, normalized). By
    every path: both are of one project (InvalidValue naming `feature_id` otherwise), a
    pair is linked once (AlreadyExists), a missing side is ReferenceMissing; a link goes
    with its requirement or its feature."""

    def link(self, requirement_id: str, feature_id: str) -> RequirementFeature:
        """Record that the feature meets the requirement. Raises AlreadyExists,
        ReferenceMissing, InvalidValue."""
        ...

    def unlink(self, requirement_id: str, feature_id: str) -> None:
        """Remove the link (an audited hard delete). Raises NotFound."""
        ...

    def features_of(self, requirement_id: str) -> builtins.list[Feature]:
        """The features linked to the requirement, oldest first (none for an unknown one)."""
        ...

    def requirements_of(self, feature_id: str) -> builtins.list[Requirement]:
        """The requirements linked to the feature, oldest first (none for an unknown one)."""
        ...


class Checkpoints(Protocol):
    """Snapshots of projects' backlogs and tasks (Nexus `checkpoints`), made by
    `services.backlog.create_checkpoint` and restored by `restore` here. Append-only: update and
    delete raise Protected; checkpoints leave with their project. A stored `state` is
    checked to be a snapshot of the checkpoint's own project (InvalidValue naming `state`),
    so any stored checkpoint can be restored."""

    def add(self, checkpoint: Checkpoint, *, idempotency_key: str | None = None) -> Checkpoint:
        """Store a checkpoint, `created_at` stamped; at most once per `idempotency_key`
        (see `EntityRepository.add`). Raises InvalidValue (e.g. a `state` that is no
        snapshot of its project), ReferenceMissing, AlreadyExists."""
        ...

    def created_under(self, key: str) -> Checkpoint | None:
        """The checkpoint an `add` with idempotency key `key` created, or None (see
        `EntityRepository.created_under`)."""
        ...

    def get(self, key: str) -> Checkpoint:
        """The checkpoint with this id. Raises NotFound."""
        ...

    def find(self, key: str) -> Checkpoint | None:
        """The checkpoint with this id, or None."""
        ...

    def list(self, *, project_id: str, limit: int | None = None) -> builtins.list[Checkpoint]:
        """The project's checkpoints, newest first (equal times: by id, descending)."""
        ...

    def latest(self, project_id: str) -> Checkpoint | None:
        """The project's newest checkpoint (one query), or None."""
        ...

    def snapshot(self, project_id: str) -> dict[str, Any]:
        """The project's state as a checkpoint holds it (`domain.backlog.snapshots`): its
        features, sub-features, requirements and their feature links, every task of the
        project (status and assignment included) and the dependencies between them, each
        table's rows by id, without row versions. Raises NotFound (the project)."""
        ...

    def restore(self, key: str) -> dict[str, dict[str, int]]:
        """Bring the checkpoint's project back to exactly its snapshot, in one savepoint
        (all or nothing): rows created since are deleted (with their own cascades), rows
        deleted since come back as they were, rows changed since are written back
        (`updated_at` as the snapshot has it; row versions move on, so that stale reads
        are refused). Writes one audit entry (`checkpoint.restored`) saying what changed.
        Returns, per table that changed, how many rows were created, updated and deleted.

        Outside the snapshot: agents and conversations pointing at a task the restore
        removes lose that link (their foreign keys are SET NULL), as when the task is
        deleted, and pending proposals and active chat sessions targeting it are dismissed
        and closed; agents are not moved back to restored tasks. A task whose agent was
        deleted since comes back unassigned. A task whose initiative or phase was deleted
        since cannot come back without it: ReferenceMissing naming the task's
        `initiative_id` or `phase_id`, nothing written. Raises NotFound."""
        ...

    def update(self, checkpoint: Checkpoint) -> Checkpoint:
        """Always Protected: checkpoints are append-only."""
        ...

    def delete(self, key: str) -> dict[str, int]:
        """Always Protected: checkpoints leave with their project."""
        ...

    def count(self) -> int:
        """How many checkpoints are stored."""
        ...
