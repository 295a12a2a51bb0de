"""Projects: the generic repository behaviour, archiving, and cascading hard delete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import AlreadyExists, Conflict, InvalidValue, NotFound
from agentkeel.domain.events import DomainEvent
from agentkeel.domain.workspace import Project, ProjectArchived, ProjectMode, ProjectUnarchived
from agentkeel.ports.store import Eq
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema import table_of
from tests import factories
from tests.factories import store_of


def test_add_stamps_times_and_returns_the_stored_project(uow: UnitOfWork) -> None:
    draft = Project(name="Keel", mode=ProjectMode.GENESIS, description="d")
    stored = uow.projects.add(draft)
    assert stored.id == draft.id
    assert stored.created_at == stored.updated_at
    assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset() == timedelta(0)
    assert uow.projects.get(draft.id) == stored
    assert stored.mode is ProjectMode.GENESIS


def test_get_unknown_raises_not_found_and_find_returns_none(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound, match="project not found: id='nope'"):
        uow.projects.get("nope")
    assert uow.projects.find("nope") is None


def test_same_id_twice_is_already_exists(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    with pytest.raises(AlreadyExists, match="project already exists with id="):
        uow.projects.add(Project(id=project.id, name="Other"))
    assert uow.projects.count() == 1


def test_update_writes_changes_and_stamps_updated_at(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    project.description = "A keel for agents"
    updated = uow.projects.update(project)
    assert updated.description == "A keel for agents"
    assert updated.updated_at > project.updated_at
    assert updated.created_at == project.created_at
    assert uow.projects.get(project.id) == updated


def test_update_without_changes_writes_nothing(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    assert uow.projects.update(uow.projects.get(project.id)) == project


def test_update_of_a_deleted_project_raises_not_found(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    uow.projects.delete(project.id)
    project.name = "Gone"
    with pytest.raises(NotFound):
        uow.projects.update(project)


def test_entities_are_detached_values(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    project.name = "Changed but not saved"
    assert uow.projects.get(project.id).name == "Keel"


def test_an_update_from_a_stale_read_is_a_conflict(db: Database) -> None:
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        uow.commit()
    # Two readers of the same row: the second write was based on a read the first outdated.
    with db.unit_of_work() as uow:
        a = uow.projects.get(project.id)
        b = uow.projects.get(project.id)
        a.description = "from a"
        b.status = "from b"
        assert uow.projects.update(a).row_version == 2
        with pytest.raises(Conflict, match="changed by another unit of work since it was read"):
            uow.projects.update(b)
        fresh = uow.projects.get(project.id)
        fresh.status = "from b"
        stored = uow.projects.update(fresh)
    assert (stored.description, stored.status, stored.row_version) == ("from a", "from b", 3)


def test_listing_hides_archived_projects_unless_asked(uow: UnitOfWork) -> None:
    kept = factories.project(uow, "Kept")
    hidden = factories.project(uow, "Hidden")
    archived = uow.projects.archive(hidden.id)
    assert archived.is_archived
    assert [p.id for p in uow.projects.list()] == [kept.id]
    assert [p.id for p in uow.projects.list(include_archived=True)] == [kept.id, hidden.id]
    assert uow.projects.get(hidden.id).is_archived


def test_archiving_twice_keeps_the_first_time(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    first = uow.projects.archive(project.id)
    again = uow.projects.archive(project.id)
    assert again.archived_at == first.archived_at
    assert not uow.projects.unarchive(project.id).is_archived
    assert uow.projects.get(project.id).archived_at is None


def test_list_pages_with_limit_and_offset(uow: UnitOfWork) -> None:
    ids = [factories.project(uow, f"P{i}").id for i in range(5)]
    assert [p.id for p in uow.projects.list(limit=2, offset=1)] == ids[1:3]


def test_delete_cascades_and_reports_rows_removed(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    other = factories.project(uow, "Other")
    api = factories.repository(uow, project, "api")
    web = factories.repository(uow, project, "web")
    factories.worktree(uow, api, "/wt/a")
    factories.worktree(uow, web, "/wt/b")
    survivor = factories.repository(uow, other, "api")

    removed = uow.projects.delete(project.id)

    assert removed == {"projects": 1, "repositories": 2, "worktrees": 2}
    assert uow.projects.find(project.id) is None
    assert uow.repositories.list() == [survivor]
    assert uow.worktrees.list() == []


def test_delete_unknown_raises_not_found(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound):
        uow.projects.delete("missing")


def test_archiving_is_an_event_whatever_the_path(db: Database) -> None:
    seen: list[DomainEvent] = []
    db.subscribe(ProjectArchived, seen.append)
    db.subscribe(ProjectUnarchived, seen.append)
    with db.unit_of_work() as uow:
        a, b, c = (factories.project(uow, name) for name in "abc")
        uow.projects.archive(a.id)
        uow.projects.archive(b.id)
        c.archive(uow.clock.now())
        uow.projects.update(c)
        uow.projects.archive(c.id)  # already archived: nothing happens, no event
        uow.projects.unarchive(a.id)
        uow.commit()
    assert seen == [
        ProjectArchived(a.id),
        ProjectArchived(b.id),
        ProjectArchived(c.id),
        ProjectUnarchived(a.id),
    ]


def test_an_id_cannot_change_once_stored(uow: UnitOfWork) -> None:
    mine = factories.project(uow, "Mine")
    theirs = factories.project(uow, "Theirs")
    for new_id in (theirs.id, "brand-new-id"):
        moved = uow.projects.get(mine.id)
        moved.id = new_id
        moved.name = "Overwritten"
        with pytest.raises(InvalidValue, match=r"project\.id cannot change once stored"):
            uow.projects.update(moved)
    assert uow.projects.get(theirs.id) == theirs
    assert uow.projects.get(mine.id) == mine
    assert uow.projects.count() == 2


def test_a_stale_copy_from_an_earlier_unit_of_work_is_a_conflict(db: Database) -> None:
    with db.unit_of_work() as uow:
        stale = factories.project(uow)
        uow.commit()
    with db.unit_of_work() as uow:
        fresh = uow.projects.get(stale.id)
        fresh.description = "newer"
        uow.projects.update(fresh)
        uow.commit()
    with db.unit_of_work() as uow:
        stale.description = "older"
        with pytest.raises(Conflict, match="read it again"):
            uow.projects.update(stale)
        assert uow.projects.get(stale.id).description == "newer"


def test_a_read_again_after_a_concurrent_change_is_a_conflict(uow: UnitOfWork) -> None:
    """Read-modify-write in one unit of work: when the row changed between two reads (on
    PostgreSQL, another unit of work committed in between), a write from the second read
    would lose the change the first read was the basis of. The concurrent commit is
    stood in for by a write below the port; tests/concurrency does it across processes."""
    project = factories.project(uow, description="1")
    basis = uow.projects.get(project.id)
    store_of(uow).update(
        table_of(Project), [Eq("id", project.id)], {"description": "2"}, {"row_version": 1}
    )
    again = uow.projects.get(project.id)
    again.description = f"{basis.description}+1"
    with pytest.raises(Conflict, match="changed by another unit of work"):
        uow.projects.update(again)
    again.description = "2"  # the write would now change nothing: still a stale basis
    with pytest.raises(Conflict, match="changed by another unit of work"):
        uow.projects.update(again)
    assert uow.projects.get(project.id).description == "2"
