"""Provider accounts: round-robin hand-out, exhaustion, secrets kept out of sight."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from agentkeel.database import Database
from agentkeel.domain.agents import Account, AccountExhausted, Agent
from agentkeel.domain.errors import DomainError, InvalidValue, NotFound
from agentkeel.domain.events import DomainEvent, RecordDeleted
from agentkeel.ports.unit_of_work import UnitOfWork

SECRET = "sk-ant-PLANTED-7f3c9e1d"


def account(uow: UnitOfWork, email: str, **fields: object) -> Account:
    return uow.accounts.add(Account(email=email, **fields))  # type: ignore[arg-type]


def test_defaults_and_list(uow: UnitOfWork) -> None:
    b = account(uow, "b@x.io", sort_order=2)
    a = account(uow, "a@x.io", sort_order=1)
    o = account(uow, "o@x.io", provider="openai")
    assert a.provider == "claude" and a.exhausted_at is None and a.last_used_at is None
    assert uow.accounts.list() == [a, b, o]
    assert uow.accounts.list(provider="claude") == [a, b]
    assert uow.accounts.list(provider="none") == []


def test_next_available_goes_round_robin(uow: UnitOfWork) -> None:
    second = account(uow, "second@x.io", sort_order=2)
    first = account(uow, "first@x.io", sort_order=1)
    account(uow, "other@x.io", provider="openai")
    picked = [uow.accounts.next_available("claude") for _ in range(4)]
    assert [p.id for p in picked if p] == [first.id, second.id, first.id, second.id]
    assert picked[0] is not None and picked[0].last_used_at is not None
    assert picked[2] is not None and picked[2].last_used_at is not None
    assert picked[2].last_used_at > picked[0].last_used_at
    assert uow.accounts.get(first.id).last_used_at == picked[2].last_used_at


def test_ties_go_by_sort_order_then_id(uow: UnitOfWork) -> None:
    x = account(uow, "x@x.io", id="b-account", sort_order=0)
    y = account(uow, "y@x.io", id="a-account", sort_order=0)
    z = account(uow, "z@x.io", id="0-account", sort_order=5)
    order = [uow.accounts.next_available("claude") for _ in range(3)]
    assert [a.id for a in order if a] == [y.id, x.id, z.id]


def test_none_when_nothing_is_available(uow: UnitOfWork) -> None:
    assert uow.accounts.next_available("claude") is None
    only = account(uow, "only@x.io")
    uow.accounts.mark_exhausted(only.id, None)
    assert uow.accounts.next_available("claude") is None
    assert uow.accounts.next_available("openai") is None


def test_exhausted_accounts_are_skipped_until_their_time_passes(uow: UnitOfWork) -> None:
    a = account(uow, "a@x.io", sort_order=1)
    b = account(uow, "b@x.io", sort_order=2)
    until = uow.clock.now() + timedelta(hours=1)
    marked = uow.accounts.mark_exhausted(a.id, until)
    assert marked.is_exhausted and marked.exhausted_until == until
    for _ in range(2):
        picked = uow.accounts.next_available("claude")
        assert picked is not None and picked.id == b.id
    uow.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    picked = uow.accounts.next_available("claude")
    assert picked is not None and picked.id == a.id  # never used: first
    assert (picked.exhausted_at, picked.exhausted_until) == (None, None)


def test_clear_expired_exhaustion_counts_what_it_cleared(uow: UnitOfWork) -> None:
    now = uow.clock.now()
    soon, later, forever = (account(uow, f"{n}@x.io") for n in ("soon", "later", "forever"))
    uow.accounts.mark_exhausted(soon.id, now + timedelta(minutes=5))
    uow.accounts.mark_exhausted(later.id, now + timedelta(days=1))
    uow.accounts.mark_exhausted(forever.id, None)
    assert uow.accounts.clear_expired_exhaustion() == 0
    uow.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    assert uow.accounts.clear_expired_exhaustion() == 1
    assert not uow.accounts.get(soon.id).is_exhausted
    assert uow.accounts.get(later.id).is_exhausted
    assert uow.accounts.get(forever.id).is_exhausted
    assert uow.accounts.clear_expired_exhaustion() == 0


def test_mark_exhausted_refuses_bad_input(uow: UnitOfWork) -> None:
    a = account(uow, "a@x.io")
    with pytest.raises(NotFound):
        uow.accounts.mark_exhausted("missing", None)
    with pytest.raises(InvalidValue, match="exhausted_until"):
        uow.accounts.mark_exhausted(a.id, datetime(2030, 1, 1))  # naive
    assert not uow.accounts.get(a.id).is_exhausted


def test_next_available_refuses_bad_input(uow: UnitOfWork) -> None:
    for bad in ("", "x" * 1000, 3, "nul\x00"):
        with pytest.raises(InvalidValue, match="provider"):
            uow.accounts.next_available(bad)  # type: ignore[arg-type]


def test_exhaustion_is_an_event_whatever_the_path(db: Database) -> None:
    seen: list[DomainEvent] = []
    db.subscribe(AccountExhausted, seen.append)
    until = datetime(2030, 1, 1, tzinfo=UTC)
    with db.unit_of_work() as uow:
        a = account(uow, "a@x.io")
        b = account(uow, "b@x.io")
        uow.accounts.mark_exhausted(a.id, until)
        read = uow.accounts.get(b.id)
        read.exhausted_at = uow.clock.now()
        uow.accounts.update(read)
        read = uow.accounts.get(b.id)
        read.sort_order = 3  # still exhausted: no new event
        uow.accounts.update(read)
        uow.commit()
    assert seen == [AccountExhausted(a.id, "claude", until), AccountExhausted(b.id, "claude", None)]


def test_deleting_an_account_leaves_its_agents(uow: UnitOfWork) -> None:
    a = account(uow, "a@x.io")
    agent = uow.agents.add(Agent(account_id=a.id))
    assert uow.accounts.delete(a.id) == {"accounts": 1}
    assert uow.agents.get(agent.id).account_id is None
    with pytest.raises(NotFound):
        uow.accounts.delete(a.id)


def test_secrets_are_never_shown(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    """A planted secret appears in no repr, str, error message, log line, audit state or
    event, whichever way it is handled."""
    seen: list[DomainEvent] = []
    db.subscribe(AccountExhausted, seen.append)
    db.subscribe(RecordDeleted, seen.append)
    shown: list[str] = []
    caplog.set_level(logging.DEBUG)
    with db.unit_of_work() as uow:
        a = account(uow, "a@x.io", credentials=SECRET, config_json=f'{{"key": "{SECRET}"}}')
        shown += [repr(a), str(a), repr(uow.accounts.get(a.id)), str(uow.accounts.list())]
        for bad in ({"credentials": SECRET + "\x00"}, {"config_json": SECRET * 100_000}):
            with pytest.raises(DomainError) as refused:
                account(uow, "b@x.io", **bad)
            shown += [str(refused.value), repr(refused.value)]
        read = uow.accounts.get(a.id)
        with pytest.raises(DomainError) as refused:
            read.credentials = SECRET + "\x00"
            uow.accounts.update(read)
        shown += [str(refused.value), repr(refused.value)]
        uow.accounts.mark_exhausted(a.id, None)
        uow.accounts.clear_expired_exhaustion()
        uow.accounts.delete(a.id)
        (entry,) = uow.audit_logs.list(entity_id=a.id)
        shown += [repr(entry), entry.model_dump_json()]
        uow.commit()
    shown += [repr(event) for event in seen]
    shown += [record.getMessage() for record in caplog.records]
    shown.append(caplog.text)
    assert len(seen) == 2
    assert all(SECRET not in text for text in shown), [t for t in shown if SECRET in t]
    assert "<secret>" in shown[0]
