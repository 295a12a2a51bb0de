"""Running agents: aliases, finders, the status machine, counters, dismissal, SET NULL."""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable

import pytest

from agentkeel.database import Database
from agentkeel.domain.agents import (
    Account,
    Agent,
    AgentCrashed,
    AgentProfile,
    AgentResumed,
    AgentStatus,
    AgentStopped,
    ProfileType,
    names,
)
from agentkeel.domain.errors import (
    AlreadyExists,
    Conflict,
    InvalidTransition,
    InvalidValue,
    NotFound,
    ReferenceMissing,
)
from agentkeel.domain.events import DomainEvent
from agentkeel.domain.fields import INT64_MAX
from agentkeel.ports.unit_of_work import UnitOfWork

ALIAS = re.compile(r"^[a-z]+-[a-z]+$")
S = AgentStatus


def _aliases(monkeypatch: pytest.MonkeyPatch, *drawn: str) -> None:
    """Make `names.new_alias` hand out `drawn` in turn, then the last one for ever."""
    queue = list(drawn)

    def next_alias() -> str:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    monkeypatch.setattr(names, "new_alias", next_alias)


def profile(uow: UnitOfWork, name: str = "coder") -> AgentProfile:
    return uow.agent_profiles.add(
        AgentProfile(
            name=name, display_name=name, type=ProfileType.SPECIALIST, system_prompt="Code."
        )
    )


def test_word_lists_give_ten_thousand_lowercase_aliases() -> None:
    assert len(set(names.ADJECTIVES)) == len(names.ADJECTIVES) >= 100
    assert len(set(names.ANIMALS)) == len(names.ANIMALS) >= 100
    assert all(ALIAS.match(f"{a}-{b}") for a in names.ADJECTIVES for b in names.ANIMALS)


def test_an_agent_without_a_name_gets_a_unique_alias(uow: UnitOfWork) -> None:
    agents = [uow.agents.add(Agent()) for _ in range(30)]
    assert all(ALIAS.match(agent.name) for agent in agents)
    assert len({agent.name for agent in agents}) == 30
    assert uow.agents.find_by_name(agents[0].name) == agents[0]


def test_a_taken_alias_is_drawn_again(uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch) -> None:
    _aliases(monkeypatch, "brave-otter", "brave-otter", "calm-heron")
    first = uow.agents.add(Agent())
    second = uow.agents.add(Agent())
    assert (first.name, second.name) == ("brave-otter", "calm-heron")


def test_when_draws_run_out_a_number_is_appended(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    _aliases(monkeypatch, "brave-otter")
    first = uow.agents.add(Agent())
    second = uow.agents.add(Agent())
    third = uow.agents.add(Agent())
    assert first.name == "brave-otter"
    assert re.match(r"^brave-otter-\d+$", second.name)
    assert third.name not in (first.name, second.name)


def test_when_every_draw_is_taken_the_caller_must_name_the_agent(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a Conflict: drawing again (a retry) would meet the same taken names."""
    _aliases(monkeypatch, "brave-otter")
    monkeypatch.setattr(random, "randint", lambda low, high: 7)
    assert uow.agents.add(Agent()).name == "brave-otter"
    assert uow.agents.add(Agent()).name == "brave-otter-7"
    with pytest.raises(InvalidValue, match="no free alias was found") as caught:
        uow.agents.add(Agent())
    assert caught.value.field == "name"
    assert not isinstance(caught.value, Conflict)
    assert uow.agents.add(Agent(name="scout")).name == "scout"


def test_an_alias_is_free_again_once_its_holder_is_gone(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    _aliases(monkeypatch, "brave-otter")
    first = uow.agents.add(Agent())
    uow.agents.delete(first.id)
    assert uow.agents.add(Agent()).name == "brave-otter"


def test_a_chosen_name_that_is_taken_is_already_exists(uow: UnitOfWork) -> None:
    uow.agents.add(Agent(name="scout"))
    with pytest.raises(AlreadyExists, match="agent already exists with name='scout'"):
        uow.agents.add(Agent(name="scout"))
    generated = uow.agents.add(Agent())
    with pytest.raises(AlreadyExists, match="name="):
        uow.agents.add(Agent(name=generated.name))
    assert uow.agents.count() == 2


def test_a_clashing_id_is_not_retried_with_another_alias(uow: UnitOfWork) -> None:
    first = uow.agents.add(Agent())
    with pytest.raises(AlreadyExists, match="id="):
        uow.agents.add(Agent(id=first.id))


def test_an_alias_another_unit_of_work_committed_is_not_handed_out_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _aliases(monkeypatch, "brave-otter", "calm-heron")
    with db.unit_of_work() as uow:
        first = uow.agents.add(Agent())
        uow.commit()
    _aliases(monkeypatch, "brave-otter", "calm-heron")
    with db.unit_of_work() as uow:
        second = uow.agents.add(Agent())
        uow.commit()
    assert (first.name, second.name) == ("brave-otter", "calm-heron")


def test_two_units_of_work_racing_for_one_alias_get_two(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second writer draws the same alias while the first has not committed yet: its
    insert clashes once the first commits (PostgreSQL) or runs after it (SQLite, fakes),
    and it draws again."""
    _aliases(monkeypatch, "brave-otter")
    first, second = Agent(), Agent()
    _aliases(monkeypatch, "calm-heron")
    added = threading.Event()
    names_taken: list[str] = []

    def spawn(agent: Agent, before_commit: Callable[[], None]) -> None:
        with db.unit_of_work() as uow:
            names_taken.append(uow.agents.add(agent).name)
            before_commit()
            uow.commit()

    def hold() -> None:
        added.set()
        time.sleep(0.3)

    winner = threading.Thread(target=spawn, args=(first, hold))
    winner.start()
    added.wait(5)
    spawn(second, lambda: None)
    winner.join()
    assert sorted(names_taken) == ["brave-otter", "calm-heron"]
    with db.unit_of_work() as uow:
        assert sorted(a.name for a in uow.agents.list()) == ["brave-otter", "calm-heron"]


def test_spawn_stamps_and_defaults(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent(prompt="Fix the bug"))
    assert agent.status == S.IDLE and agent.mode == "execute" and agent.type is None
    assert agent.session_number == 1 and agent.provider == "claude"
    assert agent.spawned_at == agent.created_at == agent.last_activity_at
    assert (agent.tokens_used, agent.tasks_completed, agent.tasks_failed) == (0, 0, 0)
    assert uow.agents.get(agent.id).prompt == "Fix the bug"


def test_finders(uow: UnitOfWork) -> None:
    coder = profile(uow)
    a = uow.agents.add(Agent(name="a", session_id="s-1", profile_id=coder.id))
    b = uow.agents.add(Agent(name="b", session_id="s-2"))
    assert uow.agents.find_by_name("a") == a
    assert uow.agents.find_by_name("zzz") is None
    assert uow.agents.find_by_session_id("s-2") == b
    assert uow.agents.find_by_session_id("none") is None
    uow.agents.move_to(b.id, S.RUNNING)
    assert [x.name for x in uow.agents.list()] == ["a", "b"]
    assert [x.name for x in uow.agents.list(status=S.RUNNING)] == ["b"]
    assert [x.name for x in uow.agents.list(profile_id=coder.id)] == ["a"]
    assert [x.name for x in uow.agents.list(limit=1, offset=1)] == ["b"]


def test_dismissed_agents_are_hidden_unless_asked(uow: UnitOfWork) -> None:
    a = uow.agents.add(Agent(name="a"))
    b = uow.agents.add(Agent(name="b"))
    dismissed = uow.agents.dismiss(a.id)
    assert dismissed.is_dismissed
    assert uow.agents.dismiss(a.id).user_dismissed_at == dismissed.user_dismissed_at
    assert uow.agents.list() == [b]
    assert [x.name for x in uow.agents.list(include_dismissed=True)] == ["a", "b"]
    with pytest.raises(NotFound):
        uow.agents.dismiss("missing")


def test_the_status_machine(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent())
    with pytest.raises(InvalidTransition):
        uow.agents.move_to(agent.id, S.STOPPED)
    for status in (S.RUNNING, S.WAITING_FOR_INPUT, S.RUNNING, S.IDLE, S.RUNNING):
        agent = uow.agents.move_to(agent.id, status)
        assert agent.status == status
    agent = uow.agents.move_to(agent.id, S.CRASHED, "out of memory")
    with pytest.raises(InvalidTransition):
        uow.agents.move_to(agent.id, S.IDLE)
    with pytest.raises(InvalidTransition):
        uow.agents.move_to(agent.id, S.WAITING_FOR_INPUT)


def test_the_generic_update_obeys_the_same_machine(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent())
    agent.status = S.CRASHED
    with pytest.raises(InvalidTransition):
        uow.agents.update(agent)
    assert uow.agents.get(agent.id).status == S.IDLE


def test_stop_and_crash_stamp_the_termination_and_resume_clears_it(uow: UnitOfWork) -> None:
    agent = uow.agents.move_to(uow.agents.add(Agent()).id, S.RUNNING)
    stopped = uow.agents.move_to(agent.id, S.STOPPED, "user asked")
    assert stopped.terminated_at is not None and stopped.terminated_at > agent.updated_at
    assert stopped.termination_reason == "user asked"
    assert stopped.session_number == 1
    resumed = uow.agents.move_to(agent.id, S.RUNNING)
    assert (resumed.terminated_at, resumed.termination_reason) == (None, None)
    assert resumed.session_number == 2
    crashed = uow.agents.move_to(agent.id, S.CRASHED)
    assert crashed.terminated_at is not None and crashed.termination_reason is None
    assert uow.agents.move_to(agent.id, S.RUNNING).session_number == 3
    waiting = uow.agents.move_to(agent.id, S.WAITING_FOR_INPUT)
    assert uow.agents.move_to(waiting.id, S.STOPPED).session_number == 3


def test_resume_through_the_generic_update_counts_the_session_too(uow: UnitOfWork) -> None:
    agent = uow.agents.move_to(uow.agents.add(Agent()).id, S.RUNNING)
    agent = uow.agents.move_to(agent.id, S.STOPPED)
    agent.status = S.RUNNING
    agent.session_number = 40  # the repository decides: previous + 1
    agent.terminated_at = uow.clock.now()
    resumed = uow.agents.update(agent)
    assert (resumed.session_number, resumed.terminated_at) == (2, None)


def test_an_agent_added_stopped_carries_its_termination(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent(status=S.CRASHED, termination_reason="segfault"))
    assert agent.terminated_at is not None and agent.termination_reason == "segfault"
    running = uow.agents.add(Agent(status=S.RUNNING, termination_reason="left over"))
    assert (running.terminated_at, running.termination_reason) == (None, None)


def test_move_to_refuses_bad_input(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent())
    with pytest.raises(InvalidValue, match="status"):
        uow.agents.move_to(agent.id, "asleep")  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match=r"reason.*only to stop or crash"):
        uow.agents.move_to(agent.id, S.RUNNING, "why")
    uow.agents.move_to(agent.id, S.RUNNING)
    with pytest.raises(InvalidValue, match="termination_reason"):
        uow.agents.move_to(agent.id, S.STOPPED, "x" * 100_000)
    assert uow.agents.get(agent.id).status == S.RUNNING
    with pytest.raises(NotFound):
        uow.agents.move_to("missing", S.RUNNING)


def test_last_activity_is_stamped_on_every_change(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent())
    running = uow.agents.move_to(agent.id, S.RUNNING)
    assert running.last_activity_at > agent.last_activity_at
    assert running.spawned_at == agent.spawned_at
    counted = uow.agents.record_tokens(agent.id, 10)
    assert counted.last_activity_at > running.last_activity_at
    running = uow.agents.get(agent.id)
    running.pid = 4242
    updated = uow.agents.update(running)
    assert updated.last_activity_at > counted.last_activity_at
    assert uow.agents.update(updated).last_activity_at == updated.last_activity_at


def test_spawned_at_never_changes(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent())
    agent.spawned_at = uow.clock.now()
    agent.pid = 1
    assert uow.agents.update(agent).spawned_at == uow.agents.get(agent.id).created_at


def test_counters_add_in_sql(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent())
    stale = uow.agents.get(agent.id)
    uow.agents.record_tokens(agent.id, 1200)
    uow.agents.record_tokens(agent.id, 0)
    uow.agents.record_task_completed(agent.id)
    uow.agents.record_task_completed(agent.id)
    counted = uow.agents.record_task_failed(agent.id)
    assert (counted.tokens_used, counted.tasks_completed, counted.tasks_failed) == (1200, 2, 1)
    # Counters leave the row version alone: an update from an earlier read still works.
    stale.pid = 7
    assert uow.agents.update(stale).tokens_used == 1200


def test_counters_refuse_bad_input_and_overflow(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent())
    for bad in (-1, 1.5, True, "3", INT64_MAX + 1):
        with pytest.raises(InvalidValue, match="tokens"):
            uow.agents.record_tokens(agent.id, bad)  # type: ignore[arg-type]
    uow.agents.record_tokens(agent.id, INT64_MAX)
    with pytest.raises(InvalidValue, match=r"tokens_used.*must be between"):
        uow.agents.record_tokens(agent.id, 1)
    assert uow.agents.get(agent.id).tokens_used == INT64_MAX
    for method in (
        uow.agents.record_task_completed,
        uow.agents.record_task_failed,
    ):
        with pytest.raises(NotFound):
            method("missing")
    with pytest.raises(NotFound):
        uow.agents.record_tokens("missing", 1)


def test_status_events_from_every_path(db: Database) -> None:
    seen: list[DomainEvent] = []
    for kind in (AgentStopped, AgentCrashed, AgentResumed):
        db.subscribe(kind, seen.append)
    with db.unit_of_work() as uow:
        agent = uow.agents.add(Agent())
        uow.agents.move_to(agent.id, S.RUNNING)
        uow.agents.move_to(agent.id, S.STOPPED, "done")
        uow.agents.move_to(agent.id, S.RUNNING)
        running = uow.agents.get(agent.id)
        running.status = S.CRASHED
        uow.agents.update(running)
        uow.agents.move_to(agent.id, S.RUNNING)
        uow.commit()
    assert seen == [
        AgentStopped(agent.id, "done"),
        AgentResumed(agent.id, 2),
        AgentCrashed(agent.id, None),
        AgentResumed(agent.id, 3),
    ]


def test_a_stale_move_is_a_conflict(db: Database) -> None:
    with db.unit_of_work() as uow:
        agent = uow.agents.add(Agent())
        uow.commit()
    with db.unit_of_work(read_only=True) as reader:
        read = reader.agents.get(agent.id)
    with db.unit_of_work() as second:
        second.agents.move_to(agent.id, S.RUNNING)
        second.commit()
    with db.unit_of_work() as first:
        read.status = S.RUNNING
        with pytest.raises(Conflict):
            first.agents.update(read)


def test_missing_profile_or_account_is_reference_missing(uow: UnitOfWork) -> None:
    with pytest.raises(ReferenceMissing, match=r"agent.profile_id refers to a missing"):
        uow.agents.add(Agent(profile_id="nope"))
    with pytest.raises(ReferenceMissing, match=r"agent.account_id refers to a missing account"):
        uow.agents.add(Agent(account_id="nope"))
    assert uow.agents.count() == 0


def test_deleting_the_profile_or_account_sets_null(uow: UnitOfWork) -> None:
    coder = profile(uow)
    account = uow.accounts.add(Account(email="a@example.com"))
    agent = uow.agents.add(Agent(profile_id=coder.id, account_id=account.id))
    assert uow.agent_profiles.delete(coder.id) == {"agent_profiles": 1}
    assert uow.agents.get(agent.id).profile_id is None
    assert uow.accounts.delete(account.id) == {"accounts": 1}
    left = uow.agents.get(agent.id)
    assert (left.profile_id, left.account_id) == (None, None)


def test_hard_delete_is_audited(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent(prompt="Build it"))
    assert uow.agents.delete(agent.id) == {"agents": 1}
    (entry,) = uow.audit_logs.list(entity_id=agent.id)
    assert isinstance(entry.before_state, dict) and entry.before_state["name"] == agent.name
    with pytest.raises(NotFound):
        uow.agents.delete(agent.id)
