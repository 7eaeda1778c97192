"""`partnerctl partner ...`: the invoicing identity, validated with python-stdnum, admins only, audited."""

from __future__ import annotations


def test_set_and_show_the_invoicing_identity(initialized, cli):
    cli.ok(
        "partner", "set", "--legal-name", "Acme Partners B.V.", "--street", "Keizersgracht 1", "--city", "Amsterdam",
        "--zip", "1015 AA", "--country", "nl", "--vat-number", "nl 0044.95.445.B01", "--iban",
        "nl91 abna 0417 1643 00", "--bic", "abnanl2a", "--payment-terms", "21", "--footer", "KvK 12345678",
    )  # fmt: skip
    shown = cli.ok("partner", "show", "-o", "json").json()
    # Stored in their compact, canonical forms.
    assert shown == {
        "name": "Acme Partners", "legal_name": "Acme Partners B.V.", "street": "Keizersgracht 1",
        "city": "Amsterdam", "zip": "1015 AA", "country": "NL", "vat_number": "NL004495445B01",
        "iban": "NL91ABNA0417164300", "bic": "ABNANL2A", "payment_terms_days": 21, "footer": "KvK 12345678",
    }  # fmt: skip
    cli.ok("partner", "set", "--footer", "")  # '' clears a field
    assert cli.ok("partner", "show", "-o", "json").json()["footer"] is None
    events = cli.ok("audit", "list", "--action", "partner.set", "-o", "json").json()
    assert len(events) == 2


def test_bad_identity_is_refused_with_stdnums_reason(initialized, cli):
    assert "checksum" in cli.fails(2, "partner", "set", "--vat-number", "NL004495446B01").stderr
    assert "invalid IBAN" in cli.fails(2, "partner", "set", "--iban", "NL91ABNA0417164301").stderr
    assert "invalid BIC" in cli.fails(2, "partner", "set", "--bic", "ABNA1L2A").stderr
    cli.fails(2, "partner", "set", "--country", "XX")
    cli.fails(2, "partner", "set")  # nothing to change
    cli.ok("partner", "set", "--country", "DE")
    mismatch = cli.fails(2, "partner", "set", "--vat-number", "NL004495445B01")
    assert "belongs to NL" in mismatch.stderr
    assert cli.ok("partner", "show", "-o", "json").json()["vat_number"] is None


def test_only_admins(initialized, cli):
    cli.ok("user", "add", "bob@acme.example")
    cli.fails(5, "--as", "bob@acme.example", "partner", "show")
    cli.fails(5, "--as", "bob@acme.example", "partner", "set", "--city", "Delft")
