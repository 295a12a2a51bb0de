"""Compare agentkeel with raw sqlite3, SQLAlchemy Core and SQLModel on twelve operations
and the orchestrator workload (W1 … W6).

    python -m bench.run [--n N] [--rounds R] [--only O1,O3b|W|O] [--contenders raw,keel-sqlite]

`--only W` runs the workload alone (W1, W2, W3, W4, W4u, W5, W6), `--only O` the twelve
operations alone; keys and groups mix (`--only W,O3`).

Every (contender, operation) measurement runs in a fresh process (`python -m bench.measure`)
on a new database, with only the operation's work on the clock. A round measures every
operation on every contender; round k starts at contender k mod C, so that no contender is
always measured first or last. Each figure is reported as the median and the minimum over
the rounds, in microseconds per operation and as the ratio to raw sqlite3 measured in the
same round, for the wall clock and for the measuring process's CPU time. When the whole
workload ran, a total row adds up each contender's W1 … W6 seconds and divides the sum by
raw's of the same round. A contender that does not take part in an operation (its
`Spec.workload`) is not measured on it and its cells say so. The tables go to stdout,
progress to stderr, and everything (with the machine and the versions) to
bench/results/latest.json. docs/performance.md explains how to read them.
The PostgreSQL contenders run when AGENTKEEL_TEST_POSTGRES_URL is set; each of their
measurements empties that database's `public` schema. POSIX only (it stops and resumes the
waiting measurement processes with SIGSTOP and SIGCONT).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from bench.contenders import CONTENDERS, REFERENCE
from bench.measure import POSTGRES_VARIABLE, postgres_url
from bench.operations import BY_KEY, EVERYTHING, WORKLOAD
from bench.report import ROOT, Cell, Total, describe, environment, tables

RESULTS = ROOT / "bench" / "results" / "latest.json"
TIMEOUT = 900  # seconds one measurement may take
# Measurement processes started ahead of their turn, to import while another one sets up
# (they are stopped while its clock runs): one per CPU, up to 4.
AHEAD = max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Job:
    round: int
    operation: str
    contender: str


def takes_part(contender: str, operation: str) -> bool:
    spec = CONTENDERS.get(contender)
    return spec is None or spec.takes_part(operation)


def plan(contenders: list[str], operations: list[str], rounds: int) -> list[Job]:
    """Every measurement, in order: round by round, operation by operation, the contenders
    rotated (round k starts at contender k mod C), less those a contender does not take
    part in."""
    jobs = []
    for k in range(rounds):
        start = k % len(contenders)
        order = contenders[start:] + contenders[:start]
        jobs += [
            Job(k, operation, name)
            for operation in operations
            for name in order
            if takes_part(name, operation)
        ]
    return jobs


def command(job: Job, n: int) -> list[str]:
    return [sys.executable, "-m", "bench.measure", job.contender, job.operation, "--n", str(n)]


class Child:
    """One measurement's process, started with `--handshake` (see bench.measure): it says
    `ready` after its imports, `set` after its setup, `timed` when its clock stops, then
    its result; it waits for a line from us after `ready` and after `set`."""

    def __init__(self, job: Job, n: int) -> None:
        self.argv = [*command(job, n), "--handshake"]
        # A file, not a pipe: a pipe nobody reads could fill up and block the child.
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by result/kill)
        # A process group of its own: a stopped child must not be in ours, or ours becoming
        # orphaned (the shell that started `make bench &` exits) would send it all SIGHUP.
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            process_group=0,
        )
        self.ready = False
        self.stopped = False

    def line(self) -> str:
        assert self.process.stdout is not None
        if not select.select([self.process.stdout], [], [], TIMEOUT)[0]:
            self.fail(f"said nothing for {TIMEOUT} s")
        return self.process.stdout.readline().strip()

    def expect(self, word: str) -> None:
        said = self.line()
        if said != word:
            self.fail(f"said {said!r} instead of {word!r}")

    def wait_until_ready(self) -> None:
        self.resume()
        if not self.ready:
            self.expect("ready")
            self.ready = True

    def send(self, word: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(word + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        """Stop the process where it is (it is importing, or idle), so it uses no CPU."""
        if not self.stopped and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGSTOP)
            self.stopped = True

    def resume(self) -> None:
        if self.stopped:
            os.kill(self.process.pid, signal.SIGCONT)
            self.stopped = False

    def result(self) -> dict[str, Any]:
        said = self.line()
        if self.process.wait(timeout=TIMEOUT) != 0 or not said:
            self.fail("failed")
        self.errors.close()
        result: dict[str, Any] = json.loads(said)
        return result

    def fail(self, what: str) -> NoReturn:
        self._end()
        # What the child wrote to stderr, read before the file is closed.
        self.errors.seek(0)
        written = self.errors.read()
        self.kill()
        raise RuntimeError(f"`{shlex.join(self.argv[1:])}` {what}:\n{written}")

    def kill(self) -> None:
        self._end()
        if not self.errors.closed:
            self.errors.close()

    def _end(self) -> None:
        if self.process.poll() is None:
            self.resume()
            self.process.kill()
            self.process.wait()


def run(jobs: list[Job], n: int, ahead: int = AHEAD) -> Iterator[tuple[Job, dict[str, Any]]]:
    """Each job with its result, one measurement at a time, nothing else running while its
    clock runs. The next `ahead` processes are started early and import while the current
    one sets up and finishes; while it is timed, they are stopped (SIGSTOP)."""
    waiting = iter(jobs)
    following: deque[Child] = deque()
    child: Child | None = None
    try:
        for job in jobs:
            if not following:
                following.append(Child(next(waiting), n))
            child = following.popleft()
            child.wait_until_ready()
            child.send("go")  # a new database, opened, the operation's setup
            while len(following) < ahead and (upcoming := next(waiting, None)) is not None:
                following.append(Child(upcoming, n))
            for other in following:
                other.resume()
            child.expect("set")
            for other in following:
                other.stop()
            child.send("time")
            child.expect("timed")
            for other in following:
                other.resume()
            yield job, child.result()
    finally:  # interrupted or failed: no process of ours is left behind
        for leftover in [child, *following]:
            if leftover is not None:
                leftover.kill()


def collect(results: list[tuple[Job, dict[str, Any]]]) -> list[Cell]:
    """The cells of the tables: µs per operation, the ratio to the reference measured in
    the same round and, for a contender with a peer, the ratio to the peer likewise; the
    same for CPU time (µs and ratio to the reference) when the results carry it."""
    per_op = {
        (job.round, job.operation, job.contender): result["seconds"] / result["ops"]
        for job, result in results
    }
    cpu_per_op = {
        (job.round, job.operation, job.contender): result["cpu_seconds"] / result["ops"]
        for job, result in results
        if "cpu_seconds" in result
    }
    cells: dict[tuple[str, str], Cell] = {}
    for job, result in sorted(results, key=lambda item: item[0].round):
        measured = (job.round, job.operation, job.contender)
        reference = (job.round, job.operation, REFERENCE)
        mine = per_op[measured]
        key = (job.contender, job.operation)
        cell = cells.setdefault(key, Cell(job.contender, job.operation, result["ops"]))
        cell.us.append(mine * 1e6)
        cell.ratios.append(mine / per_op[reference])
        if measured in cpu_per_op and reference in cpu_per_op:
            cell.cpu_us.append(cpu_per_op[measured] * 1e6)
            cell.cpu_ratios.append(cpu_per_op[measured] / max(cpu_per_op[reference], 1e-9))
        peer = CONTENDERS[job.contender].peer
        if peer is not None and (job.round, job.operation, peer) in per_op:
            cell.peer_ratios.append(mine / per_op[(job.round, job.operation, peer)])
    return list(cells.values())


def totals(results: list[tuple[Job, dict[str, Any]]]) -> list[Total]:
    """The workload's total row: for each contender that did all of W1 … W6, in each round,
    its seconds over them added up ÷ the reference's likewise (wall and CPU). Empty unless
    the run measured the whole workload."""
    keys = {operation.key for operation in WORKLOAD}
    seconds: dict[tuple[int, str], dict[str, tuple[float, float]]] = {}
    for job, result in results:
        if job.operation in keys:
            pair = (result["seconds"], result.get("cpu_seconds", 0.0))
            seconds.setdefault((job.round, job.contender), {})[job.operation] = pair
    found: dict[str, Total] = {}
    for (k, name), spent in sorted(seconds.items()):
        reference = seconds.get((k, REFERENCE), {})
        if set(spent) != keys or set(reference) != keys:
            continue
        wall = sum(pair[0] for pair in spent.values())
        cpu = sum(pair[1] for pair in spent.values())
        reference_wall = sum(pair[0] for pair in reference.values())
        reference_cpu = sum(pair[1] for pair in reference.values())
        total = found.setdefault(name, Total(name))
        total.seconds.append(wall)
        total.cpu_seconds.append(cpu)
        total.ratios.append(wall / reference_wall)
        total.cpu_ratios.append(cpu / max(reference_cpu, 1e-9))
    return list(found.values())


def choose_contenders(requested: str | None, parser: argparse.ArgumentParser) -> list[str]:
    have_postgres = postgres_url() is not None
    if requested is None:
        return [
            name for name, spec in CONTENDERS.items() if spec.backend != "postgres" or have_postgres
        ]
    names = [name.strip() for name in requested.split(",") if name.strip()]
    unknown = [name for name in names if name not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders {unknown}; choose from {', '.join(CONTENDERS)}")
    if not have_postgres and any(CONTENDERS[name].backend == "postgres" for name in names):
        parser.error(f"the PostgreSQL contenders need {POSTGRES_VARIABLE}")
    # Every ratio divides by the reference, so it is always measured; the order is the table's.
    return [name for name in CONTENDERS if name in names or name == REFERENCE]


def choose_operations(requested: str | None, parser: argparse.ArgumentParser) -> list[str]:
    """The operations `--only` names: keys (`W2`, `O3b`), or `W` (the whole workload) and
    `O` (the twelve operations); all of them by default."""
    if requested is None:
        return [operation.key for operation in EVERYTHING]
    keys = [key.strip() for key in requested.split(",") if key.strip()]
    unknown = [key for key in keys if key not in BY_KEY and key not in ("W", "O")]
    if unknown or not keys:
        parser.error(f"unknown operations {unknown}; choose from W, O, {', '.join(BY_KEY)}")
    return [
        operation.key
        for operation in EVERYTHING
        if operation.key in keys or operation.key[0] in keys
    ]


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=(__doc__ or "").split("\n")[0],
        epilog=", ".join(f"{operation.key}: {operation.title}" for operation in EVERYTHING),
    )
    parser.add_argument("--n", type=int, default=2000, help="rows or calls (default 2000)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (default 7)")
    parser.add_argument(
        "--only",
        metavar="OPS",
        help="operations, e.g. O1,O3b or W2,W3; W: the whole workload, O: O1 … O11 (default all)",
    )
    parser.add_argument(
        "--contenders",
        metavar="NAMES",
        help=f"e.g. keel-sqlite,core-sqlite ({REFERENCE} is always included; default all: "
        f"{', '.join(CONTENDERS)}, the PostgreSQL ones when {POSTGRES_VARIABLE} is set)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"default {RESULTS}")
    args = parser.parse_args(argv)
    if args.n < 10:
        parser.error("--n must be at least 10")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.contenders = choose_contenders(args.contenders, parser)
    args.only = choose_operations(args.only, parser)
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = arguments(argv)
    started = time.perf_counter()
    jobs = plan(args.contenders, args.only, args.rounds)
    results = []
    last = started
    for done, (job, result) in enumerate(run(jobs, args.n), start=1):
        results.append((job, result))
        us = result["seconds"] / result["ops"] * 1e6
        cpu_us = result["cpu_seconds"] / result["ops"] * 1e6
        now = time.perf_counter()
        print(
            f"[{done}/{len(jobs)}] round {job.round + 1} {job.operation} {job.contender}: "
            f"{us:,.1f} µs/op, CPU {cpu_us:,.1f} µs/op ({now - last:.1f} s)",
            file=sys.stderr,
            flush=True,
        )
        last = now
    uses_postgres = any(CONTENDERS[name].backend == "postgres" for name in args.contenders)
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="minutes"),
        "n": args.n,
        "rounds": args.rounds,
        "contenders": args.contenders,
        "operations": args.only,
        **environment(postgres_url() if uses_postgres else None),
        "seconds": round(time.perf_counter() - started, 1),
        "results": [cell.summary() for cell in collect(results)],
        "totals": [total.summary() for total in totals(results)],
    }
    print(describe(report))
    print(tables(report))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {args.output}")
    return report


if __name__ == "__main__":
    main()
