"""Running the real CLI in a subprocess, and small CLI set-ups shared by command tests."""

from __future__ import annotations

import os
import subprocess
import sys


def run_partnerctl(*args: str, env: dict | None = None, input: str | None = None, timeout: float = 120):
    """Run the real CLI in a subprocess with this test's environment."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "partnerctl", *map(str, args)],
        env=full_env, input=input, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def setup_space(cli) -> None:
    """Two products and two clients (BAK in group retail, GAR), made through the CLI."""
    cli.ok("product", "add", "sig-m365", "--name", "Signatures for Microsoft 365", "--price-per-seat", "2.50")
    cli.ok(
        "product", "add", "sig-gws", "--name", "Signatures for Google Workspace", "--price-per-seat", "2.00"
    )
    cli.ok("client", "add", "Bakkerij Jansen", "--ref", "BAK", "--language", "nl", "--no-template",
           "--group", "retail")  # fmt: skip
    cli.ok("client", "add", "Garage Berg", "--ref", "GAR", "--no-template")


def setup_invoicing(
    cli, *, rate: str = "21", country: str = "NL", vat_number: str = "NL004495445B01"
) -> None:
    """The partner's invoicing identity and its domestic VAT rate, through the CLI."""
    cli.ok("partner", "set", "--legal-name", "Acme Partners B.V.", "--country", country, "--vat-number", vat_number,
           "--street", "Keizersgracht 1", "--city", "Amsterdam", "--zip", "1015 AA", "--iban", "NL91ABNA0417164300",
           "--bic", "ABNANL2A", "--payment-terms", "14")  # fmt: skip
    cli.ok("billing", "vat", "set", "--rate", rate)


def setup_invoice_clients(cli) -> None:
    """The partner in NL at 21 %, a seat at 12.50, a Dutch client (100 seats) and a German business
    with a valid VAT number (4 seats), both due on 2026-03-01."""
    setup_invoicing(cli)
    cli.ok("product", "add", "seat", "--name", "Bookkeeping seat", "--price-per-seat", "12.50")
    cli.ok("client", "add", "Smørrebrød ApS", "--ref", "NL1", "--language", "nl", "--no-template",
           "--billing-country", "NL", "--billing-city", "Utrecht", "--contact-name", "Ina",
           "--contact-email", "ina@smorrebrod.example")  # fmt: skip
    cli.ok("client", "add", "Łódź Sp. z o.o.", "--ref", "DE1", "--language", "de", "--no-template",
           "--billing-country", "DE", "--vat-number", "DE136695976", "--contact-email", "jan@lodz.example")  # fmt: skip
    cli.ok("subscription", "add", "NL1", "--product", "seat", "--seats", "100", "--start", "2026-03-01")
    cli.ok("subscription", "add", "DE1", "--product", "seat", "--seats", "4", "--start", "2026-03-01")
