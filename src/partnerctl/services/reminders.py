"""Reminder digests and nudges: subscriptions, the partner-wide schedule, due periods, queueing once.

Time comes from an injectable clock (`now=` or `clock=`), so every rule about periods can be tested
without waiting: a period is computed in the schedule's timezone with zoneinfo (daylight saving
included), and a digest is keyed by (user, frequency, period) so it is queued at most once.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlmodel import Session, select

from partnerctl.errors import Conflict, Forbidden, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.users import get_user, require_admin
from partnerctl.store.models import (
    Client,
    ClientAssignment,
    OutboxMessage,
    Partner,
    ReminderDigest,
    ReminderNudge,
    ReminderSchedule,
    ReminderSubscription,
    User,
)
from partnerctl.store.models.clients import ClientStatus
from partnerctl.store.models.core import Role
from partnerctl.store.models.outbox import OutboxStatus
from partnerctl.store.models.reminders import ALL_TOPICS, DigestStatus, Frequency, Topic
from partnerctl.store.types import utcnow

Clock = Callable[[], datetime]
SCHEDULE_ID = 1
NUDGE_REPEAT_WINDOW = timedelta(hours=24)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FREQUENCIES = tuple(f.value for f in Frequency)


def system_clock() -> datetime:
    return utcnow()


def _now(now: datetime | None, clock: Clock) -> datetime:
    value = now if now is not None else clock()
    if value.tzinfo is None:
        raise InvalidInput("the current time must carry a timezone offset")
    return value.astimezone(UTC)


# -- labels in the recipient's language ---------------------------------------------------------
# The mail templates hold the sentences; these are the figure names they list, per language.

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "daily": "daily",
        "weekly": "weekly",
        "monthly": "monthly",
        "balance": "Wallet balance",
        "missing-receipts": "Missing receipts",
        "expenses-ready": "Expenses ready for export",
        "nothing": "Nothing outstanding",
        "comment": "Comment",
    },
    "nl": {
        "daily": "dagelijkse",
        "weekly": "wekelijkse",
        "monthly": "maandelijkse",
        "balance": "Saldo van de wallet",
        "missing-receipts": "Ontbrekende bonnetjes",
        "expenses-ready": "Uitgaven klaar voor export",
        "nothing": "Geen openstaande taken",
        "comment": "Opmerking",
    },
    "de": {
        "daily": "tägliche",
        "weekly": "wöchentliche",
        "monthly": "monatliche",
        "balance": "Wallet-Guthaben",
        "missing-receipts": "Fehlende Belege",
        "expenses-ready": "Ausgaben bereit für den Export",
        "nothing": "Keine offenen Aufgaben",
        "comment": "Kommentar",
    },
    "fr": {
        "daily": "quotidien",
        "weekly": "hebdomadaire",
        "monthly": "mensuel",
        "balance": "Solde du portefeuille",
        "missing-receipts": "Reçus manquants",
        "expenses-ready": "Dépenses prêtes pour l'export",
        "nothing": "Aucune tâche en attente",
        "comment": "Commentaire",
    },
    "da": {
        "daily": "daglige",
        "weekly": "ugentlige",
        "monthly": "månedlige",
        "balance": "Saldo i tegnebogen",
        "missing-receipts": "Manglende kvitteringer",
        "expenses-ready": "Udgifter klar til eksport",
        "nothing": "Ingen udestående opgaver",
        "comment": "Kommentar",
    },
}
# Thousands and decimal separators per language: 1,234.50 / 1.234,50 / 1 234,50.
_SEPARATORS = {"en": (",", "."), "nl": (".", ","), "de": (".", ","), "da": (".", ","), "fr": ("\u202f", ",")}


def labels_for(language: str | None) -> dict[str, str]:
    return LABELS.get((language or "en").lower(), LABELS["en"])


def format_amount(amount: Decimal, currency: str, language: str | None) -> str:
    thousands, decimal_sep = _SEPARATORS.get((language or "en").lower(), _SEPARATORS["en"])
    text = f"{Decimal(amount).quantize(Decimal('0.01')):,.2f}"  # 1,234.50
    text = text.replace(",", "\0").replace(".", decimal_sep).replace("\0", thousands)
    return f"{text} {currency}"


# -- topics and frequencies ---------------------------------------------------------------------


def parse_frequency(raw: str) -> Frequency:
    try:
        return Frequency(raw.strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown frequency {raw!r}: use daily, weekly or monthly") from None


def parse_topics(raw: Iterable[str] | None) -> list[str]:
    """Topics in their canonical order, without repeats; none named means all of them."""
    chosen: set[str] = set()
    for item in raw or ():
        for part in item.split(","):
            name = part.strip().lower().replace("_", "-")
            if not name:
                continue
            try:
                chosen.add(Topic(name).value)
            except ValueError:
                raise InvalidInput(f"unknown topic {part.strip()!r}: use {', '.join(ALL_TOPICS)}") from None
    return [t for t in ALL_TOPICS if t in chosen] if chosen else list(ALL_TOPICS)


def is_outstanding(topic: str, missing_receipts: int, wallet_balance: Decimal, expenses_ready: int) -> bool:
    """A figure is an outstanding task: receipts missing, expenses waiting, or a wallet needing a top-up."""
    if topic == Topic.missing_receipts:
        return missing_receipts > 0
    if topic == Topic.expenses_ready:
        return expenses_ready > 0
    return Decimal(wallet_balance) <= 0


# -- the schedule and its periods ---------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleSpec:
    time_of_day: time
    timezone: ZoneInfo
    weekday: int
    monthday: int | None

    @classmethod
    def from_row(cls, row: ReminderSchedule) -> ScheduleSpec:
        return cls(parse_time(row.time_of_day), parse_timezone(row.timezone), row.weekday, row.monthday)

    def due(self, day: date) -> datetime:
        """The UTC instant of `day` at the schedule's local time (a time skipped by DST runs an hour later)."""
        return datetime.combine(day, self.time_of_day, tzinfo=self.timezone).astimezone(UTC)

    def month_day(self, year: int, month: int) -> date:
        if self.monthday is None:
            first = date(year, month, 1)
            return first + timedelta(days=(self.weekday - first.weekday()) % 7)
        return date(year, month, min(self.monthday, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    frequency: str
    key: str
    day: date  # the local date the period's digest is due on
    due_at: datetime  # UTC
    next_due_at: datetime  # UTC: the period ends here


def _prev_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _period_key(frequency: str, day: date) -> str:
    if frequency == Frequency.daily:
        return day.isoformat()
    if frequency == Frequency.weekly:
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return f"{day.year}-{day.month:02d}"


def _anchor(spec: ScheduleSpec, frequency: str, local_day: date) -> date:
    """The latest due date on or before `local_day`."""
    if frequency == Frequency.daily:
        return local_day
    if frequency == Frequency.weekly:
        return local_day - timedelta(days=(local_day.weekday() - spec.weekday) % 7)
    due = spec.month_day(local_day.year, local_day.month)
    return due if due <= local_day else spec.month_day(*_prev_month(local_day.year, local_day.month))


def _step(spec: ScheduleSpec, frequency: str, day: date, forward: bool) -> date:
    if frequency == Frequency.daily:
        return day + timedelta(days=1 if forward else -1)
    if frequency == Frequency.weekly:
        return day + timedelta(days=7 if forward else -7)
    year, month = (_next_month if forward else _prev_month)(day.year, day.month)
    return spec.month_day(year, month)


def current_period(spec: ScheduleSpec, frequency: str, now: datetime) -> Period:
    """The period whose digest is due at or before `now` and whose successor is not due yet."""
    now = now.astimezone(UTC)
    day = _anchor(spec, frequency, now.astimezone(spec.timezone).date())
    if spec.due(day) > now:
        day = _step(spec, frequency, day, forward=False)
    following = _step(spec, frequency, day, forward=True)
    return Period(frequency, _period_key(frequency, day), day, spec.due(day), spec.due(following))


def parse_time(raw: str) -> time:
    try:
        hours, minutes = raw.strip().split(":")
        value = time(int(hours), int(minutes))
    except ValueError:
        raise InvalidInput(f"time must be HH:MM like 10:00, not {raw!r}") from None
    return value


def parse_timezone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {raw!r}: use an IANA name like Europe/Copenhagen") from None


def parse_weekday(raw: str) -> int:
    name = raw.strip().lower()
    for index, day in enumerate(WEEKDAYS):
        if name in (day, day[:3]):
            return index
    raise InvalidInput(f"unknown weekday {raw!r}: use monday ... sunday")


def parse_monthday(raw: str) -> int | None:
    """1..31 (31 means the month's last day), or `first-weekday` for the first schedule weekday."""
    name = raw.strip().lower()
    if name in ("first-weekday", "none", ""):
        return None
    if name == "last":
        return 31
    try:
        value = int(name)
    except ValueError:
        value = 0
    if not 1 <= value <= 31:
        raise InvalidInput(f"monthday must be 1..31, 'last' or 'first-weekday', not {raw!r}")
    return value


def _default_schedule() -> ReminderSchedule:
    return ReminderSchedule(id=SCHEDULE_ID)


def get_schedule(session: Session) -> ReminderSchedule:
    """The stored schedule, or the portal's default (Mondays 10:00 Europe/Copenhagen) when none is set."""
    return session.get(ReminderSchedule, SCHEDULE_ID) or _default_schedule()


def lock_schedule(session: Session) -> ReminderSchedule:
    """Create the schedule row if needed and lock it: concurrent senders and nudgers queue up here.

    On SQLite the write transaction already holds the database lock (BEGIN IMMEDIATE); on
    PostgreSQL the row lock makes a second `reminder send` wait and then find the work done.
    """
    dialect = session.get_bind().dialect.name
    defaults = _default_schedule()
    values = {
        "id": SCHEDULE_ID,
        "time_of_day": defaults.time_of_day,
        "timezone": defaults.timezone,
        "weekday": defaults.weekday,
        "monthday": defaults.monthday,
        "updated_at": utcnow(),
    }
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(ReminderSchedule).values(**values).on_conflict_do_nothing(index_elements=["id"]))
    row = session.exec(
        select(ReminderSchedule).where(ReminderSchedule.id == SCHEDULE_ID).with_for_update()
    ).one()
    session.refresh(row)
    return row


def schedule_view(row: ReminderSchedule, now: datetime) -> dict:
    spec = ScheduleSpec.from_row(row)
    view = {
        "time": row.time_of_day,
        "timezone": row.timezone,
        "weekday": WEEKDAYS[row.weekday],
        "monthday": row.monthday if row.monthday is not None else f"first {WEEKDAYS[row.weekday]}",
    }
    for frequency in FREQUENCIES:
        period = current_period(spec, frequency, now)
        view[f"{frequency}_period"] = period.key
        view[f"{frequency}_next"] = period.next_due_at.astimezone(spec.timezone).isoformat(timespec="minutes")
    return view


def set_schedule(
    session: Session,
    actor: User,
    *,
    time_of_day: str | None = None,
    timezone: str | None = None,
    weekday: str | None = None,
    monthday: str | None = None,
) -> ReminderSchedule:
    require_admin(actor, "reminder schedule")
    row = lock_schedule(session)
    before = _schedule_snapshot(row)
    if time_of_day is not None:
        row.time_of_day = parse_time(time_of_day).strftime("%H:%M")
    if timezone is not None:
        row.timezone = parse_timezone(timezone).key
    if weekday is not None:
        row.weekday = parse_weekday(weekday)
    if monthday is not None:
        row.monthday = parse_monthday(monthday)
    row.updated_by = actor.email
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "reminder.schedule",
        "reminder_schedule",
        "partner",
        before=before,
        after=_schedule_snapshot(row),
    )
    return row


def _schedule_snapshot(row: ReminderSchedule) -> dict:
    return {
        "time": row.time_of_day,
        "timezone": row.timezone,
        "weekday": row.weekday,
        "monthday": row.monthday,
    }


# -- clients as the acting user may see them ----------------------------------------------------


def _is_assigned(session: Session, user: User, client: Client) -> bool:
    return (
        session.exec(
            select(ClientAssignment).where(
                ClientAssignment.client_id == client.id, ClientAssignment.user_id == user.id
            )
        ).first()
        is not None
    )


def resolve_client(session: Session, actor: User, ref: str) -> Client:
    """The client `ref`, as the actor may see it (a bookkeeper only their assigned clients)."""
    from partnerctl.services.clients import get_client_for

    return get_client_for(session, actor, ref)


# -- subscriptions ------------------------------------------------------------------------------


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


def _target_user(session: Session, actor: User, email: str | None, what: str) -> User:
    if email is None or email.strip().lower() == actor.email:
        return actor
    if actor.role != Role.admin:
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
    user = _target_user(session, actor, user_email, "subscribe")
    if not user.active:
        raise Conflict(f"user {user.email} is deactivated and gets no digests")
    client = resolve_client(session, actor, client_ref)
    if client.status == ClientStatus.archived:
        raise Conflict(f"client {client.ref} is archived and has no digests")
    if user.role != Role.admin and not _is_assigned(session, user, client):
        raise Forbidden(
            f"{user.email} is a bookkeeper not assigned to client {client.ref}",
            hint=f"assign them first: partnerctl client assign {client.ref} {user.email}",
        )
    existing = session.exec(
        select(ReminderSubscription).where(
            ReminderSubscription.user_id == user.id,
            ReminderSubscription.client_id == client.id,
            ReminderSubscription.frequency == freq,
        )
    ).first()
    key = f"{user.email}/{client.ref}/{freq.value}"
    if existing is not None:
        before = {"topics": list(existing.topics)}
        existing.topics = chosen
        existing.updated_at = utcnow()
        session.add(existing)
        session.flush()
        audit.record(
            session,
            actor,
            "reminder.subscribe",
            "reminder_subscription",
            key,
            before=before,
            after={"topics": chosen},
        )
        return Subscribed(user.email, client.ref, client.name, freq.value, chosen, created=False)
    sub = ReminderSubscription(
        user_id=user.id, client_id=client.id, frequency=freq, topics=chosen, created_by=actor.email
    )
    session.add(sub)
    session.flush()
    audit.record(
        session,
        actor,
        "reminder.subscribe",
        "reminder_subscription",
        key,
        after={"user": user.email, "client": client.ref, "frequency": freq.value, "topics": chosen},
    )
    return Subscribed(user.email, client.ref, client.name, freq.value, chosen, created=True)


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
    user = _target_user(session, actor, user_email, "unsubscribe")
    client = resolve_client(session, actor, client_ref)
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
    if everyone:
        require_admin(actor, "reminder list --all")
    query = (
        select(ReminderSubscription, User.email, Client.ref, Client.name, Client.status)
        .join(User, User.id == ReminderSubscription.user_id)
        .join(Client, Client.id == ReminderSubscription.client_id)
        .order_by(User.email, Client.name_key, Client.ref, ReminderSubscription.frequency)
    )
    if not everyone:
        user = _target_user(session, actor, user_email, "list reminders")
        query = query.where(ReminderSubscription.user_id == user.id)
    return [
        SubscriptionRow(email, ref, name, str(status), str(sub.frequency), list(sub.topics), sub.created_at)
        for sub, email, ref, name, status in session.exec(query)
    ]


# -- digests ------------------------------------------------------------------------------------


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
    S, U, C, A, D = ReminderSubscription, User, Client, ClientAssignment, ReminderDigest
    # Joins and NOT IN rather than correlated EXISTS: PostgreSQL then hashes them whatever its
    # statistics say (right after a bulk import it has none and would loop per row).
    query = (
        # Topics as text: a handful of distinct values, decoded once each rather than once per row.
        sa.select(
            S.user_id, S.frequency, sa.cast(S.topics, sa.Text), S.client_id, U.email, U.name, U.language
        )
        .join(U, U.id == S.user_id)
        .join(C, C.id == S.client_id)
        .outerjoin(A, sa.and_(A.client_id == S.client_id, A.user_id == S.user_id))
        .where(
            U.active == sa.true(),
            C.status != ClientStatus.archived.value,
            S.frequency.in_(list(periods)),
            # A bookkeeper gets only the clients still assigned to them.
            sa.or_(U.role == Role.admin.value, A.user_id.is_not(None)),
        )
        .order_by(U.email, S.frequency, C.name_key, C.ref)
    )
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
    figures = []
    for topic in topics:
        if topic == Topic.balance:
            shown = format_amount(balance, currency, language)
        elif topic == Topic.missing_receipts:
            shown = str(missing)
        else:
            shown = str(ready)
        figures.append((labels[topic], shown, is_outstanding(topic, missing, balance, ready)))
    outstanding = sum(1 for *_, due in figures if due)
    lines = [f"{name} ({ref})"]
    lines += [f"  {'*' if due else '-'} {label}: {shown}" for label, shown, due in figures]
    if not outstanding:
        lines.append(f"  ({labels['nothing']})")
    return Section(ref, name, tuple(figures), outstanding, "\n".join(lines))


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
            current = Digest(uid, email, name or email.split("@")[0], language, freq, periods[freq])
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


def _partner_name(session: Session) -> str:
    return session.exec(select(Partner.name).order_by(Partner.id)).first() or "partnerctl"


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
            from partnerctl.mail.render import render

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
            from html import escape

            for marker, value in values.items():
                html = html.replace(marker, escape(value))
        return RenderedDigest(digest, subject, text, html, used)


def render_digest(digest: Digest, partner: str) -> RenderedDigest:
    return DigestRenderer(partner)(digest)


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
    at = _now(now, clock)
    schedule = get_schedule(session) if dry_run else lock_schedule(session)
    freqs = [parse_frequency(f).value for f in frequencies] if frequencies else list(FREQUENCIES)
    spec = ScheduleSpec.from_row(schedule)
    result = SendResult(now=at, periods={f: current_period(spec, f, at).key for f in freqs}, dry_run=dry_run)
    digests = plan_digests(session, at, frequencies=freqs, schedule=schedule)
    for digest in digests:
        (result.empty if digest.is_empty and not send_empty else result.queued).append(digest)
    if dry_run or result.nothing_due:
        return result

    render_one = DigestRenderer(_partner_name(session))
    stamp = utcnow()  # outbox timestamps are real time: delivery must not wait for an injected clock
    outbox_rows, digest_rows = [], []
    for digest in result.queued:
        rendered = render_one(digest)
        outbox_rows.append(
            {
                "dedupe_key": digest.dedupe_key,
                "kind": "digest",
                "to_addr": digest.email,
                "subject": rendered.subject,
                "body_text": rendered.text,
                "body_html": rendered.html,
                "language": rendered.language,
                "status": OutboxStatus.pending.value,
                "attempts": 0,
                "next_attempt_at": stamp,
                "created_at": stamp,
            }
        )
    for status, group in ((DigestStatus.queued, result.queued), (DigestStatus.empty, result.empty)):
        for digest in group:
            digest_rows.append(
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
            )
    # Bulk inserts: the statement count does not grow with the number of users.
    if outbox_rows:
        session.execute(sa.insert(OutboxMessage), outbox_rows)
    if digest_rows:
        session.execute(sa.insert(ReminderDigest), digest_rows)
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
    user = _target_user(session, actor, email, "preview reminders")
    freqs = [parse_frequency(frequency).value] if frequency else list(FREQUENCIES)
    at = _now(now, clock)
    if not user.active:
        return []
    digests = plan_digests(session, at, frequencies=freqs, user_id=user.id, only_unsent=False)
    render_one = DigestRenderer(_partner_name(session))
    return [render_one(d) for d in digests]


# -- nudges -------------------------------------------------------------------------------------


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
    at = _now(now, clock)
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

    from partnerctl.services.outbox import queue_template

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
