"""What a run reports: the machine and versions, and the tables (Markdown)."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
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

    def summary(self) -> dict[str, Any]:
        return {
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


def environment(postgres_url: str | None) -> dict[str, Any]:
    """The machine, the versions of everything measured, and the commit."""
    versions = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    if postgres_url is not None:
        versions["postgresql"] = postgres_version(postgres_url)
    return {
        "machine": {
            "platform": platform.platform(),
            "processor": cpu_model(),
            "cpus": os.cpu_count(),
            "memory_gib": round(memory_bytes() / 2**30, 1),
            "python_implementation": platform.python_implementation(),
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


def postgres_version(url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "unknown"


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
    return "\n".join(lines) + "\n"
