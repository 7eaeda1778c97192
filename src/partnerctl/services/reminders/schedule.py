"""The partner-wide digest schedule and the periods it defines, in its timezone (DST included)."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from partnerctl.errors import InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.validation import parse_choice
from partnerctl.store.models import (
    ReminderSchedule,
    User,
)
from partnerctl.store.models.reminders import Frequency
from partnerctl.store.types import utcnow

Clock = Callable[[], datetime]


SCHEDULE_ID = 1


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


FREQUENCIES = tuple(f.value for f in Frequency)


def system_clock() -> datetime:
    return utcnow()


def utc_now(now: datetime | None, clock: Clock) -> datetime:
    value = now if now is not None else clock()
    if value.tzinfo is None:
        raise InvalidInput("the current time must carry a timezone offset")
    return value.astimezone(UTC)


def parse_frequency(raw: str) -> Frequency:
    return parse_choice(Frequency, raw, "frequency")


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
