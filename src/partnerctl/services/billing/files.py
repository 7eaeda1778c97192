"""The files of an issued invoice or credit note: its Factur-X PDF, its CII and its UBL XML, for
anyone who may see its client."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import Session

from partnerctl.mail.message import Attachment
from partnerctl.services.billing.documents import Document, cii_xml, document_of, facturx_pdf, ubl_xml
from partnerctl.services.billing.invoices import find_invoice, invoice_lines
from partnerctl.services.validation import parse_choice
from partnerctl.store.models import Invoice, User


class FileKind(StrEnum):
    pdf = "pdf"
    cii = "cii"
    ubl = "ubl"


_WRITERS = {FileKind.pdf: facturx_pdf, FileKind.cii: cii_xml, FileKind.ubl: ubl_xml}
_SUFFIX = {FileKind.pdf: ".pdf", FileKind.cii: ".cii.xml", FileKind.ubl: ".ubl.xml"}
CONTENT_TYPES = {
    FileKind.pdf: "application/pdf",
    FileKind.cii: "application/xml",
    FileKind.ubl: "application/xml",
}


def document_for(session: Session, invoice: Invoice) -> Document:
    """The document of a stored invoice or credit note (with the invoice a credit note cancels)."""
    credited = session.get(Invoice, invoice.credited_invoice_id) if invoice.credited_invoice_id else None
    return document_of(invoice, invoice_lines(session, invoice), credited)


def render_file(doc: Document, kind: FileKind | str) -> Attachment:
    """One file of a document, named after its number, as an e-mail would carry it."""
    kind = FileKind(kind)
    return Attachment(f"{doc.number}{_SUFFIX[kind]}", CONTENT_TYPES[kind], _WRITERS[kind](doc))


def invoice_file(session: Session, actor: User, number: str, kind: str) -> Attachment:
    """`invoice pdf` / `invoice xml`: one file of an invoice the actor may see (NotFound otherwise)."""
    chosen = parse_choice(FileKind, kind, "syntax" if kind != "pdf" else "file kind")
    invoice = find_invoice(session, actor, number)[0]
    return render_file(document_for(session, invoice), chosen)
