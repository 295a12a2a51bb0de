"""The commands that keep a database: demo, migrate, tables, backup, check, recover, purge;
and the generators of the references (schema-doc, api-doc, model-doc, columns-module).
Their plain output lines are as they have always been; `--json` gives the same as JSON."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agentkeel.cli.common import (
    JsonOption,
    Refused,
    UrlArgument,
    UrlOption,
    database_url,
    print_json,
    shown_url,
)
from agentkeel.database import Database
from agentkeel.domain.errors import DatabaseUnusable
from agentkeel.services.retention import DEFAULT_BATCH_SIZE, purge_expired


def demo(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            "--url",
            help="the database (default: $AGENTKEEL_DATABASE_URL, else data/agentkeel.db); "
            "it must hold no project yet",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a short narrated demo, leaving a project behind for `agentkeel status`."""
    from agentkeel.demo import run_demo

    run_demo(db)


def migrate(
    url: UrlArgument = None, url_option: UrlOption = None, json: JsonOption = False
) -> None:
    """Bring a database's schema to head (what opening it does)."""
    chosen = database_url(url, url_option)
    with Database.open(chosen) as db:
        revision = db.schema_revision()
    if json:
        print_json({"database": shown_url(chosen), "schema_revision": revision})
    else:
        print(f"{shown_url(chosen)}: schema at revision {revision}")


def tables(url: UrlArgument = None, url_option: UrlOption = None, json: JsonOption = False) -> None:
    """List a database's tables."""
    with Database.open(database_url(url, url_option)) as db:
        names = db.tables()
    if json:
        print_json(names)
    else:
        print("\n".join(names))


def backup(
    url: Annotated[str, typer.Argument(help="the database to copy")],
    target: Annotated[str, typer.Argument(help="the new SQLite file (never overwritten)")],
) -> None:
    """Copy a SQLite database, consistent, into a new file while writers go on (PostgreSQL:
    use pg_dump)."""
    # As it is: a database behind head is copied before anything upgrades it.
    with Database.open(url, migrate_schema=False, seed=False) as db:
        db.backup(target)
    print(f"{url}: backed up to {target}")


def check(url: UrlArgument = None, url_option: UrlOption = None, json: JsonOption = False) -> None:
    """Check a database's schema, pages and references (exit status 1 on a problem)."""
    chosen = database_url(url, url_option)
    try:
        with Database.open(chosen, migrate_schema=False, seed=False) as db:
            problems = db.integrity_check()
    except DatabaseUnusable as exc:  # what is wrong is the answer, not a failure
        problems = [str(exc)]
    if json:
        print_json({"database": shown_url(chosen), "problems": problems})
    else:
        for problem in problems:
            print(f"{shown_url(chosen)}: {problem}")
        if not problems:
            print(f"{shown_url(chosen)}: ok")
    if problems:
        raise typer.Exit(1)


def recover(
    url: UrlArgument = None, url_option: UrlOption = None, json: JsonOption = False
) -> None:
    """Mend what processes of this host that are gone left behind (crashed agents, their
    tasks, steps whose runner is gone); live work is left alone. A pid is live if this host
    has a process with it."""
    from agentkeel.services.recovery import pid_is_alive
    from agentkeel.services.recovery import recover as mend

    chosen = database_url(url, url_option)
    with Database.open(chosen) as db, db.unit_of_work() as uow:
        done = mend(uow, pid_is_alive)
        uow.commit()
    changed = {name: keys for name, keys in vars(done).items() if keys}
    if json:
        print_json({"database": shown_url(chosen), "changed": vars(done)})
        return
    if not changed:
        print(f"{shown_url(chosen)}: nothing to recover")
    for name, keys in changed.items():
        print(f"{shown_url(chosen)}: {name.replace('_', ' ')}: {len(keys)} ({', '.join(keys)})")


def purge(
    url: UrlArgument = None,
    url_option: UrlOption = None,
    batch_size: Annotated[
        int, typer.Option(help="most rows a batch (one transaction) removes")
    ] = DEFAULT_BATCH_SIZE,
    json: JsonOption = False,
) -> None:
    """Remove what is past its retention (audit trail, event log, idempotency keys, agent
    logs, metrics), in bounded batches."""
    chosen = database_url(url, url_option)
    with Database.open(chosen) as db:
        report = purge_expired(db, batch_size=batch_size)
    if json:
        print_json(
            [
                {
                    "kind": purged.kind,
                    "removed": purged.removed,
                    "batches": purged.batches,
                    "days": purged.days,
                    "cutoff": purged.cutoff,
                }
                for purged in report.kinds
            ]
        )
        return
    for purged in report.kinds:
        if purged.cutoff is None:
            print(f"{shown_url(chosen)}: {purged.kind}: kept forever")
            continue
        batches = f"{purged.batches} batch{'es' * (purged.batches != 1)}"
        print(
            f"{shown_url(chosen)}: {purged.kind}: {purged.removed} removed in {batches} "
            f"(older than {purged.days} days: before {purged.cutoff.isoformat()})"
        )


def schema_doc() -> None:
    """Print the schema reference (docs/schema.md)."""
    from agentkeel.schema.reference import render_markdown

    sys.stdout.write(render_markdown())


def api_doc() -> None:
    """Print the API reference (docs/api.md)."""
    from agentkeel import api_reference

    sys.stdout.write(api_reference.render_markdown())


def model_doc() -> None:
    """Print the model guide (docs/model.md)."""
    try:
        from agentkeel import model_reference  # type: ignore[attr-defined,unused-ignore]
    except ImportError as exc:
        raise Refused("this agentkeel has no agentkeel.model_reference to write it") from exc
    sys.stdout.write(model_reference.model_doc())


def columns_module() -> None:
    """Print the column names module (src/agentkeel/schema/columns.py)."""
    from agentkeel.schema.column_names import render_module

    sys.stdout.write(render_module())
