"""Clients: onboarding (from a template), the portal's tabs and filters, edits, and who may see what.

Onboarding is split in three so bulk import can do it fast and exactly like `client add`:
`load_lookups` (a handful of queries, once per command), `prepare_client` (pure: validates and
resolves template defaults, no database), `insert_prepared` (writes one prepared client).
`create_client` is the three in a row.

Bookkeeper isolation lives in `visible_clients_filter` / `get_client_for`: every service that
touches a client by reference goes through them, so a bookkeeper never sees (or learns of) a
client they are not assigned to.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, func, select

from partnerctl.errors import Conflict, Forbidden, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.users import require_admin
from partnerctl.services.validation import (
    normalize_country,
    normalize_currency,
    normalize_email,
    normalize_language,
    parse_amount,
    require_text,
)
from partnerctl.store.models import (
    Client,
    ClientAssignment,
    ClientGroup,
    ClientIntegration,
    ConfigTemplate,
    Integration,
    Partner,
    Product,
    Subscription,
    User,
)
from partnerctl.store.models.clients import PORTAL_MODULES, ClientStatus, IntegrationState
from partnerctl.store.models.core import Period, Role
from partnerctl.store.models.subscriptions import Payer, SubscriptionStatus
from partnerctl.store.types import utcnow

REF_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ADDRESS_FIELDS = ("street", "city", "zip", "country")


# -- small helpers ------------------------------------------------------------------------------


# Letters NFKD does not take apart (Danish, German, Polish, Icelandic names are common here).
_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
                       "þ": "th", "Þ": "TH", "œ": "oe", "Œ": "OE"})  # fmt: skip


def derive_ref(name: str) -> str:
    """A reference from a name: 'Bäckerei Müller & Co.' -> 'backerei-muller-co' (at most 64)."""
    folded = name.translate(_FOLD)
    ascii_name = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].strip("-")
    return slug or "client"


def normalize_ref(raw: str) -> str:
    value = (raw or "").strip()
    if not REF_RE.match(value):
        raise InvalidInput(
            f"invalid reference {raw!r}: use letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)"
        )
    return value


def normalize_permission(raw: str) -> str:
    value = (raw or "").strip().lower()
    if value not in PORTAL_MODULES:
        raise InvalidInput(f"unknown permission {raw!r}: use one of {', '.join(PORTAL_MODULES)}")
    return value


def normalize_group(raw: str) -> str:
    return require_text(raw, "group", max_length=100)


def parse_status(raw: str) -> ClientStatus:
    try:
        return ClientStatus(raw.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"unknown status {raw!r}: use {', '.join(s.value for s in ClientStatus)}"
        ) from None


def _unique(values) -> list:
    seen: dict = {}
    for v in values:
        key = v.lower() if isinstance(v, str) else getattr(v, "id", v)  # table models are unhashable
        seen.setdefault(key, v)
    return list(seen.values())


def price_text(product: Product) -> str:
    per = "month" if product.period == Period.monthly else "year"
    return f"{product.currency} {product.price_per_seat:.2f} per seat per {per}"


# -- input ----------------------------------------------------------------------------------------


class ClientCreate(BaseModel):
    """What `client add` (and one row of a bulk import) asks for; unset fields come from the template."""

    model_config = ConfigDict(extra="forbid")

    name: str
    ref: str | None = None
    template: str | None = None  # a template name; None = the default template
    no_template: bool = False
    invited: bool = False
    contact_name: str | None = None
    contact_email: str | None = None
    currency: str | None = None
    language: str | None = None
    # default_factory, not `= []`: pydantic deep-copies a mutable default on every row of an import.
    groups: list[str] = Field(default_factory=list)
    assign: list[str] = Field(default_factory=list)  # partner users' e-mails
    integrations: list[str] = Field(default_factory=list)
    permissions: list[str] = Field(default_factory=list)
    billing_street: str | None = None
    billing_city: str | None = None
    billing_zip: str | None = None
    billing_country: str | None = None
    shipping_street: str | None = None
    shipping_city: str | None = None
    shipping_zip: str | None = None
    shipping_country: str | None = None
    welcome: bool = False
    missing_receipts: int = 0
    wallet_balance: Decimal | str = Decimal(0)
    expenses_ready: int = 0


class ClientUpdate(BaseModel):
    """`client edit`: every field optional; lists are changed by add/remove."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    currency: str | None = None
    language: str | None = None
    billing_street: str | None = None
    billing_city: str | None = None
    billing_zip: str | None = None
    billing_country: str | None = None
    shipping_street: str | None = None
    shipping_city: str | None = None
    shipping_zip: str | None = None
    shipping_country: str | None = None
    add_groups: list[str] = []
    remove_groups: list[str] = []
    add_permissions: list[str] = []
    remove_permissions: list[str] = []
    add_integrations: list[str] = []
    remove_integrations: list[str] = []
    connect_integrations: list[str] = []


# -- lookups (loaded once per command) ---------------------------------------------------------


@dataclass(frozen=True)
class TemplateInfo:
    id: int
    name: str
    version: int
    is_default: bool
    settings: dict


@dataclass
class Lookups:
    users_by_email: dict[str, User]
    integrations_by_key: dict[str, Integration]
    products_by_key: dict[str, Product]
    templates_by_key: dict[str, TemplateInfo]
    default_template: TemplateInfo | None
    partner_name: str = ""
    # Templates resolved against the catalogues, once per command (bulk import resolves the same
    # template for every row): id(template) -> (template, resolved settings).
    resolved_templates: dict[int, tuple[TemplateInfo, dict[str, Any]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def resolved(self, template: TemplateInfo) -> dict[str, Any]:
        """`resolve_template_settings` of `template`, memoised; lists are fresh copies per call."""
        entry = self.resolved_templates.get(id(template))
        if entry is None or entry[0] is not template:
            entry = (template, resolve_template_settings(self, template))
            self.resolved_templates[id(template)] = entry
        return {k: list(v) if type(v) is list else v for k, v in entry[1].items()}

    def template(self, name: str) -> TemplateInfo:
        found = self.templates_by_key.get(name.strip().lower())
        if found is None:
            raise InvalidInput(f"unknown template {name!r}", hint="list them with `partnerctl template list`")
        return found

    def user(self, email: str, *, origin: str = "") -> User:
        normalized = normalize_email(email, field="user e-mail")
        user = self.users_by_email.get(normalized)
        if user is None:
            raise InvalidInput(
                f"unknown user {email!r}{origin}", hint="list them with `partnerctl user list`"
            )
        if not user.active:
            raise InvalidInput(f"user {normalized}{origin} is deactivated")
        return user

    def integration(self, key: str, *, origin: str = "") -> Integration:
        found = self.integrations_by_key.get((key or "").strip().lower())
        if found is None:
            raise InvalidInput(
                f"unknown integration {key!r}{origin}", hint="list them with `partnerctl integration list`"
            )
        return found

    def product(self, key: str, *, origin: str = "") -> Product:
        found = self.products_by_key.get((key or "").strip().lower())
        if found is None:
            raise InvalidInput(
                f"unknown product {key!r}{origin}", hint="list them with `partnerctl product list`"
            )
        return found


def template_info(t: ConfigTemplate) -> TemplateInfo:
    return TemplateInfo(
        id=t.id, name=t.name, version=t.version, is_default=t.is_default, settings=dict(t.settings or {})
    )


def load_lookups(session: Session) -> Lookups:
    """Everything onboarding needs to resolve names, in five queries whatever the number of rows."""
    templates = [template_info(t) for t in session.exec(select(ConfigTemplate))]
    partner = session.exec(select(Partner).order_by(Partner.id)).first()
    return Lookups(
        users_by_email={u.email: u for u in session.exec(select(User))},
        integrations_by_key={i.key: i for i in session.exec(select(Integration))},
        products_by_key={p.key: p for p in session.exec(select(Product))},
        templates_by_key={t.name.lower(): t for t in templates},
        default_template=next((t for t in templates if t.is_default), None),
        partner_name=partner.name if partner else "",
    )


# -- prepare (pure) ------------------------------------------------------------------------------


@dataclass
class PreparedProduct:
    product: Product
    payer: str
    seats: int = 1


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


_UNSET: Any = object()


def resolve_template_settings(lookups: Lookups, template: TemplateInfo) -> dict[str, Any]:
    """A template's settings resolved against the catalogues (raises InvalidInput for stale names)."""
    origin = f" (from template {template.name})"
    s = template.settings
    resolved: dict[str, Any] = {}
    if s.get("currency"):
        resolved["currency"] = s["currency"]
    if s.get("language"):
        resolved["language"] = s["language"]
    if s.get("permissions"):
        resolved["permissions"] = list(s["permissions"])
    if s.get("groups"):
        resolved["groups"] = list(s["groups"])
    if s.get("users"):
        resolved["users"] = [lookups.user(e, origin=origin) for e in s["users"]]
    if s.get("integrations"):
        resolved["integrations"] = [lookups.integration(k, origin=origin) for k in s["integrations"]]
    if s.get("product"):
        p = s["product"]
        resolved["product"] = PreparedProduct(
            lookups.product(p["key"], origin=origin), p.get("payer", "partner"), int(p.get("seats", 1))
        )
    return resolved


def prepare_client(
    lookups: Lookups, data: ClientCreate, *, template: TemplateInfo | None = _UNSET, actor: User | None = None
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
    if template is _UNSET:
        if data.no_template or data.invited:
            # An invitation gets its template when it is accepted.
            template = None
        elif data.template:
            template = lookups.template(data.template)
        else:
            template = lookups.default_template
    tpl = lookups.resolved(template) if template is not None else {}
    applied: dict[str, Any] = {}

    def pick(key: str, explicit, normalize):
        if explicit not in (None, "", []):
            return normalize(explicit)
        if key in tpl:
            applied[key] = tpl[key]
            return tpl[key]
        return None

    currency = pick("currency", data.currency, normalize_currency) or "EUR"
    language = pick("language", data.language, normalize_language) or "en"
    permissions = pick("permissions", data.permissions, lambda v: _unique(normalize_permission(p) for p in v))
    if permissions is None:
        permissions = list(PORTAL_MODULES)
    groups = pick("groups", data.groups, lambda v: _unique(normalize_group(g) for g in v)) or []
    users = pick("users", data.assign, lambda v: _unique(lookups.user(e) for e in v)) or []
    users = list({u.id: u for u in users}.values())
    integrations = (
        pick("integrations", data.integrations, lambda v: [lookups.integration(k) for k in v]) or []
    )
    integrations = list({i.id: i for i in integrations}.values())
    product = tpl.get("product")
    if product is not None:
        applied["product"] = {"key": product.product.key, "payer": product.payer, "seats": product.seats}
    if "users" in applied:
        applied["users"] = [u.email for u in applied["users"]]
    if "integrations" in applied:
        applied["integrations"] = [i.key for i in applied["integrations"]]

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
        "currency": currency,
        "language": language,
        "permissions": permissions,
        "missing_receipts": _non_negative(data.missing_receipts, "missing receipts"),
        "wallet_balance": parse_amount(data.wallet_balance, field="wallet balance", allow_negative=True),
        "expenses_ready": _non_negative(data.expenses_ready, "expenses ready"),
        "template_id": template.id if template else None,
        "template_version": template.version if template else None,
        "template_applied": applied if template else None,
        "created_by": actor.email if actor is not None else None,
    }
    for kind in ("billing", "shipping"):
        for part in ADDRESS_FIELDS:
            raw = getattr(data, f"{kind}_{part}")
            values[f"{kind}_{part}"] = _address_part(raw, part)
    return PreparedClient(
        values=values,
        groups=groups,
        users=users,
        integrations=integrations,
        product=product,
        template=template,
        applied=applied if template else None,
        ref_derived=derived,
        welcome=data.welcome,
    )


def _non_negative(value: int, field_name: str) -> int:
    if value is None or int(value) < 0:
        raise InvalidInput(f"{field_name} must be 0 or more, not {value!r}")
    return int(value)


def _address_part(raw: str | None, part: str) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    if part == "country":
        return normalize_country(value)
    limits = {"street": 200, "city": 100, "zip": 20}
    if len(value) > limits[part]:
        raise InvalidInput(f"{part} is longer than {limits[part]} characters")
    return value


# -- insert ----------------------------------------------------------------------------------------


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


def client_snapshot(client: Client, *, groups=None, users=None, integrations=None) -> dict:
    snap = {
        "ref": client.ref,
        "name": client.name,
        "status": client.status,
        "contact_name": client.contact_name,
        "contact_email": client.contact_email,
        "currency": client.currency,
        "language": client.language,
        "permissions": list(client.permissions or []),
        "template_id": client.template_id,
        "template_version": client.template_version,
    }
    for kind in ("billing", "shipping"):
        for part in ADDRESS_FIELDS:
            snap[f"{kind}_{part}"] = getattr(client, f"{kind}_{part}")
    if groups is not None:
        snap["groups"] = list(groups)
    if users is not None:
        snap["assigned"] = list(users)
    if integrations is not None:
        snap["integrations"] = list(integrations)
    return snap


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
        from partnerctl.services.subscriptions import add_subscription

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
        queue_welcome(session, client, partner_name=_partner_name(session))
    return client


def _partner_name(session: Session) -> str:
    partner = session.exec(select(Partner).order_by(Partner.id)).first()
    return partner.name if partner else ""


def queue_welcome(session: Session, client: Client, *, partner_name: str):
    from partnerctl.services.outbox import queue_template

    return queue_template(
        session,
        template="welcome",
        language=client.language,
        to=client.contact_email,
        dedupe_key=f"welcome:{client.ref}",
        context={
            "client_name": client.name,
            "client_ref": client.ref,
            "contact_name": client.contact_name or client.name,
            "partner_name": partner_name,
        },
    )


def create_client(session: Session, actor: User, data: ClientCreate) -> Client:
    """`client add`: load lookups, prepare, insert (a derived reference gets a free suffix)."""
    lookups = load_lookups(session)
    prepared = prepare_client(lookups, data, actor=actor)
    if prepared.ref_derived:
        ref = free_ref(session, prepared.ref)
        prepared.values["ref"], prepared.values["ref_key"] = ref, ref.lower()
    return insert_prepared(session, actor, prepared)


# -- visibility -----------------------------------------------------------------------------------


def visible_clients_filter(actor: User) -> Any:
    """A WHERE clause on `Client`: admins see every client, bookkeepers only those assigned to them."""
    if actor.role == Role.admin:
        return sa.true()
    return col(Client.id).in_(select(ClientAssignment.client_id).where(ClientAssignment.user_id == actor.id))


def get_client_for(session: Session, actor: User, ref: str) -> Client:
    """The client `ref` as `actor` may see it; NotFound when it does not exist OR is not visible."""
    key = (ref or "").strip().lower()
    if not key:
        raise InvalidInput("no client given: pass REF or pick one with `partnerctl client use REF`")
    client = session.exec(select(Client).where(Client.ref_key == key, visible_clients_filter(actor))).first()
    if client is None:
        raise NotFound(f"no client {ref.strip()!r}", hint="list them with `partnerctl client list`")
    return client


# -- list ------------------------------------------------------------------------------------------


class Tab(StrEnum):
    invites = "invites"
    onboarding = "onboarding"
    mine = "mine"
    all = "all"


TAB_LABELS = {Tab.invites: "Invites", Tab.onboarding: "Onboarding", Tab.mine: "My clients", Tab.all: "All"}


class Sort(StrEnum):
    name = "name"
    created = "created"
    missing_receipts = "missing-receipts"


@dataclass
class ClientFilters:
    """Every `client list` filter; `client export` takes the same."""

    tab: Tab | str | None = None
    search: str | None = None
    missing_receipts: bool = False
    status: str | None = None
    group: str | None = None
    assigned: str | None = None
    template: str | None = None
    currency: str | None = None
    language: str | None = None
    include_archived: bool = False
    sort: Sort | str = Sort.name
    desc: bool = False
    limit: int | None = None
    offset: int = 0


def tabs_for(actor: User) -> list[Tab]:
    if actor.role == Role.admin:
        return [Tab.invites, Tab.onboarding, Tab.mine, Tab.all]
    return [Tab.onboarding, Tab.mine]


def default_tab(actor: User) -> Tab:
    return Tab.all if actor.role == Role.admin else Tab.mine


def parse_tab(raw: Tab | str | None, actor: User) -> Tab:
    if raw is None:
        return default_tab(actor)
    try:
        tab = Tab(str(raw).strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown tab {raw!r}: use invites, onboarding, mine or all") from None
    if tab not in tabs_for(actor):
        raise Forbidden(f"bookkeepers see only the onboarding and mine tabs, not {tab.value}")
    return tab


def _mine(actor: User) -> Any:
    return col(Client.id).in_(select(ClientAssignment.client_id).where(ClientAssignment.user_id == actor.id))


def _tab_clause(tab: Tab, actor: User) -> Any:
    if tab == Tab.invites:
        return Client.status == ClientStatus.invited
    if tab == Tab.onboarding:
        return Client.status == ClientStatus.onboarding
    if tab == Tab.mine:
        return _mine(actor)
    return sa.true()


def like_escape(text: str) -> str:
    """`%` and `_` in a search are literal characters, not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def client_query(session: Session, actor: User, filters: ClientFilters):
    """The SELECT of `client list` (no limit/offset): visibility, tab and every filter applied."""
    tab = parse_tab(filters.tab, actor)
    # The mine tab already limits to the actor's assigned clients: a bookkeeper's visibility filter
    # on top would be the same IN (assignments) twice, looked up twice.
    visible = sa.true() if tab == Tab.mine else visible_clients_filter(actor)
    query = select(Client).where(visible, _tab_clause(tab, actor))
    if filters.status:
        query = query.where(Client.status == parse_status(filters.status))
    elif not filters.include_archived:
        query = query.where(Client.status != ClientStatus.archived)
    if filters.search and filters.search.strip():
        pattern = f"%{like_escape(filters.search.strip().lower())}%"
        query = query.where(
            sa.or_(
                col(Client.name_key).like(pattern, escape="\\"),
                col(Client.ref_key).like(pattern, escape="\\"),
            )
        )
    if filters.missing_receipts:
        query = query.where(Client.missing_receipts > 0)
    if filters.group:
        query = query.where(
            col(Client.id).in_(
                select(ClientGroup.client_id).where(ClientGroup.group_name == filters.group.strip())
            )
        )
    if filters.assigned:
        email = normalize_email(filters.assigned, field="--assigned e-mail")
        query = query.where(
            col(Client.id).in_(
                select(ClientAssignment.client_id)
                .join(User, col(User.id) == ClientAssignment.user_id)
                .where(User.email == email)
            )
        )
    if filters.template:
        tpl = session.exec(
            select(ConfigTemplate.id).where(ConfigTemplate.name_key == filters.template.strip().lower())
        ).first()
        if tpl is None:
            raise InvalidInput(f"unknown template {filters.template!r}")
        query = query.where(Client.template_id == tpl)
    if filters.currency:
        query = query.where(Client.currency == normalize_currency(filters.currency))
    if filters.language:
        query = query.where(Client.language == normalize_language(filters.language))
    return query


def _order(query, filters: ClientFilters):
    try:
        sort = Sort(str(filters.sort).strip().lower()) if filters.sort else Sort.name
    except ValueError:
        raise InvalidInput(f"unknown sort {filters.sort!r}: use name, created or missing-receipts") from None
    column = {
        Sort.name: Client.name_key,
        Sort.created: Client.created_at,
        Sort.missing_receipts: Client.missing_receipts,
    }[sort]
    # A search scans every row anyway; walking the sort index instead (SQLite's choice, as it
    # cannot estimate LIKE) would fetch rows one by one. coalesce() makes it sort the matches.
    searching = bool(filters.search and filters.search.strip())
    column = func.coalesce(column, column) if searching else col(column)
    if filters.desc:
        return query.order_by(column.desc(), col(Client.id).desc())
    return query.order_by(column.asc(), col(Client.id).asc())


@dataclass
class ClientPage:
    rows: list[Client]
    tab: Tab
    tab_counts: dict[Tab, int]
    total: int
    groups: dict[int, list[str]] = field(default_factory=dict)
    assigned: dict[int, list[str]] = field(default_factory=dict)


def tab_counts(session: Session, actor: User) -> dict[Tab, int]:
    """Counts per tab the actor may see (archived clients count in none).

    Admins: clients per status in one pass over the status index (Invites, Onboarding, All) plus
    their assigned clients (My clients). Bookkeepers: their assigned clients per status, one query.
    (One conditional-aggregation query over every row was measured slower on SQLite: it evaluates
    each CASE per row instead of reading the index.)
    """
    mine_join = (
        select(Client.status, func.count())
        .select_from(ClientAssignment)
        .join(Client, col(Client.id) == ClientAssignment.client_id)
        .where(ClientAssignment.user_id == actor.id)
        .group_by(Client.status)
    )
    archived = ClientStatus.archived.value
    mine_per_status = dict(session.exec(mine_join).all())
    mine = sum(n for status, n in mine_per_status.items() if status != archived)
    if actor.role != Role.admin:
        return {Tab.onboarding: mine_per_status.get(ClientStatus.onboarding.value, 0), Tab.mine: mine}
    per_status = dict(session.exec(select(Client.status, func.count()).group_by(Client.status)).all())
    return {
        Tab.invites: per_status.get(ClientStatus.invited.value, 0),
        Tab.onboarding: per_status.get(ClientStatus.onboarding.value, 0),
        Tab.mine: mine,
        Tab.all: sum(n for status, n in per_status.items() if status != archived),
    }


def _tab_only(filters: ClientFilters) -> bool:
    """True when `filters` list exactly a tab's clients (no filter beyond the tab, archived hidden)."""
    return not (
        (filters.search and filters.search.strip())
        or filters.missing_receipts
        or filters.status
        or filters.group
        or filters.assigned
        or filters.template
        or filters.currency
        or filters.language
        or filters.include_archived
    )


def _count(session: Session, query) -> int:
    """`count(*)` over the clients `query` selects, without a subquery of every column."""
    count = select(func.count()).select_from(Client)
    if query.whereclause is not None:
        count = count.where(query.whereclause)
    return session.exec(count).one()


def list_clients(
    session: Session, actor: User, filters: ClientFilters | None = None, *, with_counts: bool = True
) -> ClientPage:
    filters = filters or ClientFilters()
    if filters.limit is not None and filters.limit < 0:
        raise InvalidInput("--limit must be 0 or more")
    if filters.offset < 0:
        raise InvalidInput("--offset must be 0 or more")
    query = client_query(session, actor, filters)
    searching = bool(filters.search and filters.search.strip())
    # Page ids first (from an index where one covers the filters), then load just those rows:
    # a deep --offset then skips index entries, not whole rows.
    if searching:
        # A search reads every candidate anyway: count them in the same pass (a window count)
        # instead of a second scan.
        page = _order(select(Client.id, func.count().over()).where(query.whereclause), filters)
    else:
        page = _order(query.with_only_columns(Client.id), filters)
    page = page.offset(filters.offset)
    if filters.limit is not None:
        page = page.limit(filters.limit)
    fetched = session.exec(page).all()
    if searching:
        page_ids = [cid for cid, _ in fetched]
        total = fetched[0][1] if fetched else (0 if filters.offset == 0 and filters.limit != 0 else None)
    else:
        page_ids = list(fetched)
        # A short first page is the whole result: no separate count needed.
        short = filters.offset == 0 and (filters.limit is None or len(page_ids) < filters.limit)
        total = len(page_ids) if short else None
    counts = tab_counts(session, actor) if with_counts else {}
    tab = parse_tab(filters.tab, actor)
    if total is None and tab in counts and _tab_only(filters):
        total = counts[tab]  # the tab bar already counted exactly this list
    if total is None:
        total = _count(session, query)
    by_id = {
        c.id: c
        for chunk in _chunks(page_ids)
        for c in session.exec(select(Client).where(col(Client.id).in_(chunk)))
    }
    rows = [by_id[i] for i in page_ids]
    result = ClientPage(
        rows=rows,
        tab=tab,
        tab_counts=counts,
        total=total,
    )
    ids = [c.id for c in rows]
    result.groups = groups_of(session, ids)
    result.assigned = assigned_of(session, ids)
    return result


def groups_of(session: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        for cid, g in session.exec(
            select(ClientGroup.client_id, ClientGroup.group_name)
            .where(col(ClientGroup.client_id).in_(chunk))
            .order_by(ClientGroup.group_name)
        ):
            out[cid].append(g)
    return out


def assigned_of(session: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        for cid, email in session.exec(
            select(ClientAssignment.client_id, User.email)
            .join(User, col(User.id) == ClientAssignment.user_id)
            .where(col(ClientAssignment.client_id).in_(chunk))
            .order_by(User.email)
        ):
            out[cid].append(email)
    return out


def integrations_of(session: Session, client_id: int) -> list[tuple[str, str]]:
    return [
        (key, str(state))
        for key, state in session.exec(
            select(Integration.key, ClientIntegration.state)
            .join(Integration, col(Integration.id) == ClientIntegration.integration_id)
            .where(ClientIntegration.client_id == client_id)
            .order_by(Integration.key)
        )
    ]


def _chunks(ids: list[int], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


# -- show ------------------------------------------------------------------------------------------


def client_details(session: Session, actor: User, ref: str) -> dict[str, Any]:
    """Everything about one client, template origin and assigned users included."""
    client = get_client_for(session, actor, ref)
    template = session.get(ConfigTemplate, client.template_id) if client.template_id else None
    subs = session.exec(
        select(Subscription, Product.key)
        .join(Product, col(Product.id) == Subscription.product_id)
        .where(Subscription.client_id == client.id)
        .order_by(Subscription.id)
    ).all()
    details: dict[str, Any] = {
        "ref": client.ref,
        "name": client.name,
        "status": client.status,
        "contact_name": client.contact_name,
        "contact_email": client.contact_email,
        "currency": client.currency,
        "language": client.language,
        "groups": groups_of(session, [client.id])[client.id],
        "permissions": list(client.permissions or []),
        "assigned": assigned_of(session, [client.id])[client.id],
        "integrations": [f"{k} ({s})" for k, s in integrations_of(session, client.id)],
        "subscriptions": [f"{key} x{sub.seats} ({sub.status}, {sub.payer} pays)" for sub, key in subs],
        "missing_receipts": client.missing_receipts,
        "wallet_balance": client.wallet_balance,
        "expenses_ready": client.expenses_ready,
    }
    for kind in ("billing", "shipping"):
        for part in ADDRESS_FIELDS:
            details[f"{kind}_{part}"] = getattr(client, f"{kind}_{part}")
    if not any(getattr(client, f"shipping_{p}") for p in ADDRESS_FIELDS):
        # Shipping falls back to billing, as on invoices.
        for part in ADDRESS_FIELDS:
            details[f"shipping_{part}"] = getattr(client, f"billing_{part}")
    details["template"] = template.name if template else None
    details["template_version"] = client.template_version
    details["template_current_version"] = template.version if template else None
    details["template_applied"] = client.template_applied
    details["created_by"] = client.created_by
    details["created_at"] = client.created_at
    details["updated_at"] = client.updated_at
    return details


# -- edit ------------------------------------------------------------------------------------------


def check_currency_change(session: Session, client: Client, new_currency: str) -> None:
    """Hook for the billing rules: the currency cannot change once the client has transactions."""
    from partnerctl.services.billing import assert_currency_change_allowed

    assert_currency_change_allowed(session, client, new_currency)


def _set_currency(session: Session, client: Client, new: str) -> None:
    if new != client.currency:
        check_currency_change(session, client, new)
        client.currency = new


def edit_client(session: Session, actor: User, ref: str, changes: ClientUpdate) -> Client:
    client = get_client_for(session, actor, ref)
    data = changes.model_dump(exclude_unset=True)
    if not any(v not in (None, []) for v in data.values()):
        raise InvalidInput(
            "nothing to change: pass at least one option (see `partnerctl client edit --help`)"
        )
    lookups_needed = (
        data.get("add_integrations") or data.get("remove_integrations") or data.get("connect_integrations")
    )
    before = client_snapshot(
        client, groups=groups_of(session, [client.id])[client.id],
        integrations=[f"{k}:{s}" for k, s in integrations_of(session, client.id)],
    )  # fmt: skip
    if changes.name is not None:
        client.name = require_text(changes.name, "client name")
        client.name_key = client.name.lower()
    if changes.contact_name is not None:
        client.contact_name = changes.contact_name.strip() or None
    if changes.contact_email is not None:
        client.contact_email = (
            normalize_email(changes.contact_email, field="contact e-mail")
            if changes.contact_email.strip()
            else None
        )
    if changes.language is not None:
        client.language = normalize_language(changes.language)
    for kind in ("billing", "shipping"):
        for part in ADDRESS_FIELDS:
            raw = getattr(changes, f"{kind}_{part}")
            if raw is not None:
                setattr(client, f"{kind}_{part}", _address_part(raw, part))
    if changes.currency is not None:
        _set_currency(session, client, normalize_currency(changes.currency))
    perms = list(client.permissions or [])
    for p in changes.add_permissions:
        p = normalize_permission(p)
        if p not in perms:
            perms.append(p)
    for p in changes.remove_permissions:
        p = normalize_permission(p)
        if p in perms:
            perms.remove(p)
    client.permissions = perms
    current_groups = set(before["groups"])
    for g in changes.add_groups:
        g = normalize_group(g)
        if g not in current_groups:
            session.add(ClientGroup(client_id=client.id, group_name=g))
            current_groups.add(g)
    for g in changes.remove_groups:
        g = normalize_group(g)
        if g not in current_groups:
            raise InvalidInput(f"client {client.ref} is not in group {g!r}")
        session.exec(
            sa.delete(ClientGroup).where(ClientGroup.client_id == client.id, ClientGroup.group_name == g)
        )
        current_groups.discard(g)
    if lookups_needed:
        _edit_integrations(session, client, changes)
    client.updated_at = utcnow()
    session.add(client)
    session.flush()
    after = client_snapshot(
        client, groups=groups_of(session, [client.id])[client.id],
        integrations=[f"{k}:{s}" for k, s in integrations_of(session, client.id)],
    )  # fmt: skip
    audit.record(session, actor, "client.edit", "client", client.ref, before=before, after=after)
    return client


def _integration_by_key(session: Session, key: str) -> Integration:
    found = session.exec(select(Integration).where(Integration.key == (key or "").strip().lower())).first()
    if found is None:
        raise InvalidInput(
            f"unknown integration {key!r}", hint="list them with `partnerctl integration list`"
        )
    return found


def _edit_integrations(session: Session, client: Client, changes: ClientUpdate) -> None:
    have = {k for k, _ in integrations_of(session, client.id)}
    for key in changes.add_integrations:
        integ = _integration_by_key(session, key)
        if integ.key not in have:
            session.add(ClientIntegration(client_id=client.id, integration_id=integ.id))
            have.add(integ.key)
    session.flush()
    for key in changes.connect_integrations:
        integ = _integration_by_key(session, key)
        link = session.get(ClientIntegration, (client.id, integ.id))
        if link is None:
            link = ClientIntegration(client_id=client.id, integration_id=integ.id)
        link.state = IntegrationState.connected
        session.add(link)
    for key in changes.remove_integrations:
        integ = _integration_by_key(session, key)
        link = session.get(ClientIntegration, (client.id, integ.id))
        if link is None:
            raise InvalidInput(f"client {client.ref} has no integration {integ.key}")
        session.delete(link)
    session.flush()


# -- assignments, status, tasks, removal ------------------------------------------------------------


def assign_users(session: Session, actor: User, ref: str, emails: list[str]) -> tuple[Client, list[str]]:
    require_admin(actor, "client assign")
    client = get_client_for(session, actor, ref)
    lookups_users = {u.email: u for u in session.exec(select(User))}
    lk = Lookups(lookups_users, {}, {}, {}, None)
    current = set(assigned_of(session, [client.id])[client.id])
    added = []
    for email in emails:
        user = lk.user(email)
        if user.email not in current:
            session.add(ClientAssignment(client_id=client.id, user_id=user.id))
            current.add(user.email)
            added.append(user.email)
    session.flush()
    audit.record(
        session,
        actor,
        "client.assign",
        "client",
        client.ref,
        after={"added": added, "assigned": sorted(current)},
    )
    return client, added


def unassign_users(session: Session, actor: User, ref: str, emails: list[str]) -> tuple[Client, list[str]]:
    require_admin(actor, "client unassign")
    client = get_client_for(session, actor, ref)
    removed = []
    for email in emails:
        normalized = normalize_email(email, field="user e-mail")
        user = session.exec(select(User).where(User.email == normalized)).first()
        if user is None:
            raise InvalidInput(f"unknown user {email!r}")
        link = session.get(ClientAssignment, (client.id, user.id))
        if link is None:
            raise InvalidInput(f"{normalized} is not assigned to {client.ref}")
        session.delete(link)
        removed.append(normalized)
    session.flush()
    audit.record(
        session, actor, "client.unassign", "client", client.ref,
        after={"removed": removed, "assigned": assigned_of(session, [client.id])[client.id]},
    )  # fmt: skip
    return client, removed


_PAST = {"accept": "accepted", "activate": "activated", "archive": "archived"}
_TRANSITIONS = {
    "accept": ({ClientStatus.invited}, ClientStatus.onboarding),
    "activate": ({ClientStatus.onboarding}, ClientStatus.active),
    "archive": ({ClientStatus.invited, ClientStatus.onboarding, ClientStatus.active}, ClientStatus.archived),
}


def _transition(session: Session, actor: User, ref: str, action: str) -> Client:
    require_admin(actor, f"client {action}")
    client = get_client_for(session, actor, ref)
    allowed, target = _TRANSITIONS[action]
    if client.status not in allowed:
        raise Conflict(
            f"client {client.ref} is {client.status}; only {' or '.join(sorted(allowed))} clients can be {_PAST[action]}"
        )
    before = {"status": client.status}
    client.status = target
    client.updated_at = utcnow()
    session.add(client)
    session.flush()
    audit.record(
        session, actor, f"client.{action}", "client", client.ref, before=before, after={"status": target}
    )
    return client


def activate_client(session: Session, actor: User, ref: str) -> Client:
    return _transition(session, actor, ref, "activate")


def archive_client(session: Session, actor: User, ref: str) -> Client:
    return _transition(session, actor, ref, "archive")


def accept_invitation(session: Session, actor: User, ref: str, *, template: str | None = None) -> Client:
    """Accept a client's invitation: apply the (default or named) template and move it to onboarding."""
    from partnerctl.services.templates import apply_to_client

    client = _transition(session, actor, ref, "accept")
    lookups = load_lookups(session)
    info = lookups.template(template) if template else lookups.default_template
    if info is not None:
        apply_to_client(session, actor, client, info, lookups=lookups)
    return client


def decline_invitation(session: Session, actor: User, ref: str) -> str:
    """Decline an invitation: the invited client is removed."""
    require_admin(actor, "client decline")
    client = get_client_for(session, actor, ref)
    if client.status != ClientStatus.invited:
        raise Conflict(f"client {client.ref} is {client.status}, not an open invitation")
    snap = client_snapshot(client)
    session.delete(client)
    session.flush()
    audit.record(session, actor, "client.decline", "client", snap["ref"], before=snap)
    return snap["ref"]


def remove_client(session: Session, actor: User, ref: str) -> str:
    require_admin(actor, "client remove")
    client = get_client_for(session, actor, ref)
    from partnerctl.services.billing import client_invoice_count

    invoices = client_invoice_count(session, client.id)
    if invoices:
        # Invoices are financial records: they outlive neither a delete nor a cascade.
        raise Conflict(
            f"client {client.ref} has {invoices} invoice(s) and cannot be removed; "
            f"archive it instead with `partnerctl client archive {client.ref}`"
        )
    snap = client_snapshot(client, groups=groups_of(session, [client.id])[client.id])
    # Children go explicitly: SQLite only cascades with foreign_keys on, and subscriptions are others' rows.
    for model in (ClientGroup, ClientAssignment, ClientIntegration, Subscription):
        session.exec(sa.delete(model).where(model.client_id == client.id))
    session.delete(client)
    session.flush()
    audit.record(session, actor, "client.remove", "client", snap["ref"], before=snap)
    return snap["ref"]


def update_tasks(
    session: Session,
    actor: User,
    ref: str,
    *,
    missing_receipts: int | None = None,
    wallet_balance: str | Decimal | None = None,
    expenses_ready: int | None = None,
) -> Client:
    """Update the outstanding-task figures (assigned bookkeepers may do this too)."""
    client = get_client_for(session, actor, ref)
    if missing_receipts is None and wallet_balance is None and expenses_ready is None:
        raise InvalidInput("nothing to change: pass --missing-receipts, --wallet-balance or --expenses-ready")
    before = {
        "missing_receipts": client.missing_receipts,
        "wallet_balance": client.wallet_balance,
        "expenses_ready": client.expenses_ready,
    }
    if missing_receipts is not None:
        client.missing_receipts = _non_negative(missing_receipts, "missing receipts")
    if wallet_balance is not None:
        client.wallet_balance = parse_amount(wallet_balance, field="wallet balance", allow_negative=True)
    if expenses_ready is not None:
        client.expenses_ready = _non_negative(expenses_ready, "expenses ready")
    client.updated_at = utcnow()
    session.add(client)
    session.flush()
    after = {
        "missing_receipts": client.missing_receipts,
        "wallet_balance": client.wallet_balance,
        "expenses_ready": client.expenses_ready,
    }
    audit.record(session, actor, "client.tasks", "client", client.ref, before=before, after=after)
    return client


# -- report ---------------------------------------------------------------------------------------

REPORT_KEYS = ("group", "template", "status", "currency", "language")


def client_report(session: Session, actor: User, by: str) -> list[dict[str, Any]]:
    """Clients, active seats and monthly value per group/template/status/currency/language."""
    by = (by or "").strip().lower()
    if by not in REPORT_KEYS:
        raise InvalidInput(f"unknown report key {by!r}: use {', '.join(REPORT_KEYS)}")
    visible = select(Client.id).where(visible_clients_filter(actor))
    if by == "group":
        keyed = (
            select(Client.id.label("cid"), ClientGroup.group_name.label("k"))
            .select_from(Client)
            .outerjoin(ClientGroup, col(ClientGroup.client_id) == Client.id)
            .where(col(Client.id).in_(visible))
        )
    elif by == "template":
        keyed = (
            select(Client.id.label("cid"), ConfigTemplate.name.label("k"))
            .select_from(Client)
            .outerjoin(ConfigTemplate, col(ConfigTemplate.id) == Client.template_id)
            .where(col(Client.id).in_(visible))
        )
    else:
        column = {"status": Client.status, "currency": Client.currency, "language": Client.language}[by]
        keyed = select(Client.id.label("cid"), col(column).label("k")).where(col(Client.id).in_(visible))
    keyed = keyed.subquery()
    counts = {
        k: n
        for k, n in session.exec(select(keyed.c.k, func.count(sa.distinct(keyed.c.cid))).group_by(keyed.c.k))
    }
    from partnerctl.services.subscriptions import round_money

    seats: dict[Any, int] = {}
    value: dict[Any, dict[str, Decimal]] = {}
    for k, n, price, period, currency in session.exec(
        select(keyed.c.k, Subscription.seats, Product.price_per_seat, Product.period, Product.currency)
        .select_from(keyed)
        .join(Subscription, Subscription.client_id == keyed.c.cid)
        .join(Product, col(Product.id) == Subscription.product_id)
        .where(Subscription.status == SubscriptionStatus.active)
    ):
        seats[k] = seats.get(k, 0) + n
        # Rounded per subscription to the currency's minor units (JPY has none), half-even.
        monthly = round_money(price * n if period == Period.monthly else price * n / 12, currency)
        value.setdefault(k, {})
        value[k][currency] = value[k].get(currency, Decimal(0)) + monthly
    rows = []
    for k, n in counts.items():
        rows.append(
            {
                by: str(k) if k is not None else "(none)",
                "clients": n,
                "seats": seats.get(k, 0),
                "monthly_value": "; ".join(
                    f"{cur} {amount}" for cur, amount in sorted(value.get(k, {}).items())
                ),
            }
        )
    rows.sort(key=lambda r: (-r["clients"], r[by]))
    return rows


__all__ = [
    "ClientCreate",
    "ClientFilters",
    "ClientPage",
    "ClientUpdate",
    "Lookups",
    "Payer",
    "PreparedClient",
    "Sort",
    "Tab",
    "create_client",
    "derive_ref",
    "edit_client",
    "get_client_for",
    "insert_prepared",
    "list_clients",
    "load_lookups",
    "prepare_client",
    "visible_clients_filter",
]
