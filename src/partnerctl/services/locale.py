"""Amounts and dates in a reader's language, through Babel (CLDR): the one way every mail and
document shows money and days (`€ 1.512,50` nl, `1.512,50 €` de, `1.512,50 kr.` da, `¥1,211` en)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from partnerctl.mail.render import FALLBACK_LANGUAGE, SHIPPED_LANGUAGES


def text_language(language: str | None) -> str:
    """The language texts are shown in: the reader's when partnerctl ships it, else English."""
    lang = (language or FALLBACK_LANGUAGE).lower()
    return lang if lang in SHIPPED_LANGUAGES else FALLBACK_LANGUAGE


@lru_cache(maxsize=16)
def _locale(language: str):
    from babel import Locale

    return Locale.parse(language)


def format_money(amount: Decimal, currency: str, language: str | None) -> str:
    """An amount with its currency in `language`'s notation, with the currency's own decimals (JPY none)."""
    from babel.numbers import format_currency

    return format_currency(Decimal(amount), currency, locale=_locale(text_language(language)))


def format_day(day: date, language: str | None) -> str:
    """A date written out in `language`: 29 november 2026, 29. November 2026, November 29, 2026."""
    from babel.dates import format_date

    return format_date(day, format="long", locale=_locale(text_language(language)))


def format_percent(rate: Decimal, language: str | None) -> str:
    """A VAT rate given in percent (21, 5.5) in `language`'s notation: 21 %, 5,5 %."""
    from babel.numbers import format_decimal

    return f"{format_decimal(Decimal(rate), locale=_locale(text_language(language)))} %"
