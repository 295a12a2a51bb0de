"""Paging of the finders whose result grows with time (`after=` a `Position`, `limit=`), on
every adapter: pages walk the whole result exactly once, in order; `limit=0` and a
position past the end give empty pages; bad values are refused naming the field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agentkeel.domain.agents import Message, Metric, MetricType, Party
from agentkeel.domain.audit import AuditEntry, EventCategory
from agentkeel.domain.errors import InvalidValue
from agentkeel.ports.base import Position
from agentkeel.ports.unit_of_work import UnitOfWork
from tests import factories

COUNT = 11  # entries each finder finds (and as many of the same table it must not)


@dataclass(frozen=True)
class Paged:
    """A paged finder: `fill` stores what it finds (and some that it must not) and returns
    what the call needs; `call` asks for a page; `time` reads the position's time of an
    entry; `newest_first` gives the finder's direction."""

    name: str
    fill: Callable[[UnitOfWork], dict[str, str]]
    call: Callable[[UnitOfWork, dict[str, str], Position | None, int | None], list[Any]]
    time: Callable[[Any], datetime]
    newest_first: bool = False


def two_agents(uow: UnitOfWork) -> dict[str, str]:
    return {
        "agent": factories.agent(uow, "paged-one").id,
        "other": factories.agent(uow, "paged-two").id,
    }


def audit_fill(uow: UnitOfWork) -> dict[str, str]:
    for n in range(2 * COUNT):
        uow.audit_logs.add(
            AuditEntry(
                entity_type="probe",
                entity_id="subject" if n % 2 else "another",
                event_type="probe.seen",
                event_category=EventCategory.QUALITY,
                message=f"seen {n}",
            )
        )
    return {}


def metrics_fill(uow: UnitOfWork) -> dict[str, str]:
    """Metrics in runs of three sharing one timestamp: the id orders each run."""
    projects = [factories.project(uow, "paged"), factories.project(uow, "other")]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for n in range(2 * COUNT):
        uow.metrics.record(
            Metric(
                project_id=projects[n % 2].id,
                agent_id="paged-agent",
                type=MetricType.TOKEN_USAGE,
                value=float(n),
                timestamp=start + timedelta(seconds=n // 6),
            )
        )
    return {"project": projects[0].id}


def message(uow: UnitOfWork, sender: str, to: str | None, **fields: Any) -> Message:
    return uow.messages.add(
        Message(
            sender_type=Party.AGENT,
            sender_agent_id=sender,
            recipient_type=Party.AGENT if to else Party.USER,
            recipient_agent_id=to,
            content="a message",
            **fields,
        )
    )


def to_user_fill(uow: UnitOfWork) -> dict[str, str]:
    ids = two_agents(uow)
    for n in range(2 * COUNT):
        read = None if n % 2 else datetime(2026, 1, 1, tzinfo=UTC)
        message(uow, ids["agent"], None, read_at=read)
    return ids


def requiring_fill(uow: UnitOfWork) -> dict[str, str]:
    ids = two_agents(uow)
    asked = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(2 * COUNT):
        message(uow, ids["other"], ids["agent"], requires_response_at=asked if n % 2 else None)
    return ids


def replies_fill(uow: UnitOfWork) -> dict[str, str]:
    ids = two_agents(uow)
    parent = message(uow, ids["other"], ids["agent"])
    other = message(uow, ids["other"], ids["agent"])
    for n in range(2 * COUNT):
        uow.messages.reply(parent.id if n % 2 else other.id, f"reply {n}")
    return {**ids, "parent": parent.id}


def conversations_fill(uow: UnitOfWork) -> dict[str, str]:
    ids = two_agents(uow)
    for n in range(2 * COUNT):
        asker, asked = (ids["other"], ids["agent"]) if n % 2 else (ids["agent"], ids["other"])
        uow.conversations.ask(asker, asked, f"question {n}?")
    return ids


PAGED = [
    Paged(
        "audit_logs.list by entity",
        audit_fill,
        lambda uow, ids, after, limit: uow.audit_logs.list(
            entity_type="probe", entity_id="subject", after=after, limit=limit
        ),
        lambda entry: entry.timestamp,
        newest_first=True,
    ),
    Paged(
        "metrics.list by project",
        metrics_fill,
        lambda uow, ids, after, limit: uow.metrics.list(
            project_id=ids["project"], after=after, limit=limit
        ),
        lambda metric: metric.timestamp,
    ),
    Paged(
        "messages.find_pending_for_user",
        to_user_fill,
        lambda uow, ids, after, limit: uow.messages.find_pending_for_user(after=after, limit=limit),
        lambda message: message.created_at,
    ),
    Paged(
        "messages.find_requiring_response to an agent",
        requiring_fill,
        lambda uow, ids, after, limit: uow.messages.find_requiring_response(
            recipient_agent_id=ids["agent"], after=after, limit=limit
        ),
        lambda message: message.created_at,
    ),
    Paged(
        "messages.find_replies",
        replies_fill,
        lambda uow, ids, after, limit: uow.messages.find_replies(
            ids["parent"], after=after, limit=limit
        ),
        lambda message: message.created_at,
    ),
    Paged(
        "conversations.find_pending_for_agent",
        conversations_fill,
        lambda uow, ids, after, limit: uow.conversations.find_pending_for_agent(
            ids["agent"], after=after, limit=limit
        ),
        lambda conversation: conversation.created_at,
    ),
    Paged(
        "conversations.list by asker",
        conversations_fill,
        lambda uow, ids, after, limit: uow.conversations.list(
            from_agent_id=ids["agent"], after=after, limit=limit
        ),
        lambda conversation: conversation.created_at,
    ),
]

BY_NAME = pytest.mark.parametrize("paged", PAGED, ids=lambda paged: paged.name)


def position(paged: Paged, entry: Any) -> Position:
    return paged.time(entry), entry.id


@BY_NAME
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_pages_walk_the_whole_result_once_in_order(
    uow: UnitOfWork, paged: Paged, size: int
) -> None:
    ids = paged.fill(uow)
    everything = paged.call(uow, ids, None, None)
    assert len(everything) == COUNT
    keys = [(paged.time(entry), entry.id) for entry in everything]
    if paged.newest_first:  # newest first, ties by id
        assert keys == sorted(keys, key=lambda key: (-key[0].timestamp(), key[1]))
    else:
        assert keys == sorted(keys)
    walked: list[Any] = []
    after = None
    while True:
        found = paged.call(uow, ids, after, size)
        assert len(found) <= size
        if not found:
            break
        walked += found
        after = position(paged, found[-1])
    assert [entry.id for entry in walked] == [entry.id for entry in everything]


@BY_NAME
def test_a_limit_of_0_and_a_position_past_the_end_give_empty_pages(
    uow: UnitOfWork, paged: Paged
) -> None:
    ids = paged.fill(uow)
    everything = paged.call(uow, ids, None, None)
    assert paged.call(uow, ids, None, 0) == []
    assert paged.call(uow, ids, position(paged, everything[3]), 0) == []
    assert paged.call(uow, ids, position(paged, everything[-1]), None) == []
    assert paged.call(uow, ids, position(paged, everything[-1]), 5) == []
    rest = paged.call(uow, ids, position(paged, everything[3]), None)
    assert [entry.id for entry in rest] == [entry.id for entry in everything[4:]]


@BY_NAME
@pytest.mark.parametrize(
    ("field", "after", "limit"),
    [
        ("limit", None, -1),
        ("limit", None, 1.5),
        ("limit", None, True),
        ("limit", None, "3"),
        ("after", "the last one", None),
        ("after", (datetime(2026, 1, 1), "an-id"), None),
        ("after", (datetime(2026, 1, 1, tzinfo=UTC), "not an id!"), None),
        ("after", (datetime(2026, 1, 1, tzinfo=UTC),), None),
        ("after", ("2026-01-01", "an-id"), None),
        ("after", [datetime(2026, 1, 1, tzinfo=UTC), "an-id"], None),
    ],
)
def test_bad_paging_values_are_refused_naming_the_field(
    uow: UnitOfWork, paged: Paged, field: str, after: Any, limit: Any
) -> None:
    ids = paged.fill(uow)
    with pytest.raises(InvalidValue) as refused:
        paged.call(uow, ids, after, limit)
    assert refused.value.field == field
