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
    AnyRelated,
    Before,
    Eq,
    In,
    IsNull,
    Ne,
    NoneRelated,
    NotNull,
    RefersTo,
    Since,
    Where,
)
from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.workspace import Project, Repository
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import table_of
from tests import factories
from tests.factories import store_of

projects = table_of(Project)
repositories = table_of(Repository)


def test_every_kind_of_term_is_covered_here() -> None:
    assert set(typing.get_args(Where)) == {
        Eq,
        Ne,
        In,
        IsNull,
        NotNull,
        Before,
        Since,
        AnyRelated,
        NoneRelated,
        RefersTo,
    }


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


def test_related_terms_select_updates_and_deletes_the_same_rows(uow: UnitOfWork) -> None:
    store = store_of(uow)
    a = factories.project(uow, "a", status="x")
    b = factories.project(uow, "b", status="y")
    c = factories.project(uow, "c")
    a_api = factories.repository(uow, a, "api")
    a_web = factories.repository(uow, a, "web")
    b_api = factories.repository(uow, b, "api")
    factories.worktree(uow, a_api, "/wt/a-api")
    factories.worktree(uow, a_web, "/wt/a-web")
    uow.audit_logs.add(
        AuditEntry(event_type="t", event_category=EventCategory.RECORD, message="m", entity_id=b.id)
    )
    every_repository_has_a_worktree = NoneRelated(
        "repositories", "project_id", (NoneRelated("worktrees", "repository_id"),)
    )
    cases: list[tuple[Where, set[str]]] = [
        (NoneRelated("repositories", "project_id"), {c.id}),
        (NoneRelated("repositories", "project_id", (Eq("name", "web"),)), {b.id, c.id}),
        (every_repository_has_a_worktree, {a.id, c.id}),
        (AnyRelated("repositories", "project_id"), {a.id, b.id}),
        (AnyRelated("repositories", "project_id", (Eq("name", "web"),)), {a.id}),
        (AnyRelated("audit_logs", "entity_id"), {b.id}),
        # Not a foreign key: the fakes scan, the database has no index; same rows.
        (NoneRelated("audit_logs", "entity_id"), {a.id, c.id}),
    ]
    for term, expected in cases:
        assert {row["id"] for row in store.select(projects, [term])} == expected, term
        assert store.count(projects, [term]) == len(expected), term
        later = uow.clock.now() + timedelta(days=1)
        assert store.update(projects, [term], {"completed_at": later}) == len(expected), term
        touched = {row["id"] for row in store.select(projects, [NotNull("completed_at")])}
        assert touched == expected, term
        store.update(projects, [], {"completed_at": None})
    refers: list[tuple[Where, set[str]]] = [
        (RefersTo("project_id", "projects", (Eq("status", "x"),)), {a_api.id, a_web.id}),
        (RefersTo("project_id", "projects", (IsNull("status"),)), set()),
        (RefersTo("project_id", "projects"), {a_api.id, a_web.id, b_api.id}),
    ]
    for term, expected in refers:
        assert {row["id"] for row in store.select(repositories, [term])} == expected, term
        assert store.count(repositories, [term]) == len(expected), term
    for term, expected in [*cases, *refers]:
        table = repositories if isinstance(term, RefersTo) else projects
        before = store.count(table)
        savepoint = store.atomic()
        with pytest.raises(RuntimeError), savepoint:
            assert store.delete(table, [term]) == len(expected), term
            assert store.count(table) == before - len(expected), term
            raise RuntimeError("undo the delete")
    assert store.count(projects) == 3


def test_related_terms_take_values_as_the_related_field_holds_them(uow: UnitOfWork) -> None:
    project = factories.project(uow, "a", status="x")
    factories.repository(uow, project, "api")
    term = NoneRelated("repositories", "project_id", (Eq("name", "  api  "),))
    # Names are normalised (stripped) on their way in: the padded name is the stored one.
    assert uow.projects._select([term]) == []  # type: ignore[attr-defined]
    refused = NoneRelated("repositories", "project_id", (Eq("name", "a\x00b"),))
    with pytest.raises(InvalidValue) as caught:
        uow.projects._select([refused])  # type: ignore[attr-defined]
    assert (caught.value.entity, caught.value.field) == ("repository", "name")
