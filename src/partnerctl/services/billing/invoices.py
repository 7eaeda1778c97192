"""Reading invoices: the list a user may see, one invoice with its lines, and totals that add up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Self

from sqlmodel import Session, col, select

from partnerctl.errors import NotFound
from partnerctl.services.access import get_client_for, visible_clients_filter
from partnerctl.services.money import round_money
from partnerctl.store.models import Client, Invoice, InvoiceLine, User


@dataclass
class InvoiceRow:
    number: str | None  # None for an invoice a dry run would create (not numbered yet)
    client_ref: str
    client_name: str
    subscription_id: int
    issue_date: date
    period_start: date
    period_end: date
    total: Decimal
    currency: str
    payer: str

    @classmethod
    def of(cls, inv: Invoice, client: Client, **extra: Any) -> Self:
        """The row of an invoice, stored or only planned; `extra` fills a subclass's own fields."""
        return cls(
            number=inv.number, client_ref=client.ref, client_name=client.name,
            subscription_id=inv.subscription_id, issue_date=inv.issue_date, period_start=inv.period_start,
            period_end=inv.period_end,
            # The store drops trailing zeros; amounts are shown in the currency's minor units (7.50, 1211).
            total=round_money(inv.total, inv.currency), currency=inv.currency, payer=str(inv.payer), **extra,
        )  # fmt: skip


@dataclass
class InvoiceDetail(InvoiceRow):
    lines: list[dict] = field(default_factory=list)


@dataclass
class TotalRow:
    currency: str
    payer: str
    invoices: int
    total: Decimal


def totals_by_currency(invoices: Iterable[InvoiceRow]) -> dict[str, Decimal]:
    """The exact Decimal sum of the invoices' totals per currency (never across currencies)."""
    out: dict[str, Decimal] = {}
    for inv in invoices:
        out[inv.currency] = out.get(inv.currency, Decimal(0)) + inv.total
    return out


def _invoice_query(actor: User):
    """Invoices with their clients, only those of clients the actor may see."""
    query = select(Invoice, Client).join(Client, col(Client.id) == Invoice.client_id)
    return query.where(visible_clients_filter(actor))


def list_invoices(
    session: Session,
    actor: User,
    *,
    client_ref: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[InvoiceRow]:
    """Invoices by issue date (since inclusive, until exclusive); bookkeepers see their clients' only."""
    query = _invoice_query(actor)
    if client_ref:
        query = query.where(Invoice.client_id == get_client_for(session, actor, client_ref).id)
    if since:
        query = query.where(Invoice.issue_date >= since)
    if until:
        query = query.where(Invoice.issue_date < until)
    query = query.order_by(Invoice.issue_date, Invoice.number)
    return [InvoiceRow.of(inv, client) for inv, client in session.exec(query)]


def get_invoice(session: Session, actor: User, number: str) -> InvoiceDetail:
    """One invoice by number (any case) with its lines; NotFound when the actor may not see it."""
    query = _invoice_query(actor).where(Invoice.number == (number or "").strip().upper())
    found = session.exec(query).first()
    if found is None:
        raise NotFound(f"no invoice {number!r}", hint="list them with `partnerctl invoice list`")
    inv, client = found
    lines = session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.id))
    return InvoiceDetail.of(inv, client, lines=[
        {"product": ln.product_key, "description": ln.description, "seats": ln.seats,
         "unit_price": ln.unit_price, "price_currency": ln.price_currency, "rate": ln.rate,
         "amount": round_money(ln.amount, inv.currency)}
        for ln in lines
    ])  # fmt: skip


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
