"""`partnerctl outbox ...`: list, show, retry, test, send to the default Maildir, exit codes, start-up."""

from __future__ import annotations

import mailbox
import subprocess
import sys

import pytest
import sqlalchemy as sa

from partnerctl.config import data_dir
from partnerctl.store.engine import make_engine, normalize_url


def _sql(store_url: str, statement: str, **params) -> None:
    engine = make_engine(normalize_url(store_url))
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


def _queue_tests(cli, *languages: str) -> list[int]:
    ids = []
    for i, lang in enumerate(languages):
        res = cli.ok("outbox", "test", f"client{i}@example.com", "--language", lang, "-o", "json")
        ids.append(res.json()["id"])
    return ids


def test_send_delivers_to_the_default_maildir_and_says_where(initialized, cli):
    _queue_tests(cli, "nl", "es")
    maildir_path = data_dir() / "maildir"
    listed = cli.ok("outbox", "list", "-o", "json")
    assert str(maildir_path) in listed.stderr
    assert [r["status"] for r in listed.json()] == ["pending", "pending"]

    res = cli.ok("outbox", "send", "-o", "json")
    assert res.json() == {"sent": 2, "failed": 0, "deferred": 0, "left": 0}
    assert f"Maildir {maildir_path}" in res.stderr

    box = mailbox.Maildir(str(maildir_path), create=False)
    messages = sorted(box, key=lambda m: m["To"])
    assert [m["To"] for m in messages] == ["client0@example.com", "client1@example.com"]
    assert messages[0]["Subject"] == "partnerctl testbericht"  # nl
    assert messages[1]["Subject"] == "partnerctl test message"  # es falls back to en
    assert messages[1].is_multipart()  # en ships an HTML alternative
    assert all(m["Message-ID"] and m["Date"] and m["From"] == "partnerctl@localhost" for m in messages)
    rows = cli.ok("outbox", "list", "--status", "sent", "-o", "json").json()
    assert len(rows) == 2 and all(r["sent_at"] for r in rows)


def test_maildir_delivery_is_idempotent_per_message_id(initialized, cli):
    (msg_id,) = _queue_tests(cli, "de")
    cli.ok("outbox", "send")
    # As if the sender had died after delivering but before marking the message sent.
    _sql(initialized, "UPDATE outbox SET status = 'pending', sent_at = NULL WHERE id = :id", id=msg_id)
    res = cli.ok("outbox", "send", "-o", "json")
    assert res.json()["sent"] == 1
    box = mailbox.Maildir(str(data_dir() / "maildir"), create=False)
    assert len(box) == 1
    shown = cli.ok("outbox", "show", str(msg_id), "-o", "json").json()
    assert shown["server_response"].startswith("already in ")


def test_profile_maildir_setting_is_used(initialized, cli, tmp_path):
    target = tmp_path / "elsewhere" / "Mail"
    cli.ok("profile", "set", "mail.maildir", str(target))
    _queue_tests(cli, "fr")
    res = cli.ok("outbox", "send")
    assert str(target) in res.stderr
    assert len(mailbox.Maildir(str(target), create=False)) == 1


def test_show_prints_headers_and_body(initialized, cli):
    (msg_id,) = _queue_tests(cli, "da")
    shown = cli.ok("outbox", "show", str(msg_id), "-o", "json").json()
    assert shown["status"] == "pending"
    assert shown["headers"]["To"] == "client0@example.com"
    assert shown["headers"]["Subject"] == "partnerctl testmeddelelse"
    assert shown["headers"]["Message-ID"].startswith("<")
    assert "testmeddelelse fra partnerctl" in shown["body_text"]
    table = cli.ok("outbox", "show", str(msg_id), "-o", "table")
    assert "Message-ID: <" in table.stdout and "Hej," in table.stdout
    cli.fails(3, "outbox", "show", "999")


def test_dry_run_and_limit(initialized, cli):
    _queue_tests(cli, "en", "nl", "de")
    dry = cli.ok("outbox", "send", "--dry-run", "-o", "json")
    assert dry.json() == {"due": 3, "left": 3}
    assert not (data_dir() / "maildir" / "new").exists() or not any(
        (data_dir() / "maildir" / "new").iterdir()
    )
    first = cli.ok("outbox", "send", "--limit", "2", "-o", "json").json()
    assert first == {"sent": 2, "failed": 0, "deferred": 0, "left": 1}
    assert cli.ok("outbox", "send", "-o", "json").json()["sent"] == 1


def test_retry_puts_a_failed_message_back_and_is_audited(initialized, cli):
    failed_id, sent_id = _queue_tests(cli, "en", "nl")
    _sql(
        initialized,
        "UPDATE outbox SET status = 'failed', attempts = 3, last_error = '550 no such user' WHERE id = :id",
        id=failed_id,
    )
    cli.ok("outbox", "send")
    assert [r["id"] for r in cli.ok("outbox", "list", "--status", "failed", "-o", "json").json()] == [
        failed_id
    ]

    cli.fails(4, "outbox", "retry", str(sent_id))  # only failed messages can be retried
    cli.fails(3, "outbox", "retry", "4242")
    cli.ok("outbox", "retry", str(failed_id))
    row = cli.ok("outbox", "show", str(failed_id), "-o", "json").json()
    assert row["status"] == "pending" and row["attempts"] == 0
    events = cli.ok("audit", "list", "--action", "outbox.retry", "-o", "json").json()
    assert len(events) == 1
    assert cli.ok("outbox", "send", "-o", "json").json()["sent"] == 1


def test_bad_input_and_bookkeepers_are_refused_in_one_clear_line(initialized, cli):
    cli.ok("user", "add", "bea@acme.example", "--role", "bookkeeper")
    cli.fails(5, "outbox", "list", "--as", "bea@acme.example")
    cli.fails(5, "outbox", "test", "x@example.com", "--as", "bea@acme.example")
    cli.fails(2, "outbox", "list", "--status", "lost")
    cli.fails(2, "outbox", "test", "not-an-address")
    cli.fails(2, "outbox", "send", "--lease", "0")
    cli.fails(2, "outbox", "send", env={"PARTNERCTL_OUTBOX_LEASE": "soon"})


def test_smtp_without_host_or_password_is_a_config_error(initialized, cli):
    cli.ok("profile", "set", "mail.transport", "smtp")
    res = cli.fails(7, "outbox", "send")
    assert "mail.smtp.host" in res.stderr
    cli.ok("profile", "set", "mail.smtp.host", "127.0.0.1")
    cli.ok("profile", "set", "mail.from", "noreply@acme.example")
    cli.ok("profile", "set", "mail.smtp.username", "mailer")
    res = cli.fails(7, "outbox", "send")
    assert "PARTNERCTL_SMTP_PASSWORD" in res.stderr
    cli.fails(2, "profile", "set", "mail.smtp.password", "hunter2")


# Runs the CLI in this process, then reports which of partnerctl's ORM modules it loaded.
ORM_PROBE = """
import sys
from partnerctl.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
ours = ("partnerctl.store.models", "partnerctl.services.outbox")
print("LOADED=" + ",".join(sorted(m for m in sys.modules if m.startswith(ours))))
"""


@pytest.mark.slow
def test_send_does_not_import_the_orm_models(initialized, cli):
    _queue_tests(cli, "en")
    proc = subprocess.run(
        [sys.executable, "-c", ORM_PROBE, "outbox", "send"], capture_output=True, text=True, timeout=60
    )
    assert "sent 1," in proc.stderr, proc.stderr
    loaded = proc.stdout.split("LOADED=")[1].split()[0].split(",")
    # Delivery works on a Core table: the models (a fifth of a second to import) stay out of `outbox send`.
    assert "partnerctl.services.outbox.delivery" in loaded
    assert [m for m in loaded if m.startswith("partnerctl.store.models")] == []
    assert "partnerctl.services.outbox.queue" not in loaded
