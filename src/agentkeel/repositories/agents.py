"""Repositories of the agents context: only what is particular to each aggregate."""

from __future__ import annotations

import builtins
import itertools
import random
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar, assert_never

from pydantic import JsonValue

from agentkeel.domain.agents import (
    Account,
    AccountExhausted,
    Agent,
    AgentCrashed,
    AgentLogChunk,
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    AgentResumed,
    AgentStatus,
    AgentStopped,
    Conversation,
    ConversationStatus,
    InteractionSession,
    Message,
    MessageSent,
    Metric,
    MetricType,
    Party,
    ProfileType,
    QuestionAnswered,
    QuestionAsked,
    SessionStatus,
    SessionType,
    names,
)
from agentkeel.domain.agents.profiles import ANY
from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidTransition,
    InvalidValue,
    Protected,
    ReferenceMissing,
)
from agentkeel.domain.events import RecordDeleted
from agentkeel.domain.fields import INT64_MAX, TextRule
from agentkeel.domain.ids import new_id
from agentkeel.ports.store import (
    Aggregate,
    Asc,
    Before,
    Desc,
    Eq,
    In,
    IsNull,
    Max,
    NotNull,
    Percentile,
    Row,
    Since,
    Sum,
    Where,
)
from agentkeel.repositories.base import TableRepository, UnitState
from agentkeel.schema import table_of

# The columns that make up a profile's definition: changing one is an edit (`version` + 1).
DEFINITION = ("project_id", "name", "display_name", "type", "description", "system_prompt", "color")
# What a built-in profile may change: only whether it is in use (and the stamps that follow).
BUILT_IN_WRITABLE = frozenset({"deactivated_at", "created_at", "updated_at", "row_version"})
# The most a name holds, which a copy's chosen name must fit.
NAME_LENGTH = next(
    rule.max_length
    for rule in AgentProfile.model_fields["name"].metadata
    if isinstance(rule, TextRule)
)


class AgentProfilesTable(TableRepository[AgentProfile]):
    entity = AgentProfile

    def __init__(self, state: UnitState) -> None:
        super().__init__(state)
        self._edited = False  # set by `_before_write` for `update`

    def list(
        self,
        *,
        project_id: str | None = None,
        include_global: bool = True,
        type: ProfileType | None = None,
        include_deactivated: bool = False,
    ) -> builtins.list[AgentProfile]:
        if project_id is None and not include_global:
            raise InvalidValue(
                self._label,
                "include_global",
                include_global,
                "can be False only with a project_id (without one, the global profiles are listed)",
            )
        where = self._eq_filters(type=type)
        if not include_deactivated:
            where.append(IsNull("deactivated_at"))
        found = []
        if project_id is not None:
            found += self._select([Eq("project_id", project_id), *where], [Asc("name")])
        if include_global:
            found += self._select([IsNull("project_id"), *where], [Asc("name")])
        # Names are unique: Python's order of str is the stores' code point order.
        return sorted(found, key=lambda profile: profile.name)

    def find_by_name(self, name: str) -> AgentProfile | None:
        return self._first([Eq("name", name)])

    def deactivate(self, key: str) -> AgentProfile:
        profile = self.get(key)
        profile.deactivate(self._store.clock.now())
        return self.update(profile)

    def reactivate(self, key: str) -> AgentProfile:
        profile = self.get(key)
        profile.reactivate()
        return self.update(profile)

    def customize(
        self, key: str, *, project_id: str | None = None, name: str | None = None
    ) -> AgentProfile:
        source = self.get(key)
        fields = {field: getattr(source, field) for field in DEFINITION if field != "name"}
        fields["project_id"] = project_id
        if name is not None:  # refused before anything is written if it is no name
            AgentProfile(name=name, **fields)
        parts = AgentProfilePartsCopier(self._state)
        with self._store.atomic():
            copy = self.add(
                AgentProfile(
                    name=self._free_name(source.name) if name is None else name,
                    parent_profile_id=source.id,
                    **fields,
                )
            )
            parts.copy(source.id, copy.id)
        return copy

    def _free_name(self, base: str) -> str:
        """The first of `<base>-custom`, `<base>-custom-2`, ... that no profile has."""
        for number in itertools.count(1):
            suffix = "-custom" if number == 1 else f"-custom-{number}"
            candidate = base[: NAME_LENGTH - len(suffix)] + suffix
            if self.find_by_name(candidate) is None:
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover

    def _count_edit(self, key: str) -> None:
        """One more `version`, in SQL (tools and skills are part of the definition)."""
        self._increment(key, "version")

    def update(self, entity: AgentProfile) -> AgentProfile:
        with self._store.atomic():
            self._edited = False
            updated = super().update(entity)
            if self._edited:
                # In SQL, not from the version read: a tool's edit may have counted since.
                updated = self._increment(updated.id, "version")
        return updated

    def _before_write(self, profile: AgentProfile, stored: Row | None) -> None:
        if stored is not None:
            if profile.version != stored["version"]:
                raise InvalidValue(
                    self._label,
                    "version",
                    profile.version,
                    "is counted by the repository: leave it as it was read",
                )
            row = profile.to_row()
            if stored["built_in_at"] is not None:
                changed = [c for c in row if c not in BUILT_IN_WRITABLE and row[c] != stored[c]]
                if changed:
                    raise Protected(
                        self._label,
                        profile.id,
                        f"is built in: its {changed[0]} cannot change (customize it)",
                    )
            elif profile.built_in_at is not None:
                raise InvalidValue(
                    self._label,
                    "built_in_at",
                    profile.built_in_at,
                    "can only be set when a profile is added",
                )
            self._edited = any(row[c] != stored[c] for c in DEFINITION)
        if profile.is_built_in and profile.project_id is not None:
            raise InvalidValue(
                self._label,
                "project_id",
                profile.project_id,
                "must be null: built-in profiles are global",
            )

    def _before_delete(self, profile: AgentProfile) -> None:
        if profile.is_built_in:
            raise Protected(
                self._label, profile.id, "is built in: deactivate it instead of deleting it"
            )


P = TypeVar("P", bound=AgentProfileTool | AgentProfileSkill)


class _ProfilePartsTable(TableRepository[P]):
    """What tools and skills share: they are part of their profile's definition, so a write
    of one counts as an edit of the profile (and of the profile it leaves, if moved), and
    those of a built-in profile cannot change. The write and its count happen together."""

    part: ClassVar[str]  # "tools" or "skills", for messages

    def __init__(self, state: UnitState, *, counts_edits: bool = True) -> None:
        super().__init__(state)
        self._profiles = AgentProfilesTable(state)
        self._profiles_table = table_of(AgentProfile)
        # A copy made by `customize` is a new profile, not an edit of one.
        self._counts_edits = counts_edits

    def _add(self, entity: P) -> P:
        with self._store.atomic():
            return super()._add(entity)

    def update(self, entity: P) -> P:
        with self._store.atomic():
            return super().update(entity)

    def _profiles_of(self, part: P, stored: Row | None) -> builtins.list[str]:
        keys = [part.profile_id]
        if stored is not None and stored["profile_id"] != part.profile_id:
            keys.append(stored["profile_id"])
        return keys

    def _before_write(self, part: P, stored: Row | None) -> None:
        if stored is None or part.changed_columns():
            for key in self._profiles_of(part, stored):
                self._check_writable(key)

    def _after_write(self, part: P, stored: Row | None) -> None:
        if self._counts_edits:
            for key in self._profiles_of(part, stored):
                self._profiles._count_edit(key)

    def _before_delete(self, part: P) -> None:
        self._check_writable(part.profile_id)
        if self._counts_edits:
            self._profiles._count_edit(part.profile_id)

    def _check_writable(self, profile_id: str) -> None:
        profile = self._store.get(self._profiles_table, profile_id)
        if profile is not None and profile["built_in_at"] is not None:
            raise Protected(
                "agent_profile",
                profile_id,
                f"is built in: its {self.part} cannot change (customize it)",
            )


class AgentProfileToolsTable(_ProfilePartsTable[AgentProfileTool]):
    entity = AgentProfileTool
    part = "tools"

    def list(
        self, *, profile_id: str, disallowed: bool | None = None
    ) -> builtins.list[AgentProfileTool]:
        where = [
            Eq("profile_id", profile_id),
            *_flag_filter(self._label, "disallowed", "disallowed_at", disallowed),
        ]
        order = [Asc("order_index"), Asc("tool_name"), Asc("tool_pattern")]
        return self._select(where, order)

    def allow(self, key: str) -> AgentProfileTool:
        tool = self.get(key)
        tool.disallowed_at = None
        return self.update(tool)

    def disallow(self, key: str) -> AgentProfileTool:
        tool = self.get(key)
        tool.disallowed_at = tool.disallowed_at or self._store.clock.now()
        return self.update(tool)

    def effective(self, profile_id: str) -> builtins.list[AgentProfileTool]:
        tools = self.list(profile_id=profile_id)
        denied = {t.tool_name for t in tools if t.is_disallowed and t.tool_pattern == ANY}
        return [t for t in tools if not t.is_disallowed and t.tool_name not in denied]


class AgentProfileSkillsTable(_ProfilePartsTable[AgentProfileSkill]):
    entity = AgentProfileSkill
    part = "skills"

    def list(
        self, *, profile_id: str, required: bool | None = None
    ) -> builtins.list[AgentProfileSkill]:
        where = [
            Eq("profile_id", profile_id),
            *_flag_filter(self._label, "required", "required_at", required),
        ]
        return self._select(where, [Asc("order_index"), Asc("skill_name")])

    def require(self, key: str) -> AgentProfileSkill:
        skill = self.get(key)
        skill.required_at = skill.required_at or self._store.clock.now()
        return self.update(skill)

    def make_optional(self, key: str) -> AgentProfileSkill:
        skill = self.get(key)
        skill.required_at = None
        return self.update(skill)


class AgentProfilePartsCopier:
    """Copies a profile's tools and skills onto its customized copy, without counting the
    copies as edits of it."""

    def __init__(self, state: UnitState) -> None:
        self._tools = AgentProfileToolsTable(state, counts_edits=False)
        self._skills = AgentProfileSkillsTable(state, counts_edits=False)

    def copy(self, source_id: str, copy_id: str) -> None:
        for tool in self._tools.list(profile_id=source_id):
            self._tools.add(
                AgentProfileTool(
                    profile_id=copy_id,
                    tool_name=tool.tool_name,
                    tool_pattern=tool.tool_pattern,
                    order_index=tool.order_index,
                    disallowed_at=tool.disallowed_at,
                )
            )
        for skill in self._skills.list(profile_id=source_id):
            self._skills.add(
                AgentProfileSkill(
                    profile_id=copy_id,
                    skill_name=skill.skill_name,
                    order_index=skill.order_index,
                    required_at=skill.required_at,
                )
            )


def _flag_filter(label: str, name: str, column: str, is_set: bool | None) -> builtins.list[Where]:
    """The terms for a filter on a flag: set (True), not set (False) or either (None)."""
    match is_set:
        case None:
            return []
        case True:
            return [NotNull(column)]
        case False:
            return [IsNull(column)]
    raise InvalidValue(label, name, is_set, "must be True, False or None")


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
                return super()._add(agent.model_copy(update={"name": alias}))
            except AlreadyExists as exc:
                if set(exc.fields) != {"name"}:
                    raise
            alias = names.new_alias()
            if attempt + 1 >= _ALIAS_DRAWS:
                alias = f"{alias}-{random.randint(2, 9999)}"
        # Every draw was taken: drawing again (a retry) is no better. The caller names it.
        problem = "was not given, and no free alias was found to give it: give the agent a name"
        raise InvalidValue("agent", "name", agent.name, problem)

    def list(
        self,
        *,
        status: AgentStatus | None = None,
        profile_id: str | None = None,
        include_dismissed: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Agent]:
        where: builtins.list[Where] = [] if include_dismissed else [IsNull("user_dismissed_at")]
        where += self._eq_filters(status=status, profile_id=profile_id)
        return self._select(where, [Asc("spawned_at")], limit, offset)

    def find_by_name(self, name: str) -> Agent | None:
        return self._first([Eq("name", name)])

    def find_by_session_id(self, session_id: str) -> Agent | None:
        return self._first([Eq("session_id", session_id)], [Asc("spawned_at")])

    def find_by_task_id(self, task_id: str) -> Agent | None:
        return self._first([Eq("task_id", task_id)], [Asc("spawned_at")])

    def move_to(self, key: str, status: AgentStatus, reason: str | None = None) -> Agent:
        status = self.entity.query_value("status", status)
        if reason is not None and status not in _TERMINATED:
            raise InvalidValue("agent", "reason", reason, "is given only to stop or crash")
        agent = self.get(key)
        agent.status = status
        if reason is not None:
            agent.termination_reason = reason
        return self.update(agent)

    def dismiss(self, key: str) -> Agent:
        agent = self.get(key)
        agent.user_dismissed_at = agent.user_dismissed_at or self._store.clock.now()
        return self.update(agent)

    def record_tokens(self, key: str, tokens: int) -> Agent:
        if not isinstance(tokens, int) or isinstance(tokens, bool) or not 0 <= tokens <= INT64_MAX:
            raise InvalidValue("agent", "tokens", tokens, "must be a whole number >= 0")
        return self._increment(key, "tokens_used", tokens)

    def record_task_completed(self, key: str) -> Agent:
        return self._increment(key, "tasks_completed")

    def record_task_failed(self, key: str) -> Agent:
        return self._increment(key, "tasks_failed")

    def _before_write(self, agent: Agent, stored: Row | None) -> None:
        was = None if stored is None else AgentStatus(stored["status"])
        if agent.status in _TERMINATED:
            # Stopping or crashing stamps when; a stopped agent that crashes keeps its time.
            if was not in _TERMINATED:
                agent.terminated_at = self._store.clock.now()
        else:
            # Running again (a resume) or never stopped: no termination is in force.
            agent.terminated_at = None
            agent.termination_reason = None
        if stored is not None and was in _TERMINATED and agent.status == AgentStatus.RUNNING:
            agent.session_number = stored["session_number"] + 1

    def _after_write(self, agent: Agent, stored: Row | None) -> None:
        was = None if stored is None else AgentStatus(stored["status"])
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


class AccountsTable(TableRepository[Account]):
    entity = Account

    def list(self, *, provider: str | None = None) -> builtins.list[Account]:
        where = self._eq_filters(provider=provider)
        return self._select(where, [Asc("provider"), Asc("sort_order")])

    def next_available(self, provider: str) -> Account | None:
        now = self._store.clock.now()
        # Exhaustions that have run out no longer count: clearing them first lets one
        # claiming UPDATE pick among accounts that are simply not exhausted.
        self._clear_expired([Eq("provider", provider)], now)
        row = self._store.claim(
            self._table,
            self._query([Eq("provider", provider), IsNull("exhausted_at")]),
            [Asc("last_used_at"), Asc("sort_order")],
            {"last_used_at": now, **dict.fromkeys(self.entity.stamped_on_update, now)},
        )
        return None if row is None else self._entity(row)

    def mark_exhausted(self, key: str, until: datetime | None) -> Account:
        account = self.get(key)
        account.exhausted_at = self._store.clock.now()
        account.exhausted_until = until
        return self.update(account)

    def clear_expired_exhaustion(self) -> int:
        return self._clear_expired([], self._store.clock.now())

    def _clear_expired(self, where: builtins.list[Where], now: datetime) -> int:
        # Like counters, clearing leaves the row version alone (see `_clear_others`).
        expired = [*self._query(where), NotNull("exhausted_at"), Before("exhausted_until", now)]
        stamps = dict.fromkeys(self.entity.stamped_on_update, now)
        return self._store.update(
            self._table, expired, {"exhausted_at": None, "exhausted_until": None, **stamps}
        )

    def _after_write(self, account: Account, stored: Row | None) -> None:
        if account.exhausted_at is not None and (
            stored is None or stored["exhausted_at"] != account.exhausted_at
        ):
            self._record(AccountExhausted(account.id, account.provider, account.exhausted_until))


# `find_by_agents` binds one value per id; SQLite takes at most 32,766 in a statement.
MAX_AGENTS_AT_ONCE = 10_000


def _content_rule() -> TextRule:
    return next(
        r for r in AgentLogChunk.model_fields["content"].metadata if isinstance(r, TextRule)
    )


class AgentLogChunksTable(TableRepository[AgentLogChunk]):
    """The hot write path: `append` validates the batch's shared fields once (through an
    entity) and each content with the content field's own rule, builds the rows itself
    rather than an entity per chunk, and writes them with one bulk insert."""

    entity = AgentLogChunk
    _content = _content_rule()

    def append(
        self, agent_id: str, agent_name: str, session_number: int, contents: Sequence[str]
    ) -> int:
        shared = AgentLogChunk(
            agent_id=agent_id, agent_name=agent_name, session_number=session_number, content=""
        )
        texts = self._contents(contents)
        last = self._last_chunk_number(shared.agent_id)
        if not texts:
            return last
        now = self._store.clock.now()
        rows = [
            {
                "id": new_id(),
                "agent_id": shared.agent_id,
                "agent_name": shared.agent_name,
                "session_number": shared.session_number,
                "chunk_number": last + number,
                "content": text,
                "created_at": now,
            }
            for number, text in enumerate(texts, 1)
        ]
        self._store.insert_many(self._table, rows)
        return last + len(rows)

    def insert_chunk(
        self, agent_id: str, agent_name: str, session_number: int, content: str
    ) -> AgentLogChunk:
        chunk = AgentLogChunk(
            agent_id=agent_id, agent_name=agent_name, session_number=session_number, content=content
        )
        chunk.chunk_number = self._last_chunk_number(chunk.agent_id) + 1
        return self.add(chunk)

    def find_by_agent(self, agent_id: str) -> builtins.list[AgentLogChunk]:
        return self._select([Eq("agent_id", self._agent_key(agent_id))], [Asc("chunk_number")])

    def find_by_agents(self, agent_ids: Iterable[str]) -> builtins.list[AgentLogChunk]:
        if isinstance(agent_ids, str | bytes) or not isinstance(agent_ids, Iterable):
            raise InvalidValue(
                self._label, "agent_ids", agent_ids, "must be a collection of agent ids"
            )
        ids = []
        for agent_id in agent_ids:
            ids.append(self._agent_key(agent_id))
            if len(ids) > MAX_AGENTS_AT_ONCE:
                raise InvalidValue(
                    self._label,
                    "agent_ids",
                    f"{len(ids)}+ ids",
                    f"must name at most {MAX_AGENTS_AT_ONCE} agents",
                )
        where = [In("agent_id", frozenset(ids))]
        return self._select(where, [Asc("agent_id"), Asc("chunk_number")])

    def delete_by_agent(self, agent_id: str) -> int:
        key = self._agent_key(agent_id)
        with self._store.atomic():
            removed = self._store.delete(self._table, [Eq("agent_id", key)])
            if removed:
                counts = {self._table.name: removed}
                message = f"Deleted {removed} log chunk{'s' * (removed != 1)} of agent {key!r}"
                self._audit_deleted_rows(key, counts, message, None)
        if removed:
            # The entity id of the event and of the audit entry is the agent's.
            self._record(RecordDeleted(self._label, key, {self._table.name: removed}))
        return removed

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        # Oldest first, and an agent's chunks of one moment in their order: a batch never
        # leaves a hole in the middle of an agent's log.
        return self._purge_before("created_at", cutoff, limit, [Asc("chunk_number")])

    def session_count(self, agent_id: str) -> int:
        key = self._agent_key(agent_id)
        ((highest,),) = self._store.aggregate(
            self._table, [Max("session_number")], [Eq("agent_id", key)]
        )
        return int(highest or 0)

    def delete(self, key: str) -> dict[str, int]:
        raise Protected(self._label, key, "cannot be deleted alone: an agent's chunks go together")

    def _contents(self, contents: Sequence[str]) -> builtins.list[str]:
        """The batch's texts, each checked by the content field's rule (InvalidValue naming
        `contents[i]`), before anything is written."""
        if isinstance(contents, str | bytes) or not isinstance(contents, Iterable):
            raise InvalidValue(
                self._label, "contents", contents, "must be a list of texts, one per chunk"
            )
        texts = list(contents)
        check = self._content.check
        for position, text in enumerate(texts):
            problem = (
                check(text) if type(text) is str else f"must be a string, not {type(text).__name__}"
            )
            if problem is not None:
                raise InvalidValue(self._label, f"contents[{position}]", text, problem)
        return texts

    def _agent_key(self, agent_id: str) -> str:
        """An agent id to look up, refused (InvalidValue) if no agent could have it."""
        key: str | None = self.entity.query_value("agent_id", agent_id)
        if key is None:
            raise InvalidValue(self._label, "agent_id", None, "is required")
        return key

    def _last_chunk_number(self, agent_id: str) -> int:
        ((last,),) = self._store.aggregate(
            self._table, [Max("chunk_number")], [Eq("agent_id", agent_id)]
        )
        return int(last or 0)


class ConversationsTable(TableRepository[Conversation]):
    entity = Conversation

    def ask(self, from_agent_id: str, to_agent_id: str, question: str) -> Conversation:
        return self.add(
            Conversation(from_agent_id=from_agent_id, to_agent_id=to_agent_id, question=question)
        )

    def find_pending_for_agent(self, to_agent_id: str) -> builtins.list[Conversation]:
        where = [Eq("to_agent_id", to_agent_id), Eq("status", ConversationStatus.PENDING)]
        return self._select(where, [Asc("created_at")])

    def answer(self, key: str, answer: str) -> Conversation:
        conversation = self.get(key)
        if conversation.status is ConversationStatus.ANSWERED:
            raise self._answered(conversation)
        conversation.answer = answer
        conversation.status = ConversationStatus.ANSWERED
        return self.update(conversation)

    def list(
        self,
        *,
        from_agent_id: str | None = None,
        to_agent_id: str | None = None,
        status: ConversationStatus | None = None,
    ) -> builtins.list[Conversation]:
        where = self._eq_filters(
            from_agent_id=from_agent_id, to_agent_id=to_agent_id, status=status
        )
        return self._select(where, [Asc("created_at")])

    def _answered(self, conversation: Conversation) -> InvalidTransition:
        # Answering twice is moving `status` from answered to answered again.
        answered = ConversationStatus.ANSWERED.value
        return InvalidTransition(self._label, "status", answered, answered)

    def _before_write(self, conversation: Conversation, stored: Row | None) -> None:
        if conversation.to_agent_id == conversation.from_agent_id:
            raise InvalidValue(
                self._label,
                "to_agent_id",
                conversation.to_agent_id,
                "must name another agent than from_agent_id (an agent cannot ask itself)",
            )
        if (
            stored is not None
            and stored["status"] == ConversationStatus.ANSWERED
            and (stored["answer"], stored["question"])
            != (conversation.answer, conversation.question)
        ):
            raise self._answered(conversation)
        answered = conversation.status is ConversationStatus.ANSWERED
        if answered and conversation.answer is None:
            raise InvalidValue(
                self._label, "answer", None, "is required once the conversation is answered"
            )
        if not answered and conversation.answer is not None:
            raise InvalidValue(
                self._label,
                "answer",
                conversation.answer,
                "must be empty while the conversation is pending",
            )

    def _after_write(self, conversation: Conversation, stored: Row | None) -> None:
        ids = (conversation.id, conversation.from_agent_id, conversation.to_agent_id)
        if stored is None:
            self._record(QuestionAsked(*ids))
        was_answered = stored is not None and stored["status"] == ConversationStatus.ANSWERED
        if conversation.status is ConversationStatus.ANSWERED and not was_answered:
            self._record(QuestionAnswered(*ids))


# A message's parties and its place in a thread are fixed once it is stored.
_FIXED_MESSAGE_FIELDS = (
    "sender_type",
    "sender_agent_id",
    "recipient_type",
    "recipient_agent_id",
    "parent_message_id",
)


class MessagesTable(TableRepository[Message]):
    entity = Message

    def _add(self, entity: Message) -> Message:
        if entity.parent_message_id is None:
            return super()._add(entity)
        # A reply and the parent's `responded_at` are written together or not at all.
        with self._store.atomic():
            message = super()._add(entity)
            parent = self.get(entity.parent_message_id)
            now = self._store.clock.now()
            parent.responded_at = parent.responded_at or now
            self.update(parent)
        return message

    def reply(self, parent_id: str, content: str, *, requires_response: bool = False) -> Message:
        if not isinstance(requires_response, bool):
            raise InvalidValue(
                self._label, "requires_response", requires_response, "must be True or False"
            )
        parent = self.get(parent_id)
        return self.add(
            Message(
                sender_type=parent.recipient_type,
                sender_agent_id=parent.recipient_agent_id,
                recipient_type=parent.sender_type,
                recipient_agent_id=parent.sender_agent_id,
                parent_message_id=parent.id,
                content=content,
                requires_response_at=self._store.clock.now() if requires_response else None,
            )
        )

    def mark_read(self, key: str) -> Message:
        message = self.get(key)
        message.read_at = message.read_at or self._store.clock.now()
        return self.update(message)

    def find_pending_for_user(self) -> builtins.list[Message]:
        where: builtins.list[Where] = [Eq("recipient_type", Party.USER), IsNull("read_at")]
        return self._select(where, [Asc("created_at")])

    def find_requiring_response(
        self, *, recipient_type: Party | None = None, recipient_agent_id: str | None = None
    ) -> builtins.list[Message]:
        where: builtins.list[Where] = [NotNull("requires_response_at"), IsNull("responded_at")]
        where += self._eq_filters(
            recipient_type=recipient_type, recipient_agent_id=recipient_agent_id
        )
        return self._select(where, [Asc("created_at")])

    def find_replies(self, parent_id: str) -> builtins.list[Message]:
        return self._select([Eq("parent_message_id", parent_id)], [Asc("created_at")])

    def _before_write(self, message: Message, stored: Row | None) -> None:
        for party in ("sender", "recipient"):
            kind, agent_id = (
                getattr(message, f"{party}_type"),
                getattr(message, f"{party}_agent_id"),
            )
            if kind is Party.AGENT and agent_id is None:
                raise InvalidValue(
                    self._label,
                    f"{party}_agent_id",
                    None,
                    f"is required when the {party} is an agent",
                )
            if kind is Party.USER and agent_id is not None:
                raise InvalidValue(
                    self._label,
                    f"{party}_agent_id",
                    agent_id,
                    f"must be empty when the {party} is the user",
                )
        if (message.sender_type, message.sender_agent_id) == (
            message.recipient_type,
            message.recipient_agent_id,
        ):
            field = (
                "recipient_type" if message.recipient_type is Party.USER else "recipient_agent_id"
            )
            raise InvalidValue(
                self._label, field, getattr(message, field), "must differ from the sender's"
            )
        if stored is not None:
            row = message.to_row()
            for name in _FIXED_MESSAGE_FIELDS:
                if row[name] != stored[name]:
                    raise InvalidValue(
                        self._label, name, row[name], "cannot change once the message is stored"
                    )
        elif message.parent_message_id is not None:
            self._check_reply(message, message.parent_message_id)
        if message.responded_at is not None and message.read_at is None:
            message.read_at = message.responded_at  # a response implies a read

    def _check_reply(self, message: Message, parent_id: str) -> None:
        """A reply's parent exists and the reply goes back the way the parent came."""
        parent = self._store.get(self._table, parent_id)
        if parent is None:
            raise ReferenceMissing(self._label, "parent_message_id", parent_id, self._label)
        row = message.to_row()
        for party, other in (("sender", "recipient"), ("recipient", "sender")):
            for suffix in ("type", "agent_id"):
                field, value = f"{party}_{suffix}", row[f"{party}_{suffix}"]
                if value != parent[f"{other}_{suffix}"]:
                    raise InvalidValue(
                        self._label,
                        field,
                        value,
                        f"must be the parent message's {other}'s (a reply goes back the way"
                        f" its parent came: {parent[f'{other}_{suffix}']!r})",
                    )

    def _after_write(self, message: Message, stored: Row | None) -> None:
        if stored is None:
            self._record(
                MessageSent(
                    message.id,
                    message.recipient_type,
                    message.recipient_agent_id,
                    message.parent_message_id,
                )
            )


# A dashboard asks for a few percentiles; each is a window over the project's durations.
MAX_PERCENTILES = 20


class MetricsTable(TableRepository[Metric]):
    entity = Metric

    def record(self, metric: Metric) -> Metric:
        return self.add(metric)

    def list(
        self,
        *,
        project_id: str | None = None,
        type: MetricType | None = None,
        agent_id: str | None = None,
        task_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> builtins.list[Metric]:
        where = self._eq_filters(
            project_id=project_id, type=type, agent_id=agent_id, task_id=task_id
        )
        where += self._within(since, until)
        return self._select(where, [Asc("timestamp")], limit)

    def tokens_by_agent(
        self, project_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        where: builtins.list[Where] = [Eq("project_id", project_id), NotNull("agent_id")]
        return self._totals(MetricType.TOKEN_USAGE, "agent_id", where, since, until)

    def tokens_by_project(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        return self._totals(MetricType.TOKEN_USAGE, "project_id", [], since, until)

    def qa_iterations_by_task(
        self, project_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, float]:
        where: builtins.list[Where] = [Eq("project_id", project_id), NotNull("task_id")]
        return self._totals(MetricType.QA_ITERATIONS, "task_id", where, since, until)

    def task_duration_percentiles(
        self,
        percentiles: Sequence[float] = (50.0, 90.0, 99.0),
        *,
        project_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, dict[float, float]]:
        wanted = self._percentiles(percentiles)
        where = [Eq("type", MetricType.TASK_DURATION), *self._eq_filters(project_id=project_id)]
        where += self._within(since, until)
        aggregates: builtins.list[Aggregate] = [Percentile("value", p / 100) for p in wanted]
        rows = self._store.aggregate(self._table, aggregates, self._query(where), ["project_id"])
        return {row[0]: dict(zip(wanted, row[1:], strict=True)) for row in rows}

    def purge_before(self, cutoff: datetime, *, limit: int | None = None) -> int:
        return self._purge_before("timestamp", cutoff, limit)

    def delete(self, key: str) -> dict[str, int]:
        raise Protected(
            self._label,
            key,
            "cannot be deleted: metrics leave with their project or by the retention purge",
        )

    def _totals(
        self,
        kind: MetricType,
        per: str,
        where: builtins.list[Where],
        since: datetime | None,
        until: datetime | None,
    ) -> dict[str, float]:
        """The sum of the values of one type of metric, per value of the column `per`."""
        where = self._query([*where, Eq("type", kind), *self._within(since, until)])
        rows = self._store.aggregate(self._table, [Sum("value")], where, [per])
        return dict(rows)

    @staticmethod
    def _within(since: datetime | None, until: datetime | None) -> builtins.list[Where]:
        """[since, until): `timestamp` from `since` (inclusive) up to `until` (exclusive)."""
        where: builtins.list[Where] = []
        if since is not None:
            where.append(Since("timestamp", since))
        if until is not None:
            where.append(Before("timestamp", until))
        return where

    def _percentiles(self, percentiles: Any) -> builtins.list[float]:
        if isinstance(percentiles, str | bytes) or not isinstance(percentiles, Iterable):
            raise InvalidValue(
                self._label, "percentiles", percentiles, "must be a list of numbers from 0 to 100"
            )
        wanted: builtins.list[float] = []
        for p in percentiles:
            if len(wanted) == MAX_PERCENTILES:
                raise InvalidValue(
                    self._label, "percentiles", "more", f"must be at most {MAX_PERCENTILES}"
                )
            if isinstance(p, bool) or not isinstance(p, int | float):
                raise InvalidValue(self._label, "percentiles", p, "must hold only numbers")
            if not 0 <= p <= 100:  # NaN compares false; a huge int is no float
                raise InvalidValue(self._label, "percentiles", p, "must be from 0 to 100")
            wanted.append(float(p))
        if not wanted:
            raise InvalidValue(self._label, "percentiles", percentiles, "must name at least one")
        return wanted


class InteractionSessionsTable(TableRepository[InteractionSession]):
    entity = InteractionSession

    def start(
        self, project_id: str, type: SessionType, data: JsonValue | None = None
    ) -> InteractionSession:
        return self.add(InteractionSession(project_id=project_id, type=type, data=data))

    def complete(self, key: str) -> InteractionSession:
        return self._end(key, SessionStatus.COMPLETED)

    def abandon(self, key: str) -> InteractionSession:
        return self._end(key, SessionStatus.ABANDONED)

    def update_data(self, key: str, data: JsonValue | None) -> InteractionSession:
        session = self.get(key)
        session.data = data
        return self.update(session)

    def list(
        self,
        project_id: str,
        *,
        type: SessionType | None = None,
        status: SessionStatus | None = None,
    ) -> builtins.list[InteractionSession]:
        where = [Eq("project_id", project_id), *self._eq_filters(type=type, status=status)]
        return self._select(where, [Desc("started_at")])

    def active_for(
        self, project_id: str, *, type: SessionType | None = None
    ) -> builtins.list[InteractionSession]:
        return self.list(project_id, type=type, status=SessionStatus.ACTIVE)

    def _end(self, key: str, status: SessionStatus) -> InteractionSession:
        session = self.get(key)
        if session.status is not SessionStatus.ACTIVE:
            raise InvalidTransition(self._label, "status", session.status.value, status.value)
        session.status = status
        return self.update(session)

    def _before_write(self, session: InteractionSession, stored: Row | None) -> None:
        active = session.status is SessionStatus.ACTIVE
        if stored is None and not active:
            raise InvalidValue(
                self._label,
                "status",
                session.status.value,
                "must be active when the session is stored (it starts now)",
            )
        if active:
            if session.ended_at is not None:
                raise InvalidValue(
                    self._label,
                    "ended_at",
                    session.ended_at,
                    "must be empty while the session is active (end it to set it)",
                )
            return
        # Ended (only an update can end a session: it is stored active). A caller's own end
        # time is kept; without one, the time it was first ended, else now.
        assert stored is not None
        started = stored["started_at"]
        if session.ended_at is None:
            session.ended_at = stored["ended_at"] or self._store.clock.now()
        elif session.ended_at < started:
            raise InvalidValue(
                self._label,
                "ended_at",
                session.ended_at,
                f"must not be before started_at ({started.isoformat()})",
            )
