"""Workflow policy: the worktree decisions an application reads from the settings."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import InvalidValue, NotFound
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import workflows
from agentkeel.services.workflows import WorktreePlan, feature_slug, worktree_path
from tests import factories


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Login page", "login-page"),
        ("  Crème brûlée: v2!  ", "creme-brulee-v2"),
        ("🚢🚢", "feature"),
        ("a" * 150, "a" * 100),
        ("x" * 99 + " y", "x" * 99),
    ],
)
def test_feature_slug(name: str, slug: str) -> None:
    assert feature_slug(name) == slug


def test_worktree_path_replaces_every_placeholder() -> None:
    assert worktree_path(".worktrees/{feature-slug}", "Login page") == ".worktrees/login-page"
    assert worktree_path("/w/{feature-slug}/{feature-slug}", "A") == "/w/a/a"
    with pytest.raises(InvalidValue) as error:
        worktree_path("/w/fixed", "A")
    assert error.value.field == "worktree.locationPattern"


def test_worktree_plan_reads_the_settings(uow: UnitOfWork) -> None:
    workflow = factories.workflow(uow, factories.project(uow), name="Dark mode")
    assert workflows.worktree_plan(uow, workflow.id) == WorktreePlan(
        path=".worktrees/dark-mode",
        auto_create_branch=True,
        push_on_completion=False,
        auto_cleanup=True,
    )
    uow.settings.set_value("worktree.locationPattern", "/srv/trees/{feature-slug}")
    uow.settings.set_value("worktree.autoCreateBranch", False)
    uow.settings.set_value("worktree.pushOnCompletion", True)
    uow.settings.set_value("worktree.autoCleanup", False)
    assert workflows.worktree_plan(uow, workflow.id) == WorktreePlan(
        path="/srv/trees/dark-mode",
        auto_create_branch=False,
        push_on_completion=True,
        auto_cleanup=False,
    )
    with pytest.raises(NotFound):
        workflows.worktree_plan(uow, "x" * 21)
