"""What an invoice document says, as plain values: built from an issued invoice (or credit note) and
its lines, read by the CII, UBL and PDF writers. A credit note's amounts are shown positive: its type
(381, CreditNote) is what says they are credited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from partnerctl.services.billing.documents.labels import labels_for
from partnerctl.services.billing.tax import EXEMPTION_CODE, NOTE_OF_CATEGORY
from partnerctl.services.locale import text_language
from partnerctl.services.money import round_money
from partnerctl.store.models import Invoice, InvoiceLine

INVOICE_TYPE, CREDIT_NOTE_TYPE = "380", "381"  # UNCL1001 document type codes


@dataclass(frozen=True)
class Party:
    name: str
    street: str | None = None
    city: str | None = None
    zip: str | None = None
    country: str | None = None
    vat_number: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Line:
    number: int
    description: str
    quantity: int
    unit_price: Decimal  # net, in the invoice currency
    net: Decimal
    category: str
    rate: Decimal


@dataclass(frozen=True)
class VatGroup:
    category: str
    rate: Decimal
    net: Decimal
    vat: Decimal
    exemption_code: str | None
    exemption_reason: str | None


@dataclass(frozen=True)
class Document:
    number: str
    type_code: str
    language: str
    currency: str
    issue_date: date
    due_date: date
    period_start: date
    period_last_day: date  # the stored period end is exclusive (the next payment date)
    seller: Party
    buyer: Party
    buyer_ref: str
    lines: tuple[Line, ...]
    vat_groups: tuple[VatGroup, ...]
    net_total: Decimal
    vat_total: Decimal
    total: Decimal
    notes: tuple[str, ...]
    iban: str | None = None
    bic: str | None = None
    footer: str | None = None
    credits: str | None = None  # a credit note: the invoice it credits
    credits_issue_date: date | None = None
    reason: str | None = None

    @property
    def is_credit_note(self) -> bool:
        return self.type_code == CREDIT_NOTE_TYPE

    @property
    def labels(self) -> dict[str, str]:
        return labels_for(self.language)


def _party(data: dict[str, Any], *, fallback_country: str | None = None) -> Party:
    return Party(
        name=data.get("name") or "", street=data.get("street"), city=data.get("city"), zip=data.get("zip"),
        country=data.get("country") or fallback_country, vat_number=data.get("vat_number"),
        email=data.get("email"),
    )  # fmt: skip


def document_of(invoice: Invoice, lines: list[InvoiceLine], credited: Invoice | None = None) -> Document:
    """The document of an issued invoice or credit note (`credited`: the invoice a credit note cancels)."""
    sign = Decimal(-1) if invoice.is_credit_note else Decimal(1)
    cur = invoice.currency
    language = text_language(invoice.language)
    words = labels_for(language)
    seller = _party(invoice.seller)
    # A client without a billing country is invoiced as domestic: its document says so too.
    buyer = _party(invoice.buyer, fallback_country=seller.country)
    doc_lines = tuple(
        Line(i, ln.description, ln.seats, (ln.unit_price * ln.rate).normalize(), round_money(sign * ln.amount, cur),
             ln.vat_category, Decimal(ln.vat_rate))
        for i, ln in enumerate(lines, start=1)
    )  # fmt: skip
    groups = tuple(
        VatGroup(
            g["category"], Decimal(g["rate"]), round_money(sign * Decimal(g["net"]), cur),
            round_money(sign * Decimal(g["vat"]), cur), EXEMPTION_CODE.get(g["category"]),
            words[NOTE_OF_CATEGORY[g["category"]]] if g["category"] in NOTE_OF_CATEGORY else None,
        )
        for g in invoice.vat_breakdown
    )  # fmt: skip
    notes = [g.exemption_reason for g in groups if g.exemption_reason]
    if credited is not None:
        notes.insert(0, words["refund"].format(number=credited.number))
    return Document(
        number=invoice.number, type_code=CREDIT_NOTE_TYPE if invoice.is_credit_note else INVOICE_TYPE,
        language=language, currency=cur, issue_date=invoice.issue_date, due_date=invoice.due_date,
        period_start=invoice.period_start, period_last_day=invoice.period_end - timedelta(days=1),
        seller=seller, buyer=buyer, buyer_ref=invoice.buyer.get("ref") or buyer.name, lines=doc_lines,
        vat_groups=groups, net_total=round_money(sign * invoice.net_total, cur),
        vat_total=round_money(sign * invoice.vat_total, cur), total=round_money(sign * invoice.total, cur),
        notes=tuple(dict.fromkeys(notes)), iban=invoice.seller.get("iban"), bic=invoice.seller.get("bic"),
        footer=invoice.seller.get("footer"), credits=credited.number if credited else None,
        credits_issue_date=credited.issue_date if credited else None, reason=invoice.reason,
    )  # fmt: skip
