"""No leaks: opening and closing a database 1,000 times, and 10,000 units of work that raise
inside, leave the process's file descriptors (/proc/self/fd), threads and traced memory
(tracemalloc) where they were after a warm-up, in the smaller of two such windows. On
PostgreSQL, where every open is a new server connection, fewer iterations (200 opens, 2,000
units of work) keep the run short.

Memory is compared after a full garbage collection; the allowance (256 kB and 100 bytes an
iteration, far below what a leaked connection, engine or unit of work holds) absorbs caches
that fill once and then stay."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from agentkeel.database import Database
from agentkeel.domain.planning import Initiative
from agentkeel.domain.workspace import Project
from tests.conftest import POSTGRES_URL, reset_postgres_schema
from tests.figures import Figures

OPENS = {"sqlite": 1_000, "postgres": 200}
RAISING_UNITS = {"sqlite": 10_000, "postgres": 2_000}
WARM_UP = 50
# Allowance for caches and tables that settle after the warm-up (SQLAlchemy's event
# registry, interned strings): a fixed slack and a little per iteration. What a leak costs:
# before tests/reliability found it, every open kept its dialect alive, ~15 kB an open.
SLACK_BYTES = 256 * 1024
BYTES_PER_ITERATION = 100

BACKENDS = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    BACKENDS.append(pytest.param("postgres", marks=pytest.mark.postgres))


class Boom(Exception):
    """What the work inside a unit of work raises."""


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at head, not open."""
    if request.param == "sqlite":
        location = str(tmp_path / "leaks.db")
    else:
        assert POSTGRES_URL
        location = POSTGRES_URL
        with Database.open(location) as db:  # truncate what earlier tests left
            assert db.engine is not None
            reset_postgres_schema(db.engine)
    Database.open(location).close()
    return location


def descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def traced() -> tuple[int, int]:
    """Bytes and blocks tracemalloc sees allocated."""
    snapshot = tracemalloc.take_snapshot()
    return tracemalloc.get_traced_memory()[0], sum(s.count for s in snapshot.statistics("filename"))


def window(work: Callable[[], None], times: int) -> dict[str, int | float]:
    """Run `work` `times` times; how descriptors, threads and traced memory moved, and how
    long it took."""
    gc.collect()
    fds, threads = descriptors(), threading.active_count()
    memory, blocks = traced()
    started = time.perf_counter()
    for _ in range(times):
        work()
    seconds = time.perf_counter() - started
    gc.collect()
    memory_after, blocks_after = traced()
    return {
        "fd_growth": descriptors() - fds,
        "thread_growth": threading.active_count() - threads,
        "memory_growth_bytes": memory_after - memory,
        "block_growth": blocks_after - blocks,
        "seconds": round(seconds, 2),
    }


def measured(work: Callable[[], None], times: int) -> dict[str, int | float]:
    """Run `work` WARM_UP times, then two windows of `times` runs each; the figures of the
    window that grew less.

    A leak grows every window alike. A table of the interpreter's that doubles once (the
    interned strings, after the tests before this one filled it) adds megabytes in one
    block to one window only: the suite saw 4 MB in one window of opens that, run again,
    grew by 16 kB. Taking the smaller window keeps the first out and still catches the
    second."""
    for _ in range(WARM_UP):
        work()
    tracemalloc.start()
    try:
        first, second = window(work, times), window(work, times)
    finally:
        tracemalloc.stop()
    smaller = min(first, second, key=lambda figures: figures["memory_growth_bytes"])
    return {
        "iterations": times,
        **smaller,
        "fd_growth": max(first["fd_growth"], second["fd_growth"]),
        "thread_growth": max(first["thread_growth"], second["thread_growth"]),
        "memory_growth_bytes_of_the_other_window": max(
            first["memory_growth_bytes"], second["memory_growth_bytes"]
        ),
    }


def assert_flat(figures: dict[str, int | float]) -> None:
    assert figures["fd_growth"] <= 0, figures
    assert figures["thread_growth"] <= 0, figures
    allowed = SLACK_BYTES + BYTES_PER_ITERATION * figures["iterations"]
    assert figures["memory_growth_bytes"] < allowed, figures


def backend_of(url: str) -> str:
    return "postgres" if url.startswith("postgresql") else "sqlite"


def test_opening_and_closing_again_and_again_leaks_nothing(url: str, figures: Figures) -> None:
    def open_and_close() -> None:
        Database.open(url).close()

    backend = backend_of(url)
    result = measured(open_and_close, OPENS[backend])
    figures.set(f"no leaks: open and close ({backend})", **result)
    assert_flat(result)


def test_units_of_work_that_raise_leak_nothing_and_write_nothing(
    url: str, figures: Figures
) -> None:
    with Database.open(url) as db:

        def raise_inside() -> None:
            try:
                with db.unit_of_work() as uow:
                    uow.projects.add(Project(name="never"))
                    raise Boom
            except Boom:
                return
            raise AssertionError("the unit of work swallowed the exception")

        backend = backend_of(url)
        result = measured(raise_inside, RAISING_UNITS[backend])
        with db.unit_of_work(read_only=True) as uow:
            assert uow.projects.count() == 0
    figures.set(f"no leaks: units of work that raise ({backend})", **result)
    assert_flat(result)


@pytest.mark.parametrize("ending", ["commit", "rollback", "raise"])
def test_a_closed_unit_of_work_leaves_nothing_for_the_garbage_collector(
    url: str, ending: str
) -> None:
    """A unit of work and its repositories refer to each other while it is open; closing
    it lets go of them, so that they (and what they read: rows, a batch's dependency graph)
    are freed at once, not at the collector's next pass, which every caller pays a share
    of. Here: a write, a batch and finders through several repositories, then not one
    object in a reference cycle left behind."""
    with Database.open(url) as db:

        def work() -> None:
            with db.unit_of_work() as uow:
                project = uow.projects.add(Project(name="cycles"))
                uow.initiatives.add_many([Initiative(project_id=project.id, name="one")])
                uow.tasks.list(project_id=project.id)
                if ending == "commit":
                    uow.commit()
                elif ending == "raise":
                    raise Boom

        for _ in range(3):  # caches that fill once (compiled statements) fill here
            with contextlib.suppress(Boom):
                work()
        gc.collect()
        gc.disable()
        try:
            with contextlib.suppress(Boom):
                work()
            assert gc.collect() == 0
        finally:
            gc.enable()


def test_the_measure_catches_a_leak_of_a_kilobyte_an_iteration() -> None:
    kept: list[bytes] = []

    def leak() -> None:
        kept.append(bytes(1024))

    figures = measured(leak, 1_000)
    with pytest.raises(AssertionError):
        assert_flat(figures)
