"""Queueing outgoing e-mail in the caller's transaction: one row per message, deduplicated by key.

Every path that queues mail builds its row with message_values (rendered_values for a rendered
template): one at a time with a dedupe look-up (queue_message, queue_template), or many in one
statement (queue_many, for digests). Delivery is services/outbox/delivery.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from partnerctl.errors import Conflict, NotFound
from partnerctl.mail.message import Attachment
from partnerctl.mail.render import render
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.validation import normalize_email, normalize_language, parse_choice
from partnerctl.store.models import OutboxAttachment, OutboxMessage, User
from partnerctl.store.models.outbox import OutboxStatus
from partnerctl.store.types import utcnow


class RenderedMail(Protocol):
    """A rendered message (mail.render.Rendered, a rendered digest): what its outbox row is made of."""

    subject: str
    text: str
    html: str | None
    language: str


def message_values(
    *,
    dedupe_key: str,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    language: str = "en",
    at: datetime | None = None,
    client_id: int | None = None,
) -> dict[str, object]:
    """The column values of a new outbox row, pending and due at `at` (now by default).

    `client_id` names the client the mail is about: on PostgreSQL a bookkeeper's row-level
    security then shows them their clients' mail only. Mail about no client (digests) has none.
    """
    stamp = at or utcnow()
    return {
        "dedupe_key": dedupe_key,
        "client_id": client_id,
        "kind": kind,
        "to_addr": to,
        "subject": subject,
        "body_text": text,
        "body_html": html,
        "language": language,
        "status": OutboxStatus.pending.value,
        "attempts": 0,
        "next_attempt_at": stamp,
        "created_at": stamp,
    }


def rendered_values(
    rendered: RenderedMail,
    *,
    dedupe_key: str,
    kind: str,
    to: str,
    at: datetime | None = None,
    client_id: int | None = None,
) -> dict[str, object]:
    """message_values for a rendered message: its subject, bodies and the language it was rendered in."""
    return message_values(
        dedupe_key=dedupe_key,
        kind=kind,
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        language=rendered.language,
        at=at,
        client_id=client_id,
    )


def _queue_values(session: Session, values: dict[str, object]) -> tuple[OutboxMessage, bool]:
    existing = session.exec(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == values["dedupe_key"])
    ).first()
    if existing is not None:
        return existing, False
    message = OutboxMessage(**values)
    session.add(message)
    session.flush()
    return message, True


def queue_message(
    session: Session,
    *,
    dedupe_key: str,
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    language: str = "en",
) -> tuple[OutboxMessage, bool]:
    """Queue one message; the same dedupe key twice keeps one message. Returns (message, created)."""
    values = message_values(
        dedupe_key=dedupe_key, kind=kind, to=to, subject=subject, text=text, html=html, language=language
    )
    return _queue_values(session, values)


def queue_template(
    session: Session,
    *,
    template: str,
    language: str | None,
    to: str,
    dedupe_key: str,
    context: dict[str, object],
    kind: str | None = None,
    attachments: Sequence[Attachment] = (),
    client_id: int | None = None,
) -> tuple[OutboxMessage, bool]:
    """Render a shipped (or overridden) mail template in the recipient's language and queue it,
    with its files (stored in the same transaction; an already queued key keeps its own)."""
    rendered = render(template, language, context)
    values = rendered_values(
        rendered, dedupe_key=dedupe_key, kind=kind or template, to=to, client_id=client_id
    )
    message, created = _queue_values(session, {**values, "attachments": len(attachments)})
    if created and attachments:
        session.execute(sa.insert(OutboxAttachment), [
            {"message_id": message.id, "filename": a.filename, "content_type": a.content_type, "content": a.content}
            for a in attachments
        ])  # fmt: skip
    return message, created


def queue_many(session: Session, rows: Sequence[dict[str, object]]) -> None:
    """Queue message_values rows with one bulk INSERT; the caller knows their dedupe keys are new."""
    if rows:
        session.execute(sa.insert(OutboxMessage), list(rows))


def list_messages(
    session: Session, *, status: str | None = None, limit: int = 50, kind: str | None = None
) -> list[OutboxMessage]:
    """Newest first."""
    query = select(OutboxMessage)
    if status is not None:
        query = query.where(OutboxMessage.status == parse_status(status))
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.exec(query.order_by(col(OutboxMessage.id).desc()).limit(limit)))


def count_by_status(session: Session) -> dict[str, int]:
    """How many messages are pending, sent and failed (every status, zeros included)."""
    rows = session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = {s.value: 0 for s in OutboxStatus}
    counts.update({str(status): n for status, n in rows})
    return counts


def parse_status(raw: str) -> OutboxStatus:
    return parse_choice(OutboxStatus, raw, "status")


def get_message(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no outbox message {message_id}", hint="list them with `partnerctl outbox list`")
    return message


def retry_message(session: Session, actor: User, message_id: int) -> OutboxMessage:
    """Put a failed message back in the queue, due now (admins only)."""
    require_admin(actor, "outbox retry")
    message = get_message(session, message_id)
    if message.status != OutboxStatus.failed:
        raise Conflict(
            f"outbox message {message_id} is {message.status}, only a failed message can be retried"
        )
    before = {"status": message.status, "last_error": message.last_error, "attempts": message.attempts}
    message.status = OutboxStatus.pending
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.lease_owner = None
    message.lease_until = None
    session.add(message)
    session.flush()
    audit.record(
        session, actor, "outbox.retry", "outbox", str(message_id), before=before, after={"status": "pending"}
    )
    return message


def queue_test_message(session: Session, actor: User, *, to: str, language: str = "en") -> OutboxMessage:
    """Queue the shipped `test` template to `to`, to check the mail set-up end to end (admins only)."""
    require_admin(actor, "outbox test")
    address = normalize_email(to)
    lang = normalize_language(language)
    message, _ = queue_template(
        session,
        template="test",
        language=lang,
        to=address,
        dedupe_key=f"test:{uuid.uuid4().hex}",
        context={
            "actor": actor.name or actor.email,
            "email": address,
            "at": utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        },
        kind="test",
    )
    audit.record(
        session, actor, "outbox.test", "outbox", str(message.id), after={"to": address, "language": lang}
    )
    return message
