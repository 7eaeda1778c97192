"""Who receives which client's digest, how often, and about what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from partnerctl.errors import Conflict, Forbidden, NotFound
from partnerctl.services import audit
from partnerctl.services.access import get_client_for, is_admin, require_admin, visible_clients_filter
from partnerctl.services.reminders.schedule import parse_frequency
from partnerctl.services.reminders.topics import parse_topics
from partnerctl.services.users import get_user
from partnerctl.store.models import Client, ClientAssignment, ReminderSubscription, User
from partnerctl.store.models.clients import ClientStatus
from partnerctl.store.models.core import Role
from partnerctl.store.types import utcnow


def still_visible(query: Any) -> Any:
    """Only the subscriptions whose user may still see the client (query joins ReminderSubscription
    and User): admins see every client, a bookkeeper the clients still assigned to them. One rule
    for `reminder list` and the digests: unassigned, a subscription rests; reassigned, it counts again.
    A join rather than a correlated EXISTS: PostgreSQL then hashes it whatever its statistics say."""
    S, A = ReminderSubscription, ClientAssignment
    return query.outerjoin(A, sa.and_(A.client_id == S.client_id, A.user_id == S.user_id)).where(
        sa.or_(User.role == Role.admin.value, A.user_id.is_not(None))
    )


def _may_see(session: Session, user: User, client: Client) -> bool:
    """Whether `user` may see `client` (access's one visibility rule: admins all, bookkeepers assigned)."""
    query = select(Client.id).where(Client.id == client.id, visible_clients_filter(user))
    return session.exec(query).first() is not None


@dataclass(frozen=True)
class SubscriptionRow:
    user: str
    client: str
    client_name: str
    client_status: str
    frequency: str
    topics: list[str]
    created_at: datetime


@dataclass(frozen=True)
class Subscribed:
    user: str
    client: str
    client_name: str
    frequency: str
    topics: list[str]
    created: bool


def target_user(session: Session, actor: User, email: str | None, what: str) -> User:
    """The user `email` names (the actor when none); only an admin may act for someone else."""
    if email is None or email.strip().lower() == actor.email:
        return actor
    if not is_admin(actor):
        raise Forbidden(f"only admins may {what} for another user; {actor.email} is a {actor.role}")
    return get_user(session, email)


def subscribe(
    session: Session,
    actor: User,
    client_ref: str,
    *,
    frequency: str,
    topics: Sequence[str] | None = None,
    user_email: str | None = None,
) -> Subscribed:
    """Subscribe a user to one client's digest; subscribing again at a frequency changes its topics."""
    freq = parse_frequency(frequency)
    chosen = parse_topics(topics)
    user = target_user(session, actor, user_email, "subscribe")
    if not user.active:
        raise Conflict(f"user {user.email} is deactivated and gets no digests")
    client = get_client_for(session, actor, client_ref)
    if client.status == ClientStatus.archived:
        raise Conflict(f"client {client.ref} is archived and has no digests")
    if not _may_see(session, user, client):
        raise Forbidden(
            f"{user.email} is a bookkeeper not assigned to client {client.ref}",
            hint=f"assign them first: partnerctl client assign {client.ref} {user.email}",
        )
    sub = session.exec(
        select(ReminderSubscription).where(
            ReminderSubscription.user_id == user.id,
            ReminderSubscription.client_id == client.id,
            ReminderSubscription.frequency == freq,
        )
    ).first()
    created = sub is None
    if sub is None:
        sub = ReminderSubscription(
            user_id=user.id, client_id=client.id, frequency=freq, topics=chosen, created_by=actor.email
        )
        before = None
        after = {"user": user.email, "client": client.ref, "frequency": freq.value, "topics": chosen}
    else:
        before, after = {"topics": list(sub.topics)}, {"topics": chosen}
        sub.topics = chosen
        sub.updated_at = utcnow()
    session.add(sub)
    session.flush()
    key = f"{user.email}/{client.ref}/{freq.value}"
    audit.record(
        session, actor, "reminder.subscribe", "reminder_subscription", key, before=before, after=after
    )
    return Subscribed(user.email, client.ref, client.name, freq.value, chosen, created=created)


def unsubscribe(
    session: Session,
    actor: User,
    client_ref: str,
    *,
    user_email: str | None = None,
    frequency: str | None = None,
) -> int:
    """Remove a user's digests of one client (all frequencies unless one is named); returns how many."""
    freq = parse_frequency(frequency) if frequency else None
    user = target_user(session, actor, user_email, "unsubscribe")
    client = get_client_for(session, actor, client_ref)
    query = select(ReminderSubscription).where(
        ReminderSubscription.user_id == user.id, ReminderSubscription.client_id == client.id
    )
    if freq is not None:
        query = query.where(ReminderSubscription.frequency == freq)
    subs = list(session.exec(query))
    if not subs:
        raise NotFound(
            f"{user.email} has no {freq.value + ' ' if freq else ''}reminder subscription for client {client.ref}"
        )
    for sub in subs:
        audit.record(
            session,
            actor,
            "reminder.unsubscribe",
            "reminder_subscription",
            f"{user.email}/{client.ref}/{sub.frequency}",
            before={"topics": list(sub.topics)},
        )
        session.delete(sub)
    session.flush()
    return len(subs)


def list_subscriptions(
    session: Session, actor: User, *, user_email: str | None = None, everyone: bool = False
) -> list[SubscriptionRow]:
    """One user's subscriptions (the actor's unless named), or everyone's (admins only)."""
    if everyone:
        require_admin(actor, "reminder list --all")
    query = (
        select(ReminderSubscription, User.email, Client.ref, Client.name, Client.status)
        .join(User, User.id == ReminderSubscription.user_id)
        .join(Client, Client.id == ReminderSubscription.client_id)
        .order_by(User.email, Client.name_key, Client.ref, ReminderSubscription.frequency)
    )
    if not everyone:
        user = target_user(session, actor, user_email, "list reminders")
        query = query.where(ReminderSubscription.user_id == user.id)
    query = still_visible(query)
    return [
        SubscriptionRow(email, ref, name, str(status), str(sub.frequency), list(sub.topics), sub.created_at)
        for sub, email, ref, name, status in session.exec(query)
    ]
