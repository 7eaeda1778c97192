"""The UN/CEFACT Cross Industry Invoice (CII D16B) of a document at the Factur-X / ZUGFeRD 2 EN 16931
profile: what the Factur-X PDF embeds. Pure: a Document in, UTF-8 XML bytes out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from partnerctl.services.billing.documents.model import Document, Party
from partnerctl.services.billing.tax import OUTSIDE_SCOPE

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
SEPA_CREDIT_TRANSFER, CREDIT_TRANSFER = "58", "30"  # UNCL4461 payment means


class _Builder:
    """Appends namespaced children: `b.add(parent, "ram:Name", text, attr=value)`."""

    def __init__(self) -> None:
        from lxml import etree

        self.etree = etree

    def qname(self, name: str) -> str:
        prefix, local = name.split(":")
        return f"{{{NS[prefix]}}}{local}"

    def add(self, parent, name: str, text: object = None, **attrs: str):
        el = self.etree.SubElement(
            parent, self.qname(name), {k: v for k, v in attrs.items() if v is not None}
        )
        if text is not None:
            el.text = str(text)
        return el

    def date(self, parent, name: str, day: date, kind: str = "udt") -> None:
        self.add(self.add(parent, name), f"{kind}:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _rate(rate: Decimal) -> str:
    text = format(rate.normalize(), "f")
    return text


def cii_xml(doc: Document) -> bytes:
    """The CII XML of `doc` (type code 380 invoice, 381 credit note)."""
    b = _Builder()
    root = b.etree.Element(b.qname("rsm:CrossIndustryInvoice"), nsmap=NS)
    context = b.add(root, "rsm:ExchangedDocumentContext")
    b.add(b.add(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931_GUIDELINE)
    header = b.add(root, "rsm:ExchangedDocument")
    b.add(header, "ram:ID", doc.number)
    b.add(header, "ram:TypeCode", doc.type_code)
    b.date(header, "ram:IssueDateTime", doc.issue_date)
    for note in ([doc.reason] if doc.reason else []) + list(doc.notes):
        b.add(b.add(header, "ram:IncludedNote"), "ram:Content", note)
    transaction = b.add(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        _line(b, transaction, doc, line)
    agreement = b.add(transaction, "ram:ApplicableHeaderTradeAgreement")
    b.add(agreement, "ram:BuyerReference", doc.buyer_ref)
    no_vat_ids = any(g.category == OUTSIDE_SCOPE for g in doc.vat_groups)
    _party(b, agreement, "ram:SellerTradeParty", doc.seller, with_vat=not no_vat_ids, seller=True)
    _party(b, agreement, "ram:BuyerTradeParty", doc.buyer, with_vat=not no_vat_ids)
    b.add(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(b, b.add(transaction, "ram:ApplicableHeaderTradeSettlement"), doc)
    return b.etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _line(b: _Builder, transaction, doc: Document, line) -> None:
    item = b.add(transaction, "ram:IncludedSupplyChainTradeLineItem")
    b.add(b.add(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", line.number)
    b.add(b.add(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
    price = b.add(b.add(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
    b.add(price, "ram:ChargeAmount", format(line.unit_price, "f"))
    b.add(b.add(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", line.quantity, unitCode="C62")
    settlement = b.add(item, "ram:SpecifiedLineTradeSettlement")
    tax = b.add(settlement, "ram:ApplicableTradeTax")
    b.add(tax, "ram:TypeCode", "VAT")
    b.add(tax, "ram:CategoryCode", line.category)
    if line.category != OUTSIDE_SCOPE:  # BR-O-05: no rate outside the scope of VAT
        b.add(tax, "ram:RateApplicablePercent", _rate(line.rate))
    b.add(
        b.add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
        "ram:LineTotalAmount",
        line.net,
    )


def _party(b: _Builder, parent, name: str, party: Party, *, with_vat: bool, seller: bool = False) -> None:
    el = b.add(parent, name)
    if seller and party.vat_number:
        b.add(el, "ram:ID", party.vat_number)  # BR-CO-26: a seller identifier, also where no VAT id may be
    b.add(el, "ram:Name", party.name)
    address = b.add(el, "ram:PostalTradeAddress")
    if party.zip:
        b.add(address, "ram:PostcodeCode", party.zip)
    if party.street:
        b.add(address, "ram:LineOne", party.street)
    if party.city:
        b.add(address, "ram:CityName", party.city)
    b.add(address, "ram:CountryID", party.country)
    if party.email:
        b.add(b.add(el, "ram:URIUniversalCommunication"), "ram:URIID", party.email, schemeID="EM")
    if with_vat and party.vat_number:
        b.add(b.add(el, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_number, schemeID="VA")


def _settlement(b: _Builder, settlement, doc: Document) -> None:
    b.add(settlement, "ram:PaymentReference", doc.credits or doc.number)
    b.add(settlement, "ram:InvoiceCurrencyCode", doc.currency)
    if doc.iban:
        means = b.add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        b.add(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER if doc.currency == "EUR" else CREDIT_TRANSFER)
        b.add(b.add(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", doc.iban)
        if doc.bic:
            b.add(b.add(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", doc.bic)
    for group in doc.vat_groups:
        tax = b.add(settlement, "ram:ApplicableTradeTax")
        b.add(tax, "ram:CalculatedAmount", group.vat)
        b.add(tax, "ram:TypeCode", "VAT")
        if group.exemption_reason:
            b.add(tax, "ram:ExemptionReason", group.exemption_reason)
        b.add(tax, "ram:BasisAmount", group.net)
        b.add(tax, "ram:CategoryCode", group.category)
        if group.exemption_code:
            b.add(tax, "ram:ExemptionReasonCode", group.exemption_code)
        if group.category != OUTSIDE_SCOPE:
            b.add(tax, "ram:RateApplicablePercent", _rate(group.rate))
    period = b.add(settlement, "ram:BillingSpecifiedPeriod")
    b.date(period, "ram:StartDateTime", doc.period_start)
    b.date(period, "ram:EndDateTime", doc.period_last_day)
    if not doc.is_credit_note:
        terms = b.add(settlement, "ram:SpecifiedTradePaymentTerms")
        b.date(terms, "ram:DueDateDateTime", doc.due_date)
    totals = b.add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    b.add(totals, "ram:LineTotalAmount", doc.net_total)
    b.add(totals, "ram:TaxBasisTotalAmount", doc.net_total)
    b.add(totals, "ram:TaxTotalAmount", doc.vat_total, currencyID=doc.currency)
    b.add(totals, "ram:GrandTotalAmount", doc.total)
    b.add(totals, "ram:DuePayableAmount", doc.total)
    if doc.credits:
        ref = b.add(settlement, "ram:InvoiceReferencedDocument")
        b.add(ref, "ram:IssuerAssignedID", doc.credits)
        b.date(ref, "ram:FormattedIssueDateTime", doc.credits_issue_date, kind="qdt")
