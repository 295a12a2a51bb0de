"""How the orchestrator's per-call queries scale with the number of tasks stored.

    python -m bench.scaling [--sizes 10000,100000] [--million] [--calls 20]
                            [--contenders raw,keel-sqlite,keel-postgres]

For each size S (tasks; rounded up to whole initiatives of 100) and each contender, a new
database is filled with S tasks shaped as W2's project (`project_plan`: initiatives of 4
phases x 25 tasks, half completed, 0-2 dependencies each, parents every 5th task), then
`--calls` calls of each of these are timed one by one:

- `W3 ready`: the ready tasks of an initiative (`uow.tasks.ready_tasks(initiative_id=...)`);
- `W4 get`: a task by id (`uow.tasks.get`);
- `claim`: `services.planning.claim_next_ready_task` for an initiative (the next ready task
  goes in progress, held by a new agent), committed;
- `W6`: the tasks of (initiative, status) (`uow.tasks.list`).

Each call is a unit of work of its own (a transaction for raw). The figure is the median
over the calls, in µs, for the wall clock and for this process's CPU time (on PostgreSQL
only the wall clock is the whole cost: the server's CPU time is not ours). An agentkeel
database is opened (migrated, seeded) by `Database.open`, then filled outside agentkeel, in
bulk (sqlite3 `executemany`; PostgreSQL `COPY`), so that 1,000,000 tasks load in minutes:
the data is the same rows agentkeel would have written. `raw` is sqlite3 on agentkeel's
schema (bench/contenders/raw.py) with its hand-written queries, for reference. The sizes
default to 10,000 and 100,000; `--million` adds 1,000,000 (long: the load dominates).
keel-postgres runs when AGENTKEEL_TEST_POSTGRES_URL is set and empties that database's
`public` schema. The table goes to stdout; everything to bench/results/scaling.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.contenders.base import (
    TASKS_PER_INITIATIVE,
    Backend,
    ProjectPlan,
    agent_name,
    initiative_values,
    new_id,
    phase_values,
    project_plan,
    project_values,
    utc_now,
    workload_task_values,
)
from bench.measure import POSTGRES_VARIABLE, new_database, postgres_url
from bench.report import ROOT, environment, us_text

RESULTS = ROOT / "bench" / "results" / "scaling.json"
CALLS = ("W3 ready", "W4 get", "claim", "W6")
CONTENDERS: dict[str, Backend] = {
    "raw": "sqlite",
    "keel-sqlite": "sqlite",
    "keel-postgres": "postgres",
}
MILLION = 1_000_000
LEASE = timedelta(minutes=5)

Call = Callable[[int], int]  # the i-th call; returns the rows it found (checked > 0)


@dataclass(frozen=True)
class Loaded:
    """What the calls ask about: the ids of the project, its initiatives, its tasks and the
    agents that claim."""

    project_id: str
    initiatives: list[str]
    tasks: list[str]
    agents: list[str]


def rows(
    plan: ProjectPlan, agents: int, text_time: bool
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The plan's rows, table by table, in an order the foreign keys accept; timestamps as
    SQLAlchemy stores them on SQLite (text) when `text_time`, else as datetimes."""
    now: Any = utc_now()
    if text_time:
        now = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    stamps = {"created_at": now, "updated_at": now, "row_version": 1}
    project_id = new_id()
    initiatives = [new_id() for _ in range(plan.initiatives)]
    phases = [new_id() for _ in plan.phases]
    tasks = [new_id() for _ in plan.tasks]
    yield "projects", [{"id": project_id, **stamps, **project_values(0)}]
    yield (
        "initiatives",
        [
            {
                "id": key,
                **stamps,
                **initiative_values(k, project_id),
                "status": "active",
                "execution_mode": "review_per_phase",
            }
            for k, key in enumerate(initiatives)
        ],
    )
    yield (
        "phases",
        [
            {"id": key, **stamps, **phase_values(p, initiatives[i]), "status": "pending"}
            for p, (key, i) in enumerate(zip(phases, plan.phases, strict=True))
        ],
    )
    task_rows = []
    for i, (key, task) in enumerate(zip(tasks, plan.tasks, strict=True)):
        values = workload_task_values(
            i, task, project_id, initiatives[task.initiative], phases[task.phase]
        )
        task_rows.append(
            {
                "id": key,
                **stamps,
                **values,
                "parent_task_id": None if task.parent is None else tasks[task.parent],
                "completed_at": now if task.status == "completed" else None,
            }
        )
    yield "tasks", task_rows
    yield (
        "task_dependencies",
        [
            {
                "id": new_id(),
                "task_id": key,
                "depends_on_task_id": tasks[d],
                "created_at": now,
                "row_version": 1,
            }
            for key, task in zip(tasks, plan.tasks, strict=True)
            for d in task.depends_on
        ],
    )
    yield (
        "agents",
        [
            {
                "id": new_id(),
                **stamps,
                "name": agent_name(a),
                "session_number": 1,
                "provider": "claude",
                "status": "idle",
                "mode": "execute",
                "tokens_used": 0,
                "tasks_completed": 0,
                "tasks_failed": 0,
                "spawned_at": now,
                "last_activity_at": now,
            }
            for a in range(agents)
        ],
    )


def load_sqlite(path: str, plan: ProjectPlan, agents: int) -> Loaded:
    """Fill the SQLite file (its schema already made) with sqlite3's `executemany`."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("BEGIN IMMEDIATE")
        loaded = _load(
            plan, agents, True, lambda table, written: _executemany(connection, table, written)
        )
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
    finally:
        connection.close()
    return loaded


def _executemany(connection: sqlite3.Connection, table: str, written: list[dict[str, Any]]) -> None:
    columns = list(written[0])
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )
    connection.executemany(statement, (tuple(row[c] for c in columns) for row in written))


def load_postgres(url: str, plan: ProjectPlan, agents: int) -> Loaded:
    """Fill the PostgreSQL database (its schema already made) with `COPY`."""
    import psycopg

    from bench.report import conninfo

    with psycopg.connect(conninfo(url)) as connection:

        def copy(table: str, written: list[dict[str, Any]]) -> None:
            columns = list(written[0])
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with connection.cursor() as cursor, cursor.copy(statement) as copying:
                for row in written:
                    copying.write_row(tuple(_postgres_value(row[c]) for c in columns))

        loaded = _load(plan, agents, False, copy)
        connection.commit()
        connection.execute("ANALYZE")
    return loaded


def _postgres_value(value: Any) -> Any:
    return getattr(value, "value", value)  # an enum: its value


def _load(
    plan: ProjectPlan,
    agents: int,
    text_time: bool,
    write: Callable[[str, list[dict[str, Any]]], None],
) -> Loaded:
    found: dict[str, list[str]] = {}
    for table, written in rows(plan, agents, text_time):
        if written:
            write(table, written)
        found[table] = [row["id"] for row in written]
    return Loaded(found["projects"][0], found["initiatives"], found["tasks"], found["agents"])


# -- the calls, per contender ------------------------------------------------------------------


def keel_calls(
    location: str, plan: ProjectPlan, calls: int, backend: Backend
) -> tuple[dict[str, Call], Callable[[], None]]:
    """agentkeel's public API on a database `Database.open` migrated, filled in bulk."""
    from agentkeel.database import Database
    from agentkeel.domain.planning import TaskStatus
    from agentkeel.services.planning import claim_next_ready_task

    Database.open(location).close()  # migrate to head, seed the settings
    if backend == "sqlite":
        loaded = load_sqlite(location, plan, calls)
    else:
        loaded = load_postgres(location, plan, calls)
    db = Database.open(location)
    asked = _asked(plan, loaded, calls)

    def ready(i: int) -> int:
        with db.unit_of_work() as uow:
            return len(uow.tasks.ready_tasks(initiative_id=asked.initiatives[i]))

    def get(i: int) -> int:
        with db.unit_of_work() as uow:
            return int(uow.tasks.get(asked.tasks[i]).id == asked.tasks[i])

    def claim(i: int) -> int:
        with db.unit_of_work() as uow:
            task = claim_next_ready_task(
                uow, loaded.agents[i], initiative_id=asked.initiatives[i], lease=LEASE
            )
            uow.commit()
        return int(task is not None)

    def by_status(i: int) -> int:
        with db.unit_of_work() as uow:
            return len(
                uow.tasks.list(
                    project_id=loaded.project_id,
                    initiative_id=asked.initiatives[i],
                    status=TaskStatus(asked.statuses[i]),
                )
            )

    return {"W3 ready": ready, "W4 get": get, "claim": claim, "W6": by_status}, db.close


def raw_calls(
    location: str, plan: ProjectPlan, calls: int, backend: Backend
) -> tuple[dict[str, Call], Callable[[], None]]:
    """sqlite3 on agentkeel's schema, with raw.py's hand-written queries; the claim is the
    first ready task (the ready query, LIMIT 1) put in progress and held by the agent, and
    the agent's `task_id` set, in one `BEGIN IMMEDIATE` transaction."""
    from bench.contenders.raw import (
        GET_TASK,
        TASKS_BY_STATUS,
        WORKLOAD_READY_TASKS,
        RawSqlite,
        stamp,
    )

    contender = RawSqlite(location, backend)
    contender.open()  # agentkeel's schema, raw's pragmas
    loaded = load_sqlite(location, plan, calls)
    asked = _asked(plan, loaded, calls)
    claim_ready = WORKLOAD_READY_TASKS.replace("SELECT * FROM", "SELECT id FROM") + " LIMIT 1"

    def ready(i: int) -> int:
        with contender.transaction("BEGIN") as connection:
            return len(connection.execute(WORKLOAD_READY_TASKS, (asked.initiatives[i],)).fetchall())

    def get(i: int) -> int:
        with contender.transaction("BEGIN") as connection:
            row = connection.execute(GET_TASK, (asked.tasks[i],)).fetchone()
            return int(row[0] == asked.tasks[i])

    def claim(i: int) -> int:
        agent = loaded.agents[i]
        with contender.transaction() as connection:
            row = connection.execute(claim_ready, (asked.initiatives[i],)).fetchone()
            if row is None:
                return 0
            now = stamp()
            until = (utc_now() + LEASE).strftime("%Y-%m-%d %H:%M:%S.%f")
            connection.execute(
                "UPDATE tasks SET status = 'in_progress', assigned_agent_id = ?,"
                " claimed_until = ?, started_at = coalesce(started_at, ?), updated_at = ?,"
                " row_version = row_version + 1 WHERE id = ? AND status = 'pending'",
                (agent, until, now, now, row[0]),
            )
            connection.execute(
                "UPDATE agents SET task_id = ?, updated_at = ?, last_activity_at = ?,"
                " row_version = row_version + 1 WHERE id = ?",
                (row[0], now, now, agent),
            )
        return 1

    def by_status(i: int) -> int:
        parameters = (asked.initiatives[i], asked.statuses[i], loaded.project_id)
        with contender.transaction("BEGIN") as connection:
            return len(connection.execute(TASKS_BY_STATUS, parameters).fetchall())

    return {"W3 ready": ready, "W4 get": get, "claim": claim, "W6": by_status}, contender.close


@dataclass(frozen=True)
class Asked:
    """What the i-th call of each kind asks about, drawn from a fixed seed."""

    initiatives: list[str]
    tasks: list[str]
    statuses: list[str]


def _asked(plan: ProjectPlan, loaded: Loaded, calls: int) -> Asked:
    rng = random.Random(plan.initiatives)
    return Asked(
        [rng.choice(loaded.initiatives) for _ in range(calls)],
        [rng.choice(loaded.tasks) for _ in range(calls)],
        [rng.choice(("pending", "completed")) for _ in range(calls)],
    )


def timed(call: Call, calls: int) -> dict[str, float]:
    """Each call timed alone (wall, CPU); the medians, in µs."""
    wall: list[float] = []
    cpu: list[float] = []
    for i in range(calls):
        cpu_start, start = time.process_time(), time.perf_counter()
        found = call(i)
        wall.append((time.perf_counter() - start) * 1e6)
        cpu.append((time.process_time() - cpu_start) * 1e6)
        if found <= 0:
            raise RuntimeError(f"call {i} found nothing: the data is not what it should be")
    return {"wall_us": statistics.median(wall), "cpu_us": statistics.median(cpu)}


def measure(contender: str, size: int, calls: int) -> dict[str, Any]:
    """The medians of each call on `contender` with `size` tasks, and the time the load took."""
    backend = CONTENDERS[contender]
    plan = project_plan(-(-size // TASKS_PER_INITIATIVE), 0)
    with new_database(backend) as location:
        start = time.perf_counter()
        make = raw_calls if contender == "raw" else keel_calls
        kinds, close = make(location, plan, calls, backend)
        loaded_in = time.perf_counter() - start
        try:
            gc.collect()  # the load's garbage, not on the clock
            figures = {kind: timed(kinds[kind], calls) for kind in CALLS}
        finally:
            close()
    return {
        "contender": contender,
        "tasks": len(plan.tasks),
        "calls": calls,
        "load_seconds": round(loaded_in, 1),
        "figures": figures,
    }


def table(results: list[dict[str, Any]]) -> str:
    """Markdown: a row per (size, contender), µs per call (median), CPU / wall."""
    lines = [
        "µs per call, median over the calls: CPU time / wall clock (on PostgreSQL only the "
        "wall clock is the whole cost).",
        "",
        "| tasks | contender | " + " | ".join(CALLS) + " |",
        "| ---: | --- |" + " ---: |" * len(CALLS),
    ]
    for result in results:
        cells = [
            f"{us_text(result['figures'][kind]['cpu_us'])} / "
            f"{us_text(result['figures'][kind]['wall_us'])}"
            for kind in CALLS
        ]
        lines.append(f"| {result['tasks']:,} | {result['contender']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="tasks, e.g. 10000,100000")
    parser.add_argument("--million", action="store_true", help="add 1,000,000 tasks (long)")
    parser.add_argument("--calls", type=int, default=20, help="calls of each kind (default 20)")
    parser.add_argument(
        "--contenders",
        help=f"default: {', '.join(CONTENDERS)} (keel-postgres when {POSTGRES_VARIABLE} is set)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"default {RESULTS}")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    if args.million:
        sizes.append(MILLION)
    if not sizes or min(sizes) < 1 or args.calls < 1:
        parser.error("sizes and --calls must be positive")
    if args.contenders is None:
        names = [n for n, b in CONTENDERS.items() if b != "postgres" or postgres_url()]
    else:
        names = [name.strip() for name in args.contenders.split(",") if name.strip()]
        unknown = [name for name in names if name not in CONTENDERS]
        if unknown:
            parser.error(f"unknown contenders {unknown}; choose from {', '.join(CONTENDERS)}")
        if "keel-postgres" in names and postgres_url() is None:
            parser.error(f"keel-postgres needs {POSTGRES_VARIABLE}")
    results = []
    for size in sizes:
        for name in names:
            result = measure(name, size, args.calls)
            print(f"{size:,} tasks, {name}: loaded in {result['load_seconds']} s", file=sys.stderr)
            results.append(result)
    uses_postgres = "keel-postgres" in names
    report: dict[str, Any] = {
        "sizes": sizes,
        "calls": args.calls,
        **environment(postgres_url() if uses_postgres else None),
        "results": results,
    }
    print(table(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {args.output}")
    return report


if __name__ == "__main__":
    main()
