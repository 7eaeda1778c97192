"""Composing an outbox row into MIME: headers and a stable Message-ID, and fast paths that change nothing
(the same bytes as the stdlib generator, the same envelope addresses as parseaddr)."""

from __future__ import annotations

import email
from dataclasses import asdict
from datetime import UTC, datetime
from email.policy import compat32, default
from email.utils import parseaddr
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from partnerctl.mail.message import (
    BARE_ADDRESS,
    PLAIN_HEADER,
    OutgoingMessage,
    as_bytes,
    build_email,
    envelope_recipient,
    message_id,
)

HEADER_NAMES = st.sampled_from(["To", "From", "Subject", "Message-ID", "X-A-Rather-Long-Header-Name"])
HEADER_TEXT = st.text(alphabet=st.sampled_from(list("aZ9 .@<>=?-\t,;:\"'()[]")), max_size=90)


@settings(max_examples=3000, deadline=None)
@given(HEADER_NAMES, HEADER_TEXT)
def test_plain_header_lines_are_what_the_stdlib_folder_writes(name, value):
    if PLAIN_HEADER.fullmatch(value) and len(name) + 2 + len(value) <= compat32.max_line_length:
        assert f"{name}: {value}\n".encode() == compat32.fold_binary(name, value)


# A welcome mail with a display name and a non-ASCII subject.
WELCOME = dict(
    dedupe_key="welcome:client:42",
    to_addr="Bob Client <bob@example.com>",
    subject="Welkom bij Acme — uw account",
    body_text="Hallo Bob,\n\nwelkom.\n",
)


def _msg(**overrides) -> OutgoingMessage:
    fields = dict(
        id=1,
        dedupe_key="bench:1",
        to_addr="client1@example.com",
        from_addr=None,
        subject="Your weekly digest #1",
        body_text="Hello client 1,\n\nyou have 3 missing receipts.\n",
        body_html=None,
        created_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
    )
    fields.update(overrides)
    return OutgoingMessage(**fields)


@settings(max_examples=300, deadline=None)
@given(
    to=st.sampled_from(["bob@example.com", "Bob Client <bob@example.com>", "Zoë Ångström <zoe@example.dk>"]),
    sender=st.sampled_from(["noreply@acme.example", "Acme Partners <noreply@acme.example>", "Åse <a@b.dk>"]),
    subject=st.text(min_size=1, max_size=120).filter(lambda s: s.strip()),
    body=st.text(max_size=300),
    html=st.none() | st.just("<p>Hallo <b>Bob</b></p>"),
)
def test_message_bytes_equal_the_stdlib_generator(to, sender, subject, body, html):
    composed = build_email(_msg(to_addr=to, subject=subject, body_text=body, body_html=html), sender)
    assert as_bytes(composed) == composed.as_bytes()


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab.+-_'@ <>\"(),;:[]\\é")), min_size=1, max_size=30))
def test_bare_recipient_shortcut_agrees_with_parseaddr(address):
    if BARE_ADDRESS.fullmatch(address):
        assert envelope_recipient(_msg(to_addr=address)) == parseaddr(address)[1]


def test_composed_message_has_the_headers_and_a_stable_message_id():
    first = build_email(_msg(**WELCOME), "Acme <noreply@acme.example>")
    again = build_email(_msg(**WELCOME), "Acme <noreply@acme.example>")
    parsed = email.message_from_bytes(first.as_bytes(), policy=default)
    assert parsed["From"] == "Acme <noreply@acme.example>"
    assert parsed["To"] == "Bob Client <bob@example.com>"
    assert parsed["Subject"] == "Welkom bij Acme — uw account"
    assert parsed["Date"].datetime == datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    assert parsed["Message-ID"] == again["Message-ID"]
    assert parsed["Message-ID"].endswith("@acme.example>")
    assert message_id("welcome:client:43", "noreply@acme.example") != parsed["Message-ID"]
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content() == "Hallo Bob,\n\nwelkom.\n"


def test_html_makes_a_multipart_alternative():
    composed = build_email(_msg(**WELCOME, body_html="<p>Hallo <b>Bob</b></p>"), "noreply@acme.example")
    parsed = email.message_from_bytes(composed.as_bytes(), policy=default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert "<b>Bob</b>" in parsed.get_body(("html",)).get_content()


def test_a_message_is_made_of_the_outgoing_columns_of_any_row():
    original = _msg(**WELCOME, attempts=2)
    row = SimpleNamespace(**asdict(original), kind="welcome", status="pending")  # extra columns are left
    assert OutgoingMessage.from_row(row) == original
