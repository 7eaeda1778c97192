"""`partnerctl book ...` through the CLI on SQLite and PostgreSQL: export, plan (with money), apply."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
import tomli_w

from tests.helpers.store import ADMIN

BOB = "bob@acme.example"  # bookkeeper, assigned to BAK
CARL = "carl@acme.example"  # bookkeeper, assigned to GAR


@pytest.fixture
def space(initialized, cli):
    """A partner space with something of everything the book holds."""
    cli.ok("user", "add", BOB, "--name", "Bob")
    cli.ok("user", "add", CARL, "--name", "Carl", "--language", "da")
    cli.ok("product", "add", "sig-m365", "--name", "Signatures M365", "--price-per-seat", "2.50")
    cli.ok(
        "product", "add", "bk-year", "--name", "Bookkeeping", "--price-per-seat", "120", "--period", "yearly"
    )
    cli.ok("integration", "add", "exact", "--name", "Exact Online", "--kind", "accounting")
    cli.ok("integration", "add", "sso", "--name", "SSO", "--kind", "identity")
    cli.ok(
        "template", "add", "Small business", "--user", BOB, "--product", "bk-year", "--payer", "client",
        "--accept-pricing", "--integration", "exact", "--language", "nl", "--group", "SMB",
    )  # fmt: skip
    cli.ok("template", "add", "A/B: ../test", "--description", "Odd name", "--permission", "support")
    cli.ok(
        "client", "add", "Bakkerij Jansen", "--ref", "BAK", "--no-template", "--group", "retail",
        "--group", "Food", "--assign", BOB, "--integration", "exact", "--integration", "sso",
        "--contact-name", "Piet", "--contact-email", "Piet@Jansen.example", "--billing-street", "Markt 1",
        "--billing-city", "Utrecht", "--billing-country", "nl", "--permission", "invoices", "--permission", "support",
    )  # fmt: skip
    cli.ok("client", "edit", "BAK", "--connect", "exact")
    cli.ok("client", "activate", "BAK")
    cli.ok("subscription", "add", "BAK", "--product", "sig-m365", "--seats", "10", "--payer", "client")
    cli.ok("subscription", "add", "BAK", "--product", "sig-m365", "--seats", "2")
    cli.ok("subscription", "add", "BAK", "--product", "bk-year", "--seats", "1")
    sub = cli.ok("subscription", "list", "--client", "BAK", "-o", "json").json()[-1]["id"]
    cli.ok("subscription", "suspend", str(sub))
    cli.ok("client", "add", "Garage Berg", "--ref", "GAR", "--no-template", "--assign", CARL)
    cli.ok("client", "add", "Invites Us", "--ref", "INV", "--invited")
    cli.ok("client", "add", "Old Shop", "--ref", "OLD", "--template", "Small business")
    cli.ok("client", "archive", "OLD")
    return initialized


def plan(cli, book: Path, *extra: str) -> dict:
    return cli.ok("book", "plan", book, *extra, "-o", "json").json()


def tree(book: Path) -> dict[str, bytes]:
    return {p.relative_to(book).as_posix(): p.read_bytes() for p in sorted(book.rglob("*")) if p.is_file()}


def load(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def save(path: Path, doc: dict) -> None:
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")


def edit(path: Path, **changes) -> None:
    save(path, {**load(path), **changes})


def exported(cli, tmp_path: Path) -> Path:
    book = tmp_path / "book"
    cli.ok("book", "export", book)
    return book


# -- export -----------------------------------------------------------------------------------------------


def test_export_then_plan_is_no_change_and_the_same_store_gives_the_same_bytes(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    files = tree(book)
    assert set(files) == {
        "catalog.toml", "users.toml", "templates/standard.toml", "templates/small-business.toml",
        "templates/a-b-test.toml", "clients/BAK.toml", "clients/GAR.toml", "clients/INV.toml",
        "clients/OLD.toml",
    }  # fmt: skip
    assert plan(cli, book) == {"changes": [], "money": []}
    assert plan(cli, book, "--prune") == {"changes": [], "money": []}
    # Twice, and over itself with --force: byte for byte the same.
    cli.ok("book", "export", tmp_path / "again")
    assert tree(tmp_path / "again") == files
    refused = cli.fails(4, "book", "export", book)
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    cli.ok("book", "export", book, "--force")
    assert tree(book) == files

    bak = load(book / "clients" / "BAK.toml")
    assert bak["status"] == "active" and bak["contact_email"] == "piet@jansen.example"
    assert bak["groups"] == ["Food", "retail"] and bak["users"] == [BOB]
    assert bak["permissions"] == ["invoices", "support"]
    assert bak["integrations"] == {"exact": "connected", "sso": "pending"}
    assert bak["billing"] == {"street": "Markt 1", "city": "Utrecht", "zip": "", "country": "NL"}
    assert bak["subscriptions"] == [
        {"product": "bk-year", "seats": 1, "payer": "partner", "status": "suspended"},
        {"product": "sig-m365", "seats": 10, "payer": "client", "status": "active"},
        {"product": "sig-m365", "seats": 2, "payer": "partner", "status": "active"},
    ]
    assert not {"id", "next_payment_date", "created_at", "template_version"} & set(bak)
    # The template file is exactly what `template export` writes; the odd name stays inside it.
    odd = load(book / "templates" / "a-b-test.toml")
    assert odd["name"] == "A/B: ../test"
    small = cli.ok("template", "export", "Small business").stdout
    assert (book / "templates" / "small-business.toml").read_text(encoding="utf-8") == small
    users = load(book / "users.toml")["users"]
    assert [u["email"] for u in users] == [ADMIN, BOB, CARL] and users[2]["language"] == "da"
    catalog = load(book / "catalog.toml")
    assert catalog["products"][0] == {"key": "bk-year", "name": "Bookkeeping", "price_per_seat": "120.00",
                                      "currency": "EUR", "period": "yearly"}  # fmt: skip
    assert [i["key"] for i in catalog["integrations"]] == ["exact", "sso"]


def test_export_with_force_removes_files_of_clients_that_are_gone_and_keeps_the_rest(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    (book / ".git").mkdir()
    (book / "README.md").write_text("our book\n")
    (book / "clients" / "GONE.toml").write_text('name = "Gone"\n')
    cli.ok("book", "export", book, "--force")
    assert not (book / "clients" / "GONE.toml").exists()
    assert (book / "README.md").read_text() == "our book\n" and (book / ".git").is_dir()
    # A directory holding only dot-files counts as empty (a fresh git checkout).
    fresh = tmp_path / "fresh"
    (fresh / ".git").mkdir(parents=True)
    cli.ok("book", "export", fresh)


def test_export_never_writes_outside_the_directory_or_through_a_link(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    outside = tmp_path / "outside.toml"
    outside.write_text("precious\n")
    (book / "users.toml").unlink()
    os.symlink(outside, book / "users.toml")
    refused = cli.fails(2, "book", "export", book, "--force")
    assert "symbolic link" in refused.stderr
    assert outside.read_text() == "precious\n"
    (book / "users.toml").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.rename(book / "clients", tmp_path / "old-clients")
    os.symlink(elsewhere, book / "clients")
    cli.fails(2, "book", "export", book, "--force")
    assert list(elsewhere.iterdir()) == []
    cli.fails(2, "book", "export", tmp_path / "outside.toml")  # not a directory


# -- plan -------------------------------------------------------------------------------------------------


def test_editing_seats_plans_an_update_with_the_right_money(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    bak = load(book / "clients" / "BAK.toml")
    bak["subscriptions"][1]["seats"] = 12  # sig-m365: 10 -> 12 seats at 2.50
    bak["subscriptions"][0]["status"] = "active"  # bk-year resumed: 120 a year is 10.00 a month
    save(book / "clients" / "BAK.toml", bak)
    result = plan(cli, book)
    (change,) = result["changes"]
    assert (change["action"], change["kind"], change["key"]) == ("update", "client", "BAK")
    assert change["fields"] == {
        "subscriptions.bk-year": {
            "from": {"product": "bk-year", "seats": 1, "payer": "partner", "status": "suspended",
                     "monthly_value": "0.00", "currency": "EUR"},
            "to": {"product": "bk-year", "seats": 1, "payer": "partner", "status": "active",
                   "monthly_value": "10.00", "currency": "EUR"},
        },
        "subscriptions.sig-m365": {
            "from": {"product": "sig-m365", "seats": 10, "payer": "client", "status": "active",
                     "monthly_value": "25.00", "currency": "EUR"},
            "to": {"product": "sig-m365", "seats": 12, "payer": "client", "status": "active",
                   "monthly_value": "30.00", "currency": "EUR"},
        },
    }  # fmt: skip
    assert result["money"] == [{"currency": "EUR", "before": "25.00", "after": "40.00", "delta": "15.00"}]
    text = cli.ok("book", "plan", book, "-o", "table").stdout
    assert "~ update client BAK" in text and "seats 10 -> 12; monthly EUR 25.00 -> EUR 30.00" in text
    assert "EUR  before 25.00  after 40.00  change +15.00" in text
    assert "Plan: 0 to create, 1 to update, 0 to archive." in text


def test_a_price_change_shows_in_the_money_of_every_subscription_of_the_product(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    catalog = load(book / "catalog.toml")
    catalog["products"][1]["price_per_seat"] = "2.00"
    save(book / "catalog.toml", catalog)
    result = plan(cli, book)
    assert [(c["kind"], c["key"], c["fields"]) for c in result["changes"]] == [
        ("product", "sig-m365", {"price_per_seat": {"from": "2.50", "to": "2.00"}})
    ]
    # 12 seats at 2.50 -> 12 at 2.00, in a client that has no change of its own.
    assert result["money"] == [{"currency": "EUR", "before": "30.00", "after": "24.00", "delta": "-6.00"}]


def test_adding_a_file_plans_a_create_and_a_missing_one_is_unmanaged_unless_pruned(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    save(book / "clients" / "NEW-1.toml", {"name": "New One", "users": [CARL],
                                           "subscriptions": [{"product": "sig-m365", "seats": 4}]})  # fmt: skip
    (book / "clients" / "GAR.toml").unlink()
    (book / "clients" / "OLD.toml").unlink()  # archived already: nothing to prune
    result = cli.ok("book", "plan", book, "-o", "json")
    assert "2 client(s) without a file are left alone (--prune archives them): GAR, OLD" in result.stderr
    (create,) = result.json()["changes"]
    assert (create["action"], create["key"]) == ("create", "NEW-1")
    assert create["fields"]["name"] == {"from": None, "to": "New One"}
    assert create["fields"]["subscriptions.sig-m365"]["to"]["monthly_value"] == "10.00"
    assert result.json()["money"] == [
        {"currency": "EUR", "before": "0.00", "after": "10.00", "delta": "10.00"}
    ]
    pruned = plan(cli, book, "--prune")["changes"]
    assert [(c["action"], c["key"], c["fields"]) for c in pruned] == [
        ("archive", "GAR", {"status": {"from": "onboarding", "to": "archived"}}),
        ("create", "NEW-1", create["fields"]),
    ]


def test_reordering_lists_and_changing_case_plans_nothing(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    bak = load(book / "clients" / "BAK.toml")
    bak.update(
        ref="bak", groups=["retail", "Food", "retail"], permissions=["support", "invoices"], users=[BOB.upper()],
        contact_email="PIET@Jansen.Example", currency="eur", language="EN",
        integrations={"SSO": "pending", "Exact": "connected"},
        subscriptions=[{"product": "BK-YEAR", "status": "suspended"}, *bak["subscriptions"][1:]],
    )  # fmt: skip
    bak["billing"]["country"] = "nl"
    del bak["contact_name"]  # left out: not managed
    save(book / "clients" / "BAK.toml", bak)
    users = load(book / "users.toml")
    users["users"] = [{**u, "email": u["email"].upper()} for u in reversed(users["users"])]
    save(book / "users.toml", users)
    small = load(book / "templates" / "small-business.toml")
    small.update(name="SMALL BUSINESS", users=[BOB.upper()], integrations=["EXACT"])
    small["product"]["key"] = "BK-YEAR"
    save(book / "templates" / "small-business.toml", small)
    catalog = load(book / "catalog.toml")
    catalog["products"] = list(reversed(catalog["products"]))
    catalog["products"][0]["price_per_seat"] = 2.5  # a TOML float of the same amount
    save(book / "catalog.toml", catalog)
    assert plan(cli, book, "--prune") == {"changes": [], "money": []}


def test_exit_code_tells_cron_whether_the_store_drifted(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    assert cli("book", "plan", book, "--exit-code").exit_code == 0
    cli.ok("client", "edit", "GAR", "--name", "Garage Berg & Zn")  # drift: changed outside the book
    drift = cli("book", "plan", book, "--exit-code", "-o", "table")
    assert drift.exit_code == 10
    assert 'name: "Garage Berg & Zn" -> "Garage Berg"' in drift.stdout
    assert cli("book", "plan", book).exit_code == 0  # without --exit-code, a plan is not a failure


def test_drift_is_queued_in_the_outbox_once_per_distinct_drift(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    mail = ("--mail-to", "ops@acme.example", "--mail-to", "OPS@acme.example", "--exit-code")

    def drift_mails():
        return [m for m in cli.ok("outbox", "list", "--kind", "book_drift", "-o", "json").json()]

    assert cli("book", "plan", book, *mail).exit_code == 0 and drift_mails() == []  # no drift, no mail
    cli.ok("client", "edit", "GAR", "--language", "de")
    first = cli("book", "plan", book, *mail)
    assert first.exit_code == 10 and "queued the drift report to ops@acme.example" in first.stderr
    assert cli("book", "plan", book, *mail).exit_code == 10  # the same drift tomorrow: not mailed again
    (message,) = drift_mails()
    assert message["to"] == "ops@acme.example" and "1 change" in message["subject"]
    body = cli.ok("outbox", "show", str(message["id"]), "-o", "json").json()["body_text"]
    assert "~ update client GAR" in body and 'language: "de" -> "en"' in body
    cli.ok("client", "edit", "GAR", "--language", "fr")  # another drift: mailed
    assert cli("book", "plan", book, *mail).exit_code == 10 and len(drift_mails()) == 2
    assert (
        "only admins"
        in cli.fails(5, "--as", BOB, "book", "plan", book, "--mail-to", "ops@acme.example").stderr
    )
    cli.fails(2, "book", "plan", book, "--mail-to", "not-an-address")


def test_json_is_exactly_changes_and_money(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    edit(book / "clients" / "GAR.toml", language="de", groups=["Cars"])
    result = plan(cli, book)
    assert set(result) == {"changes", "money"} and result["money"] == []
    (change,) = result["changes"]
    assert set(change) == {"action", "kind", "key", "fields"}
    assert change["fields"] == {
        "language": {"from": "en", "to": "de"},
        "groups": {"from": [], "to": ["Cars"]},
    }
    assert all(set(v) == {"from", "to"} for v in change["fields"].values())


# -- bad input ---------------------------------------------------------------------------------------------


def test_a_broken_file_names_its_path_and_line_and_nothing_is_planned(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    path = book / "clients" / "GAR.toml"
    path.write_text(path.read_text().replace('status = "onboarding"', "status = onboarding"))
    out = tmp_path / "p.plan"
    failed = cli.fails(2, "book", "plan", book, "--out", out)
    assert f"{path}:3: not valid TOML" in failed.stderr
    assert failed.stdout == "" and not out.exists()


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("clients/GAR.toml", {"users": ["ghost@acme.example"]}, "unknown user 'ghost@acme.example'"),
        ("clients/GAR.toml", {"integrations": {"nope": "pending"}}, "unknown integration 'nope'"),
        ("clients/GAR.toml", {"subscriptions": [{"product": "nope"}]}, "unknown product 'nope'"),
        (
            "clients/GAR.toml",
            {"subscriptions": [{"product": "sig-m365", "status": "cancelled"}]},
            "remove the entry",
        ),
        ("clients/GAR.toml", {"subscriptions": [{"product": "sig-m365", "seats": 0}]}, "at least 1"),
        ("clients/GAR.toml", {"ref": "OTHER"}, "does not match the file name"),
        ("clients/GAR.toml", {"next_payment_date": "2026-01-01"}, "unknown key 'next_payment_date'"),
        ("clients/GAR.toml", {"currency": "EUX"}, "unknown currency"),
        ("clients/GAR.toml", {"status": "done"}, "unknown status"),
        ("clients/GAR.toml", {"vat_number": "NL123"}, "invalid VAT number"),
        ("templates/small-business.toml", {"users": ["ghost@acme.example"]}, "unknown user"),
        ("templates/standard.toml", {"default": False}, "exactly one template is the default"),
        ("templates/a-b-test.toml", {"default": True}, "both say default = true"),
        ("users.toml", {"users": [{"email": "x@acme.example", "role": "boss"}]}, "unknown role"),
        ("catalog.toml", {"products": [{"key": "new", "name": "New"}]}, "needs price_per_seat"),
    ],
)
def test_bad_input_is_one_line_naming_the_file(space, cli, tmp_path, file, change, message):
    book = exported(cli, tmp_path)
    edit(book / file, **change)
    failed = cli.fails(2, "book", "plan", book)
    assert str(book / file) in failed.stderr and message in failed.stderr
    assert len([ln for ln in failed.stderr.splitlines() if ln.startswith("error:")]) == 1


def test_a_product_change_in_a_template_needs_the_pricing_acknowledged(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    path = book / "templates" / "a-b-test.toml"
    edit(path, product={"key": "sig-m365", "payer": "client"})
    failed = cli.fails(2, "book", "plan", book)
    assert "EUR 2.50 per seat per month" in failed.stderr and "accept_pricing = true" in failed.stderr
    edit(path, product={"key": "sig-m365", "payer": "client", "accept_pricing": True})
    (change,) = plan(cli, book)["changes"]
    assert change["fields"] == {
        "product": {"from": None, "to": {"key": "sig-m365", "payer": "client", "seats": 1}}
    }


def test_file_names_and_references_stay_inside_the_book(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    (book / "clients" / "bad name.toml").write_text('name = "X"\n')
    assert "invalid reference 'bad name'" in cli.fails(2, "book", "plan", book).stderr
    (book / "clients" / "bad name.toml").unlink()
    (book / "clients" / "gar.toml").write_text('name = "X"\n')  # GAR.toml under another case
    if len(list((book / "clients").glob("*.toml"))) == 5:  # a case-insensitive file system has one file
        assert "references ignore case" in cli.fails(2, "book", "plan", book).stderr
    cli.fails(2, "book", "plan", tmp_path / "no-such-book")


# -- apply ------------------------------------------------------------------------------------------------


def change_everything(book: Path) -> None:
    """One change of every kind the book manages."""
    catalog = load(book / "catalog.toml")
    catalog["products"][1]["price_per_seat"] = "3"
    catalog["products"].append(
        {"key": "backup", "name": "Backup", "price_per_seat": "1.25", "currency": "DKK"}
    )
    catalog["integrations"].append({"key": "fortnox", "name": "Fortnox", "kind": "accounting"})
    save(book / "catalog.toml", catalog)
    users = load(book / "users.toml")
    users["users"][1].update(name="Bob Builder", role="admin")  # bob becomes admin
    users["users"][2]["active"] = False  # carl leaves
    users["users"].append({"email": "dora@acme.example", "name": "Dora", "language": "de"})
    save(book / "users.toml", users)
    edit(book / "templates" / "a-b-test.toml", default=True, groups=["Odd"], product={
        "key": "backup", "seats": 2, "accept_pricing": True})  # fmt: skip
    edit(book / "templates" / "standard.toml", default=False)
    save(book / "templates" / "new.toml", {"name": "New", "users": ["dora@acme.example"], "language": "de"})
    bak = load(book / "clients" / "BAK.toml")
    bak.update(name="Bakkerij Jansen BV", contact_name="", groups=["retail"], users=["dora@acme.example"],
               integrations={"exact": "pending", "fortnox": "connected"}, permissions=[])  # fmt: skip
    bak["shipping"]["city"] = "Zeist"
    bak["subscriptions"] = [
        {"product": "bk-year", "seats": 1, "status": "active"},  # resumed
        {"product": "sig-m365", "seats": 2, "payer": "partner"},  # the first (10 seats) becomes this
        {"product": "backup", "seats": 5, "status": "suspended"},  # added
    ]  # the second sig-m365 is cancelled
    save(book / "clients" / "BAK.toml", bak)
    edit(book / "clients" / "INV.toml", status="archived")
    save(book / "clients" / "NEW-1.toml", {"name": "New One", "status": "active", "currency": "DKK",
                                           "integrations": {"fortnox": "connected"},
                                           "subscriptions": [{"product": "backup", "seats": 3}]})  # fmt: skip
    (book / "clients" / "GAR.toml").unlink()


def test_apply_then_plan_is_no_change_with_one_audit_event_per_object(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    change_everything(book)
    out = tmp_path / "book.plan"
    planned = cli.ok("book", "plan", book, "--prune", "--out", out, "-o", "json").json()
    kinds = [(c["action"], c["kind"], c["key"]) for c in planned["changes"]]
    assert kinds == [
        ("create", "integration", "fortnox"), ("create", "product", "backup"), ("update", "product", "sig-m365"),
        ("update", "user", BOB), ("create", "user", "dora@acme.example"), ("update", "user", CARL),
        ("update", "template", "A/B: ../test"), ("create", "template", "New"), ("update", "template", "Standard"),
        ("update", "client", "BAK"), ("archive", "client", "GAR"), ("update", "client", "INV"),
        ("create", "client", "NEW-1"),
    ]  # fmt: skip
    before = cli.ok("audit", "list", "--limit", "1", "-o", "json").json()[0]["id"]
    applied = cli.ok("book", "apply", out)
    assert "the store now matches" in applied.stderr
    assert plan(cli, book, "--prune") == {"changes": [], "money": []}
    # Each object changed once in the audit log, marked as made by the book.
    events = [e for e in cli.ok("audit", "list", "--limit", "100", "-o", "json").json() if e["id"] > before]
    assert sorted((e["action"], e["key"]) for e in events) == sorted(
        (f"{kind}.{action}", key) for action, kind, key in kinds
    )
    assert all(e["after"]["via"] == "book" for e in events)
    bak_event = next(e for e in events if e["key"] == "BAK")
    assert (
        "subscription.cancel" in bak_event["after"]["steps"] and "client.edit" in bak_event["after"]["steps"]
    )
    # The store, seen through the ordinary commands.
    bak = cli.ok("client", "show", "BAK", "-o", "json").json()
    assert bak["name"] == "Bakkerij Jansen BV" and bak["contact_name"] is None and bak["permissions"] == []
    assert bak["integrations"] == ["exact (pending)", "fortnox (connected)"] and bak["assigned"] == [
        "dora@acme.example"
    ]
    assert bak["shipping_city"] == "Zeist"
    subs = cli.ok("subscription", "list", "--client", "BAK", "-o", "json").json()
    live = sorted(
        (s["product"], s["seats"], s["status"], s["payer"]) for s in subs if s["status"] != "cancelled"
    )
    assert live == [("backup", 5, "suspended", "partner"), ("bk-year", 1, "active", "partner"),
                    ("sig-m365", 2, "active", "partner")]  # fmt: skip
    assert cli.ok("client", "show", "GAR", "-o", "json").json()["status"] == "archived"
    assert cli.ok("client", "show", "NEW-1", "-o", "json").json()["status"] == "active"
    users = {u["email"]: u for u in cli.ok("user", "list", "-o", "json").json()}
    assert (
        users[BOB]["role"] == "admin"
        and not users[CARL]["active"]
        and users["dora@acme.example"]["language"] == "de"
    )
    templates = {t["name"]: t for t in cli.ok("template", "list", "-o", "json").json()}
    assert templates["A/B: ../test"]["default"] and not templates["Standard"]["default"]
    assert cli.ok("product", "list", "-o", "json").json()[2]["price_per_seat"] == "3"
    # Applying the same plan again: the store is no longer the one it was made for.
    assert "store changed since the plan" in cli.fails(4, "book", "apply", out).stderr


def test_a_stale_plan_is_refused_and_changes_nothing(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    edit(book / "clients" / "GAR.toml", name="Garage Berg BV")
    out = tmp_path / "p.plan"
    cli.ok("book", "plan", book, "--out", out)
    cli.ok("client", "tasks", "GAR", "--missing-receipts", "3")  # not a field the book reads
    cli.ok("client", "assign", "BAK", CARL)  # but this is
    refused = cli.fails(4, "book", "apply", out)
    assert "the store changed since the plan" in refused.stderr and "book plan" in refused.stderr
    assert cli.ok("client", "show", "GAR", "-o", "json").json()["name"] == "Garage Berg"
    # So is a plan whose files changed since.
    cli.ok("book", "plan", book, "--out", out)
    edit(book / "clients" / "BAK.toml", name="Other")
    assert "files in" in cli.fails(4, "book", "apply", out).stderr
    assert cli.ok("client", "show", "BAK", "-o", "json").json()["name"] == "Bakkerij Jansen"


def test_a_plan_that_cannot_be_applied_whole_applies_nothing(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    edit(book / "clients" / "GAR.toml", name="Garage Berg BV")  # fine on its own...
    edit(book / "clients" / "INV.toml", status="active")  # ...but an invitation is accepted, not edited
    out = tmp_path / "p.plan"
    cli.ok("book", "plan", book, "--out", out)
    failed = cli.fails(4, "book", "apply", out)
    assert "client INV: status cannot go from invited to active" in failed.stderr
    assert cli.ok("client", "show", "GAR", "-o", "json").json()["name"] == "Garage Berg"
    events = cli.ok("audit", "list", "--limit", "5", "-o", "json").json()
    assert not any(e["after"] and e["after"].get("via") == "book" for e in events)


def test_bookkeepers_see_their_own_book_and_cannot_apply(space, cli, tmp_path):
    book = tmp_path / "bob"
    cli.ok("--as", BOB, "book", "export", book)
    assert sorted(p.name for p in (book / "clients").iterdir()) == [
        "BAK.toml",
        "OLD.toml",
    ]  # OLD: via its template
    assert cli.ok("--as", BOB, "book", "plan", book, "--prune", "-o", "json").json()["changes"] == []
    # Files of clients a bookkeeper cannot see look like new clients to them, never like existing ones.
    save(book / "clients" / "GAR.toml", {"name": "Garage Berg"})
    edit(book / "clients" / "BAK.toml", language="nl")
    out = tmp_path / "bob.plan"
    planned = cli.ok("--as", BOB, "book", "plan", book, "--out", out, "-o", "json").json()
    assert [(c["action"], c["key"]) for c in planned["changes"]] == [("update", "BAK"), ("create", "GAR")]
    assert "only admins" in cli.fails(5, "--as", BOB, "book", "apply", out).stderr
    # An admin cannot apply a plan made for a bookkeeper's part of the book either.
    assert "made for the clients assigned to" in cli.fails(4, "book", "apply", out).stderr


def test_plan_out_replaces_a_plan_but_no_other_file(space, cli, tmp_path):
    book = exported(cli, tmp_path)
    other = tmp_path / "notes.txt"
    other.write_text("keep me\n")
    assert "not a partnerctl plan" in cli.fails(4, "book", "plan", book, "--out", other).stderr
    assert other.read_text() == "keep me\n"
    out = tmp_path / "p.plan"
    cli.ok("book", "plan", book, "--out", out)
    cli.ok("book", "plan", book, "--out", out)
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert "nothing to apply" in cli.ok("book", "apply", out).stderr
    assert "not a partnerctl plan" in cli.fails(2, "book", "apply", other).stderr
    cli.fails(2, "book", "apply", tmp_path / "missing.plan")


def test_a_book_restores_into_another_store(space, cli, tmp_path):
    """Export, then plan and apply the same files on a fresh store: everything is created, and the
    new store then plans no change against them."""
    book = exported(cli, tmp_path)
    other = ("--store", f"sqlite:///{tmp_path / 'other.db'}")
    cli.ok(*other, "init", "--partner", "Acme Partners", "--admin-email", ADMIN, "--admin-name", "Anna")
    out = tmp_path / "restore.plan"
    planned = cli.ok(*other, "book", "plan", book, "--out", out, "-o", "json").json()
    assert sorted({(c["action"], c["kind"]) for c in planned["changes"]}) == [
        ("create", "client"), ("create", "integration"), ("create", "product"), ("create", "template"),
        ("create", "user"),
    ]  # fmt: skip
    assert cli.ok(*other, "book", "plan", book, "-o", "ids").stdout.split().count("BAK") == 1
    cli.ok(*other, "book", "apply", out)
    assert cli.ok(*other, "book", "plan", book, "--prune", "-o", "json").json() == {
        "changes": [],
        "money": [],
    }
    shown = [cli.ok(*where, "client", "show", "BAK", "-o", "json").json() for where in ((), other)]
    for key in ("name", "status", "groups", "permissions", "assigned", "integrations", "billing_street"):
        assert shown[0][key] == shown[1][key], key


def test_a_clients_vat_number_is_in_the_book_and_applied_like_client_edit(space, cli, tmp_path):
    """The VAT number (issue 15) is a managed client field: exported, planned, applied, and checked
    against the billing country by the same rule as `client edit`."""
    cli.ok("client", "edit", "BAK", "--vat-number", "NL 004495445 B01")
    book = exported(cli, tmp_path)
    assert load(book / "clients/BAK.toml")["vat_number"] == "NL004495445B01"
    assert load(book / "clients/GAR.toml")["vat_number"] == ""
    assert plan(cli, book)["changes"] == []
    edit(book / "clients/BAK.toml", vat_number="nl004495445b01")  # the same number, another spelling
    assert plan(cli, book)["changes"] == []
    edit(book / "clients/BAK.toml", vat_number="")
    edit(book / "clients/GAR.toml", vat_number="DE136695976", billing={"country": "DE"})
    changes = {c["key"]: c["fields"] for c in plan(cli, book)["changes"]}
    assert changes["BAK"]["vat_number"] == {"from": "NL004495445B01", "to": None}
    assert changes["GAR"]["vat_number"] == {"from": None, "to": "DE136695976"}
    cli.ok("book", "plan", book, "--out", tmp_path / "plan.json")
    cli.ok("book", "apply", tmp_path / "plan.json")
    shown = {ref: cli.ok("client", "show", ref, "-o", "json").json() for ref in ("BAK", "GAR")}
    assert (shown["BAK"]["vat_number"], shown["GAR"]["vat_number"]) == (None, "DE136695976")
    assert plan(cli, book)["changes"] == []
    # A number that belongs to another country than the billing address is refused at apply (exit 2),
    # as `client edit` refuses it, and nothing is applied.
    edit(book / "clients/BAK.toml", vat_number="DE136695976", name="Renamed")
    cli.ok("book", "plan", book, "--out", tmp_path / "plan2.json")
    failed = cli.fails(2, "book", "apply", tmp_path / "plan2.json")
    assert "must agree" in failed.stderr
    assert cli.ok("client", "show", "BAK", "-o", "json").json()["name"] == "Bakkerij Jansen"
