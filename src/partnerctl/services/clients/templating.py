"""Templates applied to existing clients on purpose: the diff, the apply, and accepting an invitation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from partnerctl.errors import InvalidInput
from partnerctl.services import audit
from partnerctl.services.access import get_client_for, require_admin
from partnerctl.services.billing import add_subscription
from partnerctl.services.clients.changes import set_currency, transition_client
from partnerctl.services.clients.listing import assigned_of, groups_of, integrations_of
from partnerctl.services.templates import (
    SETTING_KEYS,
    Lookups,
    TemplateInfo,
    get_template,
    load_lookups,
    resolve_template_settings,
    sorted_unique,
    template_info,
)
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


def accept_invitation(session: Session, actor: User, ref: str, *, template: str | None = None) -> Client:
    """Accept a client's invitation: apply the (default or named) template and move it to onboarding."""
    client = transition_client(session, actor, ref, "accept")
    lookups = load_lookups(session)
    info = lookups.template(template) if template else lookups.default_template
    if info is not None:
        apply_to_client(session, actor, client, info, lookups=lookups)
    return client


def client_settings(session: Session, client: Client, viewer: User | None = None) -> dict[str, Any]:
    """A client's template-relevant settings, in the template's canonical form (as `viewer` sees them)."""
    products = session.exec(
        select(Product.key)
        .join(Subscription, col(Subscription.product_id) == Product.id)
        .where(Subscription.client_id == client.id)
    ).all()
    return {
        "currency": client.currency,
        "language": client.language,
        "permissions": [m for m in PORTAL_MODULES if m in (client.permissions or [])],
        "groups": sorted_unique(groups_of(session, [client.id])[client.id]),
        "users": sorted(assigned_of(session, [client.id], viewer)[client.id]),
        "integrations": sorted(k for k, _ in integrations_of(session, client.id)),
        "product": sorted(set(products)),
    }


def compare_settings(current: dict, settings: dict) -> list[dict]:
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
    current = client_settings(session, client, actor)
    return client, template, compare_settings(current, template.settings or {})


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
    changes = [r for r in compare_settings(current, info.settings) if r["differs"]]
    if dry_run:
        return changes
    before = {r["setting"]: r["client"] for r in changes}
    for r in changes:
        key = r["setting"]
        if key == "currency":
            set_currency(session, client, info.settings["currency"])
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
