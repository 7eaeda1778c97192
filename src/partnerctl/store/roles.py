"""PostgreSQL roles of a store: the group roles' names, login roles, membership, and who is connected.

Every role name goes into SQL through psycopg.sql.Identifier, never by string formatting; a DDL
statement that the connection may not run becomes one Forbidden error that names the SQL a DBA
can run instead.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from partnerctl.errors import Forbidden, InvalidInput

# PostgreSQL's rule for an unquoted identifier, lower case only, so `psql -U NAME`, unquoted SQL and
# partnerctl all mean the same role. At most 63 bytes (NAMEDATALEN - 1).
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_$]{0,62}\Z")
_RESERVED = {"public", "none", "current_role", "current_user", "session_user", "all"}
MAX_IDENTIFIER = 63

# The transaction-local setting through which an admin acts for another user (`--as`).
ACT_AS_SETTING = "partnerctl.act_as"


@dataclass(frozen=True)
class GroupRoles:
    """The two NOLOGIN group roles of one store; grants go to them, login roles are their members."""

    admin: str
    bookkeeper: str

    def for_role(self, role: str) -> str:
        return self.admin if role == "admin" else self.bookkeeper

    @property
    def both(self) -> tuple[str, str]:
        return (self.admin, self.bookkeeper)


def group_roles(database: str) -> GroupRoles:
    """The group roles of the store in `database`: `partnerctl_<db>_admin` and `partnerctl_<db>_bookkeeper`.

    Roles are cluster-wide, so the name carries the database. A name that had to be changed to
    be an identifier (or is too long) also carries a short hash of the real name, so two
    databases never share group roles.
    """
    base = re.sub(r"[^a-z0-9_]", "_", database.lower())
    longest = f"partnerctl_{base}_bookkeeper"
    if base != database or len(longest.encode()) > MAX_IDENTIFIER:
        digest = hashlib.sha256(database.encode()).hexdigest()[:10]
        room = MAX_IDENTIFIER - len("partnerctl__bookkeeper") - len(digest) - 1
        base = f"{base[:room]}_{digest}"
    return GroupRoles(f"partnerctl_{base}_admin", f"partnerctl_{base}_bookkeeper")


def check_role_name(name: str) -> str:
    """A login role name as partnerctl accepts it (identifier rules, lower case), or InvalidInput."""
    value = (name or "").strip()
    if not _ROLE_NAME.match(value) or len(value.encode()) > MAX_IDENTIFIER:
        raise InvalidInput(
            f"not a role name: {name!r} (use lower-case letters, digits, _ and $, starting with a letter "
            f"or _, at most {MAX_IDENTIFIER} characters)"
        )
    if value in _RESERVED or value.startswith("pg_") or value.startswith("partnerctl_"):
        raise InvalidInput(f"{value!r} is reserved and cannot be a partner user's role")
    return value


def quoted(name: str) -> str:
    """A role name quoted as an identifier, for the SQL a DBA is told to run."""
    from psycopg import sql

    return sql.Identifier(name).as_string(None)


def run_sql(conn: Connection, statement, params: tuple = ()) -> list[tuple]:
    """Run a statement (text or psycopg.sql) on the connection's open transaction, through the
    driver: without parameters, nothing in it is taken for a placeholder (plpgsql's `%`)."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(statement, params or None)
        return cur.fetchall() if cur.description else []


def _ddl(conn: Connection, statement, what: str, dba_sql: list[str]) -> None:
    """Run a role statement; refused for lack of privilege, it is one Forbidden naming the SQL a DBA can run."""
    from psycopg import errors

    try:
        run_sql(conn, statement)
    except errors.InsufficientPrivilege:
        raise Forbidden(
            f"this connection may not {what} (it needs CREATEROLE, or a DBA does it)",
            hint="a DBA can run: " + " ".join(s.rstrip(";") + ";" for s in dba_sql) + " then run this again",
        ) from None


def session_role(conn: Connection) -> str:
    return run_sql(conn, "SELECT session_user")[0][0]


def current_database(conn: Connection) -> str:
    return run_sql(conn, "SELECT current_database()")[0][0]


def store_groups(conn: Connection) -> GroupRoles:
    return group_roles(current_database(conn))


def role_exists(conn: Connection, name: str) -> bool:
    return bool(run_sql(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)))


def bypasses_row_security(conn: Connection, role: str) -> bool:
    """Superusers and BYPASSRLS roles are not held to row-level security: never a partner user's role."""
    rows = run_sql(conn, "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s", (role,))
    return bool(rows and rows[0][0])


def is_member(conn: Connection, role: str, group: str) -> bool:
    """Whether `role` is (directly or through another role) a member of `group`; superusers are of all."""
    return bool(run_sql(conn, "SELECT pg_has_role(%s, %s, 'MEMBER')", (role, group))[0][0])


def ensure_group_roles(conn: Connection, groups: GroupRoles) -> None:
    """Create the store's NOLOGIN group roles that do not exist yet."""
    from psycopg import sql

    for group in groups.both:
        if role_exists(conn, group):
            continue
        me = session_role(conn)
        _ddl(
            conn,
            sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(group)),
            f"create the group roles of this store ({', '.join(groups.both)})",
            [f"CREATE ROLE {quoted(g)} NOLOGIN" for g in groups.both]
            + [f"GRANT {quoted(g)} TO {quoted(me)} WITH ADMIN OPTION" for g in groups.both],
        )


def create_login_role(conn: Connection, name: str, password: str | None, group: str | None = None) -> None:
    """CREATE ROLE NAME LOGIN, with the password sent as a SCRAM verifier computed here (never in
    clear). `group` is the group it will join: a DBA who has to make the role is told that too."""
    from psycopg import sql

    statement = sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name))
    if password is not None:
        raw = conn.connection.driver_connection
        verifier = raw.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(verifier.decode()))
    dba_sql = [f"CREATE ROLE {quoted(name)} LOGIN"] + (
        [f"GRANT {quoted(group)} TO {quoted(name)}"] if group else []
    )
    _ddl(conn, statement, f"create the role {name}", dba_sql)


def grant_group(conn: Connection, group: str, role: str) -> None:
    """Make `role` a member of `group` (nothing to do when it already is)."""
    from psycopg import sql

    if is_member(conn, role, group):
        return
    statement = sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(role))
    _ddl(conn, statement, f"grant {group} to {role}", [f"GRANT {quoted(group)} TO {quoted(role)}"])


def revoke_group(conn: Connection, group: str, role: str) -> None:
    """End `role`'s direct membership of `group` (nothing to do when it has none)."""
    from psycopg import sql

    direct = run_sql(
        conn,
        "SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        "JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = %s AND r.rolname = %s",
        (group, role),
    )
    if not direct:
        return
    statement = sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), sql.Identifier(role))
    _ddl(conn, statement, f"revoke {group} from {role}", [f"REVOKE {quoted(group)} FROM {quoted(role)}"])


def set_acting_user(conn: Connection, user_id: int | None) -> None:
    """For this transaction, act for user `user_id` (the policies honour it only for an admin's role)."""
    run_sql(
        conn, "SELECT set_config(%s, %s, true)", (ACT_AS_SETTING, "" if user_id is None else str(user_id))
    )
