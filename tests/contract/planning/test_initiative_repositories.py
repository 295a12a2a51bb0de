"""The repositories an initiative works in: set diff-based, within the initiative's project."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import AlreadyExists, InvalidValue, NotFound, ReferenceMissing
from agentkeel.domain.planning import InitiativeRepositoryLink
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories
from tests import factories_tree as tree


def test_setting_adds_the_new_removes_the_missing_and_keeps_the_rest(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api, web, cli = (factories.repository(uow, project, name) for name in ("api", "web", "cli"))
    initiative = tree.initiative(uow, project)
    first = uow.initiative_repositories.set_for_initiative(initiative.id, [web.id, api.id])
    assert {link.repository_id for link in first} == {api.id, web.id}
    kept = next(link for link in first if link.repository_id == web.id)

    second = uow.initiative_repositories.set_for_initiative(initiative.id, [cli.id, web.id])
    assert {link.repository_id for link in second} == {web.id, cli.id}
    assert next(link for link in second if link.repository_id == web.id) == kept  # untouched
    assert second[0] == kept  # oldest first
    assert uow.initiative_repositories.of_initiative(initiative.id) == [cli, web]  # by name


def test_duplicates_in_the_input_count_once(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project)
    initiative = tree.initiative(uow, project)
    links = uow.initiative_repositories.set_for_initiative(initiative.id, [api.id, api.id])
    assert [link.repository_id for link in links] == [api.id]


def test_setting_none_removes_all(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project)
    initiative = tree.initiative(uow, project)
    uow.initiative_repositories.set_for_initiative(initiative.id, (api.id,))
    assert uow.initiative_repositories.set_for_initiative(initiative.id, []) == []
    assert uow.initiative_repositories.of_initiative(initiative.id) == []
    assert uow.repositories.get(api.id) == api


def test_other_initiatives_are_untouched(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project)
    a = tree.initiative(uow, project, "A")
    b = tree.initiative(uow, project, "B")
    uow.initiative_repositories.set_for_initiative(a.id, [api.id])
    uow.initiative_repositories.set_for_initiative(b.id, [api.id])
    uow.initiative_repositories.set_for_initiative(a.id, [])
    assert uow.initiative_repositories.of_initiative(b.id) == [api]


def test_a_repository_of_another_project_is_refused_and_nothing_written(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    other = factories.project(uow, "Other")
    api = factories.repository(uow, project)
    web = factories.repository(uow, project, "web")
    foreign = factories.repository(uow, other, "foreign")
    initiative = tree.initiative(uow, project)
    before = uow.initiative_repositories.set_for_initiative(initiative.id, [api.id])
    with pytest.raises(InvalidValue) as caught:
        uow.initiative_repositories.set_for_initiative(initiative.id, [web.id, foreign.id])
    assert caught.value.field == "repository_id"
    assert str(caught.value) == (
        f"initiative_repository_link.repository_id belongs to project {other.id!r}, not to the"
        f" initiative's project {project.id!r} (got {foreign.id!r})"
    )
    assert uow.initiative_repositories.set_for_initiative(initiative.id, [api.id]) == before


def test_the_project_rule_holds_on_add_and_update_too(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    other = factories.project(uow, "Other")
    api = factories.repository(uow, project)
    foreign = factories.repository(uow, other, "foreign")
    initiative = tree.initiative(uow, project)
    with pytest.raises(InvalidValue):
        uow.initiative_repositories.add(
            InitiativeRepositoryLink(initiative_id=initiative.id, repository_id=foreign.id)
        )
    link = uow.initiative_repositories.add(
        InitiativeRepositoryLink(initiative_id=initiative.id, repository_id=api.id)
    )
    link.repository_id = foreign.id
    with pytest.raises(InvalidValue):
        uow.initiative_repositories.update(link)
    with pytest.raises(AlreadyExists):
        uow.initiative_repositories.add(
            InitiativeRepositoryLink(initiative_id=initiative.id, repository_id=api.id)
        )


def test_unknown_ids(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project)
    initiative = tree.initiative(uow, project)
    with pytest.raises(NotFound) as missing:
        uow.initiative_repositories.set_for_initiative("ghost", [api.id])
    assert str(missing.value) == "initiative not found: id='ghost'"
    with pytest.raises(ReferenceMissing) as caught:
        uow.initiative_repositories.set_for_initiative(initiative.id, [api.id, "ghost"])
    assert str(caught.value) == (
        "initiative_repository_link.repository_id refers to a missing repository: 'ghost'"
    )
    assert uow.initiative_repositories.of_initiative(initiative.id) == []  # all or nothing
    assert uow.initiative_repositories.of_initiative("ghost") == []


def test_one_string_is_not_a_collection_of_ids(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    initiative = tree.initiative(uow, project)
    with pytest.raises(InvalidValue, match="must be a collection of ids"):
        uow.initiative_repositories.set_for_initiative(initiative.id, "abc")


def test_links_go_with_the_initiative_or_the_repository(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project)
    web = factories.repository(uow, project, "web")
    a = tree.initiative(uow, project, "A")
    b = tree.initiative(uow, project, "B")
    uow.initiative_repositories.set_for_initiative(a.id, [api.id, web.id])
    uow.initiative_repositories.set_for_initiative(b.id, [api.id])
    assert uow.repositories.delete(api.id)["initiative_repositories"] == 2
    assert uow.initiative_repositories.of_initiative(a.id) == [web]
    assert uow.initiatives.delete(a.id)["initiative_repositories"] == 1
    assert uow.initiative_repositories.count() == 0
