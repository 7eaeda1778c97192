"""Template settings: the canonical form, edits to it, and their resolution against users and catalogues."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session, select

from partnerctl.errors import InvalidInput
from partnerctl.services.billing import parse_payer
from partnerctl.services.catalog import price_text
from partnerctl.services.partner import partner_name
from partnerctl.services.validation import (
    normalize_currency,
    normalize_email,
    normalize_group,
    normalize_language,
    normalize_permission,
)
from partnerctl.store.models import (
    ConfigTemplate,
    Integration,
    Product,
    User,
)
from partnerctl.store.models.clients import PORTAL_MODULES


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

    def user(self, email: str, *, origin: str = "", active: bool = True) -> User:
        """The partner user with this e-mail (the one resolution of a user named on the command line,
        in a file or a template); `active=False` also finds a deactivated one (to unassign it)."""
        normalized = normalize_email(email, field="user e-mail")
        user = self.users_by_email.get(normalized)
        if user is None:
            raise InvalidInput(
                f"unknown user {email!r}{origin}", hint="list them with `partnerctl user list`"
            )
        if active and not user.active:
            raise InvalidInput(f"user {normalized}{origin} is deactivated")
        return user

    def integration(self, key: str, *, origin: str = "") -> Integration:
        """The catalogue integration with this key (the one resolution of an integration name)."""
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
    return replace(
        load_link_lookups(session),
        products_by_key={p.key: p for p in session.exec(select(Product))},
        templates_by_key={t.name.lower(): t for t in templates},
        default_template=next((t for t in templates if t.is_default), None),
        partner_name=partner_name(session),
    )


def load_link_lookups(session: Session) -> Lookups:
    """Lookups of what a client links to (users, integrations) only: what a change to one client resolves."""
    return Lookups(
        users_by_email={u.email: u for u in session.exec(select(User))},
        integrations_by_key={i.key: i for i in session.exec(select(Integration))},
        products_by_key={},
        templates_by_key={},
        default_template=None,
    )


@dataclass
class PreparedProduct:
    product: Product
    payer: str
    seats: int = 1


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


def sorted_unique(values) -> list[str]:
    return sorted(set(values), key=str.lower)


def _edited_set(
    current: Iterable[str],
    add: Iterable[str],
    remove: list[str],
    key: Callable[[str], str],
    missing: str | None,
) -> set[str]:
    """`current` with `add` added and `remove` (each as `key` makes it) taken out; removing one that
    is not there is an error saying `missing` (formatted with the value as given), unless None."""
    values = set(current) | set(add)
    for raw in remove:
        if missing is not None and key(raw) not in values:
            raise InvalidInput(missing.format(raw))
        values.discard(key(raw))
    return values


def _product_setting(lookups: Lookups, current: dict | None, changes: TemplateChanges) -> dict | None:
    """The template's product after `changes`: a new one needs --accept-pricing; payer, seats refine it."""
    product = None if changes.no_product else current
    if changes.product:
        p = lookups.product(changes.product)
        if not changes.accept_pricing:
            raise InvalidInput(
                f"product {p.key} costs {price_text(p)}; pass --accept-pricing to confirm you understand the pricing"
            )
        product = {"key": p.key, "payer": "partner", "seats": 1}
    if (changes.payer or changes.seats is not None) and product is None:
        raise InvalidInput("--payer and --seats need a product: pass --product KEY --accept-pricing")
    if product is None:
        return None
    product = dict(product)
    if changes.payer:
        product["payer"] = parse_payer(changes.payer).value
    if changes.seats is not None:
        if changes.seats < 1:
            raise InvalidInput(f"seats must be at least 1, not {changes.seats}")
        product["seats"] = changes.seats
    lookups.product(product["key"])
    return {
        "key": product["key"],
        "payer": product.get("payer", "partner"),
        "seats": int(product.get("seats", 1)),
    }


def _scalar_setting(
    current: str | None, new: str | None, clear: bool, normalize: Callable[[str], str]
) -> str | None:
    if clear:
        return None
    return normalize(new) if new else current


def settings_from(lookups: Lookups, current: dict, changes: TemplateChanges) -> dict:
    """The canonical settings after applying `changes` to `current` (validated against the catalogues)."""
    s = {k: v for k, v in dict(current).items() if k in SETTING_KEYS}
    # In this order, so the first of several errors is the same as ever.
    users = _edited_set(
        s.get("users", []), {lookups.user(e).email for e in changes.users}, changes.remove_users,
        lambda e: e.strip().lower(), "the template does not assign {!r}",
    )  # fmt: skip
    integrations = _edited_set(
        s.get("integrations", []), {lookups.integration(k).key for k in changes.integrations},
        changes.remove_integrations, lambda k: k.strip().lower(), "the template has no integration {!r}",
    )  # fmt: skip
    perms = _edited_set(
        s.get("permissions", []), {normalize_permission(p) for p in changes.permissions},
        changes.remove_permissions, normalize_permission, None,
    )  # fmt: skip
    groups = _edited_set(
        s.get("groups", []), {normalize_group(g) for g in changes.groups}, changes.remove_groups,
        str.strip, "the template has no group {!r}",
    )  # fmt: skip
    settings: dict[str, Any] = {
        "currency": _scalar_setting(
            s.get("currency"), changes.currency, changes.no_currency, normalize_currency
        ),
        "language": _scalar_setting(
            s.get("language"), changes.language, changes.no_language, normalize_language
        ),
        "permissions": [m for m in PORTAL_MODULES if m in perms],
        "groups": sorted_unique(groups),
        "users": sorted(users),
        "integrations": sorted(integrations),
        "product": _product_setting(lookups, s.get("product"), changes),
    }
    # Empty settings are left out: the template then does not set them.
    return {k: v for k, v in settings.items() if v}


def template_snapshot(t: ConfigTemplate) -> dict:
    return {
        "name": t.name,
        "description": t.description,
        "default": t.is_default,
        "version": t.version,
        "settings": t.settings,
    }
