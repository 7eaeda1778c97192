"""The reminder service tests' store: a small firm with subscriptions at every frequency."""

from __future__ import annotations

import pytest

from partnerctl.services import reminders
from tests.helpers.store import add_client, add_user, admin, assign, store_session


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
