"""The `agentkeel` command: a demo, migrations, and the schema and API references."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from agentkeel.database import Database, default_url


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
    commands.add_parser("schema-doc", help="print the schema reference (docs/schema.md)")
    commands.add_parser("api-doc", help="print the API reference (docs/api.md)")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from agentkeel.demo import run_demo

        run_demo(args.db)
    elif args.command == "migrate":
        with Database.open(args.url) as db:
            print(f"{args.url or default_url()}: schema at revision {db.schema_revision()}")
    elif args.command == "tables":
        with Database.open(args.url) as db:
            print("\n".join(db.tables()))
    elif args.command == "schema-doc":
        from agentkeel.schema.reference import render_markdown

        sys.stdout.write(render_markdown())
    elif args.command == "api-doc":
        from agentkeel import api_reference

        sys.stdout.write(api_reference.render_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
