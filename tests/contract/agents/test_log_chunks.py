"""Agent log chunks (CW `LogChunkRepository`): appended in order, in batches of one bulk
insert, read by agent or by many agents at once, deleted by agent (audited), and kept when
their agent is deleted."""

from __future__ import annotations

from typing import Any

import pytest

from agentkeel.database import Database
from agentkeel.domain.agents import Agent, AgentLogChunk
from agentkeel.domain.audit import EventCategory
from agentkeel.domain.errors import AlreadyExists, InvalidValue, NotFound, Protected, ReadOnly
from agentkeel.domain.fields import LONG_TEXT_MAX_LENGTH
from agentkeel.ports.unit_of_work import UnitOfWork

ODD = ['it\'s "quoted"', "🚢 ünï", "'; DROP TABLE agent_log_chunks;--", "", " ", "line\nbreak"]


def contents_of(chunks: list[AgentLogChunk]) -> list[tuple[str, int, int, str]]:
    return [(c.agent_id, c.session_number, c.chunk_number, c.content) for c in chunks]


def test_append_numbers_the_batch_after_the_agents_last_chunk(uow: UnitOfWork) -> None:
    assert uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["one", "two"]) == 2
    assert uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["three"]) == 3
    assert uow.agent_log_chunks.append("agent-b", "calm-heron", 1, ["other"]) == 1
    assert contents_of(uow.agent_log_chunks.find_by_agent("agent-a")) == [
        ("agent-a", 1, 1, "one"),
        ("agent-a", 1, 2, "two"),
        ("agent-a", 1, 3, "three"),
    ]
    assert uow.agent_log_chunks.count() == 4


def test_append_stamps_every_chunk_of_a_batch_with_one_time(uow: UnitOfWork) -> None:
    uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["one", "two"])
    one, two = uow.agent_log_chunks.find_by_agent("agent-a")
    assert one.created_at == two.created_at and one.created_at.tzinfo is not None
    assert one.id != two.id
    assert uow.agent_log_chunks.get(one.id) == one


def test_append_of_nothing_writes_nothing_and_returns_the_last_number(uow: UnitOfWork) -> None:
    assert uow.agent_log_chunks.append("agent-a", "brave-otter", 1, []) == 0
    uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["x"])
    assert uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ()) == 1
    assert uow.agent_log_chunks.count() == 1


def test_odd_text_round_trips(uow: UnitOfWork) -> None:
    longest = "x" * LONG_TEXT_MAX_LENGTH
    uow.agent_log_chunks.append("agent-a", "o'brien 🚢", 1, [*ODD, longest])
    found = uow.agent_log_chunks.find_by_agent("agent-a")
    assert [c.content for c in found] == [*ODD, longest]
    assert {c.agent_name for c in found} == {"o'brien 🚢"}


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("a\x00b", "must not contain NUL"),
        ("lone \ud800", r"must be valid Unicode text \(it holds a lone surrogate\)"),
        ("x" * (LONG_TEXT_MAX_LENGTH + 1), "must be at most 1000000 characters long"),
        (7, "must be a string, not int"),
        (None, "must be a string, not NoneType"),
    ],
)
def test_a_bad_chunk_refuses_the_whole_batch(uow: UnitOfWork, bad: Any, problem: str) -> None:
    uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["kept"])
    with pytest.raises(InvalidValue, match=rf"agent_log_chunk\.contents\[2\] {problem}"):
        uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["ok", "fine", bad, "later"])
    assert contents_of(uow.agent_log_chunks.find_by_agent("agent-a")) == [("agent-a", 1, 1, "kept")]
    assert uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["next"]) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("bad id!", "n", 1, ["x"]), r"agent_log_chunk\.agent_id must be 1 to 64"),
        (("a", "  ", 1, ["x"]), r"agent_log_chunk\.agent_name must not be blank"),
        (("a", "n", 0, ["x"]), r"agent_log_chunk\.session_number must be between 1"),
        (("a", "n", True, ["x"]), r"agent_log_chunk\.session_number"),
        (("a", "n", 1, "a string"), r"agent_log_chunk\.contents must be a list of texts"),
        (("a", "n", 1, 5), r"agent_log_chunk\.contents must be a list of texts"),
    ],
)
def test_append_refuses_bad_arguments(
    uow: UnitOfWork, arguments: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        uow.agent_log_chunks.append(*arguments)
    assert uow.agent_log_chunks.count() == 0


def test_insert_chunk_appends_one_and_returns_it(uow: UnitOfWork) -> None:
    uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["one"])
    chunk = uow.agent_log_chunks.insert_chunk("agent-a", "brave-otter", 2, '{"type":"resume"}')
    assert (chunk.chunk_number, chunk.session_number) == (2, 2)
    assert uow.agent_log_chunks.get(chunk.id) == chunk
    with pytest.raises(InvalidValue, match=r"agent_log_chunk\.content must not contain NUL"):
        uow.agent_log_chunks.insert_chunk("agent-a", "brave-otter", 2, "a\x00")
    assert uow.agent_log_chunks.count() == 2


def test_session_count_is_the_highest_session_number(uow: UnitOfWork) -> None:
    assert uow.agent_log_chunks.session_count("agent-a") == 0
    uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["spawn"])
    uow.agent_log_chunks.append("agent-a", "brave-otter", 2, ["resume"])
    uow.agent_log_chunks.append("agent-a", "brave-otter", 3, ["again"])
    uow.agent_log_chunks.append("agent-b", "calm-heron", 1, ["other"])
    assert uow.agent_log_chunks.session_count("agent-a") == 3
    assert uow.agent_log_chunks.session_count("agent-b") == 1
    with pytest.raises(InvalidValue, match=r"agent_log_chunk\.agent_id"):
        uow.agent_log_chunks.session_count("no such id!")


def test_find_by_agents_is_ordered_by_agent_then_chunk(uow: UnitOfWork) -> None:
    uow.agent_log_chunks.append("b", "second", 1, ["b1", "b2"])
    uow.agent_log_chunks.append("a", "first", 1, ["a1"])
    uow.agent_log_chunks.append("c", "third", 1, ["c1"])
    uow.agent_log_chunks.append("a", "first", 2, ["a2"])
    found = uow.agent_log_chunks.find_by_agents(["b", "a", "nobody"])
    assert [c.content for c in found] == ["a1", "a2", "b1", "b2"]
    assert uow.agent_log_chunks.find_by_agents({"c"}) == uow.agent_log_chunks.find_by_agent("c")
    assert uow.agent_log_chunks.find_by_agents(
        iter(["c", "c"])
    ) == uow.agent_log_chunks.find_by_agent("c")
    assert uow.agent_log_chunks.find_by_agents([]) == []
    assert uow.agent_log_chunks.find_by_agent("nobody") == []


@pytest.mark.parametrize(
    ("agent_ids", "message"),
    [
        ("ab", r"agent_ids must be a collection of agent ids"),
        (5, r"agent_ids must be a collection of agent ids"),
        (["a", "bad id!"], r"agent_log_chunk\.agent_id must be 1 to 64"),
        (["a", ["nested"]], r"agent_log_chunk\.agent_id must be compared with a single value"),
        ([f"a{i}" for i in range(10_001)], r"agent_ids must name at most 10000 agents"),
    ],
)
def test_find_by_agents_refuses_what_is_not_a_collection_of_ids(
    uow: UnitOfWork, agent_ids: Any, message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        uow.agent_log_chunks.find_by_agents(agent_ids)


def test_delete_by_agent_removes_only_its_chunks_and_audits_the_count(uow: UnitOfWork) -> None:
    uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["one", "two", "three"])
    uow.agent_log_chunks.append("agent-b", "calm-heron", 1, ["kept"])
    assert uow.agent_log_chunks.delete_by_agent("agent-a") == 3
    assert uow.agent_log_chunks.find_by_agent("agent-a") == []
    assert [c.content for c in uow.agent_log_chunks.find_by_agent("agent-b")] == ["kept"]
    [entry] = uow.audit_logs.list(entity_type="agent_log_chunk")
    assert entry.entity_id == "agent-a"
    assert entry.event_type == "agent_log_chunk.deleted"
    assert entry.event_category is EventCategory.RECORD
    assert entry.event_data == {"removed": {"agent_log_chunks": 3}}
    assert entry.message == "Deleted 3 log chunks of agent 'agent-a'"
    # Nothing left to delete: 0, and no audit entry for it.
    assert uow.agent_log_chunks.delete_by_agent("agent-a") == 0
    assert len(uow.audit_logs.list(entity_type="agent_log_chunk")) == 1
    # Numbering starts again for an agent whose log was cleared.
    assert uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["fresh"]) == 1
    with pytest.raises(InvalidValue, match=r"agent_log_chunk\.agent_id"):
        uow.agent_log_chunks.delete_by_agent(None)  # type: ignore[arg-type]


def test_chunks_cannot_be_changed_or_deleted_one_by_one(uow: UnitOfWork) -> None:
    chunk = uow.agent_log_chunks.insert_chunk("agent-a", "brave-otter", 1, "text")
    chunk.content = "rewritten"
    with pytest.raises(Protected, match="append-only"):
        uow.agent_log_chunks.update(chunk)
    with pytest.raises(Protected, match="go together"):
        uow.agent_log_chunks.delete(chunk.id)
    assert uow.agent_log_chunks.get(chunk.id).content == "text"
    with pytest.raises(NotFound):
        uow.agent_log_chunks.get("missing")
    assert uow.agent_log_chunks.find("missing") is None


def test_chunks_survive_their_agent(uow: UnitOfWork) -> None:
    agent = uow.agents.add(Agent(name="brave-otter"))
    uow.agent_log_chunks.append(agent.id, agent.name, 1, ["output"])
    uow.agents.delete(agent.id)
    [chunk] = uow.agent_log_chunks.find_by_agent(agent.id)
    assert (chunk.agent_name, chunk.content) == ("brave-otter", "output")
    assert uow.agent_log_chunks.session_count(agent.id) == 1


def test_a_batch_refused_by_a_unique_rule_leaves_nothing_written(uow: UnitOfWork) -> None:
    """Below the port: a bulk insert whose third row clashes with the first writes none of
    them, and names the same rule everywhere (the generic `add_many` path)."""
    from agentkeel.repositories.unit_of_work import BaseUnitOfWork

    assert isinstance(uow, BaseUnitOfWork)
    repository = uow.agent_log_chunks
    rows = [
        AgentLogChunk(agent_id="a", agent_name="n", chunk_number=n, content=f"c{n}")
        for n in (1, 2, 1)
    ]
    with pytest.raises(AlreadyExists, match="chunk_number"):
        repository.add_many(rows)
    assert uow.agent_log_chunks.count() == 0
    stored = repository.add_many(rows[:2])
    assert [c.chunk_number for c in stored] == [1, 2]
    assert uow.agent_log_chunks.find_by_agent("a") == stored


def test_a_read_only_unit_of_work_cannot_append(db: Database) -> None:
    with db.unit_of_work(read_only=True) as uow:
        with pytest.raises(ReadOnly):
            uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["x", "y"])
        with pytest.raises(ReadOnly):
            uow.agent_log_chunks.insert_chunk("agent-a", "brave-otter", 1, "x")
        assert uow.agent_log_chunks.find_by_agent("agent-a") == []


def test_a_reader_follows_an_agents_log_a_page_at_a_time(uow: UnitOfWork) -> None:
    uow.agent_log_chunks.append("agent-a", "brave-otter", 1, ["1", "2", "3", "4", "5"])
    uow.agent_log_chunks.append("agent-b", "calm-heron", 1, ["other"])
    read = uow.agent_log_chunks.find_by_agent
    assert [c.content for c in read("agent-a", limit=2)] == ["1", "2"]
    assert [c.content for c in read("agent-a", after=2, limit=2)] == ["3", "4"]
    assert [c.content for c in read("agent-a", after=4)] == ["5"]
    assert read("agent-a", after=5) == []
    assert read("agent-a", after=2**63 - 1) == []
    assert read("agent-a", limit=0) == []
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(InvalidValue, match="after"):
            read("agent-a", after=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="limit"):
        read("agent-a", limit=-1)
