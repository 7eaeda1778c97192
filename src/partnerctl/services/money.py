"""Money rules shared by every area: minor units and rounding, billing periods and their anchor day,
the monthly value of seats, and the explicit exchange-rate table (never a guessed rate)."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from sqlmodel import Session, select

from partnerctl.store.models import ExchangeRate, Product
from partnerctl.store.models.core import Period

# ISO 4217 minor units that differ from 2 (pycountry does not carry them).
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "CLF": 4, "UYW": 4,
}  # fmt: skip

Rates = dict[tuple[str, str], Decimal]


def currency_exponent(code: str) -> int:
    """Minor units of a currency (JPY 0, EUR 2, KWD 3)."""
    return _MINOR_UNITS.get(code, 2)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor units (JPY 0, EUR 2, KWD 3), half-even (banker's rounding)."""
    return amount.quantize(Decimal(1).scaleb(-currency_exponent(currency)), rounding=ROUND_HALF_EVEN)


# -- periods -------------------------------------------------------------------------------------


def add_period(current: date, period: Period | str, anchor_day: int | None = None, count: int = 1) -> date:
    """`count` periods after `current`, on the anchor day or the last day of a shorter month.

    Keeping the anchor apart from the date is what makes month-ends stay month-ends:
    Jan 31 -> Feb 28 (29) -> Mar 31, not Mar 28.
    """
    months = count * (12 if Period(period) == Period.yearly else 1)
    year, month0 = divmod(current.month - 1 + months, 12)
    year += current.year
    day = min(anchor_day or current.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def anchor_day_for(day: date) -> int:
    """The anchor day of a payment date: the last day of a month means "month-end" (31), even in a
    30-day month, so the next periods stay on month-ends."""
    return 31 if day.day == calendar.monthrange(day.year, day.month)[1] else day.day


def first_due_on_or_after(due: date, period: Period | str, anchor_day: int | None, day: date) -> date:
    """The first payment date from `due` on (whole periods, on the anchor day) that is not before
    `day`: where a resumed subscription picks up, the periods in between left unbilled."""
    current, count = due, 0
    while current < day:
        count += 1
        # Counted from `due`, not stepped, so a clamped month (Feb 28) does not move the anchor.
        current = add_period(due, period, anchor_day, count)
    return current


# -- exchange rates and value ---------------------------------------------------------------------


def rate_table(session: Session) -> Rates:
    """Every explicit rate: (base, quote) -> how many QUOTE one BASE buys."""
    return {(r.base, r.quote): r.rate for r in session.exec(select(ExchangeRate))}


def conversion_rate(rates: Rates, source: str, target: str) -> Decimal | None:
    """The explicit rate from `source` to `target` (1 for the same currency); None when none is set."""
    if source == target:
        return Decimal(1)
    return rates.get((source, target))


def convert(amount: Decimal, source: str, target: str, rates: Rates) -> tuple[Decimal, Decimal] | None:
    """(rate, amount x rate rounded once to `target`'s minor units); None when no explicit rate
    converts `source` to `target`. Callers convert a total, never a unit price, so one rounding happens."""
    rate = conversion_rate(rates, source, target)
    if rate is None:
        return None
    return rate, round_money(amount * rate, target)


def period_amount(
    seats: int, product: Product, currency: str, rates: Rates
) -> tuple[Decimal, Decimal] | None:
    """(rate, amount) of one billing period of `seats` in `currency`: what an invoice line charges.
    None when no explicit rate converts the product's currency."""
    return convert(Decimal(seats) * product.price_per_seat, product.currency, currency, rates)


def monthly_value(seats: int, product: Product, client_currency: str, rates: Rates) -> tuple[Decimal, str]:
    """Seats x price per month in the client's currency, rounded once; in the product's own currency
    when no explicit rate converts it (an amount is never guessed)."""
    amount = Decimal(seats) * product.price_per_seat
    if Period(product.period) == Period.yearly:
        amount = amount / 12
    converted = convert(amount, product.currency, client_currency, rates)
    if converted is None:
        return round_money(amount, product.currency), product.currency
    return converted[1], client_currency
