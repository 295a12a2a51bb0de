"""Chat sessions about a page, phase or task, and their messages."""

from __future__ import annotations

import builtins
from typing import Any

from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidValue,
    NotFound,
    Protected,
)
from agentkeel.domain.planning import (
    ChangeSet,
    ChatMessage,
    ChatRole,
    ChatSession,
    ChatStatus,
    ChatTarget,
)
from agentkeel.ports.store import (
    Asc,
    Desc,
    Eq,
    Row,
)
from agentkeel.repositories.base import TableRepository
from agentkeel.repositories.planning.targets import check_target
from agentkeel.schema import table_of
from agentkeel.schema.columns import CHANGE_SETS, CHAT_MESSAGES, CHAT_SESSIONS

_KEEP: Any = object()


class ChatSessionsTable(TableRepository[ChatSession]):
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
            Eq(CHAT_SESSIONS.target_type, target_type),
            Eq(CHAT_SESSIONS.target_id, target_id),
            Eq(CHAT_SESSIONS.status, ChatStatus.ACTIVE),
        ]
        return self._first(where)

    def find_active_session_by_agent(self, agent_id: str) -> ChatSession | None:
        where = [Eq(CHAT_SESSIONS.agent_id, agent_id), Eq(CHAT_SESSIONS.status, ChatStatus.ACTIVE)]
        return self._first(where, [Desc(CHAT_SESSIONS.created_at)])

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
            or stored[CHAT_SESSIONS.target_type] != session.target_type.value
        )
        if moved:
            check_target(
                self._store,
                "chat_session",
                session.target_type,
                session.target_id,
                session.initiative_id,
            )


class ChatMessagesTable(TableRepository[ChatMessage]):
    entity = ChatMessage

    def create_message(
        self, session_id: str, role: ChatRole, content: str, change_set_id: str | None = None
    ) -> ChatMessage:
        message = ChatMessage(
            chat_session_id=session_id, role=role, content=content, change_set_id=change_set_id
        )
        return self.add(message)

    def find_messages_by_session(self, session_id: str) -> builtins.list[ChatMessage]:
        return self._select(
            [Eq(CHAT_MESSAGES.chat_session_id, session_id)], [Asc(CHAT_MESSAGES.sequence)]
        )

    def _before_delete(self, message: ChatMessage) -> None:
        raise Protected("chat_message", message.id, "is append-only: it goes with its session")

    def _before_write(self, message: ChatMessage, stored: Row | None) -> None:
        # Locking the session serialises appends to it, so the numbers never clash.
        session = self._store.get(table_of(ChatSession), message.chat_session_id, for_update=True)
        if session is None:
            raise NotFound("chat_session", message.chat_session_id)
        if session[CHAT_SESSIONS.status] != ChatStatus.ACTIVE.value:
            raise Protected(
                "chat_session", session[CHAT_SESSIONS.id], "is closed: it takes no new messages"
            )
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
            if change_set[CHANGE_SETS.initiative_id] != session[CHAT_SESSIONS.initiative_id]:
                raise InvalidValue(
                    "chat_message",
                    "change_set_id",
                    message.change_set_id,
                    "is a change set of another initiative than the session's",
                )
        last = self._first(
            [Eq(CHAT_MESSAGES.chat_session_id, message.chat_session_id)],
            [Desc(CHAT_MESSAGES.sequence)],
        )
        message.sequence = 1 if last is None else last.sequence + 1
