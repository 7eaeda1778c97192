"""The speed-ups of `outbox send` change nothing: same bytes on the wire, same table as the model."""

from __future__ import annotations

from datetime import UTC, datetime
from email.policy import compat32

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from partnerctl.mail.message import _PLAIN_HEADER, OutgoingMessage, as_bytes, build_email

HEADER_NAMES = st.sampled_from(["To", "From", "Subject", "Message-ID", "X-A-Rather-Long-Header-Name"])
HEADER_TEXT = st.text(alphabet=st.sampled_from(list("aZ9 .@<>=?-\t,;:\"'()[]")), max_size=90)


@settings(max_examples=3000, deadline=None)
@given(HEADER_NAMES, HEADER_TEXT)
def test_plain_header_lines_are_what_the_stdlib_folder_writes(name, value):
    if _PLAIN_HEADER.fullmatch(value) and len(name) + 2 + len(value) <= compat32.max_line_length:
        assert f"{name}: {value}\n".encode() == compat32.fold_binary(name, value)


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


def test_delivery_table_matches_the_model():
    from partnerctl.services.outbox import delivery
    from partnerctl.store.models import OutboxMessage
    from partnerctl.store.models.outbox import OutboxStatus

    model = OutboxMessage.__table__
    assert delivery._TABLE.name == model.name
    for column in delivery._TABLE.columns:
        assert column.name in model.c, column.name
        for dialect in (postgresql.dialect(), sqlite.dialect()):
            assert column.type.compile(dialect) == model.c[column.name].type.compile(dialect), column.name
        # The same Python-side conversions (UTC datetimes) as the model's columns.
        assert type(column.type).__name__ in (type(model.c[column.name].type).__name__, "String"), column.name
    assert (
        OutboxStatus.pending.value,
        OutboxStatus.sent.value,
        OutboxStatus.failed.value,
    ) == (delivery.PENDING, delivery.SENT, delivery.FAILED)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab.+-_'@ <>\"(),;:[]\\é")), min_size=1, max_size=30))
def test_bare_recipient_shortcut_agrees_with_parseaddr(address):
    from email.utils import parseaddr

    from partnerctl.mail.message import _BARE_ADDRESS, envelope_recipient

    if _BARE_ADDRESS.fullmatch(address):
        assert envelope_recipient(_msg(to_addr=address)) == parseaddr(address)[1]
