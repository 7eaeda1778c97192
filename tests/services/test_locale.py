"""Amounts, dates and rates in the reader's language, through Babel: the one formatter of mails and documents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partnerctl.services.locale import format_day, format_money, format_percent, text_language

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", f"€{NBSP}1.512,50"),
        ("de", f"1.512,50{NBSP}€"),
        ("fr", f"1\u202f512,50{NBSP}€"),
        ("en", "€1,512.50"),
        ("da", f"1.512,50{NBSP}€"),
    ],
)
def test_euros_in_each_language(language, expected):
    assert format_money(Decimal("1512.50"), "EUR", language) == expected


def test_kroner_yen_and_negative_amounts():
    assert format_money(Decimal("1512.5"), "DKK", "da") == f"1.512,50{NBSP}kr."
    # The yen has no minor units: no decimals at all.
    assert format_money(Decimal("1211"), "JPY", "en") == "¥1,211"
    assert format_money(Decimal("1211"), "JPY", "nl") == f"JP¥{NBSP}1.211"
    assert format_money(Decimal("-1512.50"), "EUR", "de") == f"-1.512,50{NBSP}€"


def test_dates_and_rates_and_a_language_without_texts():
    assert format_day(date(2026, 3, 31), "nl") == "31 maart 2026"
    assert format_day(date(2026, 3, 31), "de") == "31. März 2026"
    assert format_day(date(2026, 3, 31), "en") == "March 31, 2026"
    assert format_percent(Decimal("5.5"), "fr") == "5,5 %"
    assert format_percent(Decimal("21"), "en") == "21 %"
    # Spanish texts are not shipped: English, for the labels and the notation alike.
    assert text_language("es") == "en" and format_money(Decimal("1"), "EUR", "es") == "€1.00"
    assert text_language(None) == "en" and text_language("DA") == "da"
