"""Onboarding one client: prepare (pure, template defaults applied), insert with everything it brings, welcome mail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from partnerctl.errors import Conflict, InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.billing import add_subscription
from partnerctl.services.clients.model import (
    ADDRESS_COLUMNS,
    ClientCreate,
    address_part,
    client_snapshot,
    derive_ref,
    non_negative,
    normalize_ref,
    unique_values,
    vat_number_for,
)
from partnerctl.services.outbox import queue_template
from partnerctl.services.partner import partner_name
from partnerctl.services.templates import Lookups, PreparedProduct, TemplateInfo, load_lookups
from partnerctl.services.validation import (
    normalize_currency,
    normalize_email,
    normalize_group,
    normalize_language,
    normalize_permission,
    parse_amount,
    require_text,
)
from partnerctl.store.models import (
    Client,
    ClientAssignment,
    ClientGroup,
    ClientIntegration,
    Integration,
    User,
)
from partnerctl.store.models.clients import PORTAL_MODULES, ClientStatus


@dataclass
class PreparedClient:
    """A validated client ready to insert; `applied` is what the template contributed."""

    values: dict[str, Any]
    groups: list[str]
    users: list[User]
    integrations: list[Integration]
    product: PreparedProduct | None
    template: TemplateInfo | None
    applied: dict[str, Any] | None
    ref_derived: bool
    welcome: bool

    @property
    def ref(self) -> str:
        return self.values["ref"]


UNSET: Any = object()


def _template_for(lookups: Lookups, data: ClientCreate, template: TemplateInfo | None) -> TemplateInfo | None:
    if template is not UNSET:
        return template
    if data.no_template or data.invited:
        return None  # an invitation gets its template when it is accepted
    if data.template:
        return lookups.template(data.template)
    return lookups.default_template


def _settings(
    lookups: Lookups, data: ClientCreate, tpl: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The client's settings (explicit values win, else the template's, else the defaults), and
    `applied`: what the template contributed, in the form stored on the client."""
    applied: dict[str, Any] = {}

    def pick(key: str, explicit, normalize):
        if explicit not in (None, "", []):
            return normalize(explicit)
        if key in tpl:
            applied[key] = tpl[key]
            return tpl[key]
        return None

    # In this order, so the first of several errors is the same as ever.
    currency = pick("currency", data.currency, normalize_currency) or "EUR"
    language = pick("language", data.language, normalize_language) or "en"
    permissions = pick(
        "permissions", data.permissions, lambda v: unique_values(normalize_permission(p) for p in v)
    )
    groups = pick("groups", data.groups, lambda v: unique_values(normalize_group(g) for g in v)) or []
    users = pick("users", data.assign, lambda v: unique_values(lookups.user(e) for e in v)) or []
    integrations = (
        pick("integrations", data.integrations, lambda v: [lookups.integration(k) for k in v]) or []
    )
    settings = {
        "currency": currency,
        "language": language,
        "permissions": list(PORTAL_MODULES) if permissions is None else permissions,
        "groups": groups,
        "users": list({u.id: u for u in users}.values()),
        "integrations": list({i.id: i for i in integrations}.values()),
        "product": tpl.get("product"),
    }
    product = settings["product"]
    if product is not None:
        applied["product"] = {"key": product.product.key, "payer": product.payer, "seats": product.seats}
    if "users" in applied:
        applied["users"] = [u.email for u in applied["users"]]
    if "integrations" in applied:
        applied["integrations"] = [i.key for i in applied["integrations"]]
    return settings, applied


def prepare_client(
    lookups: Lookups, data: ClientCreate, *, template: TemplateInfo | None = UNSET, actor: User | None = None
) -> PreparedClient:
    """Validate one client and resolve its template defaults, without touching the database.

    `template` overrides `data.template` / `data.no_template` (bulk import resolves it once).
    Explicit values win over the template's; lists given explicitly replace the template's.
    """
    if actor is not None:
        require_admin(actor, "client add")
    name = require_text(data.name, "client name")
    if data.ref:
        ref, derived = normalize_ref(data.ref), False
    else:
        ref, derived = derive_ref(name), True
    template = _template_for(lookups, data, template)
    settings, applied = _settings(lookups, data, lookups.resolved(template) if template is not None else {})
    contact_email = (
        normalize_email(data.contact_email, field="contact e-mail") if data.contact_email else None
    )
    if data.welcome and not contact_email:
        raise InvalidInput("--welcome needs --contact-email: the welcome e-mail goes to the client's contact")
    values: dict[str, Any] = {
        "ref": ref,
        "ref_key": ref.lower(),
        "name": name,
        "name_key": name.lower(),
        "status": ClientStatus.invited if data.invited else ClientStatus.onboarding,
        "contact_name": (data.contact_name or "").strip() or None,
        "contact_email": contact_email,
        "currency": settings["currency"],
        "language": settings["language"],
        "permissions": settings["permissions"],
        "missing_receipts": non_negative(data.missing_receipts, "missing receipts"),
        "wallet_balance": parse_amount(data.wallet_balance, field="wallet balance", allow_negative=True),
        "expenses_ready": non_negative(data.expenses_ready, "expenses ready"),
        "template_id": template.id if template else None,
        "template_version": template.version if template else None,
        "template_applied": applied if template else None,
        "created_by": actor.email if actor is not None else None,
    }
    for column, part in ADDRESS_COLUMNS:
        values[column] = address_part(getattr(data, column), part)
    values["vat_number"] = vat_number_for(data.vat_number, values["billing_country"])
    return PreparedClient(
        values=values,
        groups=settings["groups"],
        users=settings["users"],
        integrations=settings["integrations"],
        product=settings["product"],
        template=template,
        applied=applied if template else None,
        ref_derived=derived,
        welcome=data.welcome,
    )


def ref_exists(session: Session, ref: str) -> bool:
    return session.exec(select(Client.id).where(Client.ref_key == ref.lower())).first() is not None


def free_ref(session: Session, base: str) -> str:
    """`base`, or `base-2`, `base-3`, ... when taken (derived references only)."""
    if not ref_exists(session, base):
        return base
    taken = set(
        session.exec(
            select(Client.ref_key).where(col(Client.ref_key).startswith(base.lower() + "-", autoescape=True))
        )
    )
    n = 2
    while f"{base.lower()}-{n}" in taken:
        n += 1
    return f"{base[: 64 - len(str(n)) - 1]}-{n}"


def insert_prepared(
    session: Session, actor: User | str, prepared: PreparedClient, *, check_ref: bool = True
) -> Client:
    """Write a prepared client with its groups, assignments, integrations, subscription, welcome mail, audit."""
    if check_ref and ref_exists(session, prepared.ref):
        raise Conflict(f"client reference {prepared.ref!r} is already taken")
    client = Client(**prepared.values)
    session.add(client)
    session.flush()
    for g in prepared.groups:
        session.add(ClientGroup(client_id=client.id, group_name=g))
    for u in prepared.users:
        session.add(ClientAssignment(client_id=client.id, user_id=u.id))
    for i in prepared.integrations:
        session.add(ClientIntegration(client_id=client.id, integration_id=i.id))
    session.flush()
    if prepared.product is not None:
        add_subscription(
            session, actor, client=client, product=prepared.product.product,
            seats=prepared.product.seats, payer=prepared.product.payer,
        )  # fmt: skip
    audit.record(
        session, actor, "client.add", "client", client.ref,
        after={
            **client_snapshot(
                client, groups=prepared.groups, users=[u.email for u in prepared.users],
                integrations=[i.key for i in prepared.integrations],
            ),
            "template": prepared.template.name if prepared.template else None,
            "welcome": prepared.welcome,
        },
    )  # fmt: skip
    if prepared.welcome:
        queue_welcome(session, client, partner_name=partner_name(session))
    return client


def welcome_context(*, name: str, ref: str, contact_name: str | None, partner_name: str) -> dict[str, str]:
    """What the welcome e-mail says about a client: `client add --welcome` and import build it here."""
    return {
        "client_name": name,
        "client_ref": ref,
        "contact_name": contact_name or name,
        "partner_name": partner_name,
    }


def welcome_key(ref: str) -> str:
    """The outbox dedupe key of a client's welcome e-mail: one welcome per reference, ever."""
    return f"welcome:{ref}"


def queue_welcome(session: Session, client: Client, *, partner_name: str):
    return queue_template(
        session,
        template="welcome",
        language=client.language,
        to=client.contact_email,
        dedupe_key=welcome_key(client.ref),
        client_id=client.id,
        context=welcome_context(
            name=client.name, ref=client.ref, contact_name=client.contact_name, partner_name=partner_name
        ),
    )


def create_client(session: Session, actor: User, data: ClientCreate) -> Client:
    """`client add`: load lookups, prepare, insert (a derived reference gets a free suffix)."""
    lookups = load_lookups(session)
    prepared = prepare_client(lookups, data, actor=actor)
    if prepared.ref_derived:
        ref = free_ref(session, prepared.ref)
        prepared.values["ref"], prepared.values["ref_key"] = ref, ref.lower()
    return insert_prepared(session, actor, prepared)
