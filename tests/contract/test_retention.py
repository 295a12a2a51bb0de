"""The retention purges of the append-only tables, on every backend: `purge_before(cutoff,
limit=)` of the audit trail, idempotency keys, agent log chunks and metrics removes exactly
the rows older than the cutoff, the oldest first, at most `limit` of them; writes one audit
entry and records one event per call that removed anything; and refuses bad arguments
naming them. (The event log's purge: test_event_log_retention.py.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from agentkeel.database import Database
from agentkeel.domain.agents import Metric, MetricType
from agentkeel.domain.audit import AuditEntry, AuditLogsPurged, EventCategory, RecordsPurged
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import InvalidValue, NotFound, ReadOnly
from agentkeel.domain.planning import Task
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories

DAY = timedelta(days=1)


def clock_of(uow: UnitOfWork) -> FakeClock:
    assert isinstance(uow.clock, FakeClock)
    return uow.clock


def audit_entry(message: str) -> AuditEntry:
    return AuditEntry(event_type="test", event_category=EventCategory.RECORD, message=message)


# Each kind: (how to add one row, how to purge, the column compared, the audit event type).
def add_entry(uow: UnitOfWork, n: int) -> None:
    uow.audit_logs.add(audit_entry(f"entry {n}"))


def keel(uow: UnitOfWork) -> Project:
    projects = uow.projects.list()
    return projects[0] if projects else factories.project(uow)


def add_key(uow: UnitOfWork, n: int) -> None:
    project = keel(uow)
    uow.tasks.add(Task(project_id=project.id, name=f"task {n}"), idempotency_key=f"key-{n}")


def add_chunk(uow: UnitOfWork, n: int) -> None:
    uow.agent_log_chunks.append("agent-1", "brave-otter", 1, [f"chunk {n}"])


def add_metric(uow: UnitOfWork, n: int) -> None:
    project = keel(uow)
    # A metric's `timestamp` is when it was measured, the caller's (default: the real now).
    measured = uow.clock.now()
    metric = Metric(project_id=project.id, type=MetricType.TOKEN_USAGE, value=n, timestamp=measured)
    uow.metrics.record(metric)


def count_of(uow: UnitOfWork, kind: str) -> int:
    match kind:
        case "audit_logs":
            # The purge's own entries are not what was purged.
            return len([e for e in uow.audit_logs.list() if e.event_type == "test"])
        case "idempotency_keys":
            return uow.idempotency_keys.count()
        case "agent_log_chunks":
            return uow.agent_log_chunks.count()
        case "metrics":
            return uow.metrics.count()
    raise AssertionError(kind)


KINDS: dict[str, tuple[Callable[[UnitOfWork, int], None], Callable[..., int], str, str]] = {
    "audit_logs": (
        add_entry,
        lambda uow, *a, **k: uow.audit_logs.purge_before(*a, **k),
        "timestamp",
        "audit_entry",
    ),
    "idempotency_keys": (
        add_key,
        lambda uow, *a, **k: uow.idempotency_keys.purge_before(*a, **k),
        "created_at",
        "command_record",
    ),
    "agent_log_chunks": (
        add_chunk,
        lambda uow, *a, **k: uow.agent_log_chunks.purge_before(*a, **k),
        "created_at",
        "agent_log_chunk",
    ),
    "metrics": (
        add_metric,
        lambda uow, *a, **k: uow.metrics.purge_before(*a, **k),
        "timestamp",
        "metric",
    ),
}


def age(uow: UnitOfWork, kind: str, old: int, new: int) -> datetime:
    """`old` rows, ten days pass, `new` rows; the cutoff between them."""
    add, _, _, _ = KINDS[kind]
    for n in range(old):
        add(uow, n)
    clock_of(uow).advance(10 * DAY)
    cutoff = uow.clock.now()
    for n in range(old, old + new):
        add(uow, n)
    return cutoff


@pytest.mark.parametrize("kind", KINDS)
def test_a_purge_removes_exactly_the_rows_older_than_the_cutoff(uow: UnitOfWork, kind: str) -> None:
    cutoff = age(uow, kind, old=3, new=2)
    _, purge, _, _ = KINDS[kind]
    before = uow.audit_logs.count()
    assert purge(uow, cutoff) == 3
    assert count_of(uow, kind) == 2
    assert purge(uow, cutoff) == 0  # nothing older is left
    # One audit entry for the call that removed rows, none for the one that did not.
    [entry] = [e for e in uow.audit_logs.list() if e.event_type.endswith(".purged")]
    assert entry.event_type == f"{kind}.purged"
    assert entry.event_category is EventCategory.RECORD
    assert entry.event_data == {"removed": 3, "cutoff": cutoff.isoformat()}
    assert entry.message.startswith("Purged 3 ")
    assert uow.audit_logs.count() == before + 1 - (3 if kind == "audit_logs" else 0)


@pytest.mark.parametrize("kind", KINDS)
def test_a_bounded_purge_removes_the_oldest_first_and_at_most_limit(
    uow: UnitOfWork, kind: str
) -> None:
    cutoff = age(uow, kind, old=5, new=1)
    _, purge, _, _ = KINDS[kind]
    assert [purge(uow, cutoff, limit=2) for _ in range(4)] == [2, 2, 1, 0]
    assert count_of(uow, kind) == 1
    assert len([e for e in uow.audit_logs.list() if e.event_type == f"{kind}.purged"]) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_a_purge_records_its_event(db: Database, kind: str) -> None:
    heard: list[Any] = []
    db.subscribe(AuditLogsPurged, heard.append)
    db.subscribe(RecordsPurged, heard.append)
    with db.unit_of_work() as uow:
        cutoff = age(uow, kind, old=2, new=0)
        _, purge, _, label = KINDS[kind]
        purge(uow, cutoff)
        purge(uow, cutoff)  # nothing left: no event
        uow.commit()
    expected = AuditLogsPurged(2) if kind == "audit_logs" else RecordsPurged(label, 2, cutoff)
    assert heard == [expected]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("field", "arguments"),
    [
        ("cutoff", (None,)),
        ("cutoff", (datetime(2026, 1, 1),)),  # naive
        ("cutoff", ("2026-01-01",)),
        ("limit", (datetime(2026, 1, 1).astimezone(), 0)),
        ("limit", (datetime(2026, 1, 1).astimezone(), 100_001)),
        ("limit", (datetime(2026, 1, 1).astimezone(), True)),
        ("limit", (datetime(2026, 1, 1).astimezone(), 1.5)),
        ("limit", (datetime(2026, 1, 1).astimezone(), -1)),
    ],
)
def test_bad_arguments_are_refused_naming_them(
    uow: UnitOfWork, kind: str, field: str, arguments: tuple[Any, ...]
) -> None:
    _, purge, column, _ = KINDS[kind]
    cutoff, *limit = arguments
    with pytest.raises(InvalidValue) as refused:
        purge(uow, cutoff, **({"limit": limit[0]} if limit else {}))
    assert refused.value.field == (column if field == "cutoff" else "limit")


@pytest.mark.parametrize("kind", KINDS)
def test_a_read_only_unit_of_work_cannot_purge(db: Database, kind: str) -> None:
    with db.unit_of_work() as uow:
        age(uow, kind, old=1, new=0)
        uow.commit()
    with db.unit_of_work(read_only=True) as uow:
        _, purge, _, _ = KINDS[kind]
        with pytest.raises(ReadOnly):
            purge(uow, uow.clock.now() + DAY)


def test_a_command_repeated_with_a_purged_key_creates_anew(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    first = uow.tasks.add(Task(project_id=project.id, name="First"), idempotency_key="req-1")
    clock_of(uow).advance(10 * DAY)
    kept = uow.tasks.add(Task(project_id=project.id, name="Kept"), idempotency_key="req-2")
    assert uow.idempotency_keys.purge_before(uow.clock.now() - 5 * DAY) == 1
    # Forgotten: the key is unused again, and a repeat runs as a first call would.
    assert uow.tasks.created_under("req-1") is None
    again = uow.tasks.add(Task(project_id=project.id, name="Again"), idempotency_key="req-1")
    assert again.id != first.id and again.name == "Again"
    assert uow.tasks.count() == 3
    # A key still remembered keeps its promise.
    repeat = uow.tasks.add(Task(project_id=project.id, name="Other"), idempotency_key="req-2")
    assert repeat.id == kept.id
    # And a key whose entity is gone but which is remembered still refuses to create again.
    uow.tasks.delete(kept.id)
    with pytest.raises(NotFound):
        uow.tasks.add(Task(project_id=project.id, name="Other"), idempotency_key="req-2")


def test_an_agents_log_loses_its_beginning_and_numbers_on(uow: UnitOfWork) -> None:
    # One append stamps a whole batch with one time: the purge takes such a batch in its
    # order, so a bounded purge never leaves a hole in the middle of an agent's log.
    assert uow.agent_log_chunks.append("agent-1", "otter", 1, ["a", "b", "c", "d"]) == 4
    uow.agent_log_chunks.append("agent-2", "fox", 1, ["x"])
    clock_of(uow).advance(10 * DAY)
    cutoff = uow.clock.now()
    uow.agent_log_chunks.append("agent-1", "otter", 2, ["e"])
    assert uow.agent_log_chunks.purge_before(cutoff, limit=2) == 2
    kept = [c.chunk_number for c in uow.agent_log_chunks.find_by_agent("agent-1")]
    assert kept[-1] == 5 and kept == list(range(kept[0], 6))  # a suffix: no hole
    assert uow.agent_log_chunks.purge_before(cutoff) == 3
    assert [c.content for c in uow.agent_log_chunks.find_by_agent("agent-1")] == ["e"]
    assert uow.agent_log_chunks.find_by_agent("agent-2") == []
    assert uow.agent_log_chunks.append("agent-1", "otter", 2, ["f"]) == 6
    assert uow.agent_log_chunks.session_count("agent-1") == 2


def test_aggregates_count_the_metrics_that_are_left(uow: UnitOfWork) -> None:
    project = factories.project(uow)
    add_metric(uow, 100)
    clock_of(uow).advance(10 * DAY)
    cutoff = uow.clock.now()
    add_metric(uow, 7)
    assert uow.metrics.tokens_by_project() == {project.id: 107}
    assert uow.metrics.purge_before(cutoff) == 1
    assert uow.metrics.tokens_by_project() == {project.id: 7}


def test_the_audit_purge_leaves_its_own_entry_which_a_later_purge_can_remove(
    uow: UnitOfWork,
) -> None:
    old = uow.audit_logs.add(audit_entry("old"))
    clock_of(uow).advance(2 * DAY)
    new = uow.audit_logs.add(audit_entry("new"))
    assert uow.audit_logs.purge_before(new.timestamp - DAY) == 1
    entries = uow.audit_logs.list()
    assert [e.message for e in entries][1:] == ["new"]
    assert entries[0].event_type == "audit_logs.purged" and entries[0].entity_type == "audit_entry"
    cutoff = (new.timestamp - DAY).isoformat()
    assert entries[0].message == f"Purged 1 audit entries older than {cutoff}"
    assert old.id not in {e.id for e in entries}
    clock_of(uow).advance(2 * DAY)
    later = uow.clock.now()
    assert uow.audit_logs.purge_before(later) == 2  # "new" and the first summary
    [summary] = uow.audit_logs.list()
    assert summary.event_data == {"removed": 2, "cutoff": later.isoformat()}
