"""The PostgreSQL login role of a partner user: create or link it, and keep its group membership
(admin or bookkeeper group of this store) in step with the user's role and whether it is active."""

from __future__ import annotations

from sqlmodel import Session, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.store.models import User


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def check_db_role(session: Session, name: str, user: User | None = None) -> str:
    """A role name a user may be linked to: PostgreSQL only, identifier rules, not another user's."""
    from partnerctl.store.roles import check_role_name

    if not is_postgres(session):
        raise InvalidInput(
            "--db-role is for PostgreSQL stores: a SQLite store has no login roles (it belongs to one operator)"
        )
    role = check_role_name(name)
    other = session.exec(select(User).where(User.db_role == role)).first()
    if other is not None and (user is None or other.id != user.id):
        raise Conflict(f"role {role} is already linked to {other.email}")
    return role


def attach_role(session: Session, user: User, role: str, *, password: str | None, create: bool) -> bool:
    """Link `user` to `role`, creating the LOGIN role when `create` and it does not exist yet; the
    user's group is granted. Returns whether the role was created."""
    from partnerctl.store import roles

    conn = session.connection()
    exists = roles.role_exists(conn, role)
    if not exists and not create:
        raise NotFound(
            f"there is no role {role} on this server",
            hint=f"create it with `partnerctl user add ... --db-role {role}`, or ask a DBA",
        )
    if exists and password is not None:
        raise InvalidInput(
            f"role {role} exists already: partnerctl sets a password only on a role it creates "
            "(a DBA changes it with ALTER ROLE ... PASSWORD)"
        )
    if not exists:
        group = roles.store_groups(conn).for_role(str(user.role))
        roles.create_login_role(conn, role, password, group)
    previous = user.db_role
    user.db_role = role
    if previous and previous != role:
        sync_membership(session, user, role_name=previous, grant=False)
    sync_membership(session, user)
    return not exists


def sync_membership(
    session: Session, user: User, *, role_name: str | None = None, grant: bool | None = None
) -> None:
    """Give the user's login role exactly its group: the one of its role while active, none otherwise."""
    from partnerctl.store import roles

    name = role_name or user.db_role
    if not name or not is_postgres(session):
        return
    conn = session.connection()
    if not roles.role_exists(conn, name):
        return
    groups = roles.store_groups(conn)
    wanted = groups.for_role(str(user.role)) if (user.active if grant is None else grant) else None
    for group in groups.both:
        if group != wanted:
            roles.revoke_group(conn, group, name)
    if wanted is not None:
        roles.grant_group(conn, wanted, name)


def link_first_admin(session: Session, user: User) -> str | None:
    """PostgreSQL: the store's first admin is the role that runs `init`; it gets the admin group.
    Returns a warning when that role is not held to row-level security (a superuser)."""
    from partnerctl.store import roles

    if not is_postgres(session):
        return None
    conn = session.connection()
    me = roles.session_role(conn)
    if session.exec(select(User).where(User.db_role == me)).first() is not None:
        return None
    user.db_role = me
    session.add(user)
    session.flush()
    groups = roles.store_groups(conn)
    roles.ensure_group_roles(conn, groups)
    roles.grant_group(conn, groups.admin, me)
    if roles.bypasses_row_security(conn, me):
        return (
            f"role {me} is a superuser (or BYPASSRLS): row-level security does not hold it; "
            "for a team, let an owner role without those run init (see the README)"
        )
    return None
