"""Partner users as the acting-user check reads them: plain SQL, no ORM (so `outbox send` stays light)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class UserRef:
    id: int
    email: str
    role: str
    active: bool


_COLUMNS = "SELECT id, email, role, active FROM users"


def _one(conn: Connection, where: str, value: str) -> UserRef | None:
    row = conn.execute(text(f"{_COLUMNS} WHERE {where} = :value"), {"value": value}).first()
    return None if row is None else UserRef(row[0], row[1], str(row[2]), bool(row[3]))


def user_by_email(conn: Connection, email: str) -> UserRef | None:
    return _one(conn, "email", email)


def connected_user(conn: Connection) -> UserRef | None:
    """PostgreSQL: the partner user linked to the connection's role (session_user), active or not.

    Asked through partnerctl_whoami(), which any role may call: a role in neither group of the
    store still learns that it is linked to no (active) user, rather than "permission denied".
    """
    row = conn.execute(text("SELECT id, email, role, active FROM partnerctl_whoami()")).first()
    return None if row is None or row[0] is None else UserRef(row[0], row[1], str(row[2]), bool(row[3]))
