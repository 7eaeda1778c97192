"""The OASIS UBL 2.1 Invoice or CreditNote of a document, following Peppol BIS Billing 3.0.
Pure: a Document in, UTF-8 XML bytes out."""

from __future__ import annotations

from decimal import Decimal

from partnerctl.services.billing.documents.model import Document, Party
from partnerctl.services.billing.tax import OUTSIDE_SCOPE

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ROOT_NS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
# Peppol electronic address schemes (EAS) of EU VAT numbers: a party is addressed by its VAT number.
VAT_ENDPOINT_SCHEMES = {
    "AT": "9914", "BE": "9925", "BG": "9926", "CY": "9928", "CZ": "9929", "DE": "9930", "EE": "9931",
    "ES": "9920", "FR": "9957", "GR": "9933", "HR": "9934", "HU": "9910", "IE": "9935", "IT": "0211",
    "LT": "9937", "LU": "9938", "LV": "9939", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946",
    "RO": "9947", "SE": "9955", "SI": "9949", "SK": "9950",
}  # fmt: skip


class _Builder:
    def __init__(self, root: str) -> None:
        from lxml import etree

        self.etree = etree
        self.root = etree.Element(
            f"{{{ROOT_NS[root]}}}{root}", nsmap={None: ROOT_NS[root], "cac": CAC, "cbc": CBC}
        )

    def add(self, parent, name: str, text: object = None, **attrs: str):
        prefix, local = name.split(":")
        el = self.etree.SubElement(parent, f"{{{CAC if prefix == 'cac' else CBC}}}{local}", attrs)
        if text is not None:
            el.text = str(text)
        return el

    def amount(self, parent, name: str, value: Decimal, currency: str):
        return self.add(parent, name, value, currencyID=currency)


def ubl_xml(doc: Document) -> bytes:
    """UBL 2.1: an Invoice (380), or a CreditNote (381) referring to the invoice it credits."""
    kind = "CreditNote" if doc.is_credit_note else "Invoice"
    b = _Builder(kind)
    root, cur = b.root, doc.currency
    b.add(root, "cbc:CustomizationID", PEPPOL_CUSTOMIZATION)
    b.add(root, "cbc:ProfileID", PEPPOL_PROFILE)
    b.add(root, "cbc:ID", doc.number)
    b.add(root, "cbc:IssueDate", doc.issue_date.isoformat())
    if not doc.is_credit_note:
        b.add(root, "cbc:DueDate", doc.due_date.isoformat())
    b.add(root, f"cbc:{kind}TypeCode", doc.type_code)
    notes = ([doc.reason] if doc.reason else []) + list(doc.notes)
    if notes:  # Peppol allows one note: they go together
        b.add(root, "cbc:Note", " ".join(notes))
    b.add(root, "cbc:DocumentCurrencyCode", cur)
    b.add(root, "cbc:BuyerReference", doc.buyer_ref)
    period = b.add(root, "cac:InvoicePeriod")
    b.add(period, "cbc:StartDate", doc.period_start.isoformat())
    b.add(period, "cbc:EndDate", doc.period_last_day.isoformat())
    if doc.credits:
        ref = b.add(b.add(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        b.add(ref, "cbc:ID", doc.credits)
        b.add(ref, "cbc:IssueDate", doc.credits_issue_date.isoformat())
    no_vat_ids = any(g.category == OUTSIDE_SCOPE for g in doc.vat_groups)
    _party(b, b.add(root, "cac:AccountingSupplierParty"), doc.seller, with_vat=not no_vat_ids, seller=True)
    _party(b, b.add(root, "cac:AccountingCustomerParty"), doc.buyer, with_vat=not no_vat_ids)
    _payment(b, root, doc)
    _taxes(b, root, doc)
    totals = b.add(root, "cac:LegalMonetaryTotal")
    b.amount(totals, "cbc:LineExtensionAmount", doc.net_total, cur)
    b.amount(totals, "cbc:TaxExclusiveAmount", doc.net_total, cur)
    b.amount(totals, "cbc:TaxInclusiveAmount", doc.total, cur)
    b.amount(totals, "cbc:PayableAmount", doc.total, cur)
    for line in doc.lines:
        _line(b, root, kind, line, cur)
    return b.etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _party(b: _Builder, parent, party: Party, *, with_vat: bool, seller: bool = False) -> None:
    el = b.add(parent, "cac:Party")
    scheme = VAT_ENDPOINT_SCHEMES.get(party.country or "")
    if party.vat_number and scheme:
        b.add(el, "cbc:EndpointID", party.vat_number, schemeID=scheme)
    if seller and party.vat_number:  # BR-CO-26: a seller identifier, also where no VAT id may be
        b.add(b.add(el, "cac:PartyIdentification"), "cbc:ID", party.vat_number)
    b.add(b.add(el, "cac:PartyName"), "cbc:Name", party.name)
    address = b.add(el, "cac:PostalAddress")
    for name, value in (
        ("cbc:StreetName", party.street),
        ("cbc:CityName", party.city),
        ("cbc:PostalZone", party.zip),
    ):
        if value:
            b.add(address, name, value)
    b.add(b.add(address, "cac:Country"), "cbc:IdentificationCode", party.country)
    if with_vat and party.vat_number:
        scheme_el = b.add(el, "cac:PartyTaxScheme")
        b.add(scheme_el, "cbc:CompanyID", party.vat_number)
        b.add(b.add(scheme_el, "cac:TaxScheme"), "cbc:ID", "VAT")
    b.add(b.add(el, "cac:PartyLegalEntity"), "cbc:RegistrationName", party.name)
    if party.email:
        b.add(b.add(el, "cac:Contact"), "cbc:ElectronicMail", party.email)


def _payment(b: _Builder, root, doc: Document) -> None:
    if doc.iban:
        means = b.add(root, "cac:PaymentMeans")
        b.add(means, "cbc:PaymentMeansCode", "58" if doc.currency == "EUR" else "30")
        if doc.is_credit_note:
            b.add(means, "cbc:PaymentDueDate", doc.due_date.isoformat())
        b.add(means, "cbc:PaymentID", doc.credits or doc.number)
        account = b.add(means, "cac:PayeeFinancialAccount")
        b.add(account, "cbc:ID", doc.iban)
        if doc.bic:
            b.add(b.add(account, "cac:FinancialInstitutionBranch"), "cbc:ID", doc.bic)


def _category(b: _Builder, parent, name: str, category: str, rate: Decimal, reason=None, code=None) -> None:
    el = b.add(parent, name)
    b.add(el, "cbc:ID", category)
    if category != OUTSIDE_SCOPE:
        b.add(el, "cbc:Percent", format(rate.normalize(), "f"))
    if code:
        b.add(el, "cbc:TaxExemptionReasonCode", code)
    if reason:
        b.add(el, "cbc:TaxExemptionReason", reason)
    b.add(b.add(el, "cac:TaxScheme"), "cbc:ID", "VAT")


def _taxes(b: _Builder, root, doc: Document) -> None:
    total = b.add(root, "cac:TaxTotal")
    b.amount(total, "cbc:TaxAmount", doc.vat_total, doc.currency)
    for group in doc.vat_groups:
        sub = b.add(total, "cac:TaxSubtotal")
        b.amount(sub, "cbc:TaxableAmount", group.net, doc.currency)
        b.amount(sub, "cbc:TaxAmount", group.vat, doc.currency)
        _category(
            b,
            sub,
            "cac:TaxCategory",
            group.category,
            group.rate,
            group.exemption_reason,
            group.exemption_code,
        )


def _line(b: _Builder, root, kind: str, line, currency: str) -> None:
    el = b.add(root, f"cac:{kind}Line")
    b.add(el, "cbc:ID", line.number)
    quantity = "cbc:CreditedQuantity" if kind == "CreditNote" else "cbc:InvoicedQuantity"
    b.add(el, quantity, line.quantity, unitCode="C62")
    b.amount(el, "cbc:LineExtensionAmount", line.net, currency)
    item = b.add(el, "cac:Item")
    b.add(item, "cbc:Name", line.description)
    _category(b, item, "cac:ClassifiedTaxCategory", line.category, line.rate)
    b.amount(b.add(el, "cac:Price"), "cbc:PriceAmount", format(line.unit_price, "f"), currency)
