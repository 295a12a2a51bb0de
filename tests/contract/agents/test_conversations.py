"""Conversations: questions between agents, answered once, polled by the asked agent."""

from __future__ import annotations

import pytest

from agentkeel.database import Database
from agentkeel.domain.agents import (
    Agent,
    Conversation,
    ConversationStatus,
    QuestionAnswered,
    QuestionAsked,
)
from agentkeel.domain.errors import (
    Conflict,
    InvalidTransition,
    InvalidValue,
    NotFound,
    ReferenceMissing,
)
from agentkeel.domain.events import DomainEvent
from agentkeel.ports.unit_of_work import UnitOfWork


def agents(uow: UnitOfWork, *names: str) -> list[Agent]:
    return [uow.agents.add(Agent(name=name)) for name in names]


def test_ask_stores_a_pending_question(uow: UnitOfWork) -> None:
    asker, asked = agents(uow, "brave-otter", "calm-heron")
    conversation = uow.conversations.ask(asker.id, asked.id, "Which branch do I base on?")
    assert conversation.status is ConversationStatus.PENDING
    assert conversation.answer is None
    assert uow.conversations.get(conversation.id) == conversation
    assert uow.conversations.find(conversation.id) == conversation


def test_pending_for_an_agent_are_its_unanswered_questions_oldest_first(
    uow: UnitOfWork,
) -> None:
    a, b, c = agents(uow, "a-otter", "b-heron", "c-lynx")
    first = uow.conversations.ask(a.id, b.id, "first?")
    uow.conversations.ask(a.id, c.id, "to someone else?")
    second = uow.conversations.ask(c.id, b.id, "second?")
    answered = uow.conversations.ask(a.id, b.id, "answered?")
    uow.conversations.answer(answered.id, "yes")
    assert [q.id for q in uow.conversations.find_pending_for_agent(b.id)] == [first.id, second.id]
    assert uow.conversations.find_pending_for_agent("no-such-agent") == []


def test_answer_moves_pending_to_answered_once(uow: UnitOfWork) -> None:
    a, b = agents(uow, "a-otter", "b-heron")
    asked = uow.conversations.ask(a.id, b.id, "ready?")
    answered = uow.conversations.answer(asked.id, "ready")
    assert (answered.status, answered.answer) == (ConversationStatus.ANSWERED, "ready")
    assert uow.conversations.get(asked.id).answer == "ready"
    with pytest.raises(InvalidTransition) as caught:
        uow.conversations.answer(asked.id, "again")
    assert caught.value.field == "status"
    assert str(caught.value) == "conversation.status cannot change from 'answered' to 'answered'"
    assert uow.conversations.get(asked.id).answer == "ready"


@pytest.mark.parametrize("answer", ["", "   ", "a\x00b"])
def test_a_blank_or_nul_answer_is_refused_and_leaves_it_pending(
    uow: UnitOfWork, answer: str
) -> None:
    a, b = agents(uow, "a-otter", "b-heron")
    asked = uow.conversations.ask(a.id, b.id, "ready?")
    with pytest.raises(InvalidValue) as caught:
        uow.conversations.answer(asked.id, answer)
    assert caught.value.field == "answer"
    assert uow.conversations.get(asked.id).status is ConversationStatus.PENDING


def test_answering_an_unknown_conversation_is_not_found(uow: UnitOfWork) -> None:
    with pytest.raises(NotFound, match="conversation not found: id='nope'"):
        uow.conversations.answer("nope", "x")


@pytest.mark.parametrize("question", ["", "  \n", "a\x00b", "x" * 1_000_001])
def test_a_bad_question_is_refused(uow: UnitOfWork, question: str) -> None:
    a, b = agents(uow, "a-otter", "b-heron")
    with pytest.raises(InvalidValue) as caught:
        uow.conversations.ask(a.id, b.id, question)
    assert caught.value.field == "question"
    assert uow.conversations.count() == 0


@pytest.mark.parametrize(
    "question",
    ['it\'s "quoted"', "🚢 ship it? 👍🏽", "'; DROP TABLE conversations;--", "%_\\", "x" * 100_000],
)
def test_odd_text_round_trips(uow: UnitOfWork, question: str) -> None:
    a, b = agents(uow, "a-otter", "b-heron")
    asked = uow.conversations.ask(a.id, b.id, question)
    answered = uow.conversations.answer(asked.id, question)
    stored = uow.conversations.get(asked.id)
    assert stored.question == stored.answer == answered.answer == question


def test_an_agent_cannot_ask_itself(uow: UnitOfWork) -> None:
    [a] = agents(uow, "lonely-owl")
    with pytest.raises(InvalidValue) as caught:
        uow.conversations.ask(a.id, a.id, "me?")
    assert caught.value.field == "to_agent_id"
    assert "cannot ask itself" in str(caught.value)


def test_both_agents_must_exist(uow: UnitOfWork) -> None:
    [a] = agents(uow, "a-otter")
    with pytest.raises(ReferenceMissing, match=r"conversation\.to_agent_id refers to a missing"):
        uow.conversations.ask(a.id, "ghost", "anyone?")
    with pytest.raises(ReferenceMissing, match=r"conversation\.from_agent_id refers to a missing"):
        uow.conversations.ask("ghost", a.id, "anyone?")
    assert uow.conversations.count() == 0


def test_the_answer_rule_holds_on_the_generic_paths(uow: UnitOfWork) -> None:
    a, b = agents(uow, "a-otter", "b-heron")
    with pytest.raises(InvalidValue, match="must be empty while the conversation is pending"):
        uow.conversations.add(
            Conversation(from_agent_id=a.id, to_agent_id=b.id, question="q", answer="early")
        )
    with pytest.raises(InvalidValue, match="is required once the conversation is answered"):
        uow.conversations.add(
            Conversation(
                from_agent_id=a.id,
                to_agent_id=b.id,
                question="q",
                status=ConversationStatus.ANSWERED,
            )
        )
    asked = uow.conversations.ask(a.id, b.id, "q")
    asked.status = ConversationStatus.ANSWERED
    with pytest.raises(InvalidValue) as caught:
        uow.conversations.update(asked)
    assert caught.value.field == "answer"
    asked = uow.conversations.get(asked.id)
    asked.answer = "sneaky"
    with pytest.raises(InvalidValue, match="must be empty while the conversation is pending"):
        uow.conversations.update(asked)
    asked = uow.conversations.get(asked.id)
    asked.to_agent_id = a.id
    with pytest.raises(InvalidValue, match="cannot ask itself"):
        uow.conversations.update(asked)


def test_an_answered_conversation_is_final_on_the_generic_path(uow: UnitOfWork) -> None:
    a, b = agents(uow, "a-otter", "b-heron")
    done = uow.conversations.add(
        Conversation(
            from_agent_id=a.id,
            to_agent_id=b.id,
            question="q",
            answer="a",
            status=ConversationStatus.ANSWERED,
        )
    )
    done.answer = "rewritten"
    with pytest.raises(InvalidTransition, match="'answered' to 'answered'"):
        uow.conversations.update(done)
    done = uow.conversations.get(done.id)
    done.status = ConversationStatus.PENDING
    done.answer = None
    with pytest.raises(InvalidTransition, match="'answered' to 'pending'"):
        uow.conversations.update(done)
    assert uow.conversations.get(done.id).answer == "a"


def test_a_stale_copy_cannot_answer_again(uow: UnitOfWork) -> None:
    a, b = agents(uow, "a-otter", "b-heron")
    asked = uow.conversations.ask(a.id, b.id, "q")
    stale = uow.conversations.get(asked.id)
    uow.conversations.answer(asked.id, "first")
    stale.status = ConversationStatus.ANSWERED
    stale.answer = "second"
    with pytest.raises(Conflict, match="changed by another unit of work"):
        uow.conversations.update(stale)
    assert uow.conversations.get(asked.id).answer == "first"


def test_list_filters_by_asker_asked_and_status(uow: UnitOfWork) -> None:
    a, b, c = agents(uow, "a-otter", "b-heron", "c-lynx")
    ab = uow.conversations.ask(a.id, b.id, "1")
    cb = uow.conversations.ask(c.id, b.id, "2")
    ac = uow.conversations.ask(a.id, c.id, "3")
    uow.conversations.answer(cb.id, "ok")
    assert [x.id for x in uow.conversations.list()] == [ab.id, cb.id, ac.id]
    assert [x.id for x in uow.conversations.list(from_agent_id=a.id)] == [ab.id, ac.id]
    assert [x.id for x in uow.conversations.list(to_agent_id=b.id)] == [ab.id, cb.id]
    answered = uow.conversations.list(status=ConversationStatus.ANSWERED)
    assert [x.id for x in answered] == [cb.id]
    with pytest.raises(InvalidValue, match="status"):
        uow.conversations.list(status="maybe")  # type: ignore[arg-type]


@pytest.mark.parametrize("deleted", ["asker", "asked"])
def test_a_conversation_goes_with_either_agent(uow: UnitOfWork, deleted: str) -> None:
    a, b, c = agents(uow, "a-otter", "b-heron", "c-lynx")
    gone = uow.conversations.ask(a.id, b.id, "q")
    also_gone = uow.conversations.ask(b.id, a.id, "back?")
    kept = uow.conversations.ask(c.id, b.id if deleted == "asker" else a.id, "other")
    removed = uow.agents.delete(a.id if deleted == "asker" else b.id)
    assert removed == {"agents": 1, "conversations": 2}
    assert uow.conversations.find(gone.id) is None
    assert uow.conversations.find(also_gone.id) is None
    assert uow.conversations.get(kept.id).question == "other"


def test_asking_and_answering_record_events(db: Database) -> None:
    seen: list[DomainEvent] = []
    db.subscribe(QuestionAsked, seen.append)
    db.subscribe(QuestionAnswered, seen.append)
    with db.unit_of_work() as uow:
        a, b = agents(uow, "a-otter", "b-heron")
        asked = uow.conversations.ask(a.id, b.id, "q")
        uow.conversations.answer(asked.id, "a")
        assert seen == []  # delivered on commit only
        uow.commit()
    assert seen == [
        QuestionAsked(asked.id, a.id, b.id),
        QuestionAnswered(asked.id, a.id, b.id),
    ]
