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
