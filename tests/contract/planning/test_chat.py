"""Chat sessions and messages: one active session per target (race-free), finders, updates,
closing; messages appended in order, linked change sets, append-only."""

from __future__ import annotations

import threading

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import (
    AlreadyExists,
    InvalidTransition,
    InvalidValue,
    NotFound,
    Protected,
    ReferenceMissing,
)
from agentkeel.domain.planning import (
    ChangeSet,
    ChatMessage,
    ChatRole,
    ChatSession,
    ChatStatus,
    ChatTarget,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from tests.contract.planning import review_data as data


def test_create_session_is_get_or_create(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    phase = data.phase(uow, owner)
    first = data.session(uow, owner, ChatTarget.PHASE, phase.id, agent_id=owner.agent.id)
    again = data.session(uow, owner, ChatTarget.PHASE, phase.id)
    assert again == first
    assert uow.chat_sessions.count() == 1
    # The generic add refuses a second active session clearly.
    with pytest.raises(AlreadyExists, match="chat_session already exists"):
        uow.chat_sessions.add(
            ChatSession(
                target_type=ChatTarget.PHASE,
                target_id=phase.id,
                initiative_id=owner.initiative.id,
            )
        )
    uow.chat_sessions.close_session(first.id)
    second = data.session(uow, owner, ChatTarget.PHASE, phase.id)
    assert second.id != first.id and second.status is ChatStatus.ACTIVE
    # Same id, other kind: a different target.
    assert uow.chat_sessions.find_active_session(ChatTarget.TASK, phase.id) is None


def test_target_must_exist_in_the_initiative(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    other = data.plan(uow, "Billing")
    theirs = data.task(uow, other)
    with pytest.raises(InvalidValue, match="another initiative"):
        data.session(uow, owner, ChatTarget.TASK, theirs.id)
    with pytest.raises(InvalidValue, match="names no phase"):
        data.session(uow, owner, ChatTarget.PHASE, theirs.id)
    with pytest.raises(InvalidValue) as caught:
        ChatSession(target_type="page", target_id="x", initiative_id="i")  # type: ignore[arg-type]
    assert caught.value.field == "target_type"
    assert uow.chat_sessions.count() == 0


def test_finders(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    phase = data.phase(uow, owner)
    task = data.task(uow, owner)
    older = data.session(uow, owner, ChatTarget.PHASE, phase.id, agent_id=owner.agent.id)
    newer = data.session(uow, owner, ChatTarget.TASK, task.id, agent_id=owner.agent.id)
    assert uow.chat_sessions.find_active_session(ChatTarget.PHASE, phase.id) == older
    assert uow.chat_sessions.find_active_session(ChatTarget.TASK, task.id) == newer
    assert uow.chat_sessions.find_active_session_by_agent(owner.agent.id) == newer
    uow.chat_sessions.close_session(newer.id)
    assert uow.chat_sessions.find_active_session(ChatTarget.TASK, task.id) is None
    assert uow.chat_sessions.find_active_session_by_agent(owner.agent.id) == uow.chat_sessions.get(
        older.id
    )
    assert uow.chat_sessions.find_active_session_by_agent("nobody") is None


def test_update_session_and_close(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    phase = data.phase(uow, owner)
    session = data.session(uow, owner, ChatTarget.PHASE, phase.id)
    linked = uow.chat_sessions.update_session(session.id, agent_id=owner.agent.id)
    assert linked.agent_id == owner.agent.id
    # Leaving agent_id out keeps it; None unlinks.
    assert uow.chat_sessions.update_session(session.id).agent_id == owner.agent.id
    assert uow.chat_sessions.update_session(session.id, agent_id=None).agent_id is None
    with pytest.raises(ReferenceMissing):
        uow.chat_sessions.update_session(session.id, agent_id="ghost")
    closed = uow.chat_sessions.update_session(session.id, status=ChatStatus.CLOSED)
    assert closed.status is ChatStatus.CLOSED
    assert uow.chat_sessions.close_session(session.id).status is ChatStatus.CLOSED
    with pytest.raises(InvalidTransition, match="from 'closed' to 'active'"):
        uow.chat_sessions.update_session(session.id, status=ChatStatus.ACTIVE)
    with pytest.raises(NotFound):
        uow.chat_sessions.close_session("missing")


def test_the_agent_going_unlinks_its_sessions(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    phase = data.phase(uow, owner)
    session = data.session(uow, owner, ChatTarget.PHASE, phase.id, agent_id=owner.agent.id)
    uow.agents.delete(owner.agent.id)
    assert uow.chat_sessions.get(session.id).agent_id is None


def test_messages_in_order_even_at_one_instant(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    phase = data.phase(uow, owner)
    session = data.session(uow, owner, ChatTarget.PHASE, phase.id)
    other = data.session(uow, owner, ChatTarget.TASK, data.task(uow, owner).id)
    texts = [f"message {i}" for i in range(12)]
    sent = [uow.chat_messages.create_message(session.id, ChatRole.USER, text) for text in texts]
    uow.chat_messages.create_message(other.id, ChatRole.USER, "elsewhere")
    assert [m.sequence for m in sent] == list(range(1, 13))
    found = uow.chat_messages.find_messages_by_session(session.id)
    assert [m.content for m in found] == texts
    assert uow.chat_messages.find_messages_by_session(other.id)[0].sequence == 1
    # A caller's own number is not taken: the repository numbers messages.
    added = uow.chat_messages.add(
        ChatMessage(chat_session_id=session.id, role=ChatRole.SYSTEM, content="x", sequence=1)
    )
    assert added.sequence == 13


def test_only_an_assistant_message_links_a_change_set_of_the_initiative(
    uow: UnitOfWork,
) -> None:
    owner = data.plan(uow)
    other = data.plan(uow, "Billing")
    phase = data.phase(uow, owner)
    session = data.session(uow, owner, ChatTarget.PHASE, phase.id)
    ours = uow.change_sets.add(ChangeSet(initiative_id=owner.initiative.id))
    theirs = uow.change_sets.add(ChangeSet(initiative_id=other.initiative.id))
    linked = uow.chat_messages.create_message(session.id, ChatRole.ASSISTANT, "done", ours.id)
    assert linked.change_set_id == ours.id
    with pytest.raises(InvalidValue, match="only an assistant's message"):
        uow.chat_messages.create_message(session.id, ChatRole.USER, "x", ours.id)
    with pytest.raises(InvalidValue, match="another initiative"):
        uow.chat_messages.create_message(session.id, ChatRole.ASSISTANT, "x", theirs.id)
    with pytest.raises(InvalidValue, match="names no change set"):
        uow.chat_messages.create_message(session.id, ChatRole.ASSISTANT, "x", "gone")
    # The change set going leaves the message, unlinked.
    uow.change_sets.delete(ours.id)
    assert uow.chat_messages.get(linked.id).change_set_id is None
    assert len(uow.chat_messages.find_messages_by_session(session.id)) == 1


def test_messages_are_append_only_and_need_an_active_session(uow: UnitOfWork) -> None:
    owner = data.plan(uow)
    phase = data.phase(uow, owner)
    session = data.session(uow, owner, ChatTarget.PHASE, phase.id)
    message = uow.chat_messages.create_message(session.id, ChatRole.USER, "hello")
    message.content = "changed"
    with pytest.raises(Protected, match="append-only"):
        uow.chat_messages.update(message)
    with pytest.raises(Protected, match="append-only"):
        uow.chat_messages.delete(message.id)
    with pytest.raises(NotFound, match="chat_session"):
        uow.chat_messages.create_message("missing", ChatRole.USER, "x")
    with pytest.raises(InvalidValue) as caught:
        uow.chat_messages.create_message(session.id, "robot", "x")  # type: ignore[arg-type]
    assert caught.value.field == "role"
    uow.chat_sessions.close_session(session.id)
    with pytest.raises(Protected, match="is closed"):
        uow.chat_messages.create_message(session.id, ChatRole.USER, "late")
    assert [m.content for m in uow.chat_messages.find_messages_by_session(session.id)] == ["hello"]
    # Messages go with their session.
    assert uow.chat_sessions.delete(session.id)["chat_messages"] == 1


def test_concurrent_units_of_work_get_one_active_session(db: Database) -> None:
    with db.unit_of_work() as uow:
        owner = data.plan(uow)
        phase = data.phase(uow, owner)
        uow.commit()
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            barrier.wait(timeout=10)
            with db.unit_of_work() as uow:
                session = data.session(uow, owner, ChatTarget.PHASE, phase.id)
                uow.commit()
                results.append(session.id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(results) == 2 and results[0] == results[1]
    with db.unit_of_work(read_only=True) as uow:
        assert uow.chat_sessions.count() == 1
