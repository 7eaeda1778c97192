"""Users, roles, acting users, the catalogues, audit and output formats through the CLI."""

import csv
import io

from tests.helpers.store import ADMIN


def test_user_lifecycle_and_audit(initialized, cli):
    cli.ok("user", "add", "Bob@Acme.Example", "--name", "Bob", "--language", "nl")
    bob = cli.ok("user", "show", "bob@acme.example", "-o", "json").json()
    assert bob["email"] == "bob@acme.example"
    assert bob["role"] == "bookkeeper"
    assert bob["language"] == "nl"
    cli.ok("user", "edit", "bob@acme.example", "--role", "admin", "--name", "Bobby")
    assert cli.ok("user", "show", "bob@acme.example", "-o", "json").json()["role"] == "admin"
    cli.ok("user", "deactivate", "bob@acme.example")
    assert cli.ok("user", "show", "bob@acme.example", "-o", "json").json()["active"] is False
    actions = [e["action"] for e in cli.ok("audit", "list", "--action", "user", "-o", "json").json()]
    assert actions[:3] == ["user.deactivate", "user.edit", "user.add"]
    edit = cli.ok("audit", "list", "--action", "user.edit", "-o", "json").json()[0]
    assert edit["before"]["role"] == "bookkeeper" and edit["after"]["role"] == "admin"
    assert edit["actor"] == ADMIN


def test_user_errors(initialized, cli):
    cli.fails(2, "user", "add", "not-an-email")
    cli.fails(2, "user", "add", "c@acme.example", "--role", "owner")
    cli.fails(2, "user", "add", "c@acme.example", "--language", "xx")
    cli.ok("user", "add", "c@acme.example")
    cli.fails(4, "user", "add", "C@acme.example")
    cli.fails(3, "user", "show", "nobody@acme.example")
    # The last admin cannot be demoted or deactivated.
    cli.fails(4, "user", "edit", ADMIN, "--role", "bookkeeper")
    cli.fails(4, "user", "deactivate", ADMIN)


def test_acting_user_rules(initialized, cli):
    cli.ok("user", "add", "bob@acme.example")
    cli.fails(5, "--as", "bob@acme.example", "user", "add", "x@acme.example")
    cli.fails(5, "--as", "ghost@acme.example", "user", "list")
    cli.fails(5, "user", "list", env={"PARTNERCTL_USER": "ghost@acme.example"})
    cli.ok("user", "deactivate", "bob@acme.example")
    result = cli.fails(5, "--as", "bob@acme.example", "user", "list")
    assert "deactivated" in result.stderr
    # Bookkeepers can read the user list but not the audit log.
    cli.ok("user", "add", "carl@acme.example")
    cli.ok("--as", "carl@acme.example", "user", "list")
    cli.fails(5, "--as", "carl@acme.example", "audit", "list")


def test_no_acting_user_is_exit_7(store_url, cli):
    result = cli.fails(7, "user", "list")
    assert "--as" in result.stderr


def test_output_formats(initialized, cli):
    cli.ok("user", "add", "bob@acme.example", "--name", "Bob, Jr.")
    assert cli.ok("user", "list", "-o", "ids").stdout.split() == [ADMIN, "bob@acme.example"]
    rows = list(csv.DictReader(io.StringIO(cli.ok("user", "list", "-o", "csv").stdout)))
    assert rows[1]["name"] == "Bob, Jr."
    tsv = cli.ok("user", "list").stdout.splitlines()  # not a terminal: TSV
    assert tsv[0].split("\t")[:3] == ["email", "name", "role"]
    table = cli.ok("user", "list", "-o", "table").stdout
    assert "bob@acme.example" in table
    jsonl = cli.ok("user", "list", "--output=jsonl").stdout.splitlines()
    assert len(jsonl) == 2
    # Global options work before the subcommand too, and bad values are usage errors.
    assert cli.ok("-o", "ids", "user", "list").stdout.split()[0] == ADMIN
    cli.fails(2, "user", "list", "-o", "yaml")


def test_catalogues(initialized, cli):
    cli.ok(
        "product",
        "add",
        "bk-plus",
        "--name",
        "Bookkeeping Plus",
        "--price-per-seat",
        "12.10",
        "--currency",
        "eur",
    )
    cli.ok(
        "product",
        "add",
        "jp",
        "--name",
        "Japan",
        "--price-per-seat",
        "1000",
        "--currency",
        "JPY",
        "--period",
        "yearly",
    )
    products = {p["key"]: p for p in cli.ok("product", "list", "-o", "json").json()}
    assert products["bk-plus"]["price_per_seat"] == "12.1"
    assert products["bk-plus"]["currency"] == "EUR"
    assert products["jp"]["period"] == "yearly"
    cli.fails(4, "product", "add", "bk-plus", "--name", "Again", "--price-per-seat", "1")
    cli.fails(2, "product", "add", "x", "--name", "X", "--price-per-seat", "abc")
    cli.fails(2, "product", "add", "x", "--name", "X", "--price-per-seat", "-1")
    cli.fails(2, "product", "add", "x", "--name", "X", "--price-per-seat", "1", "--currency", "EUX")
    cli.fails(2, "product", "add", "x", "--name", "X", "--price-per-seat", "1", "--period", "weekly")
    cli.ok("integration", "add", "exact-online", "--name", "Exact Online", "--kind", "accounting")
    assert cli.ok("integration", "list", "-o", "ids").stdout.split() == ["exact-online"]
    cli.fails(2, "integration", "add", "x", "--name", "X", "--kind", "crm")
    cli.ok("user", "add", "bob@acme.example")
    cli.fails(5, "--as", "bob@acme.example", "product", "add", "y", "--name", "Y", "--price-per-seat", "1")
    actions = {e["action"] for e in cli.ok("audit", "list", "-o", "json").json()}
    assert {"product.add", "integration.add"} <= actions


def test_unexpected_errors_are_one_line_without_traceback(initialized, cli, monkeypatch):
    from partnerctl.services import users

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(users, "list_users", boom)
    result = cli.fails(1, "user", "list")
    assert "disk on fire" in result.stderr
