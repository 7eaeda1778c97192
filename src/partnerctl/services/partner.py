"""The partner space's own identity: its name as every message shows it, and its invoicing identity
(legal name, address, VAT number, bank account, payment terms) as every invoice names its seller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, select

from partnerctl.errors import InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.validation import (
    check_vat_country,
    normalize_bic,
    normalize_country,
    normalize_iban,
    normalize_vat_number,
    require_text,
)
from partnerctl.store.models import Partner, User

# What a message says when the store has no partner row (a store made before `init` finished).
FALLBACK_PARTNER_NAME = "partnerctl"

# The invoicing identity, in the order `partner show` lists it.
IDENTITY_FIELDS = (
    "legal_name", "street", "city", "zip", "country", "vat_number", "iban", "bic", "payment_terms_days",
    "footer",
)  # fmt: skip
MAX_PAYMENT_TERMS_DAYS = 365


def get_partner(session: Session) -> Partner | None:
    return session.exec(select(Partner).order_by(Partner.id)).first()


def partner_name(session: Session) -> str:
    """The partner's name for messages and documents; never empty."""
    name = session.exec(select(Partner.name).order_by(Partner.id)).first()
    return name or FALLBACK_PARTNER_NAME


def _text(limit: int, what: str) -> Callable[[str], str]:
    return lambda raw: require_text(raw, what, max_length=limit)


def _payment_terms(raw: Any) -> int:
    try:
        days = int(raw)
    except (TypeError, ValueError):
        raise InvalidInput(f"payment terms must be a number of days, not {raw!r}") from None
    if not 0 <= days <= MAX_PAYMENT_TERMS_DAYS:
        raise InvalidInput(f"payment terms must be 0 to {MAX_PAYMENT_TERMS_DAYS} days, not {days}")
    return days


_NORMALIZERS: dict[str, Callable[[Any], Any]] = {
    "legal_name": _text(200, "legal name"), "street": _text(200, "street"), "city": _text(100, "city"),
    "zip": _text(20, "postal code"), "country": normalize_country, "vat_number": normalize_vat_number,
    "iban": normalize_iban, "bic": normalize_bic, "payment_terms_days": _payment_terms,
    "footer": _text(500, "footer"),
}  # fmt: skip


def identity_of(partner: Partner) -> dict[str, Any]:
    """The partner's name and invoicing identity, as `partner show` lists them."""
    return {"name": partner.name, **{name: getattr(partner, name) for name in IDENTITY_FIELDS}}


def identity_changes(partner: Partner, given: dict[str, Any]) -> dict[str, Any]:
    """The validated new values of the fields given (pure); '' clears a text field. The VAT number
    and the country must agree, as they will be after the change."""
    changes: dict[str, Any] = {}
    for name, raw in given.items():
        if raw is None:
            continue
        if name not in _NORMALIZERS:
            raise InvalidInput(f"unknown partner field {name!r}")
        if isinstance(raw, str) and not raw.strip() and name != "payment_terms_days":
            changes[name] = None
        else:
            changes[name] = _NORMALIZERS[name](raw)
    after = {**identity_of(partner), **changes}
    check_vat_country(after["vat_number"], after["country"])
    return changes


def set_partner_identity(session: Session, actor: User, **given: Any) -> Partner:
    """`partner set`: change the invoicing identity (admins only; audited). Issued invoices keep the
    identity they were issued with."""
    require_admin(actor, "partner set")
    partner = get_partner(session)
    if partner is None:
        raise NotFound("this store has no partner space yet", hint="run `partnerctl init`")
    changes = identity_changes(partner, given)
    if not changes:
        raise InvalidInput("nothing to change: pass at least one option, e.g. --vat-number")
    before = identity_of(partner)
    for name, value in changes.items():
        setattr(partner, name, value)
    session.add(partner)
    session.flush()
    audit.record(
        session, actor, "partner.set", "partner", str(partner.id), before=before, after=identity_of(partner)
    )
    return partner


def show_partner_identity(session: Session, actor: User) -> dict[str, Any]:
    """`partner show` (admins only)."""
    require_admin(actor, "partner show")
    partner = get_partner(session)
    if partner is None:
        raise NotFound("this store has no partner space yet", hint="run `partnerctl init`")
    return identity_of(partner)


def seller_of(partner: Partner) -> dict[str, Any]:
    """What an invoice copies of its seller when it is issued."""
    return {
        "name": partner.legal_name or partner.name, "street": partner.street, "city": partner.city,
        "zip": partner.zip, "country": partner.country, "vat_number": partner.vat_number,
        "iban": partner.iban, "bic": partner.bic, "payment_terms_days": partner.payment_terms_days,
        "footer": partner.footer,
    }  # fmt: skip


def invoicing_problem(partner: Partner | None) -> str | None:
    """Why no invoice can be issued yet (the partner's country and VAT number are needed), or None."""
    needed = ("country", "vat_number")
    missing = list(needed) if partner is None else [f for f in needed if not getattr(partner, f)]
    if not missing:
        return None
    what = " and ".join(m.replace("_", " ") for m in missing)
    options = " ".join(f"--{m.replace('_', '-')} ..." for m in missing)
    verb = "is" if len(missing) == 1 else "are"
    return f"the partner's {what} {verb} not set; an invoice needs them: `partnerctl partner set {options}`"
