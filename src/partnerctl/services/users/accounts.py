"""Partner users: add, list, edit, (de)activate, and link them to their PostgreSQL login role."""

from __future__ import annotations

from sqlmodel import Session, func, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.acting import active_user
from partnerctl.services.users.db_roles import attach_role, check_db_role, sync_membership
from partnerctl.services.validation import normalize_email, normalize_language, parse_choice, require_text
from partnerctl.store.models import User, UserCreate, UserUpdate
from partnerctl.store.models.core import Role
from partnerctl.store.types import utcnow


def user_snapshot(user: User) -> dict:
    """A user as the audit log shows it (and `user show`, with the creation time)."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "language": user.language,
        "active": user.active,
        "db_role": user.db_role,
    }


def parse_role(raw: str) -> Role:
    return parse_choice(Role, raw, "role")


def find_user(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def get_user(session: Session, email: str) -> User:
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        raise NotFound(f"no user {email.strip()!r}", hint="list them with `partnerctl user list`")
    return user


def resolve_actor(session: Session, email: str) -> User:
    """The user `email` names as an acting user: must exist and be active (services.acting's rule)."""
    return session.get(User, active_user(session.connection(), email.strip().lower()).id)


def create_user(
    session: Session,
    actor: User | str,
    *,
    email: str,
    name: str = "",
    role: str = "bookkeeper",
    language: str = "en",
    db_role: str | None = None,
    db_password: str | None = None,
) -> tuple[User, bool]:
    """Add a user; with `db_role` (PostgreSQL) also create that LOGIN role if it does not exist,
    grant it the group of the user's role and link it. Returns the user and whether a role was made."""
    if isinstance(actor, User):
        require_admin(actor, "user add")
    data = UserCreate.model_validate(
        {
            "email": normalize_email(email),
            "name": (name or "").strip(),
            "role": parse_role(role),
            "language": normalize_language(language),
        }
    )
    if find_user(session, data.email) is not None:
        raise Conflict(f"user {data.email} already exists")
    role_name = check_db_role(session, db_role) if db_role is not None else None
    user = User.model_validate(data)
    session.add(user)
    session.flush()
    created = False
    if role_name is not None:
        created = attach_role(session, user, role_name, password=db_password, create=True)
        session.flush()
    after = {**user_snapshot(user), **({"db_role_created": created} if role_name else {})}
    audit.record(session, actor, "user.add", "user", user.email, after=after)
    return user, created


def link_user(session: Session, actor: User, email: str, db_role: str) -> User:
    """Link a user to an existing PostgreSQL role and grant it the user's group (a previous role loses it)."""
    require_admin(actor, "user link")
    user = get_user(session, email)
    role_name = check_db_role(session, db_role, user)
    if user.db_role == role_name:
        sync_membership(session, user)
        return user
    before = user_snapshot(user)
    attach_role(session, user, role_name, password=None, create=False)
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.link", "user", user.email, before=before, after=user_snapshot(user))
    return user


def list_users(session: Session, *, role: str | None = None, include_inactive: bool = True) -> list[User]:
    query = select(User).order_by(User.email)
    if role:
        query = query.where(User.role == parse_role(role))
    if not include_inactive:
        query = query.where(User.active == True)  # noqa: E712
    return list(session.exec(query))


def edit_user(session: Session, actor: User, email: str, changes: UserUpdate) -> User:
    require_admin(actor, "user edit")
    user = get_user(session, email)
    before = user_snapshot(user)
    data = changes.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in data:
        data["name"] = require_text(data["name"], "name")
    if "language" in data:
        data["language"] = normalize_language(data["language"])
    if data.get("role") == Role.bookkeeper and user.role == Role.admin:
        _keep_one_admin(session, user)
    if not data:
        raise InvalidInput("nothing to change: pass --name, --role or --language")
    for k, v in data.items():
        setattr(user, k, v)
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    if "role" in data:
        # The login role moves to the group of its new role.
        sync_membership(session, user)
    audit.record(session, actor, "user.edit", "user", user.email, before=before, after=user_snapshot(user))
    return user


def _keep_one_admin(session: Session, user: User) -> None:
    admins = session.exec(
        select(func.count()).select_from(User).where(User.role == Role.admin, User.active == True)  # noqa: E712
    ).one()
    if admins <= 1 and user.active:
        raise Conflict(f"{user.email} is the last active admin; make another user admin first")


def deactivate_user(session: Session, actor: User, email: str) -> User:
    require_admin(actor, "user deactivate")
    user = get_user(session, email)
    if not user.active:
        return user
    if user.role == Role.admin:
        _keep_one_admin(session, user)
    return _set_active(session, actor, user, False)


def activate_user(session: Session, actor: User, email: str) -> User:
    """Let a deactivated user act again (and their login role have its group again)."""
    require_admin(actor, "user activate")
    user = get_user(session, email)
    if user.active:
        return user
    return _set_active(session, actor, user, True)


def _set_active(session: Session, actor: User, user: User, active: bool) -> User:
    before = user_snapshot(user)
    user.active = active
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    # A deactivated user's login role loses its group: it can no longer read or change anything.
    sync_membership(session, user)
    action = "user.activate" if active else "user.deactivate"
    audit.record(session, actor, action, "user", user.email, before=before, after=user_snapshot(user))
    return user
