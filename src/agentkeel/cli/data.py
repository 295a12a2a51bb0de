"""The commands that move data: export and import a project (a JSON document), copy a
whole database. The work is the library's (`adapters/sql/transfer.py`, `copy.py`); these
open the databases, show progress and say what was done."""

from __future__ import annotations

import json as json_module
import os
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from agentkeel.adapters.sql.copy import DEFAULT_BATCH, CopyReport, copy_database
from agentkeel.adapters.sql.transfer import export_project, import_project, parse_document
from agentkeel.cli.common import (
    JsonOption,
    Refused,
    UrlArgument,
    UrlOption,
    console,
    database_url,
    print_json,
    progress_bar,
    shown_url,
    table,
)
from agentkeel.database import Database
from agentkeel.domain.errors import NotSupported


def _engine_of(db: Database, command: str) -> Engine:
    if db.engine is None:
        raise NotSupported(command, "the in-memory fakes", "they keep nothing to move")
    return db.engine


def export(
    project: Annotated[str, typer.Option(help="the project's id", show_default=False)],
    output: Annotated[
        Path, typer.Option(help="the JSON file to write (never overwritten)", show_default=False)
    ],
    url: UrlArgument = None,
    url_option: UrlOption = None,
    json: JsonOption = False,
) -> None:
    """Write a project and everything under it (and the audit entries about it) as one JSON
    document, for `agentkeel import` into another database."""
    if output.exists():
        raise Refused(f"{output} exists already: name a new file")
    chosen = database_url(url, url_option)
    with (
        Database.open(chosen) as db,
        console(stderr=True).status(f"Exporting project {project}"),
    ):
        document = export_project(_engine_of(db, "export"), project)
    text = json_module.dumps(document.to_json(), ensure_ascii=False, indent=1)
    partial = output.with_name(output.name + ".partial")
    partial.write_text(text + "\n", encoding="utf-8")
    os.replace(partial, output)  # a reader never sees half a document
    counts = document.counts()
    if json:
        print_json({"project_id": project, "file": str(output), "rows": counts})
        return
    console().print(
        table(
            f"Exported project {project} from {shown_url(chosen)} to {output}",
            ["table", "rows"],
            [[name, count] for name, count in counts.items()],
        )
    )


def import_(
    file: Annotated[Path, typer.Argument(help="a document written by `agentkeel export`")],
    url: UrlOption = None,
    clear_missing: Annotated[
        bool,
        typer.Option(
            "--clear-missing",
            help="clear references to rows the database lacks where the schema lets them go "
            "(ON DELETE SET NULL: a task's agent, a step's runner) instead of refusing",
        ),
    ] = False,
    json: JsonOption = False,
) -> None:
    """Read a project's document into the database, ids kept, in one transaction: refused,
    with nothing written, for a newer format, a damaged file, ids that exist already or
    references to rows the database lacks."""
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise Refused(f"cannot read {file}: {exc.strerror or exc}") from exc
    document = parse_document(text)
    with (
        Database.open(url) as db,
        console(stderr=True).status(f"Importing project {document.project_id}"),
    ):
        report = import_project(_engine_of(db, "import"), document, clear_missing=clear_missing)
    if json:
        print_json(
            {"project_id": report.project_id, "rows": report.rows, "cleared": report.cleared}
        )
        return
    console().print(
        table(
            f"Imported project {report.project_id} into {shown_url(url)}",
            ["table", "rows"],
            [[name, count] for name, count in report.rows.items()],
        )
    )
    for reference, count in report.cleared.items():
        console().print(f"cleared {count} {reference} (its row is not in this database)")


def copy(
    source: Annotated[str, typer.Option("--from", help="the database to copy", show_default=False)],
    target: Annotated[
        str,
        typer.Option(
            "--to", help="an empty database (migrated to head if new)", show_default=False
        ),
    ],
    batch_size: Annotated[int, typer.Option(help="rows a batch (one transaction)")] = DEFAULT_BATCH,
    resume: Annotated[
        bool, typer.Option("--resume", help="finish an interrupted copy: skip rows already there")
    ] = False,
    json: JsonOption = False,
) -> None:
    """Copy every table of a database into an empty one at the same schema revision (e.g.
    the embedded SQLite file into PostgreSQL), in batches, then verify row counts and
    checksums table by table (exit status 1 if any differs)."""
    with Database.open(source, migrate_schema=False, seed=False) as origin:
        reading = _engine_of(origin, "copy")
        with Database.open(target, migrate_schema=False, seed=False) as probe:
            _engine_of(probe, "copy")
            empty = probe.schema_revision() is None
        # A new database is created at head; any other is copied into as it is (or refused).
        with Database.open(target, migrate_schema=empty, seed=False) as goal:
            writing = _engine_of(goal, "copy")
            with progress_bar(not json) as advance:
                report = copy_database(
                    reading,
                    writing,
                    batch_size=batch_size,
                    resume=resume,
                    progress=advance,
                )
    _show_copy(report, source, target, json)
    if report.mismatched:
        raise typer.Exit(1)


def _show_copy(report: CopyReport, source: str, target: str, json: bool) -> None:
    if json:
        print_json(
            {
                "schema_revision": report.revision,
                "verified": not report.mismatched,
                "mismatched": report.mismatched,
                "tables": [
                    {
                        "table": t.name,
                        "copied": t.copied,
                        "skipped": t.skipped,
                        "rows": t.target.rows,
                        "sha256": t.target.sha256,
                        "matches": t.matches,
                    }
                    for t in report.tables
                ],
            }
        )
        return
    out = console()
    rows = [
        [
            t.name,
            t.copied,
            t.skipped,
            t.target.rows,
            t.target.sha256[:16],
            "yes" if t.matches else "NO",
        ]
        for t in report.tables
        if t.source.rows or t.target.rows or not t.matches
    ]
    empty = len(report.tables) - len(rows)
    out.print(
        table(
            f"Copied {source} to {target} (schema {report.revision}; {empty} empty tables "
            "not shown)",
            ["table", "copied", "skipped", "rows", "sha256", "verified"],
            rows,
        )
    )
    total = sum(t.target.rows for t in report.tables)
    if report.mismatched:
        out.print(f"NOT verified: {', '.join(report.mismatched)} differ", markup=False)
    else:
        out.print(
            f"Verified: {total} rows in {len(report.tables)} tables, counts and checksums equal"
        )
