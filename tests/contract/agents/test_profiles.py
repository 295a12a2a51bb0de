"""Agent profiles: scope, listings, built-ins, versions, customizing, cascades."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentkeel.domain.agents import AgentProfile, ProfileColor, ProfileType
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidValue,
    NotFound,
    Protected,
    ReferenceMissing,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


def test_names_are_unique_across_projects(uow: UnitOfWork) -> None:
    keel = factories.project(uow)
    factories.profile(uow, "reviewer")
    with pytest.raises(AlreadyExists, match="agent_profile already exists with name='reviewer'"):
        factories.profile(uow, "reviewer", project_id=keel.id)
    assert uow.agent_profiles.count() == 1


def test_a_profile_of_a_missing_project_is_reference_missing(uow: UnitOfWork) -> None:
    with pytest.raises(ReferenceMissing, match="project_id refers to a missing project: 'nope'"):
        factories.profile(uow, project_id="nope")


def test_find_by_name(uow: UnitOfWork) -> None:
    reviewer = factories.profile(uow, "reviewer")
    assert uow.agent_profiles.find_by_name(" reviewer ") == reviewer
    assert uow.agent_profiles.find_by_name("planner") is None


def test_a_projects_listing_holds_the_global_profiles_and_its_own_by_name(
    uow: UnitOfWork,
) -> None:
    keel, other = factories.project(uow), factories.project(uow, "Other")
    zeta = factories.profile(uow, "zeta")
    alpha = factories.profile(uow, "alpha", project_id=keel.id)
    mid = factories.profile(uow, "mid")
    factories.profile(uow, "others", project_id=other.id)
    assert uow.agent_profiles.list(project_id=keel.id) == [alpha, mid, zeta]
    assert uow.agent_profiles.list(project_id=keel.id, include_global=False) == [alpha]
    assert uow.agent_profiles.list() == [mid, zeta]
    with pytest.raises(InvalidValue, match="include_global can be False only with a project_id"):
        uow.agent_profiles.list(include_global=False)


def test_listings_filter_by_type_and_hide_deactivated(uow: UnitOfWork) -> None:
    keel = factories.project(uow)
    planner = factories.profile(uow, "planner", type=ProfileType.PLANNING)
    review = factories.profile(uow, "review", type=ProfileType.REVIEW, project_id=keel.id)
    coder = factories.profile(uow, "coder")
    assert uow.agent_profiles.list(project_id=keel.id, type=ProfileType.REVIEW) == [review]
    assert uow.agent_profiles.list(type=ProfileType.PLANNING) == [planner]
    uow.agent_profiles.deactivate(coder.id)
    uow.agent_profiles.deactivate(review.id)
    assert uow.agent_profiles.list(project_id=keel.id) == [planner]
    assert [
        p.name for p in uow.agent_profiles.list(project_id=keel.id, include_deactivated=True)
    ] == [
        "coder",
        "planner",
        "review",
    ]
    with pytest.raises(InvalidValue, match=r"agent_profile\.type must be one of"):
        uow.agent_profiles.list(type="bogus")  # type: ignore[arg-type]


def test_deactivate_keeps_its_time_and_reactivate_clears_it(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    first = uow.agent_profiles.deactivate(coder.id)
    assert first.is_deactivated and first.version == 1
    assert isinstance(uow.clock, FakeClock)
    uow.clock.advance(timedelta(seconds=5))
    assert uow.agent_profiles.deactivate(coder.id).deactivated_at == first.deactivated_at
    back = uow.agent_profiles.reactivate(coder.id)
    assert not back.is_deactivated and back.version == 1
    for method in (uow.agent_profiles.deactivate, uow.agent_profiles.reactivate):
        with pytest.raises(NotFound, match="agent_profile not found: id='nope'"):
            method("nope")


def test_an_edit_of_the_definition_counts_a_version(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    coder.system_prompt = "You write tests first."
    coder.color = ProfileColor.CYAN
    edited = uow.agent_profiles.update(coder)
    assert (edited.version, edited.row_version) == (2, 2)
    edited.display_name = "The Coder"
    assert uow.agent_profiles.update(edited).version == 3
    # Not edits: the active flag, an update that changes nothing.
    assert uow.agent_profiles.deactivate(coder.id).version == 3
    assert uow.agent_profiles.update(uow.agent_profiles.get(coder.id)).version == 3


def test_moving_a_profile_to_a_project_is_an_edit(uow: UnitOfWork) -> None:
    keel = factories.project(uow)
    coder = factories.profile(uow, "coder")
    coder.project_id = keel.id
    assert uow.agent_profiles.update(coder).version == 2


def test_the_version_is_the_repositorys(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    coder.version = 7
    with pytest.raises(InvalidValue, match="version is counted by the repository"):
        uow.agent_profiles.update(coder)
    assert uow.agent_profiles.get(coder.id).version == 1


def test_an_edit_after_a_tool_changed_counts_on_the_newer_version(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    factories.tool(uow, coder, "Bash")  # version 2, written in SQL
    coder.description = "writes code"  # read at version 1
    assert uow.agent_profiles.update(coder).version == 3


def test_a_built_in_profile_is_global(uow: UnitOfWork) -> None:
    keel = factories.project(uow)
    with pytest.raises(InvalidValue, match="project_id must be null: built-in profiles are global"):
        factories.profile(uow, project_id=keel.id, built_in_at=uow.clock.now())


def test_a_built_in_profile_is_read_only_but_for_deactivating(uow: UnitOfWork) -> None:
    keel = factories.project(uow)
    built_in = factories.profile(uow, "planner", built_in_at=uow.clock.now())
    for field, value in [
        ("system_prompt", "changed"),
        ("name", "renamed"),
        ("project_id", keel.id),
        ("built_in_at", None),
    ]:
        entity = uow.agent_profiles.get(built_in.id)
        setattr(entity, field, value)
        with pytest.raises(Protected, match=f"is built in: its {field} cannot change"):
            uow.agent_profiles.update(entity)
    assert uow.agent_profiles.deactivate(built_in.id).is_deactivated
    assert not uow.agent_profiles.reactivate(built_in.id).is_deactivated
    assert uow.agent_profiles.get(built_in.id).system_prompt == built_in.system_prompt


def test_only_an_added_profile_can_be_built_in(uow: UnitOfWork) -> None:
    coder = factories.profile(uow, "coder")
    coder.built_in_at = uow.clock.now()
    with pytest.raises(InvalidValue, match="built_in_at can only be set when a profile is added"):
        uow.agent_profiles.update(coder)


def test_a_built_in_profile_is_never_deleted(uow: UnitOfWork) -> None:
    built_in = factories.profile(uow, "planner", built_in_at=uow.clock.now())
    with pytest.raises(Protected, match="is built in: deactivate it instead of deleting it"):
        uow.agent_profiles.delete(built_in.id)
    assert uow.agent_profiles.get(built_in.id) == built_in


def test_customize_copies_the_profile_with_its_tools_and_skills(uow: UnitOfWork) -> None:
    keel = factories.project(uow)
    built_in = factories.profile(
        uow, "planner", built_in_at=uow.clock.now(), color=ProfileColor.RED
    )
    uow.agent_profiles.deactivate(built_in.id)
    source = factories.profile(uow, "source", color=ProfileColor.RED, description="d")
    factories.tool(uow, source, "Read", order_index=2)
    factories.tool(uow, source, "Bash", tool_pattern="pnpm lint", disallowed_at=uow.clock.now())
    factories.skill(uow, source, "tdd", required_at=uow.clock.now())
    factories.skill(uow, source, "docs", order_index=1)
    source = uow.agent_profiles.get(source.id)
    assert source.version == 5

    copy = uow.agent_profiles.customize(source.id, project_id=keel.id)
    assert copy.name == "source-custom"
    assert (copy.parent_profile_id, copy.project_id, copy.version) == (source.id, keel.id, 1)
    assert (copy.display_name, copy.type, copy.description, copy.system_prompt, copy.color) == (
        source.display_name,
        source.type,
        source.description,
        source.system_prompt,
        source.color,
    )
    assert uow.agent_profiles.get(copy.id).version == 1

    def tools(key: str) -> list[tuple[object, ...]]:
        return [
            (t.tool_name, t.tool_pattern, t.order_index, t.disallowed_at)
            for t in uow.agent_profile_tools.list(profile_id=key)
        ]

    def skills(key: str) -> list[tuple[object, ...]]:
        return [
            (s.skill_name, s.order_index, s.required_at)
            for s in uow.agent_profile_skills.list(profile_id=key)
        ]

    assert tools(copy.id) == tools(source.id) and len(tools(copy.id)) == 2
    assert skills(copy.id) == skills(source.id) and len(skills(copy.id)) == 2
    assert uow.agent_profiles.get(source.id).version == 5

    copied = uow.agent_profiles.customize(built_in.id)
    assert (copied.name, copied.project_id, copied.parent_profile_id) == (
        "planner-custom",
        None,
        built_in.id,
    )
    assert not copied.is_built_in and not copied.is_deactivated


def test_customize_chooses_the_first_free_name(uow: UnitOfWork) -> None:
    planner = factories.profile(uow, "planner", built_in_at=uow.clock.now())
    first = uow.agent_profiles.customize(planner.id)
    second = uow.agent_profiles.customize(planner.id)
    third = uow.agent_profiles.customize(planner.id)
    assert [first.name, second.name, third.name] == [
        "planner-custom",
        "planner-custom-2",
        "planner-custom-3",
    ]
    uow.agent_profiles.delete(second.id)
    assert uow.agent_profiles.customize(planner.id).name == "planner-custom-2"
    assert uow.agent_profiles.customize(first.id).name == "planner-custom-custom"


def test_a_chosen_name_fits_the_name_length(uow: UnitOfWork) -> None:
    long = factories.profile(uow, "x" * 200)
    assert uow.agent_profiles.customize(long.id).name == "x" * 193 + "-custom"
    assert uow.agent_profiles.customize(long.id).name == "x" * 191 + "-custom-2"


def test_customize_takes_the_callers_name(uow: UnitOfWork) -> None:
    planner = factories.profile(uow, "planner")
    factories.profile(uow, "taken")
    assert uow.agent_profiles.customize(planner.id, name=" mine ").name == "mine"
    with pytest.raises(AlreadyExists, match="agent_profile already exists with name='taken'"):
        uow.agent_profiles.customize(planner.id, name="taken")
    with pytest.raises(InvalidValue, match=r"agent_profile\.name"):
        uow.agent_profiles.customize(planner.id, name="  ")
    assert uow.agent_profiles.count() == 3


def test_a_failed_customize_writes_nothing(uow: UnitOfWork) -> None:
    planner = factories.profile(uow, "planner")
    factories.tool(uow, planner, "Read")
    with pytest.raises(ReferenceMissing, match="refers to a missing project: 'nope'"):
        uow.agent_profiles.customize(planner.id, project_id="nope")
    with pytest.raises(NotFound, match="agent_profile not found: id='nope'"):
        uow.agent_profiles.customize("nope")
    assert uow.agent_profiles.count() == 1
    assert uow.agent_profile_tools.count() == 1


def test_deleting_a_profile_takes_its_tools_and_skills_and_unlinks_its_copies(
    uow: UnitOfWork,
) -> None:
    planner = factories.profile(uow, "planner")
    factories.tool(uow, planner, "Read")
    factories.tool(uow, planner, "Bash")
    factories.skill(uow, planner, "tdd")
    copy = uow.agent_profiles.customize(planner.id)
    removed = uow.agent_profiles.delete(planner.id)
    assert removed == {
        "agent_profiles": 1,
        "agent_profile_tools": 2,
        "agent_profile_skills": 1,
    }
    assert uow.agent_profiles.get(copy.id).parent_profile_id is None
    assert len(uow.agent_profile_tools.list(profile_id=copy.id)) == 2
    assert uow.agent_profile_tools.count() == 2 and uow.agent_profile_skills.count() == 1
    [entry] = uow.audit_logs.list(entity_id=planner.id)
    assert entry.event_data == {"removed": removed}


def test_deleting_a_project_takes_its_profiles_with_their_tools_and_skills(
    uow: UnitOfWork,
) -> None:
    keel = factories.project(uow)
    shared = factories.profile(uow, "shared")
    own = factories.profile(uow, "own", project_id=keel.id)
    factories.tool(uow, own, "Read")
    factories.skill(uow, own, "tdd")
    factories.tool(uow, shared, "Read")
    copy = uow.agent_profiles.customize(own.id)  # global, so it outlives the project
    removed = uow.projects.delete(keel.id)
    assert removed == {
        "projects": 1,
        "agent_profiles": 1,
        "agent_profile_tools": 1,
        "agent_profile_skills": 1,
    }
    assert [p.name for p in uow.agent_profiles.list()] == ["own-custom", "shared"]
    assert uow.agent_profiles.get(copy.id).parent_profile_id is None
    assert uow.agent_profile_tools.count() == 2


def test_a_profile_of_bad_values_is_refused() -> None:
    with pytest.raises(InvalidValue, match=r"agent_profile\.type must be one of"):
        AgentProfile(name="x", display_name="X", type="boss", system_prompt="p")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"agent_profile\.color must be one of"):
        AgentProfile(
            name="x",
            display_name="X",
            type=ProfileType.REVIEW,
            system_prompt="p",
            color="pink",  # type: ignore[arg-type]
        )
    with pytest.raises(InvalidValue, match=r"agent_profile\.version"):
        AgentProfile(
            name="x", display_name="X", type=ProfileType.REVIEW, system_prompt="p", version=0
        )
