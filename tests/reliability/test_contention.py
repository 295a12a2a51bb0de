"""SQLite under contention: 8 writer processes and 8 reader processes for N seconds.

Promises checked (invariants, not timings): no "database is locked" (or any other driver
error) reaches a caller; no `Busy` for units of work that finish well within the busy
timeout (each writer's unit of work holds the lock for a few milliseconds); every committed
unit of work is there afterwards; readers never wait for writers (a reader's snapshot needs
no lock: while a writer holds the write lock, open and uncommitted, every reader process
completes its reads). Throughput and latency (p50, p99, max) of both are printed.

The duration is AGENTKEEL_CONTENTION_SECONDS (default 30, as the reliability issue asks).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

from agentkeel.database import Database
from agentkeel.domain.errors import Busy
from agentkeel.domain.workspace import Project
from agentkeel.domain.workspace.events import ProjectArchived
from tests.figures import Figures

WRITERS = 8
READERS = 8
SECONDS = float(os.environ.get("AGENTKEEL_CONTENTION_SECONDS", "30"))
PAUSE = float(os.environ.get("AGENTKEEL_CONTENTION_PAUSE", "0.002"))  # between units

pytestmark = pytest.mark.sqlite


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


def work(role: str, number: int, url: str, barrier: Any, seconds: float, results: Any) -> None:
    """Run units of work of one kind until `seconds` after every process is ready."""
    latencies: list[float] = []
    busy = 0
    errors: list[str] = []
    committed = 0
    try:
        with Database.open(url, migrate_schema=False, seed=False) as db:
            with db.unit_of_work(read_only=True) as uow:  # connect before the start
                uow.projects.count()
            barrier.wait()
            deadline = time.perf_counter() + seconds
            n = 0
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                try:
                    if role == "writer":
                        with db.unit_of_work() as uow:
                            project = uow.projects.add(Project(name=f"w{number}-{n}"))
                            uow.record(ProjectArchived(project.id))
                            uow.commit()
                        committed += 1
                    else:
                        with db.unit_of_work(read_only=True) as uow:
                            uow.projects.list(limit=20)
                            uow.projects.count()
                            uow.event_log.read_after(max(0, n * 7), 20)
                except Busy:
                    busy += 1
                except Exception:  # anything else reaching a caller fails the test
                    errors.append(traceback.format_exc(limit=3))
                latencies.append(time.perf_counter() - began)
                n += 1
                if role == "writer":
                    # A moment's work between units, as an agent process has: SQLite's
                    # busy handler is not first-come first-served, and a writer that
                    # begins again the instant it commits can starve the others (see
                    # docs/reliability.md).
                    time.sleep(PAUSE)
    except Exception:
        errors.append(traceback.format_exc())
    results.put(
        {
            "role": role,
            "latencies": latencies,
            "busy": busy,
            "errors": errors,
            "committed": committed,
        }
    )


def summary(stats: list[dict[str, Any]], seconds: float) -> dict[str, object]:
    latencies = [value for s in stats for value in s["latencies"]]
    ms = [value * 1000 for value in latencies]
    return {
        "units_of_work": len(latencies),
        "per_second": round(len(latencies) / seconds),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1),
        "busy": sum(s["busy"] for s in stats),
        "other_errors": sum(len(s["errors"]) for s in stats),
    }


def test_eight_writers_and_eight_readers_get_no_lock_errors(
    tmp_path: Path, figures: Figures
) -> None:
    url = str(tmp_path / "contended.db")
    with Database.open(url) as db, db.unit_of_work() as uow:
        for n in range(50):
            uow.projects.add(Project(name=f"seed-{n}"))
        uow.commit()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS + READERS)
    results = context.Queue()
    processes = [
        context.Process(target=work, args=(role, n, url, barrier, SECONDS, results))
        for role, count in (("writer", WRITERS), ("reader", READERS))
        for n in range(count)
    ]
    for process in processes:
        process.start()
    stats = [results.get(timeout=SECONDS + 120) for _ in processes]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    writers = [s for s in stats if s["role"] == "writer"]
    readers = [s for s in stats if s["role"] == "reader"]
    heading = f"contention (sqlite, {WRITERS}+{READERS} processes, {SECONDS:.0f} s)"
    figures.set(f"{heading}: writers", **summary(writers, SECONDS))
    figures.set(f"{heading}: readers", **summary(readers, SECONDS))
    errors = [error for s in stats for error in s["errors"]]
    assert errors == [], errors[0]
    assert sum(s["busy"] for s in stats) == 0
    assert all(s["committed"] > 0 for s in writers)
    assert all(s["latencies"] for s in readers)
    committed = sum(s["committed"] for s in writers)
    with Database.open(url) as db, db.unit_of_work(read_only=True) as uow:
        assert uow.projects.count() == 50 + committed  # every committed unit is there
        assert uow.event_log.last_sequence() >= committed


def read_while_held(url: str, go: Any, released: Any, results: Any) -> None:
    """Once told to, read 20 times; report whether the writer still held its lock when the
    last read was done."""
    with Database.open(url, migrate_schema=False, seed=False) as db:
        with db.unit_of_work(read_only=True) as uow:
            uow.projects.count()
        go.wait()
        counts = []
        for _ in range(20):
            with db.unit_of_work(read_only=True) as uow:
                counts.append(uow.projects.count())
                uow.event_log.read_after(0, 10)
        results.put({"held": not released.is_set(), "counts": counts})


def test_readers_never_wait_for_a_writer_holding_the_lock(tmp_path: Path) -> None:
    url = str(tmp_path / "held.db")
    with Database.open(url) as db, db.unit_of_work() as uow:
        uow.projects.add(Project(name="before"))
        uow.commit()
    context = multiprocessing.get_context("spawn")
    go, released, results = context.Event(), context.Event(), context.Queue()
    readers = [
        context.Process(target=read_while_held, args=(url, go, released, results))
        for _ in range(READERS)
    ]
    for process in readers:
        process.start()
    reports = []
    with Database.open(url, seed=False, busy_timeout=60) as db, db.unit_of_work() as writer:
        writer.projects.add(Project(name="uncommitted"))  # BEGIN IMMEDIATE: the write lock
        writer.record(ProjectArchived("uncommitted"))
        go.set()
        # The readers finish while the lock is held, or this times out (they would wait
        # for the writer: it holds the lock until all of them report).
        reports = [results.get(timeout=60) for _ in readers]
        writer.commit()
        released.set()
    for process in readers:
        process.join(30)
        assert process.exitcode == 0
    assert all(report["held"] for report in reports)
    # Each read a snapshot without the uncommitted row.
    assert all(set(report["counts"]) == {1} for report in reports)
