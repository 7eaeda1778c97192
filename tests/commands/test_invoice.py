"""`partnerctl invoice ...` through the CLI: list, filters, show, and agreement with `billing run`."""

from __future__ import annotations

from tests.helpers.cli import setup_invoicing, setup_space


def _bill(cli, *out: str):
    """Six invoices as of 2026-03-31: BAK three (EUR), GAR two (EUR, the client pays), TKY one (JPY)."""
    setup_space(cli)
    setup_invoicing(cli)
    cli.ok(
        "client", "add", "Tokyo KK", "--ref", "TKY", "--currency", "JPY", "--no-template", "--group", "asia"
    )
    cli.ok("billing", "rate", "set", "EUR", "JPY", "161.5")
    cli.ok("subscription", "add", "BAK", "--product", "sig-m365", "--seats", "3", "--start", "2026-01-31")
    cli.ok("subscription", "add", "GAR", "--product", "sig-gws", "--seats", "7", "--start", "2026-02-15",
           "--payer", "client")  # fmt: skip
    cli.ok("subscription", "add", "TKY", "--product", "sig-m365", "--seats", "3", "--start", "2026-03-01")
    return cli.ok("billing", "run", "--as-of", "2026-03-31", *out)


def test_invoice_list_and_show(initialized, cli):
    _bill(cli)
    invoices = cli.ok("invoice", "list", "-o", "json").json()
    assert len(invoices) == 6 and len({i["number"] for i in invoices}) == 6
    one = cli.ok("invoice", "show", invoices[0]["number"], "-o", "json").json()
    assert one["lines"][0]["seats"] == 3 and one["lines"][0]["amount"] == "7.50" and one["client"] == "BAK"
    assert (
        "Signatures for Microsoft 365"
        in cli.ok("invoice", "show", invoices[0]["number"], "-o", "table").stdout
    )
    assert [i["client"] for i in cli.ok("invoice", "list", "--client", "GAR", "-o", "json").json()] == [
        "GAR"
    ] * 2
    cli.fails(3, "invoice", "show", "INV-1999-000001")
    cli.fails(2, "invoice", "list", "--since", "March")


def test_invoice_list_shows_each_invoice_as_the_run_reported_it(initialized, cli):
    created = _bill(cli, "-o", "json").json()
    listed = cli.ok("invoice", "list", "-o", "json").json()
    shared = ("number", "client", "period_start", "period_end", "total", "currency", "payer")
    assert [{k: r[k] for k in shared} for r in created] == [{k: r[k] for k in shared} for r in listed]
    shown = cli.ok("invoice", "show", listed[-1]["number"], "-o", "json").json()
    assert {k: shown[k] for k in listed[-1]} == listed[-1]


def test_list_total_is_the_run_total(initialized, cli):
    """The run's closing line and the invoice list's add up per currency by one rule."""
    run = _bill(cli, "-o", "table")
    # Gross: BAK 3 x (7.50 + 1.58) + GAR 2 x (14.00 + 2.94) = 61.12 EUR; TKY 1211 + 254 yen.
    assert "created 6 invoice(s) as of 2026-03-31; total 61.12 EUR, 1465 JPY" in run.stderr
    listed = cli.ok("invoice", "list", "-o", "table")
    assert "6 invoice(s), total 61.12 EUR, 1465 JPY" in listed.stderr
    # Only the table carries the closing line: json stays pure data.
    assert cli.ok("invoice", "list", "-o", "json").stderr == ""
