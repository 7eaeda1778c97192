"""A client's VAT number: `client add/edit --vat-number` and the vat_number import/export column,
checked with python-stdnum and against the billing country."""

from __future__ import annotations

import csv
import io


def test_add_edit_and_clear_a_vat_number(initialized, cli):
    cli.ok("client", "add", "Müller GmbH", "--ref", "DE1", "--no-template", "--vat-number", "de 136 695 976")
    assert cli.ok("client", "show", "DE1", "-o", "json").json()["vat_number"] == "DE136695976"
    # The billing country must agree with the number (and may not move away from it).
    cli.fails(2, "client", "edit", "DE1", "--billing-country", "AT")
    cli.ok("client", "edit", "DE1", "--billing-country", "DE")
    cli.ok("client", "edit", "DE1", "--vat-number", "ATU13585627", "--billing-country", "AT")
    assert cli.ok("client", "show", "DE1", "-o", "json").json()["vat_number"] == "ATU13585627"
    bad = cli.fails(2, "client", "edit", "DE1", "--vat-number", "ATU13585628")
    assert "invalid VAT number" in bad.stderr
    cli.ok("client", "edit", "DE1", "--vat-number", "")
    assert cli.ok("client", "show", "DE1", "-o", "json").json()["vat_number"] is None
    # Greece's VAT numbers start with EL.
    cli.ok("client", "add", "Athens SA", "--ref", "GR1", "--no-template", "--billing-country", "GR",
           "--vat-number", "EL094259216")  # fmt: skip


def test_import_and_export_carry_the_vat_number(initialized, cli, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text(
        "ref,name,billing_country,VAT\n"
        "NL1,Bakkerij,NL,NL004495445B01\n"
        "DE1,Bad Checksum,DE,DE136695975\n"
        "DE2,Wrong Country,FR,DE136695976\n"
        "XX1,No Number,,\n",
        encoding="utf-8",
    )
    result = cli.fails(9, "client", "import", str(source), "--no-template")
    assert "line 3, column vat_number" in result.stderr and "checksum" in result.stderr
    assert "line 4, column vat_number" in result.stderr and "belongs to DE" in result.stderr
    exported = list(csv.DictReader(io.StringIO(cli.ok("client", "export").stdout)))
    assert {r["ref"]: r["vat_number"] for r in exported} == {"NL1": "NL004495445B01", "XX1": ""}
    # The export imports back as it is (update: same values, nothing changes).
    back = tmp_path / "back.csv"
    back.write_text(cli.ok("client", "export").stdout, encoding="utf-8")
    assert (
        cli.ok("client", "import", str(back), "--on-existing", "update", "-o", "json").json()["updated"] == 0
    )
