"""Hostile input to every port method of the workspace, audit and agents contexts, and of the
planning and workflows ports listed in `test_every_call_is_tried`.

Each example calls one method with one hostile value in one argument, on every backend, in
a unit of work that is then rolled back. Every call must either succeed or raise a domain
error, the same (type and message) on every backend; never a driver's, SQLAlchemy's,
pydantic's or Python's own exception, and never a hang.
"""

from __future__ import annotations

import inspect
import typing
from collections import Counter, abc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import JsonValue
from sqlalchemy import Engine

from agentkeel.database import Database
from agentkeel.domain.agents import (
    Account,
    Agent,
    AgentLogChunk,
    AgentProfile,
    AgentProfileSkill,
    AgentProfileTool,
    Conversation,
    InteractionSession,
    Message,
    Metric,
    Party,
    SessionType,
)
from agentkeel.domain.audit import AuditEntry, EventConsumer
from agentkeel.domain.backlog import Checkpoint, Feature, Requirement, SubFeature
from agentkeel.domain.errors import DomainError, EventsPurged, InvalidValue, shown
from agentkeel.domain.events import LoggedEvent
from agentkeel.domain.planning import (
    ChangeAction,
    ChangedEntity,
    ChangeSet,
    ChangeSetEntry,
    ChatRole,
    ChatSession,
    ChatTarget,
    Errand,
    Initiative,
    Page,
    Phase,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    Task,
)
from agentkeel.domain.workflows import (
    ImplementationPlanStep,
    StepType,
    Workflow,
    WorkflowStep,
    WorkflowType,
)
from agentkeel.domain.workspace import (
    Project,
    Repository,
    Setting,
    SettingCategory,
    SettingValueType,
    Template,
    TemplatePlaceholder,
    Worktree,
)
from agentkeel.ports.unit_of_work import UnitOfWork
from agentkeel.services import (
    audit,
    backlog,
    planning,
    recovery,
    retention,
    workflows,
    workspace,
)
from agentkeel.services.events import EventLogReader
from tests.conftest import POSTGRES_URL
from tests.figures import Figures
from tests.properties.harness import (
    EqualBackends,
    Outcome,
    assert_agree,
    normalise,
    numbered_ids,
    on_every_backend,
    outcome_of,
    workdir,
)


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


# JSON text nested past what Python's parser can read (a setting's value is JSON text).
DEEP_JSON_TEXT = "[" * 50_000 + "]" * 50_000
# A bad enum value: the name of a member of several enums (`ACTIVE`), not a member's value.
BAD_ENUM_VALUE = "ACTIVE"


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
    BAD_ENUM_VALUE,
    DEEP_JSON_TEXT,
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


LEASE = timedelta(minutes=5)


class Known:
    """Ids of the rows every backend holds (same ids everywhere)."""

    project = "project-1"
    repository = "repository-1"
    template = "template-1"
    profile = "profile-1"
    tool = "tool-1"
    skill = "skill-1"
    agent = "agent-1"
    other_agent = "agent-2"
    conversation = "conversation-1"
    message = "message-1"
    session = "session-1"
    account = "account-1"
    initiative = "initiative-1"
    page = "page-1"
    errand = "errand-1"
    phase = "phase-1"
    other_phase = "phase-2"
    task = "task-1"
    busy_task = "task-2"
    proposal = "proposal-1"
    change_set = "change-set-1"
    feature = "feature-1"
    sub_feature = "sub-feature-1"
    requirement = "requirement-1"
    checkpoint = "checkpoint-1"
    workflow = "workflow-1"
    planning_workflow = "workflow-2"
    step = "step-1"
    pending_step = "step-2"
    worktree = "worktree-1"
    paused_step = "step-3"
    failed_step = "step-4"


class OnDatabase:
    """A call of the `Database` itself (`unit_of_work(source=...)`), made outside any unit
    of work."""

    def __init__(self, call: Callable[[Database, Any], object]) -> None:
        self.call = call


class Built:
    """A call whose hostile value goes into an entity: the entity is built once (so that
    every backend gets the same id), and a refusal to build it is the outcome everywhere."""

    def __init__(self, build: Callable[[Any], Any], call: Call) -> None:
        self.build, self.call = build, call


# Every method, with the hostile value `x` in one argument (the rest valid).
CALLS: dict[str, Call | Built | OnDatabase] = {
    # A unit of work is made (not entered: its source is checked when it is made); the
    # transaction's function writes nothing, so that no example changes what the next sees.
    "db.unit_of_work(source)": OnDatabase(lambda db, x: db.unit_of_work(source=x).source),
    "db.transaction(source)": OnDatabase(
        lambda db, x: db.transaction(lambda uow: uow.source, source=x)
    ),
    "projects.add(name)": Built(lambda x: Project(name=x), lambda uow, e: uow.projects.add(e)),
    "tasks.add_many(entities)": lambda uow, x: uow.tasks.add_many(x),
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
    "worktrees.move_to(status)": lambda uow, x: uow.worktrees.move_to(Known.worktree, x),
    "settings.list(category)": lambda uow, x: uow.settings.list(category=x),
    "settings.by_key": lambda uow, x: uow.settings.by_key(x),
    "settings.value": lambda uow, x: uow.settings.value(x),
    "settings.value_as": lambda uow, x: uow.settings.value_as("logging.retentionDays", x),
    "settings.set_value(value: json)": lambda uow, x: uow.settings.set_value("advanced.payload", x),
    "change_setting(value: number)": lambda uow, x: uow.settings.set_value(
        "logging.retentionDays", x
    ),
    "settings.set_value(value: string)": lambda uow, x: uow.settings.set_value(
        "logging.exportLocation", x
    ),
    "settings.add(value)": Built(
        lambda x: Setting(
            key="advanced.extra",
            value=x,
            value_type=SettingValueType.JSON,
            category=SettingCategory.ADVANCED,
            display_name="Extra",
        ),
        lambda uow, e: uow.settings.add(e),
    ),
    "settings.reset": lambda uow, x: uow.settings.reset(x),
    "settings.update(value)": lambda uow, x: update_setting(uow, x),
    "templates.add(text)": Built(
        lambda x: Template(name="t2", category="data", template_text=x),  # type: ignore[arg-type]
        lambda uow, e: uow.templates.add(e),
    ),
    "templates.list(category)": lambda uow, x: uow.templates.list(category=x),
    "templates.find_by_name": lambda uow, x: uow.templates.find_by_name(x),
    "template_placeholders.list": lambda uow, x: uow.template_placeholders.list(template_id=x),
    "template_placeholders.add(pattern)": Built(
        lambda x: TemplatePlaceholder(
            template_id=Known.template, name="extra", display_name="E", validation_pattern=x
        ),
        lambda uow, e: uow.template_placeholders.add(e),
    ),
    "templates.record_use": lambda uow, x: uow.templates.record_use(x),
    "templates.deactivate": lambda uow, x: uow.templates.deactivate(x),
    "templates.reactivate": lambda uow, x: uow.templates.reactivate(x),
    "render(values)": lambda uow, x: workspace.render(uow, Known.template, x),
    "render(one value)": lambda uow, x: workspace.render(uow, Known.template, {"thing": x}),
    "audit_logs.add(event_data)": Built(
        lambda x: AuditEntry(event_type="t", event_category="record", message="m", event_data=x),  # type: ignore[arg-type]
        lambda uow, e: uow.audit_logs.add(e),
    ),
    "audit_logs.get": lambda uow, x: uow.audit_logs.get(x),
    "audit_logs.list(since)": lambda uow, x: uow.audit_logs.list(since=x),
    "audit_logs.list(entity_id)": lambda uow, x: uow.audit_logs.list(entity_id=x),
    "audit_logs.list(category)": lambda uow, x: uow.audit_logs.list(category=x),
    "audit_logs.list(workflow_id)": lambda uow, x: uow.audit_logs.list(workflow_id=x),
    "audit_logs.list(after)": lambda uow, x: uow.audit_logs.list(after=x),
    "audit_logs.list(limit)": lambda uow, x: uow.audit_logs.list(limit=x),
    "audit_logs.purge_before": lambda uow, x: uow.audit_logs.purge_before(x),
    # Sequence numbers may skip differently per backend (a rolled-back unit of work uses
    # up PostgreSQL's): events are compared without them.
    "event_log.read_after(sequence)": lambda uow, x: events_of(uow.event_log.read_after(x)),
    "event_log.read_after(limit)": lambda uow, x: events_of(uow.event_log.read_after(0, x)),
    "event_log.last_sequence": lambda uow, x: last_sequence_is_the_newest(uow),
    "purge_audit_logs": lambda uow, x: audit.purge_audit_logs(uow),
    "agent_log_chunks.append(contents)": lambda uow, x: uow.agent_log_chunks.append(
        "agent-1", "brave-otter", 1, x
    ),
    "agent_log_chunks.append(one content)": lambda uow, x: uow.agent_log_chunks.append(
        "agent-1", "brave-otter", 1, ["first", x]
    ),
    "agent_log_chunks.append(agent_id)": lambda uow, x: uow.agent_log_chunks.append(
        x, "brave-otter", 1, ["x"]
    ),
    "agent_log_chunks.append(agent_name)": lambda uow, x: uow.agent_log_chunks.append(
        "agent-1", x, 1, ["x"]
    ),
    "agent_log_chunks.append(session_number)": lambda uow, x: uow.agent_log_chunks.append(
        "agent-1", "brave-otter", x, ["x"]
    ),
    "agent_log_chunks.insert_chunk(content)": lambda uow, x: without_id(
        uow.agent_log_chunks.insert_chunk("agent-1", "brave-otter", 1, x)
    ),
    "agent_log_chunks.insert_chunk(session_number)": lambda uow, x: without_id(
        uow.agent_log_chunks.insert_chunk("agent-1", "brave-otter", x, "text")
    ),
    "agent_log_chunks.get": lambda uow, x: uow.agent_log_chunks.get(x),
    "agent_log_chunks.find_by_agent": lambda uow, x: uow.agent_log_chunks.find_by_agent(x),
    "agent_log_chunks.find_by_agent(after)": lambda uow, x: uow.agent_log_chunks.find_by_agent(
        "agent-a", after=x
    ),
    "agent_log_chunks.find_by_agent(limit)": lambda uow, x: uow.agent_log_chunks.find_by_agent(
        "agent-a", limit=x
    ),
    "agent_log_chunks.find_by_agents(agent_ids)": lambda uow, x: (
        uow.agent_log_chunks.find_by_agents(x)
    ),
    "agent_log_chunks.find_by_agents(one id)": lambda uow, x: uow.agent_log_chunks.find_by_agents(
        ["agent-1", x]
    ),
    "agent_log_chunks.delete_by_agent": lambda uow, x: uow.agent_log_chunks.delete_by_agent(x),
    "agent_log_chunks.session_count": lambda uow, x: uow.agent_log_chunks.session_count(x),
    "agent_log_chunks.update": Built(
        lambda x: AgentLogChunk(agent_id="agent-1", agent_name="n", content=x),
        lambda uow, e: uow.agent_log_chunks.update(e),
    ),
    "agent_log_chunks.delete": lambda uow, x: uow.agent_log_chunks.delete(x),
    "metrics.record(value)": Built(
        lambda x: Metric(project_id=Known.project, type="token_usage", value=x),  # type: ignore[arg-type]
        lambda uow, e: uow.metrics.record(e),
    ),
    "metrics.record(details)": Built(
        lambda x: Metric(project_id=Known.project, type="qa_iterations", value=1, details=x),  # type: ignore[arg-type]
        lambda uow, e: uow.metrics.record(e),
    ),
    "metrics.record(timestamp)": Built(
        lambda x: Metric(project_id=Known.project, type="task_duration", value=1, timestamp=x),  # type: ignore[arg-type]
        lambda uow, e: uow.metrics.record(e),
    ),
    "metrics.record(project_id)": Built(
        lambda x: Metric(project_id=x, type="token_usage", value=1),  # type: ignore[arg-type]
        lambda uow, e: uow.metrics.record(e),
    ),
    "metrics.list(type)": lambda uow, x: uow.metrics.list(type=x),
    "metrics.list(since)": lambda uow, x: uow.metrics.list(since=x),
    "metrics.list(until)": lambda uow, x: uow.metrics.list(until=x),
    "metrics.list(limit)": lambda uow, x: uow.metrics.list(limit=x),
    "metrics.list(after)": lambda uow, x: uow.metrics.list(after=x),
    "metrics.tokens_by_agent": lambda uow, x: uow.metrics.tokens_by_agent(x),
    "metrics.tokens_by_agent(since)": lambda uow, x: uow.metrics.tokens_by_agent(
        Known.project, since=x
    ),
    "metrics.tokens_by_project(until)": lambda uow, x: uow.metrics.tokens_by_project(until=x),
    "metrics.task_duration_percentiles(percentiles)": lambda uow, x: (
        uow.metrics.task_duration_percentiles(x)
    ),
    "metrics.task_duration_percentiles(one)": lambda uow, x: uow.metrics.task_duration_percentiles(
        [50, x]
    ),
    "metrics.task_duration_percentiles(project_id)": lambda uow, x: (
        uow.metrics.task_duration_percentiles(project_id=x)
    ),
    "metrics.qa_iterations_by_task": lambda uow, x: uow.metrics.qa_iterations_by_task(x),
    "metrics.qa_iterations_by_task(until)": lambda uow, x: uow.metrics.qa_iterations_by_task(
        Known.project, until=x
    ),
    "metrics.get": lambda uow, x: uow.metrics.get(x),
    "metrics.update(value)": lambda uow, x: update(uow.metrics, "metric-1", "value", x),
    "metrics.delete": lambda uow, x: uow.metrics.delete(x),
    "agent_profiles.add(system_prompt)": Built(
        lambda x: AgentProfile(name="p2", display_name="P", type="review", system_prompt=x),  # type: ignore[arg-type]
        lambda uow, e: uow.agent_profiles.add(e),
    ),
    "agent_profiles.add(project_id)": Built(
        lambda x: AgentProfile(
            name="p2",
            display_name="P",
            type="review",  # type: ignore[arg-type]
            system_prompt="s",
            project_id=x,
        ),
        lambda uow, e: uow.agent_profiles.add(e),
    ),
    "agent_profiles.update(version)": lambda uow, x: update(
        uow.agent_profiles, Known.profile, "version", x
    ),
    "agent_profiles.update(color)": lambda uow, x: update(
        uow.agent_profiles, Known.profile, "color", x
    ),
    "agent_profiles.list(project_id)": lambda uow, x: uow.agent_profiles.list(project_id=x),
    "agent_profiles.list(type)": lambda uow, x: uow.agent_profiles.list(type=x),
    "agent_profiles.list(include_global)": lambda uow, x: uow.agent_profiles.list(
        project_id=Known.project, include_global=x
    ),
    "agent_profiles.list(include_deactivated)": lambda uow, x: uow.agent_profiles.list(
        include_deactivated=x
    ),
    "agent_profiles.find_by_name": lambda uow, x: uow.agent_profiles.find_by_name(x),
    "agent_profiles.deactivate": lambda uow, x: uow.agent_profiles.deactivate(x),
    "agent_profiles.reactivate": lambda uow, x: uow.agent_profiles.reactivate(x),
    "agent_profiles.customize(key)": lambda uow, x: uow.agent_profiles.customize(x),
    "agent_profiles.customize(project_id)": lambda uow, x: uow.agent_profiles.customize(
        Known.profile, project_id=x
    ),
    "agent_profiles.customize(name)": lambda uow, x: uow.agent_profiles.customize(
        Known.profile, name=x
    ),
    "agent_profile_tools.add(tool_name)": Built(
        lambda x: AgentProfileTool(profile_id=Known.profile, tool_name=x),
        lambda uow, e: uow.agent_profile_tools.add(e),
    ),
    "agent_profile_tools.add(tool_pattern)": Built(
        lambda x: AgentProfileTool(profile_id=Known.profile, tool_name="Bash", tool_pattern=x),
        lambda uow, e: uow.agent_profile_tools.add(e),
    ),
    "agent_profile_tools.update(order_index)": lambda uow, x: update(
        uow.agent_profile_tools, Known.tool, "order_index", x
    ),
    "agent_profile_tools.list(profile_id)": lambda uow, x: uow.agent_profile_tools.list(
        profile_id=x
    ),
    "agent_profile_tools.list(disallowed)": lambda uow, x: uow.agent_profile_tools.list(
        profile_id=Known.profile, disallowed=x
    ),
    "agent_profile_tools.allow": lambda uow, x: uow.agent_profile_tools.allow(x),
    "agent_profile_tools.disallow": lambda uow, x: uow.agent_profile_tools.disallow(x),
    "agent_profile_tools.effective": lambda uow, x: uow.agent_profile_tools.effective(x),
    "agent_profile_skills.add(skill_name)": Built(
        lambda x: AgentProfileSkill(profile_id=Known.profile, skill_name=x),
        lambda uow, e: uow.agent_profile_skills.add(e),
    ),
    "agent_profile_skills.update(required_at)": lambda uow, x: update(
        uow.agent_profile_skills, Known.skill, "required_at", x
    ),
    "agent_profile_skills.list(profile_id)": lambda uow, x: uow.agent_profile_skills.list(
        profile_id=x
    ),
    "agent_profile_skills.list(required)": lambda uow, x: uow.agent_profile_skills.list(
        profile_id=Known.profile, required=x
    ),
    "agent_profile_skills.require": lambda uow, x: uow.agent_profile_skills.require(x),
    "agent_profile_skills.make_optional": lambda uow, x: uow.agent_profile_skills.make_optional(x),
    # -- agents context: conversations, messages, interaction sessions
    "conversations.ask(question)": lambda uow, x: uow.conversations.ask(
        Known.agent, Known.other_agent, x
    ),
    "conversations.ask(from_agent_id)": lambda uow, x: uow.conversations.ask(
        x, Known.other_agent, "q"
    ),
    "conversations.ask(to_agent_id)": lambda uow, x: uow.conversations.ask(Known.agent, x, "q"),
    "conversations.find_pending_for_agent": lambda uow, x: uow.conversations.find_pending_for_agent(
        x
    ),
    "conversations.answer(key)": lambda uow, x: uow.conversations.answer(x, "a"),
    "conversations.answer(answer)": lambda uow, x: uow.conversations.answer(Known.conversation, x),
    "conversations.list(status)": lambda uow, x: uow.conversations.list(status=x),
    "conversations.list(from_agent_id)": lambda uow, x: uow.conversations.list(from_agent_id=x),
    "conversations.list(after)": lambda uow, x: uow.conversations.list(after=x),
    "conversations.list(limit)": lambda uow, x: uow.conversations.list(limit=x),
    "conversations.find_pending_for_agent(after)": lambda uow, x: (
        uow.conversations.find_pending_for_agent(Known.agent, after=x)
    ),
    "conversations.find_pending_for_agent(limit)": lambda uow, x: (
        uow.conversations.find_pending_for_agent(Known.agent, limit=x)
    ),
    "conversations.update(answer)": lambda uow, x: update(
        uow.conversations, Known.conversation, "answer", x
    ),
    "messages.add(content)": Built(
        lambda x: Message(
            sender_type=Party.USER,
            recipient_type=Party.AGENT,
            recipient_agent_id=Known.agent,
            content=x,
        ),
        lambda uow, e: uow.messages.add(e),
    ),
    "messages.add(parent_message_id)": Built(
        lambda x: Message(
            sender_type=Party.USER,
            recipient_type=Party.AGENT,
            recipient_agent_id=Known.agent,
            parent_message_id=x,
            content="re",
        ),
        lambda uow, e: uow.messages.add(e),
    ),
    "messages.add(sender_agent_id)": Built(
        lambda x: Message(
            sender_type=Party.AGENT, sender_agent_id=x, recipient_type=Party.USER, content="c"
        ),
        lambda uow, e: uow.messages.add(e),
    ),
    "messages.reply(parent_id)": lambda uow, x: uow.messages.reply(x, "re"),
    "messages.reply(content)": lambda uow, x: uow.messages.reply(Known.message, x),
    "messages.reply(requires_response)": lambda uow, x: uow.messages.reply(
        Known.message, "re", requires_response=x
    ),
    "messages.mark_read": lambda uow, x: uow.messages.mark_read(x),
    "messages.find_pending_for_user": lambda uow, x: uow.messages.find_pending_for_user(),
    "messages.find_requiring_response(recipient_type)": lambda uow, x: (
        uow.messages.find_requiring_response(recipient_type=x)
    ),
    "messages.find_requiring_response(recipient_agent_id)": lambda uow, x: (
        uow.messages.find_requiring_response(recipient_agent_id=x)
    ),
    "messages.find_replies": lambda uow, x: uow.messages.find_replies(x),
    "messages.find_replies(after)": lambda uow, x: uow.messages.find_replies("message-1", after=x),
    "messages.find_replies(limit)": lambda uow, x: uow.messages.find_replies("message-1", limit=x),
    "messages.find_pending_for_user(after)": lambda uow, x: uow.messages.find_pending_for_user(
        after=x
    ),
    "messages.find_pending_for_user(limit)": lambda uow, x: uow.messages.find_pending_for_user(
        limit=x
    ),
    "messages.find_requiring_response(after)": lambda uow, x: uow.messages.find_requiring_response(
        after=x
    ),
    "messages.find_requiring_response(limit)": lambda uow, x: uow.messages.find_requiring_response(
        limit=x
    ),
    "messages.update(recipient_agent_id)": lambda uow, x: update(
        uow.messages, Known.message, "recipient_agent_id", x
    ),
    "interaction_sessions.start(project_id)": lambda uow, x: uow.interaction_sessions.start(
        x, SessionType.INTERVIEW
    ),
    "interaction_sessions.start(type)": lambda uow, x: uow.interaction_sessions.start(
        Known.project, x
    ),
    "interaction_sessions.start(data)": lambda uow, x: uow.interaction_sessions.start(
        Known.project, SessionType.PLANNING, x
    ),
    "interaction_sessions.complete": lambda uow, x: uow.interaction_sessions.complete(x),
    "interaction_sessions.abandon": lambda uow, x: uow.interaction_sessions.abandon(x),
    "interaction_sessions.update_data(key)": lambda uow, x: uow.interaction_sessions.update_data(
        x, {}
    ),
    "interaction_sessions.update_data(data)": lambda uow, x: uow.interaction_sessions.update_data(
        Known.session, x
    ),
    "interaction_sessions.list(project_id)": lambda uow, x: uow.interaction_sessions.list(
        project_id=x
    ),
    "interaction_sessions.list(type)": lambda uow, x: uow.interaction_sessions.list(
        project_id=Known.project, type=x
    ),
    "interaction_sessions.list(status)": lambda uow, x: uow.interaction_sessions.list(
        project_id=Known.project, status=x
    ),
    "interaction_sessions.active_for(project_id)": lambda uow, x: (
        uow.interaction_sessions.active_for(x)
    ),
    "interaction_sessions.active_for(type)": lambda uow, x: uow.interaction_sessions.active_for(
        Known.project, type=x
    ),
    "interaction_sessions.update(ended_at)": lambda uow, x: update(
        uow.interaction_sessions, Known.session, "ended_at", x
    ),
    "agents.add(name)": Built(lambda x: Agent(name=x), lambda uow, e: uow.agents.add(e)),
    "agents.add(profile_id)": Built(
        lambda x: Agent(name="a2", profile_id=x), lambda uow, e: uow.agents.add(e)
    ),
    "agents.add(prompt)": Built(
        lambda x: Agent(name="a2", prompt=x), lambda uow, e: uow.agents.add(e)
    ),
    "agents.update(status)": lambda uow, x: update(uow.agents, Known.agent, "status", x),
    "agents.list(status)": lambda uow, x: uow.agents.list(status=x),
    "agents.list(profile_id)": lambda uow, x: uow.agents.list(profile_id=x),
    "agents.list(include_dismissed)": lambda uow, x: uow.agents.list(include_dismissed=x),
    "agents.list(limit)": lambda uow, x: uow.agents.list(limit=x),
    "agents.find_by_name": lambda uow, x: uow.agents.find_by_name(x),
    "agents.find_by_session_id": lambda uow, x: uow.agents.find_by_session_id(x),
    "agents.find_by_task_id": lambda uow, x: uow.agents.find_by_task_id(x),
    "agents.move_to(key)": lambda uow, x: uow.agents.move_to(x, "running"),  # type: ignore[arg-type]
    "agents.move_to(status)": lambda uow, x: uow.agents.move_to(Known.agent, x),
    "agents.move_to(reason)": lambda uow, x: uow.agents.move_to(Known.agent, "stopped", x),  # type: ignore[arg-type]
    "agents.dismiss": lambda uow, x: uow.agents.dismiss(x),
    "agents.record_tokens(key)": lambda uow, x: uow.agents.record_tokens(x, 10),
    "agents.record_tokens(tokens)": lambda uow, x: uow.agents.record_tokens(Known.agent, x),
    "agents.record_task_completed": lambda uow, x: uow.agents.record_task_completed(x),
    "agents.record_task_failed": lambda uow, x: uow.agents.record_task_failed(x),
    "accounts.add(credentials)": Built(
        lambda x: Account(email="b@x.io", credentials=x), lambda uow, e: uow.accounts.add(e)
    ),
    "accounts.list(provider)": lambda uow, x: uow.accounts.list(provider=x),
    "accounts.next_available": lambda uow, x: uow.accounts.next_available(x),
    "accounts.mark_exhausted(key)": lambda uow, x: uow.accounts.mark_exhausted(x, None),
    "accounts.mark_exhausted(until)": lambda uow, x: uow.accounts.mark_exhausted(Known.account, x),
    "accounts.clear_expired_exhaustion": lambda uow, x: uow.accounts.clear_expired_exhaustion(),
    # The planning tree: initiatives, their repositories, pages, errands.
    "initiatives.add(name)": Built(
        lambda x: Initiative(project_id=Known.project, name=x),
        lambda uow, e: uow.initiatives.add(e),
    ),
    "initiatives.add(branch)": Built(
        lambda x: Initiative(project_id=Known.project, name="i", branch=x),
        lambda uow, e: uow.initiatives.add(e),
    ),
    "initiatives.list(project_id)": lambda uow, x: uow.initiatives.list(project_id=x),
    "initiatives.find_by_status(status)": lambda uow, x: uow.initiatives.find_by_status(x),
    "initiatives.archive": lambda uow, x: uow.initiatives.archive(x),
    "initiatives.unarchive": lambda uow, x: uow.initiatives.unarchive(x),
    "initiatives.update(status)": lambda uow, x: update(
        uow.initiatives, Known.initiative, "status", x
    ),
    "initiative_repositories.set_for_initiative(initiative_id)": lambda uow, x: (
        uow.initiative_repositories.set_for_initiative(x, [Known.repository])
    ),
    "initiative_repositories.set_for_initiative(one id)": lambda uow, x: (
        uow.initiative_repositories.set_for_initiative(Known.initiative, [Known.repository, x])
    ),
    "initiative_repositories.set_for_initiative(repository_ids)": lambda uow, x: (
        uow.initiative_repositories.set_for_initiative(Known.initiative, x)
    ),
    "initiative_repositories.of_initiative": lambda uow, x: (
        uow.initiative_repositories.of_initiative(x)
    ),
    "pages.find_root_page": lambda uow, x: uow.pages.find_root_page(x),
    "pages.get_or_create_root_page(initiative_id)": lambda uow, x: (
        uow.pages.get_or_create_root_page(x)
    ),
    "pages.get_or_create_root_page(title)": lambda uow, x: _fresh_root(uow, x),
    "pages.find_by_parent_page": lambda uow, x: uow.pages.find_by_parent_page(x),
    "pages.find_by_initiative": lambda uow, x: uow.pages.find_by_initiative(x),
    "pages.update(parent_page_id)": lambda uow, x: update(
        uow.pages, Known.page, "parent_page_id", x
    ),
    "pages.add(content)": Built(
        lambda x: Page(
            initiative_id=Known.initiative, parent_page_id=Known.page, title="t", content=x
        ),
        lambda uow, e: uow.pages.add(e),
    ),
    "errands.add(id)": Built(
        lambda x: Errand(id=x, repository_id=Known.repository, description="d", branch="b"),
        lambda uow, e: uow.errands.add(e),
    ),
    "errands.find_with_alias": lambda uow, x: uow.errands.find_with_alias(x),
    "errands.find_all(repository_id)": lambda uow, x: uow.errands.find_all(repository_id=x),
    "errands.find_all(status)": lambda uow, x: uow.errands.find_all(status=x),
    "errands.update(status)": lambda uow, x: update(uow.errands, Known.errand, "status", x),
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
    "change_sets.record(changes)": lambda uow, x: uow.change_sets.record(
        ChangeSet(id="change-set-new", initiative_id=Known.initiative), x
    ),
    "change_sets.entries": lambda uow, x: uow.change_sets.entries(x),
    "change_sets.find_by_initiative": lambda uow, x: uow.change_sets.find_by_initiative(x),
    "change_sets.revert": lambda uow, x: uow.change_sets.revert(x),
    "change_set_entries.find_by_change_set": lambda uow, x: (
        uow.change_set_entries.find_by_change_set(x)
    ),
    "phases.find_by_initiative": lambda uow, x: uow.phases.find_by_initiative(x),
    "phases.move_to(key)": lambda uow, x: uow.phases.move_to(x, "approved"),  # type: ignore[arg-type]
    "phases.move_to(status)": lambda uow, x: uow.phases.move_to(Known.phase, x),
    "phases.update(merge_base)": lambda uow, x: update(uow.phases, Known.phase, "merge_base", x),
    "phase_dependencies.create(node)": lambda uow, x: uow.phase_dependencies.create(x, Known.phase),
    "phase_dependencies.create(depends_on)": lambda uow, x: uow.phase_dependencies.create(
        Known.other_phase, x
    ),
    "phase_dependencies.get_dependencies": lambda uow, x: uow.phase_dependencies.get_dependencies(
        x
    ),
    "phase_dependencies.get_dependents": lambda uow, x: uow.phase_dependencies.get_dependents(x),
    "phase_dependencies.remove": lambda uow, x: uow.phase_dependencies.remove(Known.other_phase, x),
    "tasks.add(name)": Built(
        lambda x: Task(project_id=Known.project, name=x), lambda uow, e: uow.tasks.add(e)
    ),
    "tasks.add(estimated_minutes)": Built(
        lambda x: Task(project_id=Known.project, name="t", estimated_minutes=x),
        lambda uow, e: uow.tasks.add(e),
    ),
    "tasks.update(parent_task_id)": lambda uow, x: update(
        uow.tasks, Known.task, "parent_task_id", x
    ),
    "tasks.update(phase_id)": lambda uow, x: update(uow.tasks, Known.task, "phase_id", x),
    "tasks.update(max_iterations)": lambda uow, x: update(
        uow.tasks, Known.busy_task, "max_iterations", x
    ),
    "tasks.list(project_id)": lambda uow, x: uow.tasks.list(project_id=x),
    "tasks.list(status)": lambda uow, x: uow.tasks.list(project_id=Known.project, status=x),
    "tasks.list(limit)": lambda uow, x: uow.tasks.list(project_id=Known.project, limit=x),
    "tasks.find_by_parent_task": lambda uow, x: uow.tasks.find_by_parent_task(x),
    "tasks.find_by_phase": lambda uow, x: uow.tasks.find_by_phase(x),
    "tasks.ready_tasks(project_id)": lambda uow, x: uow.tasks.ready_tasks(project_id=x),
    "tasks.ready_tasks(initiative_id)": lambda uow, x: uow.tasks.ready_tasks(initiative_id=x),
    "tasks.ready_tasks(phase_id)": lambda uow, x: uow.tasks.ready_tasks(
        project_id=Known.project, phase_id=x
    ),
    "tasks.dependency_context": lambda uow, x: uow.tasks.dependency_context(x),
    "tasks.move_to(key)": lambda uow, x: uow.tasks.move_to(x, "in_progress"),  # type: ignore[arg-type]
    "tasks.move_to(status)": lambda uow, x: uow.tasks.move_to(Known.task, x),
    "tasks.move_to(blocked_by)": lambda uow, x: uow.tasks.move_to(
        Known.task,
        "blocked",  # type: ignore[arg-type]
        blocked_by=x,
    ),
    "tasks.complete(key)": lambda uow, x: uow.tasks.complete(x, "done"),
    "tasks.complete(summary)": lambda uow, x: uow.tasks.complete(Known.busy_task, x),
    "tasks.record_crash": lambda uow, x: uow.tasks.record_crash(x),
    "tasks.record_crash(limit)": lambda uow, x: crash_with_limit(uow, x),
    "tasks.retry": lambda uow, x: uow.tasks.retry(x),
    "tasks.complete(agent_id)": lambda uow, x: uow.tasks.complete(
        Known.busy_task, "done", agent_id=x
    ),
    "tasks.record_crash(agent_id)": lambda uow, x: uow.tasks.record_crash(
        Known.busy_task, agent_id=x
    ),
    "tasks.record_failure(key)": lambda uow, x: uow.tasks.record_failure(x, "gave up"),
    "tasks.record_failure(reason)": lambda uow, x: uow.tasks.record_failure(Known.busy_task, x),
    "tasks.record_failure(agent_id)": lambda uow, x: uow.tasks.record_failure(
        Known.busy_task, "gave up", agent_id=x
    ),
    "tasks.needing_attention(project_id)": lambda uow, x: uow.tasks.needing_attention(project_id=x),
    "tasks.needing_attention(initiative_id)": lambda uow, x: uow.tasks.needing_attention(
        initiative_id=x
    ),
    "tasks.needing_attention(phase_id)": lambda uow, x: uow.tasks.needing_attention(
        project_id=Known.project, phase_id=x
    ),
    "tasks.record_qa_iteration": lambda uow, x: uow.tasks.record_qa_iteration(x),
    "tasks.created_under": lambda uow, x: uow.tasks.created_under(x),
    "tasks.add(idempotency_key)": lambda uow, x: uow.tasks.add(
        Task(id="keyed-task", project_id=Known.project, name="k"), idempotency_key=x
    ),
    "tasks.claim_next_ready(agent_id)": lambda uow, x: uow.tasks.claim_next_ready(
        x, LEASE, project_id=Known.project
    ),
    "tasks.claim_next_ready(lease)": lambda uow, x: uow.tasks.claim_next_ready(
        Known.agent, x, project_id=Known.project
    ),
    "tasks.claim_next_ready(project_id)": lambda uow, x: uow.tasks.claim_next_ready(
        Known.agent, LEASE, project_id=x
    ),
    "tasks.renew_lease(key)": lambda uow, x: uow.tasks.renew_lease(x, Known.agent, LEASE),
    "tasks.renew_lease(agent_id)": lambda uow, x: uow.tasks.renew_lease(Known.busy_task, x, LEASE),
    "tasks.renew_lease(lease)": lambda uow, x: uow.tasks.renew_lease(
        Known.busy_task, Known.agent, x
    ),
    "recover(live_pids)": lambda uow, x: recovery.recover(uow, [x]),
    "recover(live_pids answer)": lambda uow, x: recovery.recover(uow, lambda pid: x),
    # Whether a pid is alive depends on this host, not on the backend: only its kind is
    # compared.
    "pid_is_alive": lambda uow, x: type(recovery.pid_is_alive(x)).__name__,
    "claim_next_ready_task(agent_id)": lambda uow, x: planning.claim_next_ready_task(
        uow, x, project_id=Known.project
    ),
    "claim_next_ready_task(initiative_id)": lambda uow, x: planning.claim_next_ready_task(
        uow, Known.other_agent, initiative_id=x
    ),
    "task_dependencies.create(node)": lambda uow, x: uow.task_dependencies.create(x, Known.task),
    "task_dependencies.create(depends_on)": lambda uow, x: uow.task_dependencies.create(
        Known.busy_task, x
    ),
    "task_dependencies.get_dependencies": lambda uow, x: uow.task_dependencies.get_dependencies(x),
    "task_dependencies.get_dependents": lambda uow, x: uow.task_dependencies.get_dependents(x),
    "task_dependencies.remove": lambda uow, x: uow.task_dependencies.remove(Known.busy_task, x),
    "assign_task(task_id)": lambda uow, x: planning.assign_task(uow, x, Known.agent),
    "assign_task(agent_id)": lambda uow, x: planning.assign_task(uow, Known.task, x),
    "release_task": lambda uow, x: planning.release_task(uow, x),
    "release_task(agent_id)": lambda uow, x: planning.release_task(
        uow, Known.busy_task, agent_id=x
    ),
    "fail_task(key)": lambda uow, x: planning.fail_task(uow, x, "gave up"),
    "fail_task(reason)": lambda uow, x: planning.fail_task(uow, Known.busy_task, x),
    "fail_task(agent_id)": lambda uow, x: planning.fail_task(
        uow, Known.busy_task, "gave up", agent_id=x
    ),
    "complete_task(agent_id)": lambda uow, x: planning.complete_task(
        uow, Known.busy_task, "done", agent_id=x
    ),
    "complete_task(key)": lambda uow, x: planning.complete_task(uow, x, "done"),
    "complete_task(summary)": lambda uow, x: planning.complete_task(uow, Known.busy_task, x),
    # -- backlog --------------------------------------------------------------------------------
    "tasks.update(feature_id)": lambda uow, x: update(uow.tasks, Known.task, "feature_id", x),
    "tasks.update(sub_feature_id)": lambda uow, x: update(
        uow.tasks, Known.task, "sub_feature_id", x
    ),
    "features.add(name)": Built(
        lambda x: Feature(project_id=Known.project, name=x), lambda uow, e: uow.features.add(e)
    ),
    "features.update(completed_tasks)": lambda uow, x: update(
        uow.features, Known.feature, "completed_tasks", x
    ),
    "features.update(estimated_tasks)": lambda uow, x: update(
        uow.features, Known.feature, "estimated_tasks", x
    ),
    "features.find_by_project(project_id)": lambda uow, x: uow.features.find_by_project(x),
    "features.find_by_project(status)": lambda uow, x: uow.features.find_by_project(
        Known.project, status=x
    ),
    "features.find_by_project(priority)": lambda uow, x: uow.features.find_by_project(
        Known.project, priority=x
    ),
    "features.find_by_status(status)": lambda uow, x: uow.features.find_by_status(x),
    "features.find_by_status(project_id)": lambda uow, x: uow.features.find_by_status(
        "backlog",  # type: ignore[arg-type]
        project_id=x,
    ),
    "features.move_to(key)": lambda uow, x: uow.features.move_to(x, "planned"),  # type: ignore[arg-type]
    "features.move_to(status)": lambda uow, x: uow.features.move_to(Known.feature, x),
    "features.recount": lambda uow, x: uow.features.recount(x),
    "sub_features.find_by_feature(feature_id)": lambda uow, x: uow.sub_features.find_by_feature(x),
    "sub_features.find_by_feature(status)": lambda uow, x: uow.sub_features.find_by_feature(
        Known.feature, status=x
    ),
    "sub_features.find_by_status(status)": lambda uow, x: uow.sub_features.find_by_status(x),
    "sub_features.find_by_status(feature_id)": lambda uow, x: uow.sub_features.find_by_status(
        "backlog",  # type: ignore[arg-type]
        feature_id=x,
    ),
    "sub_features.move_to(key)": lambda uow, x: uow.sub_features.move_to(x, "planned"),  # type: ignore[arg-type]
    "sub_features.move_to(status)": lambda uow, x: uow.sub_features.move_to(Known.sub_feature, x),
    "sub_features.update(feature_id)": lambda uow, x: update(
        uow.sub_features, Known.sub_feature, "feature_id", x
    ),
    "requirements.add(category)": Built(
        lambda x: Requirement(project_id=Known.project, category=x, description="d"),
        lambda uow, e: uow.requirements.add(e),
    ),
    "requirements.add(priority)": Built(
        lambda x: Requirement(project_id=Known.project, category="c", description="d", priority=x),
        lambda uow, e: uow.requirements.add(e),
    ),
    "requirements.find_by_project(project_id)": lambda uow, x: uow.requirements.find_by_project(x),
    "requirements.find_by_project(category)": lambda uow, x: uow.requirements.find_by_project(
        Known.project, category=x
    ),
    "requirements.find_by_project(priority)": lambda uow, x: uow.requirements.find_by_project(
        Known.project, priority=x
    ),
    "requirements.find_by_project(validated)": lambda uow, x: uow.requirements.find_by_project(
        Known.project, validated=x
    ),
    "requirements.validate": lambda uow, x: uow.requirements.validate(x),
    "requirements.invalidate": lambda uow, x: uow.requirements.invalidate(x),
    "requirement_features.link(requirement_id)": lambda uow, x: content_of(
        uow.requirement_features.link(x, Known.feature)
    ),
    "requirement_features.link(feature_id)": lambda uow, x: content_of(
        uow.requirement_features.link(Known.requirement, x)
    ),
    "requirement_features.unlink(requirement_id)": lambda uow, x: uow.requirement_features.unlink(
        x, Known.feature
    ),
    "requirement_features.unlink(feature_id)": lambda uow, x: uow.requirement_features.unlink(
        Known.requirement, x
    ),
    "requirement_features.features_of": lambda uow, x: uow.requirement_features.features_of(x),
    "requirement_features.requirements_of": lambda uow, x: uow.requirement_features.requirements_of(
        x
    ),
    "checkpoints.add(state)": Built(
        lambda x: Checkpoint(id="checkpoint-new", project_id=Known.project, state=x),
        lambda uow, e: uow.checkpoints.add(e),
    ),
    "checkpoints.list(project_id)": lambda uow, x: uow.checkpoints.list(project_id=x),
    "checkpoints.list(limit)": lambda uow, x: uow.checkpoints.list(
        project_id=Known.project, limit=x
    ),
    "checkpoints.latest": lambda uow, x: uow.checkpoints.latest(x),
    "checkpoints.snapshot": lambda uow, x: uow.checkpoints.snapshot(x),
    "checkpoints.restore": lambda uow, x: uow.checkpoints.restore(x),
    "create_checkpoint(project_id)": lambda uow, x: content_of(
        backlog.create_checkpoint(uow, x, "name")
    ),
    "create_checkpoint(name)": lambda uow, x: content_of(
        backlog.create_checkpoint(uow, Known.project, x)
    ),
    "create_checkpoint(idempotency_key)": lambda uow, x: content_of(
        backlog.create_checkpoint(uow, Known.project, idempotency_key=x)
    ),
    "create_checkpoint(git_commit)": lambda uow, x: content_of(
        backlog.create_checkpoint(uow, Known.project, git_commit=x)
    ),
    "restore_checkpoint": lambda uow, x: uow.checkpoints.restore(x),
    "latest_checkpoint": lambda uow, x: uow.checkpoints.latest(x),
    # -- workflows (the workflow and its running step are running) --
    "workflows.add(feature_name)": Built(
        lambda x: new_workflow(feature_name=x), lambda uow, e: uow.workflows.add(e)
    ),
    "workflows.add(pause_behavior)": Built(
        lambda x: new_workflow(pause_behavior=x), lambda uow, e: uow.workflows.add(e)
    ),
    "workflows.add(parent_workflow_id)": Built(
        lambda x: new_workflow(parent_workflow_id=x), lambda uow, e: uow.workflows.add(e)
    ),
    "workflows.add(status)": Built(
        lambda x: new_workflow(status=x), lambda uow, e: uow.workflows.add(e)
    ),
    "workflows.list(project_id)": lambda uow, x: uow.workflows.list(project_id=x),
    "workflows.list(status)": lambda uow, x: uow.workflows.list(status=x),
    "workflows.list(type)": lambda uow, x: uow.workflows.list(type=x),
    "workflows.list(include_archived)": lambda uow, x: uow.workflows.list(include_archived=x),
    "workflows.list(limit)": lambda uow, x: uow.workflows.list(limit=x),
    "workflows.list(offset)": lambda uow, x: uow.workflows.list(offset=x),
    "workflows.find_by_parent": lambda uow, x: uow.workflows.find_by_parent(x),
    "workflows.worktree_of": lambda uow, x: uow.workflows.worktree_of(x),
    "workflows.audit_trail": lambda uow, x: uow.workflows.audit_trail(x),
    "workflows.count_active_implementations": lambda uow, x: (
        uow.workflows.count_active_implementations()
    ),
    "workflows.start": lambda uow, x: uow.workflows.start(x),
    "workflows.pause": lambda uow, x: uow.workflows.pause(x),
    "workflows.edit": lambda uow, x: uow.workflows.edit(x),
    "workflows.resume": lambda uow, x: uow.workflows.resume(x),
    "workflows.complete": lambda uow, x: uow.workflows.complete(x),
    "workflows.cancel": lambda uow, x: uow.workflows.cancel(x),
    "workflows.retry": lambda uow, x: uow.workflows.retry(x),
    "workflows.archive": lambda uow, x: uow.workflows.archive(x),
    "workflows.unarchive": lambda uow, x: uow.workflows.unarchive(x),
    "workflows.fail(key)": lambda uow, x: uow.workflows.fail(x, "broke"),
    "workflows.fail(error_message)": lambda uow, x: uow.workflows.fail(Known.workflow, x),
    "workflows.update(feature_request)": lambda uow, x: update(
        uow.workflows, Known.workflow, "feature_request", x
    ),
    "workflow_repositories.link(workflow_id)": lambda uow, x: uow.workflow_repositories.link(
        x, Known.repository
    ),
    "workflow_repositories.link(repository_id)": lambda uow, x: uow.workflow_repositories.link(
        Known.workflow, x
    ),
    "workflow_repositories.link(primary)": lambda uow, x: uow.workflow_repositories.link(
        Known.workflow, Known.repository, primary=x
    ),
    "workflow_repositories.unlink(workflow_id)": lambda uow, x: uow.workflow_repositories.unlink(
        x, Known.repository
    ),
    "workflow_repositories.unlink(repository_id)": lambda uow, x: uow.workflow_repositories.unlink(
        Known.workflow, x
    ),
    "workflow_repositories.set_primary(workflow_id)": lambda uow, x: (
        uow.workflow_repositories.set_primary(x, Known.repository)
    ),
    "workflow_repositories.set_primary(repository_id)": lambda uow, x: (
        uow.workflow_repositories.set_primary(Known.workflow, x)
    ),
    "workflow_repositories.of_workflow": lambda uow, x: uow.workflow_repositories.of_workflow(x),
    "workflow_repositories.primary_of": lambda uow, x: uow.workflow_repositories.primary_of(x),
    "workflow_steps.add(title)": Built(
        lambda x: new_step(title=x), lambda uow, e: uow.workflow_steps.add(e)
    ),
    "workflow_steps.add(step_number)": Built(
        lambda x: new_step(step_number=x), lambda uow, e: uow.workflow_steps.add(e)
    ),
    "workflow_steps.add(output_structured)": Built(
        lambda x: new_step(output_structured=x), lambda uow, e: uow.workflow_steps.add(e)
    ),
    "workflow_steps.add(cli_exit_code)": Built(
        lambda x: new_step(cli_exit_code=x), lambda uow, e: uow.workflow_steps.add(e)
    ),
    "workflow_steps.find_by_workflow": lambda uow, x: uow.workflow_steps.find_by_workflow(x),
    "workflow_steps.timeout_seconds(step_type)": lambda uow, x: uow.workflow_steps.timeout_seconds(
        x
    ),
    "workflow_steps.list(workflow_id)": lambda uow, x: uow.workflow_steps.list(workflow_id=x),
    "workflow_steps.list(status)": lambda uow, x: uow.workflow_steps.list(status=x),
    "workflow_steps.list(runner_agent_id)": lambda uow, x: uow.workflow_steps.list(
        runner_agent_id=x
    ),
    "workflow_steps.list(limit)": lambda uow, x: uow.workflow_steps.list(limit=x),
    "workflow_steps.list(offset)": lambda uow, x: uow.workflow_steps.list(offset=x),
    "workflow_steps.start": lambda uow, x: uow.workflow_steps.start(x),
    "workflow_steps.start(agent_id)": lambda uow, x: uow.workflow_steps.start(
        Known.pending_step, agent_id=x
    ),
    "workflow_steps.start(pid)": lambda uow, x: uow.workflow_steps.start(Known.pending_step, pid=x),
    "workflow_steps.pause": lambda uow, x: uow.workflow_steps.pause(x),
    "workflow_steps.edit": lambda uow, x: uow.workflow_steps.edit(x),
    "workflow_steps.resume": lambda uow, x: uow.workflow_steps.resume(x),
    "workflow_steps.resume(agent_id)": lambda uow, x: uow.workflow_steps.resume(
        Known.paused_step, agent_id=x
    ),
    "workflow_steps.resume(pid)": lambda uow, x: uow.workflow_steps.resume(
        Known.paused_step, pid=x
    ),
    "workflow_steps.skip": lambda uow, x: uow.workflow_steps.skip(x),
    "workflow_steps.retry": lambda uow, x: uow.workflow_steps.retry(x),
    "workflow_steps.retry(agent_id)": lambda uow, x: uow.workflow_steps.retry(
        Known.failed_step, agent_id=x
    ),
    "workflow_steps.retry(pid)": lambda uow, x: uow.workflow_steps.retry(Known.failed_step, pid=x),
    "workflow_steps.update(runner_pid)": lambda uow, x: update(
        uow.workflow_steps, Known.step, "runner_pid", x
    ),
    "workflow_steps.complete(key)": lambda uow, x: uow.workflow_steps.complete(x),
    "workflow_steps.complete(output_text)": lambda uow, x: uow.workflow_steps.complete(
        Known.step, output_text=x
    ),
    "workflow_steps.complete(output_structured)": lambda uow, x: uow.workflow_steps.complete(
        Known.step, output_structured=x
    ),
    "workflow_steps.complete(cli_output)": lambda uow, x: uow.workflow_steps.complete(
        Known.step, cli_output=x, cli_exit_code=0
    ),
    "workflow_steps.complete(cli_exit_code)": lambda uow, x: uow.workflow_steps.complete(
        Known.step, cli_exit_code=x
    ),
    "workflow_steps.fail(key)": lambda uow, x: uow.workflow_steps.fail(x, "no"),
    "workflow_steps.fail(error_message)": lambda uow, x: uow.workflow_steps.fail(Known.step, x),
    "workflow_steps.edit_output(key)": lambda uow, x: uow.workflow_steps.edit_output(x, "new"),
    "workflow_steps.edit_output(output_text)": lambda uow, x: uow.workflow_steps.edit_output(
        Known.step, x
    ),
    "workflow_steps.update(step_number)": lambda uow, x: update(
        uow.workflow_steps, Known.step, "step_number", x
    ),
}


def new_workflow(**fields: Any) -> Workflow:
    values: dict[str, Any] = {
        "project_id": Known.project,
        "type": WorkflowType.IMPLEMENTATION,
        "feature_name": "Login",
        "feature_request": "Build it",
    }
    return Workflow(**{**values, **fields})


def new_step(**fields: Any) -> WorkflowStep:
    values: dict[str, Any] = {
        "workflow_id": Known.workflow,
        "step_type": StepType.IMPLEMENTATION,
        "step_number": 9,
        "title": "Build",
    }
    return WorkflowStep(**{**values, **fields})


class KnownPlan:
    """Ids of the workflow rows of discovered files and implementation plans."""

    workflow = "plan-workflow-1"
    approved_workflow = "plan-workflow-2"
    step = "plan-workflow-step-1"
    file = "discovered-file-1"
    plan = "plan-1"
    approved_plan = "plan-2"
    plan_step = "plan-step-1"
    other_plan_step = "plan-step-2"


def discover(uow: UnitOfWork, **arguments: Any) -> object:
    values: dict[str, Any] = {"workflow_step_id": KnownPlan.step, "file_path": "new.py"}
    values.update(arguments)
    step, path = values.pop("workflow_step_id"), values.pop("file_path")
    return uow.discovered_files.discover(step, path, **values)


def add_by_user(uow: UnitOfWork, **arguments: Any) -> object:
    values: dict[str, Any] = {"workflow_step_id": KnownPlan.step, "file_path": "mine.py"}
    values.update(arguments)
    step, path = values.pop("workflow_step_id"), values.pop("file_path")
    return uow.discovered_files.add_by_user(step, path, **values)


def with_argument(call: Callable[..., object], name: str) -> Call:
    """`call` with the hostile value as its argument `name`."""
    return lambda uow, x: call(uow, **{name: x})


CALLS.update(
    {
        **{
            f"discovered_files.discover({name})": with_argument(discover, name)
            for name in (
                "workflow_step_id",
                "file_path",
                "priority",
                "action",
                "description",
                "exists",
                "included",
                "order_index",
            )
        },
        "discovered_files.discover(known path)": lambda uow, x: discover(
            uow, file_path="known.py", priority=x
        ),
        **{
            f"discovered_files.add_by_user({name})": with_argument(add_by_user, name)
            for name in ("workflow_step_id", "file_path", "priority", "action", "description")
        },
        "discovered_files.set_priority(key)": lambda uow, x: uow.discovered_files.set_priority(
            x,
            "high",  # type: ignore[arg-type]
        ),
        "discovered_files.set_priority(priority)": lambda uow, x: uow.discovered_files.set_priority(
            KnownPlan.file, x
        ),
        "discovered_files.include": lambda uow, x: uow.discovered_files.include(x),
        "discovered_files.exclude": lambda uow, x: uow.discovered_files.exclude(x),
        "discovered_files.find_by_step(workflow_step_id)": lambda uow, x: (
            uow.discovered_files.find_by_step(x)
        ),
        "discovered_files.find_by_step(included_only)": lambda uow, x: (
            uow.discovered_files.find_by_step(KnownPlan.step, included_only=x)
        ),
        "discovered_files.find_by_path(workflow_step_id)": lambda uow, x: (
            uow.discovered_files.find_by_path(x, "known.py")
        ),
        "discovered_files.find_by_path(file_path)": lambda uow, x: (
            uow.discovered_files.find_by_path(KnownPlan.step, x)
        ),
        "discovered_files.update(priority)": lambda uow, x: update(
            uow.discovered_files, KnownPlan.file, "priority", x
        ),
        "implementation_plans.find_by_workflow": lambda uow, x: (
            uow.implementation_plans.find_by_workflow(x)
        ),
        "implementation_plans.approve": lambda uow, x: uow.implementation_plans.approve(x),
        "implementation_plans.claim_for_implementation": lambda uow, x: (
            uow.implementation_plans.claim_for_implementation(x)
        ),
        "implementation_plans.update(approved_at)": lambda uow, x: update(
            uow.implementation_plans, KnownPlan.plan, "approved_at", x
        ),
        "implementation_plan_steps.append(title)": Built(
            lambda x: ImplementationPlanStep(plan_id=KnownPlan.plan, step_number=1, title=x),
            lambda uow, e: uow.implementation_plan_steps.append(e),
        ),
        "implementation_plan_steps.add(step_number)": Built(
            lambda x: ImplementationPlanStep(plan_id=KnownPlan.plan, step_number=x, title="t"),
            lambda uow, e: uow.implementation_plan_steps.add(e),
        ),
        "implementation_plan_steps.find_by_plan": lambda uow, x: (
            uow.implementation_plan_steps.find_by_plan(x)
        ),
        "implementation_plan_steps.move(key)": lambda uow, x: uow.implementation_plan_steps.move(
            x, 1
        ),
        "implementation_plan_steps.move(step_number)": lambda uow, x: (
            uow.implementation_plan_steps.move(KnownPlan.plan_step, x)
        ),
        "implementation_plan_steps.reorder(plan_id)": lambda uow, x: (
            uow.implementation_plan_steps.reorder(
                x, [KnownPlan.other_plan_step, KnownPlan.plan_step]
            )
        ),
        "implementation_plan_steps.reorder(ordered_step_ids)": lambda uow, x: (
            uow.implementation_plan_steps.reorder(KnownPlan.plan, x)
        ),
        "implementation_plan_steps.reorder(one of the ids)": lambda uow, x: (
            uow.implementation_plan_steps.reorder(KnownPlan.plan, [KnownPlan.plan_step, x])
        ),
        "implementation_plan_steps.override_agent(key)": lambda uow, x: (
            uow.implementation_plan_steps.override_agent(x, Known.profile)
        ),
        "implementation_plan_steps.override_agent(agent_id)": lambda uow, x: (
            uow.implementation_plan_steps.override_agent(KnownPlan.plan_step, x)
        ),
        "implementation_plan_steps.update(quality_gate_at)": lambda uow, x: update(
            uow.implementation_plan_steps, KnownPlan.plan_step, "quality_gate_at", x
        ),
        "implementation_plan_step_files.find_by_plan_step": lambda uow, x: (
            uow.implementation_plan_step_files.find_by_plan_step(x)
        ),
        "start_implementation": lambda uow, x: workflows.start_implementation(uow, x),
        "start_implementation(idempotency_key)": lambda uow, x: workflows.start_implementation(
            uow, KnownPlan.approved_plan, idempotency_key=x
        ),
    }
)


# The retention purges and the event log's consumers. A cutoff past everything populated
# (every row goes, the same count everywhere), and positions compared as "where it is"
# (PostgreSQL's sequence numbers run on across tests).
LATER = datetime(2030, 1, 1, tzinfo=UTC)
CALLS.update(
    {
        "audit_logs.purge_before(limit)": lambda uow, x: uow.audit_logs.purge_before(
            LATER, limit=x
        ),
        "idempotency_keys.purge_before": lambda uow, x: uow.idempotency_keys.purge_before(x),
        "idempotency_keys.purge_before(limit)": lambda uow, x: uow.idempotency_keys.purge_before(
            LATER, limit=x
        ),
        "agent_log_chunks.purge_before": lambda uow, x: uow.agent_log_chunks.purge_before(x),
        "agent_log_chunks.purge_before(limit)": lambda uow, x: uow.agent_log_chunks.purge_before(
            LATER, limit=x
        ),
        "metrics.purge_before": lambda uow, x: uow.metrics.purge_before(x),
        "metrics.purge_before(limit)": lambda uow, x: uow.metrics.purge_before(LATER, limit=x),
        "event_log.purge_before": lambda uow, x: uow.event_log.purge_before(x),
        "event_log.purge_before(limit)": lambda uow, x: purged_then_read(uow, x),
        "event_log.purged_through": lambda uow, x: uow.event_log.purged_through(),
        "event_consumers.register(name)": lambda uow, x: without_id(
            uow.event_consumers.register(x)
        ),
        "event_consumers.register(position)": lambda uow, x: registered_at(uow, x),
        "event_consumers.find_by_name": lambda uow, x: uow.event_consumers.find_by_name(x),
        "event_consumers.list": lambda uow, x: uow.event_consumers.list(),
        "event_consumers.acknowledge(name)": lambda uow, x: uow.event_consumers.acknowledge(x, 0),
        "event_consumers.acknowledge(position)": lambda uow, x: acknowledged_at(uow, x),
        "event_consumers.unregister": lambda uow, x: uow.event_consumers.unregister(x),
        "purge_audit_logs(limit)": lambda uow, x: audit.purge_audit_logs(uow, limit=x),
        "retention.purge_batch(kind)": lambda uow, x: retention.purge_batch(uow, x),
        "retention.purge_batch(cutoff)": lambda uow, x: retention.purge_batch(
            uow, retention.RetentionKind.AUDIT_LOGS, cutoff=x
        ),
        "retention.purge_batch(limit)": lambda uow, x: retention.purge_batch(
            uow, retention.RetentionKind.EVENT_LOG, cutoff=LATER, limit=x
        ),
        "retention.retention_cutoff": lambda uow, x: retention.retention_cutoff(uow, x),
        "settings.set_value(retention)": lambda uow, x: uow.settings.set_value(
            "retention.eventLogDays", x
        ),
    }
)


def purged_then_read(uow: UnitOfWork, limit: Any) -> object:
    """A bounded purge of the event log, and what a reader at 0 gets afterwards (the
    error's numbers differ per backend: PostgreSQL's sequence runs on across tests)."""
    removed = uow.event_log.purge_before(LATER, limit=limit)
    try:
        uow.event_log.read_after(0)
    except EventsPurged as behind:
        return removed, "fell behind", behind.position
    return removed, "read"


def registered_at(uow: UnitOfWork, position: Any) -> object:
    try:
        consumer = uow.event_consumers.register("hostile", position=position)
    except InvalidValue as refused:
        if refused.field == "position" and "past the newest event" in refused.problem:
            return "past the newest event"  # how far that is differs per backend
        raise
    return consumer.position == position


def acknowledged_at(uow: UnitOfWork, position: Any) -> object:
    uow.event_consumers.register("hostile", position=0)
    try:
        consumer = uow.event_consumers.acknowledge("hostile", position)
    except InvalidValue as refused:
        if refused.field == "position" and "past the newest event" in refused.problem:
            return "past the newest event"
        raise
    return consumer.position == position


def events_of(logged: list[LoggedEvent]) -> list[tuple[str, dict[str, Any]]]:
    return [(event.event_type, event.payload) for event in logged]


def last_sequence_is_the_newest(uow: UnitOfWork) -> bool:
    newest = max((e.sequence for e in uow.event_log.read_after(0, 10_000)), default=0)
    return uow.event_log.last_sequence() == newest


def without_id(entity: AgentLogChunk | EventConsumer) -> dict[str, object]:
    """A chunk appended inside the library (or a consumer it registered) has a random id:
    compared without it."""
    return entity.model_dump(exclude={"id"})


def _fresh_root(uow: UnitOfWork, title: Any) -> object:
    """A root page titled `title`, for an initiative that has none yet (less its id, which
    each backend generates)."""
    initiative = uow.initiatives.add(
        Initiative(id="initiative-2", project_id=Known.project, name="j")
    )
    root = uow.pages.get_or_create_root_page(initiative.id, title=title)
    return root.model_dump(exclude={"id"})


def crash_with_limit(uow: UnitOfWork, limit: Any) -> object:
    """A crash under whatever limit the setting could be given (a refused limit is the
    outcome)."""
    uow.settings.set_value("tasks.maxCrashRetries", limit)
    return uow.tasks.record_crash(Known.busy_task)


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
    project = uow.projects.add(Project(id=Known.project, name="Keel"))
    uow.initiatives.add(Initiative(id=Known.initiative, project_id=project.id, name="Auth"))
    for key in (Known.phase, Known.other_phase):
        uow.phases.add(Phase(id=key, initiative_id=Known.initiative, name=key))
    uow.phase_dependencies.create(Known.other_phase, Known.phase)
    uow.tasks.add(Task(id=Known.task, project_id=project.id, name="t", phase_id=Known.phase))
    uow.tasks.add(
        Task(id=Known.busy_task, project_id=project.id, name="busy", status="in_progress")  # type: ignore[arg-type]
    )
    uow.task_dependencies.create(Known.busy_task, Known.task)
    uow.repositories.add(
        Repository(id=Known.repository, project_id=project.id, name="api", path="/api")
    )
    uow.worktrees.add(
        Worktree(id=Known.worktree, repository_id=Known.repository, path="/wt/1", branch_name="b")
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
    for i, kind in enumerate(["token_usage", "task_duration", "qa_iterations"], 1):
        uow.metrics.record(
            Metric(
                id=f"metric-{i}",
                project_id=project.id,
                agent_id="agent-1",
                task_id="task-1",
                type=kind,  # type: ignore[arg-type]
                value=float(i),
                timestamp=datetime(2026, 1, i, tzinfo=UTC),
            )
        )
    profile = uow.agent_profiles.add(
        AgentProfile(
            id=Known.profile,
            name="coder",
            display_name="Coder",
            type="specialist",  # type: ignore[arg-type]
            system_prompt="You write code.",
        )
    )
    uow.agent_profile_tools.add(
        AgentProfileTool(id=Known.tool, profile_id=profile.id, tool_name="Read")
    )
    uow.agent_profile_skills.add(
        AgentProfileSkill(id=Known.skill, profile_id=profile.id, skill_name="tdd")
    )
    uow.accounts.add(Account(id=Known.account, email="a@x.io", credentials="secret"))
    uow.agents.add(
        Agent(
            id=Known.agent,
            name="brave-otter",
            account_id=Known.account,
            status="running",  # type: ignore[arg-type]
        )
    )
    uow.agents.add(Agent(id=Known.other_agent, name="calm-heron"))
    uow.conversations.add(
        Conversation(
            id=Known.conversation,
            from_agent_id=Known.agent,
            to_agent_id=Known.other_agent,
            question="Which branch?",
        )
    )
    uow.messages.add(
        Message(
            id=Known.message,
            sender_type=Party.AGENT,
            sender_agent_id=Known.agent,
            recipient_type=Party.USER,
            content="Merge now?",
        )
    )
    uow.interaction_sessions.add(
        InteractionSession(id=Known.session, project_id=project.id, type=SessionType.INTERVIEW)
    )
    uow.pages.add(Page(id=Known.page, initiative_id=Known.initiative, title="Root"))
    uow.errands.add(
        Errand(
            id=Known.errand,
            repository_id=Known.repository,
            agent_id=Known.agent,
            description="d",
            branch="b",
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
    populate_workflows(uow)
    populate_workflow_plans(uow)
    populate_backlog(uow)


def populate_workflow_plans(uow: UnitOfWork) -> None:
    from agentkeel.domain.workflows import (
        DiscoveredFile,
        ImplementationPlan,
        ImplementationPlanStepFile,
        StepType,
        Workflow,
        WorkflowStep,
        WorkflowType,
    )

    for workflow in (KnownPlan.workflow, KnownPlan.approved_workflow):
        uow.workflows.add(
            Workflow(
                id=workflow,
                project_id=Known.project,
                type=WorkflowType.PLANNING,
                feature_name="f",
                feature_request="r",
            )
        )
    uow.workflow_steps.add(
        WorkflowStep(
            id=KnownPlan.step,
            workflow_id=KnownPlan.workflow,
            step_type=StepType.DISCOVERY,
            step_number=1,
            title="Discover",
        )
    )
    uow.discovered_files.add(
        DiscoveredFile(id=KnownPlan.file, workflow_step_id=KnownPlan.step, file_path="known.py")
    )
    uow.implementation_plans.add(
        ImplementationPlan(
            id=KnownPlan.plan, workflow_id=KnownPlan.workflow, title="p", raw_plan_text="x"
        )
    )
    uow.implementation_plans.add(
        ImplementationPlan(
            id=KnownPlan.approved_plan,
            workflow_id=KnownPlan.approved_workflow,
            title="p",
            raw_plan_text="x",
        )
    )
    for key, plan in (
        (KnownPlan.plan_step, KnownPlan.plan),
        (KnownPlan.other_plan_step, KnownPlan.plan),
        ("plan-step-3", KnownPlan.approved_plan),
    ):
        uow.implementation_plan_steps.append(
            ImplementationPlanStep(id=key, plan_id=plan, step_number=1, title=key)
        )
    uow.implementation_plan_step_files.add(
        ImplementationPlanStepFile(
            id="plan-step-file-1", plan_step_id=KnownPlan.plan_step, file_path="a.py"
        )
    )
    uow.implementation_plans.approve(KnownPlan.approved_plan)


def populate_backlog(uow: UnitOfWork) -> None:
    # The project and tasks come from `populate`.
    uow.features.add(Feature(id=Known.feature, project_id=Known.project, name="f"))
    uow.sub_features.add(SubFeature(id=Known.sub_feature, feature_id=Known.feature, name="s"))
    uow.requirements.add(
        Requirement(id=Known.requirement, project_id=Known.project, category="c", description="d")
    )
    task = uow.tasks.get(Known.busy_task)
    task.sub_feature_id = Known.sub_feature
    uow.tasks.update(task)
    uow.checkpoints.add(
        Checkpoint(
            id=Known.checkpoint,
            project_id=Known.project,
            state=uow.checkpoints.snapshot(Known.project),
        )
    )
    uow.features.add(Feature(id="feature-2", project_id=Known.project, name="later"))


def populate_planning(uow: UnitOfWork) -> None:
    from agentkeel.domain.planning import ReviewComment

    # The project, initiative, phases, task, page and agents come from `populate`.
    uow.proposals.add(
        Proposal(
            id=Known.proposal,
            agent_id=Known.agent,
            initiative_id=Known.initiative,
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
            initiative_id=Known.initiative,
            agent_id=Known.agent,
        )
    )
    uow.change_sets.add(ChangeSet(id=Known.change_set, initiative_id=Known.initiative))


def populate_workflows(uow: UnitOfWork) -> None:
    # The project and repository come from `populate`.
    uow.workflows.add(
        Workflow(
            id=Known.planning_workflow,
            project_id=Known.project,
            type=WorkflowType.PLANNING,
            feature_name="Login",
            feature_request="Plan it",
        )
    )
    uow.workflows.add(new_workflow(id=Known.workflow, parent_workflow_id=Known.planning_workflow))
    uow.workflows.start(Known.workflow)
    uow.workflow_repositories.link(Known.workflow, Known.repository)
    uow.workflow_steps.add(new_step(id=Known.step, step_number=1))
    uow.workflow_steps.start(Known.step, agent_id=Known.agent, pid=4242)
    uow.workflow_steps.add(new_step(id=Known.pending_step, step_number=2))
    # A paused and a failed step, of a workflow that is running (the first step failing
    # pauses it: resumed), for the moves that name a runner.
    uow.workflow_steps.add(new_step(id=Known.paused_step, step_number=3, status="paused"))
    uow.workflow_steps.add(new_step(id=Known.failed_step, step_number=4, status="running"))
    uow.workflow_steps.fail(Known.failed_step, "exit 1")
    uow.workflows.resume(Known.workflow)


@pytest.fixture
def backends(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> Iterator[dict[str, Database]]:
    postgres: Engine | None = request.getfixturevalue("postgres_engine") if POSTGRES_URL else None
    with workdir() as folder:
        dbs = EqualBackends(sqlite_template, postgres, folder).open()
        for db in dbs.values():
            # The audit entries the workflows write get the same ids everywhere.
            with db.unit_of_work() as uow, numbered_ids(1):
                populate(uow)
                uow.commit()
        try:
            yield dbs
        finally:
            EqualBackends.close(dbs)


def try_call(backends: dict[str, Database], call: str, value: Any) -> None:
    """Call `call` with `value` on every backend, each in a unit of work rolled back: the
    same result or the same domain error everywhere, or the test fails."""
    TRIED.update([call])
    entry = CALLS[call]
    outcomes: dict[str, Outcome] = {}
    if isinstance(entry, OnDatabase):
        for name, db in backends.items():
            outcomes[name] = on_database(entry, db, value)
    else:
        if isinstance(entry, Built):
            try:
                argument = entry.build(value)
            except DomainError:
                OUTCOMES.update(["refused before the call"])
                return  # refused by the domain, before any backend is involved
            method = entry.call
        else:
            method, argument = entry, value
        for name, db in backends.items():
            # Rolled back: every example starts from the same rows (and makes the same ids).
            # Any exception but a domain error propagates from `outcome_of` and fails the
            # test.
            with numbered_ids(0), db.unit_of_work() as uow:
                outcomes[name] = outcome_of(lambda uow: method(uow, argument), uow)
    try:
        agreed = assert_agree(outcomes)
    except AssertionError as disagreement:
        raise AssertionError(f"{call} with {shown(value)}: {disagreement}") from None
    OUTCOMES.update(["domain error" if agreed[0] == "error" else "succeeded"])


def on_database(entry: OnDatabase, db: Database, value: Any) -> Outcome:
    """What a call of the Database gave: as `outcome_of` says it for a unit of work's."""
    try:
        return ("ok", normalise(entry.call(db, value)))
    except DomainError as error:
        return ("error", type(error).__name__, str(error))


# What the examples of this run tried and what came of them, for the figures.
TRIED: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()


@on_every_backend
@settings(
    # Examples are cheap (most are refused before any backend is asked): five times the
    # profile's number.
    max_examples=settings().max_examples * 5,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=st.sampled_from(sorted(CALLS)), value=HOSTILE)
def test_hostile_values_get_a_domain_error_or_round_trip_alike(
    backends: dict[str, Database], figures: Figures, call: str, value: Any
) -> None:
    try:
        try_call(backends, call, value)
    finally:
        figures.set(
            "hostile input",
            inputs_tried=TRIED.total(),
            calls_tried=len(TRIED),
            calls=len(CALLS),
            **{kind.replace(" ", "_"): n for kind, n in sorted(OUTCOMES.items())},
        )


# A few values of each kind that has broken something before, tried on every call: the
# random examples above cover the kinds, this sweep covers every call.
SWEEP: list[Any] = [
    None,
    "a\x00b",
    "lone \ud800",
    "'; DROP TABLE projects;--",
    "x" * 1_000_001,
    float("nan"),
    2**63,
    nested(1_000),
    datetime(2026, 1, 1),
    # Both families, for every argument (test_every_enum_or_nested_argument_is_swept says
    # which arguments must have a call of their own):
    nested(50_000),
    DEEP_JSON_TEXT,
    BAD_ENUM_VALUE,
]


@on_every_backend
def test_every_call_gets_a_domain_error_or_round_trips_each_sweep_value(
    backends: dict[str, Database], figures: Figures
) -> None:
    before = OUTCOMES.copy()
    for call in sorted(CALLS):
        for value in SWEEP:
            try_call(backends, call, value)
    swept = OUTCOMES - before
    figures.set(
        "hostile input (sweep)",
        calls=len(CALLS),
        values=len(SWEEP),
        tried=swept.total(),
        **{kind.replace(" ", "_"): n for kind, n in sorted(swept.items())},
    )


# Calls that take the Database and open (and commit) units of work of their own: swept
# with the same values in the same order on backends that start out equal, so that they
# stay equal. A report is compared without its cutoffs (each backend's clock).
DB_CALLS: dict[str, Callable[[Database, Any], object]] = {
    "purge_expired(batch_size)": lambda db, x: report_of(retention.purge_expired(db, batch_size=x)),
    "purge_expired(kinds)": lambda db, x: report_of(retention.purge_expired(db, kinds=x)),
    "EventLogReader(consumer)": lambda db, x: events_of(EventLogReader(db, consumer=x).read()),
    "EventLogReader(after)": lambda db, x: events_of(EventLogReader(db, after=x).read()),
    "EventLogReader(batch)": lambda db, x: events_of(EventLogReader(db, batch=x).read()),
    "EventLogReader.read(limit)": lambda db, x: events_of(EventLogReader(db).read(x)),
    "EventLogReader.acknowledge": lambda db, x: EventLogReader(db, consumer="c").acknowledge(x),
}


def report_of(report: retention.RetentionReport) -> list[tuple[str, int, int, int]]:
    return [(p.kind.value, p.days, p.removed, p.batches) for p in report.kinds]


@on_every_backend
def test_every_database_call_gets_a_domain_error_or_round_trips_each_sweep_value(
    backends: dict[str, Database], figures: Figures
) -> None:
    outcomes_seen: Counter[str] = Counter()
    for call in sorted(DB_CALLS):
        for value in SWEEP:
            outcomes: dict[str, Outcome] = {}
            for name, db in backends.items():
                with numbered_ids(0):
                    try:
                        outcomes[name] = ("ok", DB_CALLS[call](db, value))
                    except DomainError as error:
                        outcomes[name] = ("error", type(error).__name__, str(error))
            try:
                agreed = assert_agree(outcomes)
            except AssertionError as disagreement:
                raise AssertionError(f"{call} with {shown(value)}: {disagreement}") from None
            outcomes_seen.update(["domain error" if agreed[0] == "error" else "succeeded"])
    figures.set(
        "hostile input (database calls)",
        calls=len(DB_CALLS),
        values=len(SWEEP),
        **{kind.replace(" ", "_"): n for kind, n in sorted(outcomes_seen.items())},
    )


def test_every_call_is_tried() -> None:
    """Each port method of the workspace, audit and agents contexts has an entry above: every
    port's own methods, and the generic ones (shared by all ports) on one port at least."""
    from agentkeel.ports.agents import (
        Accounts,
        AgentLogChunks,
        AgentProfiles,
        AgentProfileSkills,
        AgentProfileTools,
        Agents,
        Conversations,
        InteractionSessions,
        Messages,
        Metrics,
    )
    from agentkeel.ports.audit import AuditLogs, IdempotencyKeys
    from agentkeel.ports.backlog import (
        Checkpoints,
        Features,
        RequirementFeatures,
        Requirements,
        SubFeatures,
    )
    from agentkeel.ports.base import EntityRepository
    from agentkeel.ports.events import EventConsumers, EventLog
    from agentkeel.ports.planning import (
        ChangeSetEntries,
        ChangeSets,
        ChatMessages,
        ChatSessions,
        Errands,
        InitiativeRepositories,
        Initiatives,
        Pages,
        PhaseDependencies,
        Phases,
        Proposals,
        ReviewComments,
        TaskDependencies,
        Tasks,
    )
    from agentkeel.ports.workflows import (
        DiscoveredFiles,
        ImplementationPlans,
        ImplementationPlanStepFiles,
        ImplementationPlanSteps,
        WorkflowRepositories,
        Workflows,
        WorkflowSteps,
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
        "agents": Agents,
        "accounts": Accounts,
        "projects": Projects,
        "repositories": Repositories,
        "worktrees": Worktrees,
        "settings": Settings,
        "templates": Templates,
        "template_placeholders": TemplatePlaceholders,
        "audit_logs": AuditLogs,
        "agent_log_chunks": AgentLogChunks,
        "metrics": Metrics,
        "agent_profiles": AgentProfiles,
        "agent_profile_tools": AgentProfileTools,
        "agent_profile_skills": AgentProfileSkills,
        "conversations": Conversations,
        "messages": Messages,
        "interaction_sessions": InteractionSessions,
        "initiatives": Initiatives,
        "initiative_repositories": InitiativeRepositories,
        "pages": Pages,
        "errands": Errands,
        "phases": Phases,
        "phase_dependencies": PhaseDependencies,
        "tasks": Tasks,
        "task_dependencies": TaskDependencies,
        "proposals": Proposals,
        "review_comments": ReviewComments,
        "chat_sessions": ChatSessions,
        "chat_messages": ChatMessages,
        "change_sets": ChangeSets,
        "change_set_entries": ChangeSetEntries,
        "discovered_files": DiscoveredFiles,
        "implementation_plans": ImplementationPlans,
        "implementation_plan_steps": ImplementationPlanSteps,
        "implementation_plan_step_files": ImplementationPlanStepFiles,
        "features": Features,
        "sub_features": SubFeatures,
        "requirements": Requirements,
        "requirement_features": RequirementFeatures,
        "checkpoints": Checkpoints,
        "workflows": Workflows,
        "workflow_repositories": WorkflowRepositories,
        "workflow_steps": WorkflowSteps,
        "event_log": EventLog,
        "event_consumers": EventConsumers,
        "idempotency_keys": IdempotencyKeys,
    }
    tried = {name.split("(")[0] for name in CALLS}
    generic = {name for name in dir(EntityRepository) if not name.startswith("_")}
    for prefix, port in ports.items():
        own = {name for name in dir(port) if not name.startswith("_")} - generic
        for method in own:
            assert f"{prefix}.{method}" in tried, f"{prefix}.{method} is not fed hostile input"
    for method in generic - {"count"}:  # count takes no argument
        assert any(name.endswith(f".{method}") for name in tried), f"no port's {method} is"


def _takes_enums_or_nesting(annotation: Any) -> bool:
    """Whether an argument so annotated takes an enum value, or a value that may nest (JSON,
    a mapping, a collection, anything)."""
    if annotation is Any or annotation is JsonValue:
        return True
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return True
    origin = typing.get_origin(annotation)
    if origin in (list, dict, tuple, set, frozenset) or (
        isinstance(origin, type) and issubclass(origin, abc.Iterable) and origin is not str
    ):
        return True
    return any(_takes_enums_or_nesting(part) for part in typing.get_args(annotation))


def _arguments(prefix: str, function: Callable[..., Any]) -> Iterator[str]:
    hints = typing.get_type_hints(function)
    for name in inspect.signature(function).parameters:
        if name not in ("self", "uow") and _takes_enums_or_nesting(hints.get(name)):
            yield f"{prefix}({name})"


def test_every_enum_or_nested_argument_is_swept() -> None:
    """Every argument that takes an enum value or a value that may nest, of every port
    method, service function and `Database` method, has a call of its own above, named
    `port.method(argument)` (or `port.method(argument: variant)`): the sweep then gives it
    a bad enum value and values nested past the recursion limit. A method added later with
    such an argument fails here until it has one."""
    from agentkeel.ports.base import EntityRepository
    from agentkeel.services import audit, backlog, planning, recovery, workflows, workspace

    wanted: list[str] = []
    generic = {name for name in dir(EntityRepository) if not name.startswith("_")}
    swept_generic = {call.split(".", 1)[1] for call in CALLS if "." in call}
    for attribute, member in vars(UnitOfWork).items():
        if not isinstance(member, property) or member.fget is None:
            continue
        port = typing.get_type_hints(member.fget)["return"]
        for name, method in inspect.getmembers(port, inspect.isfunction):
            if name.startswith("_"):
                continue
            arguments = list(_arguments(f"{attribute}.{name}", method))
            if name in generic:
                # Written once for every port: swept on one port at least.
                for argument in arguments:
                    assert argument.split(".", 1)[1] in swept_generic, (
                        f"{argument} is not swept on any port: add a call"
                    )
                continue
            wanted += arguments
    for module in (audit, backlog, planning, recovery, workflows, workspace):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and function.__module__ == module.__name__:
                wanted += _arguments(name, function)
    for name, method in inspect.getmembers(Database, inspect.isfunction):
        if not name.startswith("_"):
            wanted += _arguments(f"db.{name}", method)
    assert "db.unit_of_work(source)" in wanted and "tasks.list(status)" in wanted
    for argument in wanted:
        variant = argument[:-1] + ": "
        assert argument in CALLS or any(call.startswith(variant) for call in CALLS), (
            f"{argument} is not swept: add a call giving it the hostile value"
        )
