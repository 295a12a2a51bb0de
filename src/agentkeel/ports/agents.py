"""Ports of the agents context."""

from __future__ import annotations

import builtins
from typing import Protocol

from agentkeel.domain.agents import (
    Account,
    Agent,
    AgentLogChunk,
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    Conversation,
    InteractionSession,
    Message,
    Metric,
    ProfileType,
)
from agentkeel.ports.base import EntityRepository


class AgentProfiles(EntityRepository[AgentProfile], Protocol):
    """Agent profiles (CO `agents`): global ones (`project_id` null) and a project's own,
    which go with their project. Names are unique across all profiles (AlreadyExists).

    Rules that hold on every path (`add`, `update`, `delete` and the methods below):
    - `version` counts edits of the profile's definition: an `update` that changes its name,
      display name, type, description, system prompt, colour or project adds one, and so
      does every add, change or delete of one of its tools or skills (in SQL, one
      statement). Deactivating, reactivating and the `parent_profile_id` link are not edits.
      `version` itself is the repository's: an `update` that changes it is InvalidValue.
    - A built-in profile (`built_in_at` set) is global (InvalidValue on `project_id`
      otherwise) and read-only: only `deactivated_at` may change (Protected: customize it),
      its tools and skills cannot change (Protected), and it cannot be deleted (Protected:
      deactivate it). `built_in_at` is set only when a profile is added (InvalidValue).
    - Deleting a profile deletes its tools and skills, and clears `parent_profile_id` on
      the copies made from it.
    """

    def list(
        self,
        *,
        project_id: str | None = None,
        include_global: bool = True,
        type: ProfileType | None = None,
        include_deactivated: bool = False,
    ) -> builtins.list[AgentProfile]:
        """Profiles by name (code point order). Without `project_id`: the global profiles.
        With it: the global ones and that project's own, or only the project's own when
        `include_global` is False (InvalidValue without a `project_id`). Optionally of one
        `type`; deactivated ones only when `include_deactivated`."""
        ...

    def find_by_name(self, name: str) -> AgentProfile | None:
        """The profile with this name (names are unique across projects), or None."""
        ...

    def deactivate(self, key: str) -> AgentProfile:
        """Hide the profile from listings (`deactivated_at`, kept if already set); this is
        how a built-in profile is retired. Not an edit: `version` stays. Raises NotFound."""
        ...

    def reactivate(self, key: str) -> AgentProfile:
        """Clear `deactivated_at`. Raises NotFound."""
        ...

    def customize(
        self, key: str, *, project_id: str | None = None, name: str | None = None
    ) -> AgentProfile:
        """An active, custom copy of the profile (built in or not) with copies of its tools
        and skills, all in one step: `parent_profile_id` names the source, `version` is 1,
        `built_in_at` and `deactivated_at` are null. The copy belongs to `project_id` (None:
        global). Its name is `name`, or else the first free one of `<source name>-custom`,
        `<source name>-custom-2`, `-custom-3`, ... (the source name cut short so that the
        whole fits 200 characters).

        Raises NotFound; AlreadyExists when the name is taken (a caller's name, or a chosen
        one that a concurrent unit of work took first: never two profiles of one name);
        ReferenceMissing (no such project); InvalidValue. On error nothing is written.
        """
        ...


class AgentProfileTools(EntityRepository[AgentProfileTool], Protocol):
    """The tools of agent profiles: unique per (profile, `tool_name`, `tool_pattern`),
    `tool_pattern` `*` by default; an entry is allowed while `disallowed_at` is null.
    `tool_name` is free text (`Read`, `Bash`, `mcp__github__create_issue`, ...). A write of
    a tool counts as an edit of its profile (`version` + 1); the tools of a built-in profile
    cannot change (Protected). `add` raises AlreadyExists and ReferenceMissing too."""

    def list(
        self, *, profile_id: str, disallowed: bool | None = None
    ) -> builtins.list[AgentProfileTool]:
        """The profile's tools by `order_index`, then tool name, then pattern; only the
        disallowed (True) or allowed (False) ones if asked."""
        ...

    def allow(self, key: str) -> AgentProfileTool:
        """Clear `disallowed_at`. Raises NotFound, Protected (a built-in's tool)."""
        ...

    def disallow(self, key: str) -> AgentProfileTool:
        """Set `disallowed_at` (kept if already set). Raises NotFound, Protected."""
        ...

    def effective(self, profile_id: str) -> builtins.list[AgentProfileTool]:
        """What the profile's agent may use, in `list` order, read in one query: its allowed
        entries, less every entry of a tool that has a disallowed entry with pattern `*`
        (a denied `Bash` / `*` removes `Bash` / `pnpm lint` too). A disallowed entry with a
        narrower pattern removes no allowed entry (there cannot be an allowed one with the
        same tool and pattern): it narrows what a wider allowed pattern grants and is passed
        on to the agent as a denial (`list(profile_id=..., disallowed=True)`)."""
        ...


class AgentProfileSkills(EntityRepository[AgentProfileSkill], Protocol):
    """The skills of agent profiles: unique per (profile, `skill_name`); required while
    `required_at` is set. A write of a skill counts as an edit of its profile (`version` +
    1); the skills of a built-in profile cannot change (Protected). `add` raises
    AlreadyExists and ReferenceMissing too."""

    def list(
        self, *, profile_id: str, required: bool | None = None
    ) -> builtins.list[AgentProfileSkill]:
        """The profile's skills by `order_index`, then name; only the required (True) or
        optional (False) ones if asked."""
        ...

    def require(self, key: str) -> AgentProfileSkill:
        """Set `required_at` (kept if already set). Raises NotFound, Protected."""
        ...

    def make_optional(self, key: str) -> AgentProfileSkill:
        """Clear `required_at`. Raises NotFound, Protected."""
        ...


class Agents(EntityRepository[Agent], Protocol):
    """Running agents, known by a unique alias."""


class Accounts(EntityRepository[Account], Protocol):
    """Provider accounts agents run under."""


class AgentLogChunks(EntityRepository[AgentLogChunk], Protocol):
    """Agents' output, in chunks that outlive their agent."""


class Conversations(EntityRepository[Conversation], Protocol):
    """Questions between agents."""


class Messages(EntityRepository[Message], Protocol):
    """Threaded messages between agents and the user."""


class Metrics(EntityRepository[Metric], Protocol):
    """Measurements of a project."""


class InteractionSessions(EntityRepository[InteractionSession], Protocol):
    """Interview, planning and execution sessions of a project."""
