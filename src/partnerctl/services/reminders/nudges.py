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
from partnerctl.services.access import require_admin
from partnerctl.services.outbox import queue_template
from partnerctl.services.reminders.schedule import Clock, lock_schedule, system_clock, utc_now
from partnerctl.services.reminders.subscriptions import resolve_client
from partnerctl.services.reminders.topics import format_amount, labels_for, parse_topics
from partnerctl.store.models import (
    ClientAssignment,
    ReminderNudge,
    User,
)
from partnerctl.store.models.clients import ClientStatus
from partnerctl.store.models.core import Role
from partnerctl.store.models.reminders import ALL_TOPICS, Topic

NUDGE_REPEAT_WINDOW = timedelta(hours=24)


@dataclass
class NudgeResult:
    client_ref: str
    client_name: str
    tasks: list[str]
    recipients: list[str]
    nudge_id: int


def _nudge_fingerprint(client_id: int, tasks: Sequence[str], comment: str) -> str:
    payload = json.dumps([client_id, list(tasks), comment.strip()], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
    client = resolve_client(session, actor, client_ref)
    if client.status == ClientStatus.archived:
        raise Conflict(f"client {client.ref} is archived")
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
    fingerprint = _nudge_fingerprint(client.id, chosen, comment)
    recent = session.exec(
        select(ReminderNudge)
        .where(ReminderNudge.fingerprint == fingerprint, ReminderNudge.created_at > at - NUDGE_REPEAT_WINDOW)
        .order_by(ReminderNudge.created_at.desc())
    ).first()
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

    sender = actor.name or actor.email
    for user in bookkeepers:
        labels = labels_for(user.language)
        lines = []
        for topic in chosen:
            if topic == Topic.balance:
                shown = format_amount(client.wallet_balance, client.currency, user.language)
            elif topic == Topic.missing_receipts:
                shown = str(client.missing_receipts)
            else:
                shown = str(client.expenses_ready)
            lines.append(f"  - {labels[topic]}: {shown}")
        queue_template(
            session,
            template="nudge",
            language=user.language,
            to=user.email,
            dedupe_key=f"nudge:{record.id}:{user.id}",
            kind="nudge",
            context={
                "name": user.name or user.email.split("@")[0],
                "sender": sender,
                "sender_email": actor.email,
                "client_name": client.name,
                "client_ref": client.ref,
                "tasks": "\n".join(lines),
                "comment_block": f"{labels['comment']}:\n{comment}\n" if comment else "",
            },
        )
    audit.record(
        session,
        actor,
        "reminder.nudge",
        "client",
        client.ref,
        after={
            "tasks": chosen,
            "comment": comment,
            "recipients": [u.email for u in bookkeepers],
            "again": bool(recent is not None),
        },
    )
    return NudgeResult(client.ref, client.name, chosen, [u.email for u in bookkeepers], record.id)
