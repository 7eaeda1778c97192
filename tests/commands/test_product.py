"""`partnerctl product ...` through the CLI: the product catalogue."""

from __future__ import annotations


def test_products(initialized, cli):
    cli.ok("product", "add", "bk-plus", "--name", "Bookkeeping Plus", "--price-per-seat", "12.10",
           "--currency", "eur")  # fmt: skip
    cli.ok("product", "add", "jp", "--name", "Japan", "--price-per-seat", "1000", "--currency", "JPY",
           "--period", "yearly")  # fmt: skip
    products = {p["key"]: p for p in cli.ok("product", "list", "-o", "json").json()}
    assert products["bk-plus"]["price_per_seat"] == "12.1"
    assert products["bk-plus"]["currency"] == "EUR"
    assert products["jp"]["period"] == "yearly"
    cli.fails(4, "product", "add", "bk-plus", "--name", "Again", "--price-per-seat", "1")
    cli.fails(2, "product", "add", "x", "--name", "X", "--price-per-seat", "abc")
    cli.fails(2, "product", "add", "x", "--name", "X", "--price-per-seat", "-1")
    cli.fails(2, "product", "add", "x", "--name", "X", "--price-per-seat", "1", "--currency", "EUX")
    cli.fails(2, "product", "add", "x", "--name", "X", "--price-per-seat", "1", "--period", "weekly")
    cli.ok("user", "add", "bob@acme.example")
    cli.fails(5, "--as", "bob@acme.example", "product", "add", "y", "--name", "Y", "--price-per-seat", "1")
    actions = {e["action"] for e in cli.ok("audit", "list", "-o", "json").json()}
    assert "product.add" in actions


def test_product_rows_are_the_audited_product(initialized, cli):
    """`product list` shows a product with the very fields the audit log records."""
    added = cli.ok("product", "add", "jp", "--name", "Japan", "--price-per-seat", "1000", "--currency", "JPY",
                   "--period", "yearly")  # fmt: skip
    assert "added product jp (1000 JPY per seat, yearly)" in added.stderr
    listed = cli.ok("product", "list", "-o", "json").json()
    audited = cli.ok("audit", "list", "--action", "product.add", "-o", "json").json()
    assert [e["after"] for e in audited] == listed
