"""Every kind of query term filters alike in every store, in reads and in writes.

The stores pick a clause for each term with a `match` that ends in `assert_never`, so mypy
refuses a new kind of term that one of them does not handle; this suite checks that each
kind means the same thing everywhere (a term that silently did nothing inside an UPDATE or
DELETE would touch every row).
"""

from __future__ import annotations

import typing
from datetime import timedelta

import pytest

from agentkeel.adapters.store import (
    Before,
    Eq,
    In,
    IsNull,
    Ne,
    NotNull,
    Since,
    Where,
)
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import table_of
from tests import factories
from tests.factories import store_of

projects = table_of(Project)


def test_every_kind_of_term_is_covered_here() -> None:
    assert set(typing.get_args(Where)) == {Eq, Ne, In, IsNull, NotNull, Before, Since}


def test_each_term_selects_updates_and_deletes_the_same_rows(uow: UnitOfWork) -> None:
    store = store_of(uow)
    a = factories.project(uow, "a", status="x")
    b = factories.project(uow, "b", status="y")
    c = factories.project(uow, "c")
    cutoff = b.created_at
    cases: list[tuple[Where, set[str]]] = [
        (Eq("status", "x"), {a.id}),
        (Ne("status", "x"), {b.id}),  # NULL matches neither Eq nor Ne, as in SQL
        (In("status", frozenset({"x", "y"})), {a.id, b.id}),
        (In("status", frozenset()), set()),
        (IsNull("status"), {c.id}),
        (NotNull("status"), {a.id, b.id}),
        (Before("created_at", cutoff), {a.id}),
        (Since("created_at", cutoff), {b.id, c.id}),
    ]
    for term, expected in cases:
        assert {row["id"] for row in store.select(projects, [term])} == expected, term
        assert store.count(projects, [term]) == len(expected), term
        later = uow.clock.now() + timedelta(days=1)
        assert store.update(projects, [term], {"completed_at": later}) == len(expected), term
        touched = {row["id"] for row in store.select(projects, [NotNull("completed_at")])}
        assert touched == expected, term
        store.update(projects, [], {"completed_at": None})
    for term, expected in cases:
        savepoint = store.atomic()
        with pytest.raises(RuntimeError), savepoint:
            assert store.delete(projects, [term]) == len(expected), term
            assert store.count(projects) == 3 - len(expected), term
            raise RuntimeError("undo the delete")
    assert store.count(projects) == 3
