"""Units of work: commit, rollback by default, events only after commit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import AlreadyExists, ReadOnly
from agentkeel.domain.events import DomainEvent
from agentkeel.domain.workspace import DEFAULT_SETTINGS, ProjectArchived
from tests import factories


def test_leaving_without_commit_rolls_back(db: Database) -> None:
    with db.unit_of_work() as uow:
        factories.project(uow)
    with db.unit_of_work() as uow:
        assert uow.projects.count() == 0


def test_commit_makes_changes_permanent_and_work_can_go_on(db: Database) -> None:
    with db.unit_of_work() as uow:
        kept = factories.project(uow, "Kept")
        uow.commit()
        factories.project(uow, "Dropped")
    with db.unit_of_work() as uow:
        assert [p.name for p in uow.projects.list()] == ["Kept"]
        assert uow.projects.get(kept.id) == kept


def test_an_exception_rolls_back_everything(db: Database) -> None:
    with pytest.raises(RuntimeError), db.unit_of_work() as uow:
        factories.project(uow)
        raise RuntimeError("boom")
    with db.unit_of_work() as uow:
        assert uow.projects.count() == 0


def test_explicit_rollback_undoes_and_keeps_the_unit_open(db: Database) -> None:
    with db.unit_of_work() as uow:
        factories.project(uow, "Gone")
        uow.rollback()
        factories.project(uow, "Kept")
        uow.commit()
    with db.unit_of_work() as uow:
        assert [p.name for p in uow.projects.list()] == ["Kept"]


def test_a_failed_write_leaves_the_unit_usable(db: Database) -> None:
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        factories.repository(uow, project, "api")
        with pytest.raises(AlreadyExists):
            factories.repository(uow, project, "api")
        factories.repository(uow, project, "web")
        uow.commit()
    with db.unit_of_work() as uow:
        assert [r.name for r in uow.repositories.list()] == ["api", "web"]


def test_events_reach_subscribers_only_after_commit(db: Database) -> None:
    seen: list[DomainEvent] = []
    db.subscribe(ProjectArchived, seen.append)
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        uow.commit()
        uow.projects.archive(project.id)
        assert seen == []
    assert seen == []  # rolled back: never published
    with db.unit_of_work() as uow:
        uow.projects.archive(project.id)
        uow.commit()
    assert seen == [ProjectArchived(project.id)]


def test_repositories_are_usable_only_inside_the_block(db: Database) -> None:
    uow = db.unit_of_work()
    with pytest.raises(RuntimeError, match="inside `with uow:`"):
        uow.commit()


def test_a_read_only_unit_reads_and_refuses_every_write(db: Database) -> None:
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        uow.commit()
    with db.unit_of_work(read_only=True) as uow:
        assert uow.projects.get(project.id) == project
        assert uow.settings.count() == len(DEFAULT_SETTINGS)
        attempts: list[Callable[[], object]] = [
            lambda: factories.project(uow, "Other"),
            lambda: uow.projects.archive(project.id),
            lambda: uow.projects.delete(project.id),
            lambda: uow.templates.record_use("any"),
        ]
        for attempt in attempts:
            with pytest.raises(ReadOnly, match="this unit of work is read-only"):
                attempt()
    with db.unit_of_work() as uow:
        assert uow.projects.list() == [project]


def test_a_failing_subscriber_cannot_make_a_commit_look_failed(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """After commit every event reaches every subscriber; one that raises is logged and
    listed in what commit returns, and neither stops the others nor raises."""
    seen: list[DomainEvent] = []

    def broken(event: DomainEvent) -> None:
        raise RuntimeError("subscriber bug")

    db.subscribe(ProjectArchived, broken)
    db.subscribe(ProjectArchived, seen.append)
    db.subscribe(DomainEvent, seen.append)
    with db.unit_of_work() as uow:
        a, b = factories.project(uow, "a"), factories.project(uow, "b")
        uow.projects.archive(a.id)
        uow.projects.archive(b.id)
        failures = uow.commit()
    assert [(f.event, str(f.error)) for f in failures] == [
        (ProjectArchived(a.id), "subscriber bug"),
        (ProjectArchived(b.id), "subscriber bug"),
    ]
    assert seen == [ProjectArchived(a.id)] * 2 + [ProjectArchived(b.id)] * 2
    assert [r.levelname for r in caplog.records if r.name == "agentkeel.events"] == ["ERROR"] * 2
    with db.unit_of_work() as uow:
        assert len(uow.projects.list(include_archived=True)) == 2  # committed all the same
        assert uow.commit() == []


def test_a_read_only_unit_reads_the_last_commit_without_waiting_for_a_writer(
    db: Database,
) -> None:
    """A writer holds the database (on SQLite its write lock, in the fakes theirs); a
    read-only unit of work opened meanwhile returns at once with the committed data, keeps
    that view while the writer commits, and sees the commit in its next transaction."""
    with db.unit_of_work() as uow:
        kept = factories.project(uow, "Kept")
        uow.commit()
    with db.unit_of_work() as writer:
        factories.project(writer, "Pending")
        with db.unit_of_work(read_only=True) as reader:
            assert [p.name for p in reader.projects.list()] == ["Kept"]
            assert reader.projects.get(kept.id) == kept
            writer.commit()
            assert [p.name for p in reader.projects.list()] == ["Kept"]
            reader.commit()  # ends the read transaction
            assert [p.name for p in reader.projects.list()] == ["Kept", "Pending"]


def test_a_read_only_unit_keeps_its_view_while_a_later_writer_commits(db: Database) -> None:
    """The reader comes first (in the fakes its snapshot then shares the live tables, and a
    writer copies a table before changing it); what the writer commits afterwards shows in
    the reader's next transaction only."""
    with db.unit_of_work() as uow:
        kept = factories.project(uow, "Kept")
        uow.commit()
    with db.unit_of_work(read_only=True) as reader:
        assert reader.projects.list() == [kept]
        with db.unit_of_work() as writer:
            factories.project(writer, "New")
            renamed = writer.projects.get(kept.id)
            renamed.name = "Renamed"
            writer.projects.update(renamed)
            writer.projects.delete(factories.project(writer, "Gone").id)
            writer.commit()
        assert reader.projects.list() == [kept]
        assert reader.projects.get(kept.id).name == "Kept"
        reader.commit()
        assert sorted(p.name for p in reader.projects.list()) == ["New", "Renamed"]
