"""Planning, rendering and queueing the due digests, each (user, frequency, period) at most once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from html import escape

import sqlalchemy as sa
from sqlmodel import Session

from partnerctl.mail.render import render
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.outbox import queue_many, rendered_values
from partnerctl.services.partner import partner_name
from partnerctl.services.reminders.schedule import (
    FREQUENCIES,
    Clock,
    Period,
    ScheduleSpec,
    current_period,
    get_schedule,
    lock_schedule,
    parse_frequency,
    system_clock,
    utc_now,
)
from partnerctl.services.reminders.subscriptions import still_visible, target_user
from partnerctl.services.reminders.topics import figure_text, is_outstanding, labels_for, recipient_name
from partnerctl.store.models import (
    Client,
    ReminderDigest,
    ReminderSchedule,
    ReminderSubscription,
    User,
)
from partnerctl.store.models.clients import ClientStatus
from partnerctl.store.models.reminders import ALL_TOPICS, DigestStatus
from partnerctl.store.types import utcnow


@dataclass(frozen=True)
class Section:
    """One client's part of a digest, in one language; shared by every user with the same topics."""

    ref: str
    name: str
    figures: tuple[tuple[str, str, bool], ...]  # (label, shown value, outstanding)
    outstanding: int
    text: str


@dataclass
class Digest:
    user_id: int
    email: str
    name: str
    language: str
    frequency: str
    period: Period
    sections: list[Section] = field(default_factory=list)
    outstanding: int = 0

    @property
    def dedupe_key(self) -> str:
        return f"digest:{self.user_id}:{self.frequency}:{self.period.key}"

    @property
    def is_empty(self) -> bool:
        return self.outstanding == 0


def _subscription_rows(
    session: Session, periods: dict[str, Period], *, user_id: int | None, only_unsent: bool
):
    """One query for every due (user, client) pair: active users, live clients, still assigned."""
    S, U, C, D = ReminderSubscription, User, Client, ReminderDigest
    # Joins and NOT IN rather than correlated EXISTS: PostgreSQL then hashes them whatever its
    # statistics say (right after a bulk import it has none and would loop per row).
    query = (
        # Topics as text: a handful of distinct values, decoded once each rather than once per row.
        sa.select(
            S.user_id, S.frequency, sa.cast(S.topics, sa.Text), S.client_id, U.email, U.name, U.language
        )
        .join(U, U.id == S.user_id)
        .join(C, C.id == S.client_id)
        .where(U.active == sa.true(), C.status != ClientStatus.archived.value, S.frequency.in_(list(periods)))
        .order_by(U.email, S.frequency, C.name_key, C.ref)
    )
    # A bookkeeper gets only the clients still assigned to them.
    query = still_visible(query)
    if user_id is not None:
        query = query.where(S.user_id == user_id)
    if only_unsent:
        done = sa.select(D.user_id, D.frequency).where(
            sa.or_(*(sa.and_(D.frequency == f, D.period == p.key) for f, p in periods.items()))
        )
        query = query.where(sa.tuple_(S.user_id, S.frequency).not_in(done))
    # Core rows, not ORM loading: this is the one query that grows with the number of subscriptions.
    return session.connection().execute(query)


def _client_figures(session: Session, periods: dict[str, Period], user_id: int | None) -> dict[int, tuple]:
    """Every live client someone subscribed to at these frequencies, once each (one query)."""
    S, C = ReminderSubscription, Client
    subscribed = sa.select(S.client_id).where(S.frequency.in_(list(periods)))
    if user_id is not None:
        subscribed = subscribed.where(S.user_id == user_id)
    query = sa.select(
        C.id, C.ref, C.name, C.currency, C.missing_receipts, C.wallet_balance, C.expenses_ready
    ).where(C.status != ClientStatus.archived.value, C.id.in_(subscribed))
    return {row[0]: tuple(row[1:]) for row in session.connection().execute(query)}


def _section(client: tuple, topics: Sequence[str], language: str) -> Section:
    ref, name, currency, missing, balance, ready = client
    labels = labels_for(language)
    figures = tuple(
        (
            labels[topic],
            figure_text(topic, missing, balance, ready, currency, language),
            is_outstanding(topic, missing, balance, ready),
        )
        for topic in topics
    )
    outstanding = sum(1 for *_, due in figures if due)
    lines = [f"{name} ({ref})"]
    lines += [f"  {'*' if due else '-'} {label}: {shown}" for label, shown, due in figures]
    if not outstanding:
        lines.append(f"  ({labels['nothing']})")
    return Section(ref, name, figures, outstanding, "\n".join(lines))


def plan_digests(
    session: Session,
    now: datetime,
    *,
    frequencies: Iterable[str] | None = None,
    user_id: int | None = None,
    only_unsent: bool = True,
    schedule: ReminderSchedule | None = None,
) -> list[Digest]:
    """The digests of the current periods (by default only those not dealt with yet), one per user and frequency."""
    spec = ScheduleSpec.from_row(schedule or get_schedule(session))
    periods = {f: current_period(spec, f, now) for f in (frequencies or FREQUENCIES)}
    clients = _client_figures(session, periods, user_id)
    topic_cache: dict[str | None, list[str]] = {}
    section_cache: dict[tuple, Section] = {}
    digests: list[Digest] = []
    current: Digest | None = None
    for uid, freq, topics_raw, client_id, email, name, language in _subscription_rows(
        session, periods, user_id=user_id, only_unsent=only_unsent
    ):
        client = clients.get(client_id)
        if client is None:  # archived between the two queries
            continue
        freq = str(freq)
        if current is None or current.user_id != uid or current.frequency != freq:
            current = Digest(uid, email, recipient_name(name, email), language, freq, periods[freq])
            digests.append(current)
        topics = topic_cache.get(topics_raw)
        if topics is None:
            topics = topic_cache[topics_raw] = [
                t for t in (json.loads(topics_raw) if topics_raw else ALL_TOPICS)
            ]
        key = (client_id, topics_raw, language)
        section = section_cache.get(key)
        if section is None:
            section = section_cache[key] = _section(client, topics, language)
        current.sections.append(section)
        current.outstanding += section.outstanding
    return digests


def render_sections(digest: Digest) -> str:
    return "\n\n".join(section.text for section in digest.sections)


def digest_context(digest: Digest, partner: str) -> dict[str, object]:
    labels = labels_for(digest.language)
    return {
        "name": digest.name,
        "email": digest.email,
        "partner": partner,
        "frequency": digest.frequency,
        "frequency_label": labels[digest.frequency],
        "period": digest.period.key,
        "client_count": len(digest.sections),
        "attention_count": sum(1 for s in digest.sections if s.outstanding),
        "outstanding_count": digest.outstanding,
        "sections": render_sections(digest),
    }


@dataclass(frozen=True)
class RenderedDigest:
    digest: Digest
    subject: str
    text: str
    html: str | None
    language: str


class DigestRenderer:
    """Renders digests through mail.render, loading each language's template (or override) once.

    The template is rendered once per language with a marker for every value, then each digest
    only swaps the markers for its values: plain replacement, so a value is never re-expanded.
    """

    def __init__(self, partner: str) -> None:
        self.partner = partner
        self._templates: dict[str, tuple[str, str, str | None, str]] = {}

    def _template(self, language: str, keys: Iterable[str]) -> tuple[str, str, str | None, str]:
        found = self._templates.get(language)
        if found is None:
            r = render("digest", language, {k: f"\0{k}\0" for k in keys})
            found = self._templates[language] = (r.subject, r.text, r.html, r.language)
        return found

    def __call__(self, digest: Digest) -> RenderedDigest:
        context = digest_context(digest, self.partner)
        subject, text, html, used = self._template(digest.language, context)
        values = {f"\0{k}\0": "" if v is None else str(v) for k, v in context.items()}
        for marker, value in values.items():
            subject = subject.replace(marker, value)
            text = text.replace(marker, value)
        if html is not None:
            for marker, value in values.items():
                html = html.replace(marker, escape(value))
        return RenderedDigest(digest, subject, text, html, used)


@dataclass
class SendResult:
    now: datetime
    periods: dict[str, str]
    queued: list[Digest] = field(default_factory=list)
    empty: list[Digest] = field(default_factory=list)
    dry_run: bool = False

    @property
    def nothing_due(self) -> bool:
        return not self.queued and not self.empty


def _due(
    session: Session,
    schedule: ReminderSchedule,
    at: datetime,
    freqs: list[str],
    *,
    send_empty: bool,
    dry_run: bool,
) -> SendResult:
    """The digests of the current periods not dealt with yet: those to queue, and the empty ones."""
    spec = ScheduleSpec.from_row(schedule)
    periods = {f: current_period(spec, f, at).key for f in freqs}
    result = SendResult(now=at, periods=periods, dry_run=dry_run)
    for digest in plan_digests(session, at, frequencies=freqs, schedule=schedule):
        (result.empty if digest.is_empty and not send_empty else result.queued).append(digest)
    return result


def _send_rows(
    result: SendResult, render_one: DigestRenderer, stamp: datetime
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """What a send writes (pure): an outbox row per queued digest, a reminder_digests row per digest.

    The outbox rows are built as every queued mail's are (outbox.rendered_values).
    """
    messages = [
        rendered_values(render_one(d), dedupe_key=d.dedupe_key, kind="digest", to=d.email, at=stamp)
        for d in result.queued
    ]
    records = [
        {
            "user_id": digest.user_id,
            "frequency": digest.frequency,
            "period": digest.period.key,
            "status": status.value,
            "dedupe_key": digest.dedupe_key,
            "clients": len(digest.sections),
            "outstanding": digest.outstanding,
            "created_at": stamp,
        }
        for status, group in ((DigestStatus.queued, result.queued), (DigestStatus.empty, result.empty))
        for digest in group
    ]
    return messages, records


def queue_due_digests(
    session: Session,
    actor: User | str,
    *,
    now: datetime | None = None,
    clock: Clock = system_clock,
    send_empty: bool = False,
    dry_run: bool = False,
    frequencies: Iterable[str] | None = None,
) -> SendResult:
    """Queue one digest per user and current period that has none yet; a fixed number of queries.

    Each (user, frequency, period) gets a reminder_digests row in the same transaction as its outbox
    message (or as the record that it was empty), so a later or concurrent run skips it.
    """
    if isinstance(actor, User):
        require_admin(actor, "reminder send")
    at = utc_now(now, clock)
    schedule = get_schedule(session) if dry_run else lock_schedule(session)
    freqs = [parse_frequency(f).value for f in frequencies] if frequencies else list(FREQUENCIES)
    result = _due(session, schedule, at, freqs, send_empty=send_empty, dry_run=dry_run)
    if dry_run or result.nothing_due:
        return result
    # Outbox timestamps are real time: delivery must not wait for an injected clock.
    messages, records = _send_rows(result, DigestRenderer(partner_name(session)), utcnow())
    # Bulk inserts: the statement count does not grow with the number of users.
    queue_many(session, messages)
    if records:
        session.execute(sa.insert(ReminderDigest), records)
    audit.record(
        session,
        actor,
        "reminder.send",
        "reminder_digest",
        ",".join(f"{f}:{p}" for f, p in result.periods.items()),
        after={
            "now": at.isoformat(),
            "queued": len(result.queued),
            "empty_skipped": len(result.empty),
            "send_empty": send_empty,
        },
    )
    session.flush()
    return result


def preview_digests(
    session: Session,
    actor: User,
    email: str,
    *,
    frequency: str | None = None,
    now: datetime | None = None,
    clock: Clock = system_clock,
) -> list[RenderedDigest]:
    """Render the digests `email` would get for the current periods, sent or not, queueing nothing."""
    user = target_user(session, actor, email, "preview reminders")
    freqs = [parse_frequency(frequency).value] if frequency else list(FREQUENCIES)
    at = utc_now(now, clock)
    if not user.active:
        return []
    digests = plan_digests(session, at, frequencies=freqs, user_id=user.id, only_unsent=False)
    render_one = DigestRenderer(partner_name(session))
    return [render_one(d) for d in digests]
