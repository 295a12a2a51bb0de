"""Initiatives: status machine, archiving as a flag, generated branches, listings."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import InvalidTransition, InvalidValue, NotFound, ReferenceMissing
from agentkeel.domain.planning import (
    BRANCH_PREFIX,
    ExecutionMode,
    Initiative,
    InitiativeStatus,
    branch_slug,
    generated_branch,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories
from tests import factories_tree as tree

S = InitiativeStatus


def test_defaults_and_a_generated_branch(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    made = tree.initiative(uow, project, "User Auth!")
    assert made.status is S.ACTIVE
    assert made.execution_mode is ExecutionMode.REVIEW_PER_PHASE
    assert made.archived_at is None
    assert made.branch == "agentkeel/user-auth"
    assert uow.initiatives.get(made.id) == made


def test_a_given_branch_is_kept_as_given(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    tree.initiative(uow, project, "Auth")
    made = tree.initiative(uow, project, "Auth again", branch="agentkeel/auth")
    assert made.branch == "agentkeel/auth"  # a caller may share a branch on purpose


def test_generated_branches_are_unique_within_a_project(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    other = factories.project(uow, "Other")
    first = tree.initiative(uow, project, "Auth")
    second = tree.initiative(uow, project, "auth")
    third = tree.initiative(uow, project, "AUTH")
    elsewhere = tree.initiative(uow, other, "Auth")
    assert [first.branch, second.branch, third.branch] == [
        "agentkeel/auth",
        "agentkeel/auth-2",
        "agentkeel/auth-3",
    ]
    assert elsewhere.branch == "agentkeel/auth"


def test_clearing_the_branch_generates_one_again_on_update(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    made = tree.initiative(uow, project, "Auth", branch="custom")
    made.branch = None
    made.name = "Billing"
    assert uow.initiatives.update(made).branch == "agentkeel/billing"


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Café Crème", "cafe-creme"),
        ("  --Hello,   World--  ", "hello-world"),
        ("日本語", "initiative"),
        ("v2.0 / API", "v2-0-api"),
    ],
)
def test_slug_rules(name: str, slug: str) -> None:
    assert branch_slug(name) == slug


def test_a_generated_branch_fits_the_column(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    first = tree.initiative(uow, project, "x" * 200)  # names hold up to 200 characters
    second = tree.initiative(uow, project, "x" * 200)
    assert first.branch == BRANCH_PREFIX + "x" * 200
    assert second.branch == BRANCH_PREFIX + "x" * 200 + "-2"
    # A longer slug (not from a stored name) is cut to the column, its suffix kept.
    cut = generated_branch("y" * 300, set())
    assert cut == BRANCH_PREFIX + "y" * 245
    assert generated_branch("y" * 300, {cut}) == BRANCH_PREFIX + "y" * 243 + "-2"
    # A cut that ends on a hyphen drops it.
    assert generated_branch("y" * 244 + " z" * 10, set()) == BRANCH_PREFIX + "y" * 244


def test_status_machine_follows_the_review_flow(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    made = tree.initiative(uow, project)
    for status in (
        S.PENDING_REVIEW,
        S.ACTIVE,
        S.PENDING_REVIEW,
        S.COMPLETED,
        S.ACTIVE,
        S.COMPLETED,
    ):
        made.status = status
        made = uow.initiatives.update(made)
        assert made.status is status
    made.status = S.PENDING_REVIEW
    with pytest.raises(InvalidTransition) as caught:
        uow.initiatives.update(made)
    assert str(caught.value) == (
        "initiative.status cannot change from 'completed' to 'pending_review'"
    )
    assert uow.initiatives.get(made.id).status is S.COMPLETED


def test_archived_is_not_a_status(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidValue):
        uow.initiatives.find_by_status("archived")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        Initiative(project_id="p", name="x", status="archived")  # type: ignore[arg-type]


def test_listings_hide_archived_initiatives_unless_asked(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    other = factories.project(uow, "Other")
    a = tree.initiative(uow, project, "A")
    b = tree.initiative(uow, project, "B")
    c = tree.initiative(uow, other, "C")
    archived = uow.initiatives.archive(b.id)
    assert archived.is_archived
    assert uow.initiatives.archive(b.id).archived_at == archived.archived_at  # kept
    assert uow.initiatives.list() == [a, c]
    assert uow.initiatives.list(project_id=project.id) == [a]
    assert uow.initiatives.list(project_id=project.id, include_archived=True) == [a, archived]
    assert uow.initiatives.find_by_status(S.ACTIVE) == [a, c]
    assert uow.initiatives.find_by_status(S.ACTIVE, include_archived=True) == [a, archived, c]
    assert uow.initiatives.find_by_status(S.COMPLETED) == []
    assert uow.initiatives.get(b.id) == archived  # still readable by id
    restored = uow.initiatives.unarchive(b.id)
    assert restored.archived_at is None
    assert uow.initiatives.list(project_id=project.id) == [a, restored]


def test_archive_and_unarchive_of_a_missing_initiative(uow: UnitOfWork) -> None:
    for method in (uow.initiatives.archive, uow.initiatives.unarchive):
        with pytest.raises(NotFound) as caught:
            method("ghost")
        assert str(caught.value) == "initiative not found: id='ghost'"


def test_missing_project_is_reference_missing(uow: UnitOfWork) -> None:
    with pytest.raises(ReferenceMissing) as caught:
        uow.initiatives.add(Initiative(project_id="ghost", name="A"))
    assert str(caught.value) == "initiative.project_id refers to a missing project: 'ghost'"
    assert uow.initiatives.count() == 0


def test_deleting_the_project_deletes_its_initiatives(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    kept = factories.project(uow, "Kept")
    tree.initiative(uow, project, "A")
    other = tree.initiative(uow, kept, "B")
    removed = uow.projects.delete(project.id)
    assert removed["initiatives"] == 1
    assert uow.initiatives.list(include_archived=True) == [other]


def test_update_and_delete(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    made = tree.initiative(uow, project)
    made.execution_mode = ExecutionMode.YOLO
    updated = uow.initiatives.update(made)
    assert uow.initiatives.get(made.id).execution_mode is ExecutionMode.YOLO
    assert updated.updated_at > made.updated_at
    assert uow.initiatives.delete(made.id) == {"initiatives": 1}
    assert uow.initiatives.find(made.id) is None
