"""The `agentkeel` command: a demo, migrations, backups, checks, recovery, the retention
purge, and the schema and API references. A database agentkeel cannot use, or any other
domain error, ends the command with its message on stderr and exit status 2 (`check`
finding problems: status 1)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from agentkeel.database import Database, default_url
from agentkeel.domain.errors import DatabaseUnusable, DomainError
from agentkeel.services.retention import DEFAULT_BATCH_SIZE, purge_expired


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agentkeel", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a short demo on an embedded SQLite file")
    demo.add_argument("--db", default="agentkeel-demo.db", help="SQLite file (recreated)")
    migrate = commands.add_parser("migrate", help="bring a database's schema to head")
    where = "default: $AGENTKEEL_DATABASE_URL, else data/agentkeel.db"
    migrate.add_argument("url", nargs="?", help=where)
    tables = commands.add_parser("tables", help="list a database's tables")
    tables.add_argument("url", nargs="?", help=where)
    backup = commands.add_parser(
        "backup",
        help="copy a SQLite database, consistent, into a new file, while writers go on "
        "(PostgreSQL: use pg_dump)",
    )
    backup.add_argument("url", help="the database to copy")
    backup.add_argument("target", help="the new SQLite file (never overwritten)")
    check = commands.add_parser(
        "check",
        help="check a database's schema, pages and references (exit status 1 on a problem)",
    )
    check.add_argument("url", nargs="?", help=where)
    recover = commands.add_parser(
        "recover",
        help="mend what processes of this host that are gone left behind (crashed agents, "
        "their tasks, steps whose runner is gone); live work is left alone",
    )
    recover.add_argument("url", nargs="?", help=where)
    purge = commands.add_parser(
        "purge",
        help="remove what is past its retention (audit trail, event log, idempotency keys, "
        "agent logs, metrics), in bounded batches",
    )
    purge.add_argument("url", nargs="?", help=where)
    purge.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"most rows a batch (one transaction) removes (default {DEFAULT_BATCH_SIZE})",
    )
    commands.add_parser("schema-doc", help="print the schema reference (docs/schema.md)")
    commands.add_parser("api-doc", help="print the API reference (docs/api.md)")
    commands.add_parser(
        "columns-module", help="print the column names module (src/agentkeel/schema/columns.py)"
    )
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except DomainError as exc:
        print(f"agentkeel {args.command}: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from agentkeel.demo import run_demo

        run_demo(args.db)
    elif args.command == "migrate":
        with Database.open(args.url) as db:
            print(f"{args.url or default_url()}: schema at revision {db.schema_revision()}")
    elif args.command == "tables":
        with Database.open(args.url) as db:
            print("\n".join(db.tables()))
    elif args.command == "backup":
        # As it is: a database behind head is copied before anything upgrades it.
        with Database.open(args.url, migrate_schema=False, seed=False) as db:
            db.backup(args.target)
        print(f"{args.url}: backed up to {args.target}")
    elif args.command == "check":
        url = args.url or default_url()
        try:
            with Database.open(args.url, migrate_schema=False, seed=False) as db:
                problems = db.integrity_check()
        except DatabaseUnusable as exc:  # what is wrong is the answer, not a failure
            problems = [str(exc)]
        for problem in problems:
            print(f"{url}: {problem}")
        if problems:
            return 1
        print(f"{url}: ok")
    elif args.command == "recover":
        from agentkeel.services.recovery import pid_is_alive, recover

        with Database.open(args.url) as db, db.unit_of_work() as uow:
            done = recover(uow, pid_is_alive)
            uow.commit()
        url = args.url or default_url()
        if not done.changed:
            print(f"{url}: nothing to recover")
        for name, keys in vars(done).items():
            if keys:
                print(f"{url}: {name.replace('_', ' ')}: {len(keys)} ({', '.join(keys)})")
    elif args.command == "purge":
        url = args.url or default_url()
        with Database.open(args.url) as db:
            report = purge_expired(db, batch_size=args.batch_size)
        for purged in report.kinds:
            if purged.cutoff is None:
                print(f"{url}: {purged.kind}: kept forever")
                continue
            batches = f"{purged.batches} batch{'es' * (purged.batches != 1)}"
            print(
                f"{url}: {purged.kind}: {purged.removed} removed in {batches} "
                f"(older than {purged.days} days: before {purged.cutoff.isoformat()})"
            )
    elif args.command == "schema-doc":
        from agentkeel.schema.reference import render_markdown

        sys.stdout.write(render_markdown())
    elif args.command == "api-doc":
        from agentkeel import api_reference

        sys.stdout.write(api_reference.render_markdown())
    elif args.command == "columns-module":
        from agentkeel.schema.column_names import render_module

        sys.stdout.write(render_module())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
