"""Errands: the status machine, the agent's alias read in one query, filters and order."""

from __future__ import annotations

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidTransition,
    InvalidValue,
    NotFound,
    ReferenceMissing,
)
from agentkeel.domain.planning import Errand, ErrandStatus, ErrandWithAlias
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories
from tests import factories_tree as tree
from tests.contract import test_statement_counts
from tests.contract.test_statement_counts import Counted

S = ErrandStatus
# Statements counted on SQLite and PostgreSQL (the fakes run no queries).
counted = test_statement_counts.counted


def test_the_status_machine_of_design(uow: UnitOfWork) -> None:
    repo = factories.repository(uow, factories.project(uow))
    allowed = {
        S.ACTIVE: {S.PENDING_REVIEW, S.CONFLICT, S.ABANDONED},
        S.PENDING_REVIEW: {S.ACTIVE, S.CONFLICT, S.MERGED, S.ABANDONED},
        S.CONFLICT: {S.ACTIVE, S.PENDING_REVIEW, S.ABANDONED},
        S.MERGED: set(),
        S.ABANDONED: set(),
    }
    paths = {
        S.ACTIVE: [],
        S.PENDING_REVIEW: [S.PENDING_REVIEW],
        S.CONFLICT: [S.CONFLICT],
        S.MERGED: [S.PENDING_REVIEW, S.MERGED],
        S.ABANDONED: [S.ABANDONED],
    }
    for start, targets in allowed.items():
        for target in S:
            if target == start:
                continue
            errand = tree.errand(uow, repo, f"b/{start}-{target}")
            for step in paths[start]:
                errand.status = step
                errand = uow.errands.update(errand)
            errand.status = target
            if target in targets:
                assert uow.errands.update(errand).status is target
            else:
                with pytest.raises(InvalidTransition):
                    uow.errands.update(errand)
                assert uow.errands.get(errand.id).status is start


def test_a_caller_supplied_id_is_kept_and_must_be_new(uow: UnitOfWork) -> None:
    repo = factories.repository(uow, factories.project(uow))
    errand = tree.errand(uow, repo, id="errand-7")
    assert uow.errands.get("errand-7") == errand
    with pytest.raises(AlreadyExists) as caught:
        tree.errand(uow, repo, "other", id="errand-7")
    assert str(caught.value) == "errand already exists with id='errand-7'"


def test_references_must_exist(uow: UnitOfWork) -> None:
    repo = factories.repository(uow, factories.project(uow))
    with pytest.raises(ReferenceMissing) as caught:
        uow.errands.add(Errand(repository_id="ghost", description="d", branch="b"))
    assert str(caught.value) == "errand.repository_id refers to a missing repository: 'ghost'"
    with pytest.raises(ReferenceMissing) as agent:
        tree.errand(uow, repo, agent_id="ghost")
    assert str(agent.value) == "errand.agent_id refers to a missing agent: 'ghost'"
    assert uow.errands.count() == 0


def test_find_with_alias(uow: UnitOfWork) -> None:
    repo = factories.repository(uow, factories.project(uow))
    agent = tree.agent(uow, "quiet-heron")
    assigned = tree.errand(uow, repo, "a", agent_id=agent.id)
    free = tree.errand(uow, repo, "b")
    assert uow.errands.find_with_alias(assigned.id) == ErrandWithAlias(assigned, "quiet-heron")
    assert uow.errands.find_with_alias(free.id) == ErrandWithAlias(free, None)
    assert uow.errands.find_with_alias("ghost") is None


def test_the_alias_comes_in_the_same_query(counted: tuple[Database, Counted]) -> None:
    db, counts = counted
    with db.unit_of_work() as uow:
        repo = factories.repository(uow, factories.project(uow))
        agent = tree.agent(uow)
        errand = tree.errand(uow, repo, agent_id=agent.id)
        for i in range(5):
            tree.errand(uow, repo, f"b{i}", agent_id=agent.id if i % 2 else None)
        counts.take()
        assert uow.errands.find_with_alias(errand.id) is not None
        assert counts.take() == {"statement": 1}
        assert len(uow.errands.find_all(repository_id=repo.id)) == 6
        assert counts.take() == {"statement": 1}


def test_find_all_filters_newest_first(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project, "api")
    web = factories.repository(uow, project, "web")
    agent = tree.agent(uow, "calm-lynx")
    first = tree.errand(uow, api, "one")
    second = tree.errand(uow, web, "two", agent_id=agent.id)
    third = tree.errand(uow, api, "three")
    third.status = S.PENDING_REVIEW
    third = uow.errands.update(third)
    everything = uow.errands.find_all()
    assert [found.errand for found in everything] == [third, second, first]
    assert [found.agent_alias for found in everything] == [None, "calm-lynx", None]
    assert [f.errand for f in uow.errands.find_all(repository_id=api.id)] == [third, first]
    assert [f.errand for f in uow.errands.find_all(status=S.ACTIVE)] == [second, first]
    both = uow.errands.find_all(repository_id=api.id, status=S.ACTIVE)
    assert [f.errand for f in both] == [first]
    assert uow.errands.find_all(repository_id="ghost") == []
    with pytest.raises(InvalidValue):
        uow.errands.find_all(status="finished")  # type: ignore[arg-type]


def test_cascade_and_set_null(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project, "api")
    web = factories.repository(uow, project, "web")
    agent = tree.agent(uow)
    kept = tree.errand(uow, web, "kept", agent_id=agent.id)
    tree.errand(uow, api, "gone")
    assert uow.repositories.delete(api.id)["errands"] == 1
    uow.agents.delete(agent.id)
    unassigned = uow.errands.get(kept.id)
    assert unassigned.agent_id is None
    assert uow.errands.find_all() == [ErrandWithAlias(unassigned, None)]


def test_update_and_delete(uow: UnitOfWork) -> None:
    repo = factories.repository(uow, factories.project(uow))
    errand = tree.errand(uow, repo)
    errand.description = "Fix it properly"
    updated = uow.errands.update(errand)
    assert updated.updated_at > errand.updated_at
    assert uow.errands.delete(errand.id) == {"errands": 1}
    with pytest.raises(NotFound):
        uow.errands.get(errand.id)
