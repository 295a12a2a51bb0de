"""Seeds 001/003, Codewalkers: the behaviours of its ProjectsTable (git repositories,
now `uow.repositories`). Initiatives, tasks, agents and the rest arrive with later contexts."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import AlreadyExists
from agentkeel.domain.ids import ID_LENGTH
from agentkeel.domain.workspace import Repository
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


def test_ids_are_nanoids(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    repo = factories.repository(uow, project)
    assert len(repo.id) == ID_LENGTH and len(project.id) == ID_LENGTH


def test_a_git_repository_registered_by_url(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    repo = uow.repositories.add(
        Repository(project_id=project.id, name="keel", url="https://git.example/keel.git")
    )
    assert repo.default_branch == "main"
    assert repo.last_fetched_at is None
    assert uow.repositories.find_by_url("https://git.example/keel.git") == [repo]
    fetched = uow.repositories.mark_fetched(repo.id)  # what CW's ProjectSyncManager records
    assert fetched.last_fetched_at is not None


def test_names_stay_unique_where_they_are_looked_up(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    factories.repository(uow, project, "keel")
    with pytest.raises(AlreadyExists):
        factories.repository(uow, project, "keel")
    assert uow.repositories.find_by_name(project.id, "keel") is not None


def test_timestamps_are_managed_by_the_adapters(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    repo = factories.repository(uow, project)
    repo.default_branch = "trunk"
    updated = uow.repositories.update(repo)
    assert updated.created_at == repo.created_at < updated.updated_at
