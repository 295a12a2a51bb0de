"""The event log (outbox), on every backend: a committed unit of work's events are in it, in
commit order, with their JSON form; a rolled-back one's are not; reading pages after a
sequence number; in-process subscribers still hear every event."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import InvalidValue, ReadOnly
from agentkeel.domain.events import DomainEvent
from agentkeel.domain.workspace.events import ProjectArchived, SettingChanged
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


def test_a_committed_units_events_are_logged_in_order_with_their_fields(db: Database) -> None:
    with db.unit_of_work() as uow:
        start = uow.event_log.last_sequence()
        project = factories.project(uow)
        uow.projects.archive(project.id)
        uow.record(SettingChanged("advanced.payload", {"deep": [1, "two", None]}))
        uow.commit()
    with db.unit_of_work(read_only=True) as uow:
        logged = uow.event_log.read_after(start)
    assert [entry.event_type for entry in logged] == ["ProjectArchived", "SettingChanged"]
    assert logged[0].sequence > start
    assert logged[1].sequence > logged[0].sequence
    assert logged[0].payload == {"project_id": project.id}
    assert logged[1].payload == {"key": "advanced.payload", "value": {"deep": [1, "two", None]}}
    assert [entry.event() for entry in logged] == [
        ProjectArchived(project.id),
        SettingChanged("advanced.payload", {"deep": [1, "two", None]}),
    ]
    assert all(entry.recorded_at.tzinfo is not None for entry in logged)
    assert logged[0].recorded_at == logged[1].recorded_at  # one commit, one time


def test_a_rolled_back_units_events_are_never_logged(db: Database) -> None:
    with db.unit_of_work() as uow:
        start = uow.event_log.last_sequence()
        uow.record(ProjectArchived("kept-1"))
        uow.commit()
        uow.record(ProjectArchived("dropped-1"))
        uow.rollback()
        uow.record(ProjectArchived("kept-2"))
        uow.commit()
        uow.record(ProjectArchived("dropped-2"))  # left without commit
    with pytest.raises(RuntimeError), db.unit_of_work() as uow:
        uow.record(ProjectArchived("dropped-3"))
        raise RuntimeError("the unit fails before its commit")
    with db.unit_of_work() as uow:
        uow.record(ProjectArchived("kept-3"))
        uow.commit()
        logged = uow.event_log.read_after(start)
    assert [entry.payload["project_id"] for entry in logged] == ["kept-1", "kept-2", "kept-3"]
    sequences = [entry.sequence for entry in logged]
    assert sequences == sorted(set(sequences))
    assert uow_last(db) == sequences[-1]


def uow_last(db: Database) -> int:
    with db.unit_of_work(read_only=True) as uow:
        return uow.event_log.last_sequence()


def test_a_unit_without_events_logs_nothing(db: Database) -> None:
    start = uow_last(db)
    with db.unit_of_work() as uow:
        factories.project(uow)
        uow.commit()
    assert uow_last(db) == start
    with db.unit_of_work(read_only=True) as uow:
        assert uow.event_log.read_after(start) == []


def test_reading_pages_after_a_sequence_number(db: Database) -> None:
    start = uow_last(db)
    with db.unit_of_work() as uow:
        for n in range(7):
            uow.record(ProjectArchived(f"p{n}"))
            if n % 2:
                uow.commit()
        uow.commit()
    seen: list[str] = []
    position = start
    with db.unit_of_work(read_only=True) as uow:
        while page := uow.event_log.read_after(position, limit=3):
            assert len(page) <= 3
            seen += [entry.payload["project_id"] for entry in page]
            position = page[-1].sequence
        assert uow.event_log.last_sequence() == position
    assert seen == [f"p{n}" for n in range(7)]


def test_subscribers_in_process_still_hear_every_committed_event(db: Database) -> None:
    heard: list[DomainEvent] = []
    db.subscribe(DomainEvent, heard.append)
    with db.unit_of_work() as uow:
        uow.record(ProjectArchived("a"))
        uow.rollback()
        uow.record(ProjectArchived("b"))
        uow.commit()
    assert heard == [ProjectArchived("b")]


def test_a_read_only_unit_reads_the_log_as_of_its_snapshot(db: Database) -> None:
    start = uow_last(db)
    with db.unit_of_work(read_only=True) as reader:
        assert reader.event_log.read_after(start) == []
        with db.unit_of_work() as writer:
            writer.record(ProjectArchived("late"))
            writer.commit()
        assert reader.event_log.read_after(start) == []  # its snapshot
        reader.commit()  # ends the snapshot
        assert [e.payload for e in reader.event_log.read_after(start)] == [{"project_id": "late"}]


def test_a_read_only_unit_cannot_log_events(db: Database) -> None:
    with db.unit_of_work(read_only=True) as uow:
        uow.record(ProjectArchived("x"))
        with pytest.raises(ReadOnly):
            uow.commit()


def test_odd_text_is_logged_and_read_back_exactly(db: Database) -> None:
    odd = "nul\x00 surrogate\ud800 emoji\U0001f600 quote' \"back\\slash"
    with db.unit_of_work() as uow:
        start = uow.event_log.last_sequence()
        uow.record(SettingChanged(odd, {"k": odd, "n": 1.5, "t": True}))
        uow.commit()
        [entry] = uow.event_log.read_after(start)
    assert entry.event() == SettingChanged(odd, {"k": odd, "n": 1.5, "t": True})


BAD_ARGUMENTS: list[tuple[str, dict[str, Any]]] = [
    ("sequence", {"sequence": -1}),
    ("sequence", {"sequence": True}),
    ("sequence", {"sequence": 1.0}),
    ("sequence", {"sequence": "1"}),
    ("sequence", {"sequence": 2**63}),
    ("limit", {"limit": 0}),
    ("limit", {"limit": 10_001}),
    ("limit", {"limit": None}),
]


@pytest.mark.parametrize(("field", "arguments"), BAD_ARGUMENTS)
def test_read_after_refuses_bad_arguments_naming_them(
    uow: UnitOfWork, field: str, arguments: dict[str, Any]
) -> None:
    with pytest.raises(InvalidValue) as refused:
        uow.event_log.read_after(**arguments)
    assert refused.value.field == field


def test_a_recorded_at_is_the_committing_units_clock(db: Database) -> None:
    before = db.clock.now()
    with db.unit_of_work() as uow:
        start = uow.event_log.last_sequence()
        uow.record(ProjectArchived("x"))
        uow.commit()
        [entry] = uow.event_log.read_after(start)
    assert before < entry.recorded_at < db.clock.now()
    assert entry.recorded_at.utcoffset() == timedelta(0)


def test_an_event_with_no_json_form_fails_the_commit_and_writes_nothing(db: Database) -> None:
    start = uow_last(db)
    with db.unit_of_work() as uow:
        project = factories.project(uow)
        uow.record(SettingChanged("advanced.payload", object()))
        with pytest.raises(InvalidValue) as refused:
            uow.commit()
    assert refused.value.field == "value"
    assert uow_last(db) == start
    with db.unit_of_work(read_only=True) as uow:
        assert uow.projects.find(project.id) is None
