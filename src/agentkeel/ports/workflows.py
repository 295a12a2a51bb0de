"""Ports of the workflows context."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, Protocol

from agentkeel.domain.audit import AuditEntry
from agentkeel.domain.workflows import (
    DiscoveredFile,
    FileAction,
    FilePriority,
    ImplementationPlan,
    ImplementationPlanStep,
    ImplementationPlanStepFile,
    StepStatus,
    StepType,
    Workflow,
    WorkflowRepositoryLink,
    WorkflowStatus,
    WorkflowStep,
    WorkflowType,
)
from agentkeel.domain.workspace import Repository, Worktree
from agentkeel.ports.base import EntityRepository


class Workflows(EntityRepository[Workflow], Protocol):
    """Planning and implementation workflows of projects (deleted with their project), by
    every path:

    - Status follows `Workflow.transitions` (InvalidTransition); each named move below
      also refuses a start it does not name. `started_at` is stamped when it first runs,
      `completed_at` and `duration_ms` when it completes, fails or is cancelled (cleared,
      with `error_message`, by a retry).
    - At most `workflow.maxConcurrentImplementations` implementation workflows are
      running, paused or editing at once: a write that would make one more (start, retry,
      or an `add` / `update` to such a status) raises LimitReached (a Conflict) and writes
      nothing. The check takes turns across units of work, so two racing for the last slot
      cannot both get it.
    - Added without a `pause_behavior`, a workflow takes the setting
      `workflow.defaultPauseBehavior`. `project_id` and `type` never change;
      `current_step_number` and `total_steps` are kept by its steps (0 on add; an
      `update` changing them raises InvalidValue). A `parent_workflow_id` names the
      planning workflow, of the same project, that an implementation workflow was
      spawned from (InvalidValue otherwise).
    - Every status change, the creation and archiving write an audit entry (category
      `workflow`, before and after state, the unit of work's source, `workflow_id` set)
      in the same transaction. A hard delete keeps the earlier trail (its `workflow_id`
      becomes NULL) and adds the deletion's own entry (subject `workflow` / id).
    - When a workflow completes and the setting `worktree.autoCleanup` is true, its
      active worktree moves to `cleaning` (with an audit entry of category `worktree`).
    """

    def list(
        self,
        *,
        project_id: str | None = None,
        status: WorkflowStatus | None = None,
        type: WorkflowType | None = None,
        include_archived: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Workflow]:
        """Workflows filtered by whatever is given, newest first (`created_at`, then id);
        archived ones only when `include_archived`."""
        ...

    def find_by_parent(self, parent_workflow_id: str) -> builtins.list[Workflow]:
        """The implementation workflows spawned from a planning workflow, oldest first."""
        ...

    def worktree_of(self, key: str) -> Worktree | None:
        """The workflow's worktree (`worktrees.workflow_id`), or None. Raises NotFound."""
        ...

    def audit_trail(self, key: str) -> builtins.list[AuditEntry]:
        """The audit entries of the workflow and its steps, oldest first (then by id).
        Raises NotFound for a workflow that does not exist and has no trail."""
        ...

    def count_active_implementations(self) -> int:
        """How many implementation workflows are running, paused or editing (the slots of
        `workflow.maxConcurrentImplementations` in use)."""
        ...

    def start(self, key: str) -> Workflow:
        """created -> running. Raises NotFound, InvalidTransition, LimitReached."""
        ...

    def pause(self, key: str) -> Workflow:
        """running or editing -> paused. Raises NotFound, InvalidTransition."""
        ...

    def edit(self, key: str) -> Workflow:
        """running or paused -> editing (a person edits what the steps produced). Raises
        NotFound, InvalidTransition."""
        ...

    def resume(self, key: str) -> Workflow:
        """paused or editing -> running. Raises NotFound, InvalidTransition."""
        ...

    def complete(self, key: str) -> Workflow:
        """running -> completed. Raises NotFound, InvalidTransition."""
        ...

    def fail(self, key: str, error_message: str) -> Workflow:
        """running -> failed, with the error. Raises NotFound, InvalidTransition,
        InvalidValue."""
        ...

    def cancel(self, key: str) -> Workflow:
        """Any status but completed and cancelled -> cancelled. Raises NotFound,
        InvalidTransition."""
        ...

    def retry(self, key: str) -> Workflow:
        """failed -> running. Raises NotFound, InvalidTransition, LimitReached."""
        ...

    def archive(self, key: str) -> Workflow:
        """Set `archived_at` (kept if already set): hidden from listings, still readable
        by id. Raises NotFound."""
        ...

    def unarchive(self, key: str) -> Workflow:
        """Clear `archived_at`. Raises NotFound."""
        ...


class WorkflowRepositories(EntityRepository[WorkflowRepositoryLink], Protocol):
    """The git repositories workflows work in, by every path: a repository of the
    workflow's project (InvalidValue otherwise), each at most once (AlreadyExists); a
    link's ends never change. Whenever a workflow has repositories, exactly one is its
    primary (`set_primary_at`): the first linked becomes it, making one primary clears
    the others in the same transaction, clearing the flag of the primary is refused
    (InvalidValue), and deleting the primary link makes the oldest remaining link (ties by
    id) the primary. Changes of one workflow's links take turns across units of work.
    Deleting a repository itself removes its links by cascade, and each workflow that lost
    its primary that way gets one the same way: the oldest link left becomes it."""

    def link(
        self, workflow_id: str, repository_id: str, *, primary: bool = False
    ) -> WorkflowRepositoryLink:
        """Link a repository to the workflow (as its primary if `primary`, or if it is the
        first). Raises AlreadyExists, ReferenceMissing, InvalidValue."""
        ...

    def unlink(self, workflow_id: str, repository_id: str) -> None:
        """Remove the link (promoting another if it was the primary). Raises NotFound."""
        ...

    def set_primary(self, workflow_id: str, repository_id: str) -> WorkflowRepositoryLink:
        """Make the linked repository the workflow's primary. Raises NotFound."""
        ...

    def of_workflow(self, workflow_id: str) -> builtins.list[WorkflowRepositoryLink]:
        """The workflow's links, oldest first (then by id)."""
        ...

    def primary_of(self, workflow_id: str) -> Repository | None:
        """The workflow's primary repository, or None when it has none linked."""
        ...


class WorkflowSteps(EntityRepository[WorkflowStep], Protocol):
    """Steps of workflows, by every path:

    - `step_number` is unique within the workflow (AlreadyExists); `workflow_id` never
      changes. Status follows `WorkflowStep.transitions` (InvalidTransition); each named
      move below also refuses a start it does not name. `started_at` is stamped when it
      first runs; `completed_at` and `duration_ms` when it completes or fails (cleared,
      with `error_message`, by a retry).
    - The steps of a completed, failed or cancelled workflow do not change status: every
      write that would (a named move, an `update`, or an `add` of a step that is not
      pending) raises InvalidTransition saying so, and writes nothing. A retry of the
      failed workflow (failed -> running) reopens them. Other fields may still change (an
      output edit, a renumbering), and steps may still be added pending or deleted. A
      step moving and its workflow ending at once take turns (the workflow's row is
      locked by the step's write).
    - The runner: who runs the step's current run, an agent (`runner_agent_id`, a row of
      `agents`; deleting the agent clears it) or a process of the host (`runner_pid`), or
      both. Each run names its own when it starts: `start`, `resume` and `retry` take
      `agent_id=` and `pid=` (none given: a run without a recorded runner, which recovery
      never takes for dead). An `update` or `add` that puts a step into running takes the
      runner it writes; one that leaves the runner columns as they were stored starts a
      run without one, so a runner of an earlier run is never carried into a new run.
      While the step runs, an `update` may hand it to another runner. Once the step has
      left running, the runner stays as the record of who ran its last run and no longer
      changes (InvalidValue naming the field); an `add` of a step that is not running
      with a runner is refused alike. A runner agent must exist (ReferenceMissing naming
      `runner_agent_id`) and, when a run starts or the runner changes, must not be
      stopped or crashed (InvalidValue naming `runner_agent_id`); a pid is a whole number
      from 1 to 2**31 - 1 (InvalidValue naming `runner_pid`).
    - Every add, delete, status change or renumbering recounts, in the same transaction,
      the workflow's `total_steps` (its steps) and `current_step_number` (the highest
      number of a step that has left pending; 0 when none has); such writes for one
      workflow take turns across units of work.
    - `cli_output` and `cli_exit_code` are written only while the setting
      `logging.includeCliOutput` is true (otherwise what was stored stays as it was).
    - Once edited, `original_output_text` keeps the output as it was before the first edit
      (InvalidValue for a change).
    - Every status change and every output edit writes an audit entry (category `step`,
      before and after state, the unit of work's source, `workflow_id` and
      `workflow_step_id` set) in the same transaction.
    - Pause behaviour: when a step of a running workflow completes and a pending step
      follows it, the workflow pauses if its `pause_behavior` says so (`auto_pause`:
      always; `gates_only`: when the next pending step is a quality gate or a Gemini
      review; `continuous`: never). When a step of a running workflow fails, the workflow
      pauses (`auto_pause`, `gates_only`) or fails with the step's error (`continuous`).
    """

    def find_by_workflow(self, workflow_id: str) -> builtins.list[WorkflowStep]:
        """The workflow's steps by `step_number`."""
        ...

    def list(
        self,
        *,
        workflow_id: str | None = None,
        status: StepStatus | None = None,
        runner_agent_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[WorkflowStep]:
        """Steps of every workflow, filtered by whatever is given (`runner_agent_id`: the
        steps the agent runs, or ran last), by workflow id, then `step_number`. Raises
        InvalidValue for a filter no step could match (an unknown status) or a bad page."""
        ...

    def timeout_seconds(self, step_type: StepType) -> int:
        """The timeout of a step of this type, in seconds, from CO's timeout settings
        (`workflow.<type>Timeout`); `routing`, which CO gives none, runs under
        `workflow.planningTimeout`. Raises InvalidValue for an unknown type."""
        ...

    def start(
        self, key: str, *, agent_id: str | None = None, pid: int | None = None
    ) -> WorkflowStep:
        """pending -> running, run by the agent `agent_id` and/or the process `pid` (the
        runner, see above; none given: no recorded runner). Raises NotFound,
        InvalidTransition, InvalidValue (a bad pid or agent id, a stopped or crashed
        agent), ReferenceMissing (no such agent)."""
        ...

    def pause(self, key: str) -> WorkflowStep:
        """running -> paused. Raises NotFound, InvalidTransition."""
        ...

    def edit(self, key: str) -> WorkflowStep:
        """running -> editing. Raises NotFound, InvalidTransition."""
        ...

    def resume(
        self, key: str, *, agent_id: str | None = None, pid: int | None = None
    ) -> WorkflowStep:
        """paused or editing -> running: a new run, with the runner given (as `start`;
        none given: no recorded runner, whoever ran it before). Raises NotFound,
        InvalidTransition, InvalidValue, ReferenceMissing."""
        ...

    def complete(
        self,
        key: str,
        *,
        output_text: str | None = None,
        output_structured: Any = None,
        cli_output: str | None = None,
        cli_exit_code: int | None = None,
    ) -> WorkflowStep:
        """running or editing -> completed, storing the outputs given (structured output
        is any JSON value); then the workflow may pause (see above). Raises NotFound,
        InvalidTransition, InvalidValue."""
        ...

    def fail(
        self,
        key: str,
        error_message: str,
        *,
        cli_output: str | None = None,
        cli_exit_code: int | None = None,
    ) -> WorkflowStep:
        """running -> failed, with the error; then the workflow pauses or fails (see
        above). Raises NotFound, InvalidTransition, InvalidValue."""
        ...

    def skip(self, key: str) -> WorkflowStep:
        """pending -> skipped. Raises NotFound, InvalidTransition."""
        ...

    def retry(
        self, key: str, *, agent_id: str | None = None, pid: int | None = None
    ) -> WorkflowStep:
        """failed -> running with `retry_count` + 1: a new run, with the runner given (as
        `start`). The step of a failed workflow is retried after the workflow's own retry.
        Raises NotFound, InvalidTransition, InvalidValue, ReferenceMissing."""
        ...

    def edit_output(self, key: str, output_text: str) -> WorkflowStep:
        """A person's edit of the output: the first edit keeps the output as it was in
        `original_output_text` and stamps `output_edited_at` (kept by later edits); every
        edit writes an audit entry. Raises NotFound, InvalidValue (a pending or skipped
        step has no output)."""
        ...


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
    (InvalidValue naming `approved_at` otherwise, by every path); an approved plan is final:
    changing it, or its steps or their files, raises Protected (it may still be deleted,
    with its workflow or by itself)."""

    def find_by_workflow(self, workflow_id: str) -> ImplementationPlan | None:
        """The workflow's plan, or None."""
        ...

    def approve(self, key: str) -> ImplementationPlan:
        """Stamp `approved_at` (kept if approved already) and write an audit entry
        (category `user_action`). Raises NotFound, InvalidValue naming `approved_at` (a
        plan without steps)."""
        ...

    def claim_for_implementation(self, key: str) -> ImplementationPlan:
        """The plan, checked to be implementable now: approved, and no implementation
        workflow started from its planning workflow that is not cancelled. Holds the plan
        until the unit of work ends, so that two units starting it take turns and only
        one gets through (`start_implementation` uses it). Raises NotFound; Protected when
        it is not approved, or an implementation of it is started and not cancelled (the
        second of two racing units gets that too, once the first commits)."""
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
