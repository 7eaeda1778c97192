"""`partnerctl subscription ...` through the CLI: add/list/show/edit/suspend/resume/cancel and bad input."""

from __future__ import annotations

from tests.helpers.cli import setup_space
from tests.helpers.store import outbox_rows


def test_subscription_lifecycle(initialized, cli):
    setup_space(cli)
    added = cli.ok("subscription", "add", "BAK", "--product", "sig-m365", "--seats", "25", "--payer", "client",
                   "--start", "2026-01-31", "-o", "json").json()  # fmt: skip
    assert (added["client"], added["seats"], added["payer"], added["next_payment_date"]) == (
        "BAK", 25, "client", "2026-01-31")  # fmt: skip
    sid = added["id"]
    assert added["monthly_value"] == "62.50" and added["currency"] == "EUR"
    other = cli.ok("subscription", "add", "GAR", "--product", "sig-gws", "--seats", "3", "--start", "2026-01-01",
                   "-o", "json").json()["id"]  # fmt: skip

    rows = cli.ok("subscription", "list", "-o", "json").json()
    assert [r["client"] for r in rows] == ["BAK", "GAR"]  # sorted by client name
    assert set(rows[0]) >= {
        "client",
        "product",
        "seats",
        "status",
        "next_payment_date",
        "payer",
        "monthly_value",
    }
    assert [r["id"] for r in cli.ok("subscription", "list", "--payer", "client", "-o", "json").json()] == [
        sid
    ]
    assert [r["id"] for r in cli.ok("subscription", "list", "--product", "sig-gws", "-o", "json").json()] == [
        other
    ]
    assert [r["id"] for r in cli.ok("subscription", "list", "--client", "gar", "-o", "json").json()] == [
        other
    ]
    due = cli.ok("subscription", "list", "--due-before", "2026-01-15", "-o", "json").json()
    assert [r["id"] for r in due] == [other]
    assert "Bakkerij" not in cli.ok("subscription", "list", "--search", "berg", "-o", "tsv").stdout

    cli.ok("subscription", "edit", str(sid), "--seats", "30")
    shown = cli.ok("subscription", "show", str(sid), "-o", "json").json()
    assert (shown["seats"], shown["monthly_value"], shown["allow_client_edit"]) == (30, "75.00", False)

    cli.ok("subscription", "suspend", str(sid))
    assert [
        r["id"] for r in cli.ok("subscription", "list", "--status", "suspended", "-o", "json").json()
    ] == [sid]
    cli.fails(4, "subscription", "suspend", str(sid))
    resumed = cli.ok("subscription", "resume", str(sid))
    assert "now active" in resumed.stderr
    cli.ok("subscription", "cancel", str(sid))
    cli.fails(4, "subscription", "edit", str(sid), "--seats", "2")
    assert cli.ok("subscription", "show", str(sid), "-o", "json").json()["status"] == "cancelled"
    actions = [e["action"] for e in cli.ok("audit", "list", "--action", "subscription", "-o", "json").json()]
    assert actions[:5] == ["subscription.cancel", "subscription.resume", "subscription.suspend",
                           "subscription.edit", "subscription.add"]  # fmt: skip


def test_client_edit_invitation_goes_to_outbox_in_client_language(initialized, cli):
    setup_space(cli)
    res = cli.ok("subscription", "add", "BAK", "--product", "sig-m365", "--seats", "5", "--allow-client-edit",
                 "--contact-name", "Eva de Vries", "--contact-email", "eva@bakkerij.example")  # fmt: skip
    assert "no billing access" in res.stderr
    msgs = outbox_rows(initialized)
    assert len(msgs) == 1
    assert msgs[0]["to_addr"] == "eva@bakkerij.example" and msgs[0]["language"] == "nl"
    assert msgs[0]["kind"] == "subscription_invite"
    assert "Signatures for Microsoft 365" in msgs[0]["subject"] and "Eva de Vries" in msgs[0]["body_text"]
    shown = cli.ok("subscription", "show", "1", "-o", "json").json()
    assert shown["editor_email"] == "eva@bakkerij.example" and shown["editor_billing_access"] is False
    # The contact is not a partner user: they cannot act here at all, billing included.
    cli.fails(5, "--as", "eva@bakkerij.example", "invoice", "list")
    # Without --allow-client-edit, nobody is invited.
    cli.ok("subscription", "add", "GAR", "--product", "sig-gws")
    assert len(outbox_rows(initialized)) == 1


def test_bad_input_is_one_clear_line(initialized, cli):
    setup_space(cli)
    assert "no product" in cli.fails(3, "subscription", "add", "BAK", "--product", "nope").stderr
    assert "no client" in cli.fails(3, "subscription", "add", "NOPE", "--product", "sig-m365").stderr
    assert (
        "at least 1"
        in cli.fails(2, "subscription", "add", "BAK", "--product", "sig-m365", "--seats", "0").stderr
    )
    past = cli.fails(2, "subscription", "add", "BAK", "--product", "sig-m365", "--next-payment", "2020-01-01")
    assert "in the past" in past.stderr and "--start" in past.stderr
    cli.fails(2, "subscription", "add", "BAK", "--product", "sig-m365", "--start", "31-01-2026")
    cli.fails(2, "subscription", "add", "BAK", "--product", "sig-m365", "--payer", "nobody")
    missing = cli.fails(2, "subscription", "add", "BAK", "--product", "sig-m365", "--allow-client-edit")
    assert "--contact-email" in missing.stderr
    bad = cli.fails(2, "subscription", "add", "BAK", "--product", "sig-m365", "--allow-client-edit",
                    "--contact-name", "Eva", "--contact-email", "eva@@bakkerij")  # fmt: skip
    assert "e-mail" in bad.stderr
    cli.fails(3, "subscription", "show", "999")
    cli.fails(2, "subscription", "list", "--status", "paused")
    assert cli.ok("subscription", "list", "-o", "json").json() == []  # nothing half-created


def test_bookkeeper_isolation(initialized, cli):
    setup_space(cli)
    cli.ok("user", "add", "bob@acme.example")
    cli.ok("client", "assign", "GAR", "bob@acme.example")
    cli.ok("subscription", "add", "BAK", "--product", "sig-m365")
    gar = cli.ok("subscription", "add", "GAR", "--product", "sig-gws", "-o", "json").json()["id"]
    bob = ("--as", "bob@acme.example")
    assert [r["id"] for r in cli.ok(*bob, "subscription", "list", "-o", "json").json()] == [gar]
    cli.fails(3, *bob, "subscription", "show", "1")
    cli.fails(3, *bob, "subscription", "list", "--client", "BAK")
    cli.fails(5, *bob, "subscription", "add", "GAR", "--product", "sig-gws")
    cli.fails(5, *bob, "subscription", "suspend", str(gar))
