"""The commands that read: status, events (followed live with `--follow`), audit."""

from __future__ import annotations

import json as json_module
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from agentkeel.cli.common import (
    JsonOption,
    Refused,
    UrlArgument,
    UrlOption,
    console,
    database_url,
    plain,
    print_json,
    table,
)
from agentkeel.cli.status import show_status, status_of
from agentkeel.database import Database
from agentkeel.domain.audit import AuditEntry
from agentkeel.domain.errors import NotFound
from agentkeel.domain.events import LoggedEvent

PAGE = 1000


def status(
    url: UrlArgument = None,
    url_option: UrlOption = None,
    project: Annotated[
        str | None, typer.Option(help="only this project (its id)", show_default=False)
    ] = None,
    json: JsonOption = False,
) -> None:
    """Projects, initiatives with phase progress, tasks by status, tasks that need a person,
    agents by status with their task and account, running workflows with their step."""
    with (
        Database.open(database_url(url, url_option)) as db,
        db.unit_of_work(read_only=True) as uow,
    ):
        found = status_of(uow, project)
    if json:
        print_json(found)
    else:
        show_status(console(), found)


def _event(entry: LoggedEvent) -> dict[str, Any]:
    return {
        "sequence": entry.sequence,
        "recorded_at": entry.recorded_at,
        "event_type": entry.event_type,
        "payload": entry.payload,
    }


def _compact(payload: dict[str, Any]) -> str:
    return json_module.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=plain)


def events(
    url: UrlArgument = None,
    url_option: UrlOption = None,
    after: Annotated[int, typer.Option(help="only events numbered after this")] = 0,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="keep printing new events (Ctrl-C ends)")
    ] = False,
    interval: Annotated[float, typer.Option(help="seconds between polls with --follow")] = 1.0,
    json: JsonOption = False,
) -> None:
    """The durable event log, oldest first; with --follow, new events as they commit, like
    `tail -f` (the log is polled; Ctrl-C ends with exit status 0). With --json, one JSON
    object a line."""
    if interval <= 0:
        raise Refused(f"--interval must be a positive number of seconds (got {interval})")
    out = console()
    position = after
    with Database.open(database_url(url, url_option)) as db:
        try:
            while True:
                with db.unit_of_work(read_only=True) as uow:
                    found = uow.event_log.read_after(position, PAGE)
                if found:
                    position = found[-1].sequence
                    if json:
                        for entry in found:
                            print(_compact(_event(entry)), flush=True)
                    elif follow:
                        for entry in found:
                            line = (
                                f"{entry.sequence:>6}  {entry.recorded_at:%Y-%m-%d %H:%M:%S}  "
                                f"{entry.event_type}  {_compact(entry.payload)}"
                            )
                            out.print(line, markup=False, soft_wrap=True)
                        out.file.flush()
                    else:
                        rows = [
                            [
                                e.sequence,
                                f"{e.recorded_at:%Y-%m-%d %H:%M:%S}",
                                e.event_type,
                                _compact(e.payload),
                            ]
                            for e in found
                        ]
                        out.print(table(None, ["#", "recorded", "event", "payload"], rows))
                if len(found) == PAGE:
                    continue
                if not follow:
                    break
                time.sleep(interval)
        except KeyboardInterrupt:
            return


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Refused(f"--since {value!r} is not a date or time (e.g. 2026-12-07T09:00)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _entry(entry: AuditEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json")


def audit(
    url: UrlArgument = None,
    url_option: UrlOption = None,
    project: Annotated[
        str | None, typer.Option(help="the project's trail (its id)", show_default=False)
    ] = None,
    workflow: Annotated[
        str | None, typer.Option(help="the workflow's trail (its id)", show_default=False)
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="only entries from this time on (ISO 8601; UTC unless it says)"),
    ] = None,
    json: JsonOption = False,
) -> None:
    """The audit trail of a project (every entry about it or a row under it, its deletion
    included) or of a workflow (and its steps), oldest first."""
    if (project is None) == (workflow is None):
        raise Refused("name one trail: --project ID or --workflow ID")
    start = _since(since)
    with Database.open(database_url(url, url_option)) as db:
        if workflow is not None:
            with db.unit_of_work(read_only=True) as uow:
                entries = uow.workflows.audit_trail(workflow)
        else:
            assert project is not None
            entries = _project_trail(db, project)
    entries = [e for e in entries if start is None or e.timestamp >= start]
    if json:
        print_json([_entry(entry) for entry in entries])
        return
    rows = [
        [f"{e.timestamp:%Y-%m-%d %H:%M:%S}", e.event_type, e.entity_type, e.entity_id, e.message]
        for e in entries
    ]
    console().print(table(None, ["time", "event", "subject", "id", "message"], rows))


def _project_trail(db: Database, project_id: str) -> list[AuditEntry]:
    """The entries about the project or a row under it (as `agentkeel export` carries them);
    for a project that is gone, the entries about it by id. NotFound if there are none."""
    if db.engine is None:
        with db.unit_of_work(read_only=True) as uow:
            uow.projects.get(project_id)
            return sorted(
                uow.audit_logs.list(entity_type="project", entity_id=project_id),
                key=lambda e: (e.timestamp, e.id),
            )
    from agentkeel.adapters.sql.transfer import audit_entries, project_tree

    with db.engine.connect() as connection:
        try:
            tree = project_tree(connection, project_id)
        except NotFound:
            tree = {}
        rows = audit_entries(connection, project_id, tree)
    if not tree and not rows:
        raise NotFound("project", project_id)
    return [AuditEntry.model_validate(row) for row in rows]
