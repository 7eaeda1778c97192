"""Reminder periods (DST, month ends, missed runs) and queueing digests once, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from partnerctl.errors import Conflict, Forbidden, NotFound
from partnerctl.services import reminders
from partnerctl.services.reminders import ScheduleSpec, current_period
from partnerctl.store.models import ReminderSchedule
from tests.helpers.store import ADMIN, add_client, add_user, admin, assign, outbox_rows, store_session

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
    from partnerctl.errors import InvalidInput

    for call in (
        lambda: reminders.parse_time("25:00"),
        lambda: reminders.parse_timezone("Mars/Olympus"),
        lambda: reminders.parse_weekday("someday"),
        lambda: reminders.parse_monthday("32"),
        lambda: reminders.parse_frequency("hourly"),
        lambda: reminders.parse_topics(["balance", "coffee"]),
    ):
        with pytest.raises(InvalidInput):
            call()
    assert reminders.parse_topics(None) == ["balance", "missing-receipts", "expenses-ready"]
    assert reminders.parse_topics(["expenses-ready,missing_receipts", "expenses-ready"]) == [
        "missing-receipts",
        "expenses-ready",
    ]
    assert reminders.parse_monthday("last") == 31 and reminders.parse_monthday("first-weekday") is None
    assert reminders.format_amount(Decimal("-1234.5"), "DKK", "da") == "-1.234,50 DKK"
    assert reminders.format_amount(Decimal("1234.5"), "EUR", "en") == "1,234.50 EUR"


# -- helpers over a real store ----------------------------------------------------------------------


def send(url: str, now: str, **kw):
    with store_session(url) as s:
        return reminders.queue_due_digests(s, ADMIN, clock=lambda: utc(now), **kw)


@pytest.fixture
def team(initialized):
    """Two bookkeepers and the admin, three clients, subscriptions at every frequency."""
    with store_session(initialized) as s:
        anna = admin(s)
        bob = add_user(s, "bob@acme.example", name="Bob", language="nl")
        carl = add_user(s, "carl@acme.example", name="Carl")
        a = add_client(s, "ACME-1", name="Alpha", missing=3, balance="1234.5", ready=2, currency="DKK")
        b = add_client(s, "ACME-2", name="Beta", missing=0, balance="50", ready=0)
        c = add_client(s, "ACME-3", name="Gamma", missing=1, ready=0)
        assign(s, a, bob, carl)
        assign(s, b, bob)
        assign(s, c, carl)
        reminders.subscribe(s, anna, "ACME-1", frequency="weekly")
        reminders.subscribe(s, anna, "ACME-2", frequency="weekly", topics=["missing-receipts"])
        reminders.subscribe(s, bob, "ACME-1", frequency="weekly", topics=["missing-receipts", "balance"])
        reminders.subscribe(s, bob, "ACME-2", frequency="weekly")
        reminders.subscribe(s, carl, "ACME-3", frequency="daily", topics=["missing-receipts"])
        reminders.subscribe(s, carl, "ACME-1", frequency="monthly")
    return initialized


def test_one_digest_per_user_and_period_covering_all_subscribed_clients(team):
    result = send(team, "2026-03-16T09:05")  # a Monday, 10:05 in Copenhagen
    assert result.periods == {"daily": "2026-03-16", "weekly": "2026-W12", "monthly": "2026-03"}
    rows = {r["dedupe_key"]: r for r in outbox_rows(team, "digest")}
    by_to = {}
    for r in rows.values():
        by_to.setdefault(r["to_addr"], []).append(r)
    assert sorted(by_to) == [ADMIN, "bob@acme.example", "carl@acme.example"]
    assert len(by_to[ADMIN]) == 1 and len(by_to["bob@acme.example"]) == 1
    assert sorted(r["dedupe_key"].split(":")[2:] for r in by_to["carl@acme.example"]) == [
        ["daily", "2026-03-16"],
        ["monthly", "2026-03"],
    ]
    bob = by_to["bob@acme.example"][0]
    # Bob reads Dutch; a section per client with only the figures he chose, amounts in his notation.
    assert bob["subject"].startswith("Je wekelijkse klantoverzicht voor 2026-W12")
    assert "Alpha (ACME-1)" in bob["body_text"] and "Beta (ACME-2)" in bob["body_text"]
    alpha = bob["body_text"].split("Alpha (ACME-1)")[1].split("Beta (ACME-2)")[0]
    assert "Ontbrekende bonnetjes: 3" in alpha and "1.234,50 DKK" in alpha
    assert "Uitgaven klaar voor export" not in alpha  # not a topic he chose for Alpha
    anna = by_to[ADMIN][0]["body_text"]
    assert "Expenses ready for export: 2" in anna and "Missing receipts: 0" in anna
    assert "1 of 2 clients need attention" in by_to[ADMIN][0]["subject"]
    # The same period again: nothing new, the records say so.
    again = send(team, "2026-03-16T09:20")
    assert again.nothing_due
    assert len(outbox_rows(team, "digest")) == 4


def test_a_missed_period_is_sent_at_the_next_run_inside_it_and_never_twice(team):
    send(team, "2026-03-09T09:05")  # Monday: the weekly digests of W11
    assert len([r for r in outbox_rows(team, "digest") if ":weekly:2026-W11" in r["dedupe_key"]]) == 2
    # The machine is down from Monday 16th morning until Wednesday 18th: W12 goes out on Wednesday.
    wednesday = send(team, "2026-03-18T14:00")
    assert sorted((d.email, d.frequency, d.period.key) for d in wednesday.queued) == [
        (ADMIN, "weekly", "2026-W12"),
        ("bob@acme.example", "weekly", "2026-W12"),
        ("carl@acme.example", "daily", "2026-03-18"),
    ]
    # The missed daily digests of Monday and Tuesday are over: their periods have passed.
    keys = [r["dedupe_key"] for r in outbox_rows(team, "digest")]
    assert not any(k.endswith(("2026-03-16", "2026-03-17")) for k in keys)
    assert send(team, "2026-03-19T08:00").nothing_due  # Thursday 09:00 local: before the daily time
    thursday = send(team, "2026-03-19T09:00")
    assert [(d.email, d.period.key) for d in thursday.queued] == [("carl@acme.example", "2026-03-19")]
    assert len(keys) == len(set(keys))


def test_empty_digests_deactivated_users_and_archived_clients(team):
    with store_session(team) as s:
        from partnerctl.services.users import deactivate_user, get_user
        from partnerctl.store.models import Client

        deactivate_user(s, admin(s), "carl@acme.example")
        for c in s.exec(sa.select(Client)).scalars():
            c.missing_receipts, c.expenses_ready, c.wallet_balance = 0, 0, Decimal(10)
            s.add(c)
        get_user(s, "bob@acme.example")
    dry = send(team, "2026-03-16T09:05", dry_run=True)
    assert dry.queued == [] and sorted(d.email for d in dry.empty) == [ADMIN, "bob@acme.example"]
    assert outbox_rows(team, "digest") == []  # a dry run writes nothing
    result = send(team, "2026-03-16T09:05")
    assert result.queued == [] and len(result.empty) == 2
    assert outbox_rows(team, "digest") == []
    # The empty ones are recorded: --send-empty later in the same period does not resend anything.
    assert send(team, "2026-03-16T10:00", send_empty=True).nothing_due
    # Next week with --send-empty they go out; Carl (deactivated) still gets nothing.
    forced = send(team, "2026-03-23T09:05", send_empty=True)
    assert sorted(d.email for d in forced.queued) == [ADMIN, "bob@acme.example"]
    # Archive Beta: Bob's digest then only covers Alpha, and a user with only archived clients gets nothing.
    with store_session(team) as s:
        from partnerctl.store.models import Client

        for c in s.exec(sa.select(Client)).scalars():
            c.status = "archived" if c.ref in ("ACME-2",) else c.status
            c.missing_receipts = 5
            s.add(c)
    result = send(team, "2026-03-30T08:05")
    assert {d.email: [sec.ref for sec in d.sections] for d in result.queued} == {
        ADMIN: ["ACME-1"],
        "bob@acme.example": ["ACME-1"],
    }


def test_a_bookkeeper_unassigned_from_a_client_stops_getting_it(team):
    with store_session(team) as s:
        from partnerctl.store.models import ClientAssignment

        s.execute(
            sa.delete(ClientAssignment).where(
                ClientAssignment.client_id.in_(sa.select(sa.text("id FROM clients WHERE ref = 'ACME-2'")))
            )
        )
    result = send(team, "2026-03-16T09:05", frequencies=["weekly"])
    sections = {d.email: [sec.ref for sec in d.sections] for d in result.queued}
    assert sections == {ADMIN: ["ACME-1", "ACME-2"], "bob@acme.example": ["ACME-1"]}


def test_subscription_rules(team):
    with store_session(team) as s:
        from partnerctl.services.users import get_user

        bob, carl = get_user(s, "bob@acme.example"), get_user(s, "carl@acme.example")
        with pytest.raises(NotFound):  # Carl cannot see ACME-2 at all
            reminders.subscribe(s, carl, "ACME-2", frequency="daily")
        with pytest.raises(Forbidden):  # a bookkeeper subscribes only themself
            reminders.subscribe(s, bob, "ACME-1", frequency="daily", user_email="carl@acme.example")
        with pytest.raises(Forbidden):  # an admin cannot subscribe a bookkeeper to a client not theirs
            reminders.subscribe(s, admin(s), "ACME-3", frequency="daily", user_email="bob@acme.example")
        done = reminders.subscribe(s, bob, "acme-1", frequency="weekly", topics=["expenses-ready"])
        assert (done.client, done.created, done.topics) == ("ACME-1", False, ["expenses-ready"])
        assert reminders.unsubscribe(s, admin(s), "ACME-1", user_email="carl@acme.example") == 1
        with pytest.raises(NotFound):
            reminders.unsubscribe(s, carl, "ACME-1")


def test_nudge_reaches_assigned_bookkeepers_once_per_24_hours(team):
    now = utc("2026-03-16T12:00")
    with store_session(team) as s:
        result = reminders.nudge(
            s, admin(s), "ACME-1", tasks=["missing-receipts"], comment="Before Friday please", now=now
        )
        assert result.recipients == ["bob@acme.example", "carl@acme.example"]
    with store_session(team) as s, pytest.raises(Conflict, match="same nudge"):
        reminders.nudge(
            s,
            admin(s),
            "ACME-1",
            tasks=["missing-receipts"],
            comment="Before Friday please",
            now=now + timedelta(hours=23),
        )
    with store_session(team) as s:
        # A different comment is a different nudge; after 24 hours the same one goes again.
        reminders.nudge(s, admin(s), "ACME-1", tasks=["missing-receipts"], comment="Other", now=now)
        reminders.nudge(
            s,
            admin(s),
            "ACME-1",
            tasks=["missing-receipts"],
            comment="Before Friday please",
            now=now + timedelta(hours=25),
        )
    mails = outbox_rows(team, "nudge")
    assert len(mails) == 6
    dutch = next(m for m in mails if m["to_addr"] == "bob@acme.example")
    assert (
        "Ontbrekende bonnetjes: 3" in dutch["body_text"]
        and "Opmerking:\nBefore Friday please" in dutch["body_text"]
    )
    with store_session(team) as s:
        from partnerctl.services.users import get_user

        with pytest.raises(Forbidden):
            reminders.nudge(s, get_user(s, "bob@acme.example"), "ACME-1", tasks=["balance"], now=now)
        add_client(s, "LONELY")
        with pytest.raises(Conflict, match="no active bookkeeper"):
            reminders.nudge(s, admin(s), "LONELY", tasks=["balance"], now=now)


def _count_statements(url: str, now: str) -> tuple[int, int]:
    from partnerctl.store.engine import make_engine, normalize_url, session_scope

    engine = make_engine(normalize_url(url))
    counter = {"n": 0}

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args):
        counter["n"] += 1

    try:
        with session_scope(engine) as s:
            result = reminders.queue_due_digests(s, ADMIN, clock=lambda: utc(now), frequencies=["weekly"])
    finally:
        engine.dispose()
    return counter["n"], len(result.queued)


def _add_subscribers(url: str, first: int, last: int) -> None:
    with store_session(url) as s:
        anna = admin(s)
        clients = [add_client(s, f"C-{i}", missing=i + 1) for i in range(5)] if first == 0 else None
        from partnerctl.store.models import Client

        clients = clients or list(s.exec(sa.select(Client).order_by(Client.ref)).scalars())
        for u in range(first, last):
            user = add_user(s, f"user{u}@acme.example", language=("en", "nl", "de", "fr", "da")[u % 5])
            assign(s, clients[u % 5], user)
            assign(s, clients[(u + 1) % 5], user)
            for k in (0, 1):
                reminders.subscribe(s, anna, f"C-{(u + k) % 5}", frequency="weekly", user_email=user.email)


def test_queueing_does_not_query_per_user(initialized):
    _add_subscribers(initialized, 0, 5)
    small, n_small = _count_statements(initialized, "2026-03-09T09:05")
    _add_subscribers(initialized, 5, 60)
    large, n_large = _count_statements(initialized, "2026-03-16T09:05")
    assert (n_small, n_large) == (5, 60)
    assert small == large


def test_hourly_cron_across_a_dst_weekend_and_a_month_end_queues_each_period_once(team):
    with store_session(team) as s:
        reminders.set_schedule(s, admin(s), monthday="31")
    sent_at: dict[str, datetime] = {}
    for start, hours in (("2026-03-27T20:05", 66), ("2026-04-29T20:05", 42)):
        for h in range(hours):  # cron at five past every hour
            now = utc(start) + timedelta(hours=h)
            for digest in send(team, now.isoformat()[:16]).queued:
                assert digest.dedupe_key not in sent_at
                sent_at[digest.dedupe_key] = now
    daily = {k.rsplit(":", 1)[1]: at.astimezone(CPH) for k, at in sent_at.items() if ":daily:" in k}
    # Carl's daily digest: once a day at the first run after 10:00 local, CET or CEST alike.
    assert sorted(daily) == [
        "2026-03-27",
        "2026-03-28",
        "2026-03-29",
        "2026-03-30",
        "2026-04-29",
        "2026-04-30",
        "2026-05-01",
    ]
    assert all(
        (at.hour, at.minute) == (10, 5)
        for key, at in daily.items()
        if key not in ("2026-03-27", "2026-04-29")
    )
    # Monthly on the 31st: each window starts inside the previous month's period (a missed period,
    # sent at the first run), then April's goes on the 30th, its last day.
    monthly = {
        k.rsplit(":", 1)[1]: at.astimezone(CPH).isoformat()[:16]
        for k, at in sent_at.items()
        if ":monthly:" in k
    }
    assert monthly == {
        "2026-02": "2026-03-27T21:05",
        "2026-03": "2026-04-29T22:05",
        "2026-04": "2026-04-30T10:05",
    }
