"""The in-memory fakes and the databases agree on log chunks and metrics, step by step.

A hypothesis state machine drives every backend with the same random appends (batches with
odd and invalid text among them), single inserts, deletes by agent, agents added and
deleted (their chunks stay), metrics recorded, projects deleted (their metrics go), and
every read and aggregate, each in its own unit of work; after each step all backends must
have returned the same result or raised the same error, and hold the same rows. Chunks get
their ids inside the library, at random, so they are compared without them. Invariants:
each agent's chunks are numbered 1, 2, 3... and the aggregates equal a recount of the rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    consumes,
    invariant,
    rule,
)

from agentkeel.domain.agents import Agent, Metric, MetricType
from agentkeel.domain.errors import DomainError
from agentkeel.domain.workspace import Project
from tests.properties.harness import (
    AgreementMachine,
    Reordered,
    check_agreement,
    on_every_backend,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
AGENT_IDS = st.sampled_from(["agent-a", "agent-b", "agent-c"])
TEXT = st.one_of(
    st.sampled_from(["", '{"type":"text"}', "it's", "🚢", "'; DROP TABLE agent_log_chunks;--"]),
    st.sampled_from(["a\x00b", "\ud800"]),  # refused: the whole batch with it
    st.text(max_size=8),
)
TIMES = st.one_of(st.none(), st.integers(0, 30).map(lambda h: T0 + timedelta(hours=h)))
PERCENTILES = st.lists(st.sampled_from([0, 1, 33.3, 50, 90, 99, 100]), min_size=1, max_size=5)


class LogsAndMetricsAgreement(AgreementMachine):
    # Chunks get their ids inside the library, at random: compared without them, in order.
    reordered = {
        "agent_log_chunks": Reordered(key=lambda row: (row["agent_id"], row["chunk_number"]))
    }
    projects = Bundle("projects")
    agents = Bundle("agents")

    # -- projects and agents ------------------------------------------------------------------

    @rule(target=projects, name=st.sampled_from(["keel", "web", "ops"]))
    def create_project(self, name: str) -> Any:
        return self.created(lambda: Project(name=name), lambda uow, p: uow.projects.add(p))

    @rule(project=consumes(projects))
    def delete_project(self, project: str) -> None:
        self.run(lambda uow: uow.projects.delete(project))

    @rule(target=agents, name=st.sampled_from(["brave-otter", "calm-heron"]))
    def create_agent(self, name: str) -> Any:
        return self.created(lambda: Agent(name=name), lambda uow, a: uow.agents.add(a))

    @rule(agent=consumes(agents))
    def delete_agent(self, agent: str) -> None:
        self.run(lambda uow: uow.agents.delete(agent))

    # -- log chunks ---------------------------------------------------------------------------

    @rule(
        agent=st.one_of(AGENT_IDS, agents),
        name=st.sampled_from(["brave-otter", "o'brien 🚢", " "]),
        session=st.integers(0, 3),
        contents=st.lists(TEXT, max_size=6),
    )
    def append(self, agent: str, name: str, session: int, contents: list[str]) -> None:
        self.run(lambda uow: uow.agent_log_chunks.append(agent, name, session, contents))

    @rule(agent=st.one_of(AGENT_IDS, agents), session=st.integers(1, 3), content=TEXT)
    def insert_chunk(self, agent: str, session: int, content: str) -> None:
        self.run(
            lambda uow: uow.agent_log_chunks.insert_chunk(agent, "brave-otter", session, content)
        )

    @rule(agent=st.one_of(AGENT_IDS, agents))
    def delete_by_agent(self, agent: str) -> None:
        self.run(lambda uow: uow.agent_log_chunks.delete_by_agent(agent))

    @rule(agent=st.one_of(AGENT_IDS, agents), others=st.lists(AGENT_IDS, max_size=3))
    def read_logs(self, agent: str, others: list[str]) -> None:
        self.run(
            lambda uow: [
                uow.agent_log_chunks.find_by_agent(agent),
                uow.agent_log_chunks.find_by_agents([agent, *others]),
                uow.agent_log_chunks.session_count(agent),
                uow.agent_log_chunks.count(),
            ]
        )

    # -- metrics ------------------------------------------------------------------------------

    @rule(
        project=projects,
        measurements=st.lists(
            st.tuples(
                st.sampled_from(list(MetricType)),
                st.one_of(st.none(), AGENT_IDS),
                st.one_of(st.none(), st.sampled_from(["task-1", "task-2"])),
                st.one_of(st.integers(0, 50).map(float), st.sampled_from([math.nan, -1.5])),
                st.integers(0, 30),
            ),
            min_size=1,
            max_size=8,
        ),
    )
    def record_metrics(
        self,
        project: str,
        measurements: list[tuple[MetricType, str | None, str | None, float, int]],
    ) -> None:
        """Several measurements in one unit of work: all recorded, or (one refused) none."""
        try:
            metrics = [
                Metric(
                    project_id=project,
                    type=kind,
                    agent_id=agent,
                    task_id=task,
                    value=value,
                    timestamp=T0 + timedelta(hours=hour),
                )
                for kind, agent, task, value, hour in measurements
            ]
        except DomainError:
            return  # refused by the domain, before any backend is involved
        self.run(lambda uow: [uow.metrics.record(metric) for metric in metrics])

    @rule(
        project=st.one_of(st.just("no-project"), projects),
        since=TIMES,
        until=TIMES,
        percentiles=PERCENTILES,
    )
    def aggregate_metrics(
        self, project: str, since: datetime | None, until: datetime | None, percentiles: list[float]
    ) -> None:
        self.run(
            lambda uow: [
                uow.metrics.tokens_by_agent(project, since=since, until=until),
                uow.metrics.tokens_by_project(since=since, until=until),
                uow.metrics.qa_iterations_by_task(project, since=since, until=until),
                uow.metrics.task_duration_percentiles(percentiles, since=since, until=until),
                uow.metrics.task_duration_percentiles(percentiles, project_id=project),
                uow.metrics.list(project_id=project, since=since, until=until),
            ]
        )

    # -- what must always hold --------------------------------------------------------------

    @invariant()
    def contents_agree_and_hold_together(self) -> None:
        contents = self.agreed_contents()
        numbers: dict[str, list[int]] = defaultdict(list)
        for row in contents["agent_log_chunks"]:
            numbers[row["agent_id"]].append(row["chunk_number"])
        for agent, found in numbers.items():
            assert found == list(range(1, len(found) + 1)), f"{agent}'s chunks are not 1..n"
        project_ids = {row["id"] for row in contents["projects"]}
        assert {row["project_id"] for row in contents["metrics"]} <= project_ids
        totals: dict[str, float] = defaultdict(float)
        for row in contents["metrics"]:
            if row["type"] == MetricType.TOKEN_USAGE:
                totals[row["project_id"]] += row["value"]
        for db in self.dbs.values():
            with db.unit_of_work(read_only=True) as uow:
                assert uow.metrics.tokens_by_project() == dict(sorted(totals.items()))
                for agent, found in numbers.items():
                    assert uow.agent_log_chunks.session_count(agent) == max(
                        row["session_number"]
                        for row in contents["agent_log_chunks"]
                        if row["agent_id"] == agent
                    )
                    assert len(found) == len(uow.agent_log_chunks.find_by_agent(agent))


@on_every_backend
def test_memory_and_databases_agree_on_logs_and_metrics(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    check_agreement(LogsAndMetricsAgreement, sqlite_template, request)
