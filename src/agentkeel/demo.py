"""`make demo`: a short tour of agentkeel, narrated, on the database `Database.open` picks
(`$AGENTKEEL_DATABASE_URL`, else `data/agentkeel.db`) or the one named. It leaves the project
Keel behind, with its initiative, tasks, agents and a running workflow, for `agentkeel
status`, `events`, `audit` and `export` to show."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from agentkeel.database import Database, default_url
from agentkeel.domain.agents import Account, Agent
from agentkeel.domain.errors import DomainError, InvalidValue
from agentkeel.domain.events import DomainEvent
from agentkeel.domain.planning import Initiative, Task, TaskStatus
from agentkeel.domain.workflows import StepType, Workflow, WorkflowStep, WorkflowType
from agentkeel.domain.workspace import (
    Project,
    ProjectMode,
    Repository,
    Template,
    TemplateCategory,
    TemplatePlaceholder,
    Worktree,
    WorktreeStatus,
)
from agentkeel.services import audit, planning, workspace


def say(text: str) -> None:
    print(f"  {text}")


def refused(action: str, attempt: Callable[[], object]) -> None:
    try:
        attempt()
    except DomainError as error:
        say(f"{action}: refused with {type(error).__name__}: {error}")
    else:  # pragma: no cover - the demo shows refusals only
        say(f"{action}: unexpectedly accepted")


def run_demo(url: str | None = None) -> None:
    """Run the demo on `url` (None: `Database.open()`'s default). Raises InvalidValue, and
    writes nothing, if the database holds projects already: the demo wants one of its own."""
    db = Database.open(url)
    with db.unit_of_work(read_only=True) as uow:
        if uow.projects.list(include_archived=True):
            db.close()
            raise InvalidValue(
                "demo",
                "database",
                url or default_url(),
                "holds projects already: the demo wants a new database (name one with --db "
                "or $AGENTKEEL_DATABASE_URL)",
            )
    print(f"agentkeel demo on {url or default_url()}\n")
    events: list[DomainEvent] = []
    db.subscribe(DomainEvent, events.append)

    print("1. Opening migrated the schema and seeded the default settings")
    say(f"schema revision {db.schema_revision()}; tables: {', '.join(db.tables())}")
    with db.unit_of_work() as uow:
        say(
            f"{uow.settings.count()} settings, e.g. workflow.maxConcurrentImplementations = "
            f"{uow.settings.value('workflow.maxConcurrentImplementations')}"
        )

    print("\n2. A project with two git repositories; one default at a time")
    with db.unit_of_work() as uow:
        keel = uow.projects.add(Project(name="Keel", mode=ProjectMode.EVOLUTION))
        api = uow.repositories.add(Repository(project_id=keel.id, name="api", path="/src/api"))
        web = uow.repositories.add(
            Repository(project_id=keel.id, name="web", url="https://git.example/web.git")
        )
        uow.repositories.set_default(api.id)
        uow.repositories.set_default(web.id)
        default = uow.repositories.default_of(keel.id)
        say(
            f"project {keel.name!r} ({keel.id}); default repository now: {default and default.name}"
        )
        refused(
            "a second repository named 'api'",
            lambda: uow.repositories.add(Repository(project_id=keel.id, name="api", path="/x")),
        )
        refused(
            "a repository of a missing project",
            lambda: uow.repositories.add(Repository(project_id="nope", name="x", path="/x")),
        )
        refused("a project name with a NUL character", lambda: Project(name="bad\x00name"))
        uow.commit()
    say(f"events published after commit: {[type(e).__name__ for e in events]}")

    print("\n3. A worktree moves through its states")
    with db.unit_of_work() as uow:
        tree = uow.worktrees.add(
            Worktree(repository_id=api.id, path="/wt/keel-login", branch_name="feature/login")
        )
        for status in (WorktreeStatus.CLEANING, WorktreeStatus.REMOVED):
            tree = uow.worktrees.move_to(tree.id, status)
            say(f"worktree {tree.path} is {tree.status.value}")
        refused(
            "moving a removed worktree back to active",
            lambda: uow.worktrees.move_to(tree.id, WorktreeStatus.ACTIVE),
        )
        uow.commit()

    print("\n4. Settings are typed and validated")
    with db.unit_of_work() as uow:
        uow.settings.set_value("logging.retentionDays", 7)
        say(
            f"logging.retentionDays = {uow.settings.value('logging.retentionDays')} "
            f"(user modified: {uow.settings.by_key('logging.retentionDays').is_user_modified})"
        )
        refused(
            "retentionDays = 'seven'",
            lambda: uow.settings.set_value("logging.retentionDays", "seven"),
        )
        reset = uow.settings.reset("logging.retentionDays")
        say(f"after reset: {reset.typed_value} (user modified: {reset.is_user_modified})")
        uow.commit()

    print("\n5. A template with placeholders renders and counts its uses")
    with db.unit_of_work() as uow:
        crud = uow.templates.add(
            Template(
                name="CRUD entity",
                category=TemplateCategory.DATA,
                template_text="Add the {{entity}} entity with fields {{fields}} to {{layer}}.",
            )
        )
        placeholders = [
            TemplatePlaceholder(
                template_id=crud.id,
                name="entity",
                display_name="Entity",
                required_at=uow.clock.now(),
                validation_pattern="[A-Z][A-Za-z]+",
            ),
            TemplatePlaceholder(template_id=crud.id, name="fields", display_name="Fields"),
            TemplatePlaceholder(
                template_id=crud.id, name="layer", display_name="Layer", default_value="the API"
            ),
        ]
        for placeholder in placeholders:
            uow.template_placeholders.add(placeholder)
        text = workspace.render(uow, crud.id, {"entity": "Invoice", "fields": "number, total"})
        say(f"rendered: {text}")
        refused(
            "rendering with entity='invoice'",
            lambda: workspace.render(uow, crud.id, {"entity": "invoice"}),
        )
        say(f"usage_count = {uow.templates.get(crud.id).usage_count}")
        uow.commit()

    print("\n6. Tasks wait for their dependencies; agents claim the ready ones, one each")
    with db.unit_of_work() as uow:
        sign_in = uow.initiatives.add(Initiative(project_id=keel.id, name="Sign-in"))
        design, build = (
            uow.tasks.add(
                Task(project_id=keel.id, initiative_id=sign_in.id, name=name, order_index=n)
            )
            for n, name in enumerate(["Design the schema", "Build the endpoints"])
        )
        uow.task_dependencies.create(build.id, design.id)
        refused(
            "making the design wait for the build (a cycle)",
            lambda: uow.task_dependencies.create(design.id, build.id),
        )
        ready = uow.tasks.ready_tasks(initiative_id=sign_in.id)
        say(f"ready: {[task.name for task in ready]}")
        account = uow.accounts.add(Account(email="ci@example.com", credentials="not shown"))
        coder = uow.agents.add(Agent(account_id=account.id))  # an alias is generated
        tester = uow.agents.add(Agent(account_id=account.id))
        lease = timedelta(minutes=5)
        claimed = planning.claim_next_ready_task(
            uow, coder.id, initiative_id=sign_in.id, lease=lease
        )
        assert claimed is not None
        say(f"{coder.name} claims {claimed.name!r}, leased until {claimed.claimed_until:%H:%M}")
        if planning.claim_next_ready_task(uow, tester.id, initiative_id=sign_in.id) is None:
            say(f"{tester.name} finds nothing to claim: the build waits for the design")
        uow.tasks.complete(design.id, "users(id, email), sessions(user_id, expires_at)")
        after = planning.claim_next_ready_task(uow, tester.id, initiative_id=sign_in.id)
        assert after is not None
        context = [task.summary for task in uow.tasks.dependency_context(after.id)]
        say(f"then {tester.name} claims {after.name!r}, with its context: {context}")
        docs = uow.tasks.add(
            Task(project_id=keel.id, initiative_id=sign_in.id, name="Write the docs", order_index=2)
        )
        uow.tasks.move_to(docs.id, TaskStatus.BLOCKED, blocked_by="which docs tool? ask a person")
        say(f"{docs.name!r} is blocked: it needs a person (tasks.needing_attention)")
        uow.commit()
    with db.unit_of_work(read_only=True) as uow:
        logged = uow.event_log.read_after(0, 1_000)
        kinds = sorted({entry.event_type for entry in logged})
        say(f"the event log holds every committed event: {len(logged)} so far, of {kinds}")

    print("\n7. A planning workflow runs its first step, on the agent that built the endpoints")
    with db.unit_of_work() as uow:
        flow = uow.workflows.add(
            Workflow(
                project_id=keel.id,
                type=WorkflowType.PLANNING,
                feature_name="Password reset",
                feature_request="Let users reset a forgotten password by email",
            )
        )
        uow.workflows.start(flow.id)
        steps = [
            uow.workflow_steps.add(
                WorkflowStep(workflow_id=flow.id, step_type=kind, step_number=n, title=title)
            )
            for n, (kind, title) in enumerate(
                [(StepType.CLARIFICATION, "Clarify the request"), (StepType.PLANNING, "Plan")],
                start=1,
            )
        ]
        uow.workflow_steps.start(steps[0].id, agent_id=tester.id)
        say(f"workflow {flow.feature_name!r} is {uow.workflows.get(flow.id).status.value}")
        uow.commit()

    print("\n8. Archiving hides a project from listings; a hard delete is audited")
    with db.unit_of_work() as uow:
        old = uow.projects.add(Project(name="Old experiment"))
        uow.projects.archive(old.id)
        say(
            f"listed: {[p.name for p in uow.projects.list()]}; "
            f"with archived: {[p.name for p in uow.projects.list(include_archived=True)]}"
        )
        removed = uow.projects.delete(old.id)
        say(f"deleted project Old experiment, rows removed per table: {removed}")
        [entry] = uow.audit_logs.list(entity_type="project", entity_id=old.id)
        say(f"audit entry {entry.event_type}: {entry.message}")
        say(f"purged by retention: {audit.purge_audit_logs(uow)} entries")
        uow.commit()
    db.close()
    print("\nDone. See what it left with: agentkeel status (and agentkeel events, audit)")
