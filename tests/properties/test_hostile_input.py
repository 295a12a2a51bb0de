"""Hostile input to every port method of the workspace and audit contexts.

Each example calls one method with one hostile value in one argument, on every backend, in
a unit of work that is then rolled back. Every call must either succeed or raise a domain
error, the same (type and message) on every backend; never a driver's, SQLAlchemy's,
pydantic's or Python's own exception, and never a hang.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from agentkeel.database import Database
from agentkeel.domain.audit import AuditEntry
from agentkeel.domain.errors import DomainError
from agentkeel.domain.planning import (
    ChangeAction,
    ChangedEntity,
    ChangeSet,
    ChangeSetEntry,
    ChatRole,
    ChatSession,
    ChatTarget,
    Proposal,
    ProposalStatus,
    ProposalTarget,
)
from agentkeel.domain.workspace import (
    Project,
    Repository,
    Template,
    TemplatePlaceholder,
    Worktree,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import audit, planning, workspace
from tests.conftest import POSTGRES_URL
from tests.properties.harness import EqualBackends, Outcome, assert_agree, outcome_of, workdir


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


PLUS_5 = timezone(timedelta(hours=5))
MINUS_5 = timezone(timedelta(hours=-5))

# The families the foundation's probes found raw exceptions with, and their relatives.
EDGE_VALUES: list[Any] = [
    None,
    "",
    "   ",
    "a\x00b",
    "lone \ud800",
    "'; DROP TABLE projects;--",
    "%_\\",
    "api\u200b",
    "🚢" * 700,
    "x" * 5000,
    "x" * 1_000_001,
    "(a+)+$",
    "(",
    "a" * 40 + "!",
    float("nan"),
    float("inf"),
    -float("inf"),
    1.5,
    -1,
    0,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**400,
    10**5000,
    True,
    b"bytes",
    [],
    {},
    {1: "a"},
    (1, 2),
    {"set"},
    nested(1_000),
    nested(100_000),
    {"k": nested(70)},
    datetime(2026, 1, 1),
    datetime(1, 1, 1, 1, tzinfo=PLUS_5),
    datetime.max.replace(tzinfo=MINUS_5),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime.max.replace(tzinfo=UTC),
    object(),
    "bogus",
]
HOSTILE = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.text(max_size=20),
    st.integers(),
    st.floats(),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=10,
    ),
)

Call = Callable[[UnitOfWork, Any], object]


class Known:
    """Ids of the rows every backend holds (same ids everywhere)."""

    project = "project-1"
    repository = "repository-1"
    template = "template-1"
    initiative = "initiative-1"
    agent = "agent-1"
    phase = "phase-1"
    task = "task-1"
    page = "page-1"
    proposal = "proposal-1"
    session = "session-1"
    change_set = "change-set-1"


class Built:
    """A call whose hostile value goes into an entity: the entity is built once (so that
    every backend gets the same id), and a refusal to build it is the outcome everywhere."""

    def __init__(self, build: Callable[[Any], Any], call: Call) -> None:
        self.build, self.call = build, call


# Every method, with the hostile value `x` in one argument (the rest valid).
CALLS: dict[str, Call | Built] = {
    "projects.add(name)": Built(lambda x: Project(name=x), lambda uow, e: uow.projects.add(e)),
    "projects.add(archived_at)": Built(
        lambda x: Project(name="p", archived_at=x), lambda uow, e: uow.projects.add(e)
    ),
    "projects.get": lambda uow, x: uow.projects.get(x),
    "projects.find": lambda uow, x: uow.projects.find(x),
    "projects.update(id)": lambda uow, x: update(uow.projects, Known.project, "id", x),
    "projects.delete": lambda uow, x: uow.projects.delete(x),
    "projects.archive": lambda uow, x: uow.projects.archive(x),
    "projects.unarchive": lambda uow, x: uow.projects.unarchive(x),
    "projects.list(limit)": lambda uow, x: uow.projects.list(limit=x),
    "projects.list(offset)": lambda uow, x: uow.projects.list(offset=x),
    "projects.update(description)": lambda uow, x: update(
        uow.projects, Known.project, "description", x
    ),
    "projects.update(completed_at)": lambda uow, x: update(
        uow.projects, Known.project, "completed_at", x
    ),
    "repositories.add(path)": Built(
        lambda x: Repository(project_id=Known.project, name="r", path=x),
        lambda uow, e: uow.repositories.add(e),
    ),
    "repositories.add(project_id)": Built(
        lambda x: Repository(project_id=x, name="r", path="/r"),
        lambda uow, e: uow.repositories.add(e),
    ),
    "repositories.list": lambda uow, x: uow.repositories.list(project_id=x),
    "repositories.find_by_name": lambda uow, x: uow.repositories.find_by_name(Known.project, x),
    "repositories.find_by_url": lambda uow, x: uow.repositories.find_by_url(x),
    "repositories.default_of": lambda uow, x: uow.repositories.default_of(x),
    "repositories.set_default": lambda uow, x: uow.repositories.set_default(x),
    "repositories.mark_fetched": lambda uow, x: uow.repositories.mark_fetched(x),
    "repositories.update(name)": lambda uow, x: update(
        uow.repositories, Known.repository, "name", x
    ),
    "worktrees.add(path)": Built(
        lambda x: Worktree(repository_id=Known.repository, path=x, branch_name="b"),
        lambda uow, e: uow.worktrees.add(e),
    ),
    "worktrees.list(status)": lambda uow, x: uow.worktrees.list(status=x),
    "worktrees.find_by_path": lambda uow, x: uow.worktrees.find_by_path(x),
    "worktrees.move_to": lambda uow, x: uow.worktrees.move_to(x, "removed"),  # type: ignore[arg-type]
    "settings.list": lambda uow, x: uow.settings.list(category=x),
    "settings.by_key": lambda uow, x: uow.settings.by_key(x),
    "settings.value": lambda uow, x: uow.settings.value(x),
    "settings.value_as": lambda uow, x: uow.settings.value_as("logging.retentionDays", x),
    "settings.set_value(json)": lambda uow, x: uow.settings.set_value("advanced.payload", x),
    "settings.set_value(number)": lambda uow, x: workspace.change_setting(
        uow, "logging.retentionDays", x
    ),
    "settings.set_value(string)": lambda uow, x: uow.settings.set_value(
        "logging.exportLocation", x
    ),
    "settings.reset": lambda uow, x: uow.settings.reset(x),
    "settings.update(value)": lambda uow, x: update_setting(uow, x),
    "templates.add(text)": Built(
        lambda x: Template(name="t2", category="data", template_text=x),  # type: ignore[arg-type]
        lambda uow, e: uow.templates.add(e),
    ),
    "templates.list": lambda uow, x: uow.templates.list(category=x),
    "templates.find_by_name": lambda uow, x: uow.templates.find_by_name(x),
    "template_placeholders.list": lambda uow, x: uow.template_placeholders.list(template_id=x),
    "template_placeholders.add(pattern)": Built(
        lambda x: TemplatePlaceholder(
            template_id=Known.template, name="extra", display_name="E", validation_pattern=x
        ),
        lambda uow, e: uow.template_placeholders.add(e),
    ),
    "templates.record_use": lambda uow, x: uow.templates.record_use(x),
    "render(values)": lambda uow, x: workspace.render(uow, Known.template, x),
    "render(one value)": lambda uow, x: workspace.render(uow, Known.template, {"thing": x}),
    "audit_logs.add(event_data)": Built(
        lambda x: AuditEntry(event_type="t", event_category="record", message="m", event_data=x),  # type: ignore[arg-type]
        lambda uow, e: uow.audit_logs.add(e),
    ),
    "audit_logs.get": lambda uow, x: uow.audit_logs.get(x),
    "audit_logs.list(since)": lambda uow, x: uow.audit_logs.list(since=x),
    "audit_logs.list(entity_id)": lambda uow, x: uow.audit_logs.list(entity_id=x),
    "audit_logs.purge_before": lambda uow, x: uow.audit_logs.purge_before(x),
    "purge_audit_logs": lambda uow, x: audit.purge_audit_logs(uow),
    # planning: proposals, review comments, chat, change sets
    "proposals.add(target_id)": Built(
        lambda x: Proposal(
            agent_id=Known.agent,
            initiative_id=Known.initiative,
            target_type=ProposalTarget.TASK,
            target_id=x,
            title="t",
        ),
        lambda uow, e: uow.proposals.add(e),
    ),
    "proposals.add(details)": Built(
        lambda x: Proposal(
            agent_id=Known.agent,
            initiative_id=Known.initiative,
            target_type=ProposalTarget.TASK,
            title="t",
            details=x,
        ),
        lambda uow, e: uow.proposals.add(e),
    ),
    "proposals.find_by_agent_and_status(agent_id)": lambda uow, x: (
        uow.proposals.find_by_agent_and_status(x)
    ),
    "proposals.find_by_agent_and_status(status)": lambda uow, x: (
        uow.proposals.find_by_agent_and_status(Known.agent, x)
    ),
    "proposals.count_by_agent_and_status(agent_id)": lambda uow, x: (
        uow.proposals.count_by_agent_and_status(x, ProposalStatus.PENDING)
    ),
    "proposals.count_by_agent_and_status(status)": lambda uow, x: (
        uow.proposals.count_by_agent_and_status(Known.agent, x)
    ),
    "proposals.update_many_by_agent(agent_id)": lambda uow, x: uow.proposals.update_many_by_agent(
        x, status=ProposalStatus.DISMISSED
    ),
    "proposals.update_many_by_agent(status)": lambda uow, x: uow.proposals.update_many_by_agent(
        Known.agent, status=x
    ),
    "proposals.update_many_by_agent(from_status)": lambda uow, x: (
        uow.proposals.update_many_by_agent(
            Known.agent, status=ProposalStatus.DISMISSED, from_status=x
        )
    ),
    "accept_proposal": lambda uow, x: accepted(planning.accept_proposal(uow, x)),
    "accept_proposal(details)": lambda uow, x: accept_with_details(uow, x),
    "review_comments.find_by_phase": lambda uow, x: uow.review_comments.find_by_phase(x),
    "review_comments.find_by_phase(include_resolved)": lambda uow, x: (
        uow.review_comments.find_by_phase(Known.phase, include_resolved=x)
    ),
    "review_comments.resolve": lambda uow, x: uow.review_comments.resolve(x),
    "review_comments.unresolve": lambda uow, x: uow.review_comments.unresolve(x),
    "chat_sessions.create_session(target_id)": Built(
        lambda x: ChatSession(
            target_type=ChatTarget.TASK, target_id=x, initiative_id=Known.initiative
        ),
        lambda uow, e: uow.chat_sessions.create_session(e),
    ),
    "chat_sessions.find_active_session(target_type)": lambda uow, x: (
        uow.chat_sessions.find_active_session(x, Known.phase)
    ),
    "chat_sessions.find_active_session(target_id)": lambda uow, x: (
        uow.chat_sessions.find_active_session(ChatTarget.PHASE, x)
    ),
    "chat_sessions.find_active_session_by_agent": lambda uow, x: (
        uow.chat_sessions.find_active_session_by_agent(x)
    ),
    "chat_sessions.update_session(key)": lambda uow, x: uow.chat_sessions.update_session(x),
    "chat_sessions.update_session(agent_id)": lambda uow, x: uow.chat_sessions.update_session(
        Known.session, agent_id=x
    ),
    "chat_sessions.update_session(status)": lambda uow, x: uow.chat_sessions.update_session(
        Known.session, status=x
    ),
    "chat_sessions.close_session": lambda uow, x: uow.chat_sessions.close_session(x),
    "chat_messages.create_message(session_id)": lambda uow, x: content_of(
        uow.chat_messages.create_message(x, ChatRole.USER, "hi")
    ),
    "chat_messages.create_message(role)": lambda uow, x: content_of(
        uow.chat_messages.create_message(Known.session, x, "hi")
    ),
    "chat_messages.create_message(content)": lambda uow, x: content_of(
        uow.chat_messages.create_message(Known.session, ChatRole.USER, x)
    ),
    "chat_messages.create_message(change_set_id)": lambda uow, x: content_of(
        uow.chat_messages.create_message(Known.session, ChatRole.ASSISTANT, "hi", x)
    ),
    "chat_messages.find_messages_by_session": lambda uow, x: (
        uow.chat_messages.find_messages_by_session(x)
    ),
    "change_sets.record(entity_id)": lambda uow, x: uow.change_sets.record(
        ChangeSet(id="change-set-new", initiative_id=Known.initiative),
        [
            ChangeSetEntry(
                change_set_id="change-set-new",
                entity_type=ChangedEntity.PAGE,
                entity_id=x,
                action=ChangeAction.CREATE,
                after_state={"id": x},
            )
        ],
    ),
    "change_sets.record(after_state)": lambda uow, x: uow.change_sets.record(
        ChangeSet(id="change-set-new", initiative_id=Known.initiative),
        [
            ChangeSetEntry(
                change_set_id="change-set-new",
                entity_type=ChangedEntity.PAGE,
                entity_id=Known.page,
                action=ChangeAction.CREATE,
                after_state=x,
            )
        ],
    ),
    "change_sets.entries": lambda uow, x: uow.change_sets.entries(x),
    "change_sets.find_by_initiative": lambda uow, x: uow.change_sets.find_by_initiative(x),
    "change_sets.revert": lambda uow, x: uow.change_sets.revert(x),
    "change_set_entries.find_by_change_set": lambda uow, x: (
        uow.change_set_entries.find_by_change_set(x)
    ),
}


def accepted(result: planning.AcceptedProposal) -> object:
    """What every backend gives alike (the change set's id is new on each)."""
    return result.proposal, result.target, result.change_set.description


def content_of(message: Any) -> object:
    """A new message without its id (new on each backend)."""
    return {**message.model_dump(), "id": None}


def accept_with_details(uow: UnitOfWork, details: Any) -> object:
    proposal = uow.proposals.get(Known.proposal)
    proposal.details = details
    uow.proposals.update(proposal)
    return accepted(planning.accept_proposal(uow, proposal.id))


def update(repository: Any, key: str, field: str, value: Any) -> object:
    entity = repository.get(key)
    setattr(entity, field, value)
    return repository.update(entity)


def update_setting(uow: UnitOfWork, value: Any) -> object:
    setting = uow.settings.by_key("advanced.payload")
    setting.value = value
    return uow.settings.update(setting)


def populate(uow: UnitOfWork) -> None:
    from agentkeel.domain.workspace import Setting, SettingCategory, SettingValueType

    project = uow.projects.add(Project(id=Known.project, name="Keel"))
    uow.repositories.add(
        Repository(id=Known.repository, project_id=project.id, name="api", path="/api")
    )
    template = uow.templates.add(
        Template(
            id=Known.template,
            name="CRUD",
            category="data",  # type: ignore[arg-type]
            template_text="Make {{thing}}",
        )
    )
    uow.template_placeholders.add(
        TemplatePlaceholder(
            id="placeholder-1",
            template_id=template.id,
            name="thing",
            display_name="Thing",
            validation_pattern="[a-z]+",
        )
    )
    uow.settings.add(
        Setting(
            id="setting-payload",
            key="advanced.payload",
            value="{}",
            value_type=SettingValueType.JSON,
            category=SettingCategory.ADVANCED,
            display_name="Payload",
        )
    )
    populate_planning(uow)


def populate_planning(uow: UnitOfWork) -> None:
    from agentkeel.domain.agents import Agent
    from agentkeel.domain.planning import Initiative, Page, Phase, ReviewComment, Task

    uow.agents.add(Agent(id=Known.agent, name="planner"))
    initiative = uow.initiatives.add(
        Initiative(id=Known.initiative, project_id=Known.project, name="Auth")
    )
    uow.phases.add(Phase(id=Known.phase, initiative_id=initiative.id, name="Design"))
    uow.tasks.add(
        Task(id=Known.task, project_id=Known.project, initiative_id=initiative.id, name="Do")
    )
    uow.pages.add(Page(id=Known.page, initiative_id=initiative.id, title="Root"))
    uow.proposals.add(
        Proposal(
            id=Known.proposal,
            agent_id=Known.agent,
            initiative_id=initiative.id,
            target_type=ProposalTarget.TASK,
            target_id=Known.task,
            title="Rename",
        )
    )
    uow.review_comments.add(
        ReviewComment(
            id="comment-1",
            phase_id=Known.phase,
            file_path="a.py",
            line_number=1,
            line_type="added",  # type: ignore[arg-type]
            body="why?",
        )
    )
    uow.chat_sessions.add(
        ChatSession(
            id=Known.session,
            target_type=ChatTarget.PHASE,
            target_id=Known.phase,
            initiative_id=initiative.id,
            agent_id=Known.agent,
        )
    )
    uow.change_sets.add(ChangeSet(id=Known.change_set, initiative_id=initiative.id))


BACKENDS = ["memory", "sqlite"] + (["postgres"] if POSTGRES_URL else [])


@pytest.fixture
def backends(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> Iterator[dict[str, Database]]:
    postgres: Engine | None = request.getfixturevalue("postgres_engine") if POSTGRES_URL else None
    with workdir() as folder:
        dbs = EqualBackends(sqlite_template, postgres, folder).open()
        for db in dbs.values():
            with db.unit_of_work() as uow:
                populate(uow)
                uow.commit()
        try:
            yield dbs
        finally:
            EqualBackends.close(dbs)


@pytest.mark.parametrize(
    "_", [pytest.param(None, marks=[getattr(pytest.mark, b) for b in BACKENDS])]
)
@settings(
    # Examples are cheap (most are refused before any backend is asked): five times the
    # profile's number.
    max_examples=settings().max_examples * 5,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=st.sampled_from(sorted(CALLS)), value=HOSTILE)
def test_hostile_values_get_a_domain_error_or_round_trip_alike(
    _: None, backends: dict[str, Database], call: str, value: Any
) -> None:
    entry = CALLS[call]
    if isinstance(entry, Built):
        try:
            argument = entry.build(value)
        except DomainError:
            return  # refused by the domain, before any backend is involved
        method = entry.call
    else:
        method, argument = entry, value
    outcomes: dict[str, Outcome] = {}
    for name, db in backends.items():
        with db.unit_of_work() as uow:  # rolled back: every example starts from the same rows
            outcomes[name] = outcome_of(lambda uow: method(uow, argument), uow)
    assert_agree(outcomes)


def test_every_call_is_tried() -> None:
    """Each port method of the workspace and audit contexts has an entry above: every
    port's own methods, and the generic ones (shared by all ports) on one port at least."""
    from agentkeel.ports.audit import AuditLogs
    from agentkeel.ports.base import EntityRepository
    from agentkeel.ports.planning import (
        ChangeSetEntries,
        ChangeSets,
        ChatMessages,
        ChatSessions,
        Proposals,
        ReviewComments,
    )
    from agentkeel.ports.workspace import (
        Projects,
        Repositories,
        Settings,
        TemplatePlaceholders,
        Templates,
        Worktrees,
    )

    ports: dict[str, type] = {
        "projects": Projects,
        "repositories": Repositories,
        "worktrees": Worktrees,
        "settings": Settings,
        "templates": Templates,
        "template_placeholders": TemplatePlaceholders,
        "audit_logs": AuditLogs,
        "proposals": Proposals,
        "review_comments": ReviewComments,
        "chat_sessions": ChatSessions,
        "chat_messages": ChatMessages,
        "change_sets": ChangeSets,
        "change_set_entries": ChangeSetEntries,
    }
    tried = {name.split("(")[0] for name in CALLS}
    generic = {name for name in dir(EntityRepository) if not name.startswith("_")}
    for prefix, port in ports.items():
        own = {name for name in dir(port) if not name.startswith("_")} - generic
        for method in own:
            assert f"{prefix}.{method}" in tried, f"{prefix}.{method} is not fed hostile input"
    for method in generic - {"count"}:  # count takes no argument
        assert any(name.endswith(f".{method}") for name in tried), f"no port's {method} is"
