"""The unit of work, written once: an adapter supplies only how a transaction begins, commits
and rolls back, and the store to use inside it.

Repositories are declared here, one line each (`projects = OnFirstUse(ProjectsTable)`),
and built the first time a unit of work uses them: a unit of work that touches two
repositories builds two, however many exist.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast, overload

from agentkeel.domain.audit import EventSource
from agentkeel.domain.clock import Clock
from agentkeel.domain.entity import member_of
from agentkeel.domain.errors import RefusedByDatabase
from agentkeel.domain.events import DomainEvent, EventBus, HandlerFailure
from agentkeel.ports.store import RowStore
from agentkeel.repositories import writers
from agentkeel.repositories.agents import (
    AccountsTable,
    AgentLogChunksTable,
    AgentProfileSkillsTable,
    AgentProfilesTable,
    AgentProfileToolsTable,
    AgentsTable,
    ConversationsTable,
    InteractionSessionsTable,
    MessagesTable,
    MetricsTable,
)
from agentkeel.repositories.audit import (
    AuditLogsTable,
    EventConsumersTable,
    EventLogTable,
    IdempotencyKeysTable,
    log_rows,
)
from agentkeel.repositories.backlog import (
    CheckpointsTable,
    FeaturesTable,
    RequirementFeaturesTable,
    RequirementsTable,
    SubFeaturesTable,
)
from agentkeel.repositories.planning import (
    ChangeSetEntriesTable,
    ChangeSetsTable,
    ChatMessagesTable,
    ChatSessionsTable,
    ErrandsTable,
    InitiativeRepositoriesTable,
    InitiativesTable,
    PagesTable,
    PhaseDependenciesTable,
    PhasesTable,
    ProposalsTable,
    ReviewCommentsTable,
    TaskDependenciesTable,
    TasksTable,
)
from agentkeel.repositories.read_only import ReadOnlyStore
from agentkeel.repositories.state import UnitState
from agentkeel.repositories.workflows import (
    DiscoveredFilesTable,
    ImplementationPlansTable,
    ImplementationPlanStepFilesTable,
    ImplementationPlanStepsTable,
    WorkflowRepositoriesTable,
    WorkflowsTable,
    WorkflowStepsTable,
)
from agentkeel.repositories.workspace import (
    ProjectsTable,
    RepositoriesTable,
    SettingsTable,
    TemplatePlaceholdersTable,
    TemplatesTable,
    WorktreesTable,
)
from agentkeel.schema.events import event_log as event_log_table

R = TypeVar("R")


class OnFirstUse(Generic[R]):
    """A repository attribute of the unit of work: built from the open unit's state the
    first time it is read, then kept until the unit of work closes."""

    def __init__(self, build: Callable[[UnitState], R]) -> None:
        self._build = build
        self._name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, uow: BaseUnitOfWork, owner: type[Any]) -> R: ...

    def __get__(self, uow: BaseUnitOfWork | None, owner: type[Any]) -> Self | R:
        if uow is None:
            return self
        state = uow._open()
        built = state.repositories.get(self._name)
        if built is None:
            built = state.repositories[self._name] = self._build(state)
        return cast(R, built)


class BaseUnitOfWork:
    """What every adapter's unit of work shares; it satisfies the `UnitOfWork` port."""

    projects = OnFirstUse(ProjectsTable)
    repositories = OnFirstUse(RepositoriesTable)
    worktrees = OnFirstUse(WorktreesTable)
    settings = OnFirstUse(SettingsTable)
    templates = OnFirstUse(TemplatesTable)
    template_placeholders = OnFirstUse(TemplatePlaceholdersTable)
    agent_profiles = OnFirstUse(AgentProfilesTable)
    agent_profile_tools = OnFirstUse(AgentProfileToolsTable)
    agent_profile_skills = OnFirstUse(AgentProfileSkillsTable)
    agents = OnFirstUse(AgentsTable)
    accounts = OnFirstUse(AccountsTable)
    agent_log_chunks = OnFirstUse(AgentLogChunksTable)
    conversations = OnFirstUse(ConversationsTable)
    messages = OnFirstUse(MessagesTable)
    metrics = OnFirstUse(MetricsTable)
    interaction_sessions = OnFirstUse(InteractionSessionsTable)
    initiatives = OnFirstUse(InitiativesTable)
    initiative_repositories = OnFirstUse(InitiativeRepositoriesTable)
    phases = OnFirstUse(PhasesTable)
    phase_dependencies = OnFirstUse(PhaseDependenciesTable)
    tasks = OnFirstUse(TasksTable)
    task_dependencies = OnFirstUse(TaskDependenciesTable)
    pages = OnFirstUse(PagesTable)
    proposals = OnFirstUse(ProposalsTable)
    review_comments = OnFirstUse(ReviewCommentsTable)
    chat_sessions = OnFirstUse(ChatSessionsTable)
    chat_messages = OnFirstUse(ChatMessagesTable)
    change_sets = OnFirstUse(ChangeSetsTable)
    change_set_entries = OnFirstUse(ChangeSetEntriesTable)
    errands = OnFirstUse(ErrandsTable)
    workflows = OnFirstUse(WorkflowsTable)
    workflow_repositories = OnFirstUse(WorkflowRepositoriesTable)
    workflow_steps = OnFirstUse(WorkflowStepsTable)
    discovered_files = OnFirstUse(DiscoveredFilesTable)
    implementation_plans = OnFirstUse(ImplementationPlansTable)
    implementation_plan_steps = OnFirstUse(ImplementationPlanStepsTable)
    implementation_plan_step_files = OnFirstUse(ImplementationPlanStepFilesTable)
    features = OnFirstUse(FeaturesTable)
    sub_features = OnFirstUse(SubFeaturesTable)
    requirements = OnFirstUse(RequirementsTable)
    requirement_features = OnFirstUse(RequirementFeaturesTable)
    checkpoints = OnFirstUse(CheckpointsTable)
    audit_logs = OnFirstUse(AuditLogsTable)
    idempotency_keys = OnFirstUse(IdempotencyKeysTable)
    event_log = OnFirstUse(EventLogTable)
    event_consumers = OnFirstUse(EventConsumersTable)

    def __init__(
        self, clock: Clock, bus: EventBus, source: EventSource, read_only: bool = False
    ) -> None:
        self.clock = clock
        self.source = member_of(EventSource, source, "unit_of_work", "source")
        self.read_only = read_only
        self._bus = bus
        self._state: UnitState | None = None

    # -- what an adapter supplies -----------------------------------------------------------

    def _begin(self) -> RowStore:
        raise NotImplementedError

    def _commit(self) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Undo what was not committed and let go of the transaction."""
        raise NotImplementedError

    # -- the protocol ----------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self._state is not None:
            raise RuntimeError("this unit of work is already open")
        # Counted while open, so that a wait can tell a unit of work waiting for its own
        # thread's (writers.busy); plain calls, as a context manager costs a few µs a unit.
        if not self.read_only:
            writers.opened()
        try:
            store = self._begin()
        except BaseException:
            if not self.read_only:
                writers.closed()
            raise
        store = ReadOnlyStore(store) if self.read_only else store
        self._state = UnitState(store, self.source, uow=self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._open().end_transaction()
            self._close()
        finally:
            state, self._state = self._state, None
            if state is not None:
                # The repositories refer to the state that holds them: let go of them now,
                # and of what they hold (a batch's rows read ahead, a dependency graph), not
                # at the garbage collector's next pass, which costs every caller a share.
                state.repositories.clear()
            if not self.read_only:
                writers.closed()

    def commit(self) -> list[HandlerFailure]:
        state = self._open()
        if state.events:
            # The outbox: in the transaction that commits, one bulk statement.
            try:
                state.store.append_log(event_log_table, log_rows(state.events, self.clock.now()))
            except RefusedByDatabase:
                # Refused as a commit the database refuses is: nothing stays.
                state.end_transaction()
                self._rollback()
                raise
        self._commit()
        events = list(state.events)
        state.end_transaction()
        return [failure for event in events for failure in self._bus.publish(event)]

    def rollback(self) -> None:
        self._open().end_transaction()
        self._rollback()

    def record(self, event: DomainEvent) -> None:
        self._open().events.append(event)

    @property
    def store(self) -> RowStore:
        """The row store of the open transaction, below every rule of the repositories: for
        tools and tests that must work beneath the ports (a raw read, a row planted by
        hand). Applications use the repositories."""
        return self._open().store

    def _open(self) -> UnitState:
        if self._state is None:
            raise RuntimeError("use the unit of work inside `with uow:`")
        return self._state
