"""The `agentkeel` command as an operator runs it, on SQLite and, when the test server is
set, PostgreSQL. Each test starts `python -m agentkeel` in a process of its own for the
first of its commands (a second or more each: they are few) and runs the rest through
`agentkeel.cli.main` in this process, the same code but for the interpreter's start. The
finer cases are tested on the library (test_transfer.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from agentkeel.cli import MISSING_EXTRA, main
from agentkeel.cli.status import status_of
from agentkeel.domain.planning import TaskStatus
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.schema.column_names import render_module
from agentkeel.schema.reference import render_markdown
from agentkeel.services import planning
from tests import factories as f
from tests.conftest import POSTGRES_URL, truncate_all


def in_a_process(
    *args: str, database: Path | str | None = None, check: int | None = 0
) -> subprocess.CompletedProcess[str]:
    """Run `agentkeel args` in a new process (with `database` as $AGENTKEEL_DATABASE_URL);
    assert its exit status is `check` unless None."""
    env = {**os.environ, "COLUMNS": "160"}
    env.pop("AGENTKEEL_DATABASE_URL", None)
    if database is not None:
        env["AGENTKEEL_DATABASE_URL"] = str(database)
    done = subprocess.run(
        [sys.executable, "-m", "agentkeel", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if check is not None:
        assert done.returncode == check, done.stdout + done.stderr
    return done


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout)


@pytest.fixture
def command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`agentkeel` run in this process: the same arguments, status and output."""

    def run(
        *args: str, database: Path | str | None = None, check: int | None = 0
    ) -> subprocess.CompletedProcess[str]:
        monkeypatch.setenv("COLUMNS", "160")
        if database is None:
            monkeypatch.delenv("AGENTKEEL_DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("AGENTKEEL_DATABASE_URL", str(database))
        capsys.readouterr()
        status = main(list(args))
        out, err = capsys.readouterr()
        if check is not None:
            assert status == check, out + err
        return subprocess.CompletedProcess(["agentkeel", *args], status, out, err)

    return run


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file the demo filled (through $AGENTKEEL_DATABASE_URL, as `make demo` does),
    once for the module."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    assert "Done." in in_a_process("demo", database=path).stdout
    return path


@pytest.fixture
def demo(demo_file: Path, tmp_path: Path) -> Path:
    """A copy of the demo's database for one test."""
    path = tmp_path / "demo.db"
    for suffix in ("", "-wal"):
        if Path(f"{demo_file}{suffix}").exists():
            shutil.copy(f"{demo_file}{suffix}", f"{path}{suffix}")
    return path


def test_status_events_and_audit_show_what_the_demo_left(demo: Path, command: Run) -> None:
    status = as_json(in_a_process("status", "--json", database=demo))
    agentkeel = command  # the rest in this process
    [keel] = status["projects"]
    assert keel["name"] == "Keel" and keel["tasks_by_status"]["completed"] == 1
    assert [i["name"] for i in keel["initiatives"]] == ["Sign-in"]
    [flow] = keel["workflows"]
    assert flow["status"] == "running" and flow["current_step"]["title"] == "Clarify the request"
    assert len(status["agents"]) == 2 and "credentials" not in json.dumps(status)
    shown = agentkeel("status", str(demo)).stdout  # the URL as an argument, shown as tables
    assert "Project Keel" in shown and "Password reset" in shown and "Agents (2 idle)" in shown
    events = [
        json.loads(line)
        for line in agentkeel("events", "--json", database=demo).stdout.splitlines()
    ]
    assert [e["sequence"] for e in events] == sorted(e["sequence"] for e in events)
    assert {"TaskCompleted", "RecordDeleted"} <= {e["event_type"] for e in events}
    after = agentkeel("events", "--after", str(events[-2]["sequence"]), "--url", str(demo)).stdout
    assert "RecordDeleted" in after and "TaskCompleted" not in after
    trail = as_json(agentkeel("audit", "--project", keel["id"], "--json", database=demo))
    assert [e["event_type"] for e in trail][:2] == ["workflow.created", "workflow.running"]
    flow_trail = as_json(agentkeel("audit", "--workflow", flow["id"], "--json", database=demo))
    assert [e["id"] for e in flow_trail] == [e["id"] for e in trail]
    later = agentkeel("audit", "--project", keel["id"], "--since", "2999-01-01", database=demo)
    assert "(none)" in later.stdout


def test_events_follow_prints_new_events_until_ctrl_c(demo: Path) -> None:
    env = {**os.environ, "AGENTKEEL_DATABASE_URL": str(demo)}
    command = [sys.executable, "-m", "agentkeel", "events", "--follow", "--json"]
    follower = subprocess.Popen(
        [*command, "--interval", "0.1"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert follower.stdout is not None
    first = json.loads(follower.stdout.readline())
    assert first["sequence"] >= 1
    connection = sqlite3.connect(demo)  # a new event, committed by "another process"
    connection.execute(
        "INSERT INTO event_log (event_type, payload, recorded_at) "
        "VALUES ('ProjectArchived', '{\"project_id\":\"x\"}', '2026-12-07 10:00:00.000000')"
    )
    connection.commit()
    connection.close()
    seen = [first]
    while seen[-1]["payload"] != {"project_id": "x"}:
        seen.append(json.loads(follower.stdout.readline()))
    follower.send_signal(signal.SIGINT)
    assert follower.wait(timeout=30) == 0


def test_export_and_import_a_project_refusing_what_would_spoil_the_target(
    demo: Path, tmp_path: Path, command: Run
) -> None:
    [keel] = as_json(command("status", "--json", database=demo))["projects"]
    document, other = tmp_path / "keel.json", tmp_path / "other.db"
    exported = in_a_process(
        "export", "--project", keel["id"], "--output", str(document), database=demo
    )
    assert "tasks" in exported.stdout and json.loads(document.read_text())["version"] == 1
    refused = in_a_process("import", str(document), "--url", str(other), check=2)
    assert refused.stderr.startswith("agentkeel import: import refused: tasks.assigned_agent_id")
    imported = as_json(
        command("import", str(document), "--clear-missing", "--json", database=other)
    )
    assert imported["rows"]["tasks"] == 3 and imported["cleared"]["tasks.assigned_agent_id"] == 2
    clash = command("import", str(document), database=other, check=2)
    assert "exist already in the target" in clash.stderr
    damaged = tmp_path / "damaged.json"
    damaged.write_text(document.read_text()[:-200])
    assert (
        "not a complete JSON document"
        in command("import", str(damaged), database=other, check=2).stderr
    )
    assert len(clash.stderr.splitlines()) == 1


def test_bad_urls_missing_ids_and_newer_databases_are_one_line_and_status_2(
    demo: Path, tmp_path: Path, command: Run
) -> None:
    bad = command("status", "--url", "mysql://me@host/db", check=2)
    assert bad.stderr.startswith("agentkeel status: database.url names a mysql database")
    missing = command("status", "--project", "nope", database=demo, check=2)
    assert missing.stderr == "agentkeel status: project not found: id='nope'\n"
    newer = tmp_path / "newer.db"
    newer.write_bytes(demo.read_bytes())
    connection = sqlite3.connect(newer)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    refused = in_a_process("events", database=newer, check=2)
    assert "9999" in refused.stderr and len(refused.stderr.splitlines()) == 1


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="AGENTKEEL_TEST_POSTGRES_URL is not set")
def test_copy_moves_the_demo_database_into_postgres_and_refuses_to_do_it_twice(
    demo: Path, postgres_engine: Engine, command: Run
) -> None:
    assert POSTGRES_URL
    truncate_all(postgres_engine)  # at head, empty: a new server database
    done = in_a_process("copy", "--from", str(demo), "--to", POSTGRES_URL, "--batch-size", "5")
    assert "Verified:" in done.stdout and "copy " in done.stderr  # the progress, on stderr
    agentkeel = command  # the rest in this process
    again = agentkeel("copy", "--from", str(demo), "--to", POSTGRES_URL, check=2)
    assert "the target database is not empty" in again.stderr
    here, there = (
        as_json(agentkeel("status", "--json", database=url)) for url in (demo, POSTGRES_URL)
    )
    assert here == there
    trail = agentkeel("audit", "--project", here["projects"][0]["id"], database=POSTGRES_URL)
    assert "workflow.created" in trail.stdout
    events_here, events_there = (
        agentkeel("events", "--json", database=url).stdout for url in (demo, POSTGRES_URL)
    )
    assert events_here == events_there and events_there.count("\n") > 10
    assert "nothing to recover" in agentkeel("recover", "--url", POSTGRES_URL).stdout
    assert agentkeel("check", POSTGRES_URL).stdout == f"{POSTGRES_URL}: ok\n"


# -- in this process: the extra, and the generators `make docs` runs --------------------------


def test_without_the_extra_the_command_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "typer", None)  # import typer now fails
    assert main(["status"]) == 2
    assert capsys.readouterr().err == MISSING_EXTRA + "\n"


def test_the_reference_generators_print_what_the_docs_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from agentkeel import api_reference

    for command, expected in [
        ("schema-doc", render_markdown()),
        ("api-doc", api_reference.render_markdown()),
        ("columns-module", render_module()),
    ]:
        assert main([command]) == 0
        assert capsys.readouterr().out == expected


def test_model_doc_prints_the_model_guide_where_there_is_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        from agentkeel import model_reference  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        assert main(["model-doc"]) == 2
        assert "model_reference" in capsys.readouterr().err
        return
    assert main(["model-doc"]) == 0
    assert capsys.readouterr().out == model_reference.model_doc()


def test_the_status_of_one_project_shows_its_work_and_its_agents_only(uow: UnitOfWork) -> None:
    keel, other = f.project(uow, "Keel"), f.project(uow, "Other")
    mine, theirs = f.agent(uow, "mine"), f.agent(uow, "theirs")
    for project, agent in ((keel, mine), (other, theirs)):
        f.task(uow, project, "Claimed")
        planning.claim_next_ready_task(uow, agent.id, project_id=project.id)
    stuck = f.task(uow, keel, "Stuck")
    uow.tasks.move_to(stuck.id, TaskStatus.BLOCKED, blocked_by="a person must decide")
    flow = uow.workflows.start(f.workflow(uow, keel).id)
    step = uow.workflow_steps.start(f.step(uow, flow, 1).id)
    found = status_of(uow, keel.id)
    [shown] = found["projects"]
    assert shown["tasks_by_status"] == {
        "pending": 0,
        "in_progress": 1,
        "completed": 0,
        "blocked": 1,
    }
    assert [(t["name"], t["why"]) for t in shown["needing_attention"]] == [
        ("Stuck", "a person must decide")
    ]
    [running] = shown["workflows"]
    assert running["current_step"]["title"] == step.title
    assert [a["name"] for a in found["agents"]] == ["mine"]
    assert len(status_of(uow)["agents"]) == 2
