"""`sqlmodel`: the SQLModel ORM used naively, as an application developer writes it by hand.

Six `table=True` models mirror agentkeel's `projects`, `repositories`, `worktrees`,
`agent_log_chunks`, `tasks` and `task_dependencies`
(same columns, keys, checks and indexes, the partial unique index on a project's default
repository, foreign keys with ON DELETE CASCADE), with relationships declared as SQLModel's
tutorial does (`Relationship(cascade_delete=True)`). The code uses `Session`, `session.add`,
`session.get` and `select(...)`, and nothing else: no tuning, no bulk paths, the driver's
default transaction handling. The one setting it shares with the others is agentkeel's
pragmas (WAL, foreign_keys, synchronous=NORMAL), so that the comparison is of code, not of
durability settings. This module does not import agentkeel: its `Project` is its own.

What the ORM does unless told otherwise, and so what this contender does: deleting a project
loads its repositories, then each one's worktrees (a SELECT per repository), and deletes
them by primary key (the cascade is the ORM's, before the database's); table models do not
validate on construction; reads run outside any transaction (pysqlite begins one only
before a write); O6 flushes the cleared default before setting the new one, or the partial
unique index would refuse the write."""

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Engine,
    Index,
    UniqueConstraint,
    event,
    exists,
    func,
    text,
)
from sqlalchemy.orm import aliased
from sqlmodel import Field, Relationship, Session, SQLModel, col, create_engine, select

from bench.contenders.base import (
    LOG_AGENT_NAME,
    RENAMED,
    Contender,
    Work,
    log_batches,
    new_id,
    project_values,
    renamed,
    repository_values,
    task_plan,
    task_values,
    utc_now,
    worktree_values,
)
from bench.operations import (
    DEFAULT_CANDIDATES,
    LIST_CALLS,
    LOG_AGENTS,
    REPOSITORY_PROJECTS,
    task_count,
)


class Project(SQLModel, table=True):
    __tablename__ = "projects"
    __table_args__ = (CheckConstraint("mode IN ('genesis', 'evolution')", name="ck_projects_mode"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    created_at: datetime = Field(
        default_factory=utc_now, sa_type=DateTime(timezone=True), index=True
    )
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    row_version: int = 1
    name: str = Field(max_length=200)
    description: str | None = None
    mode: str | None = Field(default=None, max_length=32)
    status: str | None = Field(default=None, max_length=100)
    root_path: str | None = Field(default=None, max_length=4096)
    repository_url: str | None = Field(default=None, max_length=2048)
    completed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    archived_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True), index=True)

    repositories: list["Repository"] = Relationship(back_populates="project", cascade_delete=True)


class Repository(SQLModel, table=True):
    __tablename__ = "repositories"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="uq_repositories_project_id_name"),
        Index(
            "uq_repositories_project_id_set_as_default_at",
            "project_id",
            unique=True,
            sqlite_where=text("set_as_default_at IS NOT NULL"),
            postgresql_where=text("set_as_default_at IS NOT NULL"),
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    row_version: int = 1
    project_id: str = Field(
        foreign_key="projects.id", ondelete="CASCADE", index=True, max_length=64
    )
    name: str = Field(max_length=200)
    path: str | None = Field(default=None, max_length=4096, index=True)
    url: str | None = Field(default=None, max_length=2048)
    default_branch: str = Field(default="main", max_length=255)
    set_as_default_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_fetched_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))

    project: Optional[Project] = Relationship(back_populates="repositories")  # noqa: UP045
    worktrees: list["Worktree"] = Relationship(back_populates="repository", cascade_delete=True)


class Worktree(SQLModel, table=True):
    __tablename__ = "worktrees"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'cleaning', 'removed')", name="ck_worktrees_status"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    row_version: int = 1
    repository_id: str = Field(
        foreign_key="repositories.id", ondelete="CASCADE", index=True, max_length=64
    )
    path: str = Field(max_length=4096, unique=True)
    branch_name: str = Field(max_length=255)
    status: str = Field(default="active", max_length=32, index=True)

    repository: Optional[Repository] = Relationship(back_populates="worktrees")  # noqa: UP045


class AgentLogChunk(SQLModel, table=True):
    __tablename__ = "agent_log_chunks"
    __table_args__ = (
        UniqueConstraint(
            "agent_id", "chunk_number", name="uq_agent_log_chunks_agent_id_chunk_number"
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    agent_id: str = Field(max_length=64)
    agent_name: str = Field(max_length=200)
    session_number: int = 1
    chunk_number: int = 1
    content: str


class Task(SQLModel, table=True):
    """O10's and O11's tasks: agentkeel's columns that the operations write. This contender
    has no initiatives table, so `initiative_id` is an indexed column without a foreign
    key."""

    __tablename__ = "tasks"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    row_version: int = 1
    project_id: str = Field(
        foreign_key="projects.id", ondelete="CASCADE", index=True, max_length=64
    )
    initiative_id: str | None = Field(default=None, index=True, max_length=64)
    name: str = Field(max_length=200)
    type: str = Field(default="auto", max_length=32)
    category: str = Field(default="execute", max_length=32)
    priority: str = Field(default="medium", max_length=32)
    status: str = Field(default="pending", max_length=32, index=True)
    order_index: int = 0
    retry_count: int = 0
    size: str = Field(default="small", max_length=32)
    qa_iterations: int = 0
    max_iterations: int = 50
    estimated_minutes: int | None = 15
    started_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    completed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class TaskDependency(SQLModel, table=True):
    __tablename__ = "task_dependencies"
    __table_args__ = (
        UniqueConstraint(
            "task_id", "depends_on_task_id", name="uq_task_dependencies_task_id_depends_on"
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=64)
    task_id: str = Field(foreign_key="tasks.id", ondelete="CASCADE", max_length=64)
    depends_on_task_id: str = Field(
        foreign_key="tasks.id", ondelete="CASCADE", index=True, max_length=64
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    row_version: int = 1


Awaited = aliased(Task)


class Orm(Contender):
    engine: Engine

    def open(self) -> None:
        self.engine = create_engine(f"sqlite:///{self.location}")

        @event.listens_for(self.engine, "connect")
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        SQLModel.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            count = func.count()
            return {
                "projects": session.exec(select(count).select_from(Project)).one(),
                "repositories": session.exec(select(count).select_from(Repository)).one(),
                "worktrees": session.exec(select(count).select_from(Worktree)).one(),
                "defaults": session.exec(
                    select(count).where(col(Repository.set_as_default_at).is_not(None))
                ).one(),
                "renamed": session.exec(
                    select(count).where(col(Project.name).endswith(RENAMED))
                ).one(),
                "log_chunks": session.exec(select(count).select_from(AgentLogChunk)).one(),
                "tasks": session.exec(select(count).select_from(Task)).one(),
                "started": session.exec(
                    select(count).where(
                        Task.status == "in_progress", col(Task.started_at).is_not(None)
                    )
                ).one(),
                "ready": self.ready_found,
            }

    def add_projects(self, count: int) -> list[str]:
        with Session(self.engine) as session:
            projects = [Project(**project_values(i)) for i in range(count)]
            keys = [project.id for project in projects]
            session.add_all(projects)
            session.commit()
        return keys

    def add_repositories(self, n: int, project_id: str) -> list[str]:
        with Session(self.engine) as session:
            repositories = [Repository(**repository_values(i, project_id)) for i in range(n)]
            keys = [repository.id for repository in repositories]
            session.add_all(repositories)
            session.commit()
        return keys

    # -- the operations ---------------------------------------------------------------------

    def insert_each(self, n: int) -> Work:
        def work() -> None:
            for i in range(n):
                with Session(self.engine) as session:
                    session.add(Project(**project_values(i)))
                    session.commit()

        return work

    def insert_repositories(self, n: int) -> Work:
        project_ids = self.add_projects(REPOSITORY_PROJECTS)

        def work() -> None:
            with Session(self.engine) as session:
                for i in range(n):
                    project_id = project_ids[i % len(project_ids)]
                    session.add(Repository(**repository_values(i, project_id)))
                session.commit()

        return work

    def get_each(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            for key in keys:
                with Session(self.engine) as session:
                    session.get(Project, key)

        return work

    def get_in_one(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            with Session(self.engine) as session:
                for key in keys:
                    session.get(Project, key)

        return work

    def update_each(self, n: int) -> Work:
        keys = self.add_projects(n)

        def work() -> None:
            for key in keys:
                with Session(self.engine) as session:
                    project = session.get(Project, key)
                    assert project is not None
                    project.name = renamed(project.name)
                    project.updated_at = utc_now()
                    project.row_version += 1
                    session.add(project)
                    session.commit()

        return work

    def list_repositories(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        self.add_repositories(n, project_id)

        def work() -> None:
            for _ in range(LIST_CALLS):
                with Session(self.engine) as session:
                    rows = session.exec(
                        select(Repository)
                        .where(Repository.project_id == project_id)
                        .order_by(col(Repository.name))
                    ).all()
            assert len(rows) == n

        return work

    def switch_default(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.add_repositories(DEFAULT_CANDIDATES, project_id)

        def work() -> None:
            for i in range(n):
                with Session(self.engine) as session:
                    repository = session.get(Repository, keys[i % len(keys)])
                    assert repository is not None
                    now = utc_now()
                    others = session.exec(
                        select(Repository).where(
                            Repository.project_id == repository.project_id,
                            Repository.id != repository.id,
                            col(Repository.set_as_default_at).is_not(None),
                        )
                    )
                    for other in others:
                        other.set_as_default_at = None
                        other.updated_at = now
                        session.add(other)
                    # The partial unique index: the old default must be cleared first.
                    session.flush()
                    repository.set_as_default_at = now
                    repository.updated_at = now
                    repository.row_version += 1
                    session.add(repository)
                    session.commit()

        return work

    def delete_project(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.add_repositories(n, project_id)
        with Session(self.engine) as session:
            session.add_all(Worktree(**worktree_values(i, key)) for i, key in enumerate(keys))
            session.commit()

        def work() -> None:
            with Session(self.engine) as session:
                project = session.get(Project, project_id)
                session.delete(project)
                session.commit()

        return work

    def append_log_chunks(self, n: int) -> Work:
        agents = [new_id() for _ in range(LOG_AGENTS)]
        batches = log_batches(n)

        def work() -> None:
            for i, contents in enumerate(batches):
                agent = agents[i % LOG_AGENTS]
                with Session(self.engine) as session:
                    last = session.exec(
                        select(func.max(AgentLogChunk.chunk_number)).where(
                            AgentLogChunk.agent_id == agent
                        )
                    ).one()
                    session.add_all(
                        AgentLogChunk(
                            agent_id=agent,
                            agent_name=LOG_AGENT_NAME,
                            chunk_number=(last or 0) + number,
                            content=content,
                        )
                        for number, content in enumerate(contents, 1)
                    )
                    session.commit()

        return work

    def add_tasks(
        self, project_id: str, initiative_id: str | None, plan: list[tuple[str, list[int]]]
    ) -> list[str]:
        with Session(self.engine) as session:
            keys: list[str] = []
            for i, (status, depends_on) in enumerate(plan):
                task = Task(**task_values(i, project_id, initiative_id, status))
                if status == "completed":
                    task.completed_at = utc_now()
                session.add(task)
                session.add_all(
                    TaskDependency(task_id=task.id, depends_on_task_id=keys[d]) for d in depends_on
                )
                keys.append(task.id)
            session.commit()
        return keys

    def ready_tasks(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        initiative_id = new_id()
        self.add_tasks(project_id, initiative_id, task_plan(task_count(n)))

        def work() -> None:
            for _ in range(LIST_CALLS):
                with Session(self.engine) as session:
                    unfinished = (
                        select(TaskDependency.id)
                        .join(Awaited, col(Awaited.id) == col(TaskDependency.depends_on_task_id))
                        .where(
                            col(TaskDependency.task_id) == col(Task.id),
                            col(Awaited.status) != "completed",
                        )
                    )
                    rows = session.exec(
                        select(Task)
                        .where(
                            Task.initiative_id == initiative_id,
                            Task.status == "pending",
                            ~exists(unfinished),
                        )
                        .order_by(col(Task.order_index), col(Task.created_at), col(Task.id))
                    ).all()
            self.ready_found = len(rows)

        return work

    def start_tasks(self, n: int) -> Work:
        (project_id,) = self.add_projects(1)
        keys = self.add_tasks(project_id, None, [("pending", [])] * n)

        def work() -> None:
            for key in keys:
                with Session(self.engine) as session:
                    task = session.get(Task, key)
                    assert task is not None
                    if task.status != "pending":
                        raise ValueError(f"task {key} is {task.status}, not pending")
                    now = utc_now()
                    task.status = "in_progress"
                    task.started_at = task.started_at or now
                    task.updated_at = now
                    task.row_version += 1
                    session.add(task)
                    session.commit()

        return work
