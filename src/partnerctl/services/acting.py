"""Who is acting: the real user (the store's authentication) and the user whose view a command has.

On PostgreSQL the real user is the partner user linked to the connection's role (`session_user`);
nothing the command line says can change that. On SQLite, a file that belongs to one operator, it
is the profile's user (else PARTNERCTL_USER / --as). That is a guard against mistakes, not
security: whoever can open the file can change it. `--as EMAIL` for another user is acting on
their behalf, which only an admin may do; the audit log then records both users.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from partnerctl.errors import ConfigMissing, Forbidden
from partnerctl.store.identity import UserRef, connected_user, user_by_email


def is_admin(actor: Any) -> bool:
    """The one admin rule: a User row or a UserRef whose role is admin."""
    return actor.role == "admin"


def require_admin(actor: Any, what: str = "this") -> None:
    if not is_admin(actor):
        raise Forbidden(f"only admins may do {what}; {actor.email} is a {actor.role}")


@dataclass(frozen=True)
class Acting:
    user: UserRef  # whose view and rights the command has
    real: UserRef  # who is acting

    @property
    def on_behalf(self) -> bool:
        return self.user.id != self.real.id


def _email(raw: str | None) -> str | None:
    value = (raw or "").strip().lower()
    return value or None


def active_user(conn: Connection, email: str) -> UserRef:
    """The user `email` names, who must exist and be active (exit 5 otherwise)."""
    user = user_by_email(conn, email)
    if user is None:
        raise Forbidden(f"acting user {email!r} is not a user of this partner space")
    if not user.active:
        raise Forbidden(f"acting user {email!r} is deactivated")
    return user


def _linked_user(conn: Connection, profile_email: str | None) -> UserRef:
    from partnerctl.store.roles import session_role

    role = session_role(conn)
    user = connected_user(conn)
    if user is None or not user.active:
        raise Forbidden(
            f"role {role} is linked to no active partner user",
            hint=f"an admin links it with `partnerctl user link {profile_email or 'EMAIL'} --db-role {role}`",
        )
    return user


def resolve_acting(conn: Connection, *, as_email: str | None, profile_email: str | None) -> Acting:
    """The real and the effective user of a command; Forbidden (exit 5) when either may not act."""
    claimed = _email(as_email)
    if conn.dialect.name == "postgresql":
        # The profile's user is only a hint here: the database says who connected.
        real = _linked_user(conn, _email(profile_email))
    else:
        email = _email(profile_email) or claimed
        # A profile whose user is not in this store (another --store) guards nothing here.
        if claimed and email != claimed and user_by_email(conn, email) is None:
            email = claimed
        if email is None:
            raise ConfigMissing(
                "no acting user: pass --as EMAIL, set PARTNERCTL_USER, or set one with "
                "`partnerctl init` / `profile add`"
            )
        real = active_user(conn, email)
    if claimed is None or claimed == real.email:
        return Acting(real, real)
    if not is_admin(real):
        raise Forbidden(
            f"only an admin may act as another user (--as {claimed}); {real.email} is a {real.role}"
        )
    return Acting(active_user(conn, claimed), real)


def bind_acting(conn: Connection, acting: Acting) -> None:
    """On PostgreSQL, tell the database whom this transaction acts for (row-level security follows)."""
    if acting.on_behalf and conn.dialect.name == "postgresql":
        from partnerctl.store.roles import set_acting_user

        set_acting_user(conn, acting.user.id)
