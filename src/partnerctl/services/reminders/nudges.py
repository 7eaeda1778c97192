"""Nudges: an admin's message to every bookkeeper of a client about chosen tasks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from partnerctl.errors import Conflict, InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import get_client_for, require_admin
from partnerctl.services.outbox import queue_template
from partnerctl.services.reminders.schedule import Clock, lock_schedule, system_clock, utc_now
from partnerctl.services.reminders.topics import figure_text, labels_for, parse_topics, recipient_name
from partnerctl.store.models import Client, ClientAssignment, ReminderNudge, User
from partnerctl.store.models.clients import ClientStatus
from partnerctl.store.models.core import Role
from partnerctl.store.models.reminders import ALL_TOPICS

NUDGE_REPEAT_WINDOW = timedelta(hours=24)


@dataclass
class NudgeResult:
    client_ref: str
    client_name: str
    tasks: list[str]
    recipients: list[str]
    nudge_id: int


@dataclass(frozen=True)
class NudgeMail:
    """One bookkeeper's nudge e-mail: the arguments of outbox.queue_template."""

    to: str
    language: str
    dedupe_key: str
    context: dict[str, object]


def _nudge_fingerprint(client_id: int, tasks: Sequence[str], comment: str) -> str:
    payload = json.dumps([client_id, list(tasks), comment.strip()], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _bookkeepers(session: Session, client: Client) -> list[User]:
    """The active bookkeepers assigned to `client`, by e-mail; Conflict when there are none."""
    bookkeepers = list(
        session.exec(
            select(User)
            .join(ClientAssignment, ClientAssignment.user_id == User.id)
            .where(
                ClientAssignment.client_id == client.id,
                User.role == Role.bookkeeper,
                User.active == sa.true(),
            )
            .order_by(User.email)
        )
    )
    if not bookkeepers:
        raise Conflict(
            f"client {client.ref} has no active bookkeeper assigned; nobody to nudge",
            hint=f"assign one: partnerctl client assign {client.ref} EMAIL",
        )
    return bookkeepers


def _recent_nudge(session: Session, fingerprint: str, at: datetime) -> ReminderNudge | None:
    """The latest identical nudge inside the repeat window, if any."""
    return session.exec(
        select(ReminderNudge)
        .where(ReminderNudge.fingerprint == fingerprint, ReminderNudge.created_at > at - NUDGE_REPEAT_WINDOW)
        .order_by(ReminderNudge.created_at.desc())
    ).first()


def nudge_mails(
    client: Client,
    bookkeepers: Sequence[User],
    tasks: Sequence[str],
    comment: str,
    sender: User,
    nudge_id: int,
) -> list[NudgeMail]:
    """What each bookkeeper is sent: the chosen figures in their language, and the comment (pure)."""
    mails = []
    for user in bookkeepers:
        labels = labels_for(user.language)
        lines = [
            f"  - {labels[topic]}: "
            + figure_text(
                topic,
                client.missing_receipts,
                client.wallet_balance,
                client.expenses_ready,
                client.currency,
                user.language,
            )
            for topic in tasks
        ]
        context: dict[str, object] = {
            "name": recipient_name(user.name, user.email),
            "sender": sender.name or sender.email,
            "sender_email": sender.email,
            "client_name": client.name,
            "client_ref": client.ref,
            "tasks": "\n".join(lines),
            "comment_block": f"{labels['comment']}:\n{comment}\n" if comment else "",
        }
        mails.append(NudgeMail(user.email, user.language, f"nudge:{nudge_id}:{user.id}", context))
    return mails


def nudge(
    session: Session,
    actor: User,
    client_ref: str,
    *,
    tasks: Sequence[str],
    comment: str = "",
    again: bool = False,
    now: datetime | None = None,
    clock: Clock = system_clock,
) -> NudgeResult:
    """E-mail every active bookkeeper assigned to a client about chosen tasks (admins only)."""
    require_admin(actor, "reminder nudge")
    if not tasks:
        raise InvalidInput(f"name at least one --task: {', '.join(ALL_TOPICS)}")
    chosen = parse_topics(tasks)
    comment = (comment or "").strip()
    at = utc_now(now, clock)
    lock_schedule(session)  # two identical nudges at once: the second sees the first
    client = get_client_for(session, actor, client_ref)
    if client.status == ClientStatus.archived:
        raise Conflict(f"client {client.ref} is archived")
    bookkeepers = _bookkeepers(session, client)
    fingerprint = _nudge_fingerprint(client.id, chosen, comment)
    recent = _recent_nudge(session, fingerprint, at)
    if recent is not None and not again:
        raise Conflict(
            f"the same nudge for {client.ref} was sent at {recent.created_at:%Y-%m-%d %H:%M} UTC by {recent.sent_by}",
            hint="pass --again to send it once more",
        )
    record = ReminderNudge(
        client_id=client.id,
        tasks=chosen,
        comment=comment,
        fingerprint=fingerprint,
        recipients=len(bookkeepers),
        sent_by=actor.email,
        created_at=at,
    )
    session.add(record)
    session.flush()
    for mail in nudge_mails(client, bookkeepers, chosen, comment, actor, record.id):
        queue_template(
            session,
            template="nudge",
            language=mail.language,
            to=mail.to,
            dedupe_key=mail.dedupe_key,
            kind="nudge",
            context=mail.context,
            client_id=client.id,
        )
    recipients = [u.email for u in bookkeepers]
    audit.record(
        session,
        actor,
        "reminder.nudge",
        "client",
        client.ref,
        after={"tasks": chosen, "comment": comment, "recipients": recipients, "again": recent is not None},
    )
    return NudgeResult(client.ref, client.name, chosen, recipients, record.id)
