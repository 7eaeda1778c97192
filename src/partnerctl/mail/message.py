"""Composing one outbox row into a real MIME e-mail (From, To, Subject, Date, a stable Message-ID)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime


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


def build_email(msg: OutgoingMessage, default_from: str) -> EmailMessage:
    sender = msg.from_addr or default_from
    email = EmailMessage(policy=default_policy)
    email["From"] = sender
    email["To"] = msg.to_addr
    email["Subject"] = msg.subject
    # The Date is when the message was composed (queued), so a retry is byte-for-byte the same mail.
    email["Date"] = format_datetime(msg.created_at)
    email["Message-ID"] = message_id(msg.dedupe_key, sender)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(msg.body_text)
    if msg.body_html:
        email.add_alternative(msg.body_html, subtype="html")
    return email


def envelope_sender(msg: OutgoingMessage, default_from: str) -> str:
    from email.utils import parseaddr

    return parseaddr(msg.from_addr or default_from)[1]


def envelope_recipient(msg: OutgoingMessage) -> str:
    from email.utils import parseaddr

    return parseaddr(msg.to_addr)[1] or msg.to_addr
