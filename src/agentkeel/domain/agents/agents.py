"""Running agents (Codewalkers' and Nexus' `agents`): one AI coding-agent process each."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, Strict

from agentkeel.domain.agents import names
from agentkeel.domain.clock import utc_now
from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.fields import (
    BranchName,
    Count,
    Description,
    FilePath,
    Id,
    Integer,
    IntRule,
    Json,
    Label,
    LongText,
    Name,
    TextRule,
    UtcDateTime,
)

# A CLI session id, kept to resume the session (CW `sessionId`).
SessionId = Annotated[str, Strict(), TextRule(200, blank=False, max_bytes=800)]
SessionNumber = Annotated[int, Strict(), IntRule(minimum=1)]


class AgentStatus(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    WAITING_FOR_INPUT = "waiting_for_input"
    STOPPED = "stopped"
    CRASHED = "crashed"


class AgentMode(StrEnum):
    EXECUTE = "execute"
    DISCUSS = "discuss"
    PLAN = "plan"
    DETAIL = "detail"
    REFINE = "refine"


class AgentType(StrEnum):
    """Nexus' agent roles."""

    PLANNER = "planner"
    CODER = "coder"
    TESTER = "tester"
    REVIEWER = "reviewer"
    MERGER = "merger"


_S = AgentStatus


class Agent(Timestamped):
    """A running agent instance, known by a unique adjective-animal alias (`name`).

    Status: idle -> running; running -> waiting_for_input | idle | stopped | crashed;
    waiting_for_input -> running | stopped | crashed; stopped | crashed -> running is a
    resume, which starts log session `session_number` + 1.

    Without a `name`, an alias is generated (`names.new_alias`); the repository makes it
    unique.
    """

    # Stamped by the repository with the store's clock: `spawned_at` once, on insert;
    # `last_activity_at` on insert and on every write that changes the agent (counters too).
    stamped_on_insert = ("created_at", "updated_at", "spawned_at", "last_activity_at")
    stamped_on_update = ("updated_at", "last_activity_at")

    transitions = {
        "status": {
            _S.IDLE: frozenset({_S.RUNNING}),
            _S.RUNNING: frozenset({_S.WAITING_FOR_INPUT, _S.IDLE, _S.STOPPED, _S.CRASHED}),
            _S.WAITING_FOR_INPUT: frozenset({_S.RUNNING, _S.STOPPED, _S.CRASHED}),
            _S.STOPPED: frozenset({_S.RUNNING}),
            _S.CRASHED: frozenset({_S.RUNNING}),
        }
    }

    # Generated when the caller gives none (`"name" not in model_fields_set` tells which).
    name: Name = Field(default_factory=lambda: names.new_alias())
    profile_id: Id | None = None
    account_id: Id | None = None
    session_id: SessionId | None = None
    session_number: SessionNumber = 1
    worktree_path: FilePath | None = None
    branch_name: BranchName | None = None
    provider: Label = "claude"
    status: AgentStatus = AgentStatus.IDLE
    mode: AgentMode = AgentMode.EXECUTE
    type: AgentType | None = None
    prompt: LongText | None = None
    pid: Integer | None = None
    exit_code: Integer | None = None
    output_file_path: FilePath | None = None
    result: Json | None = None
    pending_questions: Json | None = None
    user_dismissed_at: UtcDateTime | None = None
    tokens_used: Count = 0
    tasks_completed: Count = 0
    tasks_failed: Count = 0
    spawned_at: UtcDateTime = Field(default_factory=utc_now)
    last_activity_at: UtcDateTime = Field(default_factory=utc_now)
    terminated_at: UtcDateTime | None = None
    termination_reason: Description | None = None
    # The task it works on (CW `taskId`, NX `current_task_id`) and its initiative.
    task_id: Id | None = None
    initiative_id: Id | None = None

    is_dismissed: ClassVar[Flag] = Flag("user_dismissed_at")

    @property
    def is_terminated(self) -> bool:
        return self.status in (AgentStatus.STOPPED, AgentStatus.CRASHED)
