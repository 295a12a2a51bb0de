"""Ports of the agents context: the questions and messages agents and the user exchange
(re-exported by `agentkeel.ports.agents`)."""

from __future__ import annotations

import builtins
from typing import Protocol

from agentkeel.domain.agents import Conversation, ConversationStatus, Message, Party
from agentkeel.ports.base import EntityRepository, Position


class Conversations(EntityRepository[Conversation], Protocol):
    """Questions one agent asks another (CW `ConversationsTable`). By every path
    (`add`, `update`, the methods below): the question and an answer are never blank; the
    answer is empty while pending and required once answered; an agent cannot ask itself
    (InvalidValue naming the field); an answered conversation is final (InvalidTransition
    naming `status`). A conversation goes when either agent is deleted. Storing one records
    `QuestionAsked`; answering records `QuestionAnswered`."""

    def ask(self, from_agent_id: str, to_agent_id: str, question: str) -> Conversation:
        """Store a pending question from one agent to another (CW `create`).

        Raises InvalidValue (a blank question, NUL, too long, the same agent twice),
        ReferenceMissing (no such agent).
        """
        ...

    def find_pending_for_agent(
        self, to_agent_id: str, *, after: Position | None = None, limit: int | None = None
    ) -> builtins.list[Conversation]:
        """The questions asked of this agent and not yet answered, oldest first
        (`created_at`, then id): the listen poll, one search of the index on
        `(to_agent_id, status, created_at)`. An unknown agent has none.
        Paged (see `Position`): at most `limit` after `after` (created_at, id), oldest first;
        InvalidValue naming `after` or `limit` for a bad one.
        """
        ...

    def answer(self, key: str, answer: str) -> Conversation:
        """Store the answer and move the conversation pending -> answered.

        Raises NotFound; InvalidValue (a blank answer, NUL, too long); InvalidTransition
        naming `status` when it is already answered; Conflict when another unit of work
        answered it since it was read.
        """
        ...

    def list(
        self,
        *,
        from_agent_id: str | None = None,
        to_agent_id: str | None = None,
        status: ConversationStatus | None = None,
        after: Position | None = None,
        limit: int | None = None,
    ) -> builtins.list[Conversation]:
        """Conversations, oldest first (`created_at`, then id), optionally asked by one
        agent, of one agent and/or in one status. Raises InvalidValue for a filter no
        conversation could match (an unknown status).
        Paged (see `Position`): at most `limit` after `after` (created_at, id), oldest first;
        InvalidValue naming `after` or `limit` for a bad one."""
        ...


class Messages(EntityRepository[Message], Protocol):
    """Threaded messages between agents and the user (CW `MessagesTable`). By every
    path: an `agent` party names its agent and the `user` party names none (InvalidValue
    naming `sender_agent_id` / `recipient_agent_id`); nobody writes to themselves; a reply's
    parent exists (ReferenceMissing) and the reply goes back from the parent's recipient to
    its sender; storing a reply stamps the parent's `responded_at` (and `read_at`) in the
    same step; a response implies a read (`read_at` is stamped with `responded_at`); the
    parties and the parent are fixed once stored. A message goes with its sender or
    recipient agent and with its parent (the replies below it too). Storing one records
    `MessageSent`."""

    def reply(self, parent_id: str, content: str, *, requires_response: bool = False) -> Message:
        """Answer a message: a new message from the parent's recipient to the parent's
        sender, threaded under it, that stamps the parent's `responded_at` (and `read_at`,
        kept if already set). `requires_response` asks for an answer in turn.

        Raises NotFound (no such parent), InvalidValue (blank content, NUL, too long),
        Conflict (the parent changed since it was read).
        """
        ...

    def mark_read(self, key: str) -> Message:
        """Stamp `read_at` (kept if already set). Raises NotFound."""
        ...

    def find_pending_for_user(
        self, *, after: Position | None = None, limit: int | None = None
    ) -> builtins.list[Message]:
        """Messages to the user that the user has not read yet, oldest first (`created_at`,
        then id).
        Paged (see `Position`): at most `limit` after `after` (created_at, id), oldest first;
        InvalidValue naming `after` or `limit` for a bad one."""
        ...

    def find_requiring_response(
        self,
        *,
        recipient_type: Party | None = None,
        recipient_agent_id: str | None = None,
        after: Position | None = None,
        limit: int | None = None,
    ) -> builtins.list[Message]:
        """Messages that ask for a response (`requires_response_at`) and have none yet
        (`responded_at` empty), oldest first (`created_at`, then id); optionally only those
        to the user or to agents (`recipient_type`) and/or to one agent.
        Paged (see `Position`): at most `limit` after `after` (created_at, id), oldest first;
        InvalidValue naming `after` or `limit` for a bad one."""
        ...

    def find_replies(
        self, parent_id: str, *, after: Position | None = None, limit: int | None = None
    ) -> builtins.list[Message]:
        """The direct replies to a message, oldest first (`created_at`, then id); none for
        an unknown message.
        Paged (see `Position`): at most `limit` after `after` (created_at, id), oldest first;
        InvalidValue naming `after` or `limit` for a bad one."""
        ...
