"""The outbox: e-mails queued in the same transaction as the change that caused them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from partnerctl.store.types import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
        sa.Index("ix_outbox_client_id", "client_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # The client the mail is about (welcome, invitation, nudge): row-level security shows a
    # bookkeeper only their clients' mail. NULL for mail about no client (digests, tests).
    client_id: int | None = Field(default=None, foreign_key="clients.id", ondelete="SET NULL")
    dedupe_key: str = Field(max_length=300)
    kind: str = Field(max_length=40)
    to_addr: str = Field(max_length=320)
    from_addr: str | None = Field(default=None, max_length=320)
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str | None = Field(default=None, sa_type=sa.Text)
    language: str = Field(default="en", max_length=8)
    status: OutboxStatus = Field(default=OutboxStatus.pending, sa_type=sa.String(10))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_owner: str | None = Field(default=None, max_length=64)
    # How many outbox_attachments rows it has: delivery loads attachments only where this is > 0.
    attachments: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    server_response: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxAttachment(SQLModel, table=True):
    """A file sent with an outbox message (an invoice's PDF), stored with it in the same transaction."""

    __tablename__ = "outbox_attachments"
    __table_args__ = (sa.Index("ix_outbox_attachments_message", "message_id"),)
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbox.id", ondelete="CASCADE")
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    content: bytes = Field(sa_type=sa.LargeBinary)
