"""The billing run: one invoice with VAT per due period of every active subscription, numbered
gaplessly per year, each in its own savepoint, one writing run at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from partnerctl.errors import InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.billing.invoices import InvoiceRow, totals_by_currency
from partnerctl.services.billing.issue import buyer_of, due_date, set_totals, store_document, tax_line
from partnerctl.services.billing.sending import queue_invoice_mail
from partnerctl.services.billing.tax import VatTreatment, vat_treatment
from partnerctl.services.billing.vat_rates import vat_rate_table
from partnerctl.services.money import add_period, period_amount, rate_table
from partnerctl.services.partner import get_partner, invoicing_problem, seller_of
from partnerctl.store.models import Client, Invoice, InvoiceLine, Product, Subscription, User
from partnerctl.store.models.billing import DocumentKind
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
    blocked: str | None = None  # why nothing at all could be invoiced
    queued: int = 0  # e-mails queued (--send)
    unsent: list[tuple[str, str]] = field(default_factory=list)  # (number, why) not sent (--send)

    def totals(self) -> dict[str, Decimal]:
        return totals_by_currency(self.invoices)


Planned = tuple[Invoice, InvoiceLine]


def run_billing(
    session: Session, actor: User, *, as_of: date | None = None, dry_run: bool = False, send: bool = False
) -> BillingRun:
    """Invoice every active subscription whose next payment date has come, one invoice per period,
    with VAT; `send` queues each new invoice's e-mail with its PDF.

    Several missed periods give one invoice each; the next payment date moves one period per invoice.
    A subscription needing a currency conversion without an explicit rate, or a VAT rate that is not
    configured, is skipped and reported. Without the partner's country and VAT number nothing is invoiced.
    """
    require_admin(actor, "billing run")
    as_of = as_of or date.today()
    run = BillingRun(as_of=as_of, dry_run=dry_run)
    partner = get_partner(session)
    run.blocked = invoicing_problem(partner)
    if run.blocked:
        return run
    if not dry_run:
        _take_billing_lock(session)
    terms = _Terms(rate_table(session), vat_rate_table(session), seller_of(partner), actor.email)
    for sub, client, product in _due_subscriptions(session, as_of, lock_rows=not dry_run):
        planned = _plan_or_skip(run, terms, sub, client, product)
        for invoice, line in planned:
            if dry_run or _store_invoice(session, actor, invoice, line, client):
                run.invoices.append(InvoiceResult.of(invoice, client, product=product.key, seats=sub.seats))
                if send and not dry_run:
                    _send(session, run, invoice, client)
        if not dry_run and planned:
            _advance(session, sub, planned[-1][0].period_end)
    return run


def _send(session: Session, run: BillingRun, invoice: Invoice, client: Client) -> None:
    """Queue a new invoice's e-mail; one without a contact address is reported, the invoice stays."""
    try:
        _message, created = queue_invoice_mail(session, invoice, client)
    except InvalidInput as exc:
        run.unsent.append((invoice.number, str(exc)))
        return
    run.queued += created


@dataclass(frozen=True)
class _Terms:
    """What every invoice of one run is made with: exchange rates, VAT rates, the seller, the author."""

    rates: dict
    vat_rates: dict
    seller: dict
    created_by: str


def _plan_or_skip(run: BillingRun, terms: _Terms, sub, client, product) -> list[Planned]:
    priced = period_amount(sub.seats, product, client.currency, terms.rates)
    if priced is None:
        run.skipped.append(_no_rate(sub, client, product))
        return []
    vat = vat_treatment(
        partner_country=terms.seller["country"], client_country=client.billing_country,
        client_vat_number=client.vat_number, rates=terms.vat_rates,
    )  # fmt: skip
    if vat.problem:
        run.skipped.append(Skipped(sub.id, client.ref, product.key, vat.problem))
        return []
    return plan_invoices(sub, client, product, run.as_of, *priced, vat=vat, seller=terms.seller,
                         created_by=terms.created_by)  # fmt: skip


def plan_invoices(
    sub: Subscription, client: Client, product: Product, as_of: date, rate: Decimal, amount: Decimal,
    *, vat: VatTreatment, seller: dict, created_by: str | None = None,
) -> list[Planned]:  # fmt: skip
    """What a run invoices for one subscription (pure): one unnumbered invoice and its taxed line for
    each period from the next payment date on that has begun by `as_of`, seller and buyer as they are now."""
    planned: list[Planned] = []
    start = sub.next_payment_date
    buyer = buyer_of(client)
    while start <= as_of:
        end = add_period(start, product.period, sub.anchor_day)
        invoice = Invoice(
            number=None, kind=DocumentKind.invoice, subscription_id=sub.id, client_id=client.id, payer=sub.payer,
            currency=client.currency, language=client.language, period_start=start, period_end=end,
            issue_date=as_of, due_date=due_date(as_of, seller["payment_terms_days"]), seller=seller,
            buyer=buyer, created_by=created_by,
        )  # fmt: skip
        line = InvoiceLine(
            product_key=product.key, description=f"{product.name} x {sub.seats} ({start} - {end})",
            seats=sub.seats, unit_price=product.price_per_seat, price_currency=product.currency, rate=rate,
            amount=amount,
        )  # fmt: skip
        set_totals(invoice, [tax_line(line, vat, client.currency)])
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


def _store_invoice(
    session: Session, actor: User, invoice: Invoice, line: InvoiceLine, client: Client
) -> bool:
    """Number and store one planned invoice; False when that period is already invoiced."""
    if not store_document(session, invoice, [line]):
        return False
    audit.record(session, actor, "invoice.create", "invoice", invoice.number, after={
        "subscription": invoice.subscription_id, "client": client.ref, "period_start": invoice.period_start,
        "period_end": invoice.period_end, "net": invoice.net_total, "vat": invoice.vat_total,
        "total": invoice.total, "currency": invoice.currency, "vat_category": line.vat_category,
        "vat_rate": line.vat_rate,
    })  # fmt: skip
    return True


def _advance(session: Session, sub: Subscription, next_payment: date) -> None:
    """Move the next payment date past the periods this run has dealt with."""
    if next_payment != sub.next_payment_date:
        sub.next_payment_date, sub.updated_at = next_payment, utcnow()
        session.add(sub)
        session.flush()
