"""Repositories (git): one default per project, names unique within a project."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import AlreadyExists, InvalidValue, NotFound, ReferenceMissing
from agentkeel.domain.workspace import Repository
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


def test_name_is_unique_within_a_project_only(uow: UnitOfWork) -> None:
    keel = factories.project(uow, "Keel")
    other = factories.project(uow, "Other")
    factories.repository(uow, keel, "api")
    factories.repository(uow, other, "api")
    with pytest.raises(AlreadyExists) as caught:
        factories.repository(uow, keel, "api", path="/elsewhere")
    assert str(caught.value) == (
        f"repository already exists with project_id={keel.id!r}, name='api'"
    )
    assert len(uow.repositories.list(project_id=keel.id)) == 1


def test_missing_project_is_reference_missing(uow: UnitOfWork) -> None:
    with pytest.raises(ReferenceMissing) as caught:
        uow.repositories.add(Repository(project_id="ghost", name="api", path="/x"))
    assert str(caught.value) == "repository.project_id refers to a missing project: 'ghost'"
    assert uow.repositories.count() == 0


def test_path_or_url_is_required(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    with pytest.raises(InvalidValue, match=r"repository.path or url must be given"):
        Repository(project_id=project.id, name="api")
    remote = uow.repositories.add(
        Repository(project_id=project.id, name="remote", url="git@example.com:a/b.git")
    )
    assert remote.path is None and remote.default_branch == "main"


def test_setting_a_default_clears_the_previous_one(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    other = factories.project(uow, "Other")
    api = factories.repository(uow, project, "api")
    web = factories.repository(uow, project, "web")
    elsewhere = uow.repositories.set_default(factories.repository(uow, other, "x").id)

    first = uow.repositories.set_default(api.id)
    assert first.is_default
    second = uow.repositories.set_default(web.id)

    assert uow.repositories.default_of(project.id) == second
    assert not uow.repositories.get(api.id).is_default
    assert uow.repositories.get(elsewhere.id).is_default  # other projects are untouched
    flagged = [r for r in uow.repositories.list(project_id=project.id) if r.is_default]
    assert flagged == [second]


def test_setting_the_default_again_keeps_its_time(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = uow.repositories.set_default(factories.repository(uow, project, "api").id)
    assert uow.repositories.set_default(api.id).set_as_default_at == api.set_as_default_at


def test_adding_a_default_repository_clears_the_old_default(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = uow.repositories.set_default(factories.repository(uow, project, "api").id)
    web = factories.repository(uow, project, "web", set_as_default_at=uow.clock.now())
    assert uow.repositories.default_of(project.id) == web
    assert not uow.repositories.get(api.id).is_default


def test_updating_the_flag_on_clears_the_old_default(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = uow.repositories.set_default(factories.repository(uow, project, "api").id)
    web = factories.repository(uow, project, "web")
    web.set_as_default_at = uow.clock.now()
    uow.repositories.update(web)
    assert uow.repositories.default_of(project.id) == uow.repositories.get(web.id)
    assert not uow.repositories.get(api.id).is_default


def test_set_default_of_unknown_repository_is_not_found(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound):
        uow.repositories.set_default("nope")


def test_finders(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project, "api", url="https://git.example/api.git")
    assert uow.repositories.find_by_name(project.id, "api") == api
    assert uow.repositories.find_by_name(project.id, "nope") is None
    assert uow.repositories.find_by_url("https://git.example/api.git") == [api]
    assert uow.repositories.default_of(project.id) is None


def test_mark_fetched_records_the_time(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project)
    fetched = uow.repositories.mark_fetched(api.id)
    assert fetched.last_fetched_at is not None and fetched.last_fetched_at > api.created_at


def test_deleting_a_repository_takes_its_worktrees(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project)
    factories.worktree(uow, api)
    assert uow.repositories.delete(api.id) == {"repositories": 1, "worktrees": 1}
    assert uow.worktrees.count() == 0
    assert uow.projects.get(project.id) == project


def test_moving_the_default_to_another_project_clears_that_projects_default(
    uow: UnitOfWork,
) -> None:
    first = factories.project(uow, "First")
    second = factories.project(uow, "Second")
    mover = uow.repositories.set_default(factories.repository(uow, first, "mover").id)
    resident = uow.repositories.set_default(factories.repository(uow, second, "resident").id)
    mover.project_id = second.id
    moved = uow.repositories.update(mover)
    assert uow.repositories.default_of(second.id) == moved
    assert not uow.repositories.get(resident.id).is_default


def test_renaming_onto_a_taken_name_is_already_exists(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    factories.repository(uow, project, "api")
    web = factories.repository(uow, project, "web")
    web.name = "api"
    with pytest.raises(AlreadyExists) as caught:
        uow.repositories.update(web)
    assert str(caught.value) == (
        f"repository already exists with project_id={project.id!r}, name='api'"
    )
    assert uow.repositories.get(web.id).name == "web"


def test_moving_to_a_missing_project_is_reference_missing(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project)
    api.project_id = "ghost"
    with pytest.raises(ReferenceMissing, match="refers to a missing project: 'ghost'"):
        uow.repositories.update(api)
    assert uow.repositories.get(api.id).project_id == project.id
