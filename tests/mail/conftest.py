"""Fixtures for the mail tests: a recording SMTP server and a store with many queued messages."""

from __future__ import annotations

import pytest

from tests.helpers.smtpd import RecordingHandler, SmtpServer


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
