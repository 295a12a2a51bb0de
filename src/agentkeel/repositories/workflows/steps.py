"""Workflow steps: numbered, run one at a time by an agent or a process, and the workflow that
pauses or stops after them.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from enum import StrEnum
from typing import Any

from agentkeel.domain.agents import Agent, AgentStatus
from agentkeel.domain.audit import EventCategory
from agentkeel.domain.errors import (
    InvalidTransition,
    InvalidValue,
)
from agentkeel.domain.workflows import (
    ENDED_STEP_STATUSES,
    ENDED_WORKFLOW_STATUSES,
    STEP_TIMEOUT_SETTINGS,
    StepStatus,
    StepType,
    Workflow,
    WorkflowStatus,
    WorkflowStep,
    pauses_after_step,
    pauses_on_failure,
)
from agentkeel.ports.store import (
    Asc,
    Eq,
    Row,
    Since,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.rules import fixed, milliseconds
from agentkeel.schema import table_of
from agentkeel.schema.columns import AGENTS, WORKFLOW_STEPS, WORKFLOWS

INCLUDE_CLI_OUTPUT = "logging.includeCliOutput"


_W = WorkflowStatus
_St = StepStatus


# A step's runner agent in one of these has no process running it.
_GONE_AGENT_STATUSES = frozenset({AgentStatus.STOPPED.value, AgentStatus.CRASHED.value})


class WorkflowStepsTable(TableRepository[WorkflowStep]):
    entity = WorkflowStep
    # True while a named move that starts a run (`start`, `resume`, `retry`) writes: the
    # runner on the entity is the one the move names, even if it equals the last run's.
    _runner_named = False

    # -- finders ---------------------------------------------------------------------------

    def find_by_workflow(self, workflow_id: str) -> builtins.list[WorkflowStep]:
        return self._select(
            [Eq(WORKFLOW_STEPS.workflow_id, workflow_id)], [Asc(WORKFLOW_STEPS.step_number)]
        )

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
        return self._select(
            where, [Asc(WORKFLOW_STEPS.workflow_id), Asc(WORKFLOW_STEPS.step_number)], limit, offset
        )

    def timeout_seconds(self, step_type: StepType) -> int:
        step_type = self.entity.required_value("step_type", step_type)
        value = self._uow.settings.value_or_default(STEP_TIMEOUT_SETTINGS[StepType(step_type)])
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
        status: StrEnum,
        sources: Collection[StrEnum] | None = None,
        *,
        runner: tuple[str | None, int | None] | None = None,
        **values: Any,
    ) -> WorkflowStep:
        step = self.get(key)
        if runner is not None:
            # Assigned first: a bad runner is an InvalidValue naming its field.
            step.runner_agent_id, step.runner_pid = runner
        self._take_move(step, status, sources, values)
        return self.update(step) if runner is None else self._start_run(step)

    def _start_run(self, step: WorkflowStep) -> WorkflowStep:
        """Write a move into running whose runner the move named."""
        self._runner_named = True
        try:
            return self.update(step)
        finally:
            self._runner_named = False

    def _pause_workflow_after(self, step: WorkflowStep) -> None:
        workflows = self._uow.workflows
        workflow = workflows.get(step.workflow_id)
        if workflow.status != _W.RUNNING:
            return
        following = self._first(
            [
                Eq(WORKFLOW_STEPS.workflow_id, step.workflow_id),
                Eq(WORKFLOW_STEPS.status, _St.PENDING),
                Since(WORKFLOW_STEPS.step_number, step.step_number),
            ],
            [Asc(WORKFLOW_STEPS.step_number)],
        )
        if pauses_after_step(
            workflow.pause_behavior, None if following is None else following.step_type
        ):
            workflow.status = _W.PAUSED
            workflows.update(workflow)

    def _stop_workflow_after(self, step: WorkflowStep) -> None:
        workflows = self._uow.workflows
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
        fixed("workflow_step", step, stored, (WORKFLOW_STEPS.workflow_id,))
        was = None if stored is None else StepStatus(stored[WORKFLOW_STEPS.status])
        if (
            stored is None
            or was != step.status
            or stored[WORKFLOW_STEPS.step_number] != step.step_number
        ):
            # The workflow's counters are recounted after the write: in turns per workflow.
            self._store.serialize(table_of(Workflow), step.workflow_id)
        if step.status != (_St.PENDING if was is None else was):
            self._refuse_ended_workflow(step, was)
        self._check_runner(step, stored, was)
        if self._uow.settings.value_or_default(INCLUDE_CLI_OUTPUT) is not True:
            # Not recorded while the setting is off (what was kept before stays).
            step.cli_output = None if stored is None else stored[WORKFLOW_STEPS.cli_output]
            step.cli_exit_code = None if stored is None else stored[WORKFLOW_STEPS.cli_exit_code]
        if (
            stored is not None
            and stored[WORKFLOW_STEPS.output_edited_at] is not None
            and step.original_output_text != stored[WORKFLOW_STEPS.original_output_text]
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
                step.duration_ms = milliseconds(step.started_at, now)
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
        status = WorkflowStatus(workflow[WORKFLOWS.status])
        if status not in ENDED_WORKFLOW_STATUSES:
            return
        after = "retry the workflow to reopen them" if status is _W.FAILED else "it is final"
        raise InvalidTransition(
            "workflow_step",
            "status",
            (was or _St.PENDING).value,
            step.status.value,
            reason=f"its workflow {workflow[WORKFLOWS.id]!r} is {status.value}, and the steps of a "
            f"completed, failed or cancelled workflow do not move ({after})",
        )

    def _check_runner(self, step: WorkflowStep, stored: Row | None, was: StepStatus | None) -> None:
        """Each run names its own runner; once the step has left running, the runner stays
        as the record of who ran the last run."""
        runner = (step.runner_agent_id, step.runner_pid)
        before = (
            (None, None)
            if stored is None
            else (stored[WORKFLOW_STEPS.runner_agent_id], stored[WORKFLOW_STEPS.runner_pid])
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
            if agent is not None and agent[AGENTS.status] in _GONE_AGENT_STATUSES:
                raise InvalidValue(
                    "workflow_step",
                    "runner_agent_id",
                    step.runner_agent_id,
                    f"names an agent that is {agent[AGENTS.status]}: a stopped or crashed agent "
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
        rows = self._store.select(self._table, [Eq(WORKFLOW_STEPS.workflow_id, workflow_id)])
        total = len(rows)
        current = max(
            (
                row[WORKFLOW_STEPS.step_number]
                for row in rows
                if row[WORKFLOW_STEPS.status] != _St.PENDING
            ),
            default=0,
        )
        stamps = {name: self._store.clock.now() for name in Workflow.stamped_on_update}
        self._store.update(
            table_of(Workflow),
            [Eq(WORKFLOWS.id, workflow_id)],
            {WORKFLOWS.total_steps: total, WORKFLOWS.current_step_number: current, **stamps},
        )
