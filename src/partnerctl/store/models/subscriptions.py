"""Subscriptions: a product with a number of seats for a client, and who pays for it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from partnerctl.store.types import UTCDateTime, utcnow


class SubscriptionStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    cancelled = "cancelled"


class Payer(StrEnum):
    partner = "partner"
    client = "client"


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.Index("ix_subscriptions_client", "client_id"),
        sa.Index("ix_subscriptions_status_next", "status", "next_payment_date"),
        sa.Index("ix_subscriptions_product", "product_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id", ondelete="CASCADE")
    product_id: int = Field(foreign_key="products.id", ondelete="RESTRICT")
    seats: int = Field(default=1)
    status: SubscriptionStatus = Field(default=SubscriptionStatus.active, sa_type=sa.String(10))
    payer: Payer = Field(default=Payer.partner, sa_type=sa.String(10))
    start_date: date = Field(sa_type=sa.Date)
    next_payment_date: date = Field(sa_type=sa.Date)
    # The day of month payments fall on (1-31). Kept apart from next_payment_date so a 31st
    # billed in February (28th) returns to the 31st in March instead of drifting to the 28th.
    anchor_day: int | None = Field(default=None)
    # "Let the client edit": the contact is invited to set up their own access (never billing).
    allow_client_edit: bool = Field(default=False)
    editor_name: str | None = Field(default=None, max_length=200)
    editor_email: str | None = Field(default=None, max_length=320)
    editor_invited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
