"""`partnerctl client ...` through the CLI on SQLite and PostgreSQL: onboarding, tabs, filters, isolation."""

from __future__ import annotations

import pytest

from tests.helpers.store import ADMIN

BOB = "bob@acme.example"  # bookkeeper
CARL = "carl@acme.example"  # another bookkeeper


@pytest.fixture
def space(initialized, cli):
    """Users, a product, integrations and a 'small' template."""
    cli.ok("user", "add", BOB, "--name", "Bob")
    cli.ok("user", "add", CARL, "--name", "Carl")
    cli.ok("product", "add", "bk-plus", "--name", "BK Plus", "--price-per-seat", "12.50", "--currency", "EUR")
    cli.ok("integration", "add", "exact", "--name", "Exact Online", "--kind", "accounting")
    cli.ok("integration", "add", "sso", "--name", "SSO", "--kind", "identity")
    cli.ok(
        "template", "add", "small", "--user", BOB, "--product", "bk-plus", "--payer", "client",
        "--accept-pricing", "--integration", "exact", "--currency", "DKK", "--language", "da",
        "--permission", "invoices", "--permission", "support", "--group", "Small",
    )  # fmt: skip
    return initialized


def outbox(store_url):
    from sqlmodel import select

    from partnerctl.context import AppContext
    from partnerctl.store.models import OutboxMessage

    with AppContext().session(readonly=True) as s:
        return [
            (m.dedupe_key, m.to_addr, m.language, m.subject, m.body_text)
            for m in s.exec(select(OutboxMessage))
        ]


def show(cli, ref, *extra):
    return cli.ok(*extra, "client", "show", ref, "-o", "json").json()


def test_quick_insert_and_template_application(space, cli):
    cli.ok("client", "add", "Bakery Jansen")  # quick insert: only a name, default template
    quick = show(cli, "bakery-jansen")
    assert quick["status"] == "onboarding"
    assert quick["currency"] == "EUR" and quick["language"] == "en"
    assert quick["template"] == "Standard" and quick["template_version"] == 1
    assert "support" in quick["permissions"] and len(quick["permissions"]) >= 6

    cli.ok(
        "client", "add", "Smørrebrød ApS", "--template", "SMALL", "--currency", "SEK",
        "--contact-name", "Ida", "--contact-email", "Ida@Smor.example", "--welcome",
        "--billing-street", "Torvet 1", "--billing-city", "Aarhus", "--billing-zip", "8000",
        "--billing-country", "dk",
    )  # fmt: skip
    c = show(cli, "smorrebrod-aps")
    assert c["currency"] == "SEK"  # explicit wins over the template
    assert c["language"] == "da"  # from the template
    assert c["assigned"] == [BOB]
    assert c["groups"] == ["Small"]
    assert c["permissions"] == ["invoices", "support"]
    assert c["integrations"] == ["exact (pending)"]
    assert c["subscriptions"] == ["bk-plus x1 (active, client pays)"]
    assert c["template"] == "small" and c["template_version"] == 1
    assert "currency" not in c["template_applied"] and c["template_applied"]["language"] == "da"
    assert c["template_applied"]["product"] == {"key": "bk-plus", "payer": "client", "seats": 1}
    # Shipping falls back to billing.
    assert c["shipping_city"] == "Aarhus" and c["billing_country"] == "DK"
    mails = outbox(space)
    assert len(mails) == 1
    key, to, lang, subject, body = mails[0]
    assert (key, to, lang) == ("welcome:smorrebrod-aps", "ida@smor.example", "da")
    assert "Velkommen" in subject and "Hej Ida" in body and "Acme Partners" in body

    # No template at all, and a derived reference that is taken gets a suffix.
    cli.ok("client", "add", "Bakery Jansen", "--no-template")
    again = show(cli, "bakery-jansen-2")
    assert again["template"] is None and again["template_applied"] is None
    actions = [e["action"] for e in cli.ok("audit", "list", "--action", "client", "-o", "json").json()]
    assert actions.count("client.add") == 3


def test_bad_input_is_one_line_exit_2_and_duplicates_exit_4(space, cli):
    for args in (
        ["--currency", "EUX"],
        ["--language", "xx"],
        ["--contact-email", "not-an-email"],
        ["--template", "nope"],
        ["--integration", "nope"],
        ["--assign", "ghost@acme.example"],
        ["--permission", "payroll"],
        ["--ref", "bad ref!"],
        ["--billing-country", "XX"],
        ["--welcome"],  # no contact to welcome
    ):
        result = cli.fails(2, "client", "add", "X Corp", *args)
        assert len([ln for ln in result.stderr.splitlines() if ln.startswith("error:")]) == 1
    cli.ok("client", "add", "X Corp", "--ref", "X-1")
    result = cli.fails(4, "client", "add", "Other", "--ref", "x-1")  # case-insensitive
    assert "already taken" in result.stderr
    # A template whose product was set needs the pricing acknowledged; unknown product is exit 2.
    cli.fails(2, "template", "add", "t2", "--product", "nope", "--accept-pricing")
    assert cli.ok("client", "list", "-o", "ids").stdout.split() == ["X-1"]


def _populate(cli):
    cli.ok("client", "add", "Alpha 100% Foods", "--ref", "A-1", "--group", "Retail", "--assign", BOB)
    cli.ok("client", "add", "Beta_Bikes", "--ref", "B-1", "--group", "Retail")
    cli.ok("client", "add", "Betax Bikes", "--ref", "B-2", "--assign", CARL)
    cli.ok("client", "add", "Gamma", "--ref", "G-1", "--assign", BOB, "--assign", ADMIN)
    cli.ok("client", "add", "Invitor", "--ref", "I-1", "--invited")
    cli.ok("client", "add", "Zed Old", "--ref", "Z-1", "--assign", BOB)
    cli.ok("client", "activate", "G-1")
    cli.ok("client", "archive", "Z-1")
    cli.ok(
        "client",
        "tasks",
        "A-1",
        "--missing-receipts",
        "3",
        "--wallet-balance",
        "-10.50",
        "--expenses-ready",
        "2",
    )
    cli.ok("client", "tasks", "B-2", "--missing-receipts", "7")


def ids(cli, *args):
    return cli.ok("client", "list", *args, "-o", "ids").stdout.split()


def test_list_tabs_search_filters_sort(space, cli):
    _populate(cli)
    assert ids(cli) == ["A-1", "B-1", "B-2", "G-1", "I-1"]  # all tab, archived hidden, by name
    assert ids(cli, "--tab", "invites") == ["I-1"]
    assert ids(cli, "--tab", "onboarding") == ["A-1", "B-1", "B-2"]
    assert ids(cli, "--tab", "mine") == ["G-1"]
    assert ids(cli, "--archived") == ["A-1", "B-1", "B-2", "G-1", "I-1", "Z-1"]
    assert ids(cli, "--status", "archived") == ["Z-1"]
    # Search: case-insensitive on name and reference; % and _ are literal.
    assert ids(cli, "--search", "BETA") == ["B-1", "B-2"]
    assert ids(cli, "--search", "b-") == ["B-1", "B-2"]
    assert ids(cli, "--search", "a_b") == ["B-1"]
    assert ids(cli, "--search", "100%") == ["A-1"]
    assert ids(cli, "--search", "%") == ["A-1"]
    assert ids(cli, "--search", "_") == ["B-1"]
    assert ids(cli, "--missing-receipts") == ["A-1", "B-2"]
    assert ids(cli, "--group", "Retail") == ["A-1", "B-1"]
    assert ids(cli, "--assigned", BOB) == ["A-1", "G-1"]
    assert ids(cli, "--status", "active") == ["G-1"]
    assert ids(cli, "--template", "standard", "--tab", "onboarding") == ["A-1", "B-1", "B-2"]
    assert ids(cli, "--sort", "missing-receipts", "--desc", "--limit", "2") == ["B-2", "A-1"]
    assert ids(cli, "--sort", "name", "--desc") == ["I-1", "G-1", "B-2", "B-1", "A-1"]
    assert ids(cli, "--sort", "created") == ["A-1", "B-1", "B-2", "G-1", "I-1"]
    assert ids(cli, "--limit", "2", "--offset", "2") == ["B-2", "G-1"]
    rows = cli.ok("client", "list", "--search", "alpha", "-o", "json").json()
    assert rows[0]["wallet_balance"] == "-10.5" and rows[0]["groups"] == ["Retail"]
    assert rows[0]["assigned"] == [BOB]
    cli.fails(2, "client", "list", "--sort", "size")
    cli.fails(2, "client", "list", "--tab", "everything")
    cli.fails(2, "client", "list", "--status", "gone")
    # On a terminal (table format) the tab bar with counts sits above the table.
    table = cli.ok("client", "list", "-o", "table").stdout
    assert table.splitlines()[0] == "Invites 1 | Onboarding 3 | My clients 1 | All 5"
    cli.ok("client", "accept", "I-1")
    table = cli.ok("client", "list", "-o", "table", "--tab", "onboarding").stdout
    assert table.splitlines()[0] == "Onboarding 4 | My clients 1 | All 5"  # empty Invites tab hidden


def test_bookkeeper_isolation_on_every_command(space, cli):
    _populate(cli)
    bob = ("--as", BOB)
    # Bookkeepers see two tabs: their onboarding clients and their clients; never "all" or "invites".
    assert ids(cli, *bob) == ["A-1", "G-1"]
    assert ids(cli, *bob, "--tab", "onboarding") == ["A-1"]
    assert ids(cli, *bob, "--archived") == ["A-1", "G-1", "Z-1"]
    assert ids(cli, *bob, "--search", "A") == ["A-1", "G-1"]  # Beta/Betax match too but are not his
    table = cli.ok(*bob, "client", "list", "-o", "table").stdout
    assert table.splitlines()[0] == "Onboarding 1 | My clients 2"
    cli.fails(5, *bob, "client", "list", "--tab", "all")
    cli.fails(5, *bob, "client", "list", "--tab", "invites")
    # A client not assigned to Bob does not exist for him (same error as a missing one).
    missing = cli.fails(3, *bob, "client", "show", "NOPE").stderr.replace("NOPE", "X")
    hidden = cli.fails(3, *bob, "client", "show", "B-2").stderr.replace("B-2", "X")
    assert missing == hidden
    cli.fails(3, *bob, "client", "edit", "B-2", "--name", "Mine now")
    cli.fails(3, *bob, "client", "tasks", "B-2", "--missing-receipts", "0")
    cli.fails(3, *bob, "client", "use", "B-2")
    cli.fails(3, *bob, "template", "diff", "B-2")
    # Admin-only commands are refused to bookkeepers whatever the client.
    for args in (
        ["assign", "B-2", BOB], ["unassign", "A-1", BOB], ["archive", "A-1"], ["remove", "B-2", "--yes"],
        ["activate", "A-1"], ["accept", "I-1"], ["decline", "I-1"], ["add", "Sneaky"],
    ):  # fmt: skip
        cli.fails(5, *bob, "client", *args)
    # Bob works on his own clients.
    cli.ok(*bob, "client", "edit", "A-1", "--contact-name", "Anne")
    cli.ok(*bob, "client", "tasks", "A-1", "--missing-receipts", "0")
    assert show(cli, "A-1", *bob)["missing_receipts"] == 0
    report = cli.ok(*bob, "client", "report", "--by", "status", "-o", "json").json()
    assert {r["status"]: r["clients"] for r in report} == {"onboarding": 1, "active": 1, "archived": 1}
    # Nothing of B-2 changed.
    b2 = show(cli, "B-2")
    assert b2["name"] == "Betax Bikes" and b2["missing_receipts"] == 7


def test_edit_assign_status_and_remove(space, cli):
    cli.ok("client", "add", "Delta", "--ref", "D-1", "--group", "Old")
    cli.ok(
        "client", "edit", "D-1", "--name", "Delta BV", "--currency", "usd", "--language", "nl",
        "--add-group", "New", "--remove-group", "Old", "--remove-permission", "support",
        "--add-integration", "exact", "--add-integration", "sso", "--connect", "sso",
        "--shipping-city", "Utrecht",
    )  # fmt: skip
    d = show(cli, "D-1")
    assert (d["name"], d["currency"], d["language"], d["groups"]) == ("Delta BV", "USD", "nl", ["New"])
    assert "support" not in d["permissions"]
    assert d["integrations"] == ["exact (pending)", "sso (connected)"]
    assert d["shipping_city"] == "Utrecht"
    assert ids(cli, "--search", "delta bv") == ["D-1"]  # the name key follows the name
    cli.fails(2, "client", "edit", "D-1")  # nothing to change
    cli.fails(2, "client", "edit", "D-1", "--currency", "EUX")
    cli.fails(2, "client", "edit", "D-1", "--remove-group", "Never")
    cli.ok("client", "assign", "D-1", BOB, CARL)
    assert show(cli, "D-1")["assigned"] == [BOB, CARL]
    cli.ok("client", "unassign", "D-1", CARL)
    assert show(cli, "D-1")["assigned"] == [BOB]
    cli.fails(2, "client", "unassign", "D-1", CARL)
    # One user resolution for both commands: the same message and hint for an unknown user.
    assigning = cli.fails(2, "client", "assign", "D-1", "ghost@acme.example")
    unassigning = cli.fails(2, "client", "unassign", "D-1", "ghost@acme.example")
    assert assigning.stderr == unassigning.stderr
    assert (
        "unknown user 'ghost@acme.example'" in assigning.stderr and "partnerctl user list" in assigning.stderr
    )
    edit = cli.ok("audit", "list", "--action", "client.edit", "-o", "json").json()[0]
    assert edit["before"]["currency"] == "EUR" and edit["after"]["currency"] == "USD"
    # Status moves: onboarding -> active -> archived; wrong moves are conflicts.
    cli.fails(4, "client", "accept", "D-1")
    cli.ok("client", "activate", "D-1")
    cli.fails(4, "client", "activate", "D-1")
    cli.ok("client", "archive", "D-1")
    assert show(cli, "D-1")["status"] == "archived"
    cli.fails(2, "client", "remove", "D-1")  # needs --yes
    cli.ok("client", "remove", "D-1", "--yes")
    cli.fails(3, "client", "show", "D-1")


def test_invitations(space, cli):
    cli.ok("client", "add", "Inviter One", "--invited", "--ref", "INV-1")
    cli.ok("client", "add", "Inviter Two", "--invited", "--ref", "INV-2")
    inv = show(cli, "INV-1")
    assert inv["status"] == "invited" and inv["template"] is None  # the template comes with acceptance
    cli.ok("client", "accept", "INV-1", "--template", "small")
    acc = show(cli, "INV-1")
    assert acc["status"] == "onboarding" and acc["template"] == "small"
    assert acc["currency"] == "DKK" and acc["assigned"] == [BOB] and acc["subscriptions"]
    cli.ok("client", "decline", "INV-2")
    cli.fails(3, "client", "show", "INV-2")
    cli.fails(4, "client", "decline", "INV-1")


def test_use_current_client(space, cli):
    cli.ok("client", "add", "Echo", "--ref", "E-1")
    cli.fails(2, "client", "show")  # no current client yet
    cli.ok("client", "use", "e-1")
    assert cli.ok("client", "use").stdout.strip() == "E-1"
    assert cli.ok("client", "show", "-o", "json").json()["ref"] == "E-1"
    cli.ok("client", "tasks", "--expenses-ready", "4")
    assert show(cli, "E-1")["expenses_ready"] == 4
    from partnerctl import config

    assert config.load_settings().profiles["default"].get("client") == "E-1"
    cli.ok("client", "use", "--clear")
    assert config.load_settings().profiles["default"].get("client") is None
    cli.fails(2, "client", "tasks", "--expenses-ready", "1")
    cli.fails(3, "client", "use", "nope")
    cli.fails(2, "client", "tasks", "E-1", "--missing-receipts", "-1")
    cli.fails(2, "client", "tasks", "E-1", "--wallet-balance", "lots")


def test_report(space, cli):
    cli.ok("client", "add", "One", "--template", "small")
    cli.ok("client", "add", "Two", "--template", "small", "--group", "Retail", "--group", "Big")
    cli.ok("client", "add", "Three", "--group", "Retail")
    cli.ok("client", "add", "Four")
    by_group = {r["group"]: r for r in cli.ok("client", "report", "--by", "group", "-o", "json").json()}
    assert by_group["Retail"]["clients"] == 2 and by_group["Small"]["clients"] == 1
    assert by_group["(none)"]["clients"] == 1 and by_group["Big"]["clients"] == 1
    assert by_group["Small"]["seats"] == 1 and by_group["Small"]["monthly_value"] == "EUR 12.50"
    by_tpl = {r["template"]: r for r in cli.ok("client", "report", "--by", "template", "-o", "json").json()}
    assert by_tpl["small"]["clients"] == 2 and by_tpl["small"]["seats"] == 2
    assert by_tpl["small"]["monthly_value"] == "EUR 25.00" and by_tpl["Standard"]["clients"] == 2
    by_cur = {
        r["currency"]: r["clients"]
        for r in cli.ok("client", "report", "--by", "currency", "-o", "json").json()
    }
    assert by_cur == {"DKK": 2, "EUR": 2}  # "Two" has explicit groups but still the template's currency
    by_lang = {
        r["language"]: r["clients"]
        for r in cli.ok("client", "report", "--by", "language", "-o", "json").json()
    }
    assert by_lang == {"da": 2, "en": 2}
    cli.fails(2, "client", "report", "--by", "size")
