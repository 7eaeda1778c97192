"""Invoices as documents through the real CLI, on both stores: VAT per the rules, the Factur-X PDF
and the CII / UBL e-invoices (XSD and EN 16931 rules), credit notes, payments, who may do what."""

from __future__ import annotations

import io
import json

import facturx
import pytest
from pypdf import PdfReader

from tests.helpers.cli import setup_invoice_clients, setup_invoicing
from tests.helpers.einvoice import check_cii, check_ubl

DE_VAT = "DE136695976"


def _run(cli) -> dict[str, dict]:
    rows = cli.ok("billing", "run", "--as-of", "2026-03-01", "-o", "json").json()
    return {r["client"]: r for r in rows}


def _file(cli, tmp_path, *args: str) -> bytes:
    path = tmp_path / "out.bin"
    path.unlink(missing_ok=True)
    cli.ok("invoice", *args, "-f", str(path))
    return path.read_bytes()


def test_dutch_client_pays_21_percent_and_the_pdf_says_so_in_dutch(initialized, cli, tmp_path):
    setup_invoice_clients(cli)
    nl = _run(cli)["NL1"]
    # 100 seats x 12.50 = 1,250.00 net + 21 % VAT 262.50 = 1,512.50.
    assert (nl["net"], nl["vat"], nl["total"]) == ("1250.00", "262.50", "1512.50")
    shown = cli.ok("invoice", "show", nl["number"], "-o", "json").json()
    assert [(ln["vat_category"], ln["vat_rate"], ln["vat_amount"]) for ln in shown["lines"]] == [
        ("S", "21", "262.50")
    ]
    assert shown["vat_breakdown"] == [{"category": "S", "rate": "21", "net": "1250.00", "vat": "262.50"}]
    assert shown["due_date"] == "2026-03-15"  # 14 days of payment terms
    pdf = _file(cli, tmp_path, "pdf", nl["number"])
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "1.512,50" in text and "1.250,00" in text and "262,50" in text
    assert "Factuur" in text and "Smørrebrød ApS" in text and "Btw" in text and "15 maart 2026" in text
    assert "NL91ABNA0417164300" in text
    # The embedded XML is the CII e-invoice, valid at EN 16931.
    filename, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    check_cii(xml)
    assert xml == _file(cli, tmp_path, "xml", nl["number"], "--syntax", "cii")
    assert b"<ram:GrandTotalAmount>1512.50</ram:GrandTotalAmount>" in xml
    ubl = _file(cli, tmp_path, "xml", nl["number"], "--syntax", "ubl")
    check_ubl(ubl)
    assert b'<cbc:PayableAmount currencyID="EUR">1512.50</cbc:PayableAmount>' in ubl


def test_german_business_is_reverse_charged_with_the_note_in_german(initialized, cli, tmp_path):
    setup_invoice_clients(cli)
    de = _run(cli)["DE1"]
    assert (de["net"], de["vat"], de["total"]) == ("50.00", "0.00", "50.00")
    shown = cli.ok("invoice", "show", de["number"], "-o", "json").json()
    assert [(ln["vat_category"], ln["vat_rate"]) for ln in shown["lines"]] == [("AE", "0")]
    assert shown["buyer"]["vat_number"] == DE_VAT and shown["language"] == "de"
    pdf = _file(cli, tmp_path, "pdf", de["number"])
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "Steuerschuldnerschaft des Leistungsempfängers" in text and "Łódź Sp. z o.o." in text
    assert "Rechnung" in text and "50,00 €" in text.replace("\xa0", " ")
    cii = facturx.get_facturx_xml_from_pdf(pdf)[1]
    check_cii(cii)
    assert b"<ram:CategoryCode>AE</ram:CategoryCode>" in cii and b"VATEX-EU-AE" in cii
    ubl = _file(cli, tmp_path, "xml", de["number"], "--syntax", "ubl")
    check_ubl(ubl)
    assert b"<cbc:TaxExemptionReasonCode>VATEX-EU-AE</cbc:TaxExemptionReasonCode>" in ubl


def test_outside_the_eu_and_in_yen(initialized, cli, tmp_path):
    setup_invoice_clients(cli)
    cli.ok("billing", "rate", "set", "EUR", "JPY", "161.5")
    cli.ok(
        "client",
        "add",
        "Tokyo KK",
        "--ref",
        "JP1",
        "--currency",
        "JPY",
        "--no-template",
        "--billing-country",
        "JP",
    )
    cli.ok("subscription", "add", "JP1", "--product", "seat", "--seats", "3", "--start", "2026-03-01")
    jp = _run(cli)["JP1"]
    # 3 x 12.50 x 161.5 = 6056.25 -> 6056 yen; outside the scope of EU VAT.
    assert (jp["net"], jp["vat"], jp["total"], jp["currency"]) == ("6056", "0", "6056", "JPY")
    pdf = _file(cli, tmp_path, "pdf", jp["number"])
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "¥6,056" in text and "Not subject to EU VAT" in text  # no decimals for the yen
    check_cii(facturx.get_facturx_xml_from_pdf(pdf)[1])
    check_ubl(_file(cli, tmp_path, "xml", jp["number"], "--syntax", "ubl"))


def test_what_cannot_be_invoiced_is_reported(initialized, cli):
    cli.ok("product", "add", "seat", "--name", "Seat", "--price-per-seat", "12.50")
    cli.ok("client", "add", "Jean Dupont", "--ref", "FR1", "--no-template", "--billing-country", "FR")
    cli.ok("subscription", "add", "FR1", "--product", "seat", "--start", "2026-03-01")
    # No partner country and VAT number: nothing is invoiced, and the run says why.
    blocked = cli.fails(9, "billing", "run", "--as-of", "2026-03-01")
    assert "no invoice made" in blocked.stderr and "partner set --country" in blocked.stderr
    setup_invoicing(cli)
    # A consumer in FR pays French VAT, and no FR rate is set: reported, not invoiced, exit 9.
    skipped = cli.fails(9, "billing", "run", "--as-of", "2026-03-01")
    assert "consumer in FR" in skipped.stderr and "billing vat set --country FR" in skipped.stderr
    assert cli.ok("invoice", "list", "-o", "json").json() == []
    cli.ok("billing", "vat", "set", "--country", "FR", "--rate", "20")
    (fr,) = cli.ok("billing", "run", "--as-of", "2026-03-01", "-o", "json").json()
    assert (fr["net"], fr["vat"], fr["total"]) == ("12.50", "2.50", "15.00")
    rates = {r["country"]: r for r in cli.ok("billing", "vat", "list", "-o", "json").json()}
    assert (rates["NL"]["rate"], rates["NL"]["domestic"], rates["FR"]["domestic"]) == ("21", True, False)


def test_bad_tax_input_is_exit_2_with_the_reason(initialized, cli):
    bad = cli.fails(2, "client", "add", "Bad GmbH", "--no-template", "--vat-number", "DE136695975")
    assert "invalid VAT number" in bad.stderr and "checksum" in bad.stderr
    cli.fails(2, "client", "add", "Mixed", "--no-template", "--vat-number", DE_VAT, "--billing-country", "FR")
    cli.fails(2, "partner", "set", "--iban", "NL91ABNA0417164301")
    cli.fails(2, "partner", "set", "--bic", "ABNA1L2A")
    cli.fails(2, "partner", "set", "--country", "NL", "--vat-number", DE_VAT)
    cli.fails(2, "partner", "set", "--payment-terms", "400")
    cli.fails(2, "billing", "vat", "set", "--rate", "21")  # the partner's country is not set yet
    for rate in ("101", "-1", "21.555", "abc"):
        cli.fails(2, "billing", "vat", "set", "--country", "NL", "--rate", rate)
    cli.fails(2, "invoice", "xml", "INV-2026-000001", "--syntax", "edifact")


def test_credit_note_cancels_and_the_original_never_changes(initialized, cli, tmp_path):
    setup_invoice_clients(cli)
    nl = _run(cli)["NL1"]
    before = cli.ok("invoice", "show", nl["number"], "-o", "json").json()
    before_xml = _file(cli, tmp_path, "xml", nl["number"])
    note = cli.ok("invoice", "credit", nl["number"], "--reason", "wrong number of seats", "-o", "json").json()
    assert (
        note["number"].startswith("CN-")
        and note["number"].endswith("-000001")
        and note["total"] == "-1512.50"
    )
    cli.fails(4, "invoice", "credit", nl["number"])  # once
    cli.fails(4, "invoice", "credit", note["number"])  # a credit note is not credited
    shown = cli.ok("invoice", "show", note["number"], "-o", "json").json()
    assert (shown["kind"], shown["credits"], shown["reason"]) == (
        "credit_note",
        nl["number"],
        "wrong number of seats",
    )
    assert [ln["amount"] for ln in shown["lines"]] == ["-1250.00"]
    after = cli.ok("invoice", "show", nl["number"], "-o", "json").json()
    assert {k: v for k, v in after.items() if k != "credited_by"} == {
        k: v for k, v in before.items() if k != "credited_by"
    }
    assert after["credited_by"] == note["number"]
    assert _file(cli, tmp_path, "xml", nl["number"]) == before_xml
    # The credit note's documents: type 381, referring to the invoice; a UBL CreditNote.
    cii = _file(cli, tmp_path, "xml", note["number"])
    check_cii(cii)
    assert b"<ram:TypeCode>381</ram:TypeCode>" in cii and nl["number"].encode() in cii
    ubl = _file(cli, tmp_path, "xml", note["number"], "--syntax", "ubl")
    check_ubl(ubl, credit_note=True)
    assert b"<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>" in ubl
    text = PdfReader(io.BytesIO(_file(cli, tmp_path, "pdf", note["number"]))).pages[0].extract_text()
    assert "Creditnota" in text and nl["number"] in text
    # Credited, it is no longer open; the report nets it out.
    assert cli.ok("invoice", "list", "--unpaid", "-o", "json").json()[0]["client"] == "DE1"
    report = cli.ok("billing", "report", "-o", "json").json()
    assert report == [
        {
            "currency": "EUR",
            "payer": "partner",
            "invoices": 3,
            "net": "50.00",
            "vat": "0.00",
            "total": "50.00",
        }
    ]


def test_payments_and_what_is_open_or_overdue(initialized, cli):
    setup_invoice_clients(cli)
    by_client = _run(cli)
    nl, de = by_client["NL1"]["number"], by_client["DE1"]["number"]
    unpaid = lambda *a: [r["number"] for r in cli.ok("invoice", "list", *a, "-o", "json").json()]  # noqa: E731
    assert unpaid("--unpaid") == [nl, de] if nl < de else [de, nl]
    assert unpaid("--overdue", "--as-of", "2026-03-15") == []  # due on the 15th: not overdue yet
    assert sorted(unpaid("--overdue", "--as-of", "2026-03-16")) == sorted([nl, de])
    cli.ok("invoice", "pay", nl, "--date", "2026-03-10")
    cli.fails(4, "invoice", "pay", nl)  # once
    cli.fails(2, "invoice", "pay", de, "--date", "2999-01-01")
    assert unpaid("--overdue", "--as-of", "2026-04-01") == [de]
    listed = {r["number"]: r for r in cli.ok("invoice", "list", "-o", "json").json()}
    assert listed[nl]["paid_on"] == "2026-03-10" and listed[de]["paid_on"] is None


def test_bookkeepers_read_their_own_clients_invoices_only(initialized, cli, tmp_path):
    setup_invoice_clients(cli)
    by_client = _run(cli)
    nl, de = by_client["NL1"]["number"], by_client["DE1"]["number"]
    cli.ok("user", "add", "bob@acme.example")
    cli.ok("client", "assign", "NL1", "bob@acme.example")
    bob = ("--as", "bob@acme.example")
    assert [r["number"] for r in cli.ok(*bob, "invoice", "list", "-o", "json").json()] == [nl]
    cli.ok(*bob, "invoice", "show", nl)
    cli.fails(3, *bob, "invoice", "show", de)  # not theirs: it does not exist for them
    cli.fails(3, *bob, "invoice", "pdf", de, "-f", str(tmp_path / "x.pdf"))
    cli.fails(3, *bob, "invoice", "xml", de)
    cli.ok(*bob, "invoice", "xml", nl)
    for command in (("invoice", "credit", nl), ("invoice", "pay", nl), ("invoice", "send", nl),
                    ("billing", "vat", "set", "--rate", "9"), ("partner", "set", "--city", "Delft"),
                    ("partner", "show"), ("billing", "run", "--send")):  # fmt: skip
        cli.fails(5, *bob, *command)
    assert not (tmp_path / "x.pdf").exists()


def test_issued_invoices_keep_their_parties_and_rates(initialized, cli, tmp_path):
    """Later changes to the partner, the client or the rates never alter an issued invoice."""
    setup_invoice_clients(cli)
    nl = _run(cli)["NL1"]["number"]
    shown = cli.ok("invoice", "show", nl, "-o", "json").json()
    xml = _file(cli, tmp_path, "xml", nl)
    cli.ok(
        "partner",
        "set",
        "--legal-name",
        "New Name B.V.",
        "--iban",
        "DE89370400440532013000",
        "--footer",
        "new",
    )
    cli.ok(
        "client",
        "edit",
        "NL1",
        "--name",
        "Renamed",
        "--billing-city",
        "Delft",
        "--vat-number",
        "NL004495445B01",
    )
    cli.ok("billing", "vat", "set", "--rate", "9")
    assert cli.ok("invoice", "show", nl, "-o", "json").json() == shown
    assert _file(cli, tmp_path, "xml", nl) == xml
    assert shown["seller"]["name"] == "Acme Partners B.V." and shown["buyer"]["city"] == "Utrecht"
    assert b"New Name" not in xml and b"Renamed" not in xml


def test_documents_go_where_they_are_told(initialized, cli, tmp_path):
    setup_invoice_clients(cli)
    nl = _run(cli)["NL1"]["number"]
    target = tmp_path / "invoice.pdf"
    target.write_bytes(b"mine")
    refused = cli.fails(2, "invoice", "pdf", nl, "-f", str(target))
    assert "--force" in refused.stderr and target.read_bytes() == b"mine"
    cli.ok("invoice", "pdf", nl, "-f", str(target), "--force")
    assert target.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
    # Without -f the XML goes to stdout; the PDF too, when stdout is not a terminal.
    assert cli.ok("invoice", "xml", nl).stdout.startswith("<?xml")
    cli.fails(3, "invoice", "pdf", "INV-1999-000001", "-f", str(tmp_path / "none.pdf"))
    assert not (tmp_path / "none.pdf").exists()
    assert json.loads(cli.ok("partner", "show", "-o", "json").stdout)["vat_number"] == "NL004495445B01"


@pytest.mark.parametrize("language", ["en", "nl", "de", "fr", "da"])
def test_every_language_has_its_words(initialized, cli, tmp_path, language):
    setup_invoice_clients(cli)
    cli.ok(
        "client",
        "add",
        f"Client {language}",
        "--ref",
        f"L{language}",
        "--language",
        language,
        "--no-template",
    )
    cli.ok("subscription", "add", f"L{language}", "--product", "seat", "--start", "2026-03-01")
    number = _run(cli)[f"L{language}"]["number"]
    text = PdfReader(io.BytesIO(_file(cli, tmp_path, "pdf", number))).pages[0].extract_text()
    word = {"en": "Invoice", "nl": "Factuur", "de": "Rechnung", "fr": "Facture", "da": "Faktura"}[language]
    # 12.50 + 21 % (2.625 -> 2.62, half-even) = 15.12, in each language's notation.
    amount = {"en": "€15.12", "nl": "€ 15,12", "de": "15,12 €", "fr": "15,12 €", "da": "15,12 €"}[language]
    assert f"{word} {number}" in text and amount in text.replace("\xa0", " ").replace("\u202f", " ")
