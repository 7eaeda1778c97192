"""Who may subscribe whom to which client's digest, and unsubscribing."""

from __future__ import annotations

import pytest
from sqlmodel import select

from partnerctl.errors import Conflict, Forbidden, NotFound
from partnerctl.services import reminders
from partnerctl.services.audit import list_events
from partnerctl.store.models import Client
from tests.helpers.store import ADMIN, add_user, admin, store_session


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


def test_subscribing_again_changes_the_topics_and_both_are_audited(team):
    with store_session(team) as s:
        first = reminders.subscribe(s, admin(s), "ACME-3", frequency="daily", topics=["balance"])
        again = reminders.subscribe(s, admin(s), "ACME-3", frequency="daily", topics=["expenses-ready"])
        assert (first.created, again.created, again.topics) == (True, False, ["expenses-ready"])
        rows = [r for r in reminders.list_subscriptions(s, admin(s)) if r.client == "ACME-3"]
        assert [(r.frequency, r.topics) for r in rows] == [("daily", ["expenses-ready"])]
        key = f"{ADMIN}/ACME-3/daily"
        events = [e for e in list_events(s, action="reminder.subscribe") if e.key == key]
        created, changed = sorted(((e.id, e.before, e.after) for e in events), key=lambda e: e[0])
    assert created[1:] == (
        None, {"user": ADMIN, "client": "ACME-3", "frequency": "daily", "topics": ["balance"]}
    )  # fmt: skip
    assert changed[1:] == ({"topics": ["balance"]}, {"topics": ["expenses-ready"]})


def test_nobody_subscribes_a_deactivated_user_or_to_an_archived_client(team):
    with store_session(team) as s:
        add_user(s, "gone@acme.example", role="admin", active=False)
        with pytest.raises(Conflict, match="deactivated"):
            reminders.subscribe(s, admin(s), "ACME-1", frequency="daily", user_email="gone@acme.example")
        beta = s.exec(select(Client).where(Client.ref == "ACME-2")).one()
        beta.status = "archived"
        s.add(beta)
        s.flush()
        with pytest.raises(Conflict, match="archived"):
            reminders.subscribe(s, admin(s), "ACME-2", frequency="daily")
