"""Nudges: every assigned bookkeeper once per 24 hours, figures shown as the digests show them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from partnerctl.errors import Conflict, Forbidden
from partnerctl.services import reminders
from tests.helpers.store import add_client, add_user, admin, assign, outbox_rows, store_session


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _missing_receipts(s, comment: str, at: datetime):
    return reminders.nudge(s, admin(s), "ACME-1", tasks=["missing-receipts"], comment=comment, now=at)


def test_nudge_reaches_assigned_bookkeepers_once_per_24_hours(team):
    now = utc("2026-03-16T12:00")
    with store_session(team) as s:
        result = _missing_receipts(s, "Before Friday please", now)
        assert result.recipients == ["bob@acme.example", "carl@acme.example"]
    with store_session(team) as s, pytest.raises(Conflict, match="same nudge"):
        _missing_receipts(s, "Before Friday please", now + timedelta(hours=23))
    with store_session(team) as s:
        # A different comment is a different nudge; after 24 hours the same one goes again.
        _missing_receipts(s, "Other", now)
        _missing_receipts(s, "Before Friday please", now + timedelta(hours=25))
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


def _figure_lines(body: str) -> set[str]:
    """`Label: value` of each figure line of a digest section or a nudge (`  * ...` / `  - ...`)."""
    return {line[4:] for line in body.splitlines() if line.startswith(("  * ", "  - "))}


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_a_nudge_shows_each_figure_and_greets_as_the_digest_does(team, language):
    with store_session(team) as s:
        nameless = add_user(s, "dora.d@acme.example", language=language)  # no name: greeted as dora.d
        client = add_client(s, "ACME-9", name="Iota", missing=4, balance="-1234.5", ready=2, currency="DKK")
        assign(s, client, nameless)
        reminders.subscribe(s, admin(s), "ACME-9", frequency="daily", user_email=nameless.email)
        reminders.nudge(
            s, admin(s), "ACME-9", tasks=["balance", "missing-receipts", "expenses-ready"],
            now=utc("2026-03-16T12:00"),
        )  # fmt: skip
    with store_session(team) as s:
        reminders.queue_due_digests(s, admin(s), clock=lambda: utc("2026-03-16T12:00"), frequencies=["daily"])
    (nudged,) = [m for m in outbox_rows(team, "nudge") if m["to_addr"] == "dora.d@acme.example"]
    (digest,) = [m for m in outbox_rows(team, "digest") if m["to_addr"] == "dora.d@acme.example"]
    shown = _figure_lines(nudged["body_text"])
    assert len(shown) == 3 and shown == _figure_lines(digest["body_text"])
    # Babel's notation: DKK -1.234,50 in Dutch, -1 234,50 DKK in French.
    expected = {"nl": "DKK\xa0-1.234,50", "fr": "-1\u202f234,50\xa0DKK"}[language]
    assert any(line.endswith(expected) for line in shown), shown
    greeting = nudged["body_text"].split(",")[0]
    assert greeting.endswith(" dora.d") and digest["body_text"].startswith(greeting)
