"""Agent profiles (Claude Orchestrator's `agents`): what an agent is told and may use.

CO's "agents" are definitions (a system prompt, tools, skills); here "agents" are running
processes, so the definitions are profiles. A profile is global (`project_id` null) or a
project's own. Built-in profiles are deactivated, never deleted.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Strict

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.fields import (
    Description,
    Id,
    Integer,
    IntRule,
    Label,
    LongText,
    Name,
    TextRule,
    UtcDateTime,
)

Version = Annotated[int, Strict(), IntRule(minimum=1)]
# A tool's pattern, e.g. `*` or `pnpm lint` (CO: "tool_pattern"); indexed with the tool name.
ToolPattern = Annotated[str, Strict(), TextRule(500, blank=False)]
# The pattern of an entry that covers every use of its tool.
ANY = "*"


class ProfileType(StrEnum):
    PLANNING = "planning"
    SPECIALIST = "specialist"
    REVIEW = "review"


class ProfileColor(StrEnum):
    GREEN = "green"
    BLUE = "blue"
    YELLOW = "yellow"
    CYAN = "cyan"
    RED = "red"


class AgentProfile(Timestamped):
    """A profile an agent runs with: system prompt, type, colour, tools and skills.

    `version` counts content edits (CO); `row_version` counts every write. A copy made to
    customize a built-in profile points back at it through `parent_profile_id`.
    """

    project_id: Id | None = None
    parent_profile_id: Id | None = None
    name: Name
    display_name: Name
    type: ProfileType
    description: Description | None = None
    system_prompt: LongText
    color: ProfileColor | None = None
    version: Version = 1
    built_in_at: UtcDateTime | None = None
    deactivated_at: UtcDateTime | None = None

    is_built_in: ClassVar[Flag] = Flag("built_in_at")
    is_deactivated: ClassVar[Flag] = Flag("deactivated_at")

    def deactivate(self, at: datetime) -> None:
        self._raise_flag("deactivated_at", at)

    def reactivate(self) -> None:
        self._lower_flag("deactivated_at")


class AgentProfileTool(Timestamped):
    """A tool a profile may use (`Read`, `Bash`, an MCP tool...), optionally narrowed by a
    pattern (`Bash` + `pnpm lint`); `disallowed_at` set means explicitly forbidden."""

    profile_id: Id
    tool_name: Label
    tool_pattern: ToolPattern = ANY
    order_index: Integer = 0
    disallowed_at: UtcDateTime | None = None

    is_disallowed: ClassVar[Flag] = Flag("disallowed_at")


class AgentProfileSkill(Timestamped):
    """A skill a profile loads; `required_at` set means the skill is required."""

    profile_id: Id
    skill_name: Label
    order_index: Integer = 0
    required_at: UtcDateTime | None = None

    is_required: ClassVar[Flag] = Flag("required_at")
