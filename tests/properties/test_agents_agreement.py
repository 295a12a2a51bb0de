"""The in-memory fakes and the databases agree on the agents context, step by step.

A hypothesis state machine drives every backend with the same random operations on agent
profiles, running agents (named or with a generated alias, status moves with resume,
counters, dismissal) and accounts (round-robin hand-out, exhaustion and its expiry), with
deletes whose SET NULLs reach the agents, each in its own unit of work; after each step all
backends returned the same result or raised the same error, and hold the same rows.
Invariants check what must hold anyway: no dangling reference, unique aliases, a
termination stamp exactly on stopped and crashed agents, counters never negative.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    consumes,
    invariant,
    rule,
)

from agentkeel.domain.agents import Account, Agent, AgentProfile, AgentStatus
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.entity import Entity
from agentkeel.ports.unit_of_work import UnitOfWork
from tests.properties.harness import (
    AgreementMachine,
    check_agreement,
    on_every_backend,
)

E = TypeVar("E", bound=Entity)

AGENT_NAMES = st.one_of(st.none(), st.sampled_from(["scout", "brave-otter", "Ops", "", "a\x00"]))
STATUSES = st.sampled_from([*AgentStatus, "bogus"])
PROVIDERS = st.sampled_from(["claude", "openai"])
REASONS = st.one_of(st.none(), st.sampled_from(["done", "out of memory", "x" * 3000]))


class AgentsAgreement(AgreementMachine):
    profiles = Bundle("profiles")
    agents = Bundle("agents")
    accounts = Bundle("accounts")

    # -- profiles and accounts ----------------------------------------------------------------

    @rule(target=profiles, name=st.sampled_from(["coder", "planner", "reviewer"]))
    def create_profile(self, name: str) -> Any:
        return self.created(
            lambda: AgentProfile(
                name=name,
                display_name=name,
                type="specialist",  # type: ignore[arg-type]
                system_prompt="Work.",
            ),
            lambda uow, profile: uow.agent_profiles.add(profile),
        )

    @rule(profile=consumes(profiles))
    def delete_profile(self, profile: str) -> None:
        self.run(lambda uow: uow.agent_profiles.delete(profile))

    @rule(
        target=accounts,
        email=st.sampled_from(["a@x.io", "b@x.io", ""]),
        provider=PROVIDERS,
        sort_order=st.integers(-2, 2),
    )
    def create_account(self, email: str, provider: str, sort_order: int) -> Any:
        return self.created(
            lambda: Account(email=email, provider=provider, sort_order=sort_order, credentials="s"),
            lambda uow, account: uow.accounts.add(account),
        )

    @rule(account=consumes(accounts))
    def delete_account(self, account: str) -> None:
        self.run(lambda uow: uow.accounts.delete(account))

    @rule(provider=PROVIDERS)
    def next_available(self, provider: str) -> None:
        self.run(lambda uow: uow.accounts.next_available(provider))

    @rule(account=accounts, hours=st.one_of(st.none(), st.integers(-1, 3)))
    def mark_exhausted(self, account: str, hours: int | None) -> None:
        def mark(uow: UnitOfWork) -> Account:
            until = None if hours is None else uow.clock.now() + timedelta(hours=hours)
            return uow.accounts.mark_exhausted(account, until)

        self.run(mark)

    @rule()
    def clear_expired_exhaustion(self) -> None:
        self.run(lambda uow: uow.accounts.clear_expired_exhaustion())

    @rule(hours=st.integers(0, 3))
    def time_passes(self, hours: int) -> None:
        for db in self.dbs.values():
            assert isinstance(db.clock, FakeClock)
            db.clock.advance(timedelta(hours=hours))

    # -- agents -------------------------------------------------------------------------------

    @rule(
        target=agents,
        name=AGENT_NAMES,
        profile=st.one_of(st.none(), profiles),
        account=st.one_of(st.none(), accounts),
        status=st.sampled_from([AgentStatus.IDLE, AgentStatus.RUNNING, AgentStatus.CRASHED]),
    )
    def spawn_agent(
        self, name: str | None, profile: str | None, account: str | None, status: AgentStatus
    ) -> Any:
        fields: dict[str, Any] = {"profile_id": profile, "account_id": account, "status": status}
        if name is not None:
            fields["name"] = name
        return self.created(lambda: Agent(**fields), lambda uow, agent: uow.agents.add(agent))

    @rule(agent=agents, status=STATUSES, reason=REASONS)
    def move_agent(self, agent: str, status: AgentStatus, reason: str | None) -> None:
        self.run(lambda uow: uow.agents.move_to(agent, status, reason))

    @rule(agent=agents, status=STATUSES)
    def update_status(self, agent: str, status: AgentStatus) -> None:
        def update(uow: UnitOfWork) -> Agent:
            found = uow.agents.get(agent)
            found.status = status
            return uow.agents.update(found)

        self.run(update)

    @rule(agent=agents)
    def dismiss(self, agent: str) -> None:
        self.run(lambda uow: uow.agents.dismiss(agent))

    @rule(agent=agents, tokens=st.sampled_from([0, 1, 500, -1, 2**63 - 1]))
    def record_tokens(self, agent: str, tokens: int) -> None:
        self.run(lambda uow: uow.agents.record_tokens(agent, tokens))

    @rule(agent=agents, failed=st.booleans())
    def record_task(self, agent: str, failed: bool) -> None:
        if failed:
            self.run(lambda uow: uow.agents.record_task_failed(agent))
        else:
            self.run(lambda uow: uow.agents.record_task_completed(agent))

    @rule(
        status=st.one_of(st.none(), st.sampled_from(list(AgentStatus))),
        profile=st.one_of(st.none(), profiles),
        include_dismissed=st.booleans(),
    )
    def list_agents(
        self, status: AgentStatus | None, profile: str | None, include_dismissed: bool
    ) -> None:
        self.run(
            lambda uow: uow.agents.list(
                status=status, profile_id=profile, include_dismissed=include_dismissed
            )
        )

    @rule(name=st.sampled_from(["scout", "brave-otter", "nobody"]))
    def find_by_name(self, name: str) -> None:
        self.run(lambda uow: uow.agents.find_by_name(name))

    @rule(agent=consumes(agents))
    def delete_agent(self, agent: str) -> None:
        self.run(lambda uow: uow.agents.delete(agent))

    # -- what must always hold ----------------------------------------------------------------

    @invariant()
    def contents_agree_and_hold_together(self) -> None:
        contents = self.agreed_contents()
        profiles = {row["id"] for row in contents["agent_profiles"]}
        accounts = {row["id"] for row in contents["accounts"]}
        agents = contents["agents"]
        assert {a["profile_id"] for a in agents} - {None} <= profiles
        assert {a["account_id"] for a in agents} - {None} <= accounts
        assert len({a["name"] for a in agents}) == len(agents)
        for agent in agents:
            terminated = agent["status"] in (AgentStatus.STOPPED, AgentStatus.CRASHED)
            assert (agent["terminated_at"] is not None) == terminated
            assert agent["session_number"] >= 1
            assert min(agent["tokens_used"], agent["tasks_completed"], agent["tasks_failed"]) >= 0


@on_every_backend
def test_memory_and_databases_agree_on_agents(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    check_agreement(AgentsAgreement, sqlite_template, request)
