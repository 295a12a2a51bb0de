"""The unit of work: one transaction, and the repositories that work inside it."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from agentkeel.domain.audit import EventSource
from agentkeel.domain.clock import Clock
from agentkeel.domain.events import DomainEvent, HandlerFailure
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


class UnitOfWork(Protocol):
    """`with uow:` opens a transaction; `uow.commit()` makes it permanent; leaving the block
    without committing rolls everything back. Repositories are attributes, usable only
    inside the block. Events recorded by the repositories (and with `record`) reach
    subscribers after a successful commit, never after a rollback. Opened `read_only`, every
    write raises `ReadOnly`. Waiting too long for another unit of work raises `Busy`.
    """

    clock: Clock
    source: EventSource

    @property
    def projects(self) -> Projects: ...

    @property
    def repositories(self) -> Repositories: ...

    @property
    def worktrees(self) -> Worktrees: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def templates(self) -> Templates: ...

    @property
    def template_placeholders(self) -> TemplatePlaceholders: ...

    @property
    def agent_profiles(self) -> AgentProfiles: ...

    @property
    def agent_profile_tools(self) -> AgentProfileTools: ...

    @property
    def agent_profile_skills(self) -> AgentProfileSkills: ...

    @property
    def agents(self) -> Agents: ...

    @property
    def accounts(self) -> Accounts: ...

    @property
    def agent_log_chunks(self) -> AgentLogChunks: ...

    @property
    def conversations(self) -> Conversations: ...

    @property
    def messages(self) -> Messages: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def interaction_sessions(self) -> InteractionSessions: ...

    @property
    def initiatives(self) -> Initiatives: ...

    @property
    def initiative_repositories(self) -> InitiativeRepositories: ...

    @property
    def phases(self) -> Phases: ...

    @property
    def phase_dependencies(self) -> PhaseDependencies: ...

    @property
    def tasks(self) -> Tasks: ...

    @property
    def task_dependencies(self) -> TaskDependencies: ...

    @property
    def pages(self) -> Pages: ...

    @property
    def proposals(self) -> Proposals: ...

    @property
    def review_comments(self) -> ReviewComments: ...

    @property
    def chat_sessions(self) -> ChatSessions: ...

    @property
    def chat_messages(self) -> ChatMessages: ...

    @property
    def change_sets(self) -> ChangeSets: ...

    @property
    def change_set_entries(self) -> ChangeSetEntries: ...

    @property
    def errands(self) -> Errands: ...

    @property
    def workflows(self) -> Workflows: ...

    @property
    def workflow_repositories(self) -> WorkflowRepositories: ...

    @property
    def workflow_steps(self) -> WorkflowSteps: ...

    @property
    def discovered_files(self) -> DiscoveredFiles: ...

    @property
    def implementation_plans(self) -> ImplementationPlans: ...

    @property
    def implementation_plan_steps(self) -> ImplementationPlanSteps: ...

    @property
    def implementation_plan_step_files(self) -> ImplementationPlanStepFiles: ...

    @property
    def features(self) -> Features: ...

    @property
    def sub_features(self) -> SubFeatures: ...

    @property
    def requirements(self) -> Requirements: ...

    @property
    def requirement_features(self) -> RequirementFeatures: ...

    @property
    def checkpoints(self) -> Checkpoints: ...

    @property
    def audit_logs(self) -> AuditLogs: ...

    @property
    def idempotency_keys(self) -> IdempotencyKeys: ...

    @property
    def event_log(self) -> EventLog: ...

    @property
    def event_consumers(self) -> EventConsumers: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> list[HandlerFailure]:
        """Make everything written so far permanent, then publish the recorded events.
        The events are also appended to the event log (`event_log`) in the transaction
        that commits: they are in the log if and only if the commit succeeded.
        The unit of work stays open for more work in a new transaction.

        Raises only if the commit itself fails (then nothing is published): `Busy` or
        another `Conflict` (retry the unit of work), or `RefusedByDatabase` for a deferred
        trigger or constraint the database holds of its own (the transaction is rolled
        back; the unit of work begins a new one with its next call). Once committed,
        every event reaches every subscriber: a subscriber that raises is logged (logger
        `agentkeel.events`) and listed in the returned failures, never raised, so a
        committed unit of work cannot look failed. The list is empty when all went well."""
        ...

    def rollback(self) -> None:
        """Undo everything written since the last commit and drop the recorded events."""
        ...

    def record(self, event: DomainEvent) -> None:
        """Queue an event for publication after the next successful commit."""
        ...
