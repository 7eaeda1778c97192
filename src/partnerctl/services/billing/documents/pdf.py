"""The Factur-X (ZUGFeRD 2) PDF/A-3 of a document at the EN 16931 profile: a readable A4 page drawn
with fpdf2 in the bundled DejaVu Sans (so Łódź and Smørrebrød render), the CII XML embedded by
factur-x. Pure: a Document in, PDF bytes out. Amounts and dates are Babel's, words the labels'."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from partnerctl.services.billing.documents.cii import cii_xml
from partnerctl.services.billing.documents.model import Document, Party
from partnerctl.services.locale import format_day, format_money, format_percent

FONT = "DejaVu"
# (width in mm, alignment) of the line table's columns: description, quantity, unit price, VAT, amount.
_COLUMNS = ((86, "L"), (16, "R"), (30, "R"), (18, "R"), (30, "R"))


@lru_cache(maxsize=2)
def _font_path(style: str) -> str:
    name = "DejaVuSans-Bold.ttf" if style == "B" else "DejaVuSans.ttf"
    return str(resources.files("partnerctl").joinpath("documents", "fonts", name))


class _Page:
    """One invoice page: fpdf2 with the bundled font and a few drawing helpers."""

    def __init__(self, doc: Document) -> None:
        from fpdf import FPDF

        self.doc = doc
        self.words = doc.labels
        self.pdf = FPDF(format="A4", enforce_compliance="PDF/A-3B")
        self.pdf.set_lang(doc.language)
        self.pdf.set_title(f"{self.words['credit_note' if doc.is_credit_note else 'invoice']} {doc.number}")
        self.pdf.set_author(doc.seller.name)
        self.pdf.set_creator("partnerctl")
        self.pdf.set_creation_date(_stamp(doc))
        for style in ("", "B"):
            self.pdf.add_font(FONT, style, _font_path(style))
        self.pdf.set_auto_page_break(auto=True, margin=20)
        self.pdf.add_page()
        self.pdf.set_margins(15, 15, 15)

    def money(self, amount) -> str:
        return format_money(amount, self.doc.currency, self.doc.language)

    def day(self, value) -> str:
        return format_day(value, self.doc.language)

    def text(self, value: str, *, size: float = 9.5, bold: bool = False, height: float = 5.0) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)
        self.pdf.multi_cell(0, height, value, new_x="LMARGIN", new_y="NEXT")

    def row(self, cells: list[str], *, bold: bool = False, widths=_COLUMNS) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", 9)
        for (width, align), value in zip(widths, cells, strict=True):
            self.pdf.cell(width, 6, value, align=align, border="B" if bold else 0)
        self.pdf.ln(6)

    def pair(self, label: str, value: str, *, bold: bool = False) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", 9.5)
        self.pdf.cell(130, 6, label, align="R")
        self.pdf.cell(50, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")


def _stamp(doc: Document):
    from datetime import UTC, datetime, time

    # The document's own date, so the same invoice always gives the same page.
    return datetime.combine(doc.issue_date, time(), tzinfo=UTC)


def _address(party: Party) -> list[str]:
    place = " ".join(p for p in (party.zip, party.city) if p)
    return [p for p in (party.name, party.street, place, party.country) if p]


def _parties(page: _Page) -> None:
    doc, words, pdf = page.doc, page.words, page.pdf
    top = pdf.get_y()
    for x, label, party in ((15, words["seller"], doc.seller), (110, words["buyer"], doc.buyer)):
        pdf.set_xy(x, top)
        lines = [*_address(party)] + (
            [f"{words['vat_number']}: {party.vat_number}"] if party.vat_number else []
        )
        pdf.set_font(FONT, "B", 9.5)
        pdf.cell(85, 5, label, new_x="LEFT", new_y="NEXT")
        pdf.set_font(FONT, "", 9.5)
        pdf.multi_cell(85, 5, "\n".join(lines), new_x="LEFT", new_y="NEXT")
    pdf.set_xy(15, max(pdf.get_y(), top + 35))


def _heading(page: _Page) -> None:
    doc, words = page.doc, page.words
    page.text(
        f"{words['credit_note' if doc.is_credit_note else 'invoice']} {doc.number}",
        size=18,
        bold=True,
        height=10,
    )
    facts = [
        (words["issue_date"], page.day(doc.issue_date)),
        (words["period"], f"{page.day(doc.period_start)} – {page.day(doc.period_last_day)}"),
        (words["customer_ref"], doc.buyer_ref),
    ]
    if doc.credits:
        facts.append((words["credits"], doc.credits))
    else:
        facts.insert(1, (words["due_date"], page.day(doc.due_date)))
    if doc.reason:
        facts.append((words["reason"], doc.reason))
    for label, value in facts:
        page.text(f"{label}: {value}")
    page.pdf.ln(4)


def _lines(page: _Page) -> None:
    words = page.words
    page.row([words["description"], words["quantity"], words["unit_price"], words["vat_rate"], words["amount"]],
             bold=True)  # fmt: skip
    for line in page.doc.lines:
        rate = "" if line.category == "O" else format_percent(line.rate, page.doc.language)
        page.row(
            [
                line.description[:60],
                str(line.quantity),
                page.money(line.unit_price),
                rate,
                page.money(line.net),
            ]
        )
    page.pdf.ln(3)


def _totals(page: _Page) -> None:
    doc, words = page.doc, page.words
    page.text(words["breakdown"], bold=True)
    for group in doc.vat_groups:
        rate = (
            group.category
            if group.category == "O"
            else f"{group.category} {format_percent(group.rate, doc.language)}"
        )
        page.pair(
            f"{rate} — {words['taxable']} {page.money(group.net)}",
            f"{words['vat_amount']} {page.money(group.vat)}",
        )
    page.pdf.ln(2)
    page.pair(words["net_total"], page.money(doc.net_total))
    page.pair(words["vat_total"], page.money(doc.vat_total))
    page.pair(words["total"], page.money(doc.total), bold=True)
    page.pdf.ln(4)


def _payment_and_notes(page: _Page) -> None:
    doc, words = page.doc, page.words
    for note in doc.notes:
        page.text(note, size=9)
    if not doc.is_credit_note:
        page.pdf.ln(2)
        page.text(words["payment"], bold=True)
        page.text(
            words["pay_by"].format(
                amount=page.money(doc.total), date=page.day(doc.due_date), number=doc.number
            )
        )
        if doc.iban:
            bank = f"{words['iban']}: {doc.iban}" + (f"   {words['bic']}: {doc.bic}" if doc.bic else "")
            page.text(bank)
    if doc.footer:
        page.pdf.set_y(-25)
        page.text(doc.footer, size=8)


def page_pdf(doc: Document) -> bytes:
    """The visible page alone (a PDF/A-3 without the XML): what facturx_pdf embeds the CII XML into."""
    page = _Page(doc)
    _parties(page)
    _heading(page)
    _lines(page)
    _totals(page)
    _payment_and_notes(page)
    return bytes(page.pdf.output())


def facturx_pdf(doc: Document) -> bytes:
    """The Factur-X PDF: the page with its CII XML embedded (factur-x, EN 16931, XSD-checked)."""
    from facturx import generate_from_binary

    return generate_from_binary(
        page_pdf(doc), cii_xml(doc), flavor="factur-x", level="en16931", check_xsd=True,
        lang=doc.language, pdf_metadata=_metadata(doc),
    )  # fmt: skip


def _metadata(doc: Document) -> dict[str, str]:
    kind = doc.labels["credit_note" if doc.is_credit_note else "invoice"]
    return {
        "author": doc.seller.name, "keywords": "Factur-X", "title": f"{doc.seller.name}: {kind} {doc.number}",
        "subject": f"{kind} {doc.number} {doc.issue_date.isoformat()} {doc.seller.name}",
    }  # fmt: skip
