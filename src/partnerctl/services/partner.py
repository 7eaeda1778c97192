"""The partner space's own identity: its name, as every message and document shows it."""

from __future__ import annotations

from sqlmodel import Session, select

from partnerctl.store.models import Partner

# What a message says when the store has no partner row (a store made before `init` finished).
FALLBACK_PARTNER_NAME = "partnerctl"


def get_partner(session: Session) -> Partner | None:
    return session.exec(select(Partner).order_by(Partner.id)).first()


def partner_name(session: Session) -> str:
    """The partner's name for messages and documents; never empty."""
    name = session.exec(select(Partner.name).order_by(Partner.id)).first()
    return name or FALLBACK_PARTNER_NAME
