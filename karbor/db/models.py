"""SQLAlchemy models: one class per table.

Alembic migrations under ``karbor/db/migrations`` create these tables; a
unit test checks that models and migrations agree.
"""

import datetime

from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Every table carries timestamps and the soft-delete columns."""

    created_at: Mapped[datetime.datetime] = mapped_column(
        DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(
        DateTime, onupdate=utcnow)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False,
                                          nullable=False)


class Service(Base):
    """A running karbor-protection or karbor-operationengine process."""

    __tablename__ = 'services'
    __table_args__ = (
        UniqueConstraint('host', 'binary', 'deleted',
                         name='uniq_services0host0binary0deleted'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True,
                                    autoincrement=True)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    binary: Mapped[str] = mapped_column(String(255), nullable=False)
    topic: Mapped[str] = mapped_column(String(255), nullable=False)
    report_count: Mapped[int] = mapped_column(Integer, default=0,
                                              nullable=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False,
                                           nullable=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    # The heartbeat; kept apart from updated_at so that an admin's
    # enable/disable does not make a dead service look alive.
    last_seen_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class Plan(Base):
    """A tenant's protection plan: which resources, which provider."""

    __tablename__ = 'plans'
    __table_args__ = (
        # Lists: a project's rows newest first, keyset (created_at, id).
        # With id in the index a page reads its rows in order; without
        # it every page read and sorted all the project's rows.
        Index('plans_project_id_created_at_idx', 'project_id', 'created_at',
              'id'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)
    provider_id: Mapped[str] = mapped_column(String(36), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(64), nullable=False)
    # [{"id", "type", "name", "extra_info"}]
    resources: Mapped[list] = mapped_column(JSON, nullable=False)
    # {"TYPE" or "TYPE#ID": {option: value}}
    parameters: Mapped[dict] = mapped_column(JSON, nullable=False)


class Checkpoint(Base):
    """The database's index of a checkpoint kept in a provider's bank."""

    __tablename__ = 'checkpoints'
    __table_args__ = (
        Index('checkpoints_project_provider_created_idx', 'project_id',
              'provider_id', 'created_at', 'id'),
        Index('checkpoints_plan_id_idx', 'plan_id'),
        Index('checkpoints_status_host_idx', 'status', 'host'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)
    provider_id: Mapped[str] = mapped_column(String(36), nullable=False)
    plan_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(64), nullable=False)
    # The protection service running the current operation on it.
    host: Mapped[str | None] = mapped_column(String(255))
    protection_plan: Mapped[dict] = mapped_column(JSON, nullable=False)
    resource_graph: Mapped[list | None] = mapped_column(JSON)
    extra_info: Mapped[dict | None] = mapped_column(JSON)
    # Per resource id: {"type", "name", "status", "reason"}.
    resources_status: Mapped[dict | None] = mapped_column(JSON)
    error_reason: Mapped[str | None] = mapped_column(Text)
    # The latest verification that ended: when, its id and its status.
    last_verified_at: Mapped[datetime.datetime | None] = mapped_column(
        DateTime)
    last_verification_id: Mapped[str | None] = mapped_column(String(36))
    last_verification_status: Mapped[str | None] = mapped_column(
        String(64))


class Restore(Base):
    """A restore of a checkpoint."""

    __tablename__ = 'restores'
    __table_args__ = (
        Index('restores_project_id_created_at_idx', 'project_id',
              'created_at', 'id'),
        Index('restores_status_host_idx', 'status', 'host'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)
    provider_id: Mapped[str] = mapped_column(String(36), nullable=False)
    checkpoint_id: Mapped[str] = mapped_column(String(36), nullable=False)
    restore_target: Mapped[str | None] = mapped_column(String(255))
    parameters: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(64), nullable=False)
    host: Mapped[str | None] = mapped_column(String(255))
    resources_status: Mapped[dict | None] = mapped_column(JSON)
    resources_reason: Mapped[dict | None] = mapped_column(JSON)


class OperationLog(Base):
    """One protect, delete, restore or verify, from start to end.

    Kept apart from the rows it reports on, so that the audit trail
    outlives deleted checkpoints.
    """

    __tablename__ = 'operation_logs'
    __table_args__ = (
        # The default list: a project's logs, newest first, by keyset.
        Index('operation_logs_project_started_idx', 'project_id',
              'started_at', 'id'),
        Index('operation_logs_project_status_started_idx', 'project_id',
              'status', 'started_at', 'id'),
        Index('operation_logs_checkpoint_id_idx', 'checkpoint_id'),
        Index('operation_logs_plan_id_idx', 'plan_id'),
        Index('operation_logs_restore_id_idx', 'restore_id'),
        Index('operation_logs_scheduled_operation_id_idx',
              'scheduled_operation_id'),
        Index('operation_logs_provider_started_idx', 'provider_id',
              'started_at', 'id'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)
    operation_type: Mapped[str] = mapped_column(String(255), nullable=False)
    checkpoint_id: Mapped[str | None] = mapped_column(String(36))
    plan_id: Mapped[str | None] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(36))
    restore_id: Mapped[str | None] = mapped_column(String(36))
    verification_id: Mapped[str | None] = mapped_column(String(36))
    scheduled_operation_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime.datetime] = mapped_column(DateTime,
                                                          nullable=False)
    ended_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    error_info: Mapped[str | None] = mapped_column(Text)
    extra_info: Mapped[dict | None] = mapped_column(JSON)


class Verification(Base):
    """A check that a checkpoint could be restored, without restoring it."""

    __tablename__ = 'verifications'
    __table_args__ = (
        Index('verifications_project_id_created_at_idx', 'project_id',
              'created_at', 'id'),
        Index('verifications_checkpoint_id_idx', 'checkpoint_id'),
        Index('verifications_status_host_idx', 'status', 'host'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)
    provider_id: Mapped[str] = mapped_column(String(36), nullable=False)
    checkpoint_id: Mapped[str] = mapped_column(String(36), nullable=False)
    status: Mapped[str | None] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(255))
    parameters: Mapped[dict | None] = mapped_column(JSON)
    # Keyed "TYPE#ID": per resource "success" | "error" | "skipped".
    resources_status: Mapped[dict | None] = mapped_column(JSON)
    resources_reason: Mapped[dict | None] = mapped_column(JSON)
    # A run of a verify cycle only: the plan's checkpoints and the part of
    # their chunks it reads, then what it read (karbor.objects.verify_cycle).
    scope: Mapped[dict | None] = mapped_column(JSON)


class Trigger(Base):
    """When scheduled operations run: a time pattern and its bounds."""

    __tablename__ = 'triggers'
    __table_args__ = (
        Index('triggers_project_id_created_at_idx', 'project_id',
              'created_at', 'id'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    # {"format", "pattern", "start_time", "end_time", "window"}
    properties: Mapped[dict] = mapped_column(JSON, nullable=False)


class ScheduledOperation(Base):
    """An operation the operation engine starts whenever its trigger fires.

    ``next_run_at`` is the due time of its next run. An engine claims a
    due run by moving it forward with a compare-and-swap, so that of
    several engines exactly one starts each run.
    """

    __tablename__ = 'scheduled_operations'
    __table_args__ = (
        Index('scheduled_operations_project_id_created_at_idx',
              'project_id', 'created_at', 'id'),
        Index('scheduled_operations_trigger_id_idx', 'trigger_id'),
        # The engines' poll: live, enabled operations by due time.
        Index('scheduled_operations_due_idx', 'deleted', 'enabled',
              'next_run_at'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)
    # The creator: runs act as this user in project_id.
    user_id: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(String(255))
    operation_type: Mapped[str] = mapped_column(String(64), nullable=False)
    trigger_id: Mapped[str] = mapped_column(String(36), nullable=False)
    # {"provider_id", "plan_id", "max_backups", "retention_duration",
    #  "parameters" (verify)}
    operation_definition: Mapped[dict] = mapped_column(JSON, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True,
                                          nullable=False)
    next_run_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    # The engine that claimed the latest run.
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    # The latest run: its due time, result, reason and checkpoint.
    last_run_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    last_run_result: Mapped[str | None] = mapped_column(String(64))
    last_run_reason: Mapped[str | None] = mapped_column(Text)
    last_run_checkpoint_id: Mapped[str | None] = mapped_column(String(36))


class ScheduledOperationRun(Base):
    """One due time of a scheduled operation: run, or skipped and why.

    The unique (operation, due time) pair is the second guard, after the
    claim, against running one due time twice.
    """

    __tablename__ = 'scheduled_operation_runs'
    __table_args__ = (
        UniqueConstraint('scheduled_operation_id', 'due_at',
                         name='uniq_scheduled_operation_runs0operation0due'),
        Index('scheduled_operation_runs_status_host_idx', 'status', 'host'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)
    scheduled_operation_id: Mapped[str] = mapped_column(String(36),
                                                        nullable=False)
    due_at: Mapped[datetime.datetime] = mapped_column(DateTime,
                                                      nullable=False)
    # started, succeeded, failed or skipped.
    status: Mapped[str] = mapped_column(String(64), nullable=False)
    # The operation engine that claimed it.
    host: Mapped[str | None] = mapped_column(String(255))
    checkpoint_id: Mapped[str | None] = mapped_column(String(36))
    # The verification a run of a verify operation started.
    verification_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    ended_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)


class VerifyCycle(Base):
    """One cycle of a verify scheduled operation with ``cycle_days``.

    Chunks are placed on the cycle by the first 32 bits of their id (their
    offset, 0 to 2**32); the runs read them in offset order, so that each
    is read once per cycle. ``read_to``: the offsets below it were read
    in this cycle.
    """

    __tablename__ = 'verify_cycles'
    __table_args__ = (
        UniqueConstraint('scheduled_operation_id', 'number',
                         name='uniq_verify_cycles0operation0number'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), nullable=False)
    scheduled_operation_id: Mapped[str] = mapped_column(String(36),
                                                        nullable=False)
    # 0 for the operation's first cycle; cycle n starts n cycles after it.
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    # reading, complete, or incomplete (runs missed: part of it unread).
    status: Mapped[str] = mapped_column(String(64), nullable=False)
    started_at: Mapped[datetime.datetime] = mapped_column(DateTime,
                                                          nullable=False)
    ends_at: Mapped[datetime.datetime] = mapped_column(DateTime,
                                                       nullable=False)
    read_to: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # The distinct chunks of the plan's checkpoints at the latest run,
    # those read in this cycle and those its runs have still to read.
    chunks: Mapped[int] = mapped_column(Integer, nullable=False)
    chunks_read: Mapped[int] = mapped_column(Integer, nullable=False)
    chunks_left: Mapped[int] = mapped_column(Integer, nullable=False)
    chunks_damaged: Mapped[int] = mapped_column(Integer, nullable=False)
    runs: Mapped[int] = mapped_column(Integer, nullable=False)
    # The due time of the run expected to read the cycle's last chunks.
    expected_completion: Mapped[datetime.datetime | None] = mapped_column(
        DateTime)
    completed_at: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class QuotaLimit(Base):
    """An administrator's limit on one resource of a project or of a quota
    class, overriding the ``[quota]`` option of the same name.

    Removing an override deletes its row (``deleted`` stays False): it is
    configuration with no history to keep, and the unique constraint then
    needs no ``deleted`` column.
    """

    __tablename__ = 'quota_limits'
    __table_args__ = (
        UniqueConstraint('owner_type', 'owner', 'resource',
                         name='uniq_quota_limits0owner_type0owner0resource'),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True,
                                    autoincrement=True)
    # 'project' (owner is a project id) or 'class' (owner is a class name).
    owner_type: Mapped[str] = mapped_column(String(16), nullable=False)
    owner: Mapped[str] = mapped_column(String(255), nullable=False)
    # 'plans' or 'checkpoints'.
    resource: Mapped[str] = mapped_column(String(64), nullable=False)
    # -1 is unlimited.
    hard_limit: Mapped[int] = mapped_column(Integer, nullable=False)


def parse_time(value):
    """A naive UTC datetime from an ISO 8601 string (as we write them)."""
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(
            tzinfo=None)
    return parsed
