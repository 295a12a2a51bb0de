"""Repositories of the workflows context: only what is particular to each aggregate."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from agentkeel.domain.agents import Agent, AgentStatus
from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidTransition,
    InvalidValue,
    LimitReached,
    NotFound,
    Protected,
    ReferenceMissing,
)
from agentkeel.domain.workflows import (
    ACTIVE_WORKFLOW_STATUSES,
    ENDED_STEP_STATUSES,
    ENDED_WORKFLOW_STATUSES,
    STEP_TIMEOUT_SETTINGS,
    DiscoveredFile,
    FileAction,
    FilePriority,
    ImplementationPlan,
    ImplementationPlanStep,
    ImplementationPlanStepFile,
    PauseBehavior,
    StepStatus,
    StepType,
    Workflow,
    WorkflowRepositoryLink,
    WorkflowStatus,
    WorkflowStep,
    WorkflowType,
    pauses_after_step,
    pauses_on_failure,
)
from agentkeel.domain.workspace import (
    SETTING_DEFINITIONS,
    Repository,
    Setting,
    SettingValue,
    Worktree,
    WorktreeStatus,
)
from agentkeel.ports.store import (
    Asc,
    Desc,
    Eq,
    In,
    IsNull,
    Max,
    Ne,
    NotNull,
    Row,
    RowStore,
    Since,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.workspace import RepositoriesTable, WorktreesTable
from agentkeel.schema import table_of

DEFAULT_PAUSE_BEHAVIOR = "workflow.defaultPauseBehavior"
MAX_CONCURRENT_IMPLEMENTATIONS = "workflow.maxConcurrentImplementations"
INCLUDE_CLI_OUTPUT = "logging.includeCliOutput"
AUTO_CLEANUP = "worktree.autoCleanup"
# What `serialize` takes turns on while counting the implementation workflows that hold a
# slot (one cap for the whole database).
_SLOTS = "implementation-slots"

_W = WorkflowStatus
_St = StepStatus
# A step's runner agent in one of these has no process running it.
_GONE_AGENT_STATUSES = frozenset({AgentStatus.STOPPED.value, AgentStatus.CRASHED.value})


def setting_value(store: RowStore, key: str) -> SettingValue:
    """The value of a setting as stored, or its default where it was never seeded."""
    rows = store.select(table_of(Setting), [Eq("key", key)], limit=1)
    return Setting.from_row(rows[0]).typed_value if rows else SETTING_DEFINITIONS[key].default


def _milliseconds(start: datetime | None, end: datetime) -> int | None:
    if start is None:
        return None
    return max(0, int((end - start).total_seconds() * 1000))


def _unchanged(entity: Any, stored: Row | None, label: str, columns: Collection[str]) -> None:
    """Refuse a change of a column that never changes once stored."""
    if stored is None:
        return
    for column in columns:
        if stored[column] != getattr(entity, column):
            raise InvalidValue(
                label, column, getattr(entity, column), f"cannot change (was {stored[column]!r})"
            )


class WorkflowsTable(TableRepository[Workflow]):
    entity = Workflow

    # -- finders ---------------------------------------------------------------------------

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
        where = self._eq_filters(project_id=project_id, status=status, type=type)
        if not include_archived:
            where.append(IsNull("archived_at"))
        return self._select(where, [Desc("created_at")], limit, offset)

    def find_by_parent(self, parent_workflow_id: str) -> builtins.list[Workflow]:
        return self._select([Eq("parent_workflow_id", parent_workflow_id)], [Asc("created_at")])

    def worktree_of(self, key: str) -> Worktree | None:
        key = self._key(key)
        worktree = WorktreesTable(self._state)._first([Eq("workflow_id", key)])
        if worktree is None:
            self.get(key)  # NotFound for a workflow that does not exist
        return worktree

    def audit_trail(self, key: str) -> builtins.list[AuditEntry]:
        key = self._key(key)
        rows = self._store.select(
            table_of(AuditEntry), [Eq("workflow_id", key)], [Asc("timestamp")]
        )
        if not rows:
            self.get(key)
        return [AuditEntry.from_row(row, owned=True) for row in rows]

    def count_active_implementations(self) -> int:
        return self._store.count(self._table, self._active_implementations())

    # -- the status machine ----------------------------------------------------------------

    def start(self, key: str) -> Workflow:
        return self._move(key, _W.RUNNING, {_W.CREATED})

    def pause(self, key: str) -> Workflow:
        return self._move(key, _W.PAUSED, {_W.RUNNING, _W.EDITING})

    def edit(self, key: str) -> Workflow:
        return self._move(key, _W.EDITING, {_W.RUNNING, _W.PAUSED})

    def resume(self, key: str) -> Workflow:
        return self._move(key, _W.RUNNING, {_W.PAUSED, _W.EDITING})

    def complete(self, key: str) -> Workflow:
        return self._move(key, _W.COMPLETED, {_W.RUNNING})

    def fail(self, key: str, error_message: str) -> Workflow:
        return self._move(key, _W.FAILED, {_W.RUNNING}, error_message=error_message)

    def cancel(self, key: str) -> Workflow:
        return self._move(
            key, _W.CANCELLED, {_W.CREATED, _W.RUNNING, _W.PAUSED, _W.EDITING, _W.FAILED}
        )

    def retry(self, key: str) -> Workflow:
        return self._move(key, _W.RUNNING, {_W.FAILED})

    def archive(self, key: str) -> Workflow:
        workflow = self.get(key)
        workflow.archive(self._store.clock.now())
        return self.update(workflow)

    def unarchive(self, key: str) -> Workflow:
        workflow = self.get(key)
        workflow.unarchive()
        return self.update(workflow)

    def _move(
        self,
        key: str,
        status: WorkflowStatus,
        sources: Collection[WorkflowStatus],
        *,
        error_message: str | None = None,
    ) -> Workflow:
        workflow = self.get(key)
        if workflow.status not in sources:
            raise InvalidTransition("workflow", "status", workflow.status.value, status.value)
        workflow.status = status
        if error_message is not None:
            workflow.error_message = error_message
        return self.update(workflow)

    # -- the rules, on every path ----------------------------------------------------------

    def add_many(self, entities: Sequence[Workflow]) -> builtins.list[Workflow]:
        # One by one, in one savepoint: each may take a slot of the cap the one before
        # took, which a bulk insert (checking every entity before inserting any) would miss.
        with self._store.atomic():
            return [self.add(entity) for entity in entities]

    def _stamped(self, entity: Workflow) -> Workflow:
        if "pause_behavior" not in entity.model_fields_set:
            default = PauseBehavior(str(setting_value(self._store, DEFAULT_PAUSE_BEHAVIOR)))
            entity = entity.model_copy(update={"pause_behavior": default})
        return super()._stamped(entity)

    def _before_write(self, workflow: Workflow, stored: Row | None) -> None:
        _unchanged(workflow, stored, "workflow", ("project_id", "type"))
        if stored is None:
            # The counters are the steps' to keep: a new workflow has none yet.
            workflow.current_step_number, workflow.total_steps = 0, 0
        else:
            for column in ("current_step_number", "total_steps"):
                if getattr(workflow, column) != stored[column]:
                    raise InvalidValue(
                        "workflow",
                        column,
                        getattr(workflow, column),
                        f"is kept by the workflow's steps (is {stored[column]!r})",
                    )
        if workflow.parent_workflow_id is not None and (
            stored is None or stored["parent_workflow_id"] != workflow.parent_workflow_id
        ):
            self._check_parent(workflow)
        was = None if stored is None else WorkflowStatus(stored["status"])
        if workflow.status != was:
            self._check_slot(workflow, was)
            self._stamp(workflow, was)

    def _check_parent(self, workflow: Workflow) -> None:
        assert workflow.parent_workflow_id is not None
        parent = self._store.get(self._table, workflow.parent_workflow_id)
        if parent is None:
            return  # its foreign key refuses it (ReferenceMissing)
        problem = None
        if parent["id"] == workflow.id:
            problem = "cannot be the workflow itself"
        elif parent["project_id"] != workflow.project_id:
            problem = (
                f"is a workflow of project {parent['project_id']!r}, "
                f"not of the workflow's project {workflow.project_id!r}"
            )
        elif (
            parent["type"] != WorkflowType.PLANNING or workflow.type != WorkflowType.IMPLEMENTATION
        ):
            problem = "must be the planning workflow an implementation workflow was spawned from"
        if problem is not None:
            raise InvalidValue(
                "workflow", "parent_workflow_id", workflow.parent_workflow_id, problem
            )

    def _active_implementations(self, *, other_than: str | None = None) -> builtins.list[Where]:
        where: builtins.list[Where] = [
            Eq("type", WorkflowType.IMPLEMENTATION),
            In("status", frozenset(ACTIVE_WORKFLOW_STATUSES)),
        ]
        if other_than is not None:
            where.append(Ne("id", other_than))
        return self._query(where)

    def _check_slot(self, workflow: Workflow, was: WorkflowStatus | None) -> None:
        """An implementation workflow taking a slot (becoming running, paused or editing
        from any other status) needs a free one: checked in turns, so that two units of work
        starting the last free slot at once cannot both take it."""
        if workflow.type != WorkflowType.IMPLEMENTATION or not workflow.is_active:
            return
        if was is not None and was in ACTIVE_WORKFLOW_STATUSES:
            return
        limit = int(setting_value(self._store, MAX_CONCURRENT_IMPLEMENTATIONS))  # type: ignore[arg-type]
        self._store.serialize(self._table, _SLOTS)
        taken = self._store.count(self._table, self._active_implementations(other_than=workflow.id))
        if taken >= limit:
            raise LimitReached(
                "workflow",
                workflow.id,
                MAX_CONCURRENT_IMPLEMENTATIONS,
                limit,
                f"cannot become {workflow.status.value}: {taken} implementation "
                f"workflow{'s' * (taken != 1)} already running, paused or editing",
            )

    def _stamp(self, workflow: Workflow, was: WorkflowStatus | None) -> None:
        now = self._store.clock.now()
        if workflow.status == _W.RUNNING and workflow.started_at is None:
            workflow.started_at = now
        if workflow.status in ENDED_WORKFLOW_STATUSES:
            workflow.completed_at = now
            workflow.duration_ms = _milliseconds(workflow.started_at, now)
        elif was in ENDED_WORKFLOW_STATUSES:
            # A retry: the run has not ended any more.
            workflow.completed_at = workflow.duration_ms = None
            workflow.error_message = None

    def _after_write(self, workflow: Workflow, stored: Row | None) -> None:
        before = None if stored is None else Workflow.from_row(stored)
        if (
            before is not None
            and before.status == workflow.status
            and (before.archived_at is None) == (workflow.archived_at is None)
        ):
            return
        if before is None:
            event, message = "workflow.created", f"Created {workflow.type.value} workflow"
        elif before.status != workflow.status:
            event = f"workflow.{workflow.status.value}"
            message = f"Workflow {before.status.value} -> {workflow.status.value}"
        else:
            event = "workflow.archived" if workflow.is_archived else "workflow.unarchived"
            message = "Archived workflow" if workflow.is_archived else "Unarchived workflow"
        self._audit(
            workflow.id,
            event,
            EventCategory.WORKFLOW,
            f"{message} {workflow.feature_name!r}",
            before_state=None if before is None else before.audit_state(),
            after_state=workflow.audit_state(),
            workflow_id=workflow.id,
        )
        if (
            before is not None
            and workflow.status == _W.COMPLETED
            and setting_value(self._store, AUTO_CLEANUP) is True
        ):
            self._clean_up_worktree(workflow)

    def _clean_up_worktree(self, workflow: Workflow) -> None:
        """`worktree.autoCleanup`: the completed workflow's active worktree goes to cleaning."""
        worktrees = WorktreesTable(self._state)
        worktree = worktrees._first(
            [Eq("workflow_id", workflow.id), Eq("status", WorktreeStatus.ACTIVE)]
        )
        if worktree is None:
            return
        before = worktree.audit_state()
        cleaning = worktrees.move_to(worktree.id, WorktreeStatus.CLEANING)
        self._audit(
            workflow.id,
            "worktree.cleaning",
            EventCategory.WORKTREE,
            f"Worktree {cleaning.path!r} of the completed workflow set to cleaning "
            f"({AUTO_CLEANUP})",
            before_state=before,
            after_state=cleaning.audit_state(),
            workflow_id=workflow.id,
        )


class WorkflowRepositoriesTable(TableRepository[WorkflowRepositoryLink]):
    entity = WorkflowRepositoryLink

    def link(
        self, workflow_id: str, repository_id: str, *, primary: bool = False
    ) -> WorkflowRepositoryLink:
        link = WorkflowRepositoryLink(workflow_id=workflow_id, repository_id=repository_id)
        if primary:
            link.set_primary_at = self._store.clock.now()
        return self.add(link)

    def unlink(self, workflow_id: str, repository_id: str) -> None:
        link = self._pair(workflow_id, repository_id)
        self.delete(link.id)

    def set_primary(self, workflow_id: str, repository_id: str) -> WorkflowRepositoryLink:
        link = self._pair(workflow_id, repository_id)
        if link.is_primary:
            return link
        link.set_primary_at = self._store.clock.now()
        return self.update(link)

    def of_workflow(self, workflow_id: str) -> builtins.list[WorkflowRepositoryLink]:
        return self._select([Eq("workflow_id", workflow_id)], [Asc("created_at")])

    def primary_of(self, workflow_id: str) -> Repository | None:
        link = self._first([Eq("workflow_id", workflow_id), NotNull("set_primary_at")])
        return None if link is None else RepositoriesTable(self._state).get(link.repository_id)

    def delete(self, key: str) -> dict[str, int]:
        link = self.get(key)
        self._store.serialize(table_of(Workflow), link.workflow_id)
        with self._store.atomic():
            removed = super().delete(key)
            if link.is_primary:
                self.promote_oldest(link.workflow_id)
        return removed

    def promote_oldest(self, workflow_id: str) -> None:
        """The workflow lost its primary link: the oldest of the links left (ties by id)
        becomes the primary, if any is left. Also for a repository's delete, which removes
        its links by cascade."""
        oldest = self._first([Eq("workflow_id", workflow_id)], [Asc("created_at")])
        if oldest is not None and not oldest.is_primary:
            oldest.set_primary_at = self._store.clock.now()
            self.update(oldest)

    def _pair(self, workflow_id: str, repository_id: str) -> WorkflowRepositoryLink:
        link = self._first([Eq("workflow_id", workflow_id), Eq("repository_id", repository_id)])
        if link is None:
            raise NotFound(
                "workflow_repository",
                f"{workflow_id} -> {repository_id}",
                field="workflow_id -> repository_id",
            )
        return link

    def _before_write(self, link: WorkflowRepositoryLink, stored: Row | None) -> None:
        _unchanged(link, stored, "workflow_repository", ("workflow_id", "repository_id"))
        if stored is not None:
            if stored["set_primary_at"] is not None and link.set_primary_at is None:
                raise InvalidValue(
                    "workflow_repository",
                    "set_primary_at",
                    None,
                    "a workflow with repositories always has one primary: "
                    "make another one primary instead",
                )
            return
        workflow = self._store.get(table_of(Workflow), link.workflow_id)
        repository = self._store.get(table_of(Repository), link.repository_id)
        if workflow is None or repository is None:
            return  # their foreign keys refuse it (ReferenceMissing)
        if repository["project_id"] != workflow["project_id"]:
            raise InvalidValue(
                "workflow_repository",
                "repository_id",
                link.repository_id,
                f"is a repository of project {repository['project_id']!r}, "
                f"not of the workflow's project {workflow['project_id']!r}",
            )
        # Linking the first repository makes it the primary: in turns per workflow, so
        # that two first links at once do not both find none.
        self._store.serialize(table_of(Workflow), link.workflow_id)
        if link.set_primary_at is None and not self._store.count(
            self._table, [Eq("workflow_id", link.workflow_id)]
        ):
            link.set_primary_at = self._store.clock.now()


class WorkflowStepsTable(TableRepository[WorkflowStep]):
    entity = WorkflowStep
    # True while a named move that starts a run (`start`, `resume`, `retry`) writes: the
    # runner on the entity is the one the move names, even if it equals the last run's.
    _runner_named = False

    # -- finders ---------------------------------------------------------------------------

    def find_by_workflow(self, workflow_id: str) -> builtins.list[WorkflowStep]:
        return self._select([Eq("workflow_id", workflow_id)], [Asc("step_number")])

    def list(
        self,
        *,
        workflow_id: str | None = None,
        status: StepStatus | None = None,
        runner_agent_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[WorkflowStep]:
        where = self._eq_filters(
            workflow_id=workflow_id, status=status, runner_agent_id=runner_agent_id
        )
        return self._select(where, [Asc("workflow_id"), Asc("step_number")], limit, offset)

    def timeout_seconds(self, step_type: StepType) -> int:
        step_type = self.entity.required_value("step_type", step_type)
        value = setting_value(self._store, STEP_TIMEOUT_SETTINGS[StepType(step_type)])
        return int(value)  # type: ignore[arg-type]

    # -- the status machine ----------------------------------------------------------------

    def start(
        self, key: str, *, agent_id: str | None = None, pid: int | None = None
    ) -> WorkflowStep:
        return self._move(key, _St.RUNNING, {_St.PENDING}, runner=(agent_id, pid))

    def pause(self, key: str) -> WorkflowStep:
        return self._move(key, _St.PAUSED, {_St.RUNNING})

    def edit(self, key: str) -> WorkflowStep:
        return self._move(key, _St.EDITING, {_St.RUNNING})

    def resume(
        self, key: str, *, agent_id: str | None = None, pid: int | None = None
    ) -> WorkflowStep:
        return self._move(key, _St.RUNNING, {_St.PAUSED, _St.EDITING}, runner=(agent_id, pid))

    def complete(
        self,
        key: str,
        *,
        output_text: str | None = None,
        output_structured: Any = None,
        cli_output: str | None = None,
        cli_exit_code: int | None = None,
    ) -> WorkflowStep:
        step = self._move(
            key,
            _St.COMPLETED,
            {_St.RUNNING, _St.EDITING},
            output_text=output_text,
            output_structured=output_structured,
            cli_output=cli_output,
            cli_exit_code=cli_exit_code,
        )
        self._pause_workflow_after(step)
        return step

    def fail(
        self,
        key: str,
        error_message: str,
        *,
        cli_output: str | None = None,
        cli_exit_code: int | None = None,
    ) -> WorkflowStep:
        step = self._move(
            key,
            _St.FAILED,
            {_St.RUNNING},
            error_message=error_message,
            cli_output=cli_output,
            cli_exit_code=cli_exit_code,
        )
        self._stop_workflow_after(step)
        return step

    def skip(self, key: str) -> WorkflowStep:
        return self._move(key, _St.SKIPPED, {_St.PENDING})

    def retry(
        self, key: str, *, agent_id: str | None = None, pid: int | None = None
    ) -> WorkflowStep:
        step = self.get(key)
        step.runner_agent_id, step.runner_pid = agent_id, pid
        if step.status != _St.FAILED:
            raise InvalidTransition("workflow_step", "status", step.status.value, _St.RUNNING.value)
        step.status = _St.RUNNING
        step.retry_count += 1
        return self._start_run(step)

    def edit_output(self, key: str, output_text: str) -> WorkflowStep:
        step = self.get(key)
        if step.status in (_St.PENDING, _St.SKIPPED):
            raise InvalidValue(
                "workflow_step",
                "status",
                step.status.value,
                "must be one a step has output in (not pending or skipped) to edit its output",
            )
        before = step.audit_state()
        if step.output_edited_at is None:
            # The first edit: a flag keeps the time it was first set.
            step.original_output_text = step.output_text
            step.output_edited_at = self._store.clock.now()
        step.output_text = output_text
        edited = self.update(step)
        self._audit(
            edited.id,
            "workflow_step.output_edited",
            EventCategory.STEP,
            f"Edited the output of step {edited.step_number} ({edited.title!r})",
            before_state=before,
            after_state=edited.audit_state(),
            workflow_id=edited.workflow_id,
            workflow_step_id=edited.id,
        )
        return edited

    def _move(
        self,
        key: str,
        status: StepStatus,
        sources: Collection[StepStatus],
        *,
        runner: tuple[str | None, int | None] | None = None,
        **values: Any,
    ) -> WorkflowStep:
        step = self.get(key)
        if runner is not None:
            # Assigned first: a bad runner is an InvalidValue naming its field.
            step.runner_agent_id, step.runner_pid = runner
        if step.status not in sources:
            raise InvalidTransition("workflow_step", "status", step.status.value, status.value)
        step.status = status
        for name, value in values.items():
            if value is not None:
                setattr(step, name, value)
        return self.update(step) if runner is None else self._start_run(step)

    def _start_run(self, step: WorkflowStep) -> WorkflowStep:
        """Write a move into running whose runner the move named."""
        self._runner_named = True
        try:
            return self.update(step)
        finally:
            self._runner_named = False

    def _pause_workflow_after(self, step: WorkflowStep) -> None:
        workflows = WorkflowsTable(self._state)
        workflow = workflows.get(step.workflow_id)
        if workflow.status != _W.RUNNING:
            return
        following = self._first(
            [
                Eq("workflow_id", step.workflow_id),
                Eq("status", _St.PENDING),
                Since("step_number", step.step_number),
            ],
            [Asc("step_number")],
        )
        if pauses_after_step(
            workflow.pause_behavior, None if following is None else following.step_type
        ):
            workflow.status = _W.PAUSED
            workflows.update(workflow)

    def _stop_workflow_after(self, step: WorkflowStep) -> None:
        workflows = WorkflowsTable(self._state)
        workflow = workflows.get(step.workflow_id)
        if workflow.status != _W.RUNNING:
            return
        if pauses_on_failure(workflow.pause_behavior):
            workflow.status = _W.PAUSED
        else:
            workflow.status = _W.FAILED
            workflow.error_message = (
                f"step {step.step_number} ({step.title}) failed: {step.error_message}"[:10_000]
            )
        workflows.update(workflow)

    # -- the rules, on every path ----------------------------------------------------------

    def delete(self, key: str) -> dict[str, int]:
        step = self.get(key)
        self._store.serialize(table_of(Workflow), step.workflow_id)
        with self._store.atomic():
            removed = super().delete(key)
            self._recount(step.workflow_id)
        return removed

    def _before_write(self, step: WorkflowStep, stored: Row | None) -> None:
        _unchanged(step, stored, "workflow_step", ("workflow_id",))
        was = None if stored is None else StepStatus(stored["status"])
        if stored is None or was != step.status or stored["step_number"] != step.step_number:
            # The workflow's counters are recounted after the write: in turns per workflow.
            self._store.serialize(table_of(Workflow), step.workflow_id)
        if step.status != (_St.PENDING if was is None else was):
            self._refuse_ended_workflow(step, was)
        self._check_runner(step, stored, was)
        if setting_value(self._store, INCLUDE_CLI_OUTPUT) is not True:
            # Not recorded while the setting is off (what was kept before stays).
            step.cli_output = None if stored is None else stored["cli_output"]
            step.cli_exit_code = None if stored is None else stored["cli_exit_code"]
        if (
            stored is not None
            and stored["output_edited_at"] is not None
            and step.original_output_text != stored["original_output_text"]
        ):
            raise InvalidValue(
                "workflow_step",
                "original_output_text",
                step.original_output_text,
                "keeps the output as it was before its first edit",
            )
        if step.status != was:
            now = self._store.clock.now()
            if step.status == _St.RUNNING and step.started_at is None:
                step.started_at = now
            if step.status in (_St.COMPLETED, _St.FAILED):
                step.completed_at = now
                step.duration_ms = _milliseconds(step.started_at, now)
            elif was in ENDED_STEP_STATUSES:
                step.completed_at = step.duration_ms = None
                step.error_message = None

    def _refuse_ended_workflow(self, step: WorkflowStep, was: StepStatus | None) -> None:
        """The steps of a completed, failed or cancelled workflow keep their statuses (a
        retry of a failed workflow reopens them). The workflow is read locked, so that a
        step moving and its workflow ending at once take turns."""
        workflow = self._store.get(table_of(Workflow), step.workflow_id, for_update=True)
        if workflow is None:
            return  # its foreign key refuses it (ReferenceMissing)
        status = WorkflowStatus(workflow["status"])
        if status not in ENDED_WORKFLOW_STATUSES:
            return
        after = "retry the workflow to reopen them" if status is _W.FAILED else "it is final"
        raise InvalidTransition(
            "workflow_step",
            "status",
            (was or _St.PENDING).value,
            step.status.value,
            reason=f"its workflow {workflow['id']!r} is {status.value}, and the steps of a "
            f"completed, failed or cancelled workflow do not move ({after})",
        )

    def _check_runner(self, step: WorkflowStep, stored: Row | None, was: StepStatus | None) -> None:
        """Each run names its own runner; once the step has left running, the runner stays
        as the record of who ran the last run."""
        runner = (step.runner_agent_id, step.runner_pid)
        before = (
            (None, None) if stored is None else (stored["runner_agent_id"], stored["runner_pid"])
        )
        if step.status is not _St.RUNNING:
            if runner == before:
                return
            name = "runner_agent_id" if runner[0] != before[0] else "runner_pid"
            problem = (
                "can be given only to a running step: a step gets its runner when it runs"
                if stored is None
                else "is the record of who ran the step last: it changes only when a run "
                "starts or while the step runs"
            )
            raise InvalidValue("workflow_step", name, getattr(step, name), problem)
        starting = was is not _St.RUNNING
        if starting and stored is not None and runner == before and not self._runner_named:
            # A run that names no runner has none: the last run's is never carried over.
            step.runner_agent_id = step.runner_pid = None
            return
        if (starting or runner[0] != before[0]) and step.runner_agent_id is not None:
            agent = self._store.get(table_of(Agent), step.runner_agent_id)
            if agent is not None and agent["status"] in _GONE_AGENT_STATUSES:
                raise InvalidValue(
                    "workflow_step",
                    "runner_agent_id",
                    step.runner_agent_id,
                    f"names an agent that is {agent['status']}: a stopped or crashed agent "
                    "runs nothing",
                )

    def _after_write(self, step: WorkflowStep, stored: Row | None) -> None:
        before = None if stored is None else WorkflowStep.from_row(stored)
        if before is None or before.status != step.status or before.step_number != step.step_number:
            self._recount(step.workflow_id)
        if before is None or before.status == step.status:
            return
        self._audit(
            step.id,
            f"workflow_step.{step.status.value}",
            EventCategory.STEP,
            f"Step {step.step_number} ({step.title!r}) {before.status.value} -> "
            f"{step.status.value}",
            before_state=before.audit_state(),
            after_state=step.audit_state(),
            workflow_id=step.workflow_id,
            workflow_step_id=step.id,
        )

    def _recount(self, workflow_id: str) -> None:
        """Keep the workflow's `total_steps` (how many steps it has) and
        `current_step_number` (the highest number of a step that has left pending, 0 when
        none has) true, in the step's transaction. Like a counter, they leave the
        workflow's row version alone."""
        rows = self._store.select(self._table, [Eq("workflow_id", workflow_id)])
        total = len(rows)
        current = max(
            (row["step_number"] for row in rows if row["status"] != _St.PENDING), default=0
        )
        stamps = {name: self._store.clock.now() for name in Workflow.stamped_on_update}
        self._store.update(
            table_of(Workflow),
            [Eq("id", workflow_id)],
            {"total_steps": total, "current_step_number": current, **stamps},
        )


# Discovered files listed by priority: high first.
_PRIORITY_RANK = {FilePriority.HIGH: 0, FilePriority.MEDIUM: 1, FilePriority.LOW: 2}


def _flag_argument(entity: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(entity, name, value, "must be True or False")
    return value


class DiscoveredFilesTable(TableRepository[DiscoveredFile]):
    entity = DiscoveredFile
    # True while `discover` writes: discovery's own update, not a user edit.
    _discovering = False

    # -- the generic port, with the inclusion default ---------------------------------------

    def _add(self, entity: DiscoveredFile) -> DiscoveredFile:
        return super()._add(self._included_unless_said(entity))

    def add_many(self, entities: Sequence[DiscoveredFile]) -> builtins.list[DiscoveredFile]:
        return super().add_many([self._included_unless_said(entity) for entity in entities])

    def _included_unless_said(self, entity: DiscoveredFile) -> DiscoveredFile:
        """A file added without a word on `included_at` is included from now."""
        if isinstance(entity, DiscoveredFile) and "included_at" not in entity.model_fields_set:
            entity = entity.model_copy(update={"included_at": self._store.clock.now()})
        return entity

    # -- the port's own methods ------------------------------------------------------------

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
        label = self._label
        included = _flag_argument(label, "included", included)
        if exists is not None:
            exists = _flag_argument(label, "exists", exists)
        step_key = self._step_key(workflow_step_id)
        now = self._store.clock.now()
        fresh = DiscoveredFile(
            workflow_step_id=step_key,
            file_path=file_path,
            priority=priority,
            action=action,
            description=description,
            order_index=0 if order_index is None else order_index,
            file_exists_at=now if exists else None,
            included_at=now if included else None,
        )
        if self._store.get(table_of(WorkflowStep), step_key) is None:
            raise NotFound("workflow_step", step_key)
        current = self.find_by_path(step_key, fresh.file_path)
        if current is None:
            if order_index is None:
                fresh.order_index = self._next_order(step_key)
            try:
                with self._store.atomic():
                    return self.add(fresh)
            except AlreadyExists:
                # Another unit of work recorded it first: update theirs.
                current = self.find_by_path(step_key, fresh.file_path)
                if current is None:
                    raise
        current.action = fresh.action
        if description is not None:
            current.description = fresh.description
        if exists is not None:
            current.file_exists_at = (current.file_exists_at or now) if exists else None
        if order_index is not None:
            current.order_index = fresh.order_index
        if not (current.is_user_added or current.is_user_modified):
            current.priority = fresh.priority
            current.included_at = (current.included_at or now) if included else None
        self._discovering = True
        try:
            return self.update(current)
        finally:
            self._discovering = False

    def add_by_user(
        self,
        workflow_step_id: str,
        file_path: str,
        *,
        priority: FilePriority = FilePriority.MEDIUM,
        action: FileAction = FileAction.MODIFY,
        description: str | None = None,
    ) -> DiscoveredFile:
        step_key = self._step_key(workflow_step_id)
        now = self._store.clock.now()
        file = DiscoveredFile(
            workflow_step_id=step_key,
            file_path=file_path,
            priority=priority,
            action=action,
            description=description,
            included_at=now,
            user_added_at=now,
        )
        if self._store.get(table_of(WorkflowStep), step_key) is None:
            raise NotFound("workflow_step", step_key)
        file.order_index = self._next_order(step_key)
        return self.add(file)

    def set_priority(self, key: str, priority: FilePriority) -> DiscoveredFile:
        file = self.get(key)
        file.priority = priority
        return self.update(file)

    def include(self, key: str) -> DiscoveredFile:
        file = self.get(key)
        file._raise_flag("included_at", self._store.clock.now())
        return self.update(file)

    def exclude(self, key: str) -> DiscoveredFile:
        file = self.get(key)
        file._lower_flag("included_at")
        return self.update(file)

    def find_by_step(
        self, workflow_step_id: str, *, included_only: bool = False
    ) -> builtins.list[DiscoveredFile]:
        where: list[Where] = [Eq("workflow_step_id", workflow_step_id)]
        if _flag_argument(self._label, "included_only", included_only):
            where.append(NotNull("included_at"))
        files = self._select(where, [Asc("order_index"), Asc("file_path")])
        return sorted(files, key=lambda file: _PRIORITY_RANK[file.priority])

    def find_by_path(self, workflow_step_id: str, file_path: str) -> DiscoveredFile | None:
        return self._first([Eq("workflow_step_id", workflow_step_id), Eq("file_path", file_path)])

    # -- rules on every path ---------------------------------------------------------------

    def _before_write(self, file: DiscoveredFile, stored: Row | None) -> None:
        if stored is None:
            return
        if file.workflow_step_id != stored["workflow_step_id"]:
            raise InvalidValue(
                self._label,
                "workflow_step_id",
                file.workflow_step_id,
                "cannot change: a discovered file stays with its step",
            )
        if self._discovering or not self._user_edit(file, stored):
            return
        if file.priority.value != stored["priority"] and stored["original_priority"] is None:
            file.original_priority = FilePriority(stored["priority"])
        file._raise_flag("user_modified_at", self._store.clock.now())

    def _after_write(self, file: DiscoveredFile, stored: Row | None) -> None:
        if stored is None:
            if file.is_user_added:
                self._audit_file(file, "user_added", f"User added {file.file_path}", None)
            return
        if not self._discovering and self._user_edit(file, stored):
            before = DiscoveredFile.from_row(stored)
            self._audit_file(file, "user_edited", f"User edited {file.file_path}", before)

    @staticmethod
    def _user_edit(file: DiscoveredFile, stored: Row) -> bool:
        """Whether the write changes what the user decides: the priority, the inclusion."""
        return file.priority.value != stored["priority"] or (file.included_at is None) != (
            stored["included_at"] is None
        )

    def _audit_file(
        self, file: DiscoveredFile, what: str, message: str, before: DiscoveredFile | None
    ) -> None:
        step = self._store.get(table_of(WorkflowStep), file.workflow_step_id)
        self._audit(
            file.id,
            f"{self._label}.{what}",
            EventCategory.FILE,
            message,
            before_state=None if before is None else before.audit_state(),
            after_state=file.audit_state(),
            workflow_id=None if step is None else step["workflow_id"],
            workflow_step_id=file.workflow_step_id,
        )

    def _step_key(self, workflow_step_id: str) -> str:
        key: str = self.entity.query_value("workflow_step_id", workflow_step_id)
        if key is None:
            raise InvalidValue(self._label, "workflow_step_id", None, "is required")
        return key

    def _next_order(self, step_key: str) -> int:
        ((last,),) = self._store.aggregate(
            self._table, [Max("order_index")], [Eq("workflow_step_id", step_key)]
        )
        return 0 if last is None else int(last) + 1


def _plan_row(repository: TableRepository[Any], plan_id: str, *, for_update: bool) -> Row | None:
    return repository._store.get(table_of(ImplementationPlan), plan_id, for_update=for_update)


def _stepless(plan: ImplementationPlan) -> InvalidValue:
    """A plan without steps given `approved_at` (a new plan has none yet)."""
    problem = "cannot be set while the plan has no steps: add its steps first"
    return InvalidValue("implementation_plan", "approved_at", plan.approved_at, problem)


def _refuse_approved(plan: Row) -> None:
    if plan["approved_at"] is not None:
        raise Protected(
            "implementation_plan", plan["id"], "is approved: it and its steps no longer change"
        )


class ImplementationPlansTable(TableRepository[ImplementationPlan]):
    entity = ImplementationPlan

    def find_by_workflow(self, workflow_id: str) -> ImplementationPlan | None:
        return self._first([Eq("workflow_id", workflow_id)])

    def approve(self, key: str) -> ImplementationPlan:
        key = self._key(key)
        row = self._store.get(self._table, key, for_update=True)
        if row is None:
            raise NotFound(self._label, key)
        plan = self._entity(row)
        if plan.is_approved:
            return plan
        plan.approved_at = self._store.clock.now()
        return self.update(plan)

    def claim_for_implementation(self, key: str) -> ImplementationPlan:
        key = self._key(key)
        row = self._store.get(self._table, key, for_update=True)
        if row is None:
            raise NotFound(self._label, key)
        plan = self._entity(row)
        if not plan.is_approved:
            # Its state, not a race: approving it is the fix, not a retry.
            raise Protected(self._label, key, "is not approved: approve it before implementing it")
        started = self._store.select(
            table_of(Workflow),
            [
                Eq("parent_workflow_id", plan.workflow_id),
                Eq("type", WorkflowType.IMPLEMENTATION.value),
                Ne("status", WorkflowStatus.CANCELLED.value),
            ],
            limit=1,
        )
        if started:
            # Also the answer to the second of two racing units of work, once the first
            # committed: retrying gets the same, so it is no Conflict.
            raise Protected(
                self._label,
                key,
                f"is being implemented already (workflow {started[0]['id']!r}); "
                "cancel that workflow to start again",
            )
        return plan

    def _before_write(self, plan: ImplementationPlan, stored: Row | None) -> None:
        if stored is None:
            workflow = self._store.get(table_of(Workflow), plan.workflow_id)
            if workflow is not None and workflow["type"] != WorkflowType.PLANNING.value:
                raise InvalidValue(
                    self._label,
                    "workflow_id",
                    plan.workflow_id,
                    "is an implementation workflow: plans belong to planning workflows",
                )
            if plan.approved_at is not None:
                raise _stepless(plan)
            return
        if plan.workflow_id != stored["workflow_id"]:
            raise InvalidValue(
                self._label,
                "workflow_id",
                plan.workflow_id,
                "cannot change: a plan stays with its workflow",
            )
        changed = set(plan.changed_columns()) - {"updated_at", "row_version"}
        if changed and stored["approved_at"] is not None:
            _refuse_approved(stored)
        if plan.approved_at is not None and stored["approved_at"] is None:
            # Held until the transaction ends: no step goes while the plan is approved.
            self._store.get(self._table, plan.id, for_update=True)
            steps = self._store.count(table_of(ImplementationPlanStep), [Eq("plan_id", plan.id)])
            if not steps:
                raise _stepless(plan)

    def _after_write(self, plan: ImplementationPlan, stored: Row | None) -> None:
        if stored is not None and stored["approved_at"] is None and plan.is_approved:
            self._audit(
                plan.id,
                f"{self._label}.approved",
                EventCategory.USER_ACTION,
                f"Approved the plan {plan.title!r}",
                before_state=ImplementationPlan.from_row(stored).audit_state(),
                after_state=plan.audit_state(),
                workflow_id=plan.workflow_id,
            )


class ImplementationPlanStepsTable(TableRepository[ImplementationPlanStep]):
    entity = ImplementationPlanStep

    # -- adding and deleting keep the numbers dense ----------------------------------------

    def _add(self, entity: ImplementationPlanStep) -> ImplementationPlanStep:
        step = self._checked(entity)
        with self._store.atomic():
            plan = self._writable_plan(step.plan_id, "plan_id")
            count = self._store.count(self._table, [Eq("plan_id", step.plan_id)])
            if not 1 <= step.step_number <= count + 1:
                raise InvalidValue(
                    self._label,
                    "step_number",
                    step.step_number,
                    f"must be between 1 and {count + 1} (the plan has {count} steps)",
                )
            self._shift(plan["id"], step.step_number, 1)
            step.order_index = step.step_number - 1
            return super()._add(step)

    def add_many(
        self, entities: Sequence[ImplementationPlanStep]
    ) -> builtins.list[ImplementationPlanStep]:
        with self._store.atomic():
            return [self.add(entity) for entity in entities]

    def append(self, step: ImplementationPlanStep) -> ImplementationPlanStep:
        step = self._checked(step)
        with self._store.atomic():
            self._writable_plan(step.plan_id, "plan_id")
            step.step_number = self._store.count(self._table, [Eq("plan_id", step.plan_id)]) + 1
            return self.add(step)

    def delete(self, key: str) -> dict[str, int]:
        key = self._key(key)
        with self._store.atomic():
            row = self._store.get(self._table, key)
            if row is None:
                raise NotFound(self._label, key)
            self._writable_plan(row["plan_id"], "plan_id")
            removed = super().delete(key)
            self._shift(row["plan_id"], row["step_number"] + 1, -1)
        return removed

    # -- moving ----------------------------------------------------------------------------

    def find_by_plan(self, plan_id: str) -> builtins.list[ImplementationPlanStep]:
        return self._select([Eq("plan_id", plan_id)], [Asc("step_number")])

    def move(self, key: str, step_number: int) -> ImplementationPlanStep:
        key = self._key(key)
        with self._store.atomic():
            row = self._store.get(self._table, key)
            if row is None:
                raise NotFound(self._label, key)
            self._writable_plan(row["plan_id"], "plan_id")
            order = [step.id for step in self.find_by_plan(row["plan_id"])]
            if (
                not isinstance(step_number, int)
                or isinstance(step_number, bool)
                or not 1 <= step_number <= len(order)
            ):
                raise InvalidValue(
                    self._label,
                    "step_number",
                    step_number,
                    f"must be between 1 and {len(order)} (the plan's steps)",
                )
            order.remove(key)
            order.insert(step_number - 1, key)
            self._renumber(row["plan_id"], order)
        return self.get(key)

    def reorder(
        self, plan_id: str, ordered_step_ids: Sequence[str]
    ) -> builtins.list[ImplementationPlanStep]:
        plan_key = self.entity.query_value("plan_id", plan_id)
        with self._store.atomic():
            plan = _plan_row(self, plan_key, for_update=True) if plan_key else None
            if plan is None:
                raise NotFound("implementation_plan", plan_id)
            _refuse_approved(plan)
            current = {step.id for step in self.find_by_plan(plan_key)}
            if (
                isinstance(ordered_step_ids, str | bytes)
                or not isinstance(ordered_step_ids, Sequence)
                or not all(isinstance(step_id, str) for step_id in ordered_step_ids)
                or len(ordered_step_ids) != len(current)
                or set(ordered_step_ids) != current
            ):
                raise InvalidValue(
                    self._label,
                    "ordered_step_ids",
                    ordered_step_ids,
                    f"must name each of the plan's {len(current)} steps exactly once",
                )
            self._renumber(plan_key, list(ordered_step_ids))
        return self.find_by_plan(plan_key)

    def override_agent(self, key: str, agent_id: str | None) -> ImplementationPlanStep:
        step = self.get(key)
        step.agent_override_id = agent_id
        return self.update(step)

    def _shift(self, plan_id: str, start: int, by: int) -> None:
        """Move the plan's steps numbered `start` and up by `by` (+1 or -1), in two
        set-based phases that never put two steps on one number, whatever order the
        database updates the rows in (SQLite and PostgreSQL check UNIQUE row by row): all
        of them up past the highest number first, then down to where they belong."""
        ((top,),) = self._store.aggregate(
            self._table, [Max("step_number")], [Eq("plan_id", plan_id)]
        )
        if top is None or top < start:
            return
        past = top + 1
        where: list[Where] = [Eq("plan_id", plan_id), Since("step_number", start)]
        self._store.update(self._table, where, {}, {"step_number": past})
        self._store.update(
            self._table,
            [Eq("plan_id", plan_id), Since("step_number", start + past)],
            self._stamps(),
            {"step_number": by - past, "order_index": by, self._version_column(): 1},
        )
        self._forget_seen()

    def _renumber(self, plan_id: str, ordered: builtins.list[str]) -> None:
        """Number the plan's steps 1..n in `ordered` order: those that move go past the
        highest number first (one statement), then each to its place."""
        numbers = {step.id: step.step_number for step in self.find_by_plan(plan_id)}
        moving = {
            step_id: position
            for position, step_id in enumerate(ordered, 1)
            if numbers[step_id] != position
        }
        if not moving:
            return
        before = {step.id: step for step in self._select([In("id", frozenset(moving))])}
        past = max(numbers.values()) + 1
        self._store.update(self._table, [In("id", frozenset(moving))], {}, {"step_number": past})
        for step_id, position in moving.items():
            row = self._store.update_one(
                self._table,
                [Eq("id", step_id)],
                {"step_number": position, "order_index": position - 1, **self._stamps()},
                {self._version_column(): 1},
            )
            assert row is not None  # the plan is held: its steps stay
            moved = ImplementationPlanStep.from_row(row)
            self._audit_step(moved, "moved", f"Moved to step {position}", before[step_id])
        self._forget_seen()

    # -- rules on every path ---------------------------------------------------------------

    def _before_write(self, step: ImplementationPlanStep, stored: Row | None) -> None:
        if step.has_quality_gate and step.has_gemini_review:
            raise InvalidValue(
                self._label,
                "gemini_review_at",
                step.gemini_review_at,
                "a step is a quality gate or a review, not both",
            )
        if stored is None:
            return
        for name, how in (
            ("plan_id", "a step stays in its plan"),
            ("step_number", "use move or reorder"),
            ("order_index", "it follows step_number"),
        ):
            if getattr(step, name) != stored[name]:
                raise InvalidValue(self._label, name, getattr(step, name), f"cannot change: {how}")
        if set(step.changed_columns()) - {"updated_at", "row_version"}:
            self._writable_plan(step.plan_id, "plan_id")

    def _before_delete(self, step: ImplementationPlanStep) -> None:
        self._writable_plan(step.plan_id, "plan_id")

    def _after_write(self, step: ImplementationPlanStep, stored: Row | None) -> None:
        if stored is None:
            self._audit_step(step, "added", f"Added step {step.step_number}: {step.title}", None)
        else:
            before = ImplementationPlanStep.from_row(stored)
            self._audit_step(step, "edited", f"Edited step {step.step_number}", before)

    def _audit_deletion(self, step: Any, removed: dict[str, int]) -> None:
        plan = _plan_row(self, step.plan_id, for_update=False)
        self._audit(
            step.id,
            f"{self._label}.deleted",
            EventCategory.USER_ACTION,
            f"Deleted step {step.step_number}: {step.title}",
            event_data={"removed": dict(removed)},
            before_state=step.audit_state(),
            workflow_id=None if plan is None else plan["workflow_id"],
        )

    def _audit_step(
        self,
        step: ImplementationPlanStep,
        what: str,
        message: str,
        before: ImplementationPlanStep | None,
    ) -> None:
        plan = _plan_row(self, step.plan_id, for_update=False)
        self._audit(
            step.id,
            f"{self._label}.{what}",
            EventCategory.USER_ACTION,
            message,
            before_state=None if before is None else before.audit_state(),
            after_state=step.audit_state(),
            workflow_id=None if plan is None else plan["workflow_id"],
        )

    def _writable_plan(self, plan_id: str, field: str) -> Row:
        """The step's plan, held until the transaction ends (writers of one plan take
        turns); refused if it is missing or approved."""
        plan = _plan_row(self, plan_id, for_update=True)
        if plan is None:
            raise ReferenceMissing(self._label, field, plan_id, "implementation_plan")
        _refuse_approved(plan)
        return plan

    def _stamps(self) -> dict[str, Any]:
        now = self._store.clock.now()
        return dict.fromkeys(self.entity.stamped_on_update, now)

    def _version_column(self) -> str:
        assert self._version is not None  # plan steps are Timestamped
        return self._version

    def _forget_seen(self) -> None:
        """The renumbered rows may be read again and written from the new read."""
        self._state.seen = {
            key: version for key, version in self._state.seen.items() if key[0] != self._table.name
        }


class ImplementationPlanStepFilesTable(TableRepository[ImplementationPlanStepFile]):
    entity = ImplementationPlanStepFile

    def find_by_plan_step(self, plan_step_id: str) -> builtins.list[ImplementationPlanStepFile]:
        return self._select(
            [Eq("plan_step_id", plan_step_id)], [Asc("order_index"), Asc("file_path")]
        )

    def _before_write(self, file: ImplementationPlanStepFile, stored: Row | None) -> None:
        if stored is not None and file.plan_step_id != stored["plan_step_id"]:
            raise InvalidValue(
                self._label,
                "plan_step_id",
                file.plan_step_id,
                "cannot change: a file stays with its plan step",
            )
        self._refuse_approved_plan(file.plan_step_id)

    def _before_delete(self, file: ImplementationPlanStepFile) -> None:
        self._refuse_approved_plan(file.plan_step_id)

    def _refuse_approved_plan(self, plan_step_id: str) -> None:
        step = self._store.get(table_of(ImplementationPlanStep), plan_step_id)
        if step is None:
            return  # the foreign key refuses it
        plan = _plan_row(self, step["plan_id"], for_update=True)
        if plan is not None:
            _refuse_approved(plan)
