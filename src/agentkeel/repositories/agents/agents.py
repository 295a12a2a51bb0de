"""Agents: unique names (an alias drawn for a name taken), their state machine and counters."""

from __future__ import annotations

import builtins
import random
from collections.abc import Sequence
from typing import assert_never

from agentkeel.domain.agents import (
    Agent,
    AgentCrashed,
    AgentResumed,
    AgentStatus,
    AgentStopped,
    names,
)
from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidValue,
)
from agentkeel.domain.fields import INT64_MAX
from agentkeel.ports.store import (
    Asc,
    Eq,
    IsNull,
    Row,
    Where,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.schema.columns import AGENTS

_TERMINATED = frozenset({AgentStatus.STOPPED, AgentStatus.CRASHED})


# Random aliases drawn before a number is appended, then numbered ones drawn.
_ALIAS_DRAWS = 10


_NUMBERED_DRAWS = 100


class AgentsTable(TableRepository[Agent]):
    entity = Agent

    def _add(self, agent: Agent) -> Agent:
        if "name" in agent.model_fields_set:
            return super()._add(agent)  # a chosen name that is taken is AlreadyExists
        # A generated alias is retried on a clash: first other aliases, then numbered ones.
        # The unique index decides, so two units of work racing for one alias cannot both
        # win: the loser's insert clashes (on PostgreSQL once the winner commits) and draws
        # again. A failed insert writes nothing, so the unit of work stays usable.
        alias = agent.name
        for attempt in range(_ALIAS_DRAWS + _NUMBERED_DRAWS):
            try:
                return super()._add(agent.model_copy(update={AGENTS.name: alias}))
            except AlreadyExists as exc:
                if set(exc.fields) != {"name"}:
                    raise
            alias = names.new_alias()
            if attempt + 1 >= _ALIAS_DRAWS:
                alias = f"{alias}-{random.randint(2, 9999)}"
        # Every draw was taken: drawing again (a retry) is no better. The caller names it.
        problem = "was not given, and no free alias was found to give it: give the agent a name"
        raise InvalidValue("agent", "name", agent.name, problem)

    def _one_by_one(self, batch: Sequence[Agent]) -> bool:
        # Agents whose names were chosen are added as any row is; a drawn alias may clash.
        return any("name" not in agent.model_fields_set for agent in batch)

    def list(
        self,
        *,
        status: AgentStatus | None = None,
        profile_id: str | None = None,
        include_dismissed: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Agent]:
        where: builtins.list[Where] = (
            [] if include_dismissed else [IsNull(AGENTS.user_dismissed_at)]
        )
        where += self._eq_filters(status=status, profile_id=profile_id)
        return self._select(where, [Asc(AGENTS.spawned_at)], limit, offset)

    def find_by_name(self, name: str) -> Agent | None:
        return self._first([Eq(AGENTS.name, name)])

    def find_by_session_id(self, session_id: str) -> Agent | None:
        return self._first([Eq(AGENTS.session_id, session_id)], [Asc(AGENTS.spawned_at)])

    def find_by_task_id(self, task_id: str) -> Agent | None:
        return self._first([Eq(AGENTS.task_id, task_id)], [Asc(AGENTS.spawned_at)])

    def move_to(self, key: str, status: AgentStatus, reason: str | None = None) -> Agent:
        status = self.entity.query_value("status", status)
        if reason is not None and status not in _TERMINATED:
            raise InvalidValue("agent", "reason", reason, "is given only to stop or crash")
        return self._move(key, status, termination_reason=reason)

    def dismiss(self, key: str) -> Agent:
        agent = self.get(key)
        agent.user_dismissed_at = agent.user_dismissed_at or self._store.clock.now()
        return self.update(agent)

    def record_tokens(self, key: str, tokens: int) -> Agent:
        if not isinstance(tokens, int) or isinstance(tokens, bool) or not 0 <= tokens <= INT64_MAX:
            raise InvalidValue("agent", "tokens", tokens, "must be a whole number >= 0")
        return self._increment(key, AGENTS.tokens_used, tokens)

    def record_task_completed(self, key: str) -> Agent:
        return self._increment(key, AGENTS.tasks_completed)

    def record_task_failed(self, key: str) -> Agent:
        return self._increment(key, AGENTS.tasks_failed)

    def _before_write(self, agent: Agent, stored: Row | None) -> None:
        was = None if stored is None else AgentStatus(stored[AGENTS.status])
        if agent.status in _TERMINATED:
            # Stopping or crashing stamps when; a stopped agent that crashes keeps its time.
            if was not in _TERMINATED:
                agent.terminated_at = self._store.clock.now()
        else:
            # Running again (a resume) or never stopped: no termination is in force.
            agent.terminated_at = None
            agent.termination_reason = None
        if stored is not None and was in _TERMINATED and agent.status == AgentStatus.RUNNING:
            agent.session_number = stored[AGENTS.session_number] + 1

    def _after_write(self, agent: Agent, stored: Row | None) -> None:
        was = None if stored is None else AgentStatus(stored[AGENTS.status])
        if agent.status == was:
            return
        match agent.status:
            case AgentStatus.STOPPED:
                self._record(AgentStopped(agent.id, agent.termination_reason))
            case AgentStatus.CRASHED:
                self._record(AgentCrashed(agent.id, agent.termination_reason))
            case AgentStatus.RUNNING if was in _TERMINATED:
                self._record(AgentResumed(agent.id, agent.session_number))
            case AgentStatus.RUNNING | AgentStatus.IDLE | AgentStatus.WAITING_FOR_INPUT:
                pass
            case _:
                assert_never(agent.status)
