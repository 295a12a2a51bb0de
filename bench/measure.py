"""Measure one operation of one contender, in this (fresh) process, on a new database.

    python -m bench.measure CONTENDER OPERATION [--n N] [--handshake]

Prints one line of JSON: the seconds the work took (wall clock, `seconds`, and this
process's CPU time, `cpu_seconds`: user + system, `time.process_time()`), the operations it
counts and the rows found afterwards. A PostgreSQL server's CPU time is not this process's:
on PostgreSQL only the wall time is the whole cost. `bench.run` starts one such process per
measurement. The database is new: a SQLite file in a new temporary directory, an emptied
PostgreSQL schema (`DROP SCHEMA public CASCADE; CREATE SCHEMA public` on the database
AGENTKEEL_TEST_POSTGRES_URL names), or the in-memory fakes. Only the work is timed: not the
imports, not opening the database (except for O8, where opening is the work), not the
operation's setup, not the checks.

With `--handshake` the process tells the runner where it is, on stdout, and waits for a line
on stdin twice: after its imports (`ready`) and after the setup, just before the clock starts
(`set`); it says `timed` when the clock stops. The runner uses this to let the next
measurements' processes import while this one sets up, and to stop them while it is timed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.contenders import CONTENDERS
from bench.contenders.base import Backend, Contender, Work
from bench.operations import BY_KEY, Operation

POSTGRES_VARIABLE = "AGENTKEEL_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_VARIABLE) or None


def reset_postgres(url: str) -> None:
    """Empty the database's `public` schema: a database nobody has used."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@contextmanager
def new_database(backend: Backend) -> Iterator[str]:
    """Where a new, empty database is: a file path, a PostgreSQL URL or `memory://`."""
    if backend == "memory":
        yield "memory://"
    elif backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="agentkeel-bench-") as directory:
            yield str(Path(directory) / "bench.db")
    else:
        url = postgres_url()
        if url is None:
            raise SystemExit(f"{POSTGRES_VARIABLE} is not set: no PostgreSQL to measure on")
        reset_postgres(url)
        yield url


def clocked(work: Work) -> tuple[float, float]:
    """Seconds `work` takes, wall clock and this process's CPU time, after a collection so
    that the setup's garbage is not collected on the clock."""
    gc.collect()
    cpu = time.process_time()
    start = time.perf_counter()
    work()
    wall = time.perf_counter() - start
    return wall, time.process_time() - cpu


def say(word: str) -> None:
    """Nobody listens: a measurement run straight through."""


def measure(
    contender_class: type[Contender],
    backend: Backend,
    operation: Operation,
    n: int,
    handshake: Callable[[str], None] = say,
) -> tuple[tuple[float, float], dict[str, int]]:
    """Seconds the operation's work took on a new database (wall, CPU), and the rows there
    afterwards.
    `handshake` is told `set` just before the clock starts and `timed` once it stops."""
    with new_database(backend) as location:
        contender = contender_class(location, backend)
        if operation.opens:  # O8: opening (and closing) is the work
            work = contender.open_new(n)
            handshake("set")
            seconds = clocked(work)
            handshake("timed")
            return seconds, {}
        contender.open()
        try:
            work = getattr(contender, operation.method)(n)
            handshake("set")
            seconds = clocked(work)
            handshake("timed")
            return seconds, contender.counts()
        finally:
            contender.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.measure", description=__doc__)
    parser.add_argument("contender", choices=list(CONTENDERS))
    parser.add_argument("operation", choices=list(BY_KEY))
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--handshake", action="store_true", help="wait for the runner")
    args = parser.parse_args(argv)
    spec, operation = CONTENDERS[args.contender], BY_KEY[args.operation]
    if not spec.takes_part(operation.key):
        parser.error(f"{spec.name} does not take part in {operation.key}")
    contender_class = spec.load()  # the imports

    def handshake(word: str) -> None:
        """Tell the runner where we are; before the clock starts, wait for its word."""
        if args.handshake:
            print(word, flush=True)
            if word != "timed":
                sys.stdin.readline()

    handshake("ready")
    (seconds, cpu_seconds), counts = measure(
        contender_class, spec.backend, operation, args.n, handshake
    )
    expected = operation.expect(args.n)
    wrong = {key: counts[key] for key, value in expected.items() if counts[key] != value}
    if wrong:
        raise SystemExit(f"{spec.name} {operation.key}: expected {expected}, found {counts}")
    result = {
        "contender": spec.name,
        "operation": operation.key,
        "n": args.n,
        "ops": operation.ops(args.n),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "counts": counts,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
