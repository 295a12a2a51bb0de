"""Tables of the workflows context, and the workflow links of worktrees and audit entries."""

from agentkeel.domain.workflows import (
    DiscoveredFile,
    ImplementationPlan,
    ImplementationPlanStep,
    ImplementationPlanStepFile,
    Workflow,
    WorkflowRepositoryLink,
    WorkflowStep,
)
from agentkeel.schema.base import entity_table, exclusive_flag, index, references, unique

workflows = entity_table(
    Workflow,
    "workflows",
    references("project_id", "projects", on_delete="CASCADE"),
    references("parent_workflow_id", "workflows", on_delete="SET NULL"),
    index("type"),
    index("status"),
    index("status", "type", "created_at"),
    index("archived_at"),
)

workflow_repositories = entity_table(
    WorkflowRepositoryLink,
    "workflow_repositories",
    references("workflow_id", "workflows", on_delete="CASCADE", index=False),
    references("repository_id", "repositories", on_delete="CASCADE"),
    unique("workflow_id", "repository_id"),
    exclusive_flag("set_primary_at", per="workflow_id"),
)

workflow_steps = entity_table(
    WorkflowStep,
    "workflow_steps",
    references("workflow_id", "workflows", on_delete="CASCADE", index=False),
    references("agent_id", "agent_profiles", on_delete="SET NULL"),
    # The agent running the step (a row of `agents`; `agent_id` is a profile).
    references("runner_agent_id", "agents", on_delete="SET NULL"),
    # CO's (workflow_id, step_number) index is not unique; ours makes step order unambiguous.
    unique("workflow_id", "step_number"),
    # The steps in one status across workflows, in `WorkflowSteps.list` order.
    index("status", "workflow_id", "step_number"),
)

discovered_files = entity_table(
    DiscoveredFile,
    "discovered_files",
    references("workflow_step_id", "workflow_steps", on_delete="CASCADE", index=False),
    unique("workflow_step_id", "file_path"),
    index("priority"),
)

implementation_plans = entity_table(
    ImplementationPlan,
    "implementation_plans",
    references("workflow_id", "workflows", on_delete="CASCADE", index=False),
    unique("workflow_id"),
)

implementation_plan_steps = entity_table(
    ImplementationPlanStep,
    "implementation_plan_steps",
    references("plan_id", "implementation_plans", on_delete="CASCADE", index=False),
    references("agent_id", "agent_profiles", on_delete="SET NULL"),
    references("agent_override_id", "agent_profiles", on_delete="SET NULL"),
    unique("plan_id", "step_number"),
)

implementation_plan_step_files = entity_table(
    ImplementationPlanStepFile,
    "implementation_plan_step_files",
    references("plan_step_id", "implementation_plan_steps", on_delete="CASCADE"),
)
