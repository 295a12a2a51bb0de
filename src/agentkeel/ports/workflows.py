"""Ports of the workflows context."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Protocol

from agentkeel.domain.workflows import (
    DiscoveredFile,
    FileAction,
    FilePriority,
    ImplementationPlan,
    ImplementationPlanStep,
    ImplementationPlanStepFile,
    Workflow,
    WorkflowRepositoryLink,
    WorkflowStep,
)
from agentkeel.ports.base import EntityRepository


class Workflows(EntityRepository[Workflow], Protocol):
    """Planning and implementation workflows of projects."""


class WorkflowRepositories(EntityRepository[WorkflowRepositoryLink], Protocol):
    """The git repositories workflows work in (one primary)."""


class WorkflowSteps(EntityRepository[WorkflowStep], Protocol):
    """Steps of workflows."""


class DiscoveredFiles(EntityRepository[DiscoveredFile], Protocol):
    """Files a workflow step found (CO discovery), unique by `file_path` within the step
    (AlreadyExists). By every path (`add` and `update` alike):

    - A file added without saying `included_at` is included from now; `included_at=None`
      given explicitly adds it excluded.
    - A file added with `user_added_at` set is the user's addition: audited (category
      `file`, event `discovered_file.user_added`).
    - An update that changes `priority` or the inclusion is a user edit: `user_modified_at`
      is stamped (kept from the first edit), the first change of `priority` keeps the
      discovered one in `original_priority`, and an audit entry (category `file`, before
      and after state, the step's `workflow_id` and `workflow_step_id`, the unit of work's
      source) is written in the same transaction.
    - A file stays with its step (changing `workflow_step_id`: InvalidValue).
    """

    def discover(
        self,
        workflow_step_id: str,
        file_path: str,
        *,
        priority: FilePriority = FilePriority.MEDIUM,
        action: FileAction = FileAction.MODIFY,
        description: str | None = None,
        exists: bool | None = None,
        included: bool = True,
        order_index: int | None = None,
    ) -> DiscoveredFile:
        """Record that the step found `file_path` (not a user edit, not audited).

        A new file is added included unless `included` is False, with `file_exists_at`
        set now when `exists`, and `order_index` after the step's last file unless given.
        A file the step found already is updated: `action`, `description` (when given),
        `file_exists_at` (when `exists` is given; kept from its first time while it
        exists) and `order_index` (when given) take the new values; `priority` and the
        inclusion follow discovery only while the user has neither added nor edited the
        file, otherwise the user's choices (and `original_priority`) stay. Raises NotFound
        (the step), InvalidValue."""
        ...

    def add_by_user(
        self,
        workflow_step_id: str,
        file_path: str,
        *,
        priority: FilePriority = FilePriority.MEDIUM,
        action: FileAction = FileAction.MODIFY,
        description: str | None = None,
    ) -> DiscoveredFile:
        """The user adds a file discovery missed: included, `user_added_at` set, after the
        step's last file; audited. Raises NotFound (the step), AlreadyExists (the step
        has that path already), InvalidValue."""
        ...

    def set_priority(self, key: str, priority: FilePriority) -> DiscoveredFile:
        """The user changes the file's priority (a user edit, see above); the same priority
        again changes nothing. Raises NotFound, InvalidValue."""
        ...

    def include(self, key: str) -> DiscoveredFile:
        """The user includes the file (a user edit); an included file is left as it is.
        Raises NotFound."""
        ...

    def exclude(self, key: str) -> DiscoveredFile:
        """The user excludes the file (a user edit); an excluded file is left as it is.
        Raises NotFound."""
        ...

    def find_by_step(
        self, workflow_step_id: str, *, included_only: bool = False
    ) -> builtins.list[DiscoveredFile]:
        """The step's files by priority (high, medium, low), then `order_index`, then path;
        only the included ones when `included_only`. None for an unknown step."""
        ...

    def find_by_path(self, workflow_step_id: str, file_path: str) -> DiscoveredFile | None:
        """The step's file with this path, or None."""
        ...


class ImplementationPlans(EntityRepository[ImplementationPlan], Protocol):
    """Plans of planning workflows, one per workflow (a second: AlreadyExists; a workflow
    of type implementation: InvalidValue naming `workflow_id`). A plan stays with its
    workflow (InvalidValue). Approving stamps `approved_at` and needs at least one step
    (Conflict otherwise); an approved plan is final: changing it, or its steps or their
    files, raises Protected (it may still be deleted, with its workflow or by itself)."""

    def find_by_workflow(self, workflow_id: str) -> ImplementationPlan | None:
        """The workflow's plan, or None."""
        ...

    def approve(self, key: str) -> ImplementationPlan:
        """Stamp `approved_at` (kept if approved already) and write an audit entry
        (category `user_action`). Raises NotFound, Conflict (a plan without steps)."""
        ...

    def claim_for_implementation(self, key: str) -> ImplementationPlan:
        """The plan, checked to be implementable now: approved, and no implementation
        workflow started from its planning workflow that is not cancelled. Holds the plan
        until the unit of work ends, so that two units starting it take turns and only
        one gets through (`start_implementation` uses it). Raises NotFound, Conflict."""
        ...


class ImplementationPlanSteps(EntityRepository[ImplementationPlanStep], Protocol):
    """Steps of implementation plans, numbered 1..n without gaps within their plan, by
    every path: `add` inserts at the entity's `step_number` (1..n+1; the steps from there
    on move down one), deleting closes the gap, and `step_number` changes only through
    `move` and `reorder` (an `update` changing it, or `plan_id`: InvalidValue).
    `order_index` is kept equal to `step_number - 1`. A step is a quality gate or a
    review, not both (InvalidValue naming `gemini_review_at`). Steps of an approved plan
    do not change (Protected). Every change (add, update, move, reorder, delete) writes
    an audit entry (category `user_action`, the unit of work's source) in the same
    transaction; writers of one plan take turns."""

    def append(self, step: ImplementationPlanStep) -> ImplementationPlanStep:
        """Add `step` after the plan's last step, whatever its `step_number` says.
        Raises as `add`."""
        ...

    def find_by_plan(self, plan_id: str) -> builtins.list[ImplementationPlanStep]:
        """The plan's steps in step order (none for an unknown plan)."""
        ...

    def move(self, key: str, step_number: int) -> ImplementationPlanStep:
        """Move the step to `step_number` (1..n); the steps between shift by one. Raises
        NotFound, InvalidValue (a number outside 1..n), Protected."""
        ...

    def reorder(
        self, plan_id: str, ordered_step_ids: Sequence[str]
    ) -> builtins.list[ImplementationPlanStep]:
        """Renumber the plan's steps 1..n in the order of `ordered_step_ids`, which must
        name each of the plan's steps exactly once (InvalidValue naming
        `ordered_step_ids` otherwise, with nothing changed). One transaction: all steps
        move, or none. Returns the steps in their new order. Raises NotFound (the plan),
        Protected (approved)."""
        ...

    def override_agent(self, key: str, agent_id: str | None) -> ImplementationPlanStep:
        """Set (or, with None, clear) the agent profile the user chose instead of the
        planned one. Raises NotFound, ReferenceMissing, Protected."""
        ...


class ImplementationPlanStepFiles(EntityRepository[ImplementationPlanStepFile], Protocol):
    """Files of implementation plan steps (the file a step creates, modifies or deletes).
    A file stays with its step (InvalidValue); files of an approved plan's steps do not
    change (Protected)."""

    def find_by_plan_step(self, plan_step_id: str) -> builtins.list[ImplementationPlanStepFile]:
        """The step's files by `order_index`, then path (none for an unknown step)."""
        ...
