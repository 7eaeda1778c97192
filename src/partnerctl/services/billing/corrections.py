"""What happens to an issued invoice afterwards: a credit note cancels it (it is never changed), a
payment settles it. Each at most once, which the database holds too."""

from __future__ import annotations

from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from partnerctl.errors import Conflict, InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.billing.invoices import find_invoice, invoice_lines
from partnerctl.services.billing.issue import set_totals, store_document
from partnerctl.services.validation import require_text
from partnerctl.store.models import Invoice, InvoiceLine, InvoicePayment, User
from partnerctl.store.models.billing import DocumentKind


def credit_note_of(invoice: Invoice, lines: list[InvoiceLine], *, issue_date: date, reason: str | None,
                   created_by: str) -> tuple[Invoice, list[InvoiceLine]]:  # fmt: skip
    """The credit note cancelling `invoice` (pure): its lines negated, the same VAT, parties and language."""
    note = Invoice(
        number=None, kind=DocumentKind.credit_note, credited_invoice_id=invoice.id, reason=reason,
        subscription_id=invoice.subscription_id, client_id=invoice.client_id, payer=invoice.payer,
        currency=invoice.currency, language=invoice.language, period_start=invoice.period_start,
        period_end=invoice.period_end, issue_date=issue_date, due_date=issue_date, seller=dict(invoice.seller),
        buyer=dict(invoice.buyer), created_by=created_by,
    )  # fmt: skip
    negated = [
        InvoiceLine(
            product_key=ln.product_key,
            description=ln.description,
            seats=ln.seats,
            unit_price=ln.unit_price,
            price_currency=ln.price_currency,
            rate=ln.rate,
            amount=-ln.amount,
            vat_category=ln.vat_category,
            vat_rate=ln.vat_rate,
            vat_amount=-ln.vat_amount,
        )  # fmt: skip
        for ln in lines
    ]
    return set_totals(note, negated), negated


def credit_invoice(
    session: Session, actor: User, number: str, *, reason: str | None = None, today: date | None = None
) -> Invoice:
    """`invoice credit`: issue the credit note (series CN) that cancels an invoice. Admins only; once."""
    require_admin(actor, "invoice credit")
    invoice, client, _paid_on, credited_by = find_invoice(session, actor, number)
    if invoice.is_credit_note:
        raise Conflict(f"{invoice.number} is a credit note; only an invoice can be credited")
    if credited_by:
        raise Conflict(f"invoice {invoice.number} is already credited by {credited_by}")
    text = require_text(reason, "reason", max_length=300) if reason is not None else None
    note, lines = credit_note_of(invoice, invoice_lines(session, invoice), issue_date=today or date.today(),
                                 reason=text, created_by=actor.email)  # fmt: skip
    if not store_document(session, note, lines):
        raise Conflict(f"invoice {invoice.number} was credited by someone else just now")
    audit.record(session, actor, "invoice.credit", "invoice", note.number, after={
        "credits": invoice.number, "client": client.ref, "reason": text, "total": note.total,
        "currency": note.currency,
    })  # fmt: skip
    return note


def record_payment(
    session: Session, actor: User, number: str, *, paid_on: date | None = None, today: date | None = None
) -> InvoicePayment:
    """`invoice pay`: record that an invoice was paid in full. Admins only; once."""
    require_admin(actor, "invoice pay")
    today = today or date.today()
    paid_on = paid_on or today
    invoice, client, already_paid, credited_by = find_invoice(session, actor, number)
    if invoice.is_credit_note:
        raise Conflict(f"{invoice.number} is a credit note; there is nothing to pay")
    if credited_by:
        raise Conflict(f"invoice {invoice.number} is credited by {credited_by}; there is nothing to pay")
    if already_paid:
        raise Conflict(f"invoice {invoice.number} was already paid on {already_paid}")
    if paid_on > today:
        raise InvalidInput(f"the payment date {paid_on} is in the future")
    payment = InvoicePayment(
        invoice_id=invoice.id, paid_on=paid_on, amount=invoice.total, recorded_by=actor.email
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError:
        raise Conflict(f"invoice {invoice.number} was marked paid by someone else just now") from None
    audit.record(session, actor, "invoice.pay", "invoice", invoice.number, after={
        "client": client.ref, "paid_on": paid_on, "amount": invoice.total, "currency": invoice.currency,
    })  # fmt: skip
    return payment
