"""Conversations between agents and their messages."""

from __future__ import annotations

import builtins

from agentkeel.domain.agents import (
    Conversation,
    ConversationStatus,
    Message,
    MessageSent,
    Party,
    QuestionAnswered,
    QuestionAsked,
)
from agentkeel.domain.errors import (
    InvalidTransition,
    InvalidValue,
    ReferenceMissing,
)
from agentkeel.ports.base import Position
from agentkeel.ports.store import (
    Eq,
    IsNull,
    NotNull,
    Row,
    Where,
)
from agentkeel.repositories.paging import PagedTable
from agentkeel.schema.columns import CONVERSATIONS, MESSAGES


class ConversationsTable(PagedTable[Conversation]):
    entity = Conversation

    def ask(self, from_agent_id: str, to_agent_id: str, question: str) -> Conversation:
        return self.add(
            Conversation(from_agent_id=from_agent_id, to_agent_id=to_agent_id, question=question)
        )

    def find_pending_for_agent(
        self, to_agent_id: str, *, after: Position | None = None, limit: int | None = None
    ) -> builtins.list[Conversation]:
        where = [
            Eq(CONVERSATIONS.to_agent_id, to_agent_id),
            Eq(CONVERSATIONS.status, ConversationStatus.PENDING),
        ]
        return self._page(where, CONVERSATIONS.created_at, after=after, limit=limit)

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
        after: Position | None = None,
        limit: int | None = None,
    ) -> builtins.list[Conversation]:
        where = self._eq_filters(
            from_agent_id=from_agent_id, to_agent_id=to_agent_id, status=status
        )
        return self._page(where, CONVERSATIONS.created_at, after=after, limit=limit)

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
            and stored[CONVERSATIONS.status] == ConversationStatus.ANSWERED
            and (stored[CONVERSATIONS.answer], stored[CONVERSATIONS.question])
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
        was_answered = (
            stored is not None and stored[CONVERSATIONS.status] == ConversationStatus.ANSWERED
        )
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


class MessagesTable(PagedTable[Message]):
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

    def find_pending_for_user(
        self, *, after: Position | None = None, limit: int | None = None
    ) -> builtins.list[Message]:
        where: builtins.list[Where] = [
            Eq(MESSAGES.recipient_type, Party.USER),
            IsNull(MESSAGES.read_at),
        ]
        return self._page(where, MESSAGES.created_at, after=after, limit=limit)

    def find_requiring_response(
        self,
        *,
        recipient_type: Party | None = None,
        recipient_agent_id: str | None = None,
        after: Position | None = None,
        limit: int | None = None,
    ) -> builtins.list[Message]:
        where: builtins.list[Where] = [
            NotNull(MESSAGES.requires_response_at),
            IsNull(MESSAGES.responded_at),
        ]
        where += self._eq_filters(
            recipient_type=recipient_type, recipient_agent_id=recipient_agent_id
        )
        return self._page(where, MESSAGES.created_at, after=after, limit=limit)

    def find_replies(
        self, parent_id: str, *, after: Position | None = None, limit: int | None = None
    ) -> builtins.list[Message]:
        where: builtins.list[Where] = [Eq(MESSAGES.parent_message_id, parent_id)]
        return self._page(where, MESSAGES.created_at, after=after, limit=limit)

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
