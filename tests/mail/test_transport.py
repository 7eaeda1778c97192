"""The SMTP transport against a real server: reconnects, unreachable servers, verified STARTTLS and login."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

from aiosmtpd.smtp import AuthResult

from tests.helpers.mail import outbox_by_id, queue_many
from tests.helpers.smtpd import RecordingHandler, SmtpServer, free_port, self_signed_cert


def test_dropped_connection_is_reopened_without_duplicates(store_url, smtp_profile, smtp_handler, cli):
    smtp_handler.drop_after = {3}
    queue_many(store_url, 7)
    res = cli.ok("outbox", "send", "-o", "json")
    assert res.json() == {"sent": 7, "failed": 0, "deferred": 0, "left": 0}
    counts = smtp_handler.message_ids()
    assert len(counts) == 7 and set(counts.values()) == {1}
    assert smtp_handler.connections == 2


def test_unreachable_server_defers_with_backoff_and_exits_9(store_url, smtp_profile, cli):
    cli.ok("profile", "set", "mail.smtp.port", str(free_port()))  # nothing listens there
    queue_many(store_url, 3)
    before = datetime.now(UTC)
    res = cli.fails(9, "outbox", "send")
    assert "deferred 3" in res.stderr and "cannot reach 127.0.0.1" in res.stderr
    for row in outbox_by_id(store_url).values():
        assert row["status"] == "pending" and row["attempts"] == 1 and row["lease_owner"] is None
        next_at = row["next_attempt_at"]
        next_at = datetime.fromisoformat(next_at) if isinstance(next_at, str) else next_at
        next_at = next_at if next_at.tzinfo else next_at.replace(tzinfo=UTC)
        assert next_at > before
    # Not due yet: the next cron run leaves them alone and succeeds.
    assert cli.ok("outbox", "send", "-o", "json").json() == {"sent": 0, "failed": 0, "deferred": 0, "left": 3}


def test_starttls_verifies_the_certificate_and_logs_in(store_url, initialized, cli, tmp_path):
    certfile, keyfile = self_signed_cert(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certfile, keyfile)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret-Pw", handled=False)

    handler = RecordingHandler()
    with SmtpServer(
        handler, tls_context=tls, require_starttls=True, authenticator=authenticator, auth_require_tls=True
    ) as server:
        for key, value in (
            ("mail.transport", "smtp"),
            ("mail.from", "noreply@acme.example"),
            ("mail.smtp.host", "127.0.0.1"),
            ("mail.smtp.port", str(server.port)),
            ("mail.smtp.security", "starttls"),
            ("mail.smtp.username", "mailer"),
            ("mail.smtp.timeout", "5"),
        ):
            cli.ok("profile", "set", key, value)
        queue_many(store_url, 2)
        env = {"PARTNERCTL_SMTP_PASSWORD": "s3cret-Pw"}

        # The certificate is self-signed: without trusting it explicitly, nothing goes.
        untrusted = cli.fails(9, "outbox", "send", env=env)
        assert "certificate verify failed" in untrusted.stderr.lower()
        assert handler.received == [] and logins == []

        cli.ok("profile", "set", "mail.smtp.cafile", certfile)
        _sql_due_now(store_url)
        wrong = cli.fails(9, "outbox", "send", env={"PARTNERCTL_SMTP_PASSWORD": "wrong-Pw"})
        assert "refused the login of 'mailer'" in wrong.stderr and "wrong-Pw" not in wrong.stderr

        _sql_due_now(store_url)
        ok = cli.ok("outbox", "send", "-o", "json", env=env)
        assert ok.json()["sent"] == 2
        assert "s3cret-Pw" not in ok.stdout + ok.stderr
    assert logins[-1] == (b"mailer", b"s3cret-Pw")
    assert len(handler.message_ids()) == 2


def _sql_due_now(store_url: str) -> None:
    import sqlalchemy as sa

    from partnerctl.store.engine import make_engine, normalize_url

    engine = make_engine(normalize_url(store_url))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE outbox SET next_attempt_at = created_at"))
    engine.dispose()
