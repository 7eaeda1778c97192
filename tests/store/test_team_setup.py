"""The team set-up of the README, end to end on PostgreSQL: a DBA makes an owner role with
CREATEROLE and its database; the owner runs `init` (the migrations run as that non-superuser:
pgcrypto, the group roles, policies and grants); the admin adds bookkeepers with their own roles."""

from __future__ import annotations

from tests.helpers.store import ADMIN

BOB = "bob@acme.example"


def test_the_owner_sets_up_a_team_store(pg_roles, cli, monkeypatch):
    owner = pg_roles.login("owner", createrole=True)
    database = pg_roles.own_database(owner)
    url = pg_roles.url(owner, database)
    monkeypatch.setenv("PARTNERCTL_STORE", url)
    done = cli.ok("init", "--partner", "Acme Partners", "--admin-email", ADMIN, "--admin-name", "Anna")
    assert "superuser" not in done.stderr
    assert cli.ok("user", "show", ADMIN, "-o", "json").json()["db_role"] == owner
    bob_role = pg_roles.name("bob")
    cli.ok("user", "add", BOB, "--role", "bookkeeper", "--db-role", bob_role)
    cli.ok("client", "add", "Bakkerij Jansen", "--ref", "BAK", "--no-template")
    cli.ok("client", "add", "Garage Berg", "--ref", "GAR", "--no-template")
    cli.ok("client", "assign", "BAK", BOB)
    # The owner is held to the policies too (FORCE): as an admin, it sees everything.
    assert len(cli.ok("client", "list", "-o", "json").json()) == 2
    bob = ("--store", pg_roles.url(bob_role, database))
    assert [c["ref"] for c in cli.ok(*bob, "client", "list", "-o", "json").json()] == ["BAK"]
    # Running init again changes nothing.
    assert (
        "already initialised" in cli.ok("init", "--partner", "Acme Partners", "--admin-email", ADMIN).stderr
    )


def test_init_without_createrole_names_the_sql_for_a_dba(pg_roles, cli, monkeypatch):
    owner = pg_roles.login("owner")
    database = pg_roles.own_database(owner)
    monkeypatch.setenv("PARTNERCTL_STORE", pg_roles.url(owner, database))
    result = cli.fails(5, "init", "--partner", "Acme Partners", "--admin-email", ADMIN)
    assert "CREATE ROLE" in result.stderr and f'TO "{owner}" WITH ADMIN OPTION' in result.stderr
    # Nothing was half made: the migration runs in one transaction.
    assert cli.ok("store", "info", "-o", "json").json()["revision"] is None


def test_init_as_a_superuser_says_row_level_security_will_not_hold_it(pg_store, cli):
    done = cli.ok("init", "--partner", "Acme Partners", "--admin-email", ADMIN)
    assert "role postgres is a superuser (or BYPASSRLS): row-level security does not hold it" in done.stderr
