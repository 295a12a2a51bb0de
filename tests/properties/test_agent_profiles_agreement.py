"""The in-memory fakes and the databases agree on agent profiles, step by step.

A hypothesis state machine drives every backend with the same random operations on
projects, agent profiles (global, a project's own, built in), their tools and skills —
generic adds, updates and deletes included, customizing, deactivating, project deletes with
their cascades and the SET NULL of `parent_profile_id` — each in its own unit of work, and
asserts after each step that every backend returned the same result or raised the same
error, and that their whole contents are equal. Invariants check what must hold anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    consumes,
    invariant,
    rule,
)

from agentkeel.domain.agents import (
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    ProfileType,
)
from agentkeel.domain.entity import Entity
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from tests.properties.harness import (
    AgreementMachine,
    check_agreement,
    on_every_backend,
)

E = TypeVar("E", bound=Entity)
FLAGGED = datetime(2025, 6, 1, tzinfo=UTC)

# Few values, so that clashes (names, tool and pattern pairs) happen often.
PROFILE_NAMES = st.sampled_from(["planner", "coder", "coder-custom", "x" * 200, " odd ", ""])
# Mostly valid, now and then not; mostly false, now and then set.
RARELY = st.sampled_from([False, False, False, True])
TYPES = st.sampled_from(["planning", "specialist", "review", "boss"])
COLORS = st.sampled_from([None, "red", "cyan", "pink"])
TOOLS = st.sampled_from(["Read", "Bash", "Bash", "mcp__github__issue", "Edit", ""])
PATTERNS = st.sampled_from(["*", "*", "pnpm lint", "git *", "git *", ""])
SKILLS = st.sampled_from(["tdd", "docs", "api"])
ORDERS = st.sampled_from([0, 1, -1, 2**63 - 1])


class AgentProfilesAgreement(AgreementMachine):
    projects = Bundle("projects")
    profiles = Bundle("profiles")
    tools = Bundle("tools")
    skills = Bundle("skills")

    # -- running one operation everywhere ---------------------------------------------------

    # -- projects ---------------------------------------------------------------------------

    @rule(target=projects, name=st.sampled_from(["Keel", "Other"]))
    def create_project(self, name: str) -> Any:
        return self.created(lambda: Project(name=name), lambda uow, p: uow.projects.add(p))

    @rule(project=projects, now=RARELY)
    def delete_project(self, project: str, now: bool) -> None:
        # Rarely: a project's delete takes its profiles, and the steps on them with it.
        if now:
            self.run(lambda uow: uow.projects.delete(project))

    # -- profiles ---------------------------------------------------------------------------

    @rule(
        target=profiles,
        project=st.one_of(st.none(), projects),
        name=PROFILE_NAMES,
        type=TYPES,
        color=COLORS,
        built_in=RARELY,
    )
    def create_profile(
        self, project: str | None, name: str, type: str, color: str | None, built_in: bool
    ) -> Any:
        return self.created(
            lambda: AgentProfile(
                project_id=project,
                name=name,
                display_name="Profile",
                type=type,  # type: ignore[arg-type]
                color=color,  # type: ignore[arg-type]
                system_prompt="You help.",
                built_in_at=FLAGGED if built_in else None,
            ),
            lambda uow, profile: uow.agent_profiles.add(profile),
        )

    @rule(
        profile=profiles,
        name=st.one_of(st.none(), PROFILE_NAMES),
        prompt=st.sampled_from([None, "Changed.", "\x00"]),
        project=st.one_of(st.none(), projects),
        move=RARELY,
        version=st.sampled_from([None, None, None, 5]),
        built_in=st.sampled_from([None, None, None, None, True, False]),
        deactivated=st.sampled_from([None, True, False]),
    )
    def update_profile_directly(
        self,
        profile: str,
        name: str | None,
        prompt: str | None,
        project: str | None,
        move: bool,
        version: int | None,
        built_in: bool | None,
        deactivated: bool | None,
    ) -> None:
        """The generic `update`, which must obey every rule the specific methods obey."""

        def update(uow: UnitOfWork) -> AgentProfile:
            found = uow.agent_profiles.get(profile)
            if name is not None:
                found.name = name
            if prompt is not None:
                found.system_prompt = prompt
            if move:
                found.project_id = project
            if version is not None:
                found.version = version
            if built_in is not None:
                found.built_in_at = FLAGGED if built_in else None
            if deactivated is not None:
                found.deactivated_at = FLAGGED if deactivated else None
            return uow.agent_profiles.update(found)

        self.run(update)

    @rule(profile=profiles)
    def deactivate_profile(self, profile: str) -> None:
        self.run(lambda uow: uow.agent_profiles.deactivate(profile))

    @rule(profile=profiles)
    def reactivate_profile(self, profile: str) -> None:
        self.run(lambda uow: uow.agent_profiles.reactivate(profile))

    @rule(
        target=profiles,
        profile=profiles,
        project=st.one_of(st.none(), projects),
        name=st.one_of(st.none(), PROFILE_NAMES),
    )
    def customize_profile(self, profile: str, project: str | None, name: str | None) -> Any:
        return self.made(
            lambda uow: uow.agent_profiles.customize(profile, project_id=project, name=name)
        )

    @rule(profile=consumes(profiles))
    def delete_profile(self, profile: str) -> None:
        self.run(lambda uow: uow.agent_profiles.delete(profile))

    @rule(
        project=st.one_of(st.none(), projects),
        include_global=st.sampled_from([True, True, False]),
        type=st.sampled_from([None, "planning", "specialist", "review"]),
        include_deactivated=st.booleans(),
    )
    def list_profiles(
        self, project: str | None, include_global: bool, type: str | None, include_deactivated: bool
    ) -> None:
        self.run(
            lambda uow: uow.agent_profiles.list(
                project_id=project,
                include_global=include_global,
                type=ProfileType(type) if type else None,
                include_deactivated=include_deactivated,
            )
        )

    # -- tools ------------------------------------------------------------------------------

    @rule(
        target=tools,
        profile=profiles,
        name=TOOLS,
        pattern=PATTERNS,
        order=ORDERS,
        disallowed=st.booleans(),
    )
    def add_tool(self, profile: str, name: str, pattern: str, order: int, disallowed: bool) -> Any:
        return self.created(
            lambda: AgentProfileTool(
                profile_id=profile,
                tool_name=name,
                tool_pattern=pattern,
                order_index=order,
                disallowed_at=FLAGGED if disallowed else None,
            ),
            lambda uow, tool: uow.agent_profile_tools.add(tool),
        )

    @rule(tool=tools, allow=st.booleans())
    def allow_or_disallow_tool(self, tool: str, allow: bool) -> None:
        if allow:
            self.run(lambda uow: uow.agent_profile_tools.allow(tool))
        else:
            self.run(lambda uow: uow.agent_profile_tools.disallow(tool))

    @rule(tool=tools, profile=profiles, pattern=st.one_of(st.none(), PATTERNS))
    def move_tool(self, tool: str, profile: str, pattern: str | None) -> None:
        def move(uow: UnitOfWork) -> AgentProfileTool:
            found = uow.agent_profile_tools.get(tool)
            found.profile_id = profile
            if pattern is not None:
                found.tool_pattern = pattern
            return uow.agent_profile_tools.update(found)

        self.run(move)

    @rule(tool=tools)
    def delete_tool(self, tool: str) -> None:
        self.run(lambda uow: uow.agent_profile_tools.delete(tool))

    @rule(profile=profiles)
    def list_tools(self, profile: str) -> None:
        self.run(
            lambda uow: (
                uow.agent_profile_tools.list(profile_id=profile),
                uow.agent_profile_tools.effective(profile),
            )
        )

    # -- skills -----------------------------------------------------------------------------

    @rule(target=skills, profile=profiles, name=SKILLS, order=ORDERS, required=st.booleans())
    def add_skill(self, profile: str, name: str, order: int, required: bool) -> Any:
        return self.created(
            lambda: AgentProfileSkill(
                profile_id=profile,
                skill_name=name,
                order_index=order,
                required_at=FLAGGED if required else None,
            ),
            lambda uow, skill: uow.agent_profile_skills.add(skill),
        )

    @rule(skill=skills, required=st.booleans())
    def require_skill(self, skill: str, required: bool) -> None:
        if required:
            self.run(lambda uow: uow.agent_profile_skills.require(skill))
        else:
            self.run(lambda uow: uow.agent_profile_skills.make_optional(skill))

    @rule(skill=skills)
    def delete_skill(self, skill: str) -> None:
        self.run(lambda uow: uow.agent_profile_skills.delete(skill))

    @rule(profile=profiles, required=st.sampled_from([None, True, False]))
    def list_skills(self, profile: str, required: bool | None) -> None:
        self.run(lambda uow: uow.agent_profile_skills.list(profile_id=profile, required=required))

    # -- what must always hold --------------------------------------------------------------

    @invariant()
    def contents_agree_and_hold_together(self) -> None:
        contents = self.agreed_contents()
        projects = {row["id"] for row in contents["projects"]}
        profiles = {row["id"]: row for row in contents["agent_profiles"]}
        for profile in profiles.values():
            assert profile["project_id"] is None or profile["project_id"] in projects
            assert profile["parent_profile_id"] is None or profile["parent_profile_id"] in profiles
            if profile["built_in_at"] is not None:
                assert profile["project_id"] is None, "a built-in profile in a project"
        names = [row["name"] for row in profiles.values()]
        assert len(names) == len(set(names)), "two profiles of one name"
        for part in ("agent_profile_tools", "agent_profile_skills"):
            assert {row["profile_id"] for row in contents[part]} <= set(profiles)
        keys = [
            (t["profile_id"], t["tool_name"], t["tool_pattern"])
            for t in contents["agent_profile_tools"]
        ]
        assert len(keys) == len(set(keys))


@on_every_backend
def test_memory_and_databases_agree_on_agent_profiles(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    check_agreement(AgentProfilesAgreement, sqlite_template, request)
