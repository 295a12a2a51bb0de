"""Repositories of the workflows context: only what is particular to each aggregate."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from agentkeel.adapters.repositories.base import TableRepository
from agentkeel.adapters.repositories.workspace import GitRepositoryRepository, WorktreeRepository
from agentkeel.adapters.store import (
    Asc,
    Desc,
    Eq,
    In,
    IsNull,
    Ne,
    NotNull,
    Row,
    RowStore,
    Since,
    Where,
)
from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.errors import InvalidTransition, InvalidValue, LimitReached, NotFound
from agentkeel.domain.workflows import (
    ACTIVE_WORKFLOW_STATUSES,
    ENDED_STEP_STATUSES,
    ENDED_WORKFLOW_STATUSES,
    STEP_TIMEOUT_SETTINGS,
    DiscoveredFile,
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


class WorkflowRepository(TableRepository[Workflow]):
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
        worktree = WorktreeRepository(self._state)._first([Eq("workflow_id", key)])
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
        worktrees = WorktreeRepository(self._state)
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


class WorkflowRepositoryLinkRepository(TableRepository[WorkflowRepositoryLink]):
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
        return (
            None if link is None else GitRepositoryRepository(self._state).get(link.repository_id)
        )

    def delete(self, key: str) -> dict[str, int]:
        link = self.get(key)
        self._store.serialize(table_of(Workflow), link.workflow_id)
        with self._store.atomic():
            removed = super().delete(key)
            if link.is_primary:
                # The oldest of the links left becomes the primary (ties by id).
                oldest = self._first([Eq("workflow_id", link.workflow_id)], [Asc("created_at")])
                if oldest is not None:
                    oldest.set_primary_at = self._store.clock.now()
                    self.update(oldest)
        return removed

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


class WorkflowStepRepository(TableRepository[WorkflowStep]):
    entity = WorkflowStep

    # -- finders ---------------------------------------------------------------------------

    def find_by_workflow(self, workflow_id: str) -> builtins.list[WorkflowStep]:
        return self._select([Eq("workflow_id", workflow_id)], [Asc("step_number")])

    def timeout_seconds(self, step_type: StepType) -> int:
        step_type = self.entity.query_value("step_type", step_type)
        value = setting_value(self._store, STEP_TIMEOUT_SETTINGS[StepType(step_type)])
        return int(value)  # type: ignore[arg-type]

    # -- the status machine ----------------------------------------------------------------

    def start(self, key: str) -> WorkflowStep:
        return self._move(key, _St.RUNNING, {_St.PENDING})

    def pause(self, key: str) -> WorkflowStep:
        return self._move(key, _St.PAUSED, {_St.RUNNING})

    def edit(self, key: str) -> WorkflowStep:
        return self._move(key, _St.EDITING, {_St.RUNNING})

    def resume(self, key: str) -> WorkflowStep:
        return self._move(key, _St.RUNNING, {_St.PAUSED, _St.EDITING})

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

    def retry(self, key: str) -> WorkflowStep:
        step = self.get(key)
        if step.status != _St.FAILED:
            raise InvalidTransition("workflow_step", "status", step.status.value, _St.RUNNING.value)
        step.status = _St.RUNNING
        step.retry_count += 1
        return self.update(step)

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
        self, key: str, status: StepStatus, sources: Collection[StepStatus], **values: Any
    ) -> WorkflowStep:
        step = self.get(key)
        if step.status not in sources:
            raise InvalidTransition("workflow_step", "status", step.status.value, status.value)
        step.status = status
        for name, value in values.items():
            if value is not None:
                setattr(step, name, value)
        return self.update(step)

    def _pause_workflow_after(self, step: WorkflowStep) -> None:
        workflows = WorkflowRepository(self._state)
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
        workflows = WorkflowRepository(self._state)
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
        was = None if stored is None else StepStatus(stored["status"])
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
        if stored is None or was != step.status or stored["step_number"] != step.step_number:
            # The workflow's counters are recounted after the write: in turns per workflow.
            self._store.serialize(table_of(Workflow), step.workflow_id)

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


class DiscoveredFileRepository(TableRepository[DiscoveredFile]):
    entity = DiscoveredFile


class ImplementationPlanRepository(TableRepository[ImplementationPlan]):
    entity = ImplementationPlan


class ImplementationPlanStepRepository(TableRepository[ImplementationPlanStep]):
    entity = ImplementationPlanStep


class ImplementationPlanStepFileRepository(TableRepository[ImplementationPlanStepFile]):
    entity = ImplementationPlanStepFile
