"""Tenant administrators: add, list, remove, reset a password, verify one."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.tenants.passwords import (
    check_password_strength,
    hash_password,
    password_fingerprint,
    password_user_inputs,
)
from partnerctl.services.tenants.rules import admin_count, clean_name, get_tenant
from partnerctl.services.validation import normalize_email
from partnerctl.store.models import User
from partnerctl.store.models.tenants import (
    Tenant,
    TenantAdmin,
)
from partnerctl.store.types import utcnow


def verify_admin_password(session: Session, tenant: str, email: str, password: str) -> bool:
    """Would this password log the administrator in? (argon2id verify against the stored hash)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    admin = get_admin(session, tenant, email)
    try:
        return PasswordHasher().verify(admin.password_hash, password)
    except VerificationError:
        return False


def _set_password(session: Session, admin: TenantAdmin, tenant: Tenant, password: str) -> None:
    check_password_strength(password, password_user_inputs(tenant, admin.email, admin.username, admin.name))
    fingerprint = password_fingerprint(session, password)
    if admin.id is not None and admin.pw_fingerprint == fingerprint:
        raise InvalidInput("the new password is the same as the current one; choose another")
    reused = session.exec(
        select(TenantAdmin.id).where(TenantAdmin.pw_fingerprint == fingerprint, TenantAdmin.id != admin.id)
        if admin.id is not None
        else select(TenantAdmin.id).where(TenantAdmin.pw_fingerprint == fingerprint)
    ).first()
    if reused is not None:
        raise InvalidInput(
            "this password is already used by another tenant administrator; "
            "a password repeated across tenants is easy to guess: choose a different one"
        )
    admin.password_hash = hash_password(password)
    admin.pw_fingerprint = fingerprint
    admin.password_changed_at = utcnow()


def _admin_snapshot(admin: TenantAdmin, tenant: Tenant) -> dict:
    return {"tenant": tenant.name, "email": admin.email, "username": admin.username, "name": admin.name}


def get_admin(session: Session, tenant: str, email: str) -> TenantAdmin:
    t = get_tenant(session, tenant)
    address = (email or "").strip().lower()
    admin = session.exec(
        select(TenantAdmin).where(TenantAdmin.tenant_id == t.id, TenantAdmin.email == address)
    ).first()
    if admin is None:
        raise NotFound(
            f"{t.name!r} has no administrator {email.strip()!r}",
            hint=f"list them with `partnerctl tenant admin list {t.name!r}`",
        )
    return admin


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
    address = normalize_email(email, field="administrator e-mail")
    login = clean_name(username, "username", 320) if username else address
    display = " ".join((name or "").split())
    if session.exec(
        select(TenantAdmin.id).where(TenantAdmin.tenant_id == t.id, TenantAdmin.email == address)
    ).first():
        raise Conflict(f"{address} is already an administrator of {t.name!r}")
    if session.exec(
        select(TenantAdmin.id).where(
            TenantAdmin.tenant_id == t.id, TenantAdmin.username_key == login.casefold()
        )
    ).first():
        raise Conflict(f"username {login!r} is already taken in {t.name!r}")
    admin = TenantAdmin(
        tenant_id=t.id, email=address, username=login, username_key=login.casefold(), name=display
    )
    _set_password(session, admin, t, password)
    session.add(admin)
    try:
        session.flush()
    except IntegrityError:
        # Another process added the same address, username or password at the same moment.
        raise Conflict(
            f"could not add {address} to {t.name!r}: the address, username or password was just taken; try again"
        ) from None
    audit.record(
        session,
        actor,
        "tenant.admin.add",
        "tenant_admin",
        f"{t.name}/{address}",
        after=_admin_snapshot(admin, t),
    )
    return admin, admin_count(session, t.id)


def list_admins(session: Session, tenant: str) -> list[dict]:
    t = get_tenant(session, tenant)
    admins = session.exec(
        select(TenantAdmin).where(TenantAdmin.tenant_id == t.id).order_by(TenantAdmin.email)
    )
    return [
        {
            "tenant": t.name,
            "email": a.email,
            "username": a.username,
            "name": a.name,
            "password_changed_at": a.password_changed_at,
            "created_at": a.created_at,
        }
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
    snapshot = _admin_snapshot(admin, t)
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
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("the password was just taken by another administrator; choose another") from None
    # The event says that the password changed, never what it is or hashes to.
    audit.record(
        session,
        actor,
        "tenant.admin.reset-password",
        "tenant_admin",
        f"{t.name}/{admin.email}",
        after={**_admin_snapshot(admin, t), "password_changed": True},
    )
    return admin
