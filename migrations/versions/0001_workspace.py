"""workspace: projects, repositories, worktrees, settings, templates and their placeholders

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("mode", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=100), nullable=True),
        sa.Column("root_path", sa.String(length=4096), nullable=True),
        sa.Column("repository_url", sa.String(length=2048), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("mode IN ('genesis', 'evolution')", name=op.f("ck_projects_mode")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index("ix_projects_archived_at", ["archived_at"], unique=False)
        batch_op.create_index("ix_projects_created_at", ["created_at"], unique=False)

    op.create_table(
        "settings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_type", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("default_value", sa.Text(), nullable=True),
        sa.Column("user_modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "category IN ('workflow', 'worktree', 'logging', 'ui', 'advanced')",
            name=op.f("ck_settings_category"),
        ),
        sa.CheckConstraint(
            "value_type IN ('string', 'number', 'boolean', 'json')",
            name=op.f("ck_settings_value_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
        sa.UniqueConstraint("key", name="uq_settings_key"),
    )
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.create_index("ix_settings_category", ["category"], unique=False)

    op.create_table(
        "templates",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("template_text", sa.Text(), nullable=False),
        sa.Column("usage_count", sa.BigInteger(), nullable=False),
        sa.Column("built_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "category IN ('data', 'ui', 'backend', 'security', 'electron')",
            name=op.f("ck_templates_category"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("name", name="uq_templates_name"),
    )
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.create_index("ix_templates_category", ["category"], unique=False)

    op.create_table(
        "repositories",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("path", sa.String(length=4096), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("default_branch", sa.String(length=255), nullable=False),
        sa.Column("set_as_default_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_repositories_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repositories")),
        sa.UniqueConstraint("project_id", "name", name="uq_repositories_project_id_name"),
    )
    with op.batch_alter_table("repositories", schema=None) as batch_op:
        batch_op.create_index("ix_repositories_path", ["path"], unique=False)
        batch_op.create_index("ix_repositories_project_id", ["project_id"], unique=False)
        batch_op.create_index(
            "uq_repositories_project_id_set_as_default_at",
            ["project_id"],
            unique=True,
            sqlite_where=sa.text("set_as_default_at IS NOT NULL"),
            postgresql_where=sa.text("set_as_default_at IS NOT NULL"),
        )

    op.create_table(
        "template_placeholders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("template_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("default_value", sa.Text(), nullable=True),
        sa.Column("validation_pattern", sa.String(length=1000), nullable=True),
        sa.Column("order_index", sa.BigInteger(), nullable=False),
        sa.Column("required_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
            name=op.f("fk_template_placeholders_template_id_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_placeholders")),
        sa.UniqueConstraint(
            "template_id", "name", name="uq_template_placeholders_template_id_name"
        ),
    )
    with op.batch_alter_table("template_placeholders", schema=None) as batch_op:
        batch_op.create_index("ix_template_placeholders_template_id", ["template_id"], unique=False)

    op.create_table(
        "worktrees",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("repository_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=4096), nullable=False),
        sa.Column("branch_name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'cleaning', 'removed')", name=op.f("ck_worktrees_status")
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_worktrees_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worktrees")),
        sa.UniqueConstraint("path", name="uq_worktrees_path"),
    )
    with op.batch_alter_table("worktrees", schema=None) as batch_op:
        batch_op.create_index("ix_worktrees_repository_id", ["repository_id"], unique=False)
        batch_op.create_index("ix_worktrees_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("worktrees", schema=None) as batch_op:
        batch_op.drop_index("ix_worktrees_status")
        batch_op.drop_index("ix_worktrees_repository_id")

    op.drop_table("worktrees")
    with op.batch_alter_table("template_placeholders", schema=None) as batch_op:
        batch_op.drop_index("ix_template_placeholders_template_id")

    op.drop_table("template_placeholders")
    with op.batch_alter_table("repositories", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_repositories_project_id_set_as_default_at",
            sqlite_where=sa.text("set_as_default_at IS NOT NULL"),
            postgresql_where=sa.text("set_as_default_at IS NOT NULL"),
        )
        batch_op.drop_index("ix_repositories_project_id")
        batch_op.drop_index("ix_repositories_path")

    op.drop_table("repositories")
    with op.batch_alter_table("templates", schema=None) as batch_op:
        batch_op.drop_index("ix_templates_category")

    op.drop_table("templates")
    with op.batch_alter_table("settings", schema=None) as batch_op:
        batch_op.drop_index("ix_settings_category")

    op.drop_table("settings")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_index("ix_projects_created_at")
        batch_op.drop_index("ix_projects_archived_at")

    op.drop_table("projects")
