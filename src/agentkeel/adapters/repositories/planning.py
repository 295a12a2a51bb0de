"""Repositories of the planning context: only what is particular to each aggregate."""

from __future__ import annotations

import builtins
import json
from typing import Any, assert_never

from agentkeel.adapters.repositories.base import TableRepository
from agentkeel.adapters.store import Asc, Desc, Eq, In, IsNull, Row, Where
from agentkeel.domain.errors import (
    AlreadyExists,
    Conflict,
    InvalidTransition,
    InvalidValue,
    NotFound,
    Protected,
)
from agentkeel.domain.planning import (
    ChangeAction,
    ChangedEntity,
    ChangeSet,
    ChangeSetEntry,
    ChatMessage,
    ChatRole,
    ChatSession,
    ChatStatus,
    ChatTarget,
    Errand,
    Initiative,
    InitiativeRepositoryLink,
    Page,
    Phase,
    PhaseDependency,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    ReviewComment,
    Task,
    TaskDependency,
)
from agentkeel.schema import metadata, table_of
from agentkeel.schema.graph import plan_delete


class InitiativeRepository(TableRepository[Initiative]):
    entity = Initiative


class InitiativeRepositoryLinkRepository(TableRepository[InitiativeRepositoryLink]):
    entity = InitiativeRepositoryLink


class PhaseRepository(TableRepository[Phase]):
    entity = Phase

    def _before_delete(self, phase: Phase) -> None:
        _release_targets(self, phase.id)


class PhaseDependencyRepository(TableRepository[PhaseDependency]):
    entity = PhaseDependency


class TaskRepository(TableRepository[Task]):
    entity = Task

    def _before_delete(self, task: Task) -> None:
        _release_targets(self, task.id)


class TaskDependencyRepository(TableRepository[TaskDependency]):
    entity = TaskDependency


class PageRepository(TableRepository[Page]):
    entity = Page

    def _before_delete(self, page: Page) -> None:
        _release_targets(self, page.id)


# -- targets without a foreign key -------------------------------------------------------------

# The planning tables whose rows proposals and chat sessions name without a foreign key.
_TARGET_TABLES = {
    "pages": ProposalTarget.PAGE,
    "phases": ProposalTarget.PHASE,
    "tasks": ProposalTarget.TASK,
}


def _release_targets(repository: TableRepository[Any], key: str) -> None:
    """Before a page, phase or task is deleted: dismiss the pending proposals and close the
    active chat sessions that name it, or any page, phase or task its delete cascades to
    (a phase's tasks, a task's subtasks), in the same transaction (DESIGN "Targets without a
    foreign key"). Called from the `_before_delete` hook, so no delete path skips it."""
    plan = plan_delete(repository._table, {key}, repository._store.referrers)
    proposals = ProposalRepository(repository._state)
    sessions = ChatSessionRepository(repository._state)
    for table, kind in _TARGET_TABLES.items():
        ids = plan.removed.get(table)
        if not ids:
            continue
        target: list[Where] = [Eq("target_type", kind.value), In("target_id", frozenset(ids))]
        proposals._update_many(
            [*target, Eq("status", ProposalStatus.PENDING.value)],
            {"status": ProposalStatus.DISMISSED.value},
        )
        if kind is not ProposalTarget.PAGE:
            sessions._update_many(
                [*target, Eq("status", ChatStatus.ACTIVE.value)],
                {"status": ChatStatus.CLOSED.value},
            )


def _check_target(
    repository: TableRepository[Any],
    label: str,
    kind: ProposalTarget | ChatTarget,
    target_id: str,
    initiative_id: str,
) -> None:
    """Refuse a target that does not exist or is not in the initiative (InvalidValue)."""
    table = {"page": "pages", "phase": "phases", "task": "tasks"}[kind.value]
    row = repository._store.get(metadata.tables[table], target_id)
    if row is None:
        raise InvalidValue(label, "target_id", target_id, f"names no {kind.value}")
    if row["initiative_id"] != initiative_id:
        raise InvalidValue(
            label,
            "target_id",
            target_id,
            f"is a {kind.value} of another initiative than {initiative_id!r}",
        )


class ProposalRepository(TableRepository[Proposal]):
    entity = Proposal

    def find_by_agent_and_status(
        self, agent_id: str, status: ProposalStatus | None = None
    ) -> builtins.list[Proposal]:
        where = [Eq("agent_id", agent_id), *self._eq_filters(status=status)]
        return self._select(where, [Asc("sort_order"), Asc("created_at")])

    def count_by_agent_and_status(self, agent_id: str, status: ProposalStatus | None = None) -> int:
        where = self._query([Eq("agent_id", agent_id), *self._eq_filters(status=status)])
        return self._store.count(self._table, where)

    def update_many_by_agent(
        self,
        agent_id: str,
        *,
        status: ProposalStatus,
        from_status: ProposalStatus | None = None,
    ) -> int:
        new = ProposalStatus(self.entity.query_value("status", status))
        graph = Proposal.transitions["status"]
        sources = {str(old) for old, targets in graph.items() if new in targets}
        if from_status is not None:
            old = str(self.entity.query_value("status", from_status))
            if old not in sources:
                raise InvalidTransition("proposal", "status", old, new.value)
            sources = {old}
        where: list[Where] = [Eq("agent_id", agent_id), In("status", frozenset(sources))]
        return self._update_many(where, {"status": new.value})

    def _before_write(self, proposal: Proposal, stored: Row | None) -> None:
        moved = (
            stored is None
            or any(
                stored[name] != getattr(proposal, name) for name in ("target_id", "initiative_id")
            )
            or stored["target_type"] != proposal.target_type.value
        )
        if proposal.target_id is not None and moved:
            _check_target(
                self, "proposal", proposal.target_type, proposal.target_id, proposal.initiative_id
            )


class ReviewCommentRepository(TableRepository[ReviewComment]):
    entity = ReviewComment

    def find_by_phase(
        self, phase_id: str, *, include_resolved: bool = True
    ) -> builtins.list[ReviewComment]:
        where: list[Where] = [Eq("phase_id", phase_id)]
        if not include_resolved:
            where.append(IsNull("resolved_at"))
        order = [Asc("file_path"), Asc("line_number"), Asc("created_at")]
        return self._select(where, order)

    def resolve(self, key: str) -> ReviewComment:
        comment = self.get(key)
        comment.resolved_at = comment.resolved_at or self._store.clock.now()
        return self.update(comment)

    def unresolve(self, key: str) -> ReviewComment:
        comment = self.get(key)
        comment.resolved_at = None
        return self.update(comment)


_KEEP: Any = object()


class ChatSessionRepository(TableRepository[ChatSession]):
    entity = ChatSession

    def create_session(self, session: ChatSession) -> ChatSession:
        existing = self.find_active_session(session.target_type, session.target_id)
        if existing is not None:
            return existing
        try:
            return self.add(session)
        except AlreadyExists:
            # A concurrent unit of work created the target's active session first: the
            # partial unique index refused ours; theirs is committed by now.
            existing = self.find_active_session(session.target_type, session.target_id)
            if existing is None:
                raise
            return existing

    def find_active_session(self, target_type: ChatTarget, target_id: str) -> ChatSession | None:
        where = [
            Eq("target_type", target_type),
            Eq("target_id", target_id),
            Eq("status", ChatStatus.ACTIVE),
        ]
        return self._first(where)

    def find_active_session_by_agent(self, agent_id: str) -> ChatSession | None:
        where = [Eq("agent_id", agent_id), Eq("status", ChatStatus.ACTIVE)]
        return self._first(where, [Desc("created_at")])

    def update_session(
        self,
        key: str,
        *,
        agent_id: str | None = _KEEP,
        status: ChatStatus | None = None,
    ) -> ChatSession:
        session = self.get(key)
        if agent_id is not _KEEP:
            session.agent_id = agent_id
        if status is not None:
            session.status = status
        return self.update(session)

    def close_session(self, key: str) -> ChatSession:
        return self.update_session(key, status=ChatStatus.CLOSED)

    def _before_write(self, session: ChatSession, stored: Row | None) -> None:
        moved = (
            stored is None
            or any(
                stored[name] != getattr(session, name) for name in ("target_id", "initiative_id")
            )
            or stored["target_type"] != session.target_type.value
        )
        if moved:
            _check_target(
                self, "chat_session", session.target_type, session.target_id, session.initiative_id
            )


class ChatMessageRepository(TableRepository[ChatMessage]):
    entity = ChatMessage

    def create_message(
        self, session_id: str, role: ChatRole, content: str, change_set_id: str | None = None
    ) -> ChatMessage:
        message = ChatMessage(
            chat_session_id=session_id, role=role, content=content, change_set_id=change_set_id
        )
        return self.add(message)

    def find_messages_by_session(self, session_id: str) -> builtins.list[ChatMessage]:
        return self._select([Eq("chat_session_id", session_id)], [Asc("sequence")])

    def update(self, message: ChatMessage) -> ChatMessage:
        raise Protected("chat_message", message.id, "is append-only: messages are never changed")

    def _before_delete(self, message: ChatMessage) -> None:
        raise Protected("chat_message", message.id, "is append-only: it goes with its session")

    def _before_write(self, message: ChatMessage, stored: Row | None) -> None:
        # Locking the session serialises appends to it, so the numbers never clash.
        session = self._store.get(table_of(ChatSession), message.chat_session_id, for_update=True)
        if session is None:
            raise NotFound("chat_session", message.chat_session_id)
        if session["status"] != ChatStatus.ACTIVE.value:
            raise Protected("chat_session", session["id"], "is closed: it takes no new messages")
        if message.change_set_id is not None:
            if message.role is not ChatRole.ASSISTANT:
                raise InvalidValue(
                    "chat_message",
                    "change_set_id",
                    message.change_set_id,
                    "links only an assistant's message to the changes it applied",
                )
            change_set = self._store.get(table_of(ChangeSet), message.change_set_id)
            if change_set is None:
                raise InvalidValue(
                    "chat_message", "change_set_id", message.change_set_id, "names no change set"
                )
            if change_set["initiative_id"] != session["initiative_id"]:
                raise InvalidValue(
                    "chat_message",
                    "change_set_id",
                    message.change_set_id,
                    "is a change set of another initiative than the session's",
                )
        last = self._first([Eq("chat_session_id", message.chat_session_id)], [Desc("sequence")])
        message.sequence = 1 if last is None else last.sequence + 1


class ChangeSetRepository(TableRepository[ChangeSet]):
    entity = ChangeSet

    def record(
        self,
        change_set: ChangeSet,
        changes: builtins.list[ChangeSetEntry],
    ) -> ChangeSet:
        with self._store.atomic():
            stored = self.add(change_set)
            entries = ChangeSetEntryRepository(self._state)
            for entry in changes:
                entry.change_set_id = stored.id
                entries.add(entry)
        return stored

    def entries(self, change_set_id: str) -> builtins.list[ChangeSetEntry]:
        return ChangeSetEntryRepository(self._state).find_by_change_set(change_set_id)

    def find_by_initiative(self, initiative_id: str) -> builtins.list[ChangeSet]:
        return self._select([Eq("initiative_id", initiative_id)], [Asc("created_at")])

    def revert(self, change_set_id: str) -> ChangeSet:
        with self._store.atomic():
            row = self._store.get(self._table, self._key(change_set_id), for_update=True)
            if row is None:
                raise NotFound("change_set", change_set_id)
            change_set = self._entity(row)
            if change_set.is_reverted:
                raise Conflict(
                    "change_set",
                    change_set.id,
                    f"was already reverted at {change_set.reverted_at.isoformat()}",  # type: ignore[union-attr]
                )
            entries = self.entries(change_set.id)
            # Every entity first, so that a refusal leaves nothing half-undone; an entity
            # changed twice by the change set is compared with its last state.
            last: dict[tuple[str, str], ChangeSetEntry] = {}
            for entry in entries:
                last[(entry.entity_type.value, entry.entity_id)] = entry
            for entry in last.values():
                current = _repository_for(self, entry.entity_type).find(entry.entity_id)
                now = None if current is None else current.audit_state()
                if now != entry.after_state:
                    raise Conflict(
                        entry.entity_type.value,
                        entry.entity_id,
                        f"was changed after change set {change_set.id!r}: "
                        "revert the later change first",
                    )
            for entry in reversed(entries):
                _undo(self, entry)
            change_set.reverted_at = self._store.clock.now()
            return self.update(change_set)


def _repository_for(repository: TableRepository[Any], kind: ChangedEntity) -> TableRepository[Any]:
    match kind:
        case ChangedEntity.PAGE:
            return PageRepository(repository._state)
        case ChangedEntity.PHASE:
            return PhaseRepository(repository._state)
        case ChangedEntity.TASK:
            return TaskRepository(repository._state)
        case _:
            assert_never(kind)


def _undo(repository: TableRepository[Any], entry: ChangeSetEntry) -> None:
    """Put one entity back as it was before the change (checked to be as the change left it)."""
    target = _repository_for(repository, entry.entity_type)
    match entry.action:
        case ChangeAction.CREATE:
            # An earlier undo's cascade (a page created under one created before) may have
            # removed it already.
            if target.find(entry.entity_id) is not None:
                target.delete(entry.entity_id)
        case ChangeAction.UPDATE:
            current = target.get(entry.entity_id)
            before = _as_entity(target, entry.before_state)
            for name in type(current).model_fields:
                if name not in _BOOKKEEPING:
                    setattr(current, name, getattr(before, name))
            target.update(current)
        case ChangeAction.DELETE:
            target.add(_as_entity(target, entry.before_state))
        case _:
            assert_never(entry.action)


# Columns the repositories stamp: a revert restores every other field.
_BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "row_version"})


def _as_entity(repository: TableRepository[Any], state: Any) -> Any:
    # An audit state is the JSON dump; validating it as JSON turns its text back into
    # datetimes and enums under the strict field rules.
    return repository.entity.model_validate_json(json.dumps(state))


class ChangeSetEntryRepository(TableRepository[ChangeSetEntry]):
    entity = ChangeSetEntry

    def find_by_change_set(self, change_set_id: str) -> builtins.list[ChangeSetEntry]:
        return self._select([Eq("change_set_id", change_set_id)], [Asc("position")])

    def update(self, entry: ChangeSetEntry) -> ChangeSetEntry:
        raise Protected("change_set_entry", entry.id, "is append-only: entries are never changed")

    def _before_delete(self, entry: ChangeSetEntry) -> None:
        raise Protected("change_set_entry", entry.id, "is append-only: it goes with its change set")

    def _before_write(self, entry: ChangeSetEntry, stored: Row | None) -> None:
        change_set = self._store.get(table_of(ChangeSet), entry.change_set_id, for_update=True)
        if change_set is None:
            raise NotFound("change_set", entry.change_set_id)
        if change_set["reverted_at"] is not None:
            raise Protected("change_set", change_set["id"], "is reverted: it takes no new entries")
        before_needed = entry.action is not ChangeAction.CREATE
        after_needed = entry.action is not ChangeAction.DELETE
        for name, needed in (("before_state", before_needed), ("after_state", after_needed)):
            value = getattr(entry, name)
            if needed and not isinstance(value, dict):
                raise InvalidValue(
                    "change_set_entry",
                    name,
                    value,
                    f"must be the entity's state for a {entry.action.value}",
                )
            if not needed and value is not None:
                raise InvalidValue(
                    "change_set_entry", name, value, f"must be null for a {entry.action.value}"
                )
        for name in ("before_state", "after_state"):
            value = getattr(entry, name)
            if isinstance(value, dict) and value.get("id") != entry.entity_id:
                raise InvalidValue(
                    "change_set_entry", name, value.get("id"), "must be the state of entity_id"
                )
        last = self._first([Eq("change_set_id", entry.change_set_id)], [Desc("position")])
        entry.position = 1 if last is None else last.position + 1


class ErrandRepository(TableRepository[Errand]):
    entity = Errand
