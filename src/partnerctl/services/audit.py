"""The audit log: one event per mutation, flushed in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from partnerctl.store.models import AuditEvent, User
from partnerctl.values import to_jsonable

# Where a command's session keeps the real user's e-mail (Session.info), for `actor_fields`.
ACTING_KEY = "partnerctl.acting_user"

# Fields that must never reach the audit log, whatever a caller passes.
_SECRET_FIELDS = {"password", "password_hash", "secret", "token", "hash", "pw_fingerprint"}


# session.info key of the list that collects events inside `grouped`.
_GROUP = "partnerctl.audit.group"


def _clean(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: to_jsonable(v) for k, v in data.items() if k not in _SECRET_FIELDS}


def actor_fields(session: Session, actor: User | str) -> dict[str, str | None]:
    """`actor` and `on_behalf_of` of an event: when an admin acts for another user (--as), the
    real user (kept in Session.info by the command's context) is the actor, on behalf of `actor`."""
    email = actor if isinstance(actor, str) else actor.email
    real = session.info.get(ACTING_KEY)
    if real and real != email:
        return {"actor": real, "on_behalf_of": email}
    return {"actor": email, "on_behalf_of": None}


def record(
    session: Session,
    actor: User | str,
    action: str,
    entity: str,
    key: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        **actor_fields(session, actor),
        action=action,
        entity=entity,
        key=str(key),
        before=_clean(before),
        after=_clean(after),
    )
    group = session.info.get(_GROUP)
    if group is not None:
        group.append(event)
    else:
        session.add(event)
    return event


@contextmanager
def grouped(session: Session) -> Iterator[list[AuditEvent]]:
    """Collect the events recorded inside instead of writing them, so that the caller writes one
    event for a change made of several service calls (`book apply`: one event per object)."""
    outer = session.info.get(_GROUP)
    events: list[AuditEvent] = []
    session.info[_GROUP] = events
    try:
        yield events
    finally:
        if outer is None:
            session.info.pop(_GROUP, None)
        else:
            session.info[_GROUP] = outer


def list_events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    entity: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    query = select(AuditEvent)
    if actor:
        # --actor EMAIL: what that user did, themselves or through an admin acting for them.
        who = actor.strip().lower()
        query = query.where((AuditEvent.actor == who) | (AuditEvent.on_behalf_of == who))
    if action:
        # `--action client` matches client.add, client.edit, ...
        query = query.where((AuditEvent.action == action) | col(AuditEvent.action).startswith(action + "."))
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if since:
        query = query.where(AuditEvent.at >= since)
    query = query.order_by(col(AuditEvent.id).desc()).limit(limit)
    return list(session.exec(query))
