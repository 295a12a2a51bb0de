"""The benchmark harness (bench/, `make bench`) cannot rot: every contender runs every
operation at a tiny size, in its own process, and the tables have every cell. Timings are
never checked; docs/performance.md says how the figures are made and read."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from bench import run, scaling
from bench.contenders import CONTENDERS, REFERENCE
from bench.operations import EVERYTHING, WORKLOAD

from agentkeel.adapters.sql import migrate
from agentkeel.adapters.sql.engine import create_database_engine
from tests.conftest import POSTGRES_URL, reset_postgres_schema

ROOT = Path(__file__).resolve().parents[1]
US = r"[\d,]+(\.\d+)?"
US_CELL = re.compile(rf"{US} \({US}\)")
RATIO_CELL = re.compile(rf"{US}x \({US}x\)")
NOT_RUN = "—"


def table_rows(printed: str, start: str = r"[OW]\d") -> list[list[str]]:
    """The cells of every Markdown table row that names an operation (or, given `start`,
    whose first cell starts so)."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in printed.splitlines()
        if re.match(rf"\| {start}", line)
    ]


def takes_part(name: str, key: str) -> bool:
    return CONTENDERS[name].takes_part(key)


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
    measured = [
        (name, op.key) for op in EVERYTHING for name in everyone if takes_part(name, op.key)
    ]
    assert sorted((r["contender"], r["operation"]) for r in report["results"]) == sorted(measured)
    assert all(r["cpu_us_median"] >= 0 and len(r["cpu_ratios"]) == 1 for r in report["results"])
    # sqlmodel sits the workload out, visibly; every other contender did all of it.
    assert [name for name in everyone if not takes_part(name, "W1")] == ["sqlmodel"]
    assert sorted(total["contender"] for total in report["totals"]) == sorted(
        name for name in everyone if takes_part(name, "W1")
    )
    assert "—: sqlmodel does not take part in the workload." in printed
    for key in ("python", "sqlite", "sqlalchemy", "sqlmodel", "pydantic", "psycopg"):
        assert key in report["versions"] and key in printed.lower()
    assert ("postgresql" in report["versions"]) == bool(POSTGRES_URL)

    header = f"| operation | {REFERENCE} µs/op | " + " | ".join(everyone[1:]) + " |"
    assert printed.count(header) == 2  # wall clock and CPU time
    paired = [name for name in everyone if CONTENDERS[name].peer]
    assert paired == ["keel-sqlite", "keel-postgres"][: 1 + bool(POSTGRES_URL)]
    rows = table_rows(printed)
    count = len(EVERYTHING)
    assert len(rows) == 5 * count
    ratios, micros = rows[:count], rows[count : 2 * count]
    cpu_ratios, cpu_micros = rows[2 * count : 3 * count], rows[3 * count : 4 * count]
    peers = rows[4 * count :]
    for operation, ratio_row, us_row, cpu_ratio_row, cpu_us_row, peer_row in zip(
        EVERYTHING, ratios, micros, cpu_ratios, cpu_micros, peers, strict=True
    ):
        title = f"{operation.key} {operation.title}"
        assert ratio_row[0] == us_row[0] == cpu_ratio_row[0] == cpu_us_row[0] == title
        assert peer_row[0] == title
        assert len(ratio_row) == len(cpu_ratio_row) == 1 + len(everyone)
        assert len(us_row) == len(cpu_us_row) == 2 + len(everyone)
        assert len(peer_row) == 1 + len(paired)
        for ratio, micro in ((ratio_row, us_row), (cpu_ratio_row, cpu_us_row)):
            assert US_CELL.fullmatch(ratio[1]), ratio
            for name, cell in zip(everyone[1:], ratio[2:], strict=True):
                assert (
                    RATIO_CELL.fullmatch(cell)
                    if takes_part(name, operation.key)
                    else (cell == NOT_RUN)
                ), ratio
            for name, cell in zip(everyone, micro[2:], strict=True):
                assert (
                    US_CELL.fullmatch(cell)
                    if takes_part(name, operation.key)
                    else (cell == NOT_RUN)
                ), micro
        assert all(RATIO_CELL.fullmatch(cell) for cell in peer_row[1:]), peer_row
    totals = table_rows(printed, "W total")
    assert len(totals) == 2  # wall clock and CPU time
    for total in totals:
        assert re.fullmatch(rf"{US} total", total[1]), total
        for name, cell in zip(everyone[1:], total[2:], strict=True):
            assert RATIO_CELL.fullmatch(cell) if takes_part(name, "W1") else cell == NOT_RUN


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


def test_a_contender_out_of_the_workload_is_not_planned_for_it() -> None:
    jobs = run.plan([REFERENCE, "sqlmodel", "keel-sqlite"], ["O1", "W2"], rounds=1)
    assert [(job.operation, job.contender) for job in jobs] == [
        ("O1", REFERENCE),
        ("O1", "sqlmodel"),
        ("O1", "keel-sqlite"),
        ("W2", REFERENCE),
        ("W2", "keel-sqlite"),
    ]


def test_only_w_selects_the_workload() -> None:
    workload = [operation.key for operation in WORKLOAD]
    assert run.arguments(["--only", "W"]).only == workload
    assert run.arguments(["--only", "W2,W3"]).only == ["W2", "W3"]
    assert run.arguments(["--only", "O3,W"]).only == ["O3", *workload]
    assert "W1" not in run.arguments(["--only", "O"]).only


def test_the_total_adds_up_w1_to_w6_and_divides_by_the_reference_of_the_same_round() -> None:
    def result(seconds: float) -> dict[str, float]:
        return {"seconds": seconds, "cpu_seconds": seconds / 2, "ops": 10}

    keys = [operation.key for operation in WORKLOAD]
    results = [
        (run.Job(k, key, name), result(seconds * (k + 1)))
        for k in range(2)
        for key in keys
        for name, seconds in ((REFERENCE, 1.0), ("keel-sqlite", 2.0))
    ]
    partial = [(run.Job(0, "W1", "core-sqlite"), result(1.0))]  # did not do it all: no total
    found = {total.contender: total.summary() for total in run.totals(results + partial)}
    assert sorted(found) == sorted([REFERENCE, "keel-sqlite"])
    total = found["keel-sqlite"]
    assert total["seconds"] == [2.0 * len(keys), 4.0 * len(keys)]
    assert total["ratios"] == total["cpu_ratios"] == [2.0, 2.0]
    assert total["ratio_median"] == 2.0


def test_the_scaling_run_measures_every_call_at_a_tiny_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "scaling.json"
    try:
        report = scaling.main(["--sizes", "150", "--calls", "3", "--output", str(output)])
    finally:
        if POSTGRES_URL:  # it emptied the schema: leave it at head for the other tests
            engine = create_database_engine(POSTGRES_URL)
            reset_postgres_schema(engine)
            migrate.upgrade(engine)
            engine.dispose()
    printed = capsys.readouterr().out
    names = ["raw", "keel-sqlite", *(["keel-postgres"] if POSTGRES_URL else [])]
    assert [result["contender"] for result in report["results"]] == names
    assert json.loads(output.read_text(encoding="utf-8")) == report
    for result in report["results"]:
        assert result["tasks"] == 200  # rounded up to whole initiatives
        assert set(result["figures"]) == set(scaling.CALLS)
        assert all(figure["wall_us"] > 0 for figure in result["figures"].values())
    rows = table_rows(printed, r"200 \|")
    assert [row[1] for row in rows] == names
    assert all(re.fullmatch(rf"{US} / {US}", cell) for row in rows for cell in row[2:])
