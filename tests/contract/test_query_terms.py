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

from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.planning import Task
from agentkeel.domain.workspace import Project, Repository
from agentkeel.ports.store import (
    AnyRelated,
    Before,
    Eq,
    In,
    IsNull,
    Ne,
    NoneRelated,
    NotNull,
    NotRefersTo,
    Reaches,
    RefersTo,
    Since,
    Where,
)
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
        NotRefersTo,
        Reaches,
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
        (NotRefersTo("project_id", "projects", (Eq("status", "x"),)), {b_api.id}),
        (NotRefersTo("project_id", "projects"), set()),
    ]
    for term, expected in refers:
        assert {row["id"] for row in store.select(repositories, [term])} == expected, term
        assert store.count(repositories, [term]) == len(expected), term
    for term, expected in [*cases, *refers]:
        table = repositories if isinstance(term, RefersTo | NotRefersTo) else projects
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


def test_not_refers_to_matches_a_null_reference(uow: UnitOfWork) -> None:
    store = store_of(uow)
    project = factories.project(uow)
    initiative = factories.initiative(uow, project)
    phase = factories.phase(uow, initiative)
    loose = factories.task(uow, project, "loose")
    phased = factories.task(uow, project, "phased", phase_id=phase.id)
    tasks = table_of(Task)
    checks: list[tuple[Where, set[str]]] = [
        (NotRefersTo("phase_id", "phases", (Eq("status", "pending"),)), {loose.id}),
        (NotRefersTo("phase_id", "phases", (Eq("status", "blocked"),)), {loose.id, phased.id}),
        (RefersTo("phase_id", "phases", (Eq("status", "pending"),)), {phased.id}),
    ]
    for term, expected in checks:
        assert {row["id"] for row in store.select(tasks, [term])} == expected, term
        assert store.count(tasks, [term]) == len(expected), term


def test_reaches_follows_edges_through_the_rows_allowed(uow: UnitOfWork) -> None:
    store = store_of(uow)
    project = factories.project(uow)
    names = ["root", "child", "grandchild", "done", "after-done", "apart"]
    t = {name: factories.task(uow, project, name) for name in names}
    for waiting, awaited in [
        ("child", "root"),
        ("grandchild", "child"),
        ("done", "root"),
        ("after-done", "done"),
    ]:
        uow.task_dependencies.create(t[waiting].id, t[awaited].id)
    tasks = table_of(Task)
    store.update(tasks, [Eq("id", t["root"].id)], {"status": "blocked"})
    store.update(tasks, [Eq("id", t["done"].id)], {"status": "completed"})
    edges = ("task_dependencies", "task_id", "depends_on_task_id")
    blocked = (Eq("status", "blocked"),)
    unfinished = (Ne("status", "completed"),)
    everything = {t[n].id for n in names if n != "apart"}
    cases: list[tuple[Where, set[str]]] = [
        (Reaches(*edges, blocked, unfinished), {t[n].id for n in ("root", "child", "grandchild")}),
        (Reaches(*edges, blocked), everything),
        (Reaches(*edges, (Eq("name", "child"),)), {t["child"].id, t["grandchild"].id}),
        (Reaches(*edges, (Eq("name", "nobody"),)), set()),
    ]
    for term, expected in cases:
        assert {row["id"] for row in store.select(tasks, [term])} == expected, term
        assert store.count(tasks, [term]) == len(expected), term
        assert {row["id"] for row in store.select(tasks, [Eq("project_id", project.id), term])} == (
            expected
        )
        later = uow.clock.now() + timedelta(days=1)
        assert store.update(tasks, [term], {"claimed_until": later}) == len(expected), term
        touched = {row["id"] for row in store.select(tasks, [NotNull("claimed_until")])}
        assert touched == expected, term
        store.update(tasks, [], {"claimed_until": None})
