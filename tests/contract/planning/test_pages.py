"""Pages: one tree per initiative with exactly one root; moves stay in the tree."""

from __future__ import annotations

import pytest

from agentkeel.domain.errors import (
    AlreadyExists,
    DependencyCycle,
    InvalidValue,
    NotFound,
    ReferenceMissing,
)
from agentkeel.domain.planning import Page
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories
from tests import factories_tree as tree


def test_get_or_create_root_page_creates_once(uow: UnitOfWork) -> None:
    initiative = tree.initiative(uow, factories.project(uow), "Auth")
    assert uow.pages.find_root_page(initiative.id) is None
    root = uow.pages.get_or_create_root_page(initiative.id)
    assert root.title == "Auth" and root.parent_page_id is None and root.sort_order == 0
    assert uow.pages.get_or_create_root_page(initiative.id, title="Other") == root
    assert uow.pages.find_root_page(initiative.id) == root
    assert uow.pages.count() == 1


def test_get_or_create_root_page_takes_a_title(uow: UnitOfWork) -> None:
    initiative = tree.initiative(uow, factories.project(uow))
    assert uow.pages.get_or_create_root_page(initiative.id, title="Overview").title == "Overview"


def test_get_or_create_root_page_of_a_missing_initiative(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound) as caught:
        uow.pages.get_or_create_root_page("ghost")
    assert str(caught.value) == "initiative not found: id='ghost'"
    initiative = tree.initiative(uow, factories.project(uow))
    with pytest.raises(InvalidValue):
        uow.pages.get_or_create_root_page(initiative.id, title="   ")
    assert uow.pages.count() == 0


def test_a_second_root_is_refused(uow: UnitOfWork) -> None:
    initiative = tree.initiative(uow, factories.project(uow))
    root = uow.pages.get_or_create_root_page(initiative.id)
    child = tree.page(uow, initiative, root, "Child")
    expected = f"page already exists with initiative_id={initiative.id!r}, parent_page_id=None"
    with pytest.raises(AlreadyExists) as caught:
        tree.page(uow, initiative, None, "Another root")
    assert str(caught.value) == expected
    child.parent_page_id = None
    with pytest.raises(AlreadyExists) as moved:
        uow.pages.update(child)
    assert str(moved.value) == expected
    assert uow.pages.find_root_page(initiative.id) == root
    other = tree.initiative(uow, factories.project(uow, "Other"))
    assert tree.page(uow, other, None, "Root").parent_page_id is None  # one per initiative


def test_children_in_sort_order(uow: UnitOfWork) -> None:
    initiative = tree.initiative(uow, factories.project(uow))
    root = uow.pages.get_or_create_root_page(initiative.id)
    b = tree.page(uow, initiative, root, "B", sort_order=2)
    a = tree.page(uow, initiative, root, "A", sort_order=1)
    c = tree.page(uow, initiative, root, "C", sort_order=2)
    grandchild = tree.page(uow, initiative, a, "A1")
    assert uow.pages.find_by_parent_page(root.id) == [a, b, c]
    assert uow.pages.find_by_parent_page(a.id) == [grandchild]
    assert uow.pages.find_by_parent_page("ghost") == []
    assert uow.pages.find_by_initiative(initiative.id) == [root, grandchild, a, b, c]


def test_a_parent_in_another_initiative_is_refused(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    mine = tree.initiative(uow, project, "Mine")
    theirs = tree.initiative(uow, project, "Theirs")
    my_root = uow.pages.get_or_create_root_page(mine.id)
    their_root = uow.pages.get_or_create_root_page(theirs.id)
    with pytest.raises(InvalidValue) as caught:
        tree.page(uow, mine, their_root, "Stray")
    assert caught.value.field == "parent_page_id"
    assert str(caught.value) == (
        f"page.parent_page_id is a page of initiative {theirs.id!r}, not of the page's"
        f" initiative {mine.id!r} (got {their_root.id!r})"
    )
    child = tree.page(uow, mine, my_root, "Child")
    child.parent_page_id = their_root.id
    with pytest.raises(InvalidValue):
        uow.pages.update(child)
    assert uow.pages.get(child.id).parent_page_id == my_root.id


def test_a_page_never_moves_to_another_initiative(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    mine = tree.initiative(uow, project, "Mine")
    theirs = tree.initiative(uow, project, "Theirs")
    root = uow.pages.get_or_create_root_page(mine.id)
    child = tree.page(uow, mine, root, "Child")
    child.initiative_id = theirs.id
    child.parent_page_id = None
    with pytest.raises(InvalidValue) as caught:
        uow.pages.update(child)
    assert caught.value.field == "initiative_id"
    assert uow.pages.get(child.id).initiative_id == mine.id


def test_a_page_cannot_move_under_itself_or_its_descendant(uow: UnitOfWork) -> None:
    initiative = tree.initiative(uow, factories.project(uow))
    root = uow.pages.get_or_create_root_page(initiative.id)
    a = tree.page(uow, initiative, root, "A")
    b = tree.page(uow, initiative, a, "B")
    c = tree.page(uow, initiative, b, "C")
    a.parent_page_id = c.id
    with pytest.raises(DependencyCycle) as caught:
        uow.pages.update(a)
    assert caught.value.path == [a.id, c.id, b.id, a.id]
    assert (
        str(caught.value)
        == f"page dependency would form a cycle: {a.id} -> {c.id} -> {b.id} -> {a.id}"
    )
    a.parent_page_id = a.id
    with pytest.raises(DependencyCycle) as itself:
        uow.pages.update(a)
    assert itself.value.path == [a.id, a.id]
    with pytest.raises(DependencyCycle):
        uow.pages.add(
            Page(id="p-self", initiative_id=initiative.id, parent_page_id="p-self", title="x")
        )
    assert uow.pages.get(a.id).parent_page_id == root.id
    c.parent_page_id = root.id  # a move that closes no cycle
    assert uow.pages.update(c).parent_page_id == root.id


def test_a_missing_parent_is_reference_missing(uow: UnitOfWork) -> None:
    initiative = tree.initiative(uow, factories.project(uow))
    with pytest.raises(ReferenceMissing) as caught:
        uow.pages.add(Page(initiative_id=initiative.id, parent_page_id="ghost", title="x"))
    assert str(caught.value) == "page.parent_page_id refers to a missing page: 'ghost'"


def test_deleting_a_page_deletes_its_subtree(uow: UnitOfWork) -> None:
    initiative = tree.initiative(uow, factories.project(uow))
    root = uow.pages.get_or_create_root_page(initiative.id)
    a = tree.page(uow, initiative, root, "A")
    tree.page(uow, initiative, a, "A1")
    tree.page(uow, initiative, a, "A2")
    b = tree.page(uow, initiative, root, "B")
    assert uow.pages.delete(a.id) == {"pages": 3}
    assert uow.pages.find_by_initiative(initiative.id) == [root, b]
    assert uow.pages.delete(root.id) == {"pages": 2}
    assert uow.pages.count() == 0


def test_pages_go_with_their_initiative(uow: UnitOfWork) -> None:
    initiative = tree.initiative(uow, factories.project(uow))
    root = uow.pages.get_or_create_root_page(initiative.id)
    tree.page(uow, initiative, root, "A", content={"type": "doc", "content": []})
    assert uow.initiatives.delete(initiative.id) == {"initiatives": 1, "pages": 2}


def test_update_keeps_content(uow: UnitOfWork) -> None:
    initiative = tree.initiative(uow, factories.project(uow))
    root = uow.pages.get_or_create_root_page(initiative.id)
    root.content = {"type": "doc", "content": [{"type": "paragraph"}]}
    root.title = "Renamed"
    updated = uow.pages.update(root)
    assert uow.pages.get(root.id) == updated
    assert updated.content == {"type": "doc", "content": [{"type": "paragraph"}]}
