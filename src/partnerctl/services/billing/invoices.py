"""Reading invoices and credit notes: the list a user may see (open and overdue ones too), one with
its lines, VAT and parties, and totals that add up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from partnerctl.errors import NotFound
from partnerctl.services.access import get_client_for, visible_clients_filter
from partnerctl.services.money import round_money
from partnerctl.store.models import Client, Invoice, InvoiceLine, InvoicePayment, User
from partnerctl.store.models.billing import DocumentKind


@dataclass
class InvoiceRow:
    number: str | None  # None for an invoice a dry run would create (not numbered yet)
    kind: str
    client_ref: str
    client_name: str
    subscription_id: int
    issue_date: date
    due_date: date
    period_start: date
    period_end: date
    net: Decimal
    vat: Decimal
    total: Decimal
    currency: str
    payer: str

    @classmethod
    def of(cls, inv: Invoice, client: Client, **extra: Any) -> Self:
        """The row of an invoice, stored or only planned; `extra` fills a subclass's own fields."""
        money = {  # The store drops trailing zeros; amounts are shown in the currency's minor units.
            "net": round_money(inv.net_total, inv.currency), "vat": round_money(inv.vat_total, inv.currency),
            "total": round_money(inv.total, inv.currency),
        }  # fmt: skip
        return cls(
            # The buyer's name as invoiced (a later rename never changes an issued invoice).
            number=inv.number, kind=str(inv.kind), client_ref=client.ref,
            client_name=(inv.buyer or {}).get("name") or client.name,
            subscription_id=inv.subscription_id, issue_date=inv.issue_date, due_date=inv.due_date,
            period_start=inv.period_start, period_end=inv.period_end, **money, currency=inv.currency,
            payer=str(inv.payer), **extra,
        )  # fmt: skip


@dataclass
class ListedInvoice(InvoiceRow):
    paid_on: date | None = None
    credited_by: str | None = None  # the credit note that cancels it


@dataclass
class InvoiceDetail(ListedInvoice):
    language: str = "en"
    credits: str | None = None  # a credit note: the invoice it credits
    reason: str | None = None
    seller: dict = field(default_factory=dict)
    buyer: dict = field(default_factory=dict)
    vat_breakdown: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)


@dataclass
class TotalRow:
    currency: str
    payer: str
    invoices: int
    net: Decimal
    vat: Decimal
    total: Decimal


def totals_by_currency(invoices: Iterable[InvoiceRow]) -> dict[str, Decimal]:
    """The exact Decimal sum of the invoices' totals per currency (never across currencies)."""
    out: dict[str, Decimal] = {}
    for inv in invoices:
        out[inv.currency] = out.get(inv.currency, Decimal(0)) + inv.total
    return out


_Credit = aliased(Invoice, name="credit_note")


def _invoice_query(actor: User):
    """Invoices with their clients, payments and credit notes, only of clients the actor may see."""
    query = (
        select(Invoice, Client, InvoicePayment.paid_on, _Credit.number)
        .join(Client, col(Client.id) == Invoice.client_id)
        .outerjoin(InvoicePayment, col(InvoicePayment.invoice_id) == Invoice.id)
        .outerjoin(_Credit, col(_Credit.credited_invoice_id) == Invoice.id)
    )
    return query.where(visible_clients_filter(actor))


def open_filter(as_of: date | None = None) -> Any:
    """A WHERE clause: invoices still to be paid (not paid, not credited); with `as_of`, only those
    whose due date has passed by then (overdue)."""
    clause = sa.and_(
        Invoice.kind == DocumentKind.invoice, col(InvoicePayment.id).is_(None), col(_Credit.id).is_(None)
    )
    return clause if as_of is None else sa.and_(clause, Invoice.due_date < as_of)


def list_invoices(
    session: Session,
    actor: User,
    *,
    client_ref: str | None = None,
    since: date | None = None,
    until: date | None = None,
    unpaid: bool = False,
    overdue_on: date | None = None,
) -> list[ListedInvoice]:
    """Invoices and credit notes by issue date (since inclusive, until exclusive); bookkeepers see
    their clients' only. `unpaid`: open invoices only; `overdue_on`: open ones due before that day."""
    query = _invoice_query(actor)
    if client_ref:
        query = query.where(Invoice.client_id == get_client_for(session, actor, client_ref).id)
    if since:
        query = query.where(Invoice.issue_date >= since)
    if until:
        query = query.where(Invoice.issue_date < until)
    if unpaid or overdue_on:
        query = query.where(open_filter(overdue_on))
    query = query.order_by(Invoice.issue_date, Invoice.number)
    return [
        ListedInvoice.of(inv, client, paid_on=paid_on, credited_by=credit)
        for inv, client, paid_on, credit in session.exec(query)
    ]


def find_invoice(
    session: Session, actor: User, number: str
) -> tuple[Invoice, Client, date | None, str | None]:
    """One invoice or credit note by number (any case), with its client, payment date and credit
    note; NotFound when the actor may not see it."""
    query = _invoice_query(actor).where(Invoice.number == (number or "").strip().upper())
    found = session.exec(query).first()
    if found is None:
        raise NotFound(
            f"no invoice or credit note {number!r}", hint="list them with `partnerctl invoice list`"
        )
    return found


def invoice_lines(session: Session, invoice: Invoice) -> list[InvoiceLine]:
    return list(
        session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.id))
    )


def get_invoice(session: Session, actor: User, number: str) -> InvoiceDetail:
    """One invoice or credit note with its lines, VAT per rate, seller and buyer as issued."""
    inv, client, paid_on, credit = find_invoice(session, actor, number)
    credits = session.get(Invoice, inv.credited_invoice_id).number if inv.credited_invoice_id else None
    return InvoiceDetail.of(
        inv, client, paid_on=paid_on, credited_by=credit, language=inv.language, credits=credits,
        reason=inv.reason, seller=dict(inv.seller), buyer=dict(inv.buyer), vat_breakdown=list(inv.vat_breakdown),
        lines=[line_row(ln, inv.currency) for ln in invoice_lines(session, inv)],
    )  # fmt: skip


def line_row(ln: InvoiceLine, currency: str) -> dict[str, Any]:
    return {
        "product": ln.product_key, "description": ln.description, "seats": ln.seats,
        "unit_price": ln.unit_price, "price_currency": ln.price_currency, "rate": ln.rate,
        "amount": round_money(ln.amount, currency), "vat_category": ln.vat_category, "vat_rate": ln.vat_rate,
        "vat_amount": round_money(ln.vat_amount, currency),
    }  # fmt: skip


def invoice_totals(
    session: Session,
    actor: User,
    *,
    client_ref: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[TotalRow]:
    """Net, VAT and gross totals per currency and payer, summed in Decimal from the very invoices
    (and credit notes, which count negative) `invoice list` shows (SQL SUM over SQLite's text money
    would go through floats)."""
    acc: dict[tuple[str, str], TotalRow] = {}
    for inv in list_invoices(session, actor, client_ref=client_ref, since=since, until=until):
        zero = Decimal(0)
        row = acc.setdefault(
            (inv.currency, inv.payer), TotalRow(inv.currency, inv.payer, 0, zero, zero, zero)
        )
        row.invoices += 1
        row.net += inv.net
        row.vat += inv.vat
        row.total += inv.total
    return [acc[k] for k in sorted(acc)]
