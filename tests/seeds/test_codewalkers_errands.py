"""Seed 003, Codewalkers: the 13 errand tests its errands commit names ("CRUD, filtering,
ordering, agentAlias join, cascade/set-null FK behaviour"), one counterpart each. CW's
`projectId` is our `repository_id` (a git repository); `findById` is `find_with_alias`."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import NotFound
from agentkeel.domain.planning import Errand, ErrandStatus
from agentkeel.domain.workspace import Repository
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories
from tests import factories_tree as tree


def _repo(uow: UnitOfWork, name: str = "api") -> Repository:
    project = uow.projects.list()[0] if uow.projects.count() else factories.project(uow)
    return factories.repository(uow, project, name)


def test_create_stores_the_errand_with_its_defaults(uow: UnitOfWork) -> None:
    repo = _repo(uow)
    errand = uow.errands.add(
        Errand(id="errand-1", repository_id=repo.id, description="Bump deps", branch="cw/bump")
    )
    assert errand.id == "errand-1"
    assert errand.status is ErrandStatus.ACTIVE
    assert errand.base_branch == "main"
    assert errand.agent_id is None
    assert errand.created_at == errand.updated_at


def test_find_by_id_returns_the_errand_without_an_alias_when_unassigned(uow: UnitOfWork) -> None:
    errand = tree.errand(uow, _repo(uow))
    found = uow.errands.find_with_alias(errand.id)
    assert found is not None and found.errand == errand and found.agent_alias is None


def test_find_by_id_joins_the_agents_alias(uow: UnitOfWork) -> None:
    agent = tree.agent(uow, "bold-falcon")
    errand = tree.errand(uow, _repo(uow), agent_id=agent.id)
    found = uow.errands.find_with_alias(errand.id)
    assert found is not None and found.agent_alias == "bold-falcon"


def test_find_by_id_of_an_unknown_id_is_none(uow: UnitOfWork) -> None:
    assert uow.errands.find_with_alias("no-such-errand") is None


def test_find_all_returns_every_errand(uow: UnitOfWork) -> None:
    repo = _repo(uow)
    made = {tree.errand(uow, repo, f"b{i}").id for i in range(3)}
    assert {found.errand.id for found in uow.errands.find_all()} == made


def test_find_all_filters_by_project(uow: UnitOfWork) -> None:
    api, web = _repo(uow, "api"), _repo(uow, "web")
    mine = tree.errand(uow, api, "a")
    tree.errand(uow, web, "b")
    assert [found.errand for found in uow.errands.find_all(repository_id=api.id)] == [mine]


def test_find_all_filters_by_status(uow: UnitOfWork) -> None:
    repo = _repo(uow)
    tree.errand(uow, repo, "a")
    abandoned = tree.errand(uow, repo, "b")
    abandoned.status = ErrandStatus.ABANDONED
    abandoned = uow.errands.update(abandoned)
    found = uow.errands.find_all(status=ErrandStatus.ABANDONED)
    assert [f.errand for f in found] == [abandoned]


def test_find_all_filters_by_project_and_status(uow: UnitOfWork) -> None:
    api, web = _repo(uow, "api"), _repo(uow, "web")
    target = tree.errand(uow, api, "a")
    done = tree.errand(uow, api, "b")
    done.status = ErrandStatus.ABANDONED
    uow.errands.update(done)
    tree.errand(uow, web, "c")
    found = uow.errands.find_all(repository_id=api.id, status=ErrandStatus.ACTIVE)
    assert [f.errand for f in found] == [target]


def test_find_all_orders_newest_first(uow: UnitOfWork) -> None:
    repo = _repo(uow)
    made = [tree.errand(uow, repo, f"b{i}") for i in range(4)]
    assert [f.errand for f in uow.errands.find_all()] == made[::-1]


def test_update_changes_fields_and_updated_at(uow: UnitOfWork) -> None:
    agent = tree.agent(uow)
    errand = tree.errand(uow, _repo(uow))
    errand.status = ErrandStatus.PENDING_REVIEW
    errand.agent_id = agent.id
    updated = uow.errands.update(errand)
    assert updated.status is ErrandStatus.PENDING_REVIEW
    assert updated.agent_id == agent.id
    assert updated.updated_at > errand.updated_at
    assert updated.created_at == errand.created_at


def test_delete_removes_the_errand(uow: UnitOfWork) -> None:
    errand = tree.errand(uow, _repo(uow))
    uow.errands.delete(errand.id)
    assert uow.errands.find_with_alias(errand.id) is None
    with pytest.raises(NotFound):
        uow.errands.delete(errand.id)


def test_deleting_the_project_deletes_its_errands(uow: UnitOfWork) -> None:
    repo = _repo(uow)
    errand = tree.errand(uow, repo)
    uow.repositories.delete(repo.id)
    assert uow.errands.find(errand.id) is None


def test_deleting_the_agent_unassigns_its_errands(uow: UnitOfWork) -> None:
    agent = tree.agent(uow)
    errand = tree.errand(uow, _repo(uow), agent_id=agent.id)
    uow.agents.delete(agent.id)
    found = uow.errands.find_with_alias(errand.id)
    assert found is not None
    assert found.errand.agent_id is None and found.agent_alias is None
