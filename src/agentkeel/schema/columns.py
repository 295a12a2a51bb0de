"""Every table's name and column names, as attributes mypy checks: the rules write
`Eq(TASKS.status, ...)` and `row[TASKS.status]`, never "status", so that a misspelt or
renamed column fails `make test` before any query runs.

Generated from the schema by `agentkeel columns-module` (`make docs`); do not edit.
"""

from __future__ import annotations

from typing import Final


class AccountsColumns:
    """The columns of `accounts`."""

    __slots__ = ()
    TABLE: Final = "accounts"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    email: Final = "email"
    provider: Final = "provider"
    config_json: Final = "config_json"
    credentials: Final = "credentials"
    exhausted_at: Final = "exhausted_at"
    exhausted_until: Final = "exhausted_until"
    last_used_at: Final = "last_used_at"
    sort_order: Final = "sort_order"


ACCOUNTS: Final = AccountsColumns()


class AgentLogChunksColumns:
    """The columns of `agent_log_chunks`."""

    __slots__ = ()
    TABLE: Final = "agent_log_chunks"
    id: Final = "id"
    agent_id: Final = "agent_id"
    agent_name: Final = "agent_name"
    session_number: Final = "session_number"
    chunk_number: Final = "chunk_number"
    content: Final = "content"
    created_at: Final = "created_at"


AGENT_LOG_CHUNKS: Final = AgentLogChunksColumns()


class AgentProfileSkillsColumns:
    """The columns of `agent_profile_skills`."""

    __slots__ = ()
    TABLE: Final = "agent_profile_skills"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    profile_id: Final = "profile_id"
    skill_name: Final = "skill_name"
    order_index: Final = "order_index"
    required_at: Final = "required_at"


AGENT_PROFILE_SKILLS: Final = AgentProfileSkillsColumns()


class AgentProfileToolsColumns:
    """The columns of `agent_profile_tools`."""

    __slots__ = ()
    TABLE: Final = "agent_profile_tools"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    profile_id: Final = "profile_id"
    tool_name: Final = "tool_name"
    tool_pattern: Final = "tool_pattern"
    order_index: Final = "order_index"
    disallowed_at: Final = "disallowed_at"


AGENT_PROFILE_TOOLS: Final = AgentProfileToolsColumns()


class AgentProfilesColumns:
    """The columns of `agent_profiles`."""

    __slots__ = ()
    TABLE: Final = "agent_profiles"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    project_id: Final = "project_id"
    parent_profile_id: Final = "parent_profile_id"
    name: Final = "name"
    display_name: Final = "display_name"
    type: Final = "type"
    description: Final = "description"
    system_prompt: Final = "system_prompt"
    color: Final = "color"
    version: Final = "version"
    built_in_at: Final = "built_in_at"
    deactivated_at: Final = "deactivated_at"


AGENT_PROFILES: Final = AgentProfilesColumns()


class AgentsColumns:
    """The columns of `agents`."""

    __slots__ = ()
    TABLE: Final = "agents"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    name: Final = "name"
    profile_id: Final = "profile_id"
    account_id: Final = "account_id"
    session_id: Final = "session_id"
    session_number: Final = "session_number"
    worktree_path: Final = "worktree_path"
    branch_name: Final = "branch_name"
    provider: Final = "provider"
    status: Final = "status"
    mode: Final = "mode"
    type: Final = "type"
    prompt: Final = "prompt"
    pid: Final = "pid"
    exit_code: Final = "exit_code"
    output_file_path: Final = "output_file_path"
    result: Final = "result"
    pending_questions: Final = "pending_questions"
    user_dismissed_at: Final = "user_dismissed_at"
    tokens_used: Final = "tokens_used"
    tasks_completed: Final = "tasks_completed"
    tasks_failed: Final = "tasks_failed"
    spawned_at: Final = "spawned_at"
    last_activity_at: Final = "last_activity_at"
    terminated_at: Final = "terminated_at"
    termination_reason: Final = "termination_reason"
    task_id: Final = "task_id"
    initiative_id: Final = "initiative_id"


AGENTS: Final = AgentsColumns()


class AuditLogsColumns:
    """The columns of `audit_logs`."""

    __slots__ = ()
    TABLE: Final = "audit_logs"
    id: Final = "id"
    entity_type: Final = "entity_type"
    entity_id: Final = "entity_id"
    event_type: Final = "event_type"
    event_category: Final = "event_category"
    severity: Final = "severity"
    message: Final = "message"
    event_data: Final = "event_data"
    before_state: Final = "before_state"
    after_state: Final = "after_state"
    source: Final = "source"
    timestamp: Final = "timestamp"
    workflow_id: Final = "workflow_id"
    workflow_step_id: Final = "workflow_step_id"


AUDIT_LOGS: Final = AuditLogsColumns()


class ChangeSetEntriesColumns:
    """The columns of `change_set_entries`."""

    __slots__ = ()
    TABLE: Final = "change_set_entries"
    id: Final = "id"
    change_set_id: Final = "change_set_id"
    entity_type: Final = "entity_type"
    entity_id: Final = "entity_id"
    action: Final = "action"
    position: Final = "position"
    before_state: Final = "before_state"
    after_state: Final = "after_state"
    created_at: Final = "created_at"


CHANGE_SET_ENTRIES: Final = ChangeSetEntriesColumns()


class ChangeSetsColumns:
    """The columns of `change_sets`."""

    __slots__ = ()
    TABLE: Final = "change_sets"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    initiative_id: Final = "initiative_id"
    chat_session_id: Final = "chat_session_id"
    description: Final = "description"
    reverted_at: Final = "reverted_at"


CHANGE_SETS: Final = ChangeSetsColumns()


class ChatMessagesColumns:
    """The columns of `chat_messages`."""

    __slots__ = ()
    TABLE: Final = "chat_messages"
    id: Final = "id"
    chat_session_id: Final = "chat_session_id"
    role: Final = "role"
    content: Final = "content"
    change_set_id: Final = "change_set_id"
    sequence: Final = "sequence"
    created_at: Final = "created_at"


CHAT_MESSAGES: Final = ChatMessagesColumns()


class ChatSessionsColumns:
    """The columns of `chat_sessions`."""

    __slots__ = ()
    TABLE: Final = "chat_sessions"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    target_type: Final = "target_type"
    target_id: Final = "target_id"
    initiative_id: Final = "initiative_id"
    agent_id: Final = "agent_id"
    status: Final = "status"


CHAT_SESSIONS: Final = ChatSessionsColumns()


class CheckpointsColumns:
    """The columns of `checkpoints`."""

    __slots__ = ()
    TABLE: Final = "checkpoints"
    id: Final = "id"
    project_id: Final = "project_id"
    name: Final = "name"
    reason: Final = "reason"
    state: Final = "state"
    git_commit: Final = "git_commit"
    created_at: Final = "created_at"


CHECKPOINTS: Final = CheckpointsColumns()


class ConversationsColumns:
    """The columns of `conversations`."""

    __slots__ = ()
    TABLE: Final = "conversations"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    from_agent_id: Final = "from_agent_id"
    to_agent_id: Final = "to_agent_id"
    question: Final = "question"
    answer: Final = "answer"
    status: Final = "status"
    initiative_id: Final = "initiative_id"
    phase_id: Final = "phase_id"
    task_id: Final = "task_id"


CONVERSATIONS: Final = ConversationsColumns()


class DiscoveredFilesColumns:
    """The columns of `discovered_files`."""

    __slots__ = ()
    TABLE: Final = "discovered_files"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    workflow_step_id: Final = "workflow_step_id"
    file_path: Final = "file_path"
    priority: Final = "priority"
    original_priority: Final = "original_priority"
    description: Final = "description"
    action: Final = "action"
    order_index: Final = "order_index"
    file_exists_at: Final = "file_exists_at"
    included_at: Final = "included_at"
    user_added_at: Final = "user_added_at"
    user_modified_at: Final = "user_modified_at"


DISCOVERED_FILES: Final = DiscoveredFilesColumns()


class ErrandsColumns:
    """The columns of `errands`."""

    __slots__ = ()
    TABLE: Final = "errands"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    repository_id: Final = "repository_id"
    agent_id: Final = "agent_id"
    description: Final = "description"
    branch: Final = "branch"
    base_branch: Final = "base_branch"
    status: Final = "status"


ERRANDS: Final = ErrandsColumns()


class EventConsumersColumns:
    """The columns of `event_consumers`."""

    __slots__ = ()
    TABLE: Final = "event_consumers"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    name: Final = "name"
    position: Final = "position"


EVENT_CONSUMERS: Final = EventConsumersColumns()


class EventLogColumns:
    """The columns of `event_log`."""

    __slots__ = ()
    TABLE: Final = "event_log"
    sequence: Final = "sequence"
    event_type: Final = "event_type"
    payload: Final = "payload"
    recorded_at: Final = "recorded_at"


EVENT_LOG: Final = EventLogColumns()


class FeaturesColumns:
    """The columns of `features`."""

    __slots__ = ()
    TABLE: Final = "features"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    project_id: Final = "project_id"
    name: Final = "name"
    description: Final = "description"
    priority: Final = "priority"
    status: Final = "status"
    estimated_tasks: Final = "estimated_tasks"
    completed_tasks: Final = "completed_tasks"


FEATURES: Final = FeaturesColumns()


class IdempotencyKeysColumns:
    """The columns of `idempotency_keys`."""

    __slots__ = ()
    TABLE: Final = "idempotency_keys"
    id: Final = "id"
    entity_type: Final = "entity_type"
    entity_id: Final = "entity_id"
    created_at: Final = "created_at"


IDEMPOTENCY_KEYS: Final = IdempotencyKeysColumns()


class ImplementationPlanStepFilesColumns:
    """The columns of `implementation_plan_step_files`."""

    __slots__ = ()
    TABLE: Final = "implementation_plan_step_files"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    plan_step_id: Final = "plan_step_id"
    file_path: Final = "file_path"
    action: Final = "action"
    description: Final = "description"
    order_index: Final = "order_index"


IMPLEMENTATION_PLAN_STEP_FILES: Final = ImplementationPlanStepFilesColumns()


class ImplementationPlanStepsColumns:
    """The columns of `implementation_plan_steps`."""

    __slots__ = ()
    TABLE: Final = "implementation_plan_steps"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    plan_id: Final = "plan_id"
    agent_id: Final = "agent_id"
    agent_override_id: Final = "agent_override_id"
    step_number: Final = "step_number"
    title: Final = "title"
    description: Final = "description"
    estimated_duration_ms: Final = "estimated_duration_ms"
    order_index: Final = "order_index"
    quality_gate_at: Final = "quality_gate_at"
    gemini_review_at: Final = "gemini_review_at"


IMPLEMENTATION_PLAN_STEPS: Final = ImplementationPlanStepsColumns()


class ImplementationPlansColumns:
    """The columns of `implementation_plans`."""

    __slots__ = ()
    TABLE: Final = "implementation_plans"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    workflow_id: Final = "workflow_id"
    title: Final = "title"
    summary: Final = "summary"
    raw_plan_text: Final = "raw_plan_text"
    estimated_duration_ms: Final = "estimated_duration_ms"
    approved_at: Final = "approved_at"


IMPLEMENTATION_PLANS: Final = ImplementationPlansColumns()


class InitiativeRepositoriesColumns:
    """The columns of `initiative_repositories`."""

    __slots__ = ()
    TABLE: Final = "initiative_repositories"
    id: Final = "id"
    initiative_id: Final = "initiative_id"
    repository_id: Final = "repository_id"
    created_at: Final = "created_at"
    row_version: Final = "row_version"


INITIATIVE_REPOSITORIES: Final = InitiativeRepositoriesColumns()


class InitiativesColumns:
    """The columns of `initiatives`."""

    __slots__ = ()
    TABLE: Final = "initiatives"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    project_id: Final = "project_id"
    name: Final = "name"
    status: Final = "status"
    branch: Final = "branch"
    execution_mode: Final = "execution_mode"
    archived_at: Final = "archived_at"


INITIATIVES: Final = InitiativesColumns()


class InteractionSessionsColumns:
    """The columns of `interaction_sessions`."""

    __slots__ = ()
    TABLE: Final = "interaction_sessions"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    project_id: Final = "project_id"
    type: Final = "type"
    status: Final = "status"
    data: Final = "data"
    started_at: Final = "started_at"
    ended_at: Final = "ended_at"


INTERACTION_SESSIONS: Final = InteractionSessionsColumns()


class LogHorizonsColumns:
    """The columns of `log_horizons`."""

    __slots__ = ()
    TABLE: Final = "log_horizons"
    id: Final = "id"
    purged_through: Final = "purged_through"
    purged_at: Final = "purged_at"
    row_version: Final = "row_version"


LOG_HORIZONS: Final = LogHorizonsColumns()


class MessagesColumns:
    """The columns of `messages`."""

    __slots__ = ()
    TABLE: Final = "messages"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    sender_type: Final = "sender_type"
    sender_agent_id: Final = "sender_agent_id"
    recipient_type: Final = "recipient_type"
    recipient_agent_id: Final = "recipient_agent_id"
    parent_message_id: Final = "parent_message_id"
    content: Final = "content"
    requires_response_at: Final = "requires_response_at"
    responded_at: Final = "responded_at"
    read_at: Final = "read_at"


MESSAGES: Final = MessagesColumns()


class MetricsColumns:
    """The columns of `metrics`."""

    __slots__ = ()
    TABLE: Final = "metrics"
    id: Final = "id"
    project_id: Final = "project_id"
    agent_id: Final = "agent_id"
    task_id: Final = "task_id"
    type: Final = "type"
    value: Final = "value"
    details: Final = "details"
    timestamp: Final = "timestamp"


METRICS: Final = MetricsColumns()


class PagesColumns:
    """The columns of `pages`."""

    __slots__ = ()
    TABLE: Final = "pages"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    initiative_id: Final = "initiative_id"
    parent_page_id: Final = "parent_page_id"
    title: Final = "title"
    content: Final = "content"
    sort_order: Final = "sort_order"


PAGES: Final = PagesColumns()


class PhaseDependenciesColumns:
    """The columns of `phase_dependencies`."""

    __slots__ = ()
    TABLE: Final = "phase_dependencies"
    id: Final = "id"
    phase_id: Final = "phase_id"
    depends_on_phase_id: Final = "depends_on_phase_id"
    created_at: Final = "created_at"
    row_version: Final = "row_version"


PHASE_DEPENDENCIES: Final = PhaseDependenciesColumns()


class PhasesColumns:
    """The columns of `phases`."""

    __slots__ = ()
    TABLE: Final = "phases"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    initiative_id: Final = "initiative_id"
    name: Final = "name"
    content: Final = "content"
    status: Final = "status"
    merge_base: Final = "merge_base"


PHASES: Final = PhasesColumns()


class ProjectsColumns:
    """The columns of `projects`."""

    __slots__ = ()
    TABLE: Final = "projects"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    name: Final = "name"
    description: Final = "description"
    mode: Final = "mode"
    status: Final = "status"
    root_path: Final = "root_path"
    repository_url: Final = "repository_url"
    completed_at: Final = "completed_at"
    archived_at: Final = "archived_at"


PROJECTS: Final = ProjectsColumns()


class ProposalsColumns:
    """The columns of `proposals`."""

    __slots__ = ()
    TABLE: Final = "proposals"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    agent_id: Final = "agent_id"
    initiative_id: Final = "initiative_id"
    target_type: Final = "target_type"
    target_id: Final = "target_id"
    title: Final = "title"
    summary: Final = "summary"
    content: Final = "content"
    details: Final = "details"
    status: Final = "status"
    sort_order: Final = "sort_order"


PROPOSALS: Final = ProposalsColumns()


class RepositoriesColumns:
    """The columns of `repositories`."""

    __slots__ = ()
    TABLE: Final = "repositories"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    project_id: Final = "project_id"
    name: Final = "name"
    path: Final = "path"
    url: Final = "url"
    default_branch: Final = "default_branch"
    set_as_default_at: Final = "set_as_default_at"
    last_fetched_at: Final = "last_fetched_at"


REPOSITORIES: Final = RepositoriesColumns()


class RequirementFeaturesColumns:
    """The columns of `requirement_features`."""

    __slots__ = ()
    TABLE: Final = "requirement_features"
    id: Final = "id"
    requirement_id: Final = "requirement_id"
    feature_id: Final = "feature_id"
    created_at: Final = "created_at"
    row_version: Final = "row_version"


REQUIREMENT_FEATURES: Final = RequirementFeaturesColumns()


class RequirementsColumns:
    """The columns of `requirements`."""

    __slots__ = ()
    TABLE: Final = "requirements"
    id: Final = "id"
    project_id: Final = "project_id"
    category: Final = "category"
    description: Final = "description"
    priority: Final = "priority"
    source: Final = "source"
    validated_at: Final = "validated_at"
    created_at: Final = "created_at"
    row_version: Final = "row_version"


REQUIREMENTS: Final = RequirementsColumns()


class ReviewCommentsColumns:
    """The columns of `review_comments`."""

    __slots__ = ()
    TABLE: Final = "review_comments"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    phase_id: Final = "phase_id"
    file_path: Final = "file_path"
    line_number: Final = "line_number"
    line_type: Final = "line_type"
    body: Final = "body"
    author: Final = "author"
    resolved_at: Final = "resolved_at"


REVIEW_COMMENTS: Final = ReviewCommentsColumns()


class SettingsColumns:
    """The columns of `settings`."""

    __slots__ = ()
    TABLE: Final = "settings"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    key: Final = "key"
    value: Final = "value"
    value_type: Final = "value_type"
    category: Final = "category"
    display_name: Final = "display_name"
    description: Final = "description"
    default_value: Final = "default_value"
    user_modified_at: Final = "user_modified_at"


SETTINGS: Final = SettingsColumns()


class SubFeaturesColumns:
    """The columns of `sub_features`."""

    __slots__ = ()
    TABLE: Final = "sub_features"
    id: Final = "id"
    feature_id: Final = "feature_id"
    name: Final = "name"
    description: Final = "description"
    status: Final = "status"
    created_at: Final = "created_at"
    row_version: Final = "row_version"


SUB_FEATURES: Final = SubFeaturesColumns()


class TaskDependenciesColumns:
    """The columns of `task_dependencies`."""

    __slots__ = ()
    TABLE: Final = "task_dependencies"
    id: Final = "id"
    task_id: Final = "task_id"
    depends_on_task_id: Final = "depends_on_task_id"
    created_at: Final = "created_at"
    row_version: Final = "row_version"


TASK_DEPENDENCIES: Final = TaskDependenciesColumns()


class TasksColumns:
    """The columns of `tasks`."""

    __slots__ = ()
    TABLE: Final = "tasks"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    project_id: Final = "project_id"
    initiative_id: Final = "initiative_id"
    phase_id: Final = "phase_id"
    parent_task_id: Final = "parent_task_id"
    assigned_agent_id: Final = "assigned_agent_id"
    name: Final = "name"
    description: Final = "description"
    type: Final = "type"
    category: Final = "category"
    priority: Final = "priority"
    status: Final = "status"
    order_index: Final = "order_index"
    summary: Final = "summary"
    retry_count: Final = "retry_count"
    size: Final = "size"
    worktree_path: Final = "worktree_path"
    branch_name: Final = "branch_name"
    blocked_by: Final = "blocked_by"
    qa_iterations: Final = "qa_iterations"
    max_iterations: Final = "max_iterations"
    estimated_minutes: Final = "estimated_minutes"
    actual_minutes: Final = "actual_minutes"
    started_at: Final = "started_at"
    completed_at: Final = "completed_at"
    claimed_until: Final = "claimed_until"
    feature_id: Final = "feature_id"
    sub_feature_id: Final = "sub_feature_id"


TASKS: Final = TasksColumns()


class TemplatePlaceholdersColumns:
    """The columns of `template_placeholders`."""

    __slots__ = ()
    TABLE: Final = "template_placeholders"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    template_id: Final = "template_id"
    name: Final = "name"
    display_name: Final = "display_name"
    description: Final = "description"
    default_value: Final = "default_value"
    validation_pattern: Final = "validation_pattern"
    order_index: Final = "order_index"
    required_at: Final = "required_at"


TEMPLATE_PLACEHOLDERS: Final = TemplatePlaceholdersColumns()


class TemplatesColumns:
    """The columns of `templates`."""

    __slots__ = ()
    TABLE: Final = "templates"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    name: Final = "name"
    category: Final = "category"
    description: Final = "description"
    template_text: Final = "template_text"
    usage_count: Final = "usage_count"
    built_in_at: Final = "built_in_at"
    deactivated_at: Final = "deactivated_at"


TEMPLATES: Final = TemplatesColumns()


class WorkflowRepositoriesColumns:
    """The columns of `workflow_repositories`."""

    __slots__ = ()
    TABLE: Final = "workflow_repositories"
    id: Final = "id"
    workflow_id: Final = "workflow_id"
    repository_id: Final = "repository_id"
    set_primary_at: Final = "set_primary_at"
    created_at: Final = "created_at"
    row_version: Final = "row_version"


WORKFLOW_REPOSITORIES: Final = WorkflowRepositoriesColumns()


class WorkflowStepsColumns:
    """The columns of `workflow_steps`."""

    __slots__ = ()
    TABLE: Final = "workflow_steps"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    workflow_id: Final = "workflow_id"
    agent_id: Final = "agent_id"
    step_type: Final = "step_type"
    step_number: Final = "step_number"
    title: Final = "title"
    description: Final = "description"
    status: Final = "status"
    input_text: Final = "input_text"
    output_text: Final = "output_text"
    output_structured: Final = "output_structured"
    original_output_text: Final = "original_output_text"
    output_edited_at: Final = "output_edited_at"
    cli_output: Final = "cli_output"
    cli_exit_code: Final = "cli_exit_code"
    error_message: Final = "error_message"
    retry_count: Final = "retry_count"
    started_at: Final = "started_at"
    completed_at: Final = "completed_at"
    duration_ms: Final = "duration_ms"
    runner_agent_id: Final = "runner_agent_id"
    runner_pid: Final = "runner_pid"


WORKFLOW_STEPS: Final = WorkflowStepsColumns()


class WorkflowsColumns:
    """The columns of `workflows`."""

    __slots__ = ()
    TABLE: Final = "workflows"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    project_id: Final = "project_id"
    parent_workflow_id: Final = "parent_workflow_id"
    type: Final = "type"
    status: Final = "status"
    feature_name: Final = "feature_name"
    feature_request: Final = "feature_request"
    pause_behavior: Final = "pause_behavior"
    current_step_number: Final = "current_step_number"
    total_steps: Final = "total_steps"
    error_message: Final = "error_message"
    started_at: Final = "started_at"
    completed_at: Final = "completed_at"
    duration_ms: Final = "duration_ms"
    archived_at: Final = "archived_at"


WORKFLOWS: Final = WorkflowsColumns()


class WorktreesColumns:
    """The columns of `worktrees`."""

    __slots__ = ()
    TABLE: Final = "worktrees"
    id: Final = "id"
    created_at: Final = "created_at"
    updated_at: Final = "updated_at"
    row_version: Final = "row_version"
    repository_id: Final = "repository_id"
    path: Final = "path"
    branch_name: Final = "branch_name"
    status: Final = "status"
    workflow_id: Final = "workflow_id"


WORKTREES: Final = WorktreesColumns()


class AnyTableColumns:
    """The columns every table of an entity has, for rules written over several tables."""

    __slots__ = ()
    id: Final = "id"


ANY_TABLE: Final = AnyTableColumns()
