"""The tools and skills of agent profiles: order, uniqueness, flags, effective tools, and
their writes counted as edits of the profile."""

from __future__ import annotations

import re

import pytest

from agentkeel.domain.agents import AgentProfileSkill, AgentProfileTool
from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidValue,
    NotFound,
    Protected,
    ReferenceMissing,
)
from agentkeel.domain.fields import INT64_MAX
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


def test_tools_are_unique_per_profile_tool_and_pattern(uow: UnitOfWork) -> None:
    coder, other = factories.profile(uow, "coder"), factories.profile(uow, "other")
    bash = factories.tool(uow, coder, "Bash")
    assert bash.tool_pattern == "*" and bash.order_index == 0 and not bash.is_disallowed
    factories.tool(uow, coder, "Bash", tool_pattern="pnpm lint")
    factories.tool(uow, other, "Bash")
    with pytest.raises(AlreadyExists, match="agent_profile_tool already exists"):
        factories.tool(uow, coder, "Bash")
    assert uow.agent_profile_tools.count() == 3


def test_tools_come_by_order_then_name_then_pattern(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    write = factories.tool(uow, coder, "Write", order_index=1)
    lint = factories.tool(uow, coder, "Bash", tool_pattern="pnpm lint", order_index=1)
    bash = factories.tool(uow, coder, "Bash", order_index=1)
    read = factories.tool(uow, coder, "Read", order_index=0)
    factories.tool(uow, factories.profile(uow, "other"), "Read")
    tools = uow.agent_profile_tools.list(profile_id=coder.id)
    assert [t.id for t in tools] == [read.id, bash.id, lint.id, write.id]
    assert uow.agent_profile_tools.list(profile_id="nope") == []


def test_tool_names_are_free_text_for_mcp_tools(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    mcp = factories.tool(uow, coder, "mcp__github__create_issue")
    assert uow.agent_profile_tools.get(mcp.id).tool_name == "mcp__github__create_issue"
    with pytest.raises(InvalidValue, match=re.escape("agent_profile_tool.tool_name")):
        AgentProfileTool(profile_id=coder.id, tool_name="  ")
    with pytest.raises(InvalidValue, match=re.escape("agent_profile_tool.tool_pattern")):
        AgentProfileTool(profile_id=coder.id, tool_name="Bash", tool_pattern="")


def test_a_tool_of_a_missing_profile_is_reference_missing(uow: UnitOfWork) -> None:
    with pytest.raises(ReferenceMissing, match="refers to a missing agent_profile: 'nope'"):
        uow.agent_profile_tools.add(AgentProfileTool(profile_id="nope", tool_name="Read"))


def test_allow_and_disallow(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    bash = factories.tool(uow, coder, "Bash")
    read = factories.tool(uow, coder, "Read")
    denied = uow.agent_profile_tools.disallow(bash.id)
    assert denied.is_disallowed
    assert uow.agent_profile_tools.disallow(bash.id).disallowed_at == denied.disallowed_at
    assert uow.agent_profile_tools.list(profile_id=coder.id, disallowed=True) == [denied]
    assert uow.agent_profile_tools.list(profile_id=coder.id, disallowed=False) == [read]
    assert not uow.agent_profile_tools.allow(bash.id).is_disallowed
    with pytest.raises(InvalidValue, match="disallowed must be True, False or None"):
        uow.agent_profile_tools.list(profile_id=coder.id, disallowed=1)  # type: ignore[arg-type]
    for method in (uow.agent_profile_tools.allow, uow.agent_profile_tools.disallow):
        with pytest.raises(NotFound, match="agent_profile_tool not found: id='nope'"):
            method("nope")


def test_effective_tools_are_the_allowed_less_those_a_wildcard_denies(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    now = uow.clock.now()
    read = factories.tool(uow, coder, "Read")
    factories.tool(uow, coder, "Write", disallowed_at=now)  # denied, nothing allowed to remove
    factories.tool(uow, coder, "Bash", tool_pattern="pnpm lint")  # removed by Bash / *
    factories.tool(uow, coder, "Bash", tool_pattern="git status")  # removed by Bash / *
    factories.tool(uow, coder, "Bash", disallowed_at=now)
    edit = factories.tool(uow, coder, "Edit")  # kept: the denial below is narrower
    factories.tool(uow, coder, "Edit", tool_pattern="*.lock", disallowed_at=now)
    glob = factories.tool(uow, coder, "Glob", tool_pattern="src/**")
    assert uow.agent_profile_tools.effective(coder.id) == [edit, glob, read]
    assert uow.agent_profile_tools.effective("nope") == []


def test_moving_a_tool_counts_an_edit_of_both_profiles(uow: UnitOfWork) -> None:
    coder, other = factories.profile(uow, "coder"), factories.profile(uow, "other")
    read = factories.tool(uow, coder, "Read")
    read.profile_id = other.id
    uow.agent_profile_tools.update(read)
    assert uow.agent_profiles.get(coder.id).version == 3  # the add, then the move
    assert uow.agent_profiles.get(other.id).version == 2


def test_every_write_of_a_tool_or_skill_is_an_edit_of_its_profile(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")

    def version() -> int:
        return uow.agent_profiles.get(coder.id).version

    read = factories.tool(uow, coder, "Read")
    assert version() == 2
    uow.agent_profile_tools.disallow(read.id)
    uow.agent_profile_tools.allow(read.id)
    assert version() == 4
    uow.agent_profile_tools.allow(read.id)  # nothing changes: no edit
    assert version() == 4
    tdd = factories.skill(uow, coder, "tdd")
    uow.agent_profile_skills.require(tdd.id)
    uow.agent_profile_skills.make_optional(tdd.id)
    assert version() == 7
    uow.agent_profile_tools.delete(read.id)
    uow.agent_profile_skills.delete(tdd.id)
    assert version() == 9
    assert uow.agent_profiles.get(coder.id).row_version == 1  # counted in SQL


def test_a_write_whose_count_would_overflow_writes_nothing(uow: UnitOfWork) -> None:
    full = factories.profile(uow, "full", version=INT64_MAX)
    with pytest.raises(InvalidValue, match=r"agent_profile\.version must be between 1 and"):
        factories.tool(uow, full, "Read")
    with pytest.raises(InvalidValue, match=r"agent_profile\.version must be between 1 and"):
        factories.skill(uow, full, "tdd")
    full.description = "edited"
    with pytest.raises(InvalidValue, match=r"agent_profile\.version must be between 1 and"):
        uow.agent_profiles.update(full)
    assert uow.agent_profile_tools.count() == 0 and uow.agent_profile_skills.count() == 0
    assert uow.agent_profiles.get(full.id).description is None


def test_the_tools_and_skills_of_a_built_in_profile_cannot_change(uow: UnitOfWork) -> None:
    planner = factories.profile(uow, "planner", built_in_at=uow.clock.now())
    store = factories.store_of(uow)
    # Bundled profiles come with their tools: written below the ports, as a seed would.
    read = AgentProfileTool(profile_id=planner.id, tool_name="Read")
    store.insert(uow.agent_profile_tools._table, read.to_row())  # type: ignore[attr-defined]
    tdd = AgentProfileSkill(profile_id=planner.id, skill_name="tdd")
    store.insert(uow.agent_profile_skills._table, tdd.to_row())  # type: ignore[attr-defined]
    protected = "is built in: its tools cannot change"
    with pytest.raises(Protected, match=protected):
        factories.tool(uow, planner, "Bash")
    with pytest.raises(Protected, match=protected):
        uow.agent_profile_tools.disallow(read.id)
    with pytest.raises(Protected, match=protected):
        uow.agent_profile_tools.delete(read.id)
    coder = factories.profile(uow, "coder")
    moved = factories.tool(uow, coder, "Grep")
    moved.profile_id = planner.id
    with pytest.raises(Protected, match=protected):
        uow.agent_profile_tools.update(moved)
    with pytest.raises(Protected, match="is built in: its skills cannot change"):
        uow.agent_profile_skills.require(tdd.id)
    with pytest.raises(Protected, match="is built in: its skills cannot change"):
        uow.agent_profile_skills.delete(tdd.id)
    # An update that changes nothing is no change.
    assert uow.agent_profile_tools.update(uow.agent_profile_tools.get(read.id)).id == read.id
    assert uow.agent_profiles.get(planner.id).version == 1


def test_skills_are_unique_per_profile_and_ordered(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    tdd = factories.skill(uow, coder, "tdd", order_index=1)
    docs = factories.skill(uow, coder, "docs", order_index=1)
    api = factories.skill(uow, coder, "api", order_index=2)
    first = factories.skill(uow, coder, "zz", order_index=-1)
    factories.skill(uow, factories.profile(uow, "other"), "tdd")
    assert not tdd.is_required
    with pytest.raises(AlreadyExists, match="agent_profile_skill already exists"):
        factories.skill(uow, coder, "tdd")
    assert uow.agent_profile_skills.list(profile_id=coder.id) == [first, docs, tdd, api]
    with pytest.raises(ReferenceMissing, match="refers to a missing agent_profile: 'nope'"):
        uow.agent_profile_skills.add(AgentProfileSkill(profile_id="nope", skill_name="tdd"))


def test_require_and_make_optional(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    tdd = factories.skill(uow, coder, "tdd")
    docs = factories.skill(uow, coder, "docs")
    required = uow.agent_profile_skills.require(tdd.id)
    assert required.is_required
    assert uow.agent_profile_skills.require(tdd.id).required_at == required.required_at
    assert uow.agent_profile_skills.list(profile_id=coder.id, required=True) == [required]
    assert uow.agent_profile_skills.list(profile_id=coder.id, required=False) == [docs]
    assert not uow.agent_profile_skills.make_optional(tdd.id).is_required
    with pytest.raises(InvalidValue, match="required must be True, False or None"):
        uow.agent_profile_skills.list(profile_id=coder.id, required="yes")  # type: ignore[arg-type]
    for method in (uow.agent_profile_skills.require, uow.agent_profile_skills.make_optional):
        with pytest.raises(NotFound, match="agent_profile_skill not found: id='nope'"):
            method("nope")


def test_deleting_a_tool_or_skill_is_audited(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    read = factories.tool(uow, coder, "Read")
    tdd = factories.skill(uow, coder, "tdd")
    assert uow.agent_profile_tools.delete(read.id) == {"agent_profile_tools": 1}
    assert uow.agent_profile_skills.delete(tdd.id) == {"agent_profile_skills": 1}
    assert len(uow.audit_logs.list(entity_id=read.id)) == 1
    assert len(uow.audit_logs.list(entity_id=tdd.id)) == 1
    with pytest.raises(NotFound):
        uow.agent_profile_tools.delete(read.id)
