"""Workflows: their state machine, the limit on implementations running at once, the worktree
cleaned up when one completes.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.errors import (
    InvalidValue,
    LimitReached,
)
from agentkeel.domain.workflows import (
    ACTIVE_WORKFLOW_STATUSES,
    ENDED_WORKFLOW_STATUSES,
    PauseBehavior,
    Workflow,
    WorkflowStatus,
    WorkflowType,
)
from agentkeel.domain.workspace import (
    Worktree,
    WorktreeStatus,
)
from agentkeel.ports.store import (
    Asc,
    Desc,
    Eq,
    In,
    Ne,
    Row,
    Where,
)
from agentkeel.repositories.archiving import ArchivingTable
from agentkeel.repositories.rules import fixed, milliseconds
from agentkeel.schema import table_of
from agentkeel.schema.columns import AUDIT_LOGS, WORKFLOWS, WORKTREES

DEFAULT_PAUSE_BEHAVIOR = "workflow.defaultPauseBehavior"


MAX_CONCURRENT_IMPLEMENTATIONS = "workflow.maxConcurrentImplementations"


AUTO_CLEANUP = "worktree.autoCleanup"


# What `serialize` takes turns on while counting the implementation workflows that hold a
# slot (one cap for the whole database).
_SLOTS = "implementation-slots"


_W = WorkflowStatus


class WorkflowsTable(ArchivingTable[Workflow]):
    entity = Workflow
    archive_flag = WORKFLOWS.archived_at

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
        where += self._listed(include_archived)
        return self._select(where, [Desc(WORKFLOWS.created_at)], limit, offset)

    def find_by_parent(self, parent_workflow_id: str) -> builtins.list[Workflow]:
        return self._select(
            [Eq(WORKFLOWS.parent_workflow_id, parent_workflow_id)], [Asc(WORKFLOWS.created_at)]
        )

    def worktree_of(self, key: str) -> Worktree | None:
        key = self._key(key)
        worktree = self._uow.worktrees.first_matching([Eq(WORKTREES.workflow_id, key)])
        if worktree is None:
            self.get(key)  # NotFound for a workflow that does not exist
        return worktree

    def audit_trail(self, key: str) -> builtins.list[AuditEntry]:
        key = self._key(key)
        rows = self._store.select(
            table_of(AuditEntry), [Eq(AUDIT_LOGS.workflow_id, key)], [Asc(AUDIT_LOGS.timestamp)]
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

    # -- the rules, on every path ----------------------------------------------------------

    def add_many(self, entities: Sequence[Workflow]) -> builtins.list[Workflow]:
        # One by one, in one savepoint: each may take a slot of the cap the one before
        # took, which a bulk insert (checking every entity before inserting any) would miss.
        with self._store.atomic():
            return [self.add(entity) for entity in entities]

    def _stamped(self, entity: Workflow) -> Workflow:
        if "pause_behavior" not in entity.model_fields_set:
            default = PauseBehavior(
                str(self._uow.settings.value_or_default(DEFAULT_PAUSE_BEHAVIOR))
            )
            entity = entity.model_copy(update={WORKFLOWS.pause_behavior: default})
        return super()._stamped(entity)

    def _before_write(self, workflow: Workflow, stored: Row | None) -> None:
        fixed("workflow", workflow, stored, (WORKFLOWS.project_id, WORKFLOWS.type))
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
            stored is None or stored[WORKFLOWS.parent_workflow_id] != workflow.parent_workflow_id
        ):
            self._check_parent(workflow)
        was = None if stored is None else WorkflowStatus(stored[WORKFLOWS.status])
        if workflow.status != was:
            self._check_slot(workflow, was)
            self._stamp(workflow, was)

    def _check_parent(self, workflow: Workflow) -> None:
        assert workflow.parent_workflow_id is not None
        parent = self._store.get(self._table, workflow.parent_workflow_id)
        if parent is None:
            return  # its foreign key refuses it (ReferenceMissing)
        problem = None
        if parent[WORKFLOWS.id] == workflow.id:
            problem = "cannot be the workflow itself"
        elif parent[WORKFLOWS.project_id] != workflow.project_id:
            problem = (
                f"is a workflow of project {parent[WORKFLOWS.project_id]!r}, "
                f"not of the workflow's project {workflow.project_id!r}"
            )
        elif (
            parent[WORKFLOWS.type] != WorkflowType.PLANNING
            or workflow.type != WorkflowType.IMPLEMENTATION
        ):
            problem = "must be the planning workflow an implementation workflow was spawned from"
        if problem is not None:
            raise InvalidValue(
                "workflow", "parent_workflow_id", workflow.parent_workflow_id, problem
            )

    def _active_implementations(self, *, other_than: str | None = None) -> builtins.list[Where]:
        where: builtins.list[Where] = [
            Eq(WORKFLOWS.type, WorkflowType.IMPLEMENTATION),
            In(WORKFLOWS.status, frozenset(ACTIVE_WORKFLOW_STATUSES)),
        ]
        if other_than is not None:
            where.append(Ne(WORKFLOWS.id, other_than))
        return self._query(where)

    def _check_slot(self, workflow: Workflow, was: WorkflowStatus | None) -> None:
        """An implementation workflow taking a slot (becoming running, paused or editing
        from any other status) needs a free one: checked in turns, so that two units of work
        starting the last free slot at once cannot both take it."""
        if workflow.type != WorkflowType.IMPLEMENTATION or not workflow.is_active:
            return
        if was is not None and was in ACTIVE_WORKFLOW_STATUSES:
            return
        limit = int(self._uow.settings.value_or_default(MAX_CONCURRENT_IMPLEMENTATIONS))  # type: ignore[arg-type]
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
            workflow.duration_ms = milliseconds(workflow.started_at, now)
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
            and self._uow.settings.value_or_default(AUTO_CLEANUP) is True
        ):
            self._clean_up_worktree(workflow)

    def _clean_up_worktree(self, workflow: Workflow) -> None:
        """`worktree.autoCleanup`: the completed workflow's active worktree goes to cleaning."""
        worktrees = self._uow.worktrees
        worktree = worktrees.first_matching(
            [Eq(WORKTREES.workflow_id, workflow.id), Eq(WORKTREES.status, WorktreeStatus.ACTIVE)]
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
