"""Tenant administrators: add, list, remove, reset a password, verify one."""

from __future__ import annotations

from sqlmodel import Session, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.tenants.passwords import (
    check_password_strength,
    hash_password,
    password_prehash,
    password_user_inputs,
)
from partnerctl.services.tenants.rules import (
    admin_count,
    admins_query,
    clean_name,
    flush_or_conflict,
    get_tenant,
)
from partnerctl.services.validation import normalize_email
from partnerctl.store.credentials import PasswordUse, password_use, stored_value
from partnerctl.store.models import User
from partnerctl.store.models.tenants import Tenant, TenantAdmin
from partnerctl.store.types import utcnow


def verify_admin_password(session: Session, tenant: str, email: str, password: str) -> bool:
    """Would this password log the administrator in? (argon2id verify against the stored hash).

    Only for whoever may read hashes: a SQLite store's operator, a PostgreSQL store's owner (tests
    use it; no command does).
    """
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    admin = get_admin(session, tenant, email)
    stored = session.exec(select(TenantAdmin.password_hash).where(TenantAdmin.id == admin.id)).one()
    try:
        return PasswordHasher().verify(stored, password)
    except VerificationError:
        return False


def _set_password(session: Session, admin: TenantAdmin, tenant: Tenant, password: str) -> None:
    check_password_strength(password, password_user_inputs(tenant, admin.email, admin.username, admin.name))
    prehash = password_prehash(session, password)
    use = password_use(session.connection(), prehash, admin.id)
    if use is PasswordUse.current:
        raise InvalidInput("the new password is the same as the current one; choose another")
    if use is PasswordUse.other:
        raise InvalidInput(
            "this password is already used by another tenant administrator; "
            "a password repeated across tenants is easy to guess: choose a different one"
        )
    admin.password_hash = hash_password(password)
    admin.pw_fingerprint = stored_value(session.connection(), prehash)
    admin.password_changed_at = utcnow()


def admin_summary(admin: TenantAdmin, tenant: Tenant) -> dict:
    """What identifies an administrator (never a password, hash or fingerprint): output and audit."""
    return {"tenant": tenant.name, "email": admin.email, "username": admin.username, "name": admin.name}


def admin_address(email: str) -> str:
    """The stored form of an administrator's e-mail, to look one up by (as stored by add_admin)."""
    return (email or "").strip().lower()


def get_admin(session: Session, tenant: str, email: str) -> TenantAdmin:
    t = get_tenant(session, tenant)
    admin = session.exec(
        admins_query().where(TenantAdmin.tenant_id == t.id, TenantAdmin.email == admin_address(email))
    ).first()
    if admin is None:
        raise NotFound(
            f"{t.name!r} has no administrator {email.strip()!r}",
            hint=f"list them with `partnerctl tenant admin list {t.name!r}`",
        )
    return admin


def new_admin(tenant: Tenant, *, email: str, username: str | None = None, name: str = "") -> TenantAdmin:
    """The administrator to add: the e-mail checked, the username (default: the e-mail) and name cleaned."""
    address = normalize_email(email, field="administrator e-mail")
    login = clean_name(username, "username", 320) if username else address
    display = " ".join((name or "").split())
    return TenantAdmin(
        tenant_id=tenant.id, email=address, username=login, username_key=login.casefold(), name=display
    )


def _check_unique(session: Session, tenant: Tenant, admin: TenantAdmin) -> None:
    of_tenant = select(TenantAdmin.id).where(TenantAdmin.tenant_id == tenant.id)
    if session.exec(of_tenant.where(TenantAdmin.email == admin.email)).first():
        raise Conflict(f"{admin.email} is already an administrator of {tenant.name!r}")
    if session.exec(of_tenant.where(TenantAdmin.username_key == admin.username_key)).first():
        raise Conflict(f"username {admin.username!r} is already taken in {tenant.name!r}")


def add_admin(
    session: Session,
    actor: User,
    tenant: str,
    *,
    email: str,
    password: str,
    username: str | None = None,
    name: str = "",
) -> tuple[TenantAdmin, int]:
    """Add an administrator; returns it and how many the tenant has now."""
    require_admin(actor, "tenant admin add")
    t = get_tenant(session, tenant)
    admin = new_admin(t, email=email, username=username, name=name)
    _check_unique(session, t, admin)
    _set_password(session, admin, t, password)
    session.add(admin)
    # Another process may add the same address, username or password at the same moment.
    flush_or_conflict(
        session,
        f"could not add {admin.email} to {t.name!r}: the address, username or password was just taken; try again",
    )
    audit.record(
        session,
        actor,
        "tenant.admin.add",
        "tenant_admin",
        f"{t.name}/{admin.email}",
        after=admin_summary(admin, t),
    )
    return admin, admin_count(session, t.id)


def list_admins(session: Session, actor: User, tenant: str) -> list[dict]:
    t = get_tenant(session, tenant, actor)
    admins = session.exec(admins_query().where(TenantAdmin.tenant_id == t.id).order_by(TenantAdmin.email))
    return [
        {**admin_summary(a, t), "password_changed_at": a.password_changed_at, "created_at": a.created_at}
        for a in admins
    ]


def remove_admin(session: Session, actor: User, tenant: str, email: str) -> int:
    """Remove an administrator; returns how many remain. The last one of a handed-over tenant stays."""
    require_admin(actor, "tenant admin remove")
    admin = get_admin(session, tenant, email)
    t = session.get(Tenant, admin.tenant_id)
    remaining = admin_count(session, t.id) - 1
    if t.handed_over and remaining < 1:
        raise Conflict(
            f"{admin.email} is the last administrator of {t.name!r}, which is handed over: "
            "add another administrator first"
        )
    snapshot = admin_summary(admin, t)
    session.delete(admin)
    session.flush()
    audit.record(
        session, actor, "tenant.admin.remove", "tenant_admin", f"{t.name}/{admin.email}", before=snapshot
    )
    return remaining


def reset_admin_password(
    session: Session, actor: User, tenant: str, email: str, password: str
) -> TenantAdmin:
    require_admin(actor, "tenant admin reset-password")
    admin = get_admin(session, tenant, email)
    t = session.get(Tenant, admin.tenant_id)
    _set_password(session, admin, t, password)
    session.add(admin)
    flush_or_conflict(session, "the password was just taken by another administrator; choose another")
    # The event says that the password changed, never what it is or hashes to.
    audit.record(
        session,
        actor,
        "tenant.admin.reset-password",
        "tenant_admin",
        f"{t.name}/{admin.email}",
        after={**admin_summary(admin, t), "password_changed": True},
    )
    return admin
