"""`partnerctl template ...` through the CLI: defaults, versions, TOML files, diff/apply, concurrency."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers.store import ADMIN

BOB = "bob@acme.example"


def _catalogue(cli):
    cli.ok("user", "add", BOB)
    cli.ok("product", "add", "bk-plus", "--name", "BK Plus", "--price-per-seat", "12.5", "--currency", "EUR")
    cli.ok("integration", "add", "exact", "--name", "Exact Online")
    cli.ok("integration", "add", "sso", "--name", "SSO")


def templates(cli):
    return {t["name"]: t for t in cli.ok("template", "list", "-o", "json").json()}


def test_template_lifecycle(initialized, cli):
    _catalogue(cli)
    assert [(n, t["default"]) for n, t in templates(cli).items()] == [("Standard", True)]
    # A product needs the pricing acknowledged; the refusal shows the price.
    refused = cli.fails(2, "template", "add", "Small", "--product", "bk-plus")
    assert "EUR 12.50 per seat per month" in refused.stderr and "--accept-pricing" in refused.stderr
    cli.ok(
        "template", "add", "Small", "--description", "Small firms", "--user", BOB,
        "--product", "bk-plus", "--payer", "client", "--accept-pricing", "--integration", "exact",
        "--currency", "dkk", "--language", "da", "--permission", "invoices", "--group", "Small",
    )  # fmt: skip
    cli.fails(4, "template", "add", "SMALL")
    for bad in (["--user", "ghost@acme.example"], ["--integration", "nope"], ["--currency", "EUX"],
                ["--language", "xx"], ["--permission", "payroll"], ["--payer", "client"]):  # fmt: skip
        cli.fails(2, "template", "add", "Bad", *bad)
    small = cli.ok("template", "show", "small", "-o", "json").json()
    assert small["users"] == [BOB] and small["product"] == "bk-plus x1 (client pays)"
    assert (small["currency"], small["language"], small["version"]) == ("DKK", "da", 1)

    cli.ok("client", "add", "Early", "--template", "small")
    cli.ok(
        "template", "edit", "small", "--currency", "SEK", "--remove-user", BOB, "--integration", "sso",
        "--remove-integration", "exact", "--permission", "support", "--group", "Nordic", "--remove-group", "Small",
    )  # fmt: skip
    small = cli.ok("template", "show", "small", "-o", "json").json()
    assert small["version"] == 2 and small["currency"] == "SEK" and small["users"] == []
    assert small["integrations"] == ["sso"] and small["permissions"] == ["invoices", "support"]
    assert small["groups"] == ["Nordic"]
    cli.ok("template", "edit", "small", "--no-product", "--no-language")
    assert cli.ok("template", "show", "small", "-o", "json").json()["version"] == 3
    cli.fails(2, "template", "edit", "small", "--no-product")  # nothing changes: no version bump
    # Edits never change existing clients.
    early = cli.ok("client", "show", "early", "-o", "json").json()
    assert early["currency"] == "DKK" and early["assigned"] == [BOB] and early["template_version"] == 1
    cli.ok("client", "add", "Late", "--template", "small")
    late = cli.ok("client", "show", "late", "-o", "json").json()
    assert late["currency"] == "SEK" and late["template_version"] == 3 and late["subscriptions"] == []

    # Exactly one default; the default cannot be removed.
    cli.ok("template", "set-default", "small")
    assert [n for n, t in templates(cli).items() if t["default"]] == ["Small"]
    refused = cli.fails(4, "template", "remove", "small")
    assert "template set-default" in refused.stderr
    cli.ok("client", "add", "Defaulted")
    assert cli.ok("client", "show", "defaulted", "-o", "json").json()["template"] == "Small"
    cli.ok("template", "set-default", "Standard")
    cli.ok("template", "remove", "small")
    assert list(templates(cli)) == ["Standard"]
    assert cli.ok("client", "show", "early", "-o", "json").json()["currency"] == "DKK"  # kept its settings
    cli.fails(3, "template", "show", "small")
    cli.fails(5, "--as", BOB, "template", "add", "Mine")
    cli.fails(5, "--as", BOB, "template", "set-default", "Standard")
    actions = {e["action"] for e in cli.ok("audit", "list", "--action", "template", "-o", "json").json()}
    assert {"template.add", "template.edit", "template.set-default", "template.remove"} <= actions


def test_export_import_round_trip(initialized, cli, tmp_path):
    _catalogue(cli)
    cli.ok(
        "template", "add", "Big Firms", "--description", "Large \"quoted\" clients", "--user", BOB,
        "--product", "bk-plus", "--seats", "5", "--accept-pricing", "--integration", "exact",
        "--integration", "sso", "--language", "de", "--permission", "projects", "--group", "Big", "--default",
    )  # fmt: skip
    path = tmp_path / "big.toml"
    cli.ok("template", "export", "big firms", "-f", str(path))
    exported = path.read_text()
    assert 'name = "Big Firms"' in exported and "accept_pricing = true" in exported
    assert cli.ok("template", "export", "Big Firms").stdout == exported  # stdout == file
    cli.fails(4, "template", "import", str(path))  # exists
    cli.ok("template", "set-default", "Standard")
    cli.ok("template", "remove", "Big Firms")
    cli.ok("template", "import", str(path))
    assert cli.ok("template", "export", "Big Firms").stdout == exported  # reproduced exactly
    assert [n for n, t in templates(cli).items() if t["default"]] == ["Big Firms"]
    # --replace overwrites and bumps the version when something differs.
    path.write_text(exported.replace('language = "de"', 'language = "fr"'))
    cli.ok("template", "import", str(path), "--replace")
    shown = cli.ok("template", "show", "Big Firms", "-o", "json").json()
    assert shown["language"] == "fr" and shown["version"] == 2
    # Bad files are one-line exit 2 errors.
    (tmp_path / "bad.toml").write_text("name = [")
    cli.fails(2, "template", "import", str(tmp_path / "bad.toml"))
    (tmp_path / "unknown.toml").write_text('name = "X"\ncolour = "red"\n')
    assert "colour" in cli.fails(2, "template", "import", str(tmp_path / "unknown.toml")).stderr
    (tmp_path / "price.toml").write_text('name = "X"\n[product]\nkey = "bk-plus"\n')
    cli.fails(2, "template", "import", str(tmp_path / "price.toml"))
    cli.fails(2, "template", "import", str(tmp_path / "missing.toml"))


def test_diff_and_apply(initialized, cli):
    _catalogue(cli)
    cli.ok("template", "add", "t", "--currency", "DKK", "--group", "G1", "--user", BOB)
    cli.ok("client", "add", "One", "--template", "t")
    cli.ok("client", "add", "Two", "--template", "t")
    cli.ok("client", "add", "Other")
    diff = cli.ok("template", "diff", "one", "-o", "json").json()
    assert all(not r["differs"] for r in diff)
    cli.ok(
        "template", "edit", "t", "--currency", "NOK", "--group", "G2", "--integration", "exact",
        "--product", "bk-plus", "--accept-pricing", "--permission", "support",
    )  # fmt: skip
    cli.ok("client", "edit", "two", "--add-group", "G2")
    diff = {r["setting"]: r for r in cli.ok("template", "diff", "one", "-o", "json").json()}
    assert (
        diff["currency"]["differs"]
        and diff["currency"]["client"] == "DKK"
        and diff["currency"]["template"] == "NOK"
    )
    assert diff["groups"]["differs"] and not diff["users"]["differs"]
    assert diff["integrations"]["differs"] and diff["product"]["differs"] and diff["permissions"]["differs"]
    # Dry run shows the changes and changes nothing.
    dry = cli.ok("template", "apply", "t", "--all-from", "t", "--dry-run", "-o", "json").json()
    assert {(r["client"], r["setting"]) for r in dry} >= {
        ("one", "currency"),
        ("one", "groups"),
        ("two", "currency"),
    }
    assert ("two", "groups") not in {(r["client"], r["setting"]) for r in dry}
    assert cli.ok("client", "show", "one", "-o", "json").json()["currency"] == "DKK"
    cli.ok("template", "apply", "t", "--client", "one")
    one = cli.ok("client", "show", "one", "-o", "json").json()
    assert one["currency"] == "NOK" and one["groups"] == ["G1", "G2"] and one["permissions"] == ["support"]
    assert one["integrations"] == ["exact (pending)"] and one["subscriptions"] == [
        "bk-plus x1 (active, partner pays)"
    ]
    assert one["template_version"] == 2
    assert all(not r["differs"] for r in cli.ok("template", "diff", "one", "-o", "json").json())
    # Applying again changes nothing; applying to a client of another template works on purpose.
    assert cli.ok("template", "apply", "t", "--client", "one", "-o", "json").json() == []
    cli.ok("template", "apply", "t", "--client", "other")
    assert cli.ok("client", "show", "other", "-o", "json").json()["template"] == "t"
    cli.fails(3, "template", "diff", "nope")
    cli.fails(2, "template", "apply", "t")  # no clients named
    cli.fails(3, "template", "apply", "missing", "--client", "one")


@pytest.mark.slow
def test_database_keeps_one_default_under_concurrent_set_default(initialized, cli):
    for name in ("A", "B", "C"):
        cli.ok("template", "add", name)
    # Each round starts three processes at once; without the lock two could clear the old default
    # concurrently and then both set theirs (the partial unique index would then fail one of them).
    for _round in range(2):
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "partnerctl", "--as", ADMIN, "template", "set-default", name],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for name in (("A", "B", "C") if _round == 0 else ("Standard", "B", "A"))
        ]
        results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        assert [code for code, _ in results] == [0, 0, 0], results
        defaults = [n for n, t in templates(cli).items() if t["default"]]
        assert len(defaults) == 1
