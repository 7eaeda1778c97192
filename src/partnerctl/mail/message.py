"""Composing one outbox row into a real MIME e-mail (From, To, Subject, Date, a stable Message-ID)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.contentmanager import raw_data_manager
from email.header import Header
from email.message import EmailMessage
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr


@dataclass(frozen=True)
class OutgoingMessage:
    """What delivery needs of an outbox row, detached from the database session."""

    id: int
    dedupe_key: str
    to_addr: str
    from_addr: str | None
    subject: str
    body_text: str
    body_html: str | None
    created_at: datetime
    attempts: int = 0


def message_id(dedupe_key: str, from_addr: str) -> str:
    """The same dedupe key always gives the same Message-ID, so a retry is recognisably the same mail."""
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:32]
    domain = from_addr.rpartition("@")[2].strip(" >") or "partnerctl.invalid"
    return f"<{digest}.partnerctl@{domain}>"


def _address(value: str) -> str | Header:
    if value.isascii():
        return value
    name, addr = parseaddr(value)
    # A non-ASCII display name is RFC 2047-encoded; the address itself stays as it is.
    return formataddr((name, addr), charset="utf-8") if addr else Header(value, "utf-8")


def _text(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def build_email(msg: OutgoingMessage, default_from: str) -> EmailMessage:
    """A MIME message: text/plain, or multipart/alternative with the HTML part.

    Headers go through the compat32 policy with explicit RFC 2047 encoding: the default policy's
    header parser costs several times more CPU than sending the message does, which a bulk run of
    digests would feel. Bodies use the stdlib content manager (quoted-printable/base64 for UTF-8).
    """
    sender = msg.from_addr or default_from
    email = EmailMessage(policy=compat32)
    email["From"] = _address(sender)
    email["To"] = _address(msg.to_addr)
    email["Subject"] = _text(" ".join(msg.subject.splitlines()))
    # The Date is when the message was composed (queued), so a retry is byte-for-byte the same mail.
    email["Date"] = format_datetime(msg.created_at)
    email["Message-ID"] = message_id(msg.dedupe_key, sender)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(msg.body_text, content_manager=raw_data_manager)
    if msg.body_html:
        email.add_alternative(msg.body_html, subtype="html", content_manager=raw_data_manager)
    return email


def envelope_sender(msg: OutgoingMessage, default_from: str) -> str:
    return parseaddr(msg.from_addr or default_from)[1]


def envelope_recipient(msg: OutgoingMessage) -> str:
    return parseaddr(msg.to_addr)[1] or msg.to_addr
