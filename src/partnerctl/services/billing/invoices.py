"""Billing: monthly/yearly invoices for due subscriptions, explicit exchange rates, the currency lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.access import get_client_for, require_admin, visible_clients_filter
from partnerctl.services.money import add_period, conversion_rate, rate_table, round_money
from partnerctl.services.validation import normalize_currency, parse_amount
from partnerctl.store.models import (
    Client,
    ExchangeRate,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Product,
    Subscription,
    User,
)
from partnerctl.store.models.subscriptions import SubscriptionStatus
from partnerctl.store.types import utcnow

# Any fixed 64-bit key: the PostgreSQL advisory lock that lets one `billing run` at a time write.
_BILLING_LOCK_KEY = 0x5041_5254_4249_4C4C  # "PARTBILL"


# -- exchange rates -------------------------------------------------------------------------------


def set_rate(session: Session, actor: User, base: str, quote: str, rate: str | Decimal) -> ExchangeRate:
    """Set the explicit rate 1 BASE = RATE QUOTE (admins only)."""
    require_admin(actor, "billing rate set")
    base, quote = normalize_currency(base), normalize_currency(quote)
    if base == quote:
        raise InvalidInput(f"a rate needs two different currencies, not {base} and {quote}")
    value = parse_amount(rate, field="rate")
    if value <= 0:
        raise InvalidInput("rate must be greater than 0")
    if value != round(value, 6):
        raise InvalidInput("rate has more than 6 decimals")
    existing = session.exec(
        select(ExchangeRate).where(ExchangeRate.base == base, ExchangeRate.quote == quote)
    ).first()
    before = {"rate": existing.rate} if existing else None
    if existing is None:
        existing = ExchangeRate(base=base, quote=quote, rate=value)
    existing.rate, existing.updated_by, existing.updated_at = value, actor.email, utcnow()
    session.add(existing)
    session.flush()
    audit.record(session, actor, "rate.set", "exchange_rate", f"{base}/{quote}", before=before,
                 after={"base": base, "quote": quote, "rate": value})  # fmt: skip
    return existing


def list_rates(session: Session) -> list[ExchangeRate]:
    return list(session.exec(select(ExchangeRate).order_by(ExchangeRate.base, ExchangeRate.quote)))


# -- billing run ----------------------------------------------------------------------------------


@dataclass
class InvoiceResult:
    number: str | None  # None in a dry run
    subscription_id: int
    client_ref: str
    client_name: str
    product: str
    seats: int
    period_start: date
    period_end: date
    total: Decimal
    currency: str
    payer: str


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
        out: dict[str, Decimal] = {}
        for inv in self.invoices:
            out[inv.currency] = out.get(inv.currency, Decimal(0)) + inv.total
        return out


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


def _line_amount(
    seats: int, product: Product, currency: str, rates: dict[tuple[str, str], Decimal]
) -> tuple[Decimal, Decimal] | None:
    """(rate, rounded amount) in the client's currency, or None when no explicit rate exists."""
    rate = conversion_rate(rates, product.currency, currency)
    if rate is None:
        return None
    # Convert the line total, not the unit price, so only one rounding happens.
    return rate, round_money(Decimal(seats) * product.price_per_seat * rate, currency)


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
    query = (
        select(Subscription, Client, Product)
        .join(Client, col(Client.id) == Subscription.client_id)
        .join(Product, col(Product.id) == Subscription.product_id)
        .where(Subscription.status == SubscriptionStatus.active, Subscription.next_payment_date <= as_of)
        .order_by(Subscription.id)
    )
    if not dry_run:
        query = query.with_for_update(of=Subscription)
    for sub, client, product in session.exec(query).all():
        due = sub.next_payment_date
        priced = _line_amount(sub.seats, product, client.currency, rates)
        if priced is None:
            run.skipped.append(Skipped(sub.id, client.ref, product.key,
                f"no exchange rate {product.currency}->{client.currency}; set one with "
                f"`partnerctl billing rate set {product.currency} {client.currency} RATE`"))  # fmt: skip
            continue
        rate, amount = priced
        while due <= as_of:
            period_end = add_period(due, product.period, sub.anchor_day)
            number = None
            if not dry_run:
                number = _create_invoice(
                    session, actor, sub, client, product, due, period_end, as_of, rate, amount
                )
            if dry_run or number is not None:
                run.invoices.append(InvoiceResult(number, sub.id, client.ref, client.name, product.key, sub.seats,
                                                  due, period_end, amount, client.currency, str(sub.payer)))  # fmt: skip
            due = period_end
        if not dry_run and due != sub.next_payment_date:
            sub.next_payment_date, sub.updated_at = due, utcnow()
            session.add(sub)
            session.flush()
    return run


def _create_invoice(
    session: Session, actor: User, sub: Subscription, client: Client, product: Product,
    start: date, end: date, issue: date, rate: Decimal, amount: Decimal,
) -> str | None:  # fmt: skip
    """Create one invoice in a savepoint; None when that period is already invoiced."""
    try:
        with session.begin_nested():
            number = _next_number(session, issue.year)
            invoice = Invoice(
                number=number, subscription_id=sub.id, client_id=client.id, payer=sub.payer,
                currency=client.currency, period_start=start, period_end=end, issue_date=issue,
                total=amount, created_by=actor.email,
            )  # fmt: skip
            session.add(invoice)
            session.flush()
            session.add(InvoiceLine(
                invoice_id=invoice.id, product_key=product.key,
                description=f"{product.name} x {sub.seats} ({start} - {end})", seats=sub.seats,
                unit_price=product.price_per_seat, price_currency=product.currency, rate=rate, amount=amount,
            ))  # fmt: skip
            session.flush()
    except IntegrityError:
        return None
    audit.record(session, actor, "invoice.create", "invoice", number, after={
        "subscription": sub.id, "client": client.ref, "period_start": start, "period_end": end,
        "total": amount, "currency": client.currency,
    })  # fmt: skip
    return number


# -- invoices -------------------------------------------------------------------------------------


@dataclass
class InvoiceRow:
    number: str
    client_ref: str
    client_name: str
    subscription_id: int
    issue_date: date
    period_start: date
    period_end: date
    total: Decimal
    currency: str
    payer: str


@dataclass
class InvoiceDetail(InvoiceRow):
    lines: list[dict] = field(default_factory=list)


def _row(inv: Invoice, client: Client) -> dict:
    return dict(
        number=inv.number, client_ref=client.ref, client_name=client.name, subscription_id=inv.subscription_id,
        issue_date=inv.issue_date, period_start=inv.period_start, period_end=inv.period_end,
        # The store drops trailing zeros; amounts are shown in the currency's minor units (7.50, 1211).
        total=round_money(inv.total, inv.currency), currency=inv.currency, payer=str(inv.payer),
    )  # fmt: skip


def list_invoices(
    session: Session,
    actor: User,
    *,
    client_ref: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[InvoiceRow]:
    """Invoices by issue date (since inclusive, until exclusive); bookkeepers see their clients' only."""
    query = select(Invoice, Client).join(Client, col(Client.id) == Invoice.client_id)
    query = query.where(visible_clients_filter(actor))
    if client_ref:
        query = query.where(Invoice.client_id == get_client_for(session, actor, client_ref).id)
    if since:
        query = query.where(Invoice.issue_date >= since)
    if until:
        query = query.where(Invoice.issue_date < until)
    query = query.order_by(Invoice.issue_date, Invoice.number)
    return [InvoiceRow(**_row(inv, client)) for inv, client in session.exec(query)]


def get_invoice(session: Session, actor: User, number: str) -> InvoiceDetail:
    query = select(Invoice, Client).join(Client, col(Client.id) == Invoice.client_id)
    query = query.where(Invoice.number == (number or "").strip().upper())
    query = query.where(visible_clients_filter(actor))
    found = session.exec(query).first()
    if found is None:
        raise NotFound(f"no invoice {number!r}", hint="list them with `partnerctl invoice list`")
    inv, client = found
    lines = session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.id))
    return InvoiceDetail(**_row(inv, client), lines=[
        {"product": ln.product_key, "description": ln.description, "seats": ln.seats,
         "unit_price": ln.unit_price, "price_currency": ln.price_currency, "rate": ln.rate, "amount": round_money(ln.amount, inv.currency)}
        for ln in lines
    ])  # fmt: skip


@dataclass
class TotalRow:
    currency: str
    payer: str
    invoices: int
    total: Decimal


def invoice_totals(
    session: Session,
    actor: User,
    *,
    client_ref: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[TotalRow]:
    """Totals per currency and payer, summed in Decimal from the very invoices `invoice list` shows
    (SQL SUM over SQLite's text money would go through floats)."""
    acc: dict[tuple[str, str], TotalRow] = {}
    for inv in list_invoices(session, actor, client_ref=client_ref, since=since, until=until):
        row = acc.setdefault((inv.currency, inv.payer), TotalRow(inv.currency, inv.payer, 0, Decimal(0)))
        row.invoices += 1
        row.total += inv.total
    return [acc[k] for k in sorted(acc)]


# -- what other areas ask of billing ------------------------------------------------------------


def client_invoice_count(session: Session, client_id: int) -> int:
    return session.exec(select(func.count()).select_from(Invoice).where(Invoice.client_id == client_id)).one()


def assert_currency_change_allowed(session: Session, client: Client, new_currency: str | None = None) -> None:
    """The currency lock: once a client has an invoice, its currency is fixed (Conflict, exit 4)."""
    if new_currency is not None and new_currency == client.currency:
        return
    count = client_invoice_count(session, client.id)
    if count:
        raise Conflict(
            f"client {client.ref} already has {count} invoice(s) in {client.currency}; "
            "its currency cannot change once it has been invoiced"
        )
