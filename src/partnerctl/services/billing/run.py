"""The billing run: one invoice per due period of every active subscription, numbered gaplessly per
year, each in its own savepoint, one writing run at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.billing.invoices import InvoiceRow, totals_by_currency
from partnerctl.services.money import add_period, period_amount, rate_table
from partnerctl.store.models import Client, Invoice, InvoiceLine, InvoiceSequence, Product, Subscription, User
from partnerctl.store.models.subscriptions import SubscriptionStatus
from partnerctl.store.types import utcnow

# Any fixed 64-bit key: the PostgreSQL advisory lock that lets one `billing run` at a time write.
_BILLING_LOCK_KEY = 0x5041_5254_4249_4C4C  # "PARTBILL"


@dataclass
class InvoiceResult(InvoiceRow):
    """An invoice the run created (or, in a dry run, would create)."""

    product: str
    seats: int


@dataclass
class Skipped:
    subscription_id: int
    client_ref: str
    product: str
    reason: str


@dataclass
class BillingRun:
    as_of: date
    dry_run: bool
    invoices: list[InvoiceResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def totals(self) -> dict[str, Decimal]:
        return totals_by_currency(self.invoices)


Planned = tuple[Invoice, InvoiceLine]


def run_billing(
    session: Session, actor: User, *, as_of: date | None = None, dry_run: bool = False
) -> BillingRun:
    """Invoice every active subscription whose next payment date has come, one invoice per period.

    Several missed periods give one invoice each; the next payment date moves one period per invoice.
    A subscription needing a currency conversion without an explicit rate is skipped and reported.
    """
    require_admin(actor, "billing run")
    as_of = as_of or date.today()
    run = BillingRun(as_of=as_of, dry_run=dry_run)
    if not dry_run:
        _take_billing_lock(session)
    rates = rate_table(session)
    for sub, client, product in _due_subscriptions(session, as_of, lock_rows=not dry_run):
        priced = period_amount(sub.seats, product, client.currency, rates)
        if priced is None:
            run.skipped.append(_no_rate(sub, client, product))
            continue
        planned = plan_invoices(sub, client, product, as_of, *priced, created_by=actor.email)
        for invoice, line in planned:
            if dry_run or _store_invoice(session, actor, invoice, line, client):
                run.invoices.append(InvoiceResult.of(invoice, client, product=product.key, seats=sub.seats))
        if not dry_run and planned:
            _advance(session, sub, planned[-1][0].period_end)
    return run


def plan_invoices(
    sub: Subscription, client: Client, product: Product, as_of: date, rate: Decimal, amount: Decimal,
    *, created_by: str | None = None,
) -> list[Planned]:  # fmt: skip
    """What a run invoices for one subscription (pure): one unnumbered invoice and its line for each
    period from the next payment date on that has begun by `as_of`."""
    planned: list[Planned] = []
    start = sub.next_payment_date
    while start <= as_of:
        end = add_period(start, product.period, sub.anchor_day)
        invoice = Invoice(
            number=None, subscription_id=sub.id, client_id=client.id, payer=sub.payer, currency=client.currency,
            period_start=start, period_end=end, issue_date=as_of, total=amount, created_by=created_by,
        )  # fmt: skip
        line = InvoiceLine(
            product_key=product.key, description=f"{product.name} x {sub.seats} ({start} - {end})",
            seats=sub.seats, unit_price=product.price_per_seat, price_currency=product.currency, rate=rate,
            amount=amount,
        )  # fmt: skip
        planned.append((invoice, line))
        start = end
    return planned


def _due_subscriptions(session: Session, as_of: date, *, lock_rows: bool):
    """Active subscriptions due by `as_of` with their clients and products, oldest first."""
    query = (
        select(Subscription, Client, Product)
        .join(Client, col(Client.id) == Subscription.client_id)
        .join(Product, col(Product.id) == Subscription.product_id)
        .where(Subscription.status == SubscriptionStatus.active, Subscription.next_payment_date <= as_of)
        .order_by(Subscription.id)
    )
    if lock_rows:
        query = query.with_for_update(of=Subscription)
    return session.exec(query).all()


def _no_rate(sub: Subscription, client: Client, product: Product) -> Skipped:
    return Skipped(sub.id, client.ref, product.key,
        f"no exchange rate {product.currency}->{client.currency}; set one with "
        f"`partnerctl billing rate set {product.currency} {client.currency} RATE`")  # fmt: skip


def _take_billing_lock(session: Session) -> None:
    """One writing run at a time. SQLite already serialises writers (BEGIN IMMEDIATE); on PostgreSQL
    a transaction-scoped advisory lock does, so a second cron run waits and then finds nothing due.
    The unique (subscription, period) constraint stays the final guarantee either way."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _BILLING_LOCK_KEY})


def _next_number(session: Session, year: int) -> str:
    """Gapless per-year numbering: the counter row is part of the run's transaction (and savepoint)."""
    seq = session.get(InvoiceSequence, year, with_for_update=True)
    if seq is None:
        seq = InvoiceSequence(year=year, last_number=0)
    seq.last_number += 1
    session.add(seq)
    session.flush()
    return f"INV-{year}-{seq.last_number:06d}"


def _store_invoice(
    session: Session, actor: User, invoice: Invoice, line: InvoiceLine, client: Client
) -> bool:
    """Number and store one planned invoice in a savepoint; False when that period is already invoiced
    (the savepoint, and with it the number taken, is rolled back)."""
    try:
        with session.begin_nested():
            invoice.number = _next_number(session, invoice.issue_date.year)
            session.add(invoice)
            session.flush()
            line.invoice_id = invoice.id
            session.add(line)
            session.flush()
    except IntegrityError:
        return False
    audit.record(session, actor, "invoice.create", "invoice", invoice.number, after={
        "subscription": invoice.subscription_id, "client": client.ref, "period_start": invoice.period_start,
        "period_end": invoice.period_end, "total": invoice.total, "currency": invoice.currency,
    })  # fmt: skip
    return True


def _advance(session: Session, sub: Subscription, next_payment: date) -> None:
    """Move the next payment date past the periods this run has dealt with."""
    if next_payment != sub.next_payment_date:
        sub.next_payment_date, sub.updated_at = next_payment, utcnow()
        session.add(sub)
        session.flush()
