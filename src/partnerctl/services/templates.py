"""Configuration templates: what a new client gets (users, product, integrations, settings), one default.

A template's `settings` is a canonical dict (see `settings_from`): users by e-mail, the product by
key with its payer, integrations by key, currency, language, permissions and groups. Every edit bumps
`version`; existing clients keep what they were created with until a template is applied on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.clients import (
    Lookups,
    TemplateInfo,
    _set_currency,
    assigned_of,
    get_client_for,
    groups_of,
    integrations_of,
    load_lookups,
    normalize_group,
    normalize_permission,
    price_text,
    resolve_template_settings,
    template_info,
)
from partnerctl.services.subscriptions import parse_payer
from partnerctl.services.users import require_admin
from partnerctl.services.validation import normalize_currency, normalize_language, require_text
from partnerctl.store.models import (
    Client,
    ClientAssignment,
    ClientGroup,
    ClientIntegration,
    ConfigTemplate,
    Product,
    Subscription,
    User,
)
from partnerctl.store.models.clients import PORTAL_MODULES
from partnerctl.store.types import utcnow

SETTING_KEYS = ("currency", "language", "permissions", "groups", "users", "integrations", "product")


@dataclass
class TemplateChanges:
    """Options of `template add` / `template edit`; None leaves a setting alone."""

    new_name: str | None = None
    description: str | None = None
    users: list[str] = field(default_factory=list)
    remove_users: list[str] = field(default_factory=list)
    product: str | None = None
    payer: str | None = None
    seats: int | None = None
    accept_pricing: bool = False
    no_product: bool = False
    integrations: list[str] = field(default_factory=list)
    remove_integrations: list[str] = field(default_factory=list)
    currency: str | None = None
    no_currency: bool = False
    language: str | None = None
    no_language: bool = False
    permissions: list[str] = field(default_factory=list)
    remove_permissions: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    remove_groups: list[str] = field(default_factory=list)
    default: bool = False


def _lock_templates(session: Session) -> None:
    """Serialise template writers: two `set-default` at once must not both clear then set."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(sa.text("SELECT pg_advisory_xact_lock(727001)"))
    # SQLite: the engine begins every writing transaction with BEGIN IMMEDIATE, already exclusive.


def find_template(session: Session, name: str) -> ConfigTemplate | None:
    return session.exec(
        select(ConfigTemplate).where(ConfigTemplate.name_key == (name or "").strip().lower())
    ).first()


def get_template(session: Session, name: str) -> ConfigTemplate:
    template = find_template(session, name)
    if template is None:
        raise NotFound(f"no template {name!r}", hint="list them with `partnerctl template list`")
    return template


def get_default(session: Session) -> ConfigTemplate | None:
    return session.exec(select(ConfigTemplate).where(ConfigTemplate.is_default == True)).first()  # noqa: E712


def list_templates(session: Session) -> list[ConfigTemplate]:
    return list(session.exec(select(ConfigTemplate).order_by(ConfigTemplate.name_key)))


def _sorted_unique(values) -> list[str]:
    return sorted(set(values), key=str.lower)


def settings_from(lookups: Lookups, current: dict, changes: TemplateChanges) -> dict:
    """The canonical settings after applying `changes` to `current` (validated against the catalogues)."""
    s = {k: v for k, v in dict(current).items() if k in SETTING_KEYS}
    users = set(s.get("users", []))
    users |= {lookups.user(e).email for e in changes.users}
    for e in changes.remove_users:
        email = e.strip().lower()
        if email not in users:
            raise InvalidInput(f"the template does not assign {e!r}")
        users.discard(email)
    integrations = set(s.get("integrations", []))
    integrations |= {lookups.integration(k).key for k in changes.integrations}
    for k in changes.remove_integrations:
        if k.strip().lower() not in integrations:
            raise InvalidInput(f"the template has no integration {k!r}")
        integrations.discard(k.strip().lower())
    perms = set(s.get("permissions", []))
    perms |= {normalize_permission(p) for p in changes.permissions}
    for p in changes.remove_permissions:
        perms.discard(normalize_permission(p))
    groups = set(s.get("groups", []))
    groups |= {normalize_group(g) for g in changes.groups}
    for g in changes.remove_groups:
        if g.strip() not in groups:
            raise InvalidInput(f"the template has no group {g!r}")
        groups.discard(g.strip())
    out: dict[str, Any] = {}
    currency = (
        None
        if changes.no_currency
        else (normalize_currency(changes.currency) if changes.currency else s.get("currency"))
    )
    language = (
        None
        if changes.no_language
        else (normalize_language(changes.language) if changes.language else s.get("language"))
    )
    if currency:
        out["currency"] = currency
    if language:
        out["language"] = language
    if perms:
        out["permissions"] = [m for m in PORTAL_MODULES if m in perms]
    if groups:
        out["groups"] = _sorted_unique(groups)
    if users:
        out["users"] = sorted(users)
    if integrations:
        out["integrations"] = sorted(integrations)
    product = None if changes.no_product else s.get("product")
    if changes.product:
        p = lookups.product(changes.product)
        if not changes.accept_pricing:
            raise InvalidInput(
                f"product {p.key} costs {price_text(p)}; pass --accept-pricing to confirm you understand the pricing"
            )
        product = {"key": p.key, "payer": "partner", "seats": 1}
    if (changes.payer or changes.seats is not None) and product is None:
        raise InvalidInput("--payer and --seats need a product: pass --product KEY --accept-pricing")
    if product is not None:
        product = dict(product)
        if changes.payer:
            product["payer"] = parse_payer(changes.payer).value
        if changes.seats is not None:
            if changes.seats < 1:
                raise InvalidInput(f"seats must be at least 1, not {changes.seats}")
            product["seats"] = changes.seats
        lookups.product(product["key"])
        out["product"] = {
            "key": product["key"],
            "payer": product.get("payer", "partner"),
            "seats": int(product.get("seats", 1)),
        }
    return out


def template_snapshot(t: ConfigTemplate) -> dict:
    return {
        "name": t.name,
        "description": t.description,
        "default": t.is_default,
        "version": t.version,
        "settings": t.settings,
    }


def _clear_default(session: Session) -> ConfigTemplate | None:
    current = get_default(session)
    if current is not None:
        current.is_default = False
        session.add(current)
        session.flush()
    return current


def _flush_unique(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        if "default" in str(exc.orig).lower():
            raise Conflict("another default template was set at the same moment; try again") from None
        raise Conflict(f"template {name!r} already exists") from None


def create_template(
    session: Session, actor: User, name: str, changes: TemplateChanges, *, version: int = 1
) -> ConfigTemplate:
    require_admin(actor, "template add")
    name = require_text(name, "template name", max_length=100)
    description = (changes.description or "").strip()
    if len(description) > 1000:
        raise InvalidInput("description is longer than 1000 characters")
    _lock_templates(session)
    if find_template(session, name) is not None:
        raise Conflict(
            f"template {name!r} already exists", hint=f"change it with `partnerctl template edit {name!r}`"
        )
    settings = settings_from(load_lookups(session), {}, changes)
    if changes.default:
        _clear_default(session)
    template = ConfigTemplate(
        name=name, name_key=name.lower(), description=description,
        is_default=changes.default, version=version, settings=settings,
    )  # fmt: skip
    session.add(template)
    _flush_unique(session, name)
    audit.record(session, actor, "template.add", "template", template.name, after=template_snapshot(template))
    return template


def edit_template(session: Session, actor: User, name: str, changes: TemplateChanges) -> ConfigTemplate:
    """Change a template; its version goes up by one. Existing clients are not touched."""
    require_admin(actor, "template edit")
    _lock_templates(session)
    template = get_template(session, name)
    before = template_snapshot(template)
    settings = settings_from(load_lookups(session), template.settings or {}, changes)
    changed = settings != (template.settings or {})
    if changes.new_name is not None:
        new_name = require_text(changes.new_name, "template name", max_length=100)
        other = find_template(session, new_name)
        if other is not None and other.id != template.id:
            raise Conflict(f"template {new_name!r} already exists")
        changed |= new_name != template.name
        template.name, template.name_key = new_name, new_name.lower()
    if changes.description is not None and changes.description.strip() != template.description:
        template.description = changes.description.strip()
        changed = True
    if changes.default and not template.is_default:
        _clear_default(session)
        template.is_default = True
        changed = True
    if not changed:
        raise InvalidInput("nothing to change: the template already has these settings")
    template.settings = settings
    template.version += 1
    template.updated_at = utcnow()
    session.add(template)
    _flush_unique(session, template.name)
    audit.record(
        session,
        actor,
        "template.edit",
        "template",
        template.name,
        before=before,
        after=template_snapshot(template),
    )
    return template


def set_default(session: Session, actor: User, name: str) -> tuple[ConfigTemplate, str | None]:
    require_admin(actor, "template set-default")
    _lock_templates(session)
    template = get_template(session, name)
    if template.is_default:
        return template, template.name
    previous = _clear_default(session)
    template.is_default = True
    template.updated_at = utcnow()
    session.add(template)
    _flush_unique(session, template.name)
    audit.record(
        session, actor, "template.set-default", "template", template.name,
        before={"default": previous.name if previous else None}, after={"default": template.name},
    )  # fmt: skip
    return template, previous.name if previous else None


def remove_template(session: Session, actor: User, name: str) -> str:
    require_admin(actor, "template remove")
    _lock_templates(session)
    template = get_template(session, name)
    if template.is_default:
        raise Conflict(
            f"{template.name} is the default template and cannot be removed",
            hint="make another template the default first: `partnerctl template set-default NAME`",
        )
    snap = template_snapshot(template)
    # Clients keep what they were created with; they just no longer point at a template.
    session.exec(sa.update(Client).where(Client.template_id == template.id).values(template_id=None))
    session.delete(template)
    session.flush()
    audit.record(session, actor, "template.remove", "template", snap["name"], before=snap)
    return snap["name"]


# -- files ---------------------------------------------------------------------------------------


def export_template(session: Session, name: str) -> dict:
    """The template as a TOML-ready document (no None values: TOML has none)."""
    t = get_template(session, name)
    doc: dict[str, Any] = {
        "name": t.name,
        "description": t.description,
        "default": t.is_default,
        "version": t.version,
    }
    settings = dict(t.settings or {})
    product = settings.pop("product", None)
    doc.update(settings)
    if product:
        doc["product"] = {**product, "accept_pricing": True}
    return doc


_DOC_KEYS = {
    "name",
    "description",
    "default",
    "version",
    "currency",
    "language",
    "permissions",
    "groups",
    "users",
    "integrations",
    "product",
}


def _as_list(doc: dict, key: str) -> list[str]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{key} must be a list of strings")
    return value


def import_template(
    session: Session, actor: User, doc: dict, *, replace: bool = False
) -> tuple[ConfigTemplate, bool]:
    """Create (or with replace=True, overwrite) a template from an exported document."""
    require_admin(actor, "template import")
    unknown = set(doc) - _DOC_KEYS
    if unknown:
        raise InvalidInput(f"unknown key(s) in template file: {', '.join(sorted(unknown))}")
    name = doc.get("name")
    if not isinstance(name, str):
        raise InvalidInput('the template file needs a name = "..."')
    product = doc.get("product")
    if product is not None and not isinstance(product, dict):
        raise InvalidInput('product must be a table: [product] key = "..."')
    for key in ("description", "currency", "language"):
        if key in doc and not isinstance(doc[key], str):
            raise InvalidInput(f"{key} must be a string")
    changes = TemplateChanges(
        description=doc.get("description", ""),
        users=_as_list(doc, "users"),
        integrations=_as_list(doc, "integrations"),
        permissions=_as_list(doc, "permissions"),
        groups=_as_list(doc, "groups"),
        currency=doc.get("currency") or None,
        language=doc.get("language") or None,
        product=product.get("key") if product else None,
        payer=product.get("payer") if product else None,
        seats=product.get("seats") if product else None,
        accept_pricing=bool(product.get("accept_pricing")) if product else False,
        default=bool(doc.get("default", False)),
    )
    _lock_templates(session)
    existing = find_template(session, name)
    if existing is None:
        return create_template(session, actor, name, changes), True
    if not replace:
        raise Conflict(f"template {existing.name!r} already exists", hint="pass --replace to overwrite it")
    before = template_snapshot(existing)
    settings = settings_from(load_lookups(session), {}, changes)
    if changes.default and not existing.is_default:
        _clear_default(session)
        existing.is_default = True
    if (settings, changes.description.strip(), existing.name) != (
        existing.settings,
        existing.description,
        name,
    ):
        existing.version += 1
    existing.name = name
    existing.settings = settings
    existing.description = changes.description.strip()
    existing.updated_at = utcnow()
    session.add(existing)
    _flush_unique(session, name)
    audit.record(
        session,
        actor,
        "template.import",
        "template",
        existing.name,
        before=before,
        after=template_snapshot(existing),
    )
    return existing, False


# -- clients vs templates ----------------------------------------------------------------------


def client_settings(session: Session, client: Client) -> dict[str, Any]:
    """A client's template-relevant settings, in the template's canonical form."""
    products = session.exec(
        select(Product.key)
        .join(Subscription, col(Subscription.product_id) == Product.id)
        .where(Subscription.client_id == client.id)
    ).all()
    return {
        "currency": client.currency,
        "language": client.language,
        "permissions": [m for m in PORTAL_MODULES if m in (client.permissions or [])],
        "groups": _sorted_unique(groups_of(session, [client.id])[client.id]),
        "users": sorted(assigned_of(session, [client.id])[client.id]),
        "integrations": sorted(k for k, _ in integrations_of(session, client.id)),
        "product": sorted(set(products)),
    }


def _compare(current: dict, settings: dict) -> list[dict]:
    rows = []
    for key in SETTING_KEYS:
        if key not in settings:
            continue
        want = settings[key]
        have = current[key]
        if key == "product":
            want_v, differs = want["key"], want["key"] not in have
            missing = [want["key"]] if differs else []
        elif isinstance(want, list):
            want_v = want
            missing = [v for v in want if v not in have]
            differs = bool(missing) if key != "permissions" else sorted(want) != sorted(have)
        else:
            want_v, differs, missing = want, want != have, []
        rows.append(
            {"setting": key, "client": have, "template": want_v, "differs": differs, "missing": missing}
        )
    return rows


def diff_client(session: Session, actor: User, ref: str) -> tuple[Client, ConfigTemplate, list[dict]]:
    """How a client's settings now differ from its template's current version."""
    client = get_client_for(session, actor, ref)
    if client.template_id is None:
        raise InvalidInput(
            f"client {client.ref} was not created from a template (or it was removed)",
            hint=f"apply one with `partnerctl template apply NAME --client {client.ref}`",
        )
    template = session.get(ConfigTemplate, client.template_id)
    return client, template, _compare(client_settings(session, client), template.settings or {})


def apply_to_client(
    session: Session,
    actor: User,
    client: Client,
    info: TemplateInfo,
    *,
    lookups: Lookups,
    dry_run: bool = False,
) -> list[dict]:
    """Re-apply a template: set currency/language/permissions, add missing groups, users, integrations
    and the product subscription. Returns the changes (made, or that would be made with dry_run)."""
    resolved = resolve_template_settings(lookups, info)  # raises for stale users/products/integrations
    current = client_settings(session, client)
    changes = [r for r in _compare(current, info.settings) if r["differs"]]
    if dry_run:
        return changes
    before = {r["setting"]: r["client"] for r in changes}
    for r in changes:
        key = r["setting"]
        if key == "currency":
            _set_currency(session, client, info.settings["currency"])
        elif key == "language":
            client.language = info.settings["language"]
        elif key == "permissions":
            client.permissions = list(info.settings["permissions"])
        elif key == "groups":
            for g in r["missing"]:
                session.add(ClientGroup(client_id=client.id, group_name=g))
        elif key == "users":
            for u in resolved["users"]:
                if u.email in r["missing"]:
                    session.add(ClientAssignment(client_id=client.id, user_id=u.id))
        elif key == "integrations":
            for i in resolved["integrations"]:
                if i.key in r["missing"]:
                    session.add(ClientIntegration(client_id=client.id, integration_id=i.id))
        elif key == "product":
            from partnerctl.services.subscriptions import add_subscription

            p = resolved["product"]
            session.flush()
            add_subscription(session, actor, client=client, product=p.product, seats=p.seats, payer=p.payer)
    client.template_id, client.template_version = info.id, info.version
    client.template_applied = {k: v for k, v in info.settings.items()}
    client.updated_at = utcnow()
    session.add(client)
    session.flush()
    audit.record(
        session, actor, "template.apply", "client", client.ref,
        before=before, after={"template": info.name, "version": info.version, "changed": [r["setting"] for r in changes]},
    )  # fmt: skip
    return changes


@dataclass
class ApplyResult:
    ref: str
    changes: list[dict]


def apply_template(
    session: Session,
    actor: User,
    name: str,
    *,
    refs: list[str] | None = None,
    all_from: str | None = None,
    dry_run: bool = False,
) -> list[ApplyResult]:
    """`template apply NAME --client REF` or `--all-from OTHER`: re-apply on purpose."""
    require_admin(actor, "template apply")
    lookups = load_lookups(session)
    template = get_template(session, name)
    info = template_info(template)
    clients: list[Client] = [get_client_for(session, actor, r) for r in (refs or [])]
    if all_from:
        source = get_template(session, all_from)
        clients += list(
            session.exec(select(Client).where(Client.template_id == source.id).order_by(Client.ref_key))
        )
    if not clients:
        raise InvalidInput("no clients to apply to: pass --client REF or --all-from TEMPLATE")
    seen: set[int] = set()
    results = []
    for client in clients:
        if client.id in seen:
            continue
        seen.add(client.id)
        results.append(
            ApplyResult(
                client.ref, apply_to_client(session, actor, client, info, lookups=lookups, dry_run=dry_run)
            )
        )
    return results


def default_template_info(session: Session) -> TemplateInfo | None:
    t = get_default(session)
    return template_info(t) if t else None
