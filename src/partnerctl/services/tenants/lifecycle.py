"""Tenants created, edited, moved and removed (the master tenant at the root is made once)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, delete, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.tenants.logo import check_logo, set_logo
from partnerctl.services.tenants.passwords import credential_key
from partnerctl.services.tenants.rules import (
    check_charset,
    clean_name,
    client_id_of,
    find_tenant,
    flush_or_conflict,
    get_master,
    get_tenant,
    in_chunks,
    lock_tree,
    name_key,
    parse_edition,
    parse_type,
    tenant_snapshot,
)
from partnerctl.services.tenants.tree import SubtreeRow, subtree_rows
from partnerctl.store.models import Partner, User
from partnerctl.store.models.tenants import (
    Tenant,
    TenantAdmin,
    TenantContent,
    TenantType,
)
from partnerctl.store.types import utcnow


def ensure_master_tenant(session: Session, actor: User | str) -> Tenant:
    """The partner's own tenant, root of the tree, named after the partner space."""
    master = get_master(session)
    if master is not None:
        return master
    partner = session.exec(select(Partner).order_by(Partner.id)).first()
    if partner is None:
        raise NotFound("this store has no partner space yet", hint="run `partnerctl init` first")
    name = clean_name(partner.name)
    master = Tenant(
        name=name,
        name_key=name_key(name),
        is_master=True,
        created_by=actor if isinstance(actor, str) else actor.email,
    )
    session.add(master)
    session.flush()
    audit.record(session, actor, "tenant.add", "tenant", master.name, after=tenant_snapshot(master))
    # Create the fingerprint pepper now, once, rather than racing for it at the first administrator.
    credential_key(session)
    return master


def create_tenant(
    session: Session,
    actor: User,
    *,
    name: str,
    parent: str | None = None,
    type_: str = "standard",
    edition: str = "basic",
    charset: str | None = None,
    logo: bytes | None = None,
    client_ref: str | None = None,
) -> Tenant:
    require_admin(actor, "tenant add")
    clean = clean_name(name)
    tenant_type = parse_type(type_)
    tenant_edition = parse_edition(edition)
    tenant_charset = check_charset(tenant_type, charset)
    master = ensure_master_tenant(session, actor)
    lock_tree(session)
    parent_tenant = get_tenant(session, parent) if parent else master
    existing = find_tenant(session, clean)
    if existing is not None:
        raise Conflict(f"a tenant named {existing.name!r} already exists (names are unique, ignoring case)")
    tenant = Tenant(
        name=clean,
        name_key=name_key(clean),
        parent_id=parent_tenant.id,
        type=tenant_type,
        edition=tenant_edition,
        charset=tenant_charset,
        # CUSTOM starts empty: our service staff configure it before it can send.
        needs_setup=tenant_type == TenantType.custom,
        client_id=client_id_of(session, client_ref) if client_ref else None,
        created_by=actor.email,
    )
    set_logo(tenant, logo)
    session.add(tenant)
    _flush_names(session, clean)
    audit.record(session, actor, "tenant.add", "tenant", tenant.name, after=tenant_snapshot(tenant))
    return tenant


def _flush_names(session: Session, name: str) -> None:
    # Another process may take the name (or remove the parent) between our check and our write.
    flush_or_conflict(session, f"a tenant named {name!r} was just created or its parent removed; try again")


def record_change(session: Session, actor: User, action: str, tenant: Tenant, before: dict) -> None:
    """Write a changed tenant and its audit event (the snapshots before and after) in this transaction."""
    tenant.updated_at = utcnow()
    session.add(tenant)
    _flush_names(session, tenant.name)
    audit.record(session, actor, action, "tenant", tenant.name, before=before, after=tenant_snapshot(tenant))


def edit_changes(
    tenant_type: TenantType,
    *,
    new_name: str | None = None,
    edition: str | None = None,
    charset: str | None = None,
    logo: bytes | None = None,
    remove_logo: bool = False,
    client_ref: str | None = None,
    remove_client: bool = False,
    configured: bool | None = None,
) -> dict[str, Any]:
    """What an edit changes, each value checked and normalised, without the store: field -> new value.

    Fields: name, edition, charset, logo ((bytes, LogoInfo) or None), client (a reference or None),
    needs_setup.
    """
    changes: dict[str, Any] = {}
    if new_name is not None:
        changes["name"] = clean_name(new_name)
    if edition is not None:
        changes["edition"] = parse_edition(edition)
    if charset is not None:
        changes["charset"] = check_charset(tenant_type, charset)
    if logo is not None and remove_logo:
        raise InvalidInput("pass either --logo or --remove-logo, not both")
    if logo is not None or remove_logo:
        changes["logo"] = (logo, check_logo(logo)) if logo is not None else None
    if client_ref is not None and remove_client:
        raise InvalidInput("pass either --client or --no-client, not both")
    if client_ref is not None or remove_client:
        changes["client"] = client_ref or None
    if configured is not None:
        if tenant_type != TenantType.custom and not configured:
            raise InvalidInput("only CUSTOM tenants need setup; a STANDARD tenant is ready as created")
        changes["needs_setup"] = not configured
    if not changes:
        raise InvalidInput(
            "nothing to change: pass --name, --edition, --charset, --logo, --remove-logo, --client, "
            "--no-client or --configured/--needs-setup"
        )
    return changes


def _apply_edit(session: Session, tenant: Tenant, changes: dict[str, Any]) -> None:
    if "name" in changes:
        clean = changes["name"]
        other = find_tenant(session, clean)
        if other is not None and other.id != tenant.id:
            raise Conflict(f"a tenant named {other.name!r} already exists (names are unique, ignoring case)")
        tenant.name, tenant.name_key = clean, name_key(clean)
    if "edition" in changes:
        tenant.edition = changes["edition"]
    if "charset" in changes:
        tenant.charset = changes["charset"]
    if "logo" in changes:
        set_logo(tenant, *(changes["logo"] or (None, None)))
    if "client" in changes:
        ref = changes["client"]
        tenant.client_id = client_id_of(session, ref) if ref else None
    if "needs_setup" in changes:
        tenant.needs_setup = changes["needs_setup"]


def edit_tenant(session: Session, actor: User, name: str, **flags: Any) -> Tenant:
    """Change a tenant; flags are edit_changes' (new_name, edition, charset, logo, remove_logo,
    client_ref, remove_client, configured), all checked before anything is written."""
    require_admin(actor, "tenant edit")
    tenant = get_tenant(session, name)
    changes = edit_changes(TenantType(tenant.type), **flags)
    before = tenant_snapshot(tenant)
    _apply_edit(session, tenant, changes)
    record_change(session, actor, "tenant.edit", tenant, before)
    return tenant


def move_tenant(session: Session, actor: User, name: str, parent: str) -> Tenant:
    require_admin(actor, "tenant move")
    lock_tree(session)
    tenant = get_tenant(session, name)
    new_parent = get_tenant(session, parent)
    if tenant.is_master:
        raise InvalidInput("the master tenant is the root of the tree and cannot be moved")
    if new_parent.id == tenant.id or new_parent.id in {row[0] for row in subtree_rows(session, tenant.id)}:
        raise InvalidInput(
            f"cannot move {tenant.name!r} under {new_parent.name!r}: "
            f"{new_parent.name!r} is {'the tenant itself' if new_parent.id == tenant.id else 'below it'} "
            "and the move would make a cycle"
        )
    if tenant.parent_id == new_parent.id:
        return tenant
    before = tenant_snapshot(tenant)
    tenant.parent_id = new_parent.id
    record_change(session, actor, "tenant.move", tenant, before)
    return tenant


def removal_order(rows: Sequence[SubtreeRow]) -> tuple[list[SubtreeRow], list[list[int]]]:
    """The rows deepest first, and their ids one depth at a time, deepest first, to delete in that order.

    Deepest first, so no row ever points at a parent that is already gone.
    """
    ordered = sorted(rows, key=lambda r: -r[3])
    by_depth: dict[int, list[int]] = {}
    for id_, _parent, _name, depth in ordered:
        by_depth.setdefault(depth, []).append(id_)
    return ordered, [by_depth[d] for d in sorted(by_depth, reverse=True)]


def _check_none_handed_over(session: Session, ids: Sequence[int]) -> None:
    for chunk in in_chunks(ids):
        handed = session.exec(
            select(Tenant.name).where(col(Tenant.id).in_(chunk), Tenant.handed_over == True)  # noqa: E712
        ).first()
        if handed is not None:
            raise Conflict(f"{handed!r} is handed over to its customer; pass --yes to remove it anyway")


def _delete_tenants(session: Session, ids: Sequence[int], levels: Sequence[Sequence[int]]) -> None:
    for chunk in in_chunks(ids):
        session.execute(delete(TenantAdmin).where(col(TenantAdmin.tenant_id).in_(chunk)))
        session.execute(delete(TenantContent).where(col(TenantContent.tenant_id).in_(chunk)))
    for level in levels:
        for chunk in in_chunks(level):
            session.execute(delete(Tenant).where(col(Tenant.id).in_(chunk)))


def remove_tenant(
    session: Session, actor: User, name: str, *, recursive: bool = False, confirmed: bool = False
) -> list[str]:
    """Remove a tenant (and, with recursive, everything below it); returns the names removed."""
    require_admin(actor, "tenant remove")
    lock_tree(session)
    tenant = get_tenant(session, name)
    if tenant.is_master:
        raise InvalidInput("the master tenant is your own partner tenant and cannot be removed")
    rows = subtree_rows(session, tenant.id)
    if len(rows) > 1 and not recursive:
        raise Conflict(
            f"{tenant.name!r} has {len(rows) - 1} tenant(s) below it; "
            "remove them first, move them, or pass --recursive --yes"
        )
    if not confirmed:
        _check_none_handed_over(session, [r[0] for r in rows])
    ordered, levels = removal_order(rows)
    _delete_tenants(session, [r[0] for r in ordered], levels)
    for _id, _parent, removed_name, _depth in ordered:
        audit.record(session, actor, "tenant.remove", "tenant", removed_name, before={"name": removed_name})
    session.flush()
    return [r[2] for r in ordered]
