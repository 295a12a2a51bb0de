"""Worktrees: unique paths and the status state machine."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import AlreadyExists, Conflict, InvalidTransition, InvalidValue
from agentkeel.domain.workspace import Worktree, WorktreeStatus
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


def test_path_is_unique_across_repositories(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project, "api")
    web = factories.repository(uow, project, "web")
    factories.worktree(uow, api, "/wt/shared")
    with pytest.raises(AlreadyExists, match=r"worktree already exists with path='/wt/shared'"):
        factories.worktree(uow, web, "/wt/shared")


def test_status_follows_its_state_machine(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    tree = factories.worktree(uow, factories.repository(uow, project))
    assert tree.status is WorktreeStatus.ACTIVE
    assert uow.worktrees.move_to(tree.id, WorktreeStatus.CLEANING).status == "cleaning"
    assert uow.worktrees.move_to(tree.id, WorktreeStatus.ACTIVE).status == "active"
    assert uow.worktrees.move_to(tree.id, WorktreeStatus.REMOVED).status == "removed"
    with pytest.raises(InvalidTransition) as caught:
        uow.worktrees.move_to(tree.id, WorktreeStatus.ACTIVE)
    assert str(caught.value) == "worktree.status cannot change from 'removed' to 'active'"
    assert uow.worktrees.get(tree.id).status is WorktreeStatus.REMOVED


def test_a_stale_copy_cannot_move_a_status_that_moved(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    tree = factories.worktree(uow, factories.repository(uow, project))
    stale = uow.worktrees.get(tree.id)
    uow.worktrees.move_to(tree.id, WorktreeStatus.REMOVED)
    stale.status = WorktreeStatus.CLEANING
    # The stored status is `removed` now; writing from the stale `active` is refused.
    with pytest.raises(Conflict, match="changed by another unit of work"):
        uow.worktrees.update(stale)
    assert uow.worktrees.get(tree.id).status is WorktreeStatus.REMOVED


def test_bad_status_names_the_allowed_values(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidValue) as caught:
        Worktree(repository_id="r", path="/p", branch_name="b", status="gone")  # type: ignore[arg-type]
    assert caught.value.field == "status"
    assert "'active', 'cleaning' or 'removed'" in str(caught.value)


def test_list_filters_by_repository_and_status(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    api = factories.repository(uow, project, "api")
    web = factories.repository(uow, project, "web")
    a = factories.worktree(uow, api, "/wt/a")
    b = factories.worktree(uow, web, "/wt/b")
    uow.worktrees.move_to(b.id, WorktreeStatus.CLEANING)
    assert [w.id for w in uow.worktrees.list(repository_id=api.id)] == [a.id]
    assert [w.id for w in uow.worktrees.list(status=WorktreeStatus.CLEANING)] == [b.id]
    assert uow.worktrees.find_by_path("/wt/a") == a


def test_deleting_a_worktree_is_audited(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    tree = factories.worktree(uow, factories.repository(uow, project))
    assert uow.worktrees.delete(tree.id) == {"worktrees": 1}
    [entry] = uow.audit_logs.list(entity_type="worktree")
    assert entry.entity_id == tree.id
    assert entry.message == f"Deleted worktree {tree.id!r} and 0 dependent rows"
