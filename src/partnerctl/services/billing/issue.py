"""Issuing a document (invoice or credit note): VAT on its lines, totals per rate, the buyer as it
is now, the due date, a gapless number in its series, and the one write of it, in a savepoint."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from partnerctl.services.billing.tax import VatTreatment, vat_amount, vat_breakdown
from partnerctl.store.models import Client, Invoice, InvoiceLine, InvoiceSequence
from partnerctl.store.models.billing import DocumentKind
from partnerctl.values import to_jsonable

SERIES = {DocumentKind.invoice: "INV", DocumentKind.credit_note: "CN"}


def buyer_of(client: Client) -> dict[str, Any]:
    """What a document copies of its buyer when it is issued: name, billing address, VAT number, contact."""
    return {
        "ref": client.ref, "name": client.name, "street": client.billing_street, "city": client.billing_city,
        "zip": client.billing_zip, "country": client.billing_country, "vat_number": client.vat_number,
        "contact_name": client.contact_name, "email": client.contact_email,
    }  # fmt: skip


def tax_line(line: InvoiceLine, vat: VatTreatment, currency: str) -> InvoiceLine:
    """Put the VAT of `vat` on a line whose net amount is set (pure)."""
    line.vat_category, line.vat_rate = vat.category, vat.rate
    line.vat_amount = vat_amount(line.amount, vat.rate, currency)
    return line


def set_totals(invoice: Invoice, lines: Sequence[InvoiceLine]) -> Invoice:
    """The invoice's totals per (category, rate) and overall, from its taxed lines (pure)."""
    breakdown = vat_breakdown([(ln.vat_category, ln.vat_rate, ln.amount) for ln in lines], invoice.currency)
    invoice.vat_breakdown = to_jsonable(breakdown)
    invoice.net_total = sum((row["net"] for row in breakdown), Decimal(0))
    invoice.vat_total = sum((row["vat"] for row in breakdown), Decimal(0))
    invoice.total = invoice.net_total + invoice.vat_total
    return invoice


def due_date(issue_date: date, payment_terms_days: int) -> date:
    return issue_date + timedelta(days=payment_terms_days)


def next_number(session: Session, kind: DocumentKind, year: int) -> str:
    """Gapless numbering per series and year: INV-2026-000001, CN-2026-000001. The counter row is
    part of the caller's transaction (and savepoint), so a rolled-back document gives its number back."""
    series = SERIES[DocumentKind(kind)]
    seq = session.get(InvoiceSequence, (series, year), with_for_update=True)
    if seq is None:
        seq = InvoiceSequence(series=series, year=year, last_number=0)
    seq.last_number += 1
    session.add(seq)
    session.flush()
    return f"{series}-{year}-{seq.last_number:06d}"


def store_document(session: Session, invoice: Invoice, lines: Sequence[InvoiceLine]) -> bool:
    """Number and write one document with its lines in a savepoint; False when the database refuses
    it as a duplicate (that period already invoiced, that invoice already credited) — the savepoint,
    and with it the number taken, is rolled back."""
    try:
        with session.begin_nested():
            invoice.number = next_number(session, invoice.kind, invoice.issue_date.year)
            session.add(invoice)
            session.flush()
            for line in lines:
                line.invoice_id = invoice.id
                session.add(line)
            session.flush()
    except IntegrityError:
        return False
    return True
