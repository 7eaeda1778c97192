"""Validation of e-mail addresses, ISO 4217 currencies, ISO 639-1 languages and amounts (verdicts cached)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import lru_cache
from typing import TypeVar

from partnerctl.errors import InvalidInput
from partnerctl.store.models.clients import PORTAL_MODULES

E = TypeVar("E", bound=Enum)

# Plain ASCII addresses (a dot-atom local part, LDH domain labels without "--") are the bulk of any
# client list. For them email-validator's verdict depends only on lengths and the top-level domain,
# so that verdict is cached per TLD and the ~46 us full validation runs once per TLD, not per row.
# tests/test_import_fuzz.py checks this fast path against the full validator.
_FAST_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+(?P<tld>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*))"
)


@lru_cache(maxsize=4096)
def _tld_ok(tld: str) -> bool:
    return _full_email_verdict(f"a@a.{tld}")[0] is not None


def _fast_email_verdict(raw: str) -> str | None:
    """The normalised address when the fast path can vouch for it, else None (use the full check)."""
    m = _FAST_EMAIL.fullmatch(raw)
    if m is None or len(m["local"]) > 64 or len(raw) > 254 or len(m["domain"]) > 253:
        return None
    if any(len(label) > 63 for label in m["domain"].split(".")) or not _tld_ok(m["tld"].lower()):
        return None
    return raw.lower()


@lru_cache(maxsize=200_000)
def _email_verdict(raw: str) -> tuple[str | None, str | None]:
    fast = _fast_email_verdict(raw)
    if fast is not None:
        return fast, None
    return _full_email_verdict(raw)


def _full_email_verdict(raw: str) -> tuple[str | None, str | None]:
    from email_validator import EmailNotValidError, validate_email

    try:
        info = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        return None, str(exc)
    # The domain part is case-insensitive and so is, in practice, the local part.
    return info.normalized.lower(), None


def normalize_email(raw: str, *, field: str = "e-mail") -> str:
    """Validate (no DNS lookup) and normalise an address; cached so bulk imports pay once per address."""
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(f"{field} is empty")
    normalized, error = _email_verdict(value)
    if normalized is None:
        raise InvalidInput(f"invalid {field} {value!r}: {error}")
    return normalized


@lru_cache(maxsize=1024)
def _currency_ok(code: str) -> bool:
    import pycountry

    return pycountry.currencies.get(alpha_3=code) is not None


def normalize_currency(raw: str) -> str:
    code = (raw or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or not _currency_ok(code):
        raise InvalidInput(f"unknown currency {raw!r}: use an ISO 4217 code such as EUR, USD, DKK")
    return code


@lru_cache(maxsize=1024)
def _language_ok(code: str) -> bool:
    import pycountry

    return pycountry.languages.get(alpha_2=code) is not None


def normalize_language(raw: str) -> str:
    code = (raw or "").strip().lower()
    if len(code) != 2 or not code.isalpha() or not _language_ok(code):
        raise InvalidInput(f"unknown language {raw!r}: use an ISO 639-1 code such as en, nl, de, fr, da")
    return code


@lru_cache(maxsize=1024)
def _country_ok(code: str) -> bool:
    import pycountry

    return pycountry.countries.get(alpha_2=code) is not None


def normalize_country(raw: str) -> str:
    code = (raw or "").strip().upper()
    if len(code) != 2 or not code.isalpha() or not _country_ok(code):
        raise InvalidInput(f"unknown country {raw!r}: use an ISO 3166-1 alpha-2 code such as NL, DE, DK")
    return code


def parse_amount(raw: str | Decimal, *, field: str = "amount", allow_negative: bool = False) -> Decimal:
    if isinstance(raw, Decimal):
        value = raw
    else:
        text = str(raw).strip().replace("_", "")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(f"{field} must be a number like 12.50, not {raw!r}") from None
    if not value.is_finite():
        raise InvalidInput(f"{field} must be a finite number, not {raw!r}")
    if value < 0 and not allow_negative:
        raise InvalidInput(f"{field} must not be negative")
    if abs(value) >= Decimal("1e12"):
        raise InvalidInput(f"{field} is too large")
    return value


def require_text(raw: str | None, field: str, *, max_length: int = 200) -> str:
    value = (raw or "").strip()
    if not value:
        raise InvalidInput(f"{field} must not be empty")
    if len(value) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters")
    return value


def require_key(raw: str | None, field: str) -> str:
    """Catalogue keys: lowercase letters, digits, '-' and '_'."""
    import re

    value = (raw or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value):
        raise InvalidInput(f"invalid {field} {raw!r}: use lowercase letters, digits, '-' or '_' (at most 64)")
    return value


# -- client settings (clients and templates both hold them) --------------------------------------


def normalize_permission(raw: str) -> str:
    value = (raw or "").strip().lower()
    if value not in PORTAL_MODULES:
        raise InvalidInput(f"unknown permission {raw!r}: use one of {', '.join(PORTAL_MODULES)}")
    return value


def normalize_group(raw: str) -> str:
    return require_text(raw, "group", max_length=100)


def one_of(values) -> str:
    """'a, b or c': the allowed values, as every "unknown X" message lists them."""
    values = [str(getattr(v, "value", v)) for v in values]
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def parse_choice(enum: type[E], raw: object, what: str) -> E:
    """`raw` as a member of `enum` (case and surrounding space ignored), or InvalidInput naming the choices."""
    try:
        return enum(str(getattr(raw, "value", raw)).strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown {what} {raw!r}: use {one_of(enum)}") from None


# -- tax and payment identifiers (python-stdnum, never a hand-written pattern) --------------------

# VAT number prefixes that are not the ISO country code of their country.
_VAT_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}


def _stdnum_check(module_name: str, raw: str | None, what: str) -> str:
    import importlib

    from stdnum.exceptions import ValidationError

    value = (raw or "").strip()
    if not value:
        raise InvalidInput(f"{what} is empty")
    try:
        return importlib.import_module(module_name).validate(value)
    except ValidationError as exc:
        raise InvalidInput(f"invalid {what} {value!r}: {exc.message}") from None


def normalize_vat_number(raw: str | None) -> str:
    """An EU VAT number in its compact form (NL004495445B01), checked with stdnum.eu.vat."""
    return _stdnum_check("stdnum.eu.vat", raw, "VAT number")


def vat_number_country(vat_number: str) -> str:
    """The ISO country of a (valid) VAT number: its prefix, except EL (Greece) and XI (Northern Ireland)."""
    prefix = vat_number[:2].upper()
    return _VAT_PREFIX_COUNTRY.get(prefix, prefix)


def check_vat_country(vat_number: str | None, country: str | None) -> None:
    """A VAT number and a country that are both given must agree: NL... goes with NL, EL... with GR."""
    if vat_number and country and vat_number_country(vat_number) != country:
        raise InvalidInput(
            f"VAT number {vat_number} belongs to {vat_number_country(vat_number)}, "
            f"but the country is {country}: they must agree"
        )


def normalize_iban(raw: str | None) -> str:
    """An IBAN in its compact form, checked with stdnum.iban (country format and check digits)."""
    return _stdnum_check("stdnum.iban", raw, "IBAN")


def normalize_bic(raw: str | None) -> str:
    """A BIC (SWIFT code) in its compact form, checked with stdnum.bic."""
    return _stdnum_check("stdnum.bic", raw, "BIC")
