"""Acting for another user (--as / PARTNERCTL_USER): only an admin may, and the audit log names both.

On SQLite the real user is the profile's (a guard against mistakes: the file is one operator's);
on PostgreSQL it is the connection's role (tests/commands/test_roles.py).
"""

from __future__ import annotations

import pytest

from tests.helpers.store import ADMIN

BOB = "bob@acme.example"


def test_an_admins_as_is_audited_with_both_users(initialized, cli):
    cli.ok("user", "add", BOB)
    cli.ok("client", "add", "Bakkerij Jansen", "--ref", "BAK", "--no-template")
    cli.ok("client", "assign", "BAK", BOB)
    cli.ok("--as", BOB, "client", "tasks", "BAK", "--missing-receipts", "2")
    cli.ok("client", "tasks", "BAK", "--missing-receipts", "3", env={"PARTNERCTL_USER": BOB})
    events = cli.ok("audit", "list", "--action", "client.tasks", "-o", "json").json()
    assert [(e["actor"], e["on_behalf_of"]) for e in events] == [(ADMIN, BOB), (ADMIN, BOB)]
    cli.ok("client", "tasks", "BAK", "--missing-receipts", "4")
    mine = cli.ok("audit", "list", "--action", "client.tasks", "-o", "json").json()[0]
    assert (mine["actor"], mine["on_behalf_of"]) == (ADMIN, None)
    assert len(cli.ok("audit", "list", "--actor", BOB, "-o", "json").json()) == 2


@pytest.mark.parametrize("backend", ["sqlite"])
def test_on_sqlite_a_bookkeepers_profile_cannot_act_as_an_admin(initialized, cli):
    cli.ok("user", "add", BOB)
    cli.ok("profile", "add", "bob", "--store", initialized, "--user", BOB)
    result = cli.fails(5, "--profile", "bob", "--as", ADMIN, "user", "list")
    assert result.stderr.startswith(f"error: only an admin may act as another user (--as {ADMIN}); {BOB}")
    cli.fails(5, "--profile", "bob", "user", "list", env={"PARTNERCTL_USER": ADMIN})
    cli.ok("--profile", "bob", "--as", BOB, "user", "list")  # naming oneself is no impersonation
    cli.ok("--profile", "bob", "user", "list")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_db_role_is_for_postgresql(initialized, cli):
    result = cli.fails(2, "user", "add", BOB, "--db-role", "bob")
    assert "PostgreSQL" in result.stderr
    cli.ok("user", "add", BOB)
    cli.fails(2, "user", "link", BOB, "--db-role", "bob")
    assert cli.ok("user", "show", BOB, "-o", "json").json()["db_role"] is None
