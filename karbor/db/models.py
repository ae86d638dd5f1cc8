"""SQLAlchemy models: one class per table.

Alembic migrations under ``karbor/db/migrations`` create these tables; a
unit test checks that models and migrations agree.
"""

import datetime

from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import Integer
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy import String
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
