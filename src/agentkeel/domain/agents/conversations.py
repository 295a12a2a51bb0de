"""Questions between agents (Codewalkers' `conversations`) and threaded messages between
agents and the user (Codewalkers' `messages`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Strict

from agentkeel.domain.entity import Flag, Timestamped
from agentkeel.domain.fields import LONG_TEXT_MAX_LENGTH, Id, TextRule, UtcDateTime

# What one party says to another: up to a megabyte of text, never blank.
Said = Annotated[str, Strict(), TextRule(LONG_TEXT_MAX_LENGTH, blank=False)]


class ConversationStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"


class Conversation(Timestamped):
    """A question one agent asks another; pending until answered, answered once.

    `answer` is empty while the conversation is pending and required once it is answered;
    an agent cannot ask itself (the repository holds both on every path)."""

    transitions = {
        "status": {
            ConversationStatus.PENDING: frozenset({ConversationStatus.ANSWERED}),
            ConversationStatus.ANSWERED: frozenset(),
        }
    }

    from_agent_id: Id
    to_agent_id: Id
    question: Said
    answer: Said | None = None
    status: ConversationStatus = ConversationStatus.PENDING
    # What the question is about, if anything (CW).
    initiative_id: Id | None = None
    phase_id: Id | None = None
    task_id: Id | None = None


class Party(StrEnum):
    """Who sends or receives a message."""

    AGENT = "agent"
    USER = "user"


class Message(Timestamped):
    """A message from an agent or the user to an agent or the user, threaded by
    `parent_message_id` (a reply). An agent party names its agent (`sender_agent_id` /
    `recipient_agent_id`); the user has none. `requires_response_at` marks a message that
    waits for an answer, `responded_at` when it got one (a reply to it), `read_at` when its
    recipient read it (a response implies it was read). Sender, recipient and parent are
    fixed once the message is stored."""

    sender_type: Party
    sender_agent_id: Id | None = None
    recipient_type: Party
    recipient_agent_id: Id | None = None
    parent_message_id: Id | None = None
    content: Said
    requires_response_at: UtcDateTime | None = None
    responded_at: UtcDateTime | None = None
    read_at: UtcDateTime | None = None

    requires_response: ClassVar[Flag] = Flag("requires_response_at")
    is_responded: ClassVar[Flag] = Flag("responded_at")
    is_read: ClassVar[Flag] = Flag("read_at")
