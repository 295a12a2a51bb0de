"""EventLogReader, on every backend: reads on from its position, in pages, once each."""

from __future__ import annotations

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.workspace.events import ProjectArchived
from agentkeel.services.events import EventLogReader


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
        EventLogReader(db, batch=0).read()
    assert refused.value.field == "limit"
