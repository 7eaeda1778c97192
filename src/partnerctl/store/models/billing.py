"""Billing: invoices (one per subscription and period), their lines, numbering and exchange rates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from partnerctl.store.models.subscriptions import Payer
from partnerctl.store.types import Money, UTCDateTime, utcnow


class Invoice(SQLModel, table=True):
    __tablename__ = "invoices"
    __table_args__ = (
        # The database itself guarantees each period of a subscription is invoiced exactly once,
        # whatever two concurrent `billing run`s (cron) do.
        sa.UniqueConstraint("subscription_id", "period_start", name="uq_invoices_subscription_period"),
        sa.UniqueConstraint("number", name="uq_invoices_number"),
        sa.Index("ix_invoices_client", "client_id"),
        sa.Index("ix_invoices_issue_date", "issue_date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32)
    subscription_id: int = Field(foreign_key="subscriptions.id", ondelete="RESTRICT")
    client_id: int = Field(foreign_key="clients.id", ondelete="RESTRICT")
    payer: Payer = Field(sa_type=sa.String(10))
    currency: str = Field(max_length=3)
    period_start: date = Field(sa_type=sa.Date)
    period_end: date = Field(sa_type=sa.Date)  # exclusive: the next payment date
    issue_date: date = Field(sa_type=sa.Date)
    total: Decimal = Field(sa_type=Money)
    created_by: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_lines"
    __table_args__ = (sa.Index("ix_invoice_lines_invoice", "invoice_id"),)
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoices.id", ondelete="CASCADE")
    product_key: str = Field(max_length=64)
    description: str = Field(max_length=300)
    seats: int
    # The catalogue price at billing time, in the product's currency.
    unit_price: Decimal = Field(sa_type=Money)
    price_currency: str = Field(max_length=3)
    # Units of the invoice currency per unit of price_currency (1 when they are the same).
    rate: Decimal = Field(sa_type=Money)
    # seats x unit_price x rate, rounded half-even to the invoice currency's minor units.
    amount: Decimal = Field(sa_type=Money)


class InvoiceSequence(SQLModel, table=True):
    """The last invoice number used per year, so numbers are gapless and never reused."""

    __tablename__ = "invoice_sequences"
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_number: int = Field(default=0)


class ExchangeRate(SQLModel, table=True):
    """An explicit rate: 1 base = rate quote. Billing never converts without one."""

    __tablename__ = "exchange_rates"
    __table_args__ = (sa.UniqueConstraint("base", "quote", name="uq_exchange_rates_pair"),)
    id: int | None = Field(default=None, primary_key=True)
    base: str = Field(max_length=3)
    quote: str = Field(max_length=3)
    rate: Decimal = Field(sa_type=Money)
    updated_by: str | None = Field(default=None, max_length=320)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
