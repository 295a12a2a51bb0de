"""Implementation plans (Claude Orchestrator): what a planning workflow proposes to build,
step by step, with the files each step touches."""

from __future__ import annotations

from typing import ClassVar

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.fields import (
    Count,
    Description,
    FilePath,
    Id,
    Integer,
    LongText,
    Name,
    UtcDateTime,
)
from agentkeel.domain.workflows.steps import FileAction
from agentkeel.domain.workflows.workflows import Milliseconds


class ImplementationPlan(Timestamped):
    """The plan of a planning workflow (one per workflow); `approved_at` null = pending."""

    workflow_id: Id
    title: Name
    summary: Description | None = None
    raw_plan_text: LongText
    estimated_duration_ms: Milliseconds | None = None
    approved_at: UtcDateTime | None = None

    is_approved: ClassVar[Flag] = Flag("approved_at")


class ImplementationPlanStep(Timestamped):
    """A step of a plan, numbered densely (1..n) and uniquely within it, `order_index` =
    `step_number` - 1, run by an agent profile (`agent_id`, or `agent_override_id` when the
    user chose another). A step with `quality_gate_at` set is a quality gate, with
    `gemini_review_at` set a review (not both); otherwise it implements."""

    plan_id: Id
    agent_id: Id | None = None
    agent_override_id: Id | None = None
    step_number: Count
    title: Name
    description: Description | None = None
    estimated_duration_ms: Milliseconds | None = None
    order_index: Integer = 0
    quality_gate_at: UtcDateTime | None = None
    gemini_review_at: UtcDateTime | None = None

    has_quality_gate: ClassVar[Flag] = Flag("quality_gate_at")
    has_gemini_review: ClassVar[Flag] = Flag("gemini_review_at")

    @property
    def assigned_agent_id(self) -> str | None:
        """The agent profile that runs the step: the user's override, else the planned one."""
        return self.agent_override_id or self.agent_id


class ImplementationPlanStepFile(Timestamped):
    """A file a plan step creates, modifies or deletes."""

    plan_step_id: Id
    file_path: FilePath
    action: FileAction = FileAction.MODIFY
    description: Description | None = None
    order_index: Integer = 0
