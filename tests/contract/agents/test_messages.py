"""Messages: threaded messages between agents and the user, with replies that answer."""

from __future__ import annotations

from typing import Any

import pytest

from agentkeel.database import Database
from agentkeel.domain.agents import Agent, Message, MessageSent, Party
from agentkeel.domain.clock import FakeClock
from agentkeel.domain.errors import AlreadyExists, InvalidValue, NotFound, ReferenceMissing
from agentkeel.domain.events import DomainEvent
from agentkeel.ports.unit_of_work import UnitOfWork

USER = Party.USER
AGENT = Party.AGENT


def agent(uow: UnitOfWork, name: str = "brave-otter") -> Agent:
    return uow.agents.add(Agent(name=name))


def to_user(uow: UnitOfWork, sender: Agent, content: str = "Done?", **fields: Any) -> Message:
    return uow.messages.add(
        Message(
            sender_type=AGENT,
            sender_agent_id=sender.id,
            recipient_type=USER,
            content=content,
            **fields,
        )
    )


def to_agent(uow: UnitOfWork, recipient: Agent, content: str = "Go on", **fields: Any) -> Message:
    return uow.messages.add(
        Message(
            sender_type=USER,
            recipient_type=AGENT,
            recipient_agent_id=recipient.id,
            content=content,
            **fields,
        )
    )


def asking(uow: UnitOfWork) -> Any:
    return uow.clock.now()


def test_a_message_round_trips(uow: UnitOfWork) -> None:
    otter = agent(uow)
    sent = to_user(uow, otter, "Need a decision")
    assert uow.messages.get(sent.id) == sent
    assert (sent.is_read, sent.is_responded, sent.requires_response) == (False, False, False)
    assert sent.parent_message_id is None


@pytest.mark.parametrize(
    "content",
    ['it\'s "quoted"', "🚢 ship it? 👍🏽", "'; DROP TABLE messages;--", "%_\\", "x" * 1_000_000],
)
def test_odd_text_round_trips(uow: UnitOfWork, content: str) -> None:
    sent = to_user(uow, agent(uow), content)
    assert uow.messages.get(sent.id).content == content


@pytest.mark.parametrize("content", ["", "  ", "a\x00b", "x" * 1_000_001, "\ud800"])
def test_bad_content_is_refused(uow: UnitOfWork, content: str) -> None:
    otter = agent(uow)
    with pytest.raises(InvalidValue) as caught:
        to_user(uow, otter, content)
    assert caught.value.field == "content"


@pytest.mark.parametrize(
    ("fields", "field", "problem"),
    [
        (
            {"sender_type": AGENT, "sender_agent_id": None},
            "sender_agent_id",
            "is required when the sender is an agent",
        ),
        (
            {"sender_type": USER, "sender_agent_id": "A"},
            "sender_agent_id",
            "must be empty when the sender is the user",
        ),
        (
            {"recipient_type": AGENT},
            "recipient_agent_id",
            "is required when the recipient is an agent",
        ),
        (
            {"recipient_type": USER, "recipient_agent_id": "A"},
            "recipient_agent_id",
            "must be empty when the recipient is the user",
        ),
        ({"sender_type": USER, "recipient_type": USER}, "recipient_type", "must differ"),
        (
            {
                "sender_type": AGENT,
                "sender_agent_id": "A",
                "recipient_type": AGENT,
                "recipient_agent_id": "A",
            },
            "recipient_agent_id",
            "must differ",
        ),
    ],
)
def test_each_party_is_an_agent_with_its_id_or_the_user_without(
    uow: UnitOfWork, fields: dict[str, Any], field: str, problem: str
) -> None:
    uow.agents.add(Agent(id="A", name="a-otter"))
    uow.agents.add(Agent(id="B", name="b-heron"))
    values: dict[str, Any] = {
        "sender_type": AGENT,
        "sender_agent_id": "B",
        "recipient_type": USER,
        "content": "hi",
    }
    values.update(fields)
    if values["sender_type"] is USER and "sender_agent_id" not in fields:
        values.pop("sender_agent_id")
    with pytest.raises(InvalidValue) as caught:
        uow.messages.add(Message(**values))
    assert (caught.value.field, caught.value.problem[: len(problem)]) == (field, problem)
    assert uow.messages.count() == 0


def test_agents_can_write_to_each_other(uow: UnitOfWork) -> None:
    a, b = agent(uow, "a-otter"), agent(uow, "b-heron")
    sent = uow.messages.add(
        Message(
            sender_type=AGENT,
            sender_agent_id=a.id,
            recipient_type=AGENT,
            recipient_agent_id=b.id,
            content="hand over",
        )
    )
    assert uow.messages.get(sent.id).recipient_agent_id == b.id


def test_agents_must_exist(uow: UnitOfWork) -> None:
    with pytest.raises(ReferenceMissing, match=r"message\.sender_agent_id refers to a missing"):
        uow.messages.add(
            Message(sender_type=AGENT, sender_agent_id="ghost", recipient_type=USER, content="x")
        )


def test_parties_and_parent_are_fixed_once_stored(uow: UnitOfWork) -> None:
    a, b = agent(uow, "a-otter"), agent(uow, "b-heron")
    sent = to_user(uow, a)
    sent.sender_agent_id = b.id
    with pytest.raises(InvalidValue, match="cannot change once the message is stored") as caught:
        uow.messages.update(sent)
    assert caught.value.field == "sender_agent_id"
    sent = uow.messages.get(sent.id)
    sent.content = "edited"
    assert uow.messages.update(sent).content == "edited"


def test_pending_for_user_is_what_the_user_has_not_read_oldest_first(uow: UnitOfWork) -> None:
    a = agent(uow)
    first = to_user(uow, a, "1")
    read = to_user(uow, a, "2")
    third = to_user(uow, a, "3")
    to_agent(uow, a, "to the agent, not the user")
    uow.messages.mark_read(read.id)
    assert [m.id for m in uow.messages.find_pending_for_user()] == [first.id, third.id]


def test_mark_read_keeps_the_first_time(uow: UnitOfWork) -> None:
    sent = to_user(uow, agent(uow))
    once = uow.messages.mark_read(sent.id)
    assert once.read_at is not None
    assert uow.messages.mark_read(sent.id).read_at == once.read_at
    with pytest.raises(NotFound, match="message not found: id='nope'"):
        uow.messages.mark_read("nope")


def test_reply_goes_back_to_the_sender_and_answers_the_parent(uow: UnitOfWork) -> None:
    a = agent(uow)
    question = to_user(uow, a, "Merge now?", requires_response_at=asking(uow))
    reply = uow.messages.reply(question.id, "Yes")
    assert (reply.sender_type, reply.sender_agent_id) == (USER, None)
    assert (reply.recipient_type, reply.recipient_agent_id) == (AGENT, a.id)
    assert reply.parent_message_id == question.id
    assert not reply.requires_response
    parent = uow.messages.get(question.id)
    assert parent.responded_at is not None
    assert parent.read_at == parent.responded_at  # a response implies a read
    assert parent.row_version == 2
    follow_up = uow.messages.reply(reply.id, "Merged. Delete the branch?", requires_response=True)
    assert (follow_up.sender_agent_id, follow_up.recipient_type) == (a.id, USER)
    assert follow_up.requires_response


def test_a_second_reply_keeps_the_first_response_time(uow: UnitOfWork) -> None:
    question = to_user(uow, agent(uow), requires_response_at=asking(uow))
    uow.messages.reply(question.id, "one")
    responded = uow.messages.get(question.id).responded_at
    uow.messages.reply(question.id, "two")
    assert uow.messages.get(question.id).responded_at == responded


def test_find_replies_is_the_direct_replies_oldest_first(uow: UnitOfWork) -> None:
    question = to_user(uow, agent(uow))
    one = uow.messages.reply(question.id, "one")
    two = uow.messages.reply(question.id, "two")
    uow.messages.reply(one.id, "nested")
    assert [m.id for m in uow.messages.find_replies(question.id)] == [one.id, two.id]
    assert uow.messages.find_replies("nope") == []


def test_replying_to_an_unknown_message_is_not_found(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound, match="message not found: id='nope'"):
        uow.messages.reply("nope", "hello?")
    with pytest.raises(InvalidValue, match="requires_response must be True or False"):
        uow.messages.reply("nope", "hello?", requires_response="yes")  # type: ignore[arg-type]


def test_a_bad_reply_leaves_the_parent_unanswered(uow: UnitOfWork) -> None:
    question = to_user(uow, agent(uow), requires_response_at=asking(uow))
    with pytest.raises(InvalidValue, match="content"):
        uow.messages.reply(question.id, "  ")
    taken = Message(
        id=question.id,
        sender_type=USER,
        recipient_type=AGENT,
        recipient_agent_id=question.sender_agent_id,
        parent_message_id=question.id,
        content="reuses the parent's id",
    )
    with pytest.raises(AlreadyExists):
        uow.messages.add(taken)
    assert uow.messages.get(question.id).responded_at is None
    assert uow.messages.find_replies(question.id) == []


def test_a_reply_added_directly_obeys_the_same_rules(uow: UnitOfWork) -> None:
    a, b = agent(uow, "a-otter"), agent(uow, "b-heron")
    question = to_user(uow, a, requires_response_at=asking(uow))
    with pytest.raises(ReferenceMissing) as missing:
        uow.messages.add(
            Message(
                sender_type=USER,
                recipient_type=AGENT,
                recipient_agent_id=a.id,
                parent_message_id="ghost",
                content="x",
            )
        )
    assert str(missing.value) == "message.parent_message_id refers to a missing message: 'ghost'"
    with pytest.raises(InvalidValue, match="reply goes back") as caught:
        to_agent(uow, b, "to the wrong agent", parent_message_id=question.id)
    assert caught.value.field == "recipient_agent_id"
    with pytest.raises(InvalidValue, match="reply goes back") as caught:
        uow.messages.add(
            Message(
                sender_type=AGENT,
                sender_agent_id=b.id,
                recipient_type=AGENT,
                recipient_agent_id=a.id,
                parent_message_id=question.id,
                content="from the wrong party",
            )
        )
    assert caught.value.field == "sender_type"
    assert uow.messages.get(question.id).responded_at is None
    reply = to_agent(uow, a, "right", parent_message_id=question.id)
    assert uow.messages.get(question.id).is_responded
    assert reply.parent_message_id == question.id


def test_a_response_implies_a_read_on_the_generic_path(uow: UnitOfWork) -> None:
    sent = to_user(uow, agent(uow))
    sent.responded_at = asking(uow)
    stored = uow.messages.update(sent)
    assert stored.read_at == stored.responded_at


def test_requiring_response_is_asked_and_not_yet_answered(uow: UnitOfWork) -> None:
    a, b = agent(uow, "a-otter"), agent(uow, "b-heron")
    ask_user = to_user(uow, a, "user?", requires_response_at=asking(uow))
    to_user(uow, a, "fyi")
    answered = to_user(uow, a, "answered?", requires_response_at=asking(uow))
    uow.messages.reply(answered.id, "done")
    ask_b = to_agent(uow, b, "b?", requires_response_at=asking(uow))
    ask_a = to_agent(uow, a, "a?", requires_response_at=asking(uow))
    found = uow.messages.find_requiring_response
    assert [m.id for m in found()] == [ask_user.id, ask_b.id, ask_a.id]
    assert [m.id for m in found(recipient_type=USER)] == [ask_user.id]
    assert [m.id for m in found(recipient_type=AGENT)] == [ask_b.id, ask_a.id]
    assert [m.id for m in found(recipient_agent_id=a.id)] == [ask_a.id]
    with pytest.raises(InvalidValue, match="recipient_type"):
        found(recipient_type="robot")  # type: ignore[arg-type]


def test_deleting_a_parent_takes_its_thread(uow: UnitOfWork) -> None:
    a = agent(uow)
    question = to_user(uow, a)
    reply = uow.messages.reply(question.id, "one")
    nested = uow.messages.reply(reply.id, "two")
    other = to_user(uow, a, "other")
    assert uow.messages.delete(question.id) == {"messages": 3}
    assert [uow.messages.find(m.id) for m in (question, reply, nested)] == [None] * 3
    assert uow.messages.get(other.id).content == "other"


def test_deleting_an_agent_takes_its_messages_and_their_threads(uow: UnitOfWork) -> None:
    a, b = agent(uow, "a-otter"), agent(uow, "b-heron")
    from_a = to_user(uow, a, "from a")
    users_reply = uow.messages.reply(from_a.id, "to a")
    to_a = to_agent(uow, a, "to a")
    kept = to_user(uow, b, "from b")
    assert uow.agents.delete(a.id) == {"agents": 1, "messages": 3}
    assert [uow.messages.find(m.id) for m in (from_a, users_reply, to_a)] == [None] * 3
    assert uow.messages.get(kept.id).content == "from b"


def test_sending_records_an_event(db: Database) -> None:
    seen: list[DomainEvent] = []
    db.subscribe(MessageSent, seen.append)
    with db.unit_of_work() as uow:
        a = agent(uow)
        question = to_user(uow, a)
        reply = uow.messages.reply(question.id, "ok")
        uow.commit()
    assert seen == [
        MessageSent(question.id, USER, None, None),
        MessageSent(reply.id, AGENT, a.id, question.id),
    ]


def test_the_clock_stamps_the_response(db: Database) -> None:
    assert isinstance(db.clock, FakeClock)
    with db.unit_of_work() as uow:
        question = to_user(uow, agent(uow))
        before = uow.clock.now()
        uow.messages.reply(question.id, "ok")
        assert uow.messages.get(question.id).responded_at > before  # type: ignore[operator]
