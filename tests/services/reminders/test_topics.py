"""What reminders say about a client: topics, figures in the recipient's notation, whom they greet."""

from __future__ import annotations

from decimal import Decimal

import pytest

from partnerctl.errors import InvalidInput
from partnerctl.services.reminders.topics import (
    figure_text,
    is_outstanding,
    parse_topics,
    recipient_name,
)


def test_topics_parse_in_canonical_order_and_reject_nonsense():
    with pytest.raises(InvalidInput):
        parse_topics(["balance", "coffee"])
    assert parse_topics(None) == ["balance", "missing-receipts", "expenses-ready"]
    assert parse_topics(["expenses-ready,missing_receipts", "expenses-ready"]) == [
        "missing-receipts",
        "expenses-ready",
    ]


def test_amounts_follow_the_recipients_notation_through_babel():
    figures = dict(missing_receipts=0, expenses_ready=0)
    assert figure_text("balance", **figures, wallet_balance=Decimal("-1234.5"), currency="DKK",
                       language="da") == "-1.234,50\xa0kr."  # fmt: skip
    assert figure_text("balance", **figures, wallet_balance=Decimal("1234.5"), currency="EUR",
                       language="en") == "€1,234.50"  # fmt: skip
    # The yen has no minor units: no decimals, where the hand-written formatter always showed two.
    assert figure_text("balance", **figures, wallet_balance=Decimal("1211"), currency="JPY",
                       language="de") == "1.211\xa0¥"  # fmt: skip


def test_a_figure_is_shown_per_topic_and_outstanding_when_there_is_work():
    figures = dict(missing_receipts=3, wallet_balance=Decimal("-5"), expenses_ready=0)
    assert figure_text("balance", **figures, currency="EUR", language="nl") == "€\xa0-5,00"
    assert figure_text("missing-receipts", **figures, currency="EUR", language="nl") == "3"
    assert figure_text("expenses-ready", **figures, currency="EUR", language="nl") == "0"
    assert is_outstanding("balance", **figures) and is_outstanding("missing-receipts", **figures)
    assert not is_outstanding("expenses-ready", **figures)


def test_a_recipient_without_a_name_is_greeted_by_the_local_part_of_their_address():
    assert recipient_name("Bob", "bob@acme.example") == "Bob"
    assert recipient_name("", "dora.d@acme.example") == "dora.d"
    assert recipient_name(None, "dora.d@acme.example") == "dora.d"
