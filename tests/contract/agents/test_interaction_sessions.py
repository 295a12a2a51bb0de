"""Interaction sessions: a project's interview, planning and execution sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import JsonValue

from agentkeel.database import Database
from agentkeel.domain.agents import InteractionSession, SessionStatus, SessionType
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import InvalidTransition, InvalidValue, NotFound, ReferenceMissing
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories

INTERVIEW, PLANNING, EXECUTION = SessionType.INTERVIEW, SessionType.PLANNING, SessionType.EXECUTION


def test_start_stores_an_active_session_started_now(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    before = uow.clock.now()
    session = uow.interaction_sessions.start(project.id, INTERVIEW, {"questions": ["why?"]})
    assert session.status is SessionStatus.ACTIVE
    assert session.started_at > before
    assert session.ended_at is None and not session.is_ended
    assert uow.interaction_sessions.get(session.id) == session
    assert session.data == {"questions": ["why?"]}


def test_started_at_is_stamped_whatever_the_caller_says(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    early = uow.clock.now() - timedelta(days=300)
    session = uow.interaction_sessions.add(
        InteractionSession(project_id=project.id, type=PLANNING, started_at=early)
    )
    assert session.started_at > early
    session.started_at = early
    assert uow.interaction_sessions.update(session).started_at > early


@pytest.mark.parametrize("end", ["complete", "abandon"])
def test_ending_stamps_ended_at_and_is_final(uow: UnitOfWork, end: str) -> None:
    project = factories.project(uow)
    session = uow.interaction_sessions.start(project.id, EXECUTION)
    ended = getattr(uow.interaction_sessions, end)(session.id)
    status = SessionStatus.COMPLETED if end == "complete" else SessionStatus.ABANDONED
    assert ended.status is status
    assert ended.ended_at is not None and ended.ended_at > ended.started_at
    for again, requested in (("complete", "completed"), ("abandon", "abandoned")):
        with pytest.raises(InvalidTransition) as caught:
            getattr(uow.interaction_sessions, again)(session.id)
        assert caught.value.field == "status"
        assert str(caught.value) == (
            f"interaction_session.status cannot change from '{status}' to '{requested}'"
        )
    assert uow.interaction_sessions.get(session.id).ended_at == ended.ended_at


def test_ending_an_unknown_session_is_not_found(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound, match="interaction_session not found: id='nope'"):
        uow.interaction_sessions.complete("nope")
    with pytest.raises(NotFound):
        uow.interaction_sessions.abandon("nope")
    with pytest.raises(NotFound):
        uow.interaction_sessions.update_data("nope", {})


def test_an_active_session_takes_no_ended_at(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    now = uow.clock.now()
    with pytest.raises(InvalidValue, match="must be empty while the session is active") as caught:
        uow.interaction_sessions.add(
            InteractionSession(project_id=project.id, type=PLANNING, ended_at=now)
        )
    assert caught.value.field == "ended_at"
    assert uow.interaction_sessions.count() == 0
    session = uow.interaction_sessions.start(project.id, INTERVIEW)
    session.ended_at = now
    with pytest.raises(InvalidValue) as caught:
        uow.interaction_sessions.update(session)
    assert caught.value.field == "ended_at"
    assert uow.interaction_sessions.get(session.id).ended_at is None


def test_ending_on_the_generic_path_keeps_a_given_ended_at(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    session = uow.interaction_sessions.start(project.id, INTERVIEW)
    given = session.started_at + timedelta(minutes=5)
    session.status = SessionStatus.COMPLETED
    session.ended_at = given
    ended = uow.interaction_sessions.update(session)
    assert ended.ended_at == given
    assert uow.interaction_sessions.get(session.id).ended_at == given
    # Changed later, the caller's time is kept too; cleared, the end stays.
    ended.ended_at = given + timedelta(days=1)
    assert uow.interaction_sessions.update(ended).ended_at == given + timedelta(days=1)
    ended = uow.interaction_sessions.get(session.id)
    ended.ended_at = None
    assert uow.interaction_sessions.update(ended).ended_at == given + timedelta(days=1)
    ended = uow.interaction_sessions.get(session.id)
    ended.status = SessionStatus.ACTIVE
    with pytest.raises(InvalidTransition, match="'completed' to 'active'"):
        uow.interaction_sessions.update(ended)


def test_ending_without_an_ended_at_stamps_one(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    session = uow.interaction_sessions.start(project.id, INTERVIEW)
    session.status = SessionStatus.ABANDONED
    ended = uow.interaction_sessions.update(session)
    assert ended.ended_at is not None and ended.ended_at > ended.started_at


@pytest.mark.parametrize("end", ["started", "before"])
def test_an_ended_at_before_started_at_is_refused(uow: UnitOfWork, end: str) -> None:
    project = factories.project(uow)
    session = uow.interaction_sessions.start(project.id, INTERVIEW)
    session.status = SessionStatus.COMPLETED
    session.ended_at = session.started_at - timedelta(microseconds=1)
    with pytest.raises(InvalidValue, match="must not be before started_at") as caught:
        uow.interaction_sessions.update(session)
    assert caught.value.field == "ended_at"
    stored = uow.interaction_sessions.get(session.id)
    assert (stored.status, stored.ended_at) == (SessionStatus.ACTIVE, None)
    if end == "started":  # the very moment it started is no earlier
        stored.status = SessionStatus.COMPLETED
        stored.ended_at = stored.started_at
        assert uow.interaction_sessions.update(stored).ended_at == stored.started_at
    else:  # an ended session cannot be moved before its start either
        ended = uow.interaction_sessions.complete(session.id)
        ended.ended_at = ended.started_at - timedelta(days=1)
        with pytest.raises(InvalidValue, match="must not be before started_at"):
            uow.interaction_sessions.update(ended)


def test_a_session_is_stored_active(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    with pytest.raises(InvalidValue, match="must be active when the session is stored") as caught:
        uow.interaction_sessions.add(
            InteractionSession(project_id=project.id, type=PLANNING, status=SessionStatus.COMPLETED)
        )
    assert caught.value.field == "status"
    assert uow.interaction_sessions.count() == 0


def test_update_data_replaces_the_payload_even_after_the_end(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    session = uow.interaction_sessions.start(project.id, INTERVIEW, {"step": 1})
    odd: dict[str, JsonValue] = {
        "quote": 'it\'s "x"',
        "emoji": "🚢",
        "sql": "'; DROP TABLE x;--",
        "n": [1, 2.5, None],
    }
    assert uow.interaction_sessions.update_data(session.id, odd).data == odd
    uow.interaction_sessions.complete(session.id)
    assert uow.interaction_sessions.update_data(session.id, {"summary": "ok"}).data == {
        "summary": "ok"
    }
    assert uow.interaction_sessions.update_data(session.id, None).data is None


@pytest.mark.parametrize(
    "data", [{"nul": "a\x00b"}, {"nan": float("nan")}, {1: "int key"}, "x" * 1_000_001]
)
def test_unstorable_data_is_refused(uow: UnitOfWork, data: object) -> None:
    project = factories.project(uow)
    with pytest.raises(InvalidValue) as caught:
        uow.interaction_sessions.start(project.id, INTERVIEW, data)  # type: ignore[arg-type]
    assert caught.value.field == "data"
    session = uow.interaction_sessions.start(project.id, INTERVIEW, {"ok": True})
    with pytest.raises(InvalidValue):
        uow.interaction_sessions.update_data(session.id, data)  # type: ignore[arg-type]
    assert uow.interaction_sessions.get(session.id).data == {"ok": True}


def test_start_refuses_unknown_types_and_projects(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    with pytest.raises(InvalidValue, match="'interview', 'planning' or 'execution'"):
        uow.interaction_sessions.start(project.id, "chat")  # type: ignore[arg-type]
    with pytest.raises(ReferenceMissing, match=r"interaction_session\.project_id"):
        uow.interaction_sessions.start("ghost", INTERVIEW)


def test_list_is_newest_first_and_filters(db: Database) -> None:
    assert isinstance(db.clock, FakeClock)
    with db.unit_of_work() as uow:
        keel, other = factories.project(uow), factories.project(uow, "Other")
        first = uow.interaction_sessions.start(keel.id, INTERVIEW)
        second = uow.interaction_sessions.start(keel.id, PLANNING)
        third = uow.interaction_sessions.start(keel.id, INTERVIEW)
        elsewhere = uow.interaction_sessions.start(other.id, INTERVIEW)
        uow.interaction_sessions.complete(first.id)
        listed = uow.interaction_sessions.list
        assert [s.id for s in listed(project_id=keel.id)] == [third.id, second.id, first.id]
        assert [s.id for s in listed(project_id=keel.id, type=INTERVIEW)] == [third.id, first.id]
        assert [s.id for s in listed(project_id=keel.id, status=SessionStatus.COMPLETED)] == [
            first.id
        ]
        assert [s.id for s in listed(project_id=other.id)] == [elsewhere.id]
        assert listed(project_id="no-project") == []
        active = uow.interaction_sessions.active_for
        assert [s.id for s in active(keel.id)] == [third.id, second.id]
        assert [s.id for s in active(keel.id, type=INTERVIEW)] == [third.id]
        assert active(keel.id, type=EXECUTION) == []
        with pytest.raises(InvalidValue, match="status"):
            listed(project_id=keel.id, status="paused")  # type: ignore[arg-type]


def test_sessions_go_with_their_project(uow: UnitOfWork) -> None:
    keel, other = factories.project(uow), factories.project(uow, "Other")
    uow.interaction_sessions.start(keel.id, INTERVIEW)
    uow.interaction_sessions.start(keel.id, PLANNING)
    kept = uow.interaction_sessions.start(other.id, PLANNING)
    assert uow.projects.delete(keel.id) == {"projects": 1, "interaction_sessions": 2}
    assert [s.id for s in uow.interaction_sessions.list(project_id=other.id)] == [kept.id]
