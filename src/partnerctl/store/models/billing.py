"""Billing: invoices and credit notes (one per subscription and period), their lines, VAT rates,
payments, numbering per series and year, and exchange rates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from partnerctl.store.models.subscriptions import Payer
from partnerctl.store.types import Money, UTCDateTime, utcnow


class DocumentKind(StrEnum):
    invoice = "invoice"
    credit_note = "credit_note"


class Invoice(SQLModel, table=True):
    """An issued invoice or credit note. Never updated once written (see store.models.guards)."""

    __tablename__ = "invoices"
    __table_args__ = (
        # The database itself guarantees each period of a subscription is invoiced (and credited)
        # at most once, whatever two concurrent `billing run`s (cron) do.
        sa.UniqueConstraint(
            "subscription_id", "period_start", "kind", name="uq_invoices_subscription_period"
        ),
        sa.UniqueConstraint("number", name="uq_invoices_number"),
        # One credit note per invoice: crediting twice is a conflict even between two processes.
        sa.UniqueConstraint("credited_invoice_id", name="uq_invoices_credited_invoice"),
        sa.Index("ix_invoices_client", "client_id"),
        sa.Index("ix_invoices_issue_date", "issue_date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32)
    kind: DocumentKind = Field(default=DocumentKind.invoice, sa_type=sa.String(12))
    # A credit note: the invoice it credits, and why.
    credited_invoice_id: int | None = Field(default=None, foreign_key="invoices.id", ondelete="RESTRICT")
    reason: str | None = Field(default=None, max_length=300)
    subscription_id: int = Field(foreign_key="subscriptions.id", ondelete="RESTRICT")
    client_id: int = Field(foreign_key="clients.id", ondelete="RESTRICT")
    payer: Payer = Field(sa_type=sa.String(10))
    currency: str = Field(max_length=3)
    # The language of its documents: the client's when it was issued.
    language: str = Field(default="en", max_length=8)
    period_start: date = Field(sa_type=sa.Date)
    period_end: date = Field(sa_type=sa.Date)  # exclusive: the next payment date
    issue_date: date = Field(sa_type=sa.Date)
    due_date: date = Field(sa_type=sa.Date)  # issue date + the partner's payment terms
    net_total: Decimal = Field(sa_type=Money)
    vat_total: Decimal = Field(sa_type=Money)
    total: Decimal = Field(sa_type=Money)  # gross: net + VAT, what the client pays
    # Per VAT category and rate: [{"category", "rate", "net", "vat"}], amounts as exact strings.
    vat_breakdown: list = Field(default_factory=list, sa_type=sa.JSON)
    # Seller and buyer as they were at issue time (names, addresses, VAT numbers, payment details).
    seller: dict = Field(default_factory=dict, sa_type=sa.JSON)
    buyer: dict = Field(default_factory=dict, sa_type=sa.JSON)
    created_by: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == DocumentKind.credit_note


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
    # seats x unit_price x rate, rounded half-even to the invoice currency's minor units (net).
    amount: Decimal = Field(sa_type=Money)
    # UNCL5305 category (S standard, Z zero rated, AE reverse charge, O outside the scope of VAT),
    # the rate in percent and the VAT of this line, fixed when the invoice is issued.
    vat_category: str = Field(default="S", max_length=2)
    vat_rate: Decimal = Field(default=Decimal(0), sa_type=Money)
    vat_amount: Decimal = Field(default=Decimal(0), sa_type=Money)


class InvoiceSequence(SQLModel, table=True):
    """The last number used per series (INV, CN) and year, so numbers are gapless and never reused."""

    __tablename__ = "invoice_sequences"
    series: str = Field(primary_key=True, max_length=8)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_number: int = Field(default=0)


class InvoicePayment(SQLModel, table=True):
    """A payment recorded against an invoice: at most one, so an invoice is paid or it is not."""

    __tablename__ = "invoice_payments"
    __table_args__ = (sa.UniqueConstraint("invoice_id", name="uq_invoice_payments_invoice"),)
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoices.id", ondelete="RESTRICT")
    paid_on: date = Field(sa_type=sa.Date)
    amount: Decimal = Field(sa_type=Money)
    recorded_by: str | None = Field(default=None, max_length=320)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class VatRate(SQLModel, table=True):
    """A VAT rate in percent per country: the partner's own country's is the domestic rate, the
    others are destination rates for consumers in other EU countries."""

    __tablename__ = "vat_rates"
    country: str = Field(primary_key=True, max_length=2)
    rate: Decimal = Field(sa_type=Money)
    updated_by: str | None = Field(default=None, max_length=320)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


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


@sa.event.listens_for(Invoice, "before_update")
@sa.event.listens_for(InvoiceLine, "before_update")
def _issued_documents_never_change(mapper, connection, target) -> None:
    """Issued invoices and credit notes are immutable: a correction is a credit note, never an UPDATE."""
    from sqlalchemy.orm import object_session

    from partnerctl.errors import Conflict

    session = object_session(target)
    if session is None or session.is_modified(target, include_collections=False):
        raise Conflict("an issued invoice never changes; correct it with a credit note (`invoice credit`)")
