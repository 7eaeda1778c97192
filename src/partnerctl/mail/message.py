"""Composing one outbox row into a real MIME e-mail (From, To, Subject, Date, a stable Message-ID)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from email.contentmanager import raw_data_manager
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
from io import BytesIO


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
    attachments: int = 0  # how many files go with it (outbox_attachments), loaded only when > 0

    @classmethod
    def from_row(cls, row: object) -> OutgoingMessage:
        """The message of an outbox row: an ORM object or a Core row with at least OUTGOING_COLUMNS."""
        return cls(**{name: getattr(row, name) for name in OUTGOING_COLUMNS})


# The outbox columns an OutgoingMessage is made of (delivery reads exactly these).
OUTGOING_COLUMNS = tuple(f.name for f in fields(OutgoingMessage))


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (an invoice's Factur-X PDF)."""

    filename: str
    content_type: str
    content: bytes


def message_id(dedupe_key: str, from_addr: str) -> str:
    """The same dedupe key always gives the same Message-ID, so a retry is recognisably the same mail."""
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:32]
    domain = from_addr.rpartition("@")[2].strip(" >") or "partnerctl.invalid"
    return f"<{digest}.partnerctl@{domain}>"


@lru_cache(maxsize=64)
def _address_cached(value: str) -> str | Header:
    # The From of a batch is nearly always the same: parse and encode it once.
    return _address(value)


def _address(value: str) -> str | Header:
    if value.isascii():
        return value
    name, addr = parseaddr(value)
    # A non-ASCII display name is RFC 2047-encoded; the address itself stays as it is.
    return formataddr((name, addr), charset="utf-8") if addr else Header(value, "utf-8")


def _text(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def build_email(
    msg: OutgoingMessage, default_from: str, attachments: Sequence[Attachment] = ()
) -> EmailMessage:
    """A MIME message: text/plain, or multipart/alternative with the HTML part; with attachments, a
    multipart/mixed of that and one part per file (base64, with its content type and file name).

    Headers go through the compat32 policy with explicit RFC 2047 encoding: the default policy's
    header parser costs several times more CPU than sending the message does, which a bulk run of
    digests would feel. Bodies use the stdlib content manager (quoted-printable/base64 for UTF-8).
    """
    sender = msg.from_addr or default_from
    email = EmailMessage(policy=compat32)
    email["From"] = _address_cached(sender)
    email["To"] = _address(msg.to_addr)
    email["Subject"] = _text(" ".join(msg.subject.splitlines()))
    # The Date is when the message was composed (queued), so a retry is byte-for-byte the same mail.
    email["Date"] = format_datetime(msg.created_at)
    email["Message-ID"] = message_id(msg.dedupe_key, sender)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(msg.body_text, content_manager=raw_data_manager)
    if msg.body_html:
        email.add_alternative(msg.body_html, subtype="html", content_manager=raw_data_manager)
    if attachments:
        # A fixed boundary (from the dedupe key), so a retry is still byte-for-byte the same mail.
        email.set_boundary(f"=_partnerctl_{hashlib.sha256(msg.dedupe_key.encode('utf-8')).hexdigest()[:24]}")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
            filename=attachment.filename, content_manager=raw_data_manager,
        )  # fmt: skip
    return email


# Printable ASCII words separated by single spaces: what compat32 folding leaves exactly as it is when
# the whole line fits in max_line_length (a test checks this against the stdlib folder).
PLAIN_HEADER = re.compile(r"[!-~]+(?: [!-~]+)*")


class _Generator(BytesGenerator):
    """BytesGenerator that writes short plain header lines directly.

    The stdlib folds every header through email.header.Header, even a 30-character ASCII one; that
    was a third of the CPU `outbox send` spent per message. Anything not plain or too long still goes
    through the policy's folder, so the bytes are the same as `EmailMessage.as_bytes()`.
    """

    def _write_headers(self, msg):
        limit = self.policy.max_line_length or 0
        write = self._fp.write
        for name, value in msg.raw_items():
            if (
                type(value) is str
                and (not limit or len(name) + 2 + len(value) <= limit)
                and PLAIN_HEADER.fullmatch(value)
            ):
                write(f"{name}: {value}{self.policy.linesep}".encode("ascii"))
            else:
                write(self.policy.fold_binary(name, value))
        self.write(self._NL)


@lru_cache(maxsize=4)
def _policy_with(policy, linesep: str):
    return policy.clone(linesep=linesep)


def as_bytes(email: EmailMessage, linesep: str | None = None) -> bytes:
    """The same bytes as `email.as_bytes()`, faster for the plain headers of typical mail.
    `linesep="\r\n"` gives the CRLF line ends SMTP requires (a Maildir file keeps "\n")."""
    policy = email.policy if linesep is None else _policy_with(email.policy, linesep)
    fp = BytesIO()
    _Generator(fp, mangle_from_=False, policy=policy).flatten(email, unixfrom=False)
    return fp.getvalue()


def envelope_sender(msg: OutgoingMessage, default_from: str) -> str:
    return _envelope_address(msg.from_addr or default_from)


@lru_cache(maxsize=64)
def _envelope_address(value: str) -> str:
    return parseaddr(value)[1]


# A bare address with nothing parseaddr() would change (no display name, quotes, comments or spaces).
BARE_ADDRESS = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[^\s<>()\[\]\\,;:\"@]+")


def envelope_recipient(msg: OutgoingMessage) -> str:
    if BARE_ADDRESS.fullmatch(msg.to_addr):
        return msg.to_addr
    return parseaddr(msg.to_addr)[1] or msg.to_addr
