"""Fixtures for the mail tests: a recording SMTP server and a store with many queued messages."""

from __future__ import annotations

import pytest

from tests.mail.smtpd import RecordingHandler, SmtpServer


@pytest.fixture
def smtp_handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def smtp_server(smtp_handler: RecordingHandler):
    with SmtpServer(smtp_handler) as server:
        yield server


@pytest.fixture
def smtp_profile(initialized, cli, smtp_server: SmtpServer) -> SmtpServer:
    """The active profile sends over plain SMTP to the test server."""
    for key, value in (
        ("mail.transport", "smtp"),
        ("mail.from", "Acme Partners <noreply@acme.example>"),
        ("mail.smtp.host", "127.0.0.1"),
        ("mail.smtp.port", str(smtp_server.port)),
        ("mail.smtp.security", "none"),
        ("mail.smtp.timeout", "10"),
    ):
        cli.ok("profile", "set", key, value)
    return smtp_server


def queue_many(store_url: str, n: int, *, prefix: str = "bulk", to: str = "user{i}@example.com") -> list[int]:
    """Queue n messages in one transaction, as a bulk import would."""
    from partnerctl.services.outbox import queue_message
    from partnerctl.store.engine import make_engine, normalize_url, session_scope

    engine = make_engine(normalize_url(store_url))
    ids = []
    try:
        with session_scope(engine) as s:
            for i in range(n):
                message, _ = queue_message(
                    s,
                    dedupe_key=f"{prefix}:{i}",
                    kind="test",
                    to=to.format(i=i),
                    subject=f"Message {i}",
                    text=f"Body of message {i}.\n",
                )
                ids.append(message.id)
    finally:
        engine.dispose()
    return ids


def outbox_rows(store_url: str) -> dict[int, dict]:
    import sqlalchemy as sa

    from partnerctl.store.engine import make_engine, normalize_url

    engine = make_engine(normalize_url(store_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM outbox ORDER BY id")).mappings().all()
    finally:
        engine.dispose()
    return {r["id"]: dict(r) for r in rows}
