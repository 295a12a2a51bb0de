"""EventLogReader, on every backend: reads on from its position, in pages, once each; a named
consumer's position saved in the database and holding the log; what a reader that fell
behind the retention purge gets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentkeel.database import Database
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import EventsPurged, InvalidValue, NotFound
from agentkeel.domain.workspace.events import ProjectArchived
from agentkeel.services.events import EventLogReader
from agentkeel.services.retention import RetentionKind, purge_expired


def commit_events(db: Database, *names: str) -> None:
    with db.unit_of_work() as uow:
        for name in names:
            uow.record(ProjectArchived(name))
        uow.commit()


def test_the_reader_hands_out_each_event_once_and_moves_on(db: Database) -> None:
    reader = EventLogReader(db, batch=2)
    reader.start_at_end()
    assert reader.read() == []
    commit_events(db, "a", "b", "c", "d", "e")
    assert [e.payload["project_id"] for e in reader.read(limit=3)] == ["a", "b", "c"]
    commit_events(db, "f")
    assert [e.payload["project_id"] for e in reader.read()] == ["d", "e", "f"]
    assert reader.read() == []
    # A consumer restarted from a saved position reads on from there.
    again = EventLogReader(db, after=reader.position)
    commit_events(db, "g")
    assert [e.event() for e in again.read()] == [ProjectArchived("g")]


def test_a_reader_with_a_bad_position_or_batch_is_refused_naming_it(db: Database) -> None:
    with pytest.raises(InvalidValue) as refused:
        EventLogReader(db, after=-1).read()
    assert refused.value.field == "sequence"
    with pytest.raises(InvalidValue) as refused:
        EventLogReader(db, batch=0)
    assert refused.value.field == "batch"
    with pytest.raises(InvalidValue) as refused:
        EventLogReader(db).read(limit="3")  # type: ignore[arg-type]
    assert refused.value.field == "limit"


def purge_everything_old(db: Database) -> None:
    """Age the log past its retention and purge it (anonymous readers do not hold it)."""
    assert isinstance(db.clock, FakeClock)
    db.clock.advance(timedelta(days=30))
    purge_expired(db, kinds=[RetentionKind.EVENT_LOG])


def test_a_consumer_reader_starts_where_it_acknowledged(db: Database) -> None:
    commit_events(db, "a", "b")
    reader = EventLogReader(db, consumer="mailer", batch=2)
    assert reader.position == 0  # new: registered at the purge's horizon (none yet)
    assert [e.payload["project_id"] for e in reader.read(limit=1)] == ["a"]
    reader.acknowledge()
    assert [e.payload["project_id"] for e in reader.read()] == ["b"]
    # Not acknowledged: a restarted consumer gets "b" again (at least once).
    again = EventLogReader(db, consumer="mailer")
    assert [e.payload["project_id"] for e in again.read()] == ["b"]
    again.acknowledge()
    commit_events(db, "c")
    assert [e.event() for e in EventLogReader(db, consumer="mailer").read()] == [
        ProjectArchived("c")
    ]
    with db.unit_of_work(read_only=True) as uow:
        assert [c.name for c in uow.event_consumers.list()] == ["mailer"]


def test_a_consumer_reader_holds_the_log_until_it_acknowledges(db: Database) -> None:
    commit_events(db, "a", "b")
    reader = EventLogReader(db, consumer="mailer")
    handed = reader.read()
    purge_everything_old(db)
    # Read but not acknowledged: kept, whatever their age.
    assert [e.payload for e in EventLogReader(db, consumer="mailer").read()] == [
        e.payload for e in handed
    ]
    reader.acknowledge()
    purge_everything_old(db)
    with db.unit_of_work(read_only=True) as uow:
        assert uow.event_log.purged_through() == handed[-1].sequence
    # The reader never fell behind: it reads on (only the purge's own event is new).
    assert {e.event_type for e in reader.read()} == {"EventLogPurged"}


def test_a_new_consumer_reads_everything_the_log_still_holds(db: Database) -> None:
    commit_events(db, "a")
    purge_everything_old(db)
    commit_events(db, "b")
    reader = EventLogReader(db, consumer="late")
    with db.unit_of_work(read_only=True) as uow:
        assert reader.position == uow.event_log.purged_through() > 0
    assert [e.payload.get("project_id") for e in reader.read()][-1] == "b"


def test_an_anonymous_reader_that_fell_behind_is_told_and_moves_on_when_it_chooses(
    db: Database,
) -> None:
    commit_events(db, "a", "b")
    reader = EventLogReader(db)
    purge_everything_old(db)
    commit_events(db, "c")
    with pytest.raises(EventsPurged) as behind:
        reader.read()
    assert behind.value.position == 0 and reader.position == 0  # nothing handed out
    assert behind.value.purged_through > 0 and behind.value.first_kept is not None
    reader.start_at_oldest()
    assert reader.position == behind.value.purged_through
    read = reader.read()
    assert read[0].sequence == behind.value.first_kept
    assert read[-1].event() == ProjectArchived("c")


def test_reader_arguments_that_do_not_fit_are_refused_naming_them(db: Database) -> None:
    with pytest.raises(InvalidValue) as refused:
        EventLogReader(db, after=3, consumer="mailer")
    assert refused.value.field == "after"
    with pytest.raises(InvalidValue) as refused:
        EventLogReader(db).acknowledge()
    assert refused.value.field == "consumer"
    with pytest.raises(InvalidValue) as refused:
        EventLogReader(db, consumer="  ")
    assert refused.value.field == "name"
    reader = EventLogReader(db, consumer="mailer")
    with pytest.raises(InvalidValue) as refused:
        reader.acknowledge(10**6)  # past the newest event
    assert refused.value.field == "position"
    with db.unit_of_work() as uow:
        uow.event_consumers.unregister("mailer")
        uow.commit()
    with pytest.raises(NotFound):
        reader.acknowledge()
