"""Invoice documents, pure (data in, bytes out, no session): the CII and UBL e-invoices, and the
Factur-X PDF/A-3 whose visible page is drawn with fpdf2 and which embeds the CII XML."""

from __future__ import annotations

from partnerctl.services.billing.documents.cii import cii_xml
from partnerctl.services.billing.documents.labels import LABELS, labels_for
from partnerctl.services.billing.documents.model import Document, document_of
from partnerctl.services.billing.documents.pdf import facturx_pdf, page_pdf
from partnerctl.services.billing.documents.ubl import ubl_xml

__all__ = ["LABELS", "Document", "cii_xml", "document_of", "facturx_pdf", "labels_for", "page_pdf", "ubl_xml"]
