"""Every command a bookkeeper may run works as a real bookkeeper login role on PostgreSQL, and shows
only their clients: the grants are exactly enough, row-level security and the services agree."""

from __future__ import annotations

import pytest

from tests.helpers.cli import setup_invoicing


@pytest.fixture
def book(team, cli, tmp_path):
    """The team's store with something of every kind for BAK (bob's) and for GAR (not bob's)."""
    cli.ok("product", "add", "sig", "--name", "Signatures", "--price-per-seat", "2.50")
    cli.ok("integration", "add", "exact", "--name", "Exact Online", "--kind", "accounting")
    for ref, seats in (("BAK", "3"), ("GAR", "5")):
        cli.ok("subscription", "add", ref, "--product", "sig", "--seats", seats)
    setup_invoicing(cli)
    cli.ok("billing", "run")
    content = tmp_path / "sig.html"
    content.write_text("<p>hi</p>", encoding="utf-8")
    for tenant, ref, admin in (
        ("Bakery Berlin", "BAK", "eva@bak.example"),
        ("Garage Tenant", "GAR", "gus@gar.example"),
    ):
        cli.ok("tenant", "add", tenant, "--client", ref)
        cli.ok("tenant", "admin", "add", tenant, "--email", admin, "--generate-password")
        cli.ok("tenant", "content", "add", tenant, "signature", "--file", str(content))
    return team


def _json(cli, *args):
    return cli.ok(*args, "-o", "json").json()


def test_bookkeeper_reads_only_their_clients(book, cli, tmp_path):
    bob = book.store(book.bob_role)
    assert [c["ref"] for c in _json(cli, *bob, "client", "list")] == ["BAK"]
    assert [c["ref"] for c in _json(cli, *bob, "client", "list", "--tab", "onboarding")] == ["BAK"]
    assert _json(cli, *bob, "client", "show", "BAK")["ref"] == "BAK"
    cli.fails(3, *bob, "client", "show", "GAR")
    report = _json(cli, *bob, "client", "report", "--by", "status")
    assert sum(r["clients"] for r in report) == 1
    exported = cli.ok(*bob, "client", "export", "--format", "jsonl").stdout.splitlines()
    assert len(exported) == 1 and '"BAK"' in exported[0]
    subs = _json(cli, *bob, "subscription", "list")
    assert [s["client"] for s in subs] == ["BAK"]
    assert _json(cli, *bob, "subscription", "show", str(subs[0]["id"]))["client"] == "BAK"
    invoices = _json(cli, *bob, "invoice", "list")
    assert [i["client"] for i in invoices] == ["BAK"]
    assert _json(cli, *bob, "invoice", "show", invoices[0]["number"])["client"] == "BAK"
    # The invoice's documents (issue 15) need only what a bookkeeper may read.
    assert [i["client"] for i in _json(cli, *bob, "invoice", "list", "--unpaid")] == ["BAK"]
    pdf = cli.ok(*bob, "invoice", "pdf", invoices[0]["number"], "-f", str(tmp_path / "inv.pdf"))
    assert pdf.exit_code == 0 and (tmp_path / "inv.pdf").read_bytes().startswith(b"%PDF")
    assert "<rsm:CrossIndustryInvoice" in cli.ok(*bob, "invoice", "xml", invoices[0]["number"]).stdout
    garage = [i["number"] for i in _json(cli, "invoice", "list", "--client", "GAR")]
    cli.fails(3, *bob, "invoice", "pdf", garage[0], "-f", str(tmp_path / "gar.pdf"))
    cli.ok(*bob, "billing", "report")
    cli.ok(*bob, "billing", "rate", "list")
    assert [t["name"] for t in _json(cli, *bob, "template", "list")] == ["Standard"]
    cli.ok(*bob, "template", "show", "Standard")
    cli.ok(*bob, "product", "list")
    cli.ok(*bob, "integration", "list")
    assert {u["email"] for u in _json(cli, *bob, "user", "list")} == {"anna@acme.example", "bob@acme.example"}
    assert _json(cli, *bob, "user", "show", "bob@acme.example")["db_role"] == book.bob_role


def test_bookkeeper_changes_their_clients(book, cli):
    bob = book.store(book.bob_role)
    cli.ok(*bob, "client", "edit", "BAK", "--contact-name", "Piet", "--add-group", "retail",
           "--add-integration", "exact", "--add-permission", "invoices", "--billing-city", "Utrecht")  # fmt: skip
    cli.ok(*bob, "client", "edit", "BAK", "--connect", "exact", "--remove-group", "retail")
    # The currency rule sees the client's invoices through row-level security too.
    assert "invoice" in cli.fails(4, *bob, "client", "edit", "BAK", "--currency", "DKK").stderr
    cli.ok(*bob, "client", "edit", "BAK", "--remove-integration", "exact")
    cli.ok(*bob, "client", "tasks", "BAK", "--missing-receipts", "4", "--wallet-balance", "12.50")
    cli.fails(3, *bob, "client", "tasks", "GAR", "--missing-receipts", "4")
    cli.ok(*bob, "client", "use", "BAK")
    shown = _json(cli, *bob, "client", "show")
    assert shown["missing_receipts"] == 4 and shown["contact_name"] == "Piet"
    events = _json(cli, "audit", "list", "--actor", "bob@acme.example")
    assert {e["action"] for e in events} == {"client.edit", "client.tasks"}
    assert all(e["actor"] == "bob@acme.example" and e["on_behalf_of"] is None for e in events)


def test_bookkeeper_reminders(book, cli):
    bob = book.store(book.bob_role)
    cli.ok(*bob, "reminder", "subscribe", "BAK", "--frequency", "weekly")
    cli.fails(3, *bob, "reminder", "subscribe", "GAR", "--frequency", "weekly")
    assert [r["client"] for r in _json(cli, *bob, "reminder", "list")] == ["BAK"]
    cli.ok(*bob, "reminder", "schedule")
    preview = _json(cli, *bob, "reminder", "preview", "--user", "bob@acme.example")
    assert preview and preview[0]["clients"] == 1
    cli.ok(*bob, "reminder", "subscribe", "BAK", "--frequency", "weekly", "--topic", "balance")
    cli.ok(*bob, "reminder", "unsubscribe", "BAK")
    assert _json(cli, *bob, "reminder", "list") == []


def test_bookkeeper_tenants(book, cli):
    bob = book.store(book.bob_role)
    assert [t["name"] for t in _json(cli, *bob, "tenant", "list")] == ["Bakery Berlin"]
    shown = _json(cli, *bob, "tenant", "show", "Bakery Berlin")
    assert shown["client"] == "BAK"
    cli.fails(3, *bob, "tenant", "show", "Garage Tenant")
    tree = _json(cli, *bob, "tenant", "tree")
    assert tree["name"] == "Bakery Berlin"
    admins = _json(cli, *bob, "tenant", "admin", "list", "Bakery Berlin")
    assert [a["email"] for a in admins] == ["eva@bak.example"]
    cli.fails(3, *bob, "tenant", "admin", "list", "Garage Tenant")
    assert [c["name"] for c in _json(cli, *bob, "tenant", "content", "list", "Bakery Berlin")] == [
        "signature"
    ]
    cli.fails(3, *bob, "tenant", "content", "list", "Garage Tenant")
    cli.ok(*bob, "tenant", "use", "Bakery Berlin")


def test_bookkeeper_store_info_and_admin_commands(book, cli, tmp_path):
    bob = book.store(book.bob_role)
    info = _json(cli, *bob, "store", "info")
    assert info["revision"] == info["head"] and "counts" not in info
    cli.fails(5, *bob, "store", "backup", str(tmp_path / "copy.db"))
    for args in (
        ("client", "add", "Nope BV"),
        ("client", "assign", "BAK", "anna@acme.example"),
        ("user", "add", "x@acme.example"),
        ("tenant", "add", "Mine"),
        ("audit", "list"),
        ("outbox", "list"),
        ("billing", "run"),
        ("outbox", "send"),
    ):
        cli.fails(5, *bob, *args)


def test_bookkeeper_templates(book, cli, tmp_path):
    cli.ok("client", "add", "Templated BV", "--ref", "TPL")  # from the default template
    cli.ok("client", "assign", "TPL", "bob@acme.example")
    bob = book.store(book.bob_role)
    cli.ok(*bob, "template", "export", "Standard", "--file", str(tmp_path / "standard.toml"))
    assert (tmp_path / "standard.toml").read_text(encoding="utf-8")
    diff = cli.ok(*bob, "template", "diff", "TPL", "-o", "json")
    assert "TPL was created from Standard" in diff.stderr and diff.json() == []
    cli.fails(3, *bob, "template", "diff", "GAR")
