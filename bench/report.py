"""What a run reports: the machine and versions, and the tables (Markdown)."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
import time
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
        if self.peer_ratios:
            summary |= {
                "peer": CONTENDERS[self.contender].peer,
                "peer_ratios": self.peer_ratios,
                "peer_ratio_median": statistics.median(self.peer_ratios),
                "peer_ratio_min": min(self.peer_ratios),
            }
        return summary


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


def tables(report: dict[str, Any]) -> str:
    """The ratio table and the µs table, in Markdown."""
    cells = {(cell["contender"], cell["operation"]): cell for cell in report["results"]}
    contenders = [name for name in CONTENDERS if name in report["contenders"]]
    others = [name for name in contenders if name != REFERENCE]
    operations = report["operations"]

    def row(first: list[str], rest: list[str]) -> str:
        return "| " + " | ".join(first + rest) + " |"

    def rule(count: int) -> str:
        return "| --- |" + " ---: |" * count

    lines = [
        "Ratio to raw sqlite3 in the same round, median (minimum) over the rounds; "
        f"the `{REFERENCE}` column is µs per operation.",
        "",
        row(["operation", f"{REFERENCE} µs/op"], others),
        rule(1 + len(others)),
    ]
    for key in operations:
        title = f"{key} {BY_KEY[key].title}"
        reference = cells[(REFERENCE, key)]
        first = f"{us_text(reference['us_median'])} ({us_text(reference['us_min'])})"
        rest = [
            f"{ratio_text(cells[(name, key)]['ratio_median'])} "
            f"({ratio_text(cells[(name, key)]['ratio_min'])})"
            for name in others
        ]
        lines.append(row([title, first], rest))
    lines += [
        "",
        "µs per operation, median (minimum) over the rounds.",
        "",
        row(["operation", "ops"], contenders),
        rule(1 + len(contenders)),
    ]
    for key in operations:
        ops = str(cells[(REFERENCE, key)]["ops"])
        rest = [
            f"{us_text(cells[(name, key)]['us_median'])} ({us_text(cells[(name, key)]['us_min'])})"
            for name in contenders
        ]
        lines.append(row([f"{key} {BY_KEY[key].title}", ops], rest))
    paired = [name for name in contenders if CONTENDERS[name].peer in contenders]
    if paired:
        lines += [
            "",
            "agentkeel ÷ hand-written Core on the same backend, in the same round, "
            "median (minimum) over the rounds.",
            "",
            row(["operation"], [f"{name} ÷ {CONTENDERS[name].peer}" for name in paired]),
            rule(len(paired)),
        ]
        for key in operations:
            rest = [
                f"{ratio_text(cells[(name, key)]['peer_ratio_median'])} "
                f"({ratio_text(cells[(name, key)]['peer_ratio_min'])})"
                for name in paired
            ]
            lines.append(row([f"{key} {BY_KEY[key].title}"], rest))
    return "\n".join(lines) + "\n"
