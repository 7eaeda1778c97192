"""Money rules, pure: periods and their anchor day, rounding in minor units, conversion, monthly value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from partnerctl.services import money
from partnerctl.store.models import Product
from partnerctl.store.models.core import Period

EUR_JPY = {("EUR", "JPY"): Decimal("161.5")}


def _product(price: str, currency: str = "EUR", period: Period = Period.monthly) -> Product:
    return Product(key="p", name="P", price_per_seat=Decimal(price), currency=currency, period=period)


# -- periods -------------------------------------------------------------------------------------------


def test_month_end_stays_month_end():
    d, seen = date(2026, 1, 31), []
    for _ in range(4):
        d = money.add_period(d, Period.monthly, 31)
        seen.append(d)
    assert seen == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]
    assert money.add_period(date(2028, 1, 31), "monthly", 31) == date(2028, 2, 29)
    # Anchor 30: February clamps, March returns to the 30th.
    assert money.add_period(date(2026, 2, 28), "monthly", 30) == date(2026, 3, 30)
    # Yearly from a leap day: Feb 28 in common years, back to Feb 29 in the next leap year.
    assert money.add_period(date(2024, 2, 29), "yearly", 29) == date(2025, 2, 28)
    assert money.add_period(date(2027, 2, 28), "yearly", 29) == date(2028, 2, 29)
    assert money.add_period(date(2026, 12, 15), "monthly", 15, count=3) == date(2027, 3, 15)


@pytest.mark.parametrize(
    "day,anchor",
    [
        (date(2026, 1, 31), 31),
        (date(2026, 4, 30), 31),  # the last day of a 30-day month is a month-end
        (date(2026, 2, 28), 31),
        (date(2028, 2, 28), 28),  # not the last day in a leap year
        (date(2028, 2, 29), 31),
        (date(2026, 3, 15), 15),
        (date(2026, 3, 30), 30),
    ],
)
def test_anchor_day(day, anchor):
    assert money.anchor_day_for(day) == anchor


def test_first_due_on_or_after_keeps_the_anchor():
    # Suspended from Jan 31, resumed on Apr 2: Feb 28 and Mar 31 are skipped, the month-end is kept.
    assert money.first_due_on_or_after(date(2026, 1, 31), "monthly", 31, date(2026, 4, 2)) == date(
        2026, 4, 30
    )
    # A payment date on the day itself, or still ahead, stays where it is.
    assert money.first_due_on_or_after(date(2026, 4, 2), "monthly", 2, date(2026, 4, 2)) == date(2026, 4, 2)
    assert money.first_due_on_or_after(date(2026, 5, 1), "monthly", 1, date(2026, 4, 2)) == date(2026, 5, 1)
    assert money.first_due_on_or_after(date(2024, 2, 29), "yearly", 29, date(2026, 3, 1)) == date(2027, 2, 28)


# -- rounding ------------------------------------------------------------------------------------------


def test_rounding_is_half_even_in_minor_units():
    assert money.round_money(Decimal("0.125"), "EUR") == Decimal("0.12")
    assert money.round_money(Decimal("0.135"), "EUR") == Decimal("0.14")
    assert money.round_money(Decimal("2.5"), "JPY") == Decimal("2")
    assert money.round_money(Decimal("3.5"), "JPY") == Decimal("4")
    assert money.round_money(Decimal("1.0005"), "KWD") == Decimal("1.000")
    assert str(money.round_money(Decimal("7"), "EUR")) == "7.00"
    # Half-even on yen: 3 x 2.35 x 150 = 1057.5 -> 1058 and 1058.5 -> 1058.
    assert money.round_money(Decimal(3) * Decimal("2.35") * Decimal("150"), "JPY") == Decimal("1058")
    assert money.round_money(Decimal("1058.5"), "JPY") == Decimal("1058")


# -- conversion and value ------------------------------------------------------------------------------


def test_conversion_needs_the_explicit_direction():
    assert money.conversion_rate(EUR_JPY, "EUR", "EUR") == Decimal(1)
    assert money.conversion_rate(EUR_JPY, "EUR", "JPY") == Decimal("161.5")
    assert money.conversion_rate(EUR_JPY, "JPY", "EUR") is None  # never the inverse
    assert money.convert(Decimal("7.05"), "JPY", "EUR", EUR_JPY) is None


def test_period_amount_converts_the_line_total_once():
    # 3 x 2.35 x 161.5 = 1138.575 -> 1139 yen; converting the unit price first would give 3 x 380 = 1140.
    assert money.period_amount(3, _product("2.35"), "JPY", EUR_JPY) == (Decimal("161.5"), Decimal("1139"))
    assert money.period_amount(4, _product("2.50"), "EUR", {}) == (Decimal(1), Decimal("10.00"))
    assert money.period_amount(3, _product("2.35"), "USD", EUR_JPY) is None
    # A yearly product's period is a year: the line charges the whole year.
    assert money.period_amount(3, _product("99.99", period=Period.yearly), "EUR", {})[1] == Decimal("299.97")


def test_monthly_value_with_and_without_a_rate():
    assert money.monthly_value(4, _product("2.50"), "EUR", {}) == (Decimal("10.00"), "EUR")
    assert money.monthly_value(1, _product("100", period=Period.yearly), "EUR", {}) == (
        Decimal("8.33"),
        "EUR",
    )
    # No rate: the value stays in the product's currency rather than being guessed.
    assert money.monthly_value(2, _product("2.50"), "USD", EUR_JPY) == (Decimal("5.00"), "EUR")
    assert money.monthly_value(3, _product("2.35"), "JPY", EUR_JPY) == (Decimal("1139"), "JPY")
    # 12 x 10 = 120 per year -> 10 per month x 161.5 = 1615 yen.
    assert money.monthly_value(12, _product("10", period=Period.yearly), "JPY", EUR_JPY) == (
        Decimal("1615"),
        "JPY",
    )


def test_a_monthly_value_is_what_a_monthly_period_charges():
    """The invoice line and the subscription's monthly value are one rule for monthly products."""
    for seats, price, currency in [
        (3, "2.35", "JPY"),
        (7, "0.333", "EUR"),
        (1, "19.99", "JPY"),
        (5, "1.005", "EUR"),
    ]:
        rate, amount = money.period_amount(seats, _product(price), currency, EUR_JPY)
        assert money.monthly_value(seats, _product(price), currency, EUR_JPY) == (amount, currency)
