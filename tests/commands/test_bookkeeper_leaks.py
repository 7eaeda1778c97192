"""What a bookkeeper sees beyond their clients: nothing, on either store. Here the services' own
filters are under test (on SQLite, and on PostgreSQL as the superuser, who bypasses row-level
security), with an admin acting for bob; tests/commands/test_roles_bookkeeper.py runs the same
commands as bob's own login role."""

from __future__ import annotations

import json

import pytest

from tests.helpers.store import ADMIN

BOB = ("--as", "bob@acme.example")
MONDAY = "2026-03-16T09:05:00+00:00"


@pytest.fixture
def firm(initialized, cli, tmp_path):
    """BAK is bob's client, GAR is not. Tenants: Bakery Berlin (BAK), Garage Tenant (GAR) and, below
    the garage's tenant, Bakery Branch (BAK); each with an administrator and a content item."""
    cli.ok("user", "add", "bob@acme.example")
    cli.ok("client", "add", "Bakkerij Jansen", "--ref", "BAK", "--no-template")
    cli.ok("client", "add", "Garage Berg", "--ref", "GAR", "--no-template")
    cli.ok("client", "assign", "BAK", "bob@acme.example")
    item = tmp_path / "item.txt"
    item.write_text("hello", encoding="utf-8")
    for name, ref, parent, admin in (
        ("Bakery Berlin", "BAK", None, "eva@bak.example"),
        ("Garage Tenant", "GAR", None, "gus@gar.example"),
        ("Bakery Branch", "BAK", "Garage Tenant", "ben@bak.example"),
    ):
        cli.ok("tenant", "add", name, "--client", ref, *(("--parent", parent) if parent else ()))
        cli.ok("tenant", "admin", "add", name, "--email", admin, "--generate-password")
        cli.ok("tenant", "content", "add", name, "welcome", "--file", str(item))
    return initialized


def test_tenant_list_and_show_keep_to_their_clients(firm, cli):
    listed = cli.ok(*BOB, "tenant", "list", "-o", "json").json()
    assert sorted(t["name"] for t in listed) == ["Bakery Berlin", "Bakery Branch"]
    assert {t["client"] for t in listed} == {"BAK"}
    # A parent they may not see is not named (the garage's tenant, or the master tenant).
    assert {t["parent"] for t in listed} == {None}
    text = cli.ok(*BOB, "tenant", "list").stdout
    assert "GAR" not in text and "Garage" not in text and "Acme Partners" not in text
    shown = cli.ok(*BOB, "tenant", "show", "Bakery Branch", "-o", "json").json()
    assert shown["parent"] is None and shown["client"] == "BAK"
    for other in ("Garage Tenant", "Acme Partners"):
        assert "no tenant" in cli.fails(3, *BOB, "tenant", "show", other).stderr
        cli.fails(3, *BOB, "tenant", "use", other)
    cli.fails(3, *BOB, "tenant", "list", "--parent", "Garage Tenant")
    # Admins see everything, parents named.
    everything = {t["name"]: t for t in cli.ok("tenant", "list", "-o", "json").json()}
    assert everything["Bakery Branch"]["parent"] == "Garage Tenant" and len(everything) == 4


def test_a_bookkeepers_tenant_tree_is_a_forest_of_their_tenants(firm, cli):
    forest = cli.ok(*BOB, "tenant", "tree", "-o", "json").json()
    assert sorted(n["name"] for n in forest) == ["Bakery Berlin", "Bakery Branch"]
    assert all(n.get("children", []) == [] for n in forest)
    rows = cli.ok(*BOB, "tenant", "tree", "-o", "tsv").stdout
    assert "Garage" not in rows and "Acme Partners" not in rows
    drawn = cli.ok(*BOB, "tenant", "tree").stdout
    assert "Bakery Berlin" in drawn and "Garage" not in drawn
    cli.fails(3, *BOB, "tenant", "tree", "Garage Tenant")
    assert cli.ok(*BOB, "tenant", "tree", "Bakery Branch", "-o", "json").json()["name"] == "Bakery Branch"
    assert cli.ok("tenant", "tree", "-o", "json").json()["name"] == "Acme Partners"


def test_tenant_admin_and_content_lists_only_for_their_tenants(firm, cli):
    assert [
        a["email"] for a in cli.ok(*BOB, "tenant", "admin", "list", "Bakery Berlin", "-o", "json").json()
    ] == ["eva@bak.example"]
    assert [
        c["name"] for c in cli.ok(*BOB, "tenant", "content", "list", "Bakery Branch", "-o", "json").json()
    ] == ["welcome"]
    for group in ("admin", "content"):
        result = cli.fails(3, *BOB, "tenant", group, "list", "Garage Tenant")
        assert "gus@" not in result.stdout + result.stderr
    cli.ok("tenant", "use", "Garage Tenant")  # anna's current tenant: still not bob's
    cli.fails(3, *BOB, "tenant", "admin", "list")


def test_store_info_counts_and_backup_are_for_admins(firm, cli, backend, tmp_path):
    info = cli.ok(*BOB, "store", "info", "-o", "json").json()
    assert "counts" not in info and info["up_to_date"] is True
    assert "rows." not in cli.ok(*BOB, "store", "info").stdout
    assert cli.ok("store", "info", "-o", "json").json()["counts"]["clients"] == 2
    cli.fails(5, *BOB, "store", "backup", str(tmp_path / "copy.db"))
    assert not (tmp_path / "copy.db").exists()
    if backend == "sqlite":
        cli.ok("store", "backup", str(tmp_path / "copy.db"))
    else:
        assert "pg_dump" in cli.fails(2, "store", "backup", str(tmp_path / "copy.db")).stderr


def test_reminders_end_when_the_bookkeeper_is_unassigned(firm, cli):
    cli.ok(*BOB, "reminder", "subscribe", "BAK", "-f", "weekly")
    assert [r["client"] for r in cli.ok(*BOB, "reminder", "list", "-o", "json").json()] == ["BAK"]
    cli.ok("client", "unassign", "BAK", "bob@acme.example")
    assert cli.ok(*BOB, "reminder", "list", "-o", "json").json() == []
    assert cli.ok("reminder", "list", "--all", "-o", "json").json() == []
    preview = cli.ok(*BOB, "reminder", "preview", "--user", "bob@acme.example", "--now", MONDAY, "-o", "json")
    assert "BAK" not in json.dumps(preview.json())
    plan = cli.ok("reminder", "send", "--now", MONDAY, "--dry-run", "-o", "json").json()
    assert [p for p in plan if p["user"] == "bob@acme.example"] == []
    # Assigned again, the subscription counts again.
    cli.ok("client", "assign", "BAK", "bob@acme.example")
    assert [r["client"] for r in cli.ok(*BOB, "reminder", "list", "-o", "json").json()] == ["BAK"]


def test_client_show_names_only_their_own_assignment(firm, cli):
    cli.ok("user", "add", "carl@acme.example")
    cli.ok("client", "assign", "BAK", "carl@acme.example")
    assert cli.ok(*BOB, "client", "show", "BAK", "-o", "json").json()["assigned"] == ["bob@acme.example"]
    assert cli.ok("client", "show", "BAK", "-o", "json").json()["assigned"] == [
        "bob@acme.example", "carl@acme.example",
    ]  # fmt: skip
    assert ADMIN not in cli.ok(*BOB, "client", "list", "-o", "json").stdout
