"""A small orchestrator in processes: 4 workers and a coordinator on one database (SQLite,
PostgreSQL), as the docs tell an application to write them.

Workers claim the tasks of an initiative with leases, renew them, and complete or fail
them; some die by `os._exit` while they hold a task, one stalls past its lease while alive,
and one task (the poison) always kills its worker. Dead workers are replaced. The
coordinator calls `recover()` every second, the whole time. At the end:

- every task is completed, or blocked, and `tasks.needing_attention` lists exactly the
  blocked ones and the tasks that wait for them;
- the poison task is blocked after `tasks.maxCrashRetries` + 1 crashes (takeovers or
  recoveries, whichever came first), with no manual recovery at all;
- no task was held by two workers at once: in the event log (commit order), a task handed
  to a worker is never handed to another before the first's attempt ended (a completion,
  a failure, a crash), and the one worker that completed a task is its final holder;
- each task's `retry_count` equals its crashes (takeovers and recoveries) and failures,
  and equals the attempts that did not complete;
- a worker that stalled past its lease and was taken over got `LeaseLost`, never a
  `Conflict`, for its late write; live workers' tasks were never crashed by the coordinator.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from agentkeel.database import Database
from agentkeel.domain.agents import Agent, AgentStatus
from agentkeel.domain.errors import Conflict, LeaseLost
from agentkeel.domain.planning import ExecutionMode, Initiative, Phase, Task, TaskStatus
from agentkeel.domain.workspace import Project
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import planning
from agentkeel.services.recovery import pid_is_alive, recover
from tests.conftest import POSTGRES_URL, truncate_all, url_of
from tests.figures import Figures

WORKERS = 4
LEASE = timedelta(seconds=1.5)
PHASES = ("Design", "Build", "Verify")
TASKS_PER_PHASE = 6
# What happens to a task's first attempt (by task name); the poison kills every attempt.
DIES_ONCE = {"Design 2", "Build 1", "Build 4", "Verify 3"}
FAILS_ONCE = {"Design 4", "Build 2"}
STALLS_ONCE = {"Design 5", "Verify 1"}
POISON = "Verify poison"
AFTER_POISON = "Verify after the poison"
DEATH = 3  # a worker's exit code when it dies holding a task

BACKENDS = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    BACKENDS.append(pytest.param("postgres", marks=pytest.mark.postgres))

CONTEXT = multiprocessing.get_context("fork")
T = TypeVar("T")


def retried(db: Database, work: Callable[[UnitOfWork], T]) -> T:
    """`work` in a unit of work that commits, retried on Conflict (Busy included), as the
    README tells callers to."""
    while True:
        try:
            with db.unit_of_work() as uow:
                result = work(uow)
                uow.commit()
                return result
        except Conflict:
            time.sleep(0.01)


def work_on(url: str, name: str, ledger: Path) -> None:
    """One worker process: an agent of its own (its pid recorded), claiming tasks of the
    initiative until none is left to claim or held by anyone."""
    with Database.open(url, migrate_schema=False, seed=False) as db, ledger.open("a") as out:

        def note(line: str) -> None:
            out.write(line + "\n")
            out.flush()

        def register(uow: UnitOfWork) -> str:
            agent = uow.agents.add(Agent(name=name, pid=os.getpid()))
            return uow.agents.move_to(agent.id, AgentStatus.RUNNING).id

        agent_id = retried(db, register)
        note(f"agent {agent_id}")
        while True:
            task = retried(
                db,
                lambda uow: planning.claim_next_ready_task(
                    uow, agent_id, initiative_id="initiative", lease=LEASE
                ),
            )
            if task is None:
                if retried(db, lambda uow: _nothing_left(uow)):
                    retried(
                        db, lambda uow: uow.agents.move_to(agent_id, AgentStatus.STOPPED, "done")
                    )
                    note("finished")
                    return
                time.sleep(0.05)
                continue
            note(f"claim {task.id}")
            _attempt(db, agent_id, task, note)


def _nothing_left(uow: UnitOfWork) -> bool:
    """Nothing ready and nothing in progress: what is left waits for a person."""
    in_progress = uow.tasks.list(project_id="project", status=TaskStatus.IN_PROGRESS, limit=1)
    return not in_progress and not uow.tasks.ready_tasks(initiative_id="initiative")


def _attempt(db: Database, agent_id: str, task: Task, note: Callable[[str], None]) -> None:
    first = task.retry_count == 0
    if task.name == POISON or (first and task.name in DIES_ONCE):
        time.sleep(0.05)
        os._exit(DEATH)  # dies holding the task, within its lease
    if first and task.name in STALLS_ONCE:
        time.sleep(LEASE.total_seconds() * 2.5)  # alive, but past its lease
    else:
        for _ in range(2):  # works, renewing its lease as it goes
            time.sleep(0.05)
            try:
                retried(db, lambda uow: uow.tasks.renew_lease(task.id, agent_id, LEASE))
            except LeaseLost:
                note(f"lost {task.id} renew")
                return
    try:
        if first and task.name in FAILS_ONCE:
            retried(
                db,
                lambda uow: planning.fail_task(uow, task.id, "tests fail", agent_id=agent_id),
            )
            note(f"failed {task.id}")
        else:
            retried(
                db,
                lambda uow: planning.complete_task(
                    uow, task.id, f"{task.name} done", agent_id=agent_id
                ),
            )
            note(f"done {task.id}")
    except LeaseLost:
        note(f"lost {task.id} write")


def coordinate(url: str, stop: Path, ledger: Path) -> None:
    """The coordinator: `recover()` every second, with this host's live pids, until told
    to stop."""
    with Database.open(url, migrate_schema=False, seed=False) as db, ledger.open("a") as out:
        while not stop.exists():
            done = retried(db, lambda uow: recover(uow, pid_is_alive))
            for agent in done.crashed_agents:
                out.write(f"crashed {agent}\n")
            for task in done.retried_tasks + done.tasks_needing_attention:
                out.write(f"recovered {task}\n")
            out.flush()
            time.sleep(1.0)


def plan(db: Database) -> dict[str, str]:
    """The initiative: three phases, each waiting for the one before, of six tasks (some
    waiting for others of their phase); the last phase also has the poison task and a
    task waiting for it. Returns task ids by name."""
    ids: dict[str, str] = {}
    with db.unit_of_work() as uow:
        uow.settings.set_value("tasks.maxCrashRetries", 3)
        uow.projects.add(Project(id="project", name="Orchestrated"))
        uow.initiatives.add(
            Initiative(
                id="initiative",
                project_id="project",
                name="Ship",
                execution_mode=ExecutionMode.YOLO,  # a phase done is completed, no review
            )
        )
        previous: Phase | None = None
        for phase_name in PHASES:
            phase = uow.phases.add(Phase(initiative_id="initiative", name=phase_name))
            if previous is not None:
                uow.phase_dependencies.create(phase.id, previous.id)
            names = [f"{phase_name} {n}" for n in range(1, TASKS_PER_PHASE + 1)]
            if phase_name == "Verify":
                names += [POISON, AFTER_POISON]
            for index, name in enumerate(names):
                task = uow.tasks.add(
                    Task(project_id="project", phase_id=phase.id, name=name, order_index=index)
                )
                ids[name] = task.id
                if index % 3 == 2:  # every third waits for the one before it
                    uow.task_dependencies.create(task.id, ids[names[index - 1]])
            previous = phase
        uow.task_dependencies.create(ids[AFTER_POISON], ids[POISON])
        uow.commit()
    return ids


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("coordinated", [True, False], ids=["recover-every-second", "leases-alone"])
def test_an_orchestrator_in_processes_finishes_or_shows_what_needs_a_person(
    backend: str,
    coordinated: bool,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    figures: Figures,
) -> None:
    """With a coordinator calling `recover()` every second, and without one: then every
    dead worker's task is taken over when its lease runs out, the poison's included."""
    url = url_of(backend, tmp_path)
    if backend == "postgres":
        truncate_all(request.getfixturevalue("postgres_engine"))
    with Database.open(url) as db:
        ids = plan(db)
    names = {task_id: name for name, task_id in ids.items()}
    stop = tmp_path / "stop"
    coordinator_ledger = tmp_path / "coordinator.log"
    coordinator_ledger.touch()
    coordinator = CONTEXT.Process(target=coordinate, args=(url, stop, coordinator_ledger))
    if coordinated:
        coordinator.start()
    started = time.monotonic()
    workers: dict[int, Any] = {}
    generation = 0
    deaths = 0

    def spawn(slot: int) -> None:
        nonlocal generation
        generation += 1
        ledger = tmp_path / f"worker-{generation}.log"
        process = CONTEXT.Process(target=work_on, args=(url, f"w{slot}-{generation}", ledger))
        process.start()
        workers[slot] = process

    try:
        for slot in range(WORKERS):
            spawn(slot)
        while workers:
            assert time.monotonic() - started < 240, "the orchestrator did not finish"
            for slot, process in list(workers.items()):
                if process.is_alive():
                    continue
                process.join()
                del workers[slot]
                if process.exitcode == DEATH:
                    deaths += 1
                    spawn(slot)  # a dead worker is replaced
                else:
                    assert process.exitcode == 0, f"a worker failed ({process.exitcode})"
            time.sleep(0.05)
    finally:
        stop.touch()
        if coordinated:
            coordinator.join(30)
        for process in workers.values():
            process.kill()
    assert coordinator.exitcode == (0 if coordinated else None)
    elapsed = time.monotonic() - started

    ledgers = {p.name: p.read_text().splitlines() for p in tmp_path.glob("worker-*.log")}
    with (
        Database.open(url, migrate_schema=False, seed=False) as db,
        db.unit_of_work(read_only=True) as uow,
    ):
        tasks = {task.id: task for task in uow.tasks.list(project_id="project")}
        attention = [t.id for t in uow.tasks.needing_attention(initiative_id="initiative")]
        logged = uow.event_log.read_after(0, 10_000)

    # Every task is completed, or blocked with its dependents listed by the finder.
    poison, after = tasks[ids[POISON]], tasks[ids[AFTER_POISON]]
    assert poison.status is TaskStatus.BLOCKED
    assert poison.blocked_by == "crashed 4 times (tasks.maxCrashRetries is 3)"
    assert poison.retry_count == 4 and poison.assigned_agent_id is None
    assert after.status is TaskStatus.PENDING
    assert attention == [poison.id, after.id]
    unfinished = {t.id for t in tasks.values() if t.status is not TaskStatus.COMPLETED}
    assert unfinished == set(attention)

    # No task was held by two workers at once (the event log is in commit order).
    holder: dict[str, str | None] = defaultdict(lambda: None)
    claims: Counter[str] = Counter()
    endings: Counter[str] = Counter()
    for entry in logged:
        payload = entry.payload
        match entry.event_type:
            case "TaskAssigned" if payload["agent_id"] is not None:
                assert holder[payload["task_id"]] is None, f"{payload} while held"
                holder[payload["task_id"]] = payload["agent_id"]
                claims[payload["task_id"]] += 1
            case "TaskCrashed" | "TaskFailed":
                assert holder[payload["task_id"]] == payload["agent_id"], payload
                holder[payload["task_id"]] = None
                endings[payload["task_id"]] += 1
            case "TaskCompleted":
                assert holder[payload["task_id"]] is not None, payload
                holder[payload["task_id"]] = None
    completions = Counter(
        line.split()[1] for lines in ledgers.values() for line in lines if line.startswith("done")
    )
    for task in tasks.values():
        # retry_count: its crashes (takeovers, recoveries) and failures; the attempts that
        # did not complete.
        assert task.retry_count == endings[task.id], names[task.id]
        completed = int(task.status is TaskStatus.COMPLETED)
        assert task.retry_count == claims[task.id] - completed, names[task.id]
        assert completions[task.id] == completed, names[task.id]
        name = names[task.id]
        if name in DIES_ONCE | FAILS_ONCE:
            assert task.retry_count == 1, name
        elif name not in STALLS_ONCE | {POISON, AFTER_POISON}:
            assert task.retry_count == 0, name  # live work was never crashed
    # The one worker that completed a task is its final holder.
    agent_of = {lines[0].split()[1]: lines for lines in ledgers.values() if lines}
    for agent_id, lines in agent_of.items():
        for line in lines:
            if line.startswith("done"):
                assert tasks[line.split()[1]].assigned_agent_id == agent_id
    # A stalled worker taken over was told LeaseLost; one not taken over completed.
    lost = [line for lines in ledgers.values() for line in lines if line.startswith("lost")]
    for name in STALLS_ONCE:
        task = tasks[ids[name]]
        was_lost = any(line.split()[1] == task.id for line in lost)
        assert was_lost == (task.retry_count == 1), name
    recovered = [
        line for line in coordinator_ledger.read_text().splitlines() if line.startswith("recovered")
    ]
    # The coordinator crashed only agents whose worker was dead: each died holding a task.
    crashed = [
        line.split()[1]
        for line in coordinator_ledger.read_text().splitlines()
        if line.startswith("crashed")
    ]
    assert len(crashed) == len(set(crashed))
    for agent_id in crashed:
        assert agent_of[agent_id][-1].startswith("claim"), agent_of[agent_id]
    if not coordinated:
        assert recovered == [] and crashed == []
    mode = "coordinated" if coordinated else "leases alone"
    figures.set(
        f"orchestrator in processes ({backend}, {mode})",
        tasks=len(tasks),
        claims=sum(claims.values()),
        worker_deaths=deaths,
        crashes_and_failures=sum(endings.values()),
        recovered_by_the_coordinator=len(recovered),
        lost_leases=len(lost),
        seconds=round(elapsed, 1),
    )
