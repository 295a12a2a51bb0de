"""What a run reports: the machine and versions, and the tables (Markdown)."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bench.contenders import CONTENDERS, REFERENCE
from bench.operations import BY_KEY

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agentkeel", "sqlalchemy", "sqlmodel", "pydantic", "psycopg")


@dataclass
class Cell:
    """One contender's figures for one operation, a value per round."""

    contender: str
    operation: str
    ops: int
    us: list[float] = field(default_factory=list)  # µs per operation
    ratios: list[float] = field(default_factory=list)  # to the reference, same round
    peer_ratios: list[float] = field(default_factory=list)  # to its peer, same round
    cpu_us: list[float] = field(default_factory=list)  # the process's CPU µs per operation
    cpu_ratios: list[float] = field(default_factory=list)  # to the reference's, same round

    def summary(self) -> dict[str, Any]:
        summary = {
            "contender": self.contender,
            "operation": self.operation,
            "ops": self.ops,
            "us": self.us,
            "ratios": self.ratios,
            "us_median": statistics.median(self.us),
            "us_min": min(self.us),
            "ratio_median": statistics.median(self.ratios),
            "ratio_min": min(self.ratios),
        }
        if self.cpu_us:
            summary |= {
                "cpu_us": self.cpu_us,
                "cpu_ratios": self.cpu_ratios,
                "cpu_us_median": statistics.median(self.cpu_us),
                "cpu_us_min": min(self.cpu_us),
                "cpu_ratio_median": statistics.median(self.cpu_ratios),
                "cpu_ratio_min": min(self.cpu_ratios),
            }
        if self.peer_ratios:
            summary |= {
                "peer": CONTENDERS[self.contender].peer,
                "peer_ratios": self.peer_ratios,
                "peer_ratio_median": statistics.median(self.peer_ratios),
                "peer_ratio_min": min(self.peer_ratios),
            }
        return summary


@dataclass
class Total:
    """One contender's whole workload (W1 … W6 added up), a value per round."""

    contender: str
    seconds: list[float] = field(default_factory=list)  # wall, W1 … W6 added up
    cpu_seconds: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # to the reference's sum, same round
    cpu_ratios: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "contender": self.contender,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "ratios": self.ratios,
            "cpu_ratios": self.cpu_ratios,
            "seconds_median": statistics.median(self.seconds),
            "cpu_seconds_median": statistics.median(self.cpu_seconds),
            "ratio_median": statistics.median(self.ratios),
            "ratio_min": min(self.ratios),
            "cpu_ratio_median": statistics.median(self.cpu_ratios),
            "cpu_ratio_min": min(self.cpu_ratios),
        }


def environment(postgres_url: str | None) -> dict[str, Any]:
    """The machine, the versions of everything measured, and the commit."""
    versions = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    postgres: dict[str, Any] = {}
    if postgres_url is not None:
        versions["postgresql"] = postgres_version(postgres_url)
        postgres["postgres_round_trip_us"] = postgres_round_trip(postgres_url)
    return {
        "machine": {
            "platform": platform.platform(),
            "processor": cpu_model(),
            "cpus": os.cpu_count(),
            "memory_gib": round(memory_bytes() / 2**30, 1),
            "python_implementation": platform.python_implementation(),
            **postgres,
        },
        "versions": versions,
        "commit": commit(),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def conninfo(url: str) -> str:
    """The URL as libpq takes it (without SQLAlchemy's `+driver`)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(conninfo(url)) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "unknown"


def postgres_round_trip(url: str, count: int = 1000) -> float:
    """µs for one `SELECT 1` from psycopg, the median of 5 runs: the floor under every
    PostgreSQL figure, and one that varies over time on a shared machine."""
    import psycopg

    runs = []
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(count):
                connection.execute("SELECT 1")
            runs.append((time.perf_counter() - start) / count * 1e6)
    return round(statistics.median(runs), 1)


def commit() -> str:
    """The checked-out commit (with `+changes` if the tree differs from it)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


# -- rendering ------------------------------------------------------------------------------


def us_text(value: float) -> str:
    if value < 10:
        return f"{value:.2f}"
    if value < 1000:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def ratio_text(value: float) -> str:
    if value < 10:
        return f"{value:.2f}x" if value < 1 else f"{value:.1f}x"
    return f"{value:.0f}x"


def describe(report: dict[str, Any]) -> str:
    """The run's conditions, in two lines."""
    machine, versions = report["machine"], report["versions"]
    names = {
        "python": "Python",
        "sqlite": "SQLite",
        "sqlalchemy": "SQLAlchemy",
        "sqlmodel": "SQLModel",
        "pydantic": "pydantic",
        "psycopg": "psycopg",
        "postgresql": "PostgreSQL",
        "agentkeel": "agentkeel",
    }
    listed = ", ".join(f"{names[key]} {value}" for key, value in versions.items())
    if "postgres_round_trip_us" in machine:
        listed += f" (a round trip, SELECT 1: {machine['postgres_round_trip_us']} µs)"
    return (
        f"N = {report['n']}, {report['rounds']} rounds, {report['when']}, "
        f"commit {report['commit']}, {report['seconds'] / 60:.1f} min in all\n\n"
        f"{machine['platform']}, {machine['processor']}, {machine['cpus']} CPUs, "
        f"{machine['memory_gib']} GiB; {listed}\n"
    )


NOT_RUN = "—"  # the cell of a contender that does not take part in the operation
TOTAL = "W total (W1 … W6 added up)"


def tables(report: dict[str, Any]) -> str:
    """The tables, in Markdown: ratio to the reference and µs per operation, for the wall
    clock then for CPU time, then agentkeel ÷ Core (wall clock)."""
    cells = {(cell["contender"], cell["operation"]): cell for cell in report["results"]}
    totals = {total["contender"]: total for total in report.get("totals", [])}
    contenders = [name for name in CONTENDERS if name in report["contenders"]]
    others = [name for name in contenders if name != REFERENCE]
    operations = report["operations"]
    with_cpu = all("cpu_us" in cell for cell in report["results"])

    def row(first: list[str], rest: list[str]) -> str:
        return "| " + " | ".join(first + rest) + " |"

    def rule(count: int) -> str:
        return "| --- |" + " ---: |" * count

    def title(key: str) -> str:
        return f"{key} {BY_KEY[key].title}"

    def figures(name: str, key: str, figure: str, text: Callable[[float], str]) -> str:
        cell = cells.get((name, key))
        if cell is None:
            return NOT_RUN
        return f"{text(cell[figure + '_median'])} ({text(cell[figure + '_min'])})"

    def clock(prefix: str, what: str) -> list[str]:
        lines = [
            f"{what}: ratio to raw sqlite3 in the same round, median (minimum) over the rounds; "
            f"the `{REFERENCE}` column is µs per operation.",
            "",
            row(["operation", f"{REFERENCE} µs/op"], others),
            rule(1 + len(others)),
        ]
        for key in operations:
            first = figures(REFERENCE, key, prefix + "us", us_text)
            rest = [figures(name, key, prefix + "ratio", ratio_text) for name in others]
            lines.append(row([title(key), first], rest))
        if REFERENCE in totals:
            total = totals[REFERENCE]
            first = f"{us_text(total[prefix + 'seconds_median'] * 1e6)} total"
            rest = [
                NOT_RUN
                if name not in totals
                else f"{ratio_text(totals[name][prefix + 'ratio_median'])} "
                f"({ratio_text(totals[name][prefix + 'ratio_min'])})"
                for name in others
            ]
            lines.append(row([TOTAL, first], rest))
        lines += [
            "",
            f"{what}: µs per operation, median (minimum) over the rounds.",
            "",
            row(["operation", "ops"], contenders),
            rule(1 + len(contenders)),
        ]
        for key in operations:
            ops = str(cells[(REFERENCE, key)]["ops"])
            rest = [figures(name, key, prefix + "us", us_text) for name in contenders]
            lines.append(row([title(key), ops], rest))
        return lines

    lines = clock("", "Wall clock")
    if with_cpu:
        lines += ["", *clock("cpu_", "CPU time of the measuring process")]
        if any(CONTENDERS[name].backend == "postgres" for name in contenders):
            lines += [
                "",
                "On PostgreSQL only the wall clock means anything: the server's CPU time is "
                "not the measuring process's.",
            ]
    absent = [
        name
        for name in contenders
        if any(not CONTENDERS[name].takes_part(key) for key in operations)
    ]
    if absent:
        lines += ["", f"{NOT_RUN}: {', '.join(absent)} does not take part in the workload."]
    paired = [name for name in contenders if CONTENDERS[name].peer in contenders]
    if paired:
        lines += [
            "",
            "agentkeel ÷ hand-written Core on the same backend, in the same round (wall clock), "
            "median (minimum) over the rounds.",
            "",
            row(["operation"], [f"{name} ÷ {CONTENDERS[name].peer}" for name in paired]),
            rule(len(paired)),
        ]
        for key in operations:
            rest = [figures(name, key, "peer_ratio", ratio_text) for name in paired]
            lines.append(row([title(key)], rest))
    return "\n".join(lines) + "\n"
