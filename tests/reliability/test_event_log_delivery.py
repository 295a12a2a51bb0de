"""The event log delivers every committed event exactly once, in commit order, to a consumer
in another process, while writers in several processes commit (and roll back) concurrently,
on SQLite and PostgreSQL.

On PostgreSQL a sequence hands out numbers in the order transactions ask for them, not the
order they commit: without the advisory lock `append_log` takes, a reader could see number
11 committed while 10 is still uncommitted, move past it, and miss 10 for ever. The writers
here sleep between appending and committing to make that window wide, and
`test_a_slow_commit_holds_back_later_numbers` opens it on purpose.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from agentkeel.database import Database
from agentkeel.domain.events import DomainEvent
from agentkeel.domain.workspace import Project
from agentkeel.services.events import EventLogReader
from tests.conftest import POSTGRES_URL, open_backend, truncate_all, url_of
from tests.figures import Figures

WRITERS = 4
UNITS = 40

SQL = [pytest.param("sqlite", marks=pytest.mark.sqlite)]
if POSTGRES_URL:
    SQL.append(pytest.param("postgres", marks=pytest.mark.postgres))


@dataclass(frozen=True)
class OutboxProbe(DomainEvent):
    """An event the test writers record: which writer, which of its units, which event."""

    writer: int
    unit: int
    index: int


def write(url: str, writer: int, out: str) -> None:
    """Commit UNITS units of work, each a project and 1-3 probe events, about one in five
    rolled back instead; write down the events of the committed ones."""
    rng = random.Random(writer)
    committed: list[list[int]] = []
    with Database.open(url) as db:
        assert db.engine is not None
        # Between the append and the commit: the window a reader must not see through.
        event.listen(db.engine, "commit", lambda _: time.sleep(rng.random() * 0.004))
        for unit in range(UNITS):
            with db.unit_of_work() as uow:
                uow.projects.add(Project(name=f"w{writer}-u{unit}"))
                probes = [OutboxProbe(writer, unit, i) for i in range(rng.randint(1, 3))]
                for probe in probes:
                    uow.record(probe)
                if rng.random() < 0.2:
                    uow.rollback()
                    continue
                uow.commit()
            committed += [[p.writer, p.unit, p.index] for p in probes]
    Path(out).write_text(json.dumps(committed))


def follow(url: str, after: int, done: Any, out: str) -> None:
    """Read the log as a consumer would, restarting from its saved position at every poll,
    until the writers are done; then read once more and write down what it saw."""
    seen: list[list[int]] = []
    polls = nonempty = 0
    position = after
    with Database.open(url, seed=False) as db:
        while True:
            finished = done.is_set()  # read before the poll: one more poll after the end
            reader = EventLogReader(db, after=position, batch=7)
            for logged in reader.read():
                probe = logged.event()
                assert isinstance(probe, OutboxProbe)
                seen.append([logged.sequence, probe.writer, probe.unit, probe.index])
            position = reader.position
            polls += 1
            nonempty += bool(seen) and seen[-1][0] == position and not finished
            if finished:
                break
            time.sleep(0.005)
    Path(out).write_text(json.dumps({"seen": seen, "polls": polls}))


@pytest.mark.parametrize("backend", SQL)
def test_a_consumer_in_another_process_sees_every_committed_event_once_in_order(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, figures: Figures
) -> None:
    url = url_of(backend, tmp_path)
    if backend == "postgres":
        truncate_all(request.getfixturevalue("postgres_engine"))
    with Database.open(url) as db, db.unit_of_work(read_only=True) as uow:
        start = uow.event_log.last_sequence()
    context = multiprocessing.get_context("spawn")
    done = context.Event()
    reader = context.Process(target=follow, args=(url, start, done, str(tmp_path / "r.json")))
    reader.start()
    writers = [
        context.Process(target=write, args=(url, n, str(tmp_path / f"w{n}.json")))
        for n in range(WRITERS)
    ]
    began = time.monotonic()
    for process in writers:
        process.start()
    for process in writers:
        process.join(120)
        assert process.exitcode == 0
    elapsed = time.monotonic() - began
    done.set()
    reader.join(60)
    assert reader.exitcode == 0

    committed = [
        tuple(probe)
        for n in range(WRITERS)
        for probe in json.loads((tmp_path / f"w{n}.json").read_text())
    ]
    result = json.loads((tmp_path / "r.json").read_text())
    seen = [tuple(row) for row in result["seen"]]
    sequences = [row[0] for row in seen]
    assert sequences == sorted(set(sequences)), "sequence numbers not strictly increasing"
    probes = [row[1:] for row in seen]
    assert len(probes) == len(set(probes)), "an event was delivered twice"
    assert set(probes) == set(committed), "events missed, or rolled-back events delivered"
    for writer in range(WRITERS):  # each writer's events in the order it committed them
        own = [probe for probe in probes if probe[0] == writer]
        assert own == sorted(own)
    with Database.open(url, seed=False) as db, db.unit_of_work(read_only=True) as uow:
        everything = uow.event_log.read_after(start, 10_000)
    assert [logged.sequence for logged in everything] == sequences
    figures.set(
        f"event log ({backend})",
        writer_processes=WRITERS,
        events_committed=len(committed),
        seconds=round(elapsed, 1),
        consumer_polls=result["polls"],
        delivered=len(seen),
        missed=len(set(committed) - set(probes)),
        duplicated=len(probes) - len(set(probes)),
    )


@pytest.mark.parametrize("backend", SQL)
def test_a_slow_commit_holds_back_later_numbers(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = open_backend(request, backend, tmp_path)
    assert db.engine is not None
    with db.unit_of_work(read_only=True) as uow:
        start = uow.event_log.last_sequence()
    committing = threading.Event()

    def slow(_: Any) -> None:
        if threading.current_thread().name == "slow":
            committing.set()
            time.sleep(0.6)

    event.listen(db.engine, "commit", slow)

    def commit(name: str) -> None:
        with db.unit_of_work() as uow:
            uow.record(OutboxProbe(0 if name == "slow" else 1, 0, 0))
            uow.commit()

    first = threading.Thread(target=commit, args=("slow",), name="slow")
    first.start()
    assert committing.wait(5)
    second = threading.Thread(target=commit, args=("fast",), name="fast")
    second.start()
    time.sleep(0.2)  # the second has appended and committed by now, were it not held back
    reader = EventLogReader(db, after=start)
    early = reader.read()
    first.join()
    second.join()
    event.remove(db.engine, "commit", slow)
    late = reader.read()
    assert early == []  # nothing visible while the first number is uncommitted
    assert [logged.event() for logged in late] == [OutboxProbe(0, 0, 0), OutboxProbe(1, 0, 0)]
    if backend != "postgres":
        db.close()
