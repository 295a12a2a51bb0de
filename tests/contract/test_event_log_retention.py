"""The event log's retention, on every backend: the purge removes the oldest events up to
the first one too new and never past a registered consumer's position; the horizon it
leaves; what a reader that fell behind gets; and the named consumers' rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import pytest

from agentkeel.database import Database
from agentkeel.domain.audit import EventCategory, EventLogPurged
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import (
    AlreadyExists,
    Conflict,
    EventsPurged,
    InvalidValue,
    NotFound,
    ReadOnly,
)
from agentkeel.domain.events import LoggedEvent
from agentkeel.domain.workspace.events import ProjectArchived
from agentkeel.ports.unit_of_work import UnitOfWork

DAY = timedelta(days=1)


def clock_of(db: Database) -> FakeClock:
    assert isinstance(db.clock, FakeClock)
    return db.clock


def commit(db: Database, *names: str) -> list[int]:
    """Commit one unit of work recording `names`; the sequence numbers they got."""
    with db.unit_of_work() as uow:
        start = uow.event_log.last_sequence()
        for name in names:
            uow.record(ProjectArchived(name))
        uow.commit()
        return [e.sequence for e in uow.event_log.read_after(start)]


def archived(events: list[LoggedEvent]) -> list[str]:
    """The projects named by the test's events (a purge logs an `EventLogPurged` too)."""
    return [e.payload["project_id"] for e in events if e.event_type == "ProjectArchived"]


def kept(db: Database) -> list[str]:
    with db.unit_of_work(read_only=True) as uow:
        return archived(uow.event_log.read_after(uow.event_log.purged_through(), 10_000))


def purge(db: Database, days: float = 5, limit: int | None = None) -> int:
    with db.unit_of_work() as uow:
        removed = uow.event_log.purge_before(db.clock.now() - days * DAY, limit=limit)
        uow.commit()
    return removed


def test_the_purge_removes_the_events_older_than_the_cutoff(db: Database) -> None:
    old = commit(db, "a", "b") + commit(db, "c")
    clock_of(db).advance(10 * DAY)
    commit(db, "d")
    assert purge(db) == 3
    assert kept(db) == ["d"]
    with db.unit_of_work(read_only=True) as uow:
        assert uow.event_log.purged_through() == old[-1]
        assert uow.event_log.read_after(old[-1])[0].payload == {"project_id": "d"}
    assert purge(db) == 0  # nothing older left


def test_the_purge_stops_at_the_first_event_too_new(db: Database) -> None:
    # Sequence numbers follow commits, times follow each writer's clock: an event may be
    # older than the one before it. The purge removes only a prefix, so the log kept is
    # every event after one number.
    commit(db, "old-1")
    clock_of(db).advance(10 * DAY)
    commit(db, "new")
    clock_of(db).advance(-10 * DAY)  # a writer whose clock is behind
    commit(db, "old-2")
    clock_of(db).advance(10 * DAY)
    assert purge(db) == 1
    assert kept(db) == ["new", "old-2"]


def test_a_bounded_purge_removes_at_most_limit_and_moves_the_horizon_with_it(
    db: Database,
) -> None:
    numbers = commit(db, *"abcde")
    clock_of(db).advance(10 * DAY)
    assert purge(db, limit=2) == 2
    with db.unit_of_work(read_only=True) as uow:
        assert uow.event_log.purged_through() == numbers[1]
    assert [purge(db, limit=2), purge(db, limit=2), purge(db, limit=2)] == [2, 1, 0]
    assert kept(db) == []


def test_an_emptied_log_numbers_on_and_its_last_sequence_is_the_horizon(db: Database) -> None:
    numbers = commit(db, "a", "b")
    clock_of(db).advance(10 * DAY)
    with db.unit_of_work() as uow:
        assert uow.event_log.purge_before(db.clock.now()) == 2
        # Empty (the purge's own event is appended when the unit commits).
        assert uow.event_log.last_sequence() == numbers[-1]
        assert uow.event_log.read_after(numbers[-1]) == []
        uow.commit()
    [later] = commit(db, "c")
    assert later > numbers[-1]
    assert kept(db) == ["c"]


def test_a_registered_consumer_holds_every_event_after_its_position(db: Database) -> None:
    first = commit(db, "a", "b")
    with db.unit_of_work() as uow:
        uow.event_consumers.register("mailer", position=first[0])
        uow.event_consumers.register("indexer", position=first[1])
        uow.commit()
    commit(db, "c")
    clock_of(db).advance(100 * DAY)  # everything is far past its retention
    assert purge(db) == 1  # "a": the lowest consumer has handled it
    assert kept(db) == ["b", "c"]
    with db.unit_of_work() as uow:
        uow.event_consumers.acknowledge("mailer", uow.event_log.last_sequence())
        uow.commit()
    assert purge(db) == 1  # "b": the indexer has handled it
    assert kept(db) == ["c"]
    with db.unit_of_work() as uow:
        uow.event_consumers.unregister("indexer")
        uow.commit()
    assert purge(db) == 1
    assert kept(db) == []
    # The mailer never fell behind: it reads on (the purges' and the unregistering's events).
    with db.unit_of_work(read_only=True) as uow:
        mailer = uow.event_consumers.find_by_name("mailer")
        assert mailer is not None
        later = uow.event_log.read_after(mailer.position)
        assert {e.event_type for e in later} == {"EventLogPurged", "RecordDeleted"}


def test_a_reader_that_fell_behind_gets_events_purged_naming_where_it_is(db: Database) -> None:
    numbers = commit(db, "a", "b", "c")
    clock_of(db).advance(10 * DAY)
    commit(db, "d")
    purge(db, limit=2)  # "a" and "b" go: the horizon is "b"'s number
    with db.unit_of_work(read_only=True) as uow:
        for behind in (0, numbers[0]):
            with pytest.raises(EventsPurged) as raised:
                uow.event_log.read_after(behind)
            assert raised.value.position == behind
            assert raised.value.purged_through == numbers[1]
            assert raised.value.first_kept == numbers[2]
            assert (raised.value.entity, raised.value.field) == ("event_log", "sequence")
            message = str(raised.value)
            assert f"a reader at position {behind} has fallen behind" in message
            assert f"up to {numbers[1]} were purged (the first kept is {numbers[2]})" in message
        # At the horizon or past it, nothing was missed.
        assert archived(uow.event_log.read_after(numbers[1])) == ["c", "d"]
        assert archived(uow.event_log.read_after(numbers[2])) == ["d"]
    purge(db)  # "c" goes too
    with db.unit_of_work(read_only=True) as uow, pytest.raises(EventsPurged) as raised:
        uow.event_log.read_after(numbers[1])
    assert raised.value.purged_through == numbers[2]
    clock_of(db).advance(10 * DAY)
    with db.unit_of_work() as uow:
        uow.event_log.purge_before(db.clock.now())  # everything
        with pytest.raises(EventsPurged) as raised:
            uow.event_log.read_after(numbers[2])
    assert raised.value.first_kept is None and "(none is kept)" in str(raised.value)


def test_a_writing_unit_of_work_reads_the_log_as_a_reader_does(db: Database) -> None:
    commit(db, "a", "b")
    clock_of(db).advance(10 * DAY)
    purge(db)
    with db.unit_of_work() as uow, pytest.raises(EventsPurged):
        uow.event_log.read_after(0)


def test_a_consumer_registers_at_the_horizon_by_default(db: Database) -> None:
    numbers = commit(db, "a", "b")
    clock_of(db).advance(10 * DAY)
    commit(db, "c")
    purge(db)
    with db.unit_of_work() as uow:
        consumer = uow.event_consumers.register("  Mailer\u200b ")
        uow.commit()
    assert (consumer.name, consumer.position, consumer.row_version) == ("Mailer", numbers[-1], 1)
    with db.unit_of_work(read_only=True) as uow:
        assert uow.event_consumers.find_by_name("Mailer") == consumer
        assert archived(uow.event_log.read_after(consumer.position)) == ["c"]


def test_a_consumer_cannot_register_below_the_horizon_or_past_the_newest_event(
    db: Database,
) -> None:
    numbers = commit(db, "a", "b")
    clock_of(db).advance(10 * DAY)
    commit(db, "c")
    purge(db, limit=1)
    with db.unit_of_work() as uow:
        with pytest.raises(EventsPurged) as behind:
            uow.event_consumers.register("late", position=0)
        assert (behind.value.position, behind.value.purged_through) == (0, numbers[0])
        newest = uow.event_log.last_sequence()
        with pytest.raises(InvalidValue, match="past the newest event") as ahead:
            uow.event_consumers.register("early", position=newest + 1)
        assert ahead.value.field == "position"
        uow.event_consumers.register("exact", position=numbers[0])
        uow.event_consumers.register("newest", position=newest)
        with pytest.raises(AlreadyExists):
            uow.event_consumers.register("exact")
        assert [c.name for c in uow.event_consumers.list()] == ["exact", "newest"]
        assert uow.event_consumers.count() == 2


def test_a_position_only_moves_forward_up_to_the_newest_event(uow: UnitOfWork) -> None:
    for name in "abc":
        uow.record(ProjectArchived(name))
    uow.commit()
    newest = uow.event_log.last_sequence()
    uow.event_consumers.register("mailer", position=newest - 1)
    moved = uow.event_consumers.acknowledge("mailer", newest)
    assert (moved.position, moved.row_version) == (newest, 2)
    same = uow.event_consumers.acknowledge("mailer", newest)
    assert same.row_version == 2  # nothing to write
    with pytest.raises(InvalidValue, match="only moves forward") as back:
        uow.event_consumers.acknowledge("mailer", newest - 1)
    assert back.value.field == "position"
    with pytest.raises(InvalidValue, match="past the newest event"):
        uow.event_consumers.acknowledge("mailer", newest + 1)
    with pytest.raises(NotFound) as missing:
        uow.event_consumers.acknowledge("nobody", newest)
    assert missing.value.field == "name"


def test_the_rules_hold_on_the_generic_paths_too(uow: UnitOfWork) -> None:
    uow.record(ProjectArchived("a"))
    uow.commit()
    consumers = cast(Any, uow.event_consumers)  # `update` is not in the port, but exists
    mailer = uow.event_consumers.register("mailer", position=1)
    renamed = mailer.model_copy(update={"name": "other"})
    with pytest.raises(InvalidValue, match="cannot change once"):
        consumers.update(renamed)
    back = mailer.model_copy(update={"position": 0})
    with pytest.raises(InvalidValue, match="only moves forward"):
        consumers.update(back)


def test_two_units_of_work_acknowledging_at_once_conflict(db: Database) -> None:
    commit(db, "a", "b")
    with db.unit_of_work() as uow:
        uow.event_consumers.register("mailer", position=0)
        uow.commit()
    with db.unit_of_work() as first:
        mailer = first.event_consumers.find_by_name("mailer")
        assert mailer is not None
    with db.unit_of_work() as second:
        second.event_consumers.acknowledge("mailer", 1)
        second.commit()
    with db.unit_of_work() as first:
        consumers = cast(Any, first.event_consumers)
        with pytest.raises(Conflict):
            consumers.update(mailer.model_copy(update={"position": 2}))


def test_unregistering_is_audited_and_names_must_exist(uow: UnitOfWork) -> None:
    consumer = uow.event_consumers.register("mailer")
    assert uow.event_consumers.unregister("mailer") == consumer
    assert uow.event_consumers.find_by_name("mailer") is None
    [entry] = uow.audit_logs.list(event_type="event_consumer.deleted")
    assert entry.entity_id == consumer.id
    with pytest.raises(NotFound):
        uow.event_consumers.unregister("mailer")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda uow: uow.event_consumers.register(""), "name"),
        (lambda uow: uow.event_consumers.register("x" * 101), "name"),
        (lambda uow: uow.event_consumers.register(None), "name"),
        (lambda uow: uow.event_consumers.register("m", position=-1), "position"),
        (lambda uow: uow.event_consumers.register("m", position=True), "position"),
        (lambda uow: uow.event_consumers.register("m", position=1.0), "position"),
        (lambda uow: uow.event_consumers.register("m", position=2**63), "position"),
        (lambda uow: uow.event_consumers.acknowledge("m", "1"), "position"),
        (lambda uow: uow.event_consumers.find_by_name(None), "name"),
        (lambda uow: uow.event_consumers.find_by_name("a\x00b"), "name"),
        (lambda uow: uow.event_consumers.unregister(["m"]), "name"),
        (lambda uow: uow.event_log.purge_before(None), "recorded_at"),
        (lambda uow: uow.event_log.purge_before(datetime(2026, 1, 1)), "recorded_at"),
        (lambda uow: uow.event_log.purge_before("2026-01-01"), "recorded_at"),
        (lambda uow: uow.event_log.purge_before(uow.clock.now(), limit=0), "limit"),
        (lambda uow: uow.event_log.purge_before(uow.clock.now(), limit=100_001), "limit"),
        (lambda uow: uow.event_log.purge_before(uow.clock.now(), limit=False), "limit"),
    ],
)
def test_bad_arguments_are_refused_naming_them(uow: UnitOfWork, call: Any, field: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        call(uow)
    assert refused.value.field == field


def test_the_purge_is_audited_and_recorded(db: Database) -> None:
    heard: list[EventLogPurged] = []
    db.subscribe(EventLogPurged, heard.append)
    numbers = commit(db, "a", "b")
    clock_of(db).advance(10 * DAY)
    assert purge(db) == 2
    assert purge(db) == 0
    assert heard == [EventLogPurged(numbers[-1], 2)]
    with db.unit_of_work(read_only=True) as uow:
        [entry] = uow.audit_logs.list(event_type="event_log.purged")
        # The purge's own event is logged after the horizon: readers learn of it.
        [logged] = uow.event_log.read_after(numbers[-1])
    assert entry.event_category is EventCategory.RECORD
    assert entry.entity_type == "event_log"
    data = entry.event_data
    assert isinstance(data, dict) and (data["through"], data["removed"]) == (numbers[-1], 2)
    assert logged.event() == EventLogPurged(numbers[-1], 2)


def test_a_read_only_unit_of_work_can_neither_purge_nor_register(db: Database) -> None:
    with db.unit_of_work(read_only=True) as uow:
        with pytest.raises(ReadOnly):
            uow.event_log.purge_before(db.clock.now())
        with pytest.raises(ReadOnly):
            uow.event_consumers.register("mailer")
