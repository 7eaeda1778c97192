"""Who acts on PostgreSQL: the partner user linked to the connection's role. Login roles made and
linked by `user add/link`, group membership following the user's role, and --as as an admin's
impersonation, recorded with both users. Run as non-superuser roles the test creates."""

from __future__ import annotations

import base64
import hashlib
import hmac

import psycopg
import pytest

from tests.helpers.cli import setup_invoicing
from tests.helpers.store import ADMIN

BOB = "bob@acme.example"


def _members(team, role: str) -> set[str]:
    with team.connect(team.admin_role) as conn:
        rows = conn.execute(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
            (role,),
        ).fetchall()
    return {r[0] for r in rows}


def _groups(team):
    from partnerctl.store.roles import group_roles

    return group_roles(team.roles.database)


def test_the_connection_is_the_acting_user(team, cli):
    bob = team.store(team.bob_role)
    assert cli.ok(*bob, "user", "show", BOB, "-o", "json").json()["db_role"] == team.bob_role
    listed = {u["email"]: u["db_role"] for u in cli.ok(*bob, "user", "list", "-o", "json").json()}
    assert listed == {ADMIN: team.admin_role, BOB: team.bob_role}
    # The profile (made by init) names anna: on PostgreSQL that is no claim to be her.
    assert [c["ref"] for c in cli.ok(*bob, "client", "list", "-o", "json").json()] == ["BAK"]


def test_a_bookkeepers_as_is_refused_everywhere(team, cli, tmp_path):
    bob = team.store(team.bob_role)
    result = cli.fails(5, *bob, "--as", ADMIN, "client", "list")
    assert "only an admin may act as another user" in result.stderr
    cli.fails(5, *bob, "client", "show", "GAR", env={"PARTNERCTL_USER": ADMIN})
    cli.fails(5, *bob, "--as", ADMIN, "store", "info")
    # In a batch line too: the line fails, the others run.
    script = tmp_path / "lines.txt"
    script.write_text(f"client list\n--as {ADMIN} client show GAR\nclient show BAK\n", encoding="utf-8")
    result = cli(*bob, "batch", str(script))
    assert result.exit_code == 9, result
    assert (
        "line 1: ok" in result.stderr and "line 2: exit 5" in result.stderr and "line 3: ok" in result.stderr
    )
    assert "Garage Berg" not in result.stdout


def test_an_admins_as_shows_that_users_view_and_is_audited_with_both(team, cli):
    admin = team.store(team.admin_role)
    assert [c["ref"] for c in cli.ok(*admin, "--as", BOB, "client", "list", "-o", "json").json()] == ["BAK"]
    cli.fails(3, *admin, "--as", BOB, "client", "show", "GAR")
    cli.fails(5, *admin, "--as", BOB, "client", "add", "Nope BV")
    cli.ok(*admin, "--as", BOB, "client", "tasks", "BAK", "--missing-receipts", "7")
    (event,) = cli.ok(*admin, "audit", "list", "--action", "client.tasks", "-o", "json").json()
    assert (event["actor"], event["on_behalf_of"], event["db_role"]) == (ADMIN, BOB, team.admin_role)
    assert cli.ok(*admin, "audit", "list", "--actor", BOB, "-o", "json").json()[0]["id"] == event["id"]
    # The database itself shows bob's view to the admin's role acting for him (raw SQL, same GUC).
    with team.connect(team.admin_role) as conn:
        bob_id = conn.execute("SELECT id FROM users WHERE email = %s", (BOB,)).fetchone()[0]
        conn.execute("SELECT set_config('partnerctl.act_as', %s, true)", (str(bob_id),))
        assert conn.execute("SELECT ref FROM clients").fetchall() == [("BAK",)]


def test_a_role_linked_to_no_active_user_is_exit_5(team, cli, pg_roles):
    stranger = pg_roles.login("stranger")
    result = cli.fails(5, *team.store(stranger), "client", "list")
    assert result.stderr.splitlines()[0] == f"error: role {stranger} is linked to no active partner user"
    cli.ok("user", "deactivate", BOB)
    assert _members(team, team.bob_role) == set()
    result = cli.fails(5, *team.store(team.bob_role), "client", "list")
    assert f"role {team.bob_role} is linked to no active partner user" in result.stderr
    cli.ok("user", "activate", BOB)
    assert _members(team, team.bob_role) == {_groups(team).bookkeeper}
    cli.ok(*team.store(team.bob_role), "client", "list")


def test_group_membership_follows_the_users_role(team, cli):
    groups = _groups(team)
    assert _members(team, team.bob_role) == {groups.bookkeeper}
    cli.ok("user", "edit", BOB, "--role", "admin")
    assert _members(team, team.bob_role) == {groups.admin}
    assert len(cli.ok(*team.store(team.bob_role), "client", "list", "-o", "json").json()) == 2
    cli.ok("user", "edit", BOB, "--role", "bookkeeper")
    assert _members(team, team.bob_role) == {groups.bookkeeper}
    events = cli.ok("audit", "list", "--action", "user", "-o", "json").json()
    assert all(e["db_role"] == team.admin_role for e in events)


def test_user_link_and_its_errors(team, cli, pg_roles):
    carl_role = pg_roles.login("carl")
    cli.ok("user", "add", "carl@acme.example", "--role", "bookkeeper")
    cli.fails(2, "user", "link", "carl@acme.example", "--db-role", "Not A Role")
    cli.fails(2, "user", "link", "carl@acme.example", "--db-role", "pg_monitor")
    cli.fails(3, "user", "link", "carl@acme.example", "--db-role", pg_roles.name("nosuch"))
    cli.fails(4, "user", "link", "carl@acme.example", "--db-role", team.bob_role)
    cli.fails(3, "user", "link", "nobody@acme.example", "--db-role", carl_role)
    cli.ok("user", "link", "carl@acme.example", "--db-role", carl_role)
    assert _members(team, carl_role) == {_groups(team).bookkeeper}
    assert cli.ok(*team.store(carl_role), "client", "list", "-o", "json").json() == []
    cli.fails(5, *team.store(team.bob_role), "user", "link", "carl@acme.example", "--db-role", carl_role)


def test_user_add_without_createrole_names_the_sql_for_a_dba(team, cli, pg_roles):
    carol = pg_roles.login("carol")  # an admin's role without CREATEROLE
    cli.ok("user", "add", "carol@acme.example", "--role", "admin", "--db-role", carol)
    dave = pg_roles.name("dave")
    result = cli.fails(5, *team.store(carol), "user", "add", "dave@acme.example", "--db-role", dave)
    assert f'CREATE ROLE "{dave}" LOGIN; GRANT "{_groups(team).bookkeeper}" TO "{dave}";' in result.stderr
    assert "CREATEROLE" in result.stderr
    # Nothing happened: one command, one transaction (the user row went with the role).
    cli.fails(3, "user", "show", "dave@acme.example")


def _scram_matches(verifier: str, password: str) -> bool:
    """Does a SCRAM-SHA-256 verifier (pg_authid.rolpassword) belong to this password? (RFC 5802)"""
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = base64.b64decode(keys.split(":")[0])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return method == "SCRAM-SHA-256" and hashlib.sha256(client_key).digest() == stored_key


def _verifier(team, role: str) -> str | None:
    """The role's stored password verifier (the superuser alone may read pg_authid)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(team.roles.store_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database) as conn:
        return conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()[0]


def test_role_passwords_come_from_stdin_or_are_generated_never_the_command_line(team, cli, pg_roles):
    assert _verifier(team, team.bob_role) is None  # the default: no password (peer, cert or trust)
    eve = pg_roles.name("eve")
    secret = "correct horse battery staple 42"
    added = cli.ok(
        "user", "add", "eve@acme.example", "--db-role", eve, "--password-stdin", input=secret + "\n"
    )
    assert secret not in added.stdout + added.stderr
    assert _scram_matches(_verifier(team, eve), secret)
    fred = pg_roles.name("fred")
    added = cli.ok("user", "add", "fred@acme.example", "--db-role", fred, "--generate-password")
    generated = added.stderr.rsplit(": ", 1)[1].strip()
    assert len(generated) == 20 and _scram_matches(_verifier(team, fred), generated)
    events = cli.ok("audit", "list", "--action", "user", "-o", "json").stdout
    assert secret not in events and generated not in events
    cli.fails(2, "user", "add", "gus@acme.example", "--generate-password")  # no --db-role
    cli.fails(2, "user", "link", "eve@acme.example", "--db-role", fred, "--password-stdin")


def test_an_admin_role_imports_through_row_level_security(team, cli, tmp_path):
    """PostgreSQL refuses COPY FROM where row-level security applies: as a team's admin role the
    import's rows go through a temporary table, and the policies check every one of them."""
    rows = ["ref,name,groups,assign,welcome"] + [f"IMP-{i:03d},Imported {i},retail,{BOB if i % 2 else ''},no"
                                                  for i in range(40)]  # fmt: skip
    (tmp_path / "clients.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = cli.ok(*team.store(team.admin_role), "client", "import", str(tmp_path / "clients.csv"),
                    "--batch-size", "16", "-o", "json")  # fmt: skip
    assert result.json()["created"] == 40
    mine = cli.ok(
        *team.store(team.bob_role), "client", "list", "--tab", "mine", "--limit", "100", "-o", "json"
    )
    assert sorted(c["ref"] for c in mine.json()) == ["BAK"] + [f"IMP-{i:03d}" for i in range(1, 40, 2)]
    # Imported again (an update of what changed): the same check applies, nothing is duplicated.
    again = cli.ok(*team.store(team.admin_role), "client", "import", str(tmp_path / "clients.csv"),
                   "--on-existing", "update", "-o", "json")  # fmt: skip
    assert again.json()["created"] == 0


def test_an_admin_role_issues_corrects_and_sends_invoices(team, cli, tmp_path):
    """Issue 15's tables (VAT rates, payments, attachments, numbering per series) work for an admin's
    login role under row-level security and the grants, and a bookkeeper sees only BAK's of them."""
    setup_invoicing(cli)  # as the admin role (PARTNERCTL_STORE)
    cli.ok("product", "add", "sig", "--name", "Signatures", "--price-per-seat", "2.50")
    for ref in ("BAK", "GAR"):
        cli.ok("subscription", "add", ref, "--product", "sig", "--seats", "4")
    made = cli.ok("billing", "run", "--send", "-o", "json").json()
    numbers = {i["client"]: i["number"] for i in made}
    assert set(numbers) == {"BAK", "GAR"}
    cli.ok("invoice", "pay", numbers["BAK"])
    cli.ok("invoice", "pay", numbers["GAR"])
    cli.ok("invoice", "credit", numbers["GAR"], "--reason", "wrong seats")
    with team.connect(team.bob_role) as conn:
        # BAK's payment only (row-level security through the invoice), and no outbox at all.
        assert conn.execute("SELECT count(*) FROM invoice_payments").fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM outbox_attachments")
    with team.connect(team.admin_role) as conn:
        assert conn.execute("SELECT count(*) FROM outbox_attachments").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM invoice_payments").fetchone()[0] == 2
        assert conn.execute("SELECT count(*) FROM invoices WHERE kind = 'credit_note'").fetchone()[0] == 1


def test_the_client_book_works_as_the_admin_and_bookkeeper_roles(team, cli, tmp_path):
    """Issue 16 under row-level security: an admin's login role exports, plans and applies (its table
    lock needs only the admin group's privileges); bob's role exports and plans only his client."""
    import tomllib

    import tomli_w

    book = tmp_path / "book"
    cli.ok("book", "export", book)
    doc = tomllib.loads((book / "clients/GAR.toml").read_text())
    (book / "clients/GAR.toml").write_text(tomli_w.dumps({**doc, "name": "Garage Berg & Zn"}))
    cli.ok("book", "plan", book, "--out", tmp_path / "plan.json")
    cli.ok("book", "apply", tmp_path / "plan.json")
    assert cli.ok("client", "show", "GAR", "-o", "json").json()["name"] == "Garage Berg & Zn"
    bob = team.store(team.bob_role)
    mine = tmp_path / "bob"
    cli.ok(*bob, "book", "export", mine)
    assert sorted(p.name for p in (mine / "clients").iterdir()) == ["BAK.toml"]
    assert cli.ok(*bob, "book", "plan", mine, "-o", "json").json()["changes"] == []
    cli.ok(*bob, "book", "plan", mine, "--out", tmp_path / "bob.json")
    cli.fails(5, *bob, "book", "apply", tmp_path / "bob.json")
