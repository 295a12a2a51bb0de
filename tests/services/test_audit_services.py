"""The audit retention purge, driven by `logging.retentionDays`."""

from __future__ import annotations

from datetime import datetime, timedelta

from agentkeel.domain.audit import EventCategory
from agentkeel.domain.clock import FakeClock
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services.audit import purge_audit_logs
from tests import factories


def test_purge_keeps_entries_within_the_retention_period(uow: UnitOfWork) -> None:
    clock = uow.clock
    assert isinstance(clock, FakeClock)
    old = factories.project(uow, "Old")
    uow.projects.delete(old.id)
    clock.advance(timedelta(days=20))
    recent = factories.project(uow, "Recent")
    uow.projects.delete(recent.id)
    clock.advance(timedelta(days=15))  # the first entry is 35 days old, the second 15

    assert purge_audit_logs(uow) == 1
    entries = uow.audit_logs.list()
    assert [e.entity_id for e in entries] == [None, recent.id]
    assert entries[0].event_category is EventCategory.RECORD
    data = entries[0].event_data
    assert isinstance(data, dict) and data["removed"] == 1
    cutoff = datetime.fromisoformat(str(data["cutoff"]))
    assert timedelta(days=30) <= entries[0].timestamp - cutoff < timedelta(days=30, seconds=1)
    assert entries[0].message == f"Purged 1 audit entries older than {data['cutoff']}"


def test_purge_follows_the_setting(uow: UnitOfWork) -> None:
    clock = uow.clock
    assert isinstance(clock, FakeClock)
    uow.projects.delete(factories.project(uow).id)
    clock.advance(timedelta(days=3))
    assert purge_audit_logs(uow) == 0
    uow.settings.set_value("logging.retentionDays", 2)
    assert purge_audit_logs(uow) == 1
