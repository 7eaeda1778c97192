"""Drift for cron: a plan with changes queued as an e-mail in the outbox, once per distinct drift."""

from __future__ import annotations

import hashlib

from sqlmodel import Session

from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.book.plan import Plan
from partnerctl.services.outbox import queue_template
from partnerctl.services.validation import normalize_email
from partnerctl.store.models import User

DRIFT_TEMPLATE = "book_drift"


def drift_key(plan: Plan) -> str:
    """The same store state against the same files is the same drift, however often cron plans it."""
    files = "".join(f"{rel}={digest}\n" for rel, digest in sorted(plan.files.items()))
    return hashlib.sha256(f"{plan.fingerprint}\n{files}".encode()).hexdigest()[:32]


def drift_recipients(actor: User, to: list[str]) -> list[str]:
    """The addresses a drift report may go to: checked before planning (admins only)."""
    require_admin(actor, "book plan --mail-to")
    return sorted({normalize_email(a, field="--mail-to address") for a in to})


def queue_drift_report(
    session: Session, actor: User, plan: Plan, *, to: list[str], report: str, directory: str
) -> list[str]:
    """Queue `report` (the plan as people read it) to each address, unless this drift was queued to
    it before; `outbox send` delivers it. Admins only. The addresses it was queued to now."""
    addresses = drift_recipients(actor, to)
    key = drift_key(plan)
    queued = []
    for address in addresses:
        _, created = queue_template(
            session, template=DRIFT_TEMPLATE, language=actor.language, to=address,
            dedupe_key=f"book-drift:{key}:{address}",
            context={"directory": directory, "changes": len(plan.changes), "report": report},
        )  # fmt: skip
        if created:
            queued.append(address)
    if queued:
        audit.record(session, actor, "book.drift", "book", directory,
                     after={"to": queued, "changes": len(plan.changes), "drift": key})  # fmt: skip
    return queued
