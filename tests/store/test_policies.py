"""Row-level security, grants and triggers on PostgreSQL, checked with raw SQL as the team's own
roles (not superusers): no partnerctl code between the test and the database."""

from __future__ import annotations

import psycopg
import pytest
from sqlmodel import SQLModel

import partnerctl.store.models  # noqa: F401
from partnerctl.store.policies import CLIENT_ROWS, ROW_RULES


def _ids(team, *refs: str) -> list[int]:
    with team.connect(team.admin_role) as conn:
        return [conn.execute("SELECT id FROM clients WHERE ref = %s", (r,)).fetchone()[0] for r in refs]


def _refused(conn, statement: str, params=()) -> str:
    """Run a statement that the database must refuse; its error message (the transaction is reset)."""
    with pytest.raises(psycopg.Error) as exc:
        conn.execute(statement, params)
    conn.rollback()
    return str(exc.value)


def test_a_bookkeeper_sees_and_changes_only_their_clients(team):
    (gar,) = _ids(team, "GAR")
    with team.connect(team.bob_role) as conn:
        assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 1
        assert conn.execute("SELECT ref FROM clients").fetchall() == [("BAK",)]
        # Another client's row: the UPDATE finds nothing to change.
        assert conn.execute("UPDATE clients SET name = 'mine now' WHERE id = %s", (gar,)).rowcount == 0
        assert conn.execute("UPDATE clients SET missing_receipts = 3 WHERE ref = 'BAK'").rowcount == 1
        conn.commit()
        # A row for another client: refused by the policy's WITH CHECK.
        message = _refused(conn, "INSERT INTO client_groups (client_id, group_name) VALUES (%s, 'x')", (gar,))
        assert "row-level security" in message
        # Status, and new clients, are not theirs to write at all (grants).
        assert "permission denied" in _refused(conn, "UPDATE clients SET status = 'archived'")
        assert "permission denied" in _refused(
            conn, "INSERT INTO clients (ref, ref_key, name, name_key) VALUES ('X', 'x', 'X', 'x')"
        )
        assert conn.execute("SELECT count(*) FROM client_assignments").fetchone()[0] == 1
    with team.connect(team.admin_role) as conn:
        assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 2
        assert conn.execute("SELECT name FROM clients WHERE id = %s", (gar,)).fetchone()[0] == "Garage Berg"


def test_the_audit_log_is_append_only_for_everyone(team, pg_store):
    # Bookkeepers and admins hold INSERT and SELECT only (grants)...
    for role in (team.bob_role, team.admin_role):
        with team.connect(role) as conn:
            for statement in (
                "DELETE FROM audit_events",
                "UPDATE audit_events SET actor = 'x'",
                "TRUNCATE audit_events",
            ):
                assert "permission denied for table audit_events" in _refused(conn, statement)
            assert (
                conn.execute("SELECT count(*) FROM audit_events").fetchone()[0] > 0 or role == team.bob_role
            )
    # ...and the table owner, who holds every privilege, meets the trigger (here the superuser that
    # migrated the store: triggers hold for superusers too).
    from sqlalchemy.engine import make_url

    url = make_url(pg_store)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database) as conn:
        assert "append-only" in _refused(conn, "DELETE FROM audit_events")
        assert "append-only" in _refused(conn, "UPDATE audit_events SET actor = 'nobody'")
        assert "append-only" in _refused(conn, "TRUNCATE audit_events")
        # Every event says which role wrote it; nobody can claim another.
        roles = {r[0] for r in conn.execute("SELECT DISTINCT db_role FROM audit_events")}
        assert roles == {team.admin_role}


def test_nobody_but_the_owner_reads_hashes_or_the_pepper(team, cli):
    cli.ok("tenant", "add", "Bakery Berlin", "--client", "BAK")
    cli.ok("tenant", "admin", "add", "Bakery Berlin", "--email", "eva@bakery.example", "--generate-password")
    for role in (team.bob_role, team.admin_role):
        with team.connect(role) as conn:
            assert "permission denied" in _refused(conn, "SELECT password_hash FROM tenant_admins")
            assert "permission denied" in _refused(conn, "SELECT pw_fingerprint FROM tenant_admins")
            assert "permission denied" in _refused(conn, "SELECT pepper FROM tenant_credential_keys")
            assert "permission denied" in _refused(conn, "SELECT * FROM tenant_admins")
    with team.connect(team.admin_role) as conn:
        # What admins may read: the administrators' public columns.
        assert conn.execute("SELECT email FROM tenant_admins").fetchall() == [("eva@bakery.example",)]


def test_act_as_is_honoured_for_admins_only(team):
    with team.connect(team.admin_role) as conn:
        anna, bob = (
            conn.execute("SELECT id FROM users WHERE email = %s", (e,)).fetchone()[0]
            for e in ("anna@acme.example", "bob@acme.example")
        )
        conn.execute("SELECT set_config('partnerctl.act_as', %s, true)", (str(bob),))
        assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 1
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 2
    with team.connect(team.bob_role) as conn:
        conn.execute("SELECT set_config('partnerctl.act_as', %s, false)", (str(anna),))
        assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 1


def test_a_temporary_table_cannot_stand_in_for_users(team):
    """The SECURITY DEFINER functions search pg_temp last: a bookkeeper's own `users` changes nothing."""
    with team.connect(team.bob_role) as conn:
        conn.execute("CREATE TEMP TABLE users (id int, email text, role text, active bool, db_role text)")
        conn.execute("INSERT INTO users VALUES (1, 'anna@acme.example', 'admin', true, session_user)")
        assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 1
        assert conn.execute("SELECT partnerctl_is_admin()").fetchone()[0] is False


def test_a_role_linked_to_no_user_sees_nothing(team, pg_roles):
    stranger = pg_roles.login("stranger")
    with team.connect(stranger) as conn:
        assert "permission denied" in _refused(conn, "SELECT count(*) FROM clients")


def test_every_table_keyed_by_a_client_is_protected(pg_store):
    """CLIENT_ROWS is the one list: a table with a client_id, or reaching one through a foreign key,
    must be in it (so a future table cannot be forgotten), and the database must enforce it."""
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    keyed = {"clients"}
    changed = True
    while changed:
        changed = False
        for name, table in tables.items():
            reaches = "client_id" in table.c or any(
                fk.column.table.name in keyed for fk in table.foreign_keys if fk.parent.name != "parent_id"
            )
            if reaches and name not in keyed:
                keyed.add(name)
                changed = True
    assert keyed <= set(CLIENT_ROWS), sorted(keyed - set(CLIENT_ROWS))
    from sqlalchemy.engine import make_url

    url = make_url(pg_store)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database) as conn:
        rows = conn.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
        ).fetchall()
    protected = {name for name, enabled, forced in rows if enabled and forced}
    assert set(ROW_RULES) <= protected


def test_outbox_rows_name_their_client_and_follow_it(team, cli, tmp_path):
    """Welcome (client add and import), invitation and nudge mail carry their client; a bookkeeper's
    view of the outbox (here an admin acting for bob, raw SQL) is their clients' mail and their own
    digests. Bookkeepers hold no privilege on the outbox at all."""
    cli.ok("product", "add", "sig", "--name", "Signatures", "--price-per-seat", "2.50")
    cli.ok("client", "add", "Welkom BV", "--ref", "WEL", "--no-template", "--contact-email", "w@wel.example",
           "--welcome")  # fmt: skip
    rows = tmp_path / "new.csv"
    rows.write_text("ref,name,contact_email,welcome\nIMP,Imported BV,i@imp.example,yes\n", encoding="utf-8")
    cli.ok("client", "import", str(rows))
    cli.ok("subscription", "add", "BAK", "--product", "sig", "--payer", "client", "--allow-client-edit",
           "--contact-name", "Piet", "--contact-email", "piet@bak.example")  # fmt: skip
    cli.ok("reminder", "nudge", "BAK", "--task", "missing-receipts")
    cli.ok("reminder", "subscribe", "BAK", "-f", "daily", "--user", "bob@acme.example", "-t", "balance")
    cli.ok("client", "tasks", "BAK", "--wallet-balance", "-5")
    cli.ok("reminder", "send", "--send-empty")
    with team.connect(team.admin_role) as conn:
        kinds = dict(
            conn.execute(
                "SELECT o.kind || ':' || coalesce(c.ref, '-'), count(*) FROM outbox o "
                "LEFT JOIN clients c ON c.id = o.client_id GROUP BY 1"
            ).fetchall()
        )
        assert {"welcome:WEL", "welcome:IMP", "subscription_invite:BAK", "nudge:BAK", "digest:-"} <= set(
            kinds
        )
        bob_id = conn.execute("SELECT id FROM users WHERE email = 'bob@acme.example'").fetchone()[0]
        conn.execute("SELECT set_config('partnerctl.act_as', %s, true)", (str(bob_id),))
        seen = conn.execute("SELECT kind, to_addr FROM outbox ORDER BY id").fetchall()
    assert {k for k, _ in seen} == {"subscription_invite", "nudge", "digest"}
    assert all(to == "bob@acme.example" for k, to in seen if k == "digest")
    with team.connect(team.bob_role) as conn:
        assert "permission denied" in _refused(conn, "SELECT count(*) FROM outbox")


def test_an_admin_role_finds_reused_passwords_without_reading_any(team, cli):
    """The yes/no functions and the peppering trigger do for an admin's role what it may not do
    itself: compare fingerprints. Same password on another tenant: refused; the same again: refused."""
    for tenant in ("Bakery Berlin", "Garage Tenant"):
        cli.ok("tenant", "add", tenant)
    password = "Quiet-Lantern-Harbour-81"  # noqa: S105  (a test password)
    cli.ok("tenant", "admin", "add", "Bakery Berlin", "--email", "eva@bak.example", "--password-stdin",
           input=password + "\n")  # fmt: skip
    reused = cli.fails(2, "tenant", "admin", "add", "Garage Tenant", "--email", "gus@gar.example",
                       "--password-stdin", input=password + "\n")  # fmt: skip
    assert "already used by another tenant administrator" in reused.stderr
    same = cli.fails(2, "tenant", "admin", "reset-password", "Bakery Berlin", "eva@bak.example",
                     "--password-stdin", input=password + "\n")  # fmt: skip
    assert "same as the current one" in same.stderr
    cli.ok("tenant", "admin", "reset-password", "Bakery Berlin", "eva@bak.example", "--generate-password")
    cli.ok("tenant", "admin", "add", "Garage Tenant", "--email", "gus@gar.example", "--password-stdin",
           input=password + "\n")  # fmt: skip
    # The questions themselves are for admins' roles: a bookkeeper may not even ask.
    with team.connect(team.bob_role) as conn:
        assert "permission denied for function" in _refused(
            conn, "SELECT partnerctl_password_in_use('x', NULL)"
        )
