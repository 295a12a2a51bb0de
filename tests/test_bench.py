"""The benchmark harness (bench/, `make bench`) cannot rot: every contender runs every
operation at a tiny size, in its own process, and the tables have every cell. Timings are
never checked; docs/performance.md says how the figures are made and read."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from bench import run
from bench.contenders import CONTENDERS, REFERENCE
from bench.operations import OPERATIONS

from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.engine import create_database_engine
from tests.conftest import POSTGRES_URL, reset_postgres_schema

ROOT = Path(__file__).resolve().parents[1]
US = r"[\d,]+(\.\d+)?"
US_CELL = re.compile(rf"{US} \({US}\)")
RATIO_CELL = re.compile(rf"{US}x \({US}x\)")


def table_rows(printed: str) -> list[list[str]]:
    """The cells of every Markdown table row that names an operation."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in printed.splitlines()
        if re.match(r"\| O\d", line)
    ]


def test_a_tiny_run_fills_every_cell_of_every_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "latest.json"
    try:
        report = run.main(["--n", "10", "--rounds", "1", "--output", str(output)])
    finally:
        if POSTGRES_URL:  # the bench emptied the schema: leave it at head for the other tests
            engine = create_database_engine(POSTGRES_URL)
            reset_postgres_schema(engine)
            migrate.upgrade(engine)
            engine.dispose()
    printed = capsys.readouterr().out

    everyone = [n for n, spec in CONTENDERS.items() if spec.backend != "postgres" or POSTGRES_URL]
    assert report["contenders"] == everyone
    assert json.loads(output.read_text(encoding="utf-8")) == report
    assert len(report["results"]) == len(everyone) * len(OPERATIONS)
    for key in ("python", "sqlite", "sqlalchemy", "sqlmodel", "pydantic", "psycopg"):
        assert key in report["versions"] and key in printed.lower()
    assert ("postgresql" in report["versions"]) == bool(POSTGRES_URL)

    header = f"| operation | {REFERENCE} µs/op | " + " | ".join(everyone[1:]) + " |"
    assert header in printed
    paired = [name for name in everyone if CONTENDERS[name].peer]
    assert paired == ["keel-sqlite", "keel-postgres"][: 1 + bool(POSTGRES_URL)]
    rows = table_rows(printed)
    count = len(OPERATIONS)
    assert len(rows) == 3 * count
    ratios, micros, peers = rows[:count], rows[count : 2 * count], rows[2 * count :]
    for operation, ratio_row, us_row, peer_row in zip(
        OPERATIONS, ratios, micros, peers, strict=True
    ):
        assert ratio_row[0] == us_row[0] == peer_row[0] == f"{operation.key} {operation.title}"
        assert len(ratio_row) == 1 + len(everyone) and len(us_row) == 2 + len(everyone)
        assert len(peer_row) == 1 + len(paired)
        assert US_CELL.fullmatch(ratio_row[1]), ratio_row
        assert all(RATIO_CELL.fullmatch(cell) for cell in ratio_row[2:]), ratio_row
        assert all(US_CELL.fullmatch(cell) for cell in us_row[2:]), us_row
        assert all(RATIO_CELL.fullmatch(cell) for cell in peer_row[1:]), peer_row


def test_round_k_starts_at_contender_k_mod_c() -> None:
    jobs = run.plan(["a", "b", "c"], ["O1", "O2"], rounds=4)
    firsts = [job.contender for job in jobs if job.operation == "O1"]
    assert firsts == ["a", "b", "c", "b", "c", "a", "c", "a", "b", "a", "b", "c"]
    assert [job.operation for job in jobs[:6]] == ["O1"] * 3 + ["O2"] * 3


def test_ratios_divide_by_the_reference_of_the_same_round() -> None:
    def result(seconds: float) -> dict[str, float]:
        return {"seconds": seconds, "ops": 2}

    results = [
        (run.Job(0, "O1", REFERENCE), result(1.0)),
        (run.Job(0, "O1", "keel-sqlite"), result(3.0)),
        (run.Job(0, "O1", "core-sqlite"), result(2.0)),
        (run.Job(1, "O1", "keel-sqlite"), result(8.0)),
        (run.Job(1, "O1", REFERENCE), result(2.0)),
        (run.Job(1, "O1", "core-sqlite"), result(2.0)),
        (run.Job(2, "O1", "core-sqlite"), result(10.0)),
        (run.Job(2, "O1", REFERENCE), result(1.0)),
        (run.Job(2, "O1", "keel-sqlite"), result(5.0)),
    ]
    cells = {cell.contender: cell.summary() for cell in run.collect(results)}
    keel = cells["keel-sqlite"]
    assert keel["ratios"] == [3.0, 4.0, 5.0]
    assert (keel["ratio_median"], keel["ratio_min"]) == (4.0, 3.0)
    assert (keel["us_median"], keel["us_min"]) == (2.5e6, 1.5e6)
    assert keel["peer"] == "core-sqlite" and keel["peer_ratios"] == [1.5, 4.0, 0.5]
    assert (keel["peer_ratio_median"], keel["peer_ratio_min"]) == (1.5, 0.5)
    assert "peer" not in cells["core-sqlite"]


def test_the_bench_commands_of_the_docs_take_their_options() -> None:
    """The docs' `make bench ARGS='...'` lines, which the doc-example test does not run
    (minutes long), give options the runner takes."""
    lines = [
        line
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("make bench")
    ]
    assert any("ARGS=" in line for line in lines)
    for line in lines:
        options = [word[len("ARGS=") :] for word in shlex.split(line) if word.startswith("ARGS=")]
        for argv in options:
            run.arguments(shlex.split(argv))
