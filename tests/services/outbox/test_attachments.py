"""Outbox attachments: stored with their message, composed as MIME parts, and loaded only for the
messages that have any, so `outbox send` of plain mail pays nothing for them."""

from __future__ import annotations

import email
import mailbox

import sqlalchemy as sa

from partnerctl.mail.message import Attachment
from partnerctl.mail.transport import MailSettings
from partnerctl.services.outbox import deliver, delivery, queue_template
from partnerctl.store.models import OutboxAttachment
from tests.helpers.store import scope


def _queue(engine, key: str, files=()) -> None:
    with scope(engine) as s:
        queue_template(s, template="test", language="en", to=f"{key}@example.com", dedupe_key=key,
                       context={"actor": "Anna", "email": "x", "at": "now"}, attachments=files)  # fmt: skip


def _attachment_queries(engine, work) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        if "outbox_attachments" in statement:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


def test_plain_mail_never_reads_the_attachment_table(engine, tmp_path):
    for i in range(3):
        _queue(engine, f"plain{i}")
    settings = MailSettings(maildir=tmp_path / "box")
    queries = _attachment_queries(engine, lambda: deliver(engine, settings))
    assert queries == []
    assert len(list(mailbox.Maildir(str(tmp_path / "box"), create=False))) == 3


def test_files_go_with_their_message_only_and_are_read_once_per_batch(engine, tmp_path):
    pdf = Attachment("INV-2026-000001.pdf", "application/pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40)
    _queue(engine, "plain")
    _queue(engine, "withpdf", [pdf])
    _queue(engine, "withpdf", [Attachment("other.pdf", "application/pdf", b"x")])  # same key: kept as it was
    with scope(engine) as s:
        assert [a.filename for a in s.exec(sa.select(OutboxAttachment)).scalars()] == [pdf.filename]
    settings = MailSettings(maildir=tmp_path / "box")
    queries = _attachment_queries(engine, lambda: deliver(engine, settings))
    assert len(queries) == 1  # one SELECT for the batch, for the one message that has a file
    by_to = {m["To"]: m for m in mailbox.Maildir(str(tmp_path / "box"), create=False)}
    assert "application/pdf" not in {p.get_content_type() for p in by_to["plain@example.com"].walk()}
    parts = [p for p in by_to["withpdf@example.com"].walk() if p.get_content_type() == "application/pdf"]
    assert [(p.get_filename(), p.get_payload(decode=True)) for p in parts] == [(pdf.filename, pdf.content)]
    raw = email.message_from_bytes(by_to["withpdf@example.com"].as_bytes())
    assert raw.get_content_type() == "multipart/mixed"


def test_the_attachment_table_delivery_reads_matches_the_model():
    model = OutboxAttachment.__table__
    assert set(delivery.ATTACHMENT_TABLE.c.keys()) == set(model.c.keys())
    assert delivery.ATTACHMENT_TABLE.name == model.name
