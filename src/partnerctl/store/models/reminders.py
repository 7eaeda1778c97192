"""Reminder digests and nudges: who subscribed to what, the partner-wide schedule, what was sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from partnerctl.store.types import UTCDateTime, utcnow


class Frequency(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


class Topic(StrEnum):
    """The outstanding-task figures of a client a digest or a nudge can report."""

    balance = "balance"
    missing_receipts = "missing-receipts"
    expenses_ready = "expenses-ready"


ALL_TOPICS: tuple[str, ...] = tuple(t.value for t in Topic)


class DigestStatus(StrEnum):
    queued = "queued"  # an outbox message was queued for it
    empty = "empty"  # nothing outstanding for any client, so nothing was sent (unless --send-empty)


class ReminderSubscription(SQLModel, table=True):
    """One user's digest of one client at one frequency, with the figures (topics) they chose."""

    __tablename__ = "reminder_subscriptions"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "client_id", "frequency", name="uq_reminder_subscriptions_ucf"),
        sa.Index("ix_reminder_subscriptions_client", "client_id"),
        sa.Index("ix_reminder_subscriptions_frequency", "frequency"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    client_id: int = Field(foreign_key="clients.id", ondelete="CASCADE")
    frequency: Frequency = Field(sa_type=sa.String(10))
    topics: list = Field(default_factory=list, sa_type=sa.JSON)
    created_by: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ReminderSchedule(SQLModel, table=True):
    """The partner-wide schedule (one row, id 1). Its row is also the lock `reminder send` takes."""

    __tablename__ = "reminder_schedule"
    id: int | None = Field(default=None, primary_key=True)
    # Local wall-clock time "HH:MM" in `timezone` (an IANA name, so daylight saving is handled).
    time_of_day: str = Field(default="10:00", max_length=5)
    timezone: str = Field(default="Europe/Copenhagen", max_length=64)
    # 0 = Monday ... 6 = Sunday: the day of weekly digests (and of monthly ones when monthday is empty).
    weekday: int = Field(default=0)
    # 1..31 (clamped to the month's last day); empty = the first `weekday` of the month.
    monthday: int | None = Field(default=None)
    updated_by: str | None = Field(default=None, max_length=320)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ReminderDigest(SQLModel, table=True):
    """One row per (user, frequency, period) that was dealt with: the record that makes it once only."""

    __tablename__ = "reminder_digests"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "frequency", "period", name="uq_reminder_digests_ufp"),
        sa.Index("ix_reminder_digests_period", "frequency", "period"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    frequency: Frequency = Field(sa_type=sa.String(10))
    # The period in the schedule's timezone: 2026-03-16 (daily), 2026-W12 (weekly), 2026-03 (monthly).
    period: str = Field(max_length=10)
    status: DigestStatus = Field(default=DigestStatus.queued, sa_type=sa.String(10))
    # The outbox message's dedupe key (digest:<user id>:<frequency>:<period>).
    dedupe_key: str = Field(max_length=300)
    clients: int = Field(default=0)
    outstanding: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ReminderNudge(SQLModel, table=True):
    """An admin's e-mail to the bookkeepers of a client about chosen outstanding tasks."""

    __tablename__ = "reminder_nudges"
    __table_args__ = (sa.Index("ix_reminder_nudges_fp_at", "fingerprint", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id", ondelete="CASCADE")
    tasks: list = Field(default_factory=list, sa_type=sa.JSON)
    comment: str = Field(default="", sa_type=sa.Text)
    # sha256 of client, tasks and comment: "an identical nudge" within 24 hours needs --again.
    fingerprint: str = Field(max_length=64)
    recipients: int = Field(default=0)
    sent_by: str = Field(max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
