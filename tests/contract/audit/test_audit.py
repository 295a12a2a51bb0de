"""The audit log: append-only entries; every hard delete leaves one that outlives it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agentkeel.domain.audit import AuditEntry, EventCategory, EventSource, Severity
from agentkeel.domain.errors import InvalidValue, Protected
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories


def entry(**fields: object) -> AuditEntry:
    values: dict[str, object] = {
        "event_type": "workflow.started",
        "event_category": EventCategory.WORKFLOW,
        "message": "started",
    }
    values.update(fields)
    return AuditEntry.model_validate(values)


def test_entries_are_stamped_and_listed_newest_first(uow: UnitOfWork) -> None:
    first = uow.audit_logs.add(entry(message="one", event_data={"n": 1, "nested": [1, "x"]}))
    second = uow.audit_logs.add(entry(message="two", severity=Severity.WARNING))
    assert second.timestamp > first.timestamp
    assert uow.audit_logs.list() == [second, first]
    assert uow.audit_logs.get(first.id).event_data == {"n": 1, "nested": [1, "x"]}


def test_list_filters(uow: UnitOfWork) -> None:
    a = uow.audit_logs.add(entry(entity_type="project", entity_id="p1"))
    b = uow.audit_logs.add(entry(event_type="x.y", event_category=EventCategory.QUALITY))
    assert uow.audit_logs.list(entity_type="project", entity_id="p1") == [a]
    assert uow.audit_logs.list(category=EventCategory.QUALITY) == [b]
    assert uow.audit_logs.list(event_type="x.y") == [b]
    assert uow.audit_logs.list(since=b.timestamp) == [b]
    assert uow.audit_logs.list(limit=1) == [b]


def test_entries_cannot_be_changed_or_deleted(uow: UnitOfWork) -> None:
    stored = uow.audit_logs.add(entry())
    stored.message = "rewritten"
    with pytest.raises(Protected, match="append-only"):
        uow.audit_logs.update(stored)
    with pytest.raises(Protected):
        uow.audit_logs.delete(stored.id)


def test_hard_delete_of_a_project_leaves_one_entry(uow: UnitOfWork) -> None:
    project = factories.project(uow, "Doomed", description='it\'s "quoted" 🚢')
    repo = factories.repository(uow, project)
    factories.worktree(uow, repo)
    uow.projects.delete(project.id)

    [record] = uow.audit_logs.list(entity_type="project", entity_id=project.id)
    assert record.event_type == "project.deleted"
    assert record.event_category is EventCategory.RECORD
    assert record.source is EventSource.SYSTEM
    assert record.event_data == {"removed": {"projects": 1, "repositories": 1, "worktrees": 1}}
    state = record.before_state
    assert isinstance(state, dict)
    assert state["name"] == "Doomed"
    assert state["description"] == 'it\'s "quoted" 🚢'
    assert record.message == f"Deleted project {project.id!r} (Doomed) and 2 dependent rows"
    assert uow.audit_logs.count() == 1


def test_purge_before_removes_only_older_entries(uow: UnitOfWork) -> None:
    old = uow.audit_logs.add(entry(message="old"))
    uow.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    new = uow.audit_logs.add(entry(message="new"))
    assert uow.audit_logs.purge_before(new.timestamp - timedelta(days=1)) == 1
    purged, kept = uow.audit_logs.list()
    assert kept == new and purged.event_type == "audit_logs.purged"  # the purge's own entry
    assert uow.audit_logs.purge_before(old.timestamp) == 0


def test_payloads_with_nul_or_nan_are_refused() -> None:
    with pytest.raises(InvalidValue, match="NUL"):
        entry(event_data={"k": "a\x00b"})
    with pytest.raises(InvalidValue, match="NaN"):
        entry(after_state={"x": float("nan")})
