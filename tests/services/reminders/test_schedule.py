"""Reminder periods in the schedule's timezone (DST, month ends, year ends) and the schedule's parsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from partnerctl.errors import InvalidInput
from partnerctl.services.reminders import schedule
from partnerctl.services.reminders.schedule import ScheduleSpec, current_period
from partnerctl.store.models import ReminderSchedule

CPH = ZoneInfo("Europe/Copenhagen")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def spec(time_of_day="10:00", tz="Europe/Copenhagen", weekday=0, monthday=None) -> ScheduleSpec:
    return ScheduleSpec.from_row(
        ReminderSchedule(id=1, time_of_day=time_of_day, timezone=tz, weekday=weekday, monthday=monthday)
    )


def cron(s: ScheduleSpec, frequency: str, start: datetime, end: datetime, every=timedelta(minutes=15)):
    """Simulate cron: the instants at which a new period's digest would go out, with its key."""
    sent: dict[str, datetime] = {}
    at = start
    while at <= end:
        period = current_period(s, frequency, at)
        if period.key not in sent:
            sent[period.key] = at
        at += every
    return sent


# -- pure period arithmetic -------------------------------------------------------------------------


def test_weekly_digest_is_due_monday_10_copenhagen_when_cron_runs_at_0905_utc():
    s = spec()
    # Winter (CET, UTC+1): 10:00 local is 09:00 UTC, so the 09:05 UTC run is the first one after it.
    winter = current_period(s, "weekly", utc("2026-01-12T09:05"))
    assert winter.key == "2026-W03"
    assert winter.due_at == utc("2026-01-12T09:00")
    assert current_period(s, "weekly", utc("2026-01-12T08:55")).key == "2026-W02"
    # Summer (CEST, UTC+2): 10:00 local is 08:00 UTC; a 09:05 UTC run is still inside the new period.
    summer = current_period(s, "weekly", utc("2026-06-15T09:05"))
    assert summer.key == "2026-W25"
    assert summer.due_at == utc("2026-06-15T08:00")
    assert summer.due_at.astimezone(CPH).hour == 10
    # Cron at 09:05 UTC every day fires the weekly digest exactly once a week, on Mondays.
    fired = cron(s, "weekly", utc("2026-01-01T09:05"), utc("2026-12-31T09:05"), every=timedelta(days=1))
    assert all(at.astimezone(CPH).weekday() == 0 for at in list(fired.values())[1:])
    assert len(fired) == 53  # the running week on Jan 1st, then the 52 Mondays of 2026


@pytest.mark.parametrize(
    "start,end",
    [("2026-03-26T00:00", "2026-04-01T00:00"), ("2026-10-22T00:00", "2026-10-28T00:00")],
    ids=["spring-forward", "fall-back"],
)
def test_daily_digest_fires_once_a_day_at_10_local_across_dst_weekends(start, end):
    fired = cron(spec(), "daily", utc(start), utc(end))
    days = list(fired.items())[1:]  # the first entry is the period already running at `start`
    assert len(days) == 6  # six days, each at 10:00 local whether CET or CEST
    for key, at in days:
        local = at.astimezone(CPH)
        assert (local.date().isoformat(), local.hour, local.minute) == (key, 10, 0)


def test_a_local_time_skipped_or_repeated_by_dst_fires_exactly_once():
    s = spec("02:30")
    # 2026-03-29 02:30 does not exist in Copenhagen: the digest goes at 03:30 CEST (01:30 UTC).
    spring = cron(s, "daily", utc("2026-03-28T00:00"), utc("2026-03-30T23:59"))
    assert spring["2026-03-29"] == utc("2026-03-29T01:30")
    # 2026-10-25 02:30 happens twice: only the first (CEST, 00:30 UTC) counts.
    fall = cron(s, "daily", utc("2026-10-24T00:00"), utc("2026-10-26T23:59"))
    assert fall["2026-10-25"] == utc("2026-10-25T00:30")
    assert list(fall) == ["2026-10-23", "2026-10-24", "2026-10-25", "2026-10-26"]
    # The period of the switch day is 23 (spring) or 25 (autumn) hours of real time.
    assert current_period(s, "daily", utc("2026-03-29T12:00")).next_due_at - utc(
        "2026-03-29T01:30"
    ) == timedelta(hours=23)
    assert current_period(s, "daily", utc("2026-10-25T12:00")).next_due_at - utc(
        "2026-10-25T00:30"
    ) == timedelta(hours=25)


def test_monthly_on_day_31_clamps_to_month_ends_and_leap_years():
    fired = cron(
        spec(monthday=31), "monthly", utc("2026-01-01T00:00"), utc("2028-03-01T00:00"), timedelta(hours=1)
    )
    local_days = {key: at.astimezone(CPH).date().isoformat() for key, at in fired.items()}
    assert local_days["2026-01"] == "2026-01-31"
    assert local_days["2026-02"] == "2026-02-28"
    assert local_days["2026-04"] == "2026-04-30"
    assert local_days["2028-02"] == "2028-02-29"
    assert len(fired) == 27  # Dec 2025 (running at the start) + 26 months


def test_monthly_default_is_the_first_weekday_of_the_month_and_month_ends_follow_local_time():
    s = spec()  # first Monday of the month, 10:00
    assert current_period(s, "monthly", utc("2026-03-02T09:00")).key == "2026-03"
    assert current_period(s, "monthly", utc("2026-03-02T08:59")).key == "2026-02"
    assert current_period(s, "monthly", utc("2026-03-31T12:00")).next_due_at == utc("2026-04-06T08:00")
    # Monthly on the 1st at 00:15: in Copenhagen February starts at 23:00 UTC on January 31st.
    s1 = spec("00:15", monthday=1)
    assert current_period(s1, "monthly", utc("2026-01-31T23:10")).key == "2026-01"
    assert current_period(s1, "monthly", utc("2026-01-31T23:20")).key == "2026-02"
    # A week that straddles a year: ISO week keys keep the weekly period unique.
    assert current_period(s, "weekly", utc("2027-01-01T12:00")).key == "2026-W53"


def test_parsers_reject_nonsense():
    for call in (
        lambda: schedule.parse_time("25:00"),
        lambda: schedule.parse_timezone("Mars/Olympus"),
        lambda: schedule.parse_weekday("someday"),
        lambda: schedule.parse_monthday("32"),
        lambda: schedule.parse_frequency("hourly"),
    ):
        with pytest.raises(InvalidInput):
            call()
    assert schedule.parse_monthday("last") == 31 and schedule.parse_monthday("first-weekday") is None
