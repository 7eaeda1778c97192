"""Tenants created, edited, moved, removed and handed over (with the hand-over checklist)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.tenants.logo import set_logo
from partnerctl.services.tenants.passwords import credential_key
from partnerctl.services.tenants.rules import (
    ADVISED_MAX_ADMINS,
    check_charset,
    clean_name,
    client_id_of,
    find_tenant,
    get_master,
    get_tenant,
    in_chunks,
    lock_tree,
    name_key,
    parse_edition,
    parse_type,
    tenant_snapshot,
)
from partnerctl.services.tenants.tree import subtree_rows
from partnerctl.services.validation import normalize_email
from partnerctl.store.models import Partner, User
from partnerctl.store.models.tenants import (
    Tenant,
    TenantAdmin,
    TenantContent,
    TenantType,
)
from partnerctl.store.types import utcnow


@dataclass
class CheckItem:
    item: str
    ok: bool
    detail: str = ""
    required: bool = True


@dataclass
class HandoverResult:
    tenant: str
    checks: list[CheckItem]
    handed_over: bool
    already: bool = False
    admins: int = 0

    @property
    def missing(self) -> list[CheckItem]:
        return [c for c in self.checks if c.required and not c.ok]


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
    try:
        session.flush()
    except IntegrityError:
        # Another process took the name (or removed the parent) between our check and our write.
        raise Conflict(f"a tenant named {name!r} was just created or its parent removed; try again") from None


def edit_tenant(
    session: Session,
    actor: User,
    name: str,
    *,
    new_name: str | None = None,
    edition: str | None = None,
    charset: str | None = None,
    logo: bytes | None = None,
    remove_logo: bool = False,
    client_ref: str | None = None,
    remove_client: bool = False,
    configured: bool | None = None,
) -> Tenant:
    require_admin(actor, "tenant edit")
    tenant = get_tenant(session, name)
    before = tenant_snapshot(tenant)
    changed = False
    if new_name is not None:
        clean = clean_name(new_name)
        other = find_tenant(session, clean)
        if other is not None and other.id != tenant.id:
            raise Conflict(f"a tenant named {other.name!r} already exists (names are unique, ignoring case)")
        tenant.name, tenant.name_key = clean, name_key(clean)
        changed = True
    if edition is not None:
        tenant.edition = parse_edition(edition)
        changed = True
    if charset is not None:
        tenant.charset = check_charset(TenantType(tenant.type), charset)
        changed = True
    if logo is not None and remove_logo:
        raise InvalidInput("pass either --logo or --remove-logo, not both")
    if logo is not None or remove_logo:
        set_logo(tenant, logo)
        changed = True
    if client_ref is not None and remove_client:
        raise InvalidInput("pass either --client or --no-client, not both")
    if client_ref is not None or remove_client:
        tenant.client_id = client_id_of(session, client_ref) if client_ref else None
        changed = True
    if configured is not None:
        if tenant.type != TenantType.custom and not configured:
            raise InvalidInput("only CUSTOM tenants need setup; a STANDARD tenant is ready as created")
        tenant.needs_setup = not configured
        changed = True
    if not changed:
        raise InvalidInput(
            "nothing to change: pass --name, --edition, --charset, --logo, --remove-logo, --client, "
            "--no-client or --configured/--needs-setup"
        )
    tenant.updated_at = utcnow()
    session.add(tenant)
    _flush_names(session, tenant.name)
    audit.record(
        session, actor, "tenant.edit", "tenant", tenant.name, before=before, after=tenant_snapshot(tenant)
    )
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
    tenant.updated_at = utcnow()
    session.add(tenant)
    session.flush()
    audit.record(
        session, actor, "tenant.move", "tenant", tenant.name, before=before, after=tenant_snapshot(tenant)
    )
    return tenant


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
        for chunk in in_chunks([r[0] for r in rows]):
            handed = session.exec(
                select(Tenant.name).where(col(Tenant.id).in_(chunk), Tenant.handed_over == True)  # noqa: E712
            ).first()
            if handed is not None:
                raise Conflict(f"{handed!r} is handed over to its customer; pass --yes to remove it anyway")
    # Deepest first, so no row ever points at a parent that is already gone.
    rows.sort(key=lambda r: -r[3])
    ids = [r[0] for r in rows]
    for chunk in in_chunks(ids):
        session.execute(delete(TenantAdmin).where(col(TenantAdmin.tenant_id).in_(chunk)))
        session.execute(delete(TenantContent).where(col(TenantContent.tenant_id).in_(chunk)))
    by_depth: dict[int, list[int]] = {}
    for id_, _parent, _name, depth in rows:
        by_depth.setdefault(depth, []).append(id_)
    for depth in sorted(by_depth, reverse=True):
        for chunk in in_chunks(by_depth[depth]):
            session.execute(delete(Tenant).where(col(Tenant.id).in_(chunk)))
    for _id, _parent, removed_name, _depth in rows:
        audit.record(session, actor, "tenant.remove", "tenant", removed_name, before={"name": removed_name})
    session.flush()
    return [r[2] for r in rows]


def handover_tenant(session: Session, actor: User, name: str) -> HandoverResult:
    """Check the tenant is ready for its customer; when every required item holds, mark it handed over."""
    require_admin(actor, "tenant handover")
    tenant = get_tenant(session, name)
    if tenant.is_master:
        raise InvalidInput("the master tenant is your own; it is not handed over to a customer")
    admins = list(session.exec(select(TenantAdmin).where(TenantAdmin.tenant_id == tenant.id)))
    checks: list[CheckItem] = []
    checks.append(
        CheckItem(
            "at least one administrator",
            bool(admins),
            f"{len(admins)} administrator(s)"
            if admins
            else f"none yet: add one with `partnerctl tenant admin add {tenant.name!r} --email ... --generate-password`",
        )
    )
    invalid = []
    for a in admins:
        try:
            normalize_email(a.email)
        except InvalidInput:
            invalid.append(a.email)
    checks.append(
        CheckItem(
            "administrator e-mail addresses are valid",
            bool(admins) and not invalid,
            f"invalid: {', '.join(invalid)}"
            if invalid
            else ("no administrator yet" if not admins else "all valid"),
        )
    )
    if tenant.type == TenantType.custom:
        checks.append(
            CheckItem(
                "CUSTOM tenant is configured",
                not tenant.needs_setup,
                "configured"
                if not tenant.needs_setup
                else f"needs setup; once done: `partnerctl tenant edit {tenant.name!r} --configured`",
            )
        )
    checks.append(
        CheckItem(
            f"at most {ADVISED_MAX_ADMINS} administrators (advice)",
            len(admins) <= ADVISED_MAX_ADMINS,
            f"{len(admins)} administrator(s): keep the administrator role to as few users as possible",
            required=False,
        )
    )
    not_email = [a.username for a in admins if a.username_key != a.email]
    checks.append(
        CheckItem(
            "usernames are the e-mail addresses (advice)",
            not not_email,
            f"other usernames: {', '.join(not_email)}" if not_email else "yes",
            required=False,
        )
    )
    result = HandoverResult(tenant.name, checks, handed_over=tenant.handed_over, admins=len(admins))
    if tenant.handed_over:
        result.already = True
        return result
    if result.missing:
        return result
    before = tenant_snapshot(tenant)
    tenant.handed_over = True
    tenant.handed_over_at = utcnow()
    tenant.handed_over_by = actor.email
    tenant.updated_at = utcnow()
    session.add(tenant)
    session.flush()
    audit.record(
        session, actor, "tenant.handover", "tenant", tenant.name, before=before, after=tenant_snapshot(tenant)
    )
    result.handed_over = True
    return result
