"""Domain rules that need no storage: secrets stay hidden, flags keep their first time,
errors say what went wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

import agentkeel
from agentkeel.domain.entity import Entity
from agentkeel.domain.errors import Busy, Conflict, DomainError, InvalidValue, ReadOnly
from agentkeel.domain.fields import Json, Name
from agentkeel.domain.workspace import Project


class Vault(Entity):
    secret_fields: ClassVar[frozenset[str]] = frozenset({"token"})

    owner: Name
    token: Name


def test_secrets_stay_out_of_repr_errors_and_audit_states() -> None:
    vault = Vault(owner="me", token="hunter2")
    assert "hunter2" not in repr(vault)
    assert "token" not in vault.audit_state()
    with pytest.raises(InvalidValue) as caught:
        Vault(owner="me", token="x" * 500)
    assert "xxxx" not in str(caught.value)
    assert "<secret>" in str(caught.value)


def test_a_flag_keeps_the_time_it_was_first_set() -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    project = Project(name="p")
    project.archive(first)
    project.archive(first + timedelta(days=1))
    assert project.archived_at == first
    project.unarchive()
    assert not project.is_archived


def test_times_are_normalised_to_utc() -> None:
    from datetime import timezone

    local = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    project = Project(name="p", archived_at=local)
    assert project.archived_at == local
    assert project.archived_at is not None and project.archived_at.utcoffset() == timedelta(0)


class Payload(Entity):
    data: Json | None = None


def test_a_payload_changed_in_place_counts_as_changed() -> None:
    stored = Payload.from_row({"id": "p1", "data": {"steps": [1]}})
    assert stored.changed_columns() == {}
    assert isinstance(stored.data, dict)
    steps = stored.data["steps"]
    assert isinstance(steps, list)
    steps.append(2)
    assert stored.changed_columns() == {"data": {"steps": [1, 2]}}


def test_busy_says_what_ran_out_and_stays_a_retryable_conflict() -> None:
    default = Busy()
    assert str(default) == (
        "the database is busy: another unit of work held it past the wait limit; retry"
    )
    pool = Busy("all 2 connections were in use past the wait limit")
    assert (
        str(pool)
        == "the database is busy: all 2 connections were in use past the wait limit; retry"
    )
    assert isinstance(pool, Conflict) and pool.entity == "database" and pool.key is None
    assert agentkeel.Busy is Busy and agentkeel.ReadOnly is ReadOnly
    assert {"Busy", "ReadOnly"} <= set(agentkeel.__all__)


def test_every_name_an_application_needs_imports_from_agentkeel() -> None:
    """Each entity and the enums of its fields, each error, each event and the clocks."""
    import typing
    from enum import StrEnum

    import agentkeel
    from agentkeel.domain.events import DomainEvent
    from agentkeel.schema.base import ENTITIES

    def subclasses(base: type) -> set[type]:
        found: set[type] = set(base.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    needed: set[type] = {DomainEvent, DomainError, agentkeel.Database, agentkeel.UnitOfWork}
    needed |= subclasses(DomainError) | subclasses(DomainEvent) | set(ENTITIES.values())
    for entity in ENTITIES.values():
        for hint in typing.get_type_hints(entity).values():
            for part in (hint, *typing.get_args(hint)):
                if isinstance(part, type) and issubclass(part, StrEnum):
                    needed.add(part)
    # Events that tests define (as applications may) are theirs to export.
    needed = {t for t in needed if t.__module__.startswith("agentkeel")}
    exported = {getattr(agentkeel, name) for name in agentkeel.__all__}
    missing = sorted(t.__name__ for t in needed - exported)
    assert missing == [], f"not importable from agentkeel: {missing}"


def test_a_value_nested_past_the_recursion_limit_is_an_invalid_value() -> None:
    from agentkeel.domain.agents import AgentProfile

    deep: list[object] = []
    inner = deep
    for _ in range(5000):
        inner.append([])
        inner = inner[0]  # type: ignore[assignment]
    fields: dict[str, Any] = {
        "name": "x",
        "display_name": "X",
        "type": "specialist",
        "system_prompt": "s",
    }
    with pytest.raises(InvalidValue) as made:
        AgentProfile(**fields, color=deep)  # type: ignore[arg-type]
    assert made.value.field == "color"
    profile = AgentProfile(**fields)
    with pytest.raises(InvalidValue) as assigned:
        profile.color = deep  # type: ignore[assignment]
    assert assigned.value.field == "color"
