"""Sending invoices: one e-mail per number with its Factur-X PDF, in the client's language, through
the outbox to a Maildir and to a real SMTP server (aiosmtpd); `billing run --send`."""

from __future__ import annotations

import email
import mailbox

import facturx

from partnerctl.config import data_dir
from tests.helpers.cli import setup_invoice_clients, setup_invoicing
from tests.helpers.einvoice import check_cii
from tests.helpers.store import outbox_rows


def _pdf_parts(message: email.message.Message) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename(), part.get_payload(decode=True))
        for part in message.walk()
        if part.get_content_type() == "application/pdf"
    ]


def test_an_invoice_is_sent_once_with_its_pdf_to_the_maildir(initialized, cli):
    setup_invoice_clients(cli)
    number = {
        r["client"]: r["number"]
        for r in cli.ok("billing", "run", "--as-of", "2026-03-01", "-o", "json").json()
    }["NL1"]
    first = cli.ok("invoice", "send", number, "-o", "json").json()
    assert first == {"number": number, "to": "ina@smorrebrod.example", "queued": True, "status": "pending"}
    again = cli.ok("invoice", "send", number, "-o", "json").json()
    assert again["queued"] is False  # the outbox keeps one message per invoice number
    (row,) = outbox_rows(initialized, "invoice")
    assert (row["dedupe_key"], row["attachments"], row["language"]) == (number, 1, "nl")
    assert cli.ok("outbox", "send", "-o", "json").json()["sent"] == 1

    (message,) = list(mailbox.Maildir(str(data_dir() / "maildir"), create=False))
    assert message["To"] == "ina@smorrebrod.example"
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject == f"Factuur {number} van Acme Partners B.V."
    body = (
        next(p for p in message.walk() if p.get_content_type() == "text/plain")
        .get_payload(decode=True)
        .decode()
    )
    assert "Beste Ina," in body and "€\xa01.512,50" in body and "15 maart 2026" in body
    ((filename, pdf),) = _pdf_parts(message)
    assert filename == f"{number}.pdf" and pdf.startswith(b"%PDF")
    check_cii(facturx.get_facturx_xml_from_pdf(pdf)[1])
    cli.ok("outbox", "send")
    assert len(list(mailbox.Maildir(str(data_dir() / "maildir"), create=False))) == 1


def test_billing_run_send_delivers_each_new_invoice_over_smtp(smtp_profile, cli, smtp_handler):
    setup_invoice_clients(cli)
    run = cli.ok("billing", "run", "--as-of", "2026-03-01", "--send", "-o", "json")
    numbers = {r["client"]: r["number"] for r in run.json()}
    assert "queued 2 invoice e-mail(s)" in run.stderr
    # Nothing new to invoice: nothing new to send either.
    assert "queued 0" in cli.ok("billing", "run", "--as-of", "2026-03-01", "--send").stderr
    assert cli.ok("outbox", "send", "-o", "json").json()["sent"] == 2
    received = {r.recipients[0]: email.message_from_bytes(r.raw) for r in smtp_handler.received}
    assert sorted(received) == ["ina@smorrebrod.example", "jan@lodz.example"]
    german = received["jan@lodz.example"]
    subject = str(email.header.make_header(email.header.decode_header(german["Subject"])))
    assert subject == f"Rechnung {numbers['DE1']} von Acme Partners B.V."
    ((filename, pdf),) = _pdf_parts(german)
    assert filename == f"{numbers['DE1']}.pdf"
    xml = facturx.get_facturx_xml_from_pdf(pdf)[1]
    check_cii(xml)
    assert b"<ram:CategoryCode>AE</ram:CategoryCode>" in xml
    assert [f for f, _ in _pdf_parts(received["ina@smorrebrod.example"])] == [f"{numbers['NL1']}.pdf"]


def test_a_credit_note_is_sent_like_an_invoice(initialized, cli):
    setup_invoice_clients(cli)
    number = cli.ok("billing", "run", "--as-of", "2026-03-01", "-o", "json").json()[0]["number"]
    note = cli.ok("invoice", "credit", number, "-o", "json").json()["number"]
    cli.ok("invoice", "send", note)
    (row,) = outbox_rows(initialized, "invoice")
    assert row["dedupe_key"] == note and note in row["subject"] and number in row["body_text"]


def test_an_invoice_without_a_contact_address_is_reported_not_lost(initialized, cli):
    setup_invoicing(cli)
    cli.ok("product", "add", "seat", "--name", "Seat", "--price-per-seat", "10")
    cli.ok("client", "add", "No Mail BV", "--ref", "NM", "--no-template")
    cli.ok("subscription", "add", "NM", "--product", "seat", "--start", "2026-03-01")
    run = cli.fails(9, "billing", "run", "--as-of", "2026-03-01", "--send")
    assert "not sent" in run.stderr and "no contact e-mail" in run.stderr
    (invoice,) = cli.ok("invoice", "list", "-o", "json").json()  # the invoice itself was made
    refused = cli.fails(2, "invoice", "send", invoice["number"])
    assert "client edit NM --contact-email" in refused.stderr
    assert outbox_rows(initialized, "invoice") == []
