"""`RowStore.claim`: the first matching row, in order, updated and returned in one step."""

from __future__ import annotations

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import AlreadyExists, ReadOnly
from agentkeel.domain.workspace import Project, Template
from agentkeel.ports.store import Asc, Desc, Eq, IsNull, NotNull
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import table_of
from tests import factories
from tests.factories import store_of

projects = table_of(Project)


def test_claim_updates_the_first_matching_row_in_order(uow: UnitOfWork) -> None:
    store = store_of(uow)
    for name in ("b", "a", "c"):
        factories.project(uow, name)
    claimed = store.claim(projects, [IsNull("description")], [Asc("name")], {"description": "1"})
    assert claimed is not None and (claimed["name"], claimed["description"]) == ("a", "1")
    claimed = store.claim(projects, [IsNull("description")], [Asc("name")], {"description": "2"})
    assert claimed is not None and claimed["name"] == "b"
    claimed = store.claim(projects, [], [Desc("name")], {"description": "3"})
    assert claimed is not None and claimed["name"] == "c"
    assert store.claim(projects, [Eq("name", "zzz")], [Asc("name")], {"description": "x"}) is None
    assert {p.name: p.description for p in uow.projects.list()} == {"a": "1", "b": "2", "c": "3"}


def test_nulls_come_first_and_ties_go_by_id(uow: UnitOfWork) -> None:
    store = store_of(uow)
    second = factories.project(uow, "x", id="p-2")
    first = factories.project(uow, "y", id="p-1")
    factories.project(uow, "z", id="p-0", description="set")
    order = [Asc("archived_at")]
    claimed = store.claim(projects, [IsNull("description")], order, {"description": "took"})
    assert claimed is not None and claimed["id"] == first.id
    claimed = store.claim(projects, [NotNull("name"), IsNull("description")], order, {})
    assert claimed is not None and claimed["id"] == second.id


def test_a_claim_that_breaks_a_rule_writes_nothing(uow: UnitOfWork) -> None:
    store = store_of(uow)
    factories.template(uow, "a")
    factories.template(uow, "b")
    templates = table_of(Template)
    with pytest.raises(AlreadyExists, match="name='a'"):
        store.claim(templates, [Eq("name", "b")], [Asc("name")], {"name": "a"})
    assert sorted(t.name for t in uow.templates.list()) == ["a", "b"]


def test_a_read_only_unit_of_work_cannot_claim(db: Database) -> None:
    with db.unit_of_work(read_only=True) as uow, pytest.raises(ReadOnly):
        store_of(uow).claim(projects, [], [Asc("name")], {"description": "x"})
