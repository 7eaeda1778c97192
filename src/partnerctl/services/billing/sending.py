"""Sending an issued invoice or credit note: one e-mail to the client's contact, in the document's
language, with its Factur-X PDF attached, queued in the outbox under the document's number (so it
goes exactly once, however often it is asked for)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from partnerctl.errors import InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.billing.documents import Document
from partnerctl.services.billing.files import FileKind, document_for, render_file
from partnerctl.services.billing.invoices import find_invoice
from partnerctl.services.locale import format_day, format_money
from partnerctl.services.outbox import queue_template
from partnerctl.store.models import Client, Invoice, OutboxMessage, User

INVOICE_TEMPLATE = "invoice"


def mail_context(doc: Document, client: Client) -> dict[str, str]:
    """What the invoice e-mail says: the document, its total and what to do with it, in its language."""
    words = doc.labels
    total = format_money(doc.total, doc.currency, doc.language)
    if doc.is_credit_note:
        instruction = words["refund"].format(number=doc.credits)
    else:
        instruction = words["pay_by"].format(
            amount=total, date=format_day(doc.due_date, doc.language), number=doc.number
        )
    return {
        "document": words["credit_note" if doc.is_credit_note else "invoice"], "number": doc.number,
        "issue_date": format_day(doc.issue_date, doc.language), "total": total, "instruction": instruction,
        "client_name": client.name, "contact_name": client.contact_name or client.name,
        "partner_name": doc.seller.name,
    }  # fmt: skip


def recipient_of(invoice: Invoice, client: Client) -> str:
    """The client's contact now, else the one the invoice was issued to; InvalidInput when neither."""
    address = client.contact_email or invoice.buyer.get("email")
    if not address:
        raise InvalidInput(
            f"client {client.ref} has no contact e-mail to send {invoice.number} to",
            hint=f"set one with `partnerctl client edit {client.ref} --contact-email ADDRESS`",
        )
    return address


def queue_invoice_mail(session: Session, invoice: Invoice, client: Client) -> tuple[OutboxMessage, bool]:
    """Queue the e-mail of one issued document with its PDF: (message, False) when it already was."""
    to = recipient_of(invoice, client)
    doc = document_for(session, invoice)
    return queue_template(
        session, template=INVOICE_TEMPLATE, language=doc.language, to=to, dedupe_key=invoice.number,
        context=mail_context(doc, client), kind=INVOICE_TEMPLATE,
        attachments=[render_file(doc, FileKind.pdf)], client_id=client.id,
    )  # fmt: skip


@dataclass
class SendResult:
    number: str
    to: str
    queued: bool  # False: it was queued before (the outbox has it under its number)
    status: str


def send_invoice(session: Session, actor: User, number: str) -> SendResult:
    """`invoice send`: queue one invoice's e-mail with its Factur-X PDF (admins only; once per number)."""
    require_admin(actor, "invoice send")
    invoice, client, _paid, _credited = find_invoice(session, actor, number)
    message, queued = queue_invoice_mail(session, invoice, client)
    if queued:
        audit.record(session, actor, "invoice.send", "invoice", invoice.number, after={"to": message.to_addr})
    return SendResult(invoice.number, message.to_addr, queued, str(message.status))
