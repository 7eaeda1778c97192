"""Users, roles, acting users, audit and output formats through the CLI."""

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


def test_user_rows_are_the_audited_user(initialized, cli):
    """`user show` and `user list` show a user with the very fields the audit log records."""
    cli.ok("user", "add", "bob@acme.example", "--name", "Bob", "--language", "nl")
    cli.ok("user", "edit", "bob@acme.example", "--name", "Bobby")
    shown = cli.ok("user", "show", "bob@acme.example", "-o", "json").json()
    assert shown.pop("created_at")
    events = cli.ok("audit", "list", "--action", "user", "-o", "json").json()
    assert events[0]["action"] == "user.edit" and events[0]["after"] == shown
    listed = {r["email"]: r for r in cli.ok("user", "list", "-o", "json").json()}["bob@acme.example"]
    assert {k: listed[k] for k in shown} == shown


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


def test_no_acting_user_is_exit_7(store_url, cli, backend):
    if backend == "sqlite":
        result = cli.fails(7, "user", "list")
        assert "--as" in result.stderr
    else:
        # PostgreSQL: the connection's role is who acts, and no user is linked to it yet.
        result = cli.fails(5, "user", "list")
        assert result.stderr.startswith("error: role postgres is linked to no active partner user")


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


def test_unexpected_errors_are_one_line_without_traceback(initialized, cli, monkeypatch):
    from partnerctl.services import users

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(users, "list_users", boom)
    result = cli.fails(1, "user", "list")
    assert "disk on fire" in result.stderr
