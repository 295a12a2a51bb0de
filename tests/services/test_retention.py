"""The retention purge service, on every backend: every kind purged in bounded batches (N
rows in ceil(N / batch size) committed units of work), newer rows left, the settings
followed (0: kept forever), registered consumers honoured; bad arguments and bad settings
refused; and the `agentkeel purge` command."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agentkeel.cli import main
from agentkeel.database import Database
from agentkeel.domain.agents import Metric, MetricType
from agentkeel.domain.audit import AuditEntry, EventCategory, EventSource
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import InvalidValue
from agentkeel.domain.planning import Task
from agentkeel.domain.workspace import SETTING_DEFINITIONS
from agentkeel.domain.workspace.events import ProjectArchived
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.retention import (
    RetentionKind,
    purge_batch,
    purge_expired,
    retention_cutoff,
    retention_setting,
)
from tests import factories

DAY = timedelta(days=1)


class CountingDatabase:
    """A `Database` that counts the writing units of work opened and committed."""

    def __init__(self, db: Database) -> None:
        self.db, self.opened, self.commits = db, 0, 0

    def unit_of_work(
        self, *, source: EventSource = EventSource.SYSTEM, read_only: bool = False
    ) -> UnitOfWork:
        uow = self.db.unit_of_work(source=source, read_only=read_only)
        if not read_only:
            self.opened += 1
            commit = uow.commit

            def counted() -> Any:
                self.commits += 1
                return commit()

            uow.commit = counted  # type: ignore[method-assign]
        return uow


def clock_of(db: Database) -> FakeClock:
    assert isinstance(db.clock, FakeClock)
    return db.clock


def add_rows(uow: UnitOfWork, n: int, tag: str) -> None:
    """`n` rows of every kind, stamped now by the database's clock."""
    project = factories.project(uow, f"Project {tag}")
    for i in range(n):
        uow.audit_logs.add(
            AuditEntry(event_type="test", event_category=EventCategory.RECORD, message=tag)
        )
        uow.tasks.add(Task(project_id=project.id, name=f"{tag}{i}"), idempotency_key=f"{tag}-{i}")
        uow.agent_log_chunks.append(f"agent-{tag}", "otter", 1, [f"{tag}{i}"])
        uow.metrics.record(
            Metric(
                project_id=project.id,
                type=MetricType.TOKEN_USAGE,
                value=i,
                timestamp=uow.clock.now(),
            )
        )
        uow.record(ProjectArchived(f"{tag}{i}"))
        uow.commit()  # one event per unit of work


def counts(db: Database) -> dict[RetentionKind, int]:
    with db.unit_of_work(read_only=True) as uow:
        return {
            RetentionKind.AUDIT_LOGS: len(uow.audit_logs.list(event_type="test")),
            RetentionKind.EVENT_LOG: len(
                [
                    e
                    for e in uow.event_log.read_after(uow.event_log.purged_through(), 10_000)
                    if e.event_type == "ProjectArchived"
                ]
            ),
            RetentionKind.IDEMPOTENCY_KEYS: uow.idempotency_keys.count(),
            RetentionKind.AGENT_LOG_CHUNKS: uow.agent_log_chunks.count(),
            RetentionKind.METRICS: uow.metrics.count(),
        }


@pytest.mark.parametrize("old", [6, 7])
def test_every_kind_is_purged_in_bounded_batches_and_newer_rows_stay(
    db: Database, old: int
) -> None:
    with db.unit_of_work() as uow:
        add_rows(uow, old, "old")
    clock_of(db).advance(400 * DAY)  # past every default retention (metrics: 365 days)
    with db.unit_of_work() as uow:
        add_rows(uow, 2, "new")
    assert set(counts(db).values()) == {old + 2}
    counting = CountingDatabase(db)

    start = db.clock.now()
    report = purge_expired(counting, batch_size=3)
    end = db.clock.now()

    assert [purged.kind for purged in report.kinds] == list(RetentionKind)
    for purged in report.kinds:
        assert (purged.removed, purged.batches) == (old, math.ceil(old / 3)), purged.kind
        # Taken once, at the start, from the clock and the setting.
        assert purged.cutoff is not None
        assert start - purged.days * DAY < purged.cutoff < end - purged.days * DAY
    assert report.removed == 5 * old
    assert counting.commits == 5 * math.ceil(old / 3)
    # A batch that finds nothing (after a full one) is opened but commits nothing.
    assert counting.opened == counting.commits + (5 if old % 3 == 0 else 0)
    assert set(counts(db).values()) == {2}
    # The days in force, from the settings.
    assert {p.kind: p.days for p in report.kinds} == {
        RetentionKind.AUDIT_LOGS: 30,
        RetentionKind.EVENT_LOG: 7,
        RetentionKind.IDEMPOTENCY_KEYS: 30,
        RetentionKind.AGENT_LOG_CHUNKS: 30,
        RetentionKind.METRICS: 365,
    }
    # Each committed batch left one audit entry.
    with db.unit_of_work(read_only=True) as uow:
        purges = [e for e in uow.audit_logs.list() if e.event_type.endswith(".purged")]
    assert len(purges) == counting.commits
    assert purge_expired(db, batch_size=3).removed == 0


def test_the_cutoffs_follow_the_settings_and_zero_keeps_forever(db: Database) -> None:
    with db.unit_of_work() as uow:
        add_rows(uow, 2, "old")
    clock_of(db).advance(10 * DAY)
    with db.unit_of_work() as uow:
        uow.settings.set_value("retention.metricsDays", 0)
        uow.settings.set_value("retention.agentLogDays", 20)
        uow.settings.set_value("logging.retentionDays", 1)
        uow.commit()
    with db.unit_of_work(read_only=True) as uow:
        now = uow.clock.now()
        assert retention_cutoff(uow, RetentionKind.METRICS) is None
        cutoff = retention_cutoff(uow, RetentionKind.AUDIT_LOGS)
        assert cutoff is not None and timedelta(0) < cutoff - (now - DAY) < timedelta(seconds=1)
    report = purge_expired(db, batch_size=10)
    kept_forever = report.of(RetentionKind.METRICS)
    assert (kept_forever.days, kept_forever.cutoff, kept_forever.removed) == (0, None, 0)
    assert report.of(RetentionKind.AGENT_LOG_CHUNKS).removed == 0  # 10 of 20 days
    assert report.of(RetentionKind.AUDIT_LOGS).removed == 2
    assert report.of(RetentionKind.EVENT_LOG).removed == 2
    left = counts(db)
    assert left[RetentionKind.METRICS] == 2 and left[RetentionKind.AGENT_LOG_CHUNKS] == 2


def test_only_the_kinds_asked_for_are_purged(db: Database) -> None:
    with db.unit_of_work() as uow:
        add_rows(uow, 2, "old")
    clock_of(db).advance(400 * DAY)
    report = purge_expired(db, kinds=[RetentionKind.METRICS, "agent_log_chunks"])  # type: ignore[list-item]
    assert [p.kind for p in report.kinds] == [
        RetentionKind.METRICS,
        RetentionKind.AGENT_LOG_CHUNKS,
    ]
    assert counts(db) == {
        RetentionKind.AUDIT_LOGS: 2,
        RetentionKind.EVENT_LOG: 2,
        RetentionKind.IDEMPOTENCY_KEYS: 2,
        RetentionKind.AGENT_LOG_CHUNKS: 0,
        RetentionKind.METRICS: 0,
    }
    with pytest.raises(KeyError):
        report.of(RetentionKind.EVENT_LOG)


def test_an_event_a_registered_consumer_still_needs_is_never_purged(db: Database) -> None:
    with db.unit_of_work() as uow:
        add_rows(uow, 3, "old")
        uow.event_consumers.register("mailer", position=0)
        uow.commit()
    clock_of(db).advance(400 * DAY)
    for _ in range(2):
        report = purge_expired(db, batch_size=2, kinds=[RetentionKind.EVENT_LOG])
        assert report.of(RetentionKind.EVENT_LOG).removed == 0
        assert counts(db)[RetentionKind.EVENT_LOG] == 3
    with db.unit_of_work() as uow:
        logged = uow.event_log.read_after(0)
        second = [e for e in logged if e.event_type == "ProjectArchived"][1].sequence
        uow.event_consumers.acknowledge("mailer", second)
        uow.commit()
    report = purge_expired(db, batch_size=2, kinds=[RetentionKind.EVENT_LOG])
    assert report.of(RetentionKind.EVENT_LOG).removed == len(
        [e for e in logged if e.sequence <= second]
    )
    with db.unit_of_work(read_only=True) as uow:
        assert uow.event_log.purged_through() == second
        [left] = [e for e in uow.event_log.read_after(second) if e.event_type == "ProjectArchived"]
    assert left.payload == {"project_id": "old2"}


def test_one_batch_runs_in_the_callers_unit_of_work(uow: UnitOfWork) -> None:
    add_rows(uow, 3, "old")
    assert isinstance(uow.clock, FakeClock)
    uow.clock.advance(400 * DAY)
    assert purge_batch(uow, RetentionKind.METRICS, limit=2) == 2
    assert purge_batch(uow, "metrics", limit=2) == 1  # type: ignore[arg-type]
    # An explicit cutoff instead of the setting's.
    assert purge_batch(uow, RetentionKind.AGENT_LOG_CHUNKS, cutoff=uow.clock.now() - 500 * DAY) == 0
    uow.settings.set_value("retention.agentLogDays", 0)
    assert purge_batch(uow, RetentionKind.AGENT_LOG_CHUNKS) == 0  # kept forever
    assert uow.agent_log_chunks.count() == 3
    assert retention_setting(RetentionKind.AUDIT_LOGS) == "logging.retentionDays"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 100_001}, "batch_size"),
        ({"batch_size": True}, "batch_size"),
        ({"batch_size": "3"}, "batch_size"),
        ({"kinds": "metrics"}, "kinds"),
        ({"kinds": ["metrics", "nope"]}, "kinds"),
        ({"kinds": [["metrics"]]}, "kinds"),
        ({"kinds": 3}, "kinds"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_done(
    db: Database, arguments: dict[str, Any], field: str
) -> None:
    with db.unit_of_work() as uow:
        add_rows(uow, 1, "old")
    clock_of(db).advance(400 * DAY)
    with pytest.raises(InvalidValue) as refused:
        purge_expired(db, **arguments)
    assert (refused.value.entity, refused.value.field) == ("retention", field)
    assert set(counts(db).values()) == {1}


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda uow: purge_batch(uow, "nope"), "kind"),  # type: ignore[arg-type]
        (lambda uow: purge_batch(uow, None), "kind"),  # type: ignore[arg-type]
        (lambda uow: purge_batch(uow, RetentionKind.METRICS, limit=0), "limit"),
        (lambda uow: retention_cutoff(uow, "nope"), "kind"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_of_one_batch_are_refused(uow: UnitOfWork, call: Any, field: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        call(uow)
    assert refused.value.field == field


RETENTION_KEYS = [
    "retention.eventLogDays",
    "retention.idempotencyKeyDays",
    "retention.agentLogDays",
    "retention.metricsDays",
]


@pytest.mark.parametrize("key", RETENTION_KEYS)
@pytest.mark.parametrize("value", [-1, 1.5, 36_501, "7", None, True, [7]])
def test_a_retention_setting_refuses_what_is_not_a_number_of_days(
    uow: UnitOfWork, key: str, value: Any
) -> None:
    with pytest.raises(InvalidValue) as refused:
        uow.settings.set_value(key, value)
    assert refused.value.field == key
    assert uow.settings.value(key) == SETTING_DEFINITIONS[key].default


@pytest.mark.parametrize("key", RETENTION_KEYS)
def test_a_retention_setting_takes_zero_to_a_hundred_years(uow: UnitOfWork, key: str) -> None:
    for days in (0, 1, 36_500):
        uow.settings.set_value(key, days)
        assert uow.settings.value_as(key, int) == days


def test_the_audit_trail_cannot_be_kept_forever(uow: UnitOfWork) -> None:
    with pytest.raises(InvalidValue, match="at least 1"):
        uow.settings.set_value("logging.retentionDays", 0)


def test_agentkeel_purge_removes_and_says_what(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "orchestrator.db"
    clock = FakeClock()
    with Database.open(str(path), clock=clock) as db, db.unit_of_work() as uow:
        add_rows(uow, 3, "old")
        uow.settings.set_value("retention.metricsDays", 0)
        uow.commit()
    # The command runs on the real clock: everything above is from January 2026 or before
    # (the fake clock's start), older than a year ago only once it is 2027.
    assert main(["purge", str(path), "--batch-size", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f"{path}: metrics: kept forever"
    assert [line.split(": ")[1] for line in lines] == [kind.value for kind in RetentionKind]
    assert all(" removed in " in line for line in lines[:-1])
    assert main(["purge", str(path), "--batch-size", "0"]) == 2
    assert "batch_size must be a whole number" in capsys.readouterr().err
