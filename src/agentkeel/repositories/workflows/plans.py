"""Implementation plans, their steps and the files of each step: frozen once approved."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from agentkeel.domain.audit import EventCategory
from agentkeel.domain.errors import (
    InvalidValue,
    NotFound,
    Protected,
    ReferenceMissing,
)
from agentkeel.domain.workflows import (
    ImplementationPlan,
    ImplementationPlanStep,
    ImplementationPlanStepFile,
    Workflow,
    WorkflowStatus,
    WorkflowType,
)
from agentkeel.ports.store import (
    Asc,
    Eq,
    In,
    Max,
    Ne,
    Row,
    RowStore,
    Since,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema import table_of
from agentkeel.schema.columns import (
    IMPLEMENTATION_PLAN_STEP_FILES,
    IMPLEMENTATION_PLAN_STEPS,
    IMPLEMENTATION_PLANS,
    WORKFLOWS,
)


def _plan_row(store: RowStore, plan_id: str, *, for_update: bool) -> Row | None:
    return store.get(table_of(ImplementationPlan), plan_id, for_update=for_update)


def _stepless(plan: ImplementationPlan) -> InvalidValue:
    """A plan without steps given `approved_at` (a new plan has none yet)."""
    problem = "cannot be set while the plan has no steps: add its steps first"
    return InvalidValue("implementation_plan", "approved_at", plan.approved_at, problem)


def _refuse_approved(plan: Row) -> None:
    if plan[IMPLEMENTATION_PLANS.approved_at] is not None:
        raise Protected(
            "implementation_plan",
            plan[IMPLEMENTATION_PLANS.id],
            "is approved: it and its steps no longer change",
        )


class ImplementationPlansTable(TableRepository[ImplementationPlan]):
    entity = ImplementationPlan

    def find_by_workflow(self, workflow_id: str) -> ImplementationPlan | None:
        return self._first([Eq(IMPLEMENTATION_PLANS.workflow_id, workflow_id)])

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
                Eq(WORKFLOWS.parent_workflow_id, plan.workflow_id),
                Eq(WORKFLOWS.type, WorkflowType.IMPLEMENTATION.value),
                Ne(WORKFLOWS.status, WorkflowStatus.CANCELLED.value),
            ],
            limit=1,
        )
        if started:
            # Also the answer to the second of two racing units of work, once the first
            # committed: retrying gets the same, so it is no Conflict.
            raise Protected(
                self._label,
                key,
                f"is being implemented already (workflow {started[0][IMPLEMENTATION_PLANS.id]!r}); "
                "cancel that workflow to start again",
            )
        return plan

    def _before_write(self, plan: ImplementationPlan, stored: Row | None) -> None:
        if stored is None:
            workflow = self._store.get(table_of(Workflow), plan.workflow_id)
            if workflow is not None and workflow[WORKFLOWS.type] != WorkflowType.PLANNING.value:
                raise InvalidValue(
                    self._label,
                    "workflow_id",
                    plan.workflow_id,
                    "is an implementation workflow: plans belong to planning workflows",
                )
            if plan.approved_at is not None:
                raise _stepless(plan)
            return
        if plan.workflow_id != stored[IMPLEMENTATION_PLANS.workflow_id]:
            raise InvalidValue(
                self._label,
                "workflow_id",
                plan.workflow_id,
                "cannot change: a plan stays with its workflow",
            )
        changed = set(plan.changed_columns()) - {"updated_at", "row_version"}
        if changed and stored[IMPLEMENTATION_PLANS.approved_at] is not None:
            _refuse_approved(stored)
        if plan.approved_at is not None and stored[IMPLEMENTATION_PLANS.approved_at] is None:
            # Held until the transaction ends: no step goes while the plan is approved.
            self._store.get(self._table, plan.id, for_update=True)
            steps = self._store.count(
                table_of(ImplementationPlanStep), [Eq(IMPLEMENTATION_PLAN_STEPS.plan_id, plan.id)]
            )
            if not steps:
                raise _stepless(plan)

    def _after_write(self, plan: ImplementationPlan, stored: Row | None) -> None:
        if (
            stored is not None
            and stored[IMPLEMENTATION_PLANS.approved_at] is None
            and plan.is_approved
        ):
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
            count = self._store.count(
                self._table, [Eq(IMPLEMENTATION_PLAN_STEPS.plan_id, step.plan_id)]
            )
            if not 1 <= step.step_number <= count + 1:
                raise InvalidValue(
                    self._label,
                    "step_number",
                    step.step_number,
                    f"must be between 1 and {count + 1} (the plan has {count} steps)",
                )
            self._shift(plan[IMPLEMENTATION_PLAN_STEPS.id], step.step_number, 1)
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
            step.step_number = (
                self._store.count(
                    self._table, [Eq(IMPLEMENTATION_PLAN_STEPS.plan_id, step.plan_id)]
                )
                + 1
            )
            return self.add(step)

    def delete(self, key: str) -> dict[str, int]:
        key = self._key(key)
        with self._store.atomic():
            row = self._store.get(self._table, key)
            if row is None:
                raise NotFound(self._label, key)
            self._writable_plan(row[IMPLEMENTATION_PLAN_STEPS.plan_id], "plan_id")
            removed = super().delete(key)
            self._shift(
                row[IMPLEMENTATION_PLAN_STEPS.plan_id],
                row[IMPLEMENTATION_PLAN_STEPS.step_number] + 1,
                -1,
            )
        return removed

    # -- moving ----------------------------------------------------------------------------

    def find_by_plan(self, plan_id: str) -> builtins.list[ImplementationPlanStep]:
        return self._select(
            [Eq(IMPLEMENTATION_PLAN_STEPS.plan_id, plan_id)],
            [Asc(IMPLEMENTATION_PLAN_STEPS.step_number)],
        )

    def move(self, key: str, step_number: int) -> ImplementationPlanStep:
        key = self._key(key)
        with self._store.atomic():
            row = self._store.get(self._table, key)
            if row is None:
                raise NotFound(self._label, key)
            self._writable_plan(row[IMPLEMENTATION_PLAN_STEPS.plan_id], "plan_id")
            order = [step.id for step in self.find_by_plan(row[IMPLEMENTATION_PLAN_STEPS.plan_id])]
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
            self._renumber(row[IMPLEMENTATION_PLAN_STEPS.plan_id], order)
        return self.get(key)

    def reorder(
        self, plan_id: str, ordered_step_ids: Sequence[str]
    ) -> builtins.list[ImplementationPlanStep]:
        plan_key = self.entity.query_value("plan_id", plan_id)
        with self._store.atomic():
            plan = _plan_row(self._store, plan_key, for_update=True) if plan_key else None
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
            self._table,
            [Max(IMPLEMENTATION_PLAN_STEPS.step_number)],
            [Eq(IMPLEMENTATION_PLAN_STEPS.plan_id, plan_id)],
        )
        if top is None or top < start:
            return
        past = top + 1
        where: list[Where] = [
            Eq(IMPLEMENTATION_PLAN_STEPS.plan_id, plan_id),
            Since(IMPLEMENTATION_PLAN_STEPS.step_number, start),
        ]
        self._store.update(self._table, where, {}, {IMPLEMENTATION_PLAN_STEPS.step_number: past})
        self._store.update(
            self._table,
            [
                Eq(IMPLEMENTATION_PLAN_STEPS.plan_id, plan_id),
                Since(IMPLEMENTATION_PLAN_STEPS.step_number, start + past),
            ],
            self._stamps(),
            {
                IMPLEMENTATION_PLAN_STEPS.step_number: by - past,
                IMPLEMENTATION_PLAN_STEPS.order_index: by,
                self._version_column(): 1,
            },
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
        before = {
            step.id: step
            for step in self._select([In(IMPLEMENTATION_PLAN_STEPS.id, frozenset(moving))])
        }
        past = max(numbers.values()) + 1
        self._store.update(
            self._table,
            [In(IMPLEMENTATION_PLAN_STEPS.id, frozenset(moving))],
            {},
            {IMPLEMENTATION_PLAN_STEPS.step_number: past},
        )
        for step_id, position in moving.items():
            row = self._store.update_one(
                self._table,
                [Eq(IMPLEMENTATION_PLAN_STEPS.id, step_id)],
                {
                    IMPLEMENTATION_PLAN_STEPS.step_number: position,
                    IMPLEMENTATION_PLAN_STEPS.order_index: position - 1,
                    **self._stamps(),
                },
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
        plan = _plan_row(self._store, step.plan_id, for_update=False)
        self._audit(
            step.id,
            f"{self._label}.deleted",
            EventCategory.USER_ACTION,
            f"Deleted step {step.step_number}: {step.title}",
            event_data={"removed": dict(removed)},
            before_state=step.audit_state(),
            workflow_id=None if plan is None else plan[IMPLEMENTATION_PLANS.workflow_id],
        )

    def _audit_step(
        self,
        step: ImplementationPlanStep,
        what: str,
        message: str,
        before: ImplementationPlanStep | None,
    ) -> None:
        plan = _plan_row(self._store, step.plan_id, for_update=False)
        self._audit(
            step.id,
            f"{self._label}.{what}",
            EventCategory.USER_ACTION,
            message,
            before_state=None if before is None else before.audit_state(),
            after_state=step.audit_state(),
            workflow_id=None if plan is None else plan[IMPLEMENTATION_PLANS.workflow_id],
        )

    def _writable_plan(self, plan_id: str, field: str) -> Row:
        """The step's plan, held until the transaction ends (writers of one plan take
        turns); refused if it is missing or approved."""
        plan = _plan_row(self._store, plan_id, for_update=True)
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
            [Eq(IMPLEMENTATION_PLAN_STEP_FILES.plan_step_id, plan_step_id)],
            [
                Asc(IMPLEMENTATION_PLAN_STEP_FILES.order_index),
                Asc(IMPLEMENTATION_PLAN_STEP_FILES.file_path),
            ],
        )

    def _before_write(self, file: ImplementationPlanStepFile, stored: Row | None) -> None:
        if (
            stored is not None
            and file.plan_step_id != stored[IMPLEMENTATION_PLAN_STEP_FILES.plan_step_id]
        ):
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
        plan = _plan_row(self._store, step[IMPLEMENTATION_PLAN_STEPS.plan_id], for_update=True)
        if plan is not None:
            _refuse_approved(plan)
