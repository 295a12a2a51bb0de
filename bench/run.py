"""Time agentkeel against raw sqlite3 doing the same work, and report the ratio.

    python -m bench.run [--n N] [--repeat R]

Every scenario runs R times on each side; every run gets a fresh SQLite file in a temporary
directory, and only the scenario's work is on the clock (opening, migrating, seeding and the
scenario's setup are not). The best (smallest) of the R times is kept. The two sides run in
turn within each repeat, so a machine that slows down slows both. Speed is reported as the
ratio agentkeel / sqlite3, which is comparable across machines; the absolute times are not.
The results are printed and written to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from agentkeel.database import Database
from bench import keel, raw
from bench.keel import LIST_CALLS, PROJECTS_WITH_REPOSITORIES, Work

RESULTS = Path(__file__).parent / "results" / "latest.json"


@dataclass(frozen=True)
class Scenario:
    """One piece of work, as agentkeel does it and as raw sqlite3 does it."""

    name: str
    op: str
    ops: Callable[[int], int]
    keel: Callable[[Database, int], Work]
    raw: Callable[[sqlite3.Connection, int], Work]


SCENARIOS = (
    Scenario("insert, commit each", "insert", lambda n: n, keel.insert_each, raw.insert_each),
    Scenario("insert, one commit", "insert", lambda n: n, keel.insert_batch, raw.insert_batch),
    Scenario("get by id", "get", lambda n: n, keel.get_by_id, raw.get_by_id),
    Scenario("list N projects", "list", lambda n: LIST_CALLS, keel.list_all, raw.list_all),
    Scenario(
        "insert repositories",
        "insert",
        lambda n: n,
        keel.insert_repositories,
        raw.insert_repositories,
    ),
    Scenario(
        "delete project, cascade",
        "delete",
        lambda n: PROJECTS_WITH_REPOSITORIES,
        keel.delete_cascade,
        raw.delete_cascade,
    ),
)


@dataclass(frozen=True)
class Result:
    scenario: str
    op: str
    ops: int
    agentkeel_us: float
    sqlite3_us: float
    ratio: float


def clocked(work: Work) -> float:
    """Seconds `work` takes, after a garbage collection so earlier runs leave no debt."""
    gc.collect()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def time_agentkeel(scenario: Scenario, n: int) -> float:
    with (
        tempfile.TemporaryDirectory() as directory,
        Database.open(str(Path(directory) / "agentkeel.db")) as db,
    ):
        return clocked(scenario.keel(db, n))


def time_sqlite3(scenario: Scenario, n: int) -> float:
    with tempfile.TemporaryDirectory() as directory:
        connection = raw.connect(Path(directory) / "sqlite3.db")
        try:
            return clocked(scenario.raw(connection, n))
        finally:
            connection.close()


def measure(scenario: Scenario, n: int, repeat: int) -> Result:
    """Best of `repeat` runs on each side, per operation, in microseconds."""
    keel_times: list[float] = []
    raw_times: list[float] = []
    for _ in range(repeat):
        keel_times.append(time_agentkeel(scenario, n))
        raw_times.append(time_sqlite3(scenario, n))
    ops = scenario.ops(n)
    keel_us = min(keel_times) / ops * 1e6
    raw_us = min(raw_times) / ops * 1e6
    return Result(scenario.name, scenario.op, ops, keel_us, raw_us, keel_us / raw_us)


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "sqlite_version": sqlite3.sqlite_version,
        "agentkeel": version("agentkeel"),
    }


def header() -> str:
    return f"{'scenario':<26}{'ops':>6}{'agentkeel µs/op':>17}{'sqlite3 µs/op':>15}{'ratio':>8}"


def row(result: Result) -> str:
    return (
        f"{result.scenario:<26}{result.ops:>6}{result.agentkeel_us:>17.1f}"
        f"{result.sqlite3_us:>15.1f}{result.ratio:>7.1f}x"
    )


def save(results: list[Result], n: int, repeat: int) -> None:
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "n": n,
        "repeat": repeat,
        "machine": machine(),
        "results": [asdict(result) for result in results],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="rows per scenario (default 2000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per side (default 5)")
    args = parser.parse_args(argv)
    if args.n < PROJECTS_WITH_REPOSITORIES:
        parser.error(f"--n must be at least {PROJECTS_WITH_REPOSITORIES}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    print(f"N = {args.n}, best of {args.repeat}, SQLite {sqlite3.sqlite_version}")
    print(header())
    results: list[Result] = []
    for scenario in SCENARIOS:
        result = measure(scenario, args.n, args.repeat)
        results.append(result)
        print(row(result), flush=True)
    save(results, args.n, args.repeat)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
