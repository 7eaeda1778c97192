"""Queueing the due digests once per user and period, with an injected clock, in a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event

from partnerctl.services import reminders
from tests.helpers.store import ADMIN, add_client, add_user, admin, assign, outbox_rows, store_session

CPH = ZoneInfo("Europe/Copenhagen")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def send(url: str, now: str, **kw):
    with store_session(url) as s:
        return reminders.queue_due_digests(s, ADMIN, clock=lambda: utc(now), **kw)


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
    assert "Ontbrekende bonnetjes: 3" in alpha and "DKK\xa01.234,50" in alpha
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
