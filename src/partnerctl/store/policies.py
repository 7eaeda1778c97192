"""PostgreSQL enforcement: row-level security, grants, triggers and the SECURITY DEFINER functions.

`install` (re)creates all of it from the lists below and is idempotent: every migration that adds a
table or column calls it again, so the database always enforces exactly these lists. The rules are
the services' own (services/access.py), restated for the database so that they hold against raw
SQL too. Policies key on the partner user linked to the connection's role (`session_user`);
an admin's `--as` sets `partnerctl.act_as` for the transaction and is honoured only for an admin.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from partnerctl.store.roles import GroupRoles, ensure_group_roles, quoted, run_sql, store_groups

# Function calls wrapped in a sub-SELECT are evaluated once per statement (an InitPlan), not per row.
ME = "(SELECT partnerctl_user_id())"
ADMIN = "(SELECT partnerctl_is_admin())"
MY_CLIENTS = f"(SELECT a.client_id FROM client_assignments a WHERE a.user_id = {ME})"


def _of_my_clients(column: str) -> str:
    return f"{column} IN {MY_CLIENTS}"


def _through(column: str, parent: str) -> str:
    # The parent's own policy applies inside the sub-SELECT.
    return f"{column} IN (SELECT p.id FROM {parent} p)"


@dataclass(frozen=True)
class RowRule:
    """Which rows a bookkeeper sees (`using`) and may write (`check`); admins see and write all."""

    using: str
    check: str | None = None  # None: the same as `using`


# Every table that holds per-client data, and how a row reaches its client. ONE list: install()
# protects exactly these tables, and a test fails when a table keyed by a client is missing here.
CLIENT_ROWS: dict[str, RowRule] = {
    "clients": RowRule(_of_my_clients("id")),
    # Only their own assignments, so the clients policy can read this table without recursion.
    "client_assignments": RowRule(f"user_id = {ME}", check="false"),
    "client_groups": RowRule(_of_my_clients("client_id")),
    "client_integrations": RowRule(_of_my_clients("client_id")),
    "subscriptions": RowRule(_of_my_clients("client_id")),
    "invoices": RowRule(_of_my_clients("client_id")),
    "invoice_lines": RowRule(_through("invoice_id", "invoices")),
    "invoice_payments": RowRule(_through("invoice_id", "invoices")),
    "reminder_subscriptions": RowRule(f"user_id = {ME} AND {_of_my_clients('client_id')}"),
    "reminder_nudges": RowRule(_of_my_clients("client_id")),
    # Mail about their clients, and their own digests (per user, keyed digest:<user id>:...).
    "outbox": RowRule(f"{_of_my_clients('client_id')} OR dedupe_key LIKE 'digest:' || {ME} || ':%'"),
    # The files attached to a message (invoice PDFs) go with the message.
    "outbox_attachments": RowRule(_through("message_id", "outbox")),
    "tenants": RowRule(_of_my_clients("client_id")),
    "tenant_admins": RowRule(_through("tenant_id", "tenants")),
    "tenant_contents": RowRule(_through("tenant_id", "tenants")),
}

# Per-user rather than per-client rows: a bookkeeper sees their own.
USER_ROWS: dict[str, RowRule] = {
    "reminder_digests": RowRule(f"user_id = {ME}"),
}

ROW_RULES: dict[str, RowRule] = {**CLIENT_ROWS, **USER_ROWS}

# Columns of tenant_admins an admin may read: everything except the password hash and fingerprint.
TENANT_ADMIN_PUBLIC = "id, tenant_id, email, username, username_key, name, password_changed_at, created_at"
CREDENTIAL_KEY_PUBLIC = "id, salt, time_cost, memory_cost, parallelism, created_at"

# What bookkeeper commands need, and no more (every one of them is run as a bookkeeper role in
# tests/commands/test_roles_bookkeeper.py). Row-level security then limits the rows.
BOOKKEEPER_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "alembic_version": ("SELECT",),
    "partner": ("SELECT",),
    "users": ("SELECT",),
    "products": ("SELECT",),
    "integrations": ("SELECT",),
    "templates": ("SELECT",),
    "exchange_rates": ("SELECT",),
    "reminder_schedule": ("SELECT",),
    # client edit (fields, currency, permissions) and client tasks; never status, ref or origin.
    "clients": (
        "SELECT",
        "UPDATE (name, name_key, contact_name, contact_email, billing_street, billing_city, "
        "billing_zip, billing_country, shipping_street, shipping_city, shipping_zip, shipping_country, "
        "currency, language, vat_number, permissions, missing_receipts, wallet_balance, expenses_ready, "
        "updated_at)",
    ),
    "client_assignments": ("SELECT",),
    "client_groups": ("SELECT", "INSERT", "DELETE"),
    "client_integrations": ("SELECT", "INSERT", "UPDATE (state)", "DELETE"),
    "subscriptions": ("SELECT",),
    "invoices": ("SELECT",),
    "invoice_lines": ("SELECT",),
    "invoice_payments": ("SELECT",),
    "reminder_subscriptions": ("SELECT", "INSERT", "UPDATE (topics, updated_at)", "DELETE"),
    "reminder_digests": ("SELECT",),
    "tenants": ("SELECT",),
    "tenant_admins": (f"SELECT ({TENANT_ADMIN_PUBLIC})",),
    "tenant_contents": ("SELECT",),
    # Their changes are audited; RETURNING id needs that one column.
    "audit_events": ("INSERT", "SELECT (id)"),
}

# Admins: everything on every table, except what the store owner alone may do.
_ALL = ("SELECT", "INSERT", "UPDATE", "DELETE")
ADMIN_EXCEPTIONS: dict[str, tuple[str, ...]] = {
    "alembic_version": ("SELECT",),  # `store upgrade` is for the owner
    "audit_events": ("INSERT", "SELECT"),  # append-only
    # Hashes and fingerprints are written, never read back.
    "tenant_admins": (f"SELECT ({TENANT_ADMIN_PUBLIC})", "INSERT", "UPDATE", "DELETE"),
    # The pepper is made by the database (a default) and read by the owner's functions only.
    "tenant_credential_keys": (f"SELECT ({CREDENTIAL_KEY_PUBLIC})", f"INSERT ({CREDENTIAL_KEY_PUBLIC})"),
}

# Functions an admin's role may call; the two "who am I" functions are for both groups.
_ADMIN_FUNCTIONS = (
    "partnerctl_password_in_use(bytea, integer)",
    "partnerctl_password_is_current(integer, bytea)",
)
_WHO_FUNCTIONS = ("partnerctl_user_id()", "partnerctl_is_admin()")


def _functions_sql(path: str) -> list[str]:
    definer = f"LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {path}"
    procedure = f"LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {path}"
    fingerprint = "encode(hmac(prehash, (SELECT k.pepper FROM tenant_credential_keys k WHERE k.id = 1), 'sha256'), 'hex')"
    return [
        # Who connected, for any role (even one in no group): so that a role linked to no active
        # user is told exactly that. It answers for the caller's own role only.
        f"""CREATE OR REPLACE FUNCTION partnerctl_whoami(OUT id integer, OUT email text, OUT role text,
                                                       OUT active boolean) {definer} AS $$
            SELECT u.id, u.email, u.role, u.active FROM users u WHERE u.db_role = session_user::text $$""",
        # The acting user: the connected role's user, or for an admin the user of partnerctl.act_as
        # (anything but a number there means nobody). PL/pgSQL keeps its plans for the session: a
        # SQL function with a SET clause is planned again at every call (~0.7 ms a statement).
        f"""CREATE OR REPLACE FUNCTION partnerctl_user_id() RETURNS integer {procedure} AS $$
            DECLARE
                me record;
                act text := current_setting('partnerctl.act_as', true);
                target integer;
            BEGIN
                SELECT u.id, u.role INTO me FROM users u WHERE u.db_role = session_user::text AND u.active;
                IF me.id IS NOT NULL AND me.role = 'admin' AND act ~ '^[0-9]{{1,9}}$' THEN
                    SELECT u.id INTO target FROM users u WHERE u.id = act::integer AND u.active;
                    RETURN target;
                END IF;
                RETURN me.id;
            END $$""",
        f"""CREATE OR REPLACE FUNCTION partnerctl_is_admin() RETURNS boolean {procedure} AS $$
            BEGIN
                RETURN coalesce((SELECT u.role = 'admin' FROM users u WHERE u.id = partnerctl_user_id()), false);
            END $$""",
        # Yes/no answers about tenant administrator passwords: the pepper never leaves the database.
        f"""CREATE OR REPLACE FUNCTION partnerctl_password_in_use(prehash bytea, except_admin integer)
            RETURNS boolean {definer} AS $$
            SELECT EXISTS (SELECT 1 FROM tenant_admins t
                           WHERE t.pw_fingerprint = {fingerprint} AND t.id IS DISTINCT FROM except_admin) $$""",
        f"""CREATE OR REPLACE FUNCTION partnerctl_password_is_current(admin_id integer, prehash bytea)
            RETURNS boolean {definer} AS $$
            SELECT EXISTS (SELECT 1 FROM tenant_admins t WHERE t.id = admin_id AND t.pw_fingerprint = {fingerprint}) $$""",
        # What partnerctl writes to pw_fingerprint is the argon2id prehash; the database peppers it.
        f"""CREATE OR REPLACE FUNCTION partnerctl_pepper_fingerprint() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $$
            BEGIN
                NEW.pw_fingerprint := encode(hmac(decode(NEW.pw_fingerprint, 'hex'),
                    (SELECT k.pepper FROM tenant_credential_keys k WHERE k.id = 1), 'sha256'), 'hex');
                RETURN NEW;
            END $$""",
        """CREATE OR REPLACE FUNCTION partnerctl_audit_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END $$""",
        """CREATE OR REPLACE FUNCTION partnerctl_audit_db_role() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                NEW.db_role := session_user;
                RETURN NEW;
            END $$""",
    ]


_TRIGGERS = (
    ("partnerctl_append_only", "audit_events",
     "BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events FOR EACH STATEMENT "
     "EXECUTE FUNCTION partnerctl_audit_append_only()"),
    ("partnerctl_db_role", "audit_events",
     "BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION partnerctl_audit_db_role()"),
    ("partnerctl_pepper", "tenant_admins",
     "BEFORE INSERT OR UPDATE OF pw_fingerprint ON tenant_admins FOR EACH ROW "
     "EXECUTE FUNCTION partnerctl_pepper_fingerprint()"),
)  # fmt: skip


def _search_path(conn: Connection) -> tuple[str, str]:
    """(search_path of the SECURITY DEFINER functions, the store's schema quoted).

    pg_catalog, the store's schema, pgcrypto's schema, then pg_temp last: a temporary table must
    never stand in for one of ours inside a SECURITY DEFINER function.
    """
    from psycopg import sql

    schema, crypto = run_sql(
        conn,
        "SELECT current_schema(), (SELECT n.nspname FROM pg_extension e "
        "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pgcrypto')",
    )[0]
    names = ["pg_catalog", schema] + ([crypto] if crypto and crypto != schema else []) + ["pg_temp"]
    raw = conn.connection.driver_connection
    return ", ".join(sql.Identifier(n).as_string(raw) for n in names), sql.Identifier(schema).as_string(raw)


def _our_tables(conn: Connection) -> list[str]:
    """The store's tables that exist (a schema may hold tables that are none of ours)."""
    from sqlmodel import SQLModel

    import partnerctl.store.models  # noqa: F401  (registers every table)

    ours = {t.name for t in SQLModel.metadata.sorted_tables} | {"alembic_version"}
    rows = run_sql(conn, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return sorted(r[0] for r in rows if r[0] in ours)


def _columns(conn: Connection) -> dict[str, set[str]]:
    rows = run_sql(
        conn,
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()",
    )
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    return found


def _existing(privilege: str, columns: set[str]) -> str | None:
    """`UPDATE (a, b)` narrowed to the columns that exist at this revision (a later migration adds
    the rest and installs again); None when none of them exists yet. Table-wide privileges as given."""
    verb, _, listed = privilege.partition("(")
    if not listed:
        return privilege
    kept = [c.strip() for c in listed.rstrip(") ").split(",") if c.strip() in columns]
    return f"{verb.strip()} ({', '.join(kept)})" if kept else None


def _grants_sql(conn: Connection, groups: GroupRoles, schema: str) -> list[str]:
    """Exactly the privileges of the lists above: everything the groups had before is revoked first."""
    # Role names always go in quoted by psycopg.sql.Identifier (store.roles.quoted).
    admin, bookkeeper = quoted(groups.admin), quoted(groups.bookkeeper)
    tables = _our_tables(conn)
    columns = _columns(conn)
    statements = [f'REVOKE ALL ON "{t}" FROM {admin}, {bookkeeper}' for t in tables]
    for table in tables:
        for group, privileges in (
            (admin, ADMIN_EXCEPTIONS.get(table, _ALL)),
            (bookkeeper, BOOKKEEPER_PRIVILEGES.get(table, ())),
        ):
            statements += [
                f'GRANT {p} ON "{table}" TO {group}'
                for p in (_existing(privilege, columns.get(table, set())) for privilege in privileges)
                if p
            ]
    statements.append(f"GRANT USAGE ON SCHEMA {schema} TO {admin}, {bookkeeper}")
    # The sequences that serial ids take their values from, by the table owning them.
    owned = run_sql(
        conn,
        "SELECT s.oid::regclass::text, t.relname FROM pg_class s "
        "JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid WHERE s.relkind = 'S' AND t.relnamespace = current_schema()::regnamespace",
    )
    for sequence, table in owned:
        if table not in tables:
            continue
        statements.append(f"GRANT USAGE ON SEQUENCE {sequence} TO {admin}")
        if "INSERT" in BOOKKEEPER_PRIVILEGES.get(table, ()):
            statements.append(f"GRANT USAGE ON SEQUENCE {sequence} TO {bookkeeper}")
    for fn in (*_WHO_FUNCTIONS, *_ADMIN_FUNCTIONS, "partnerctl_pepper_fingerprint()"):
        statements.append(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    statements += [f"GRANT EXECUTE ON FUNCTION {fn} TO {admin}, {bookkeeper}" for fn in _WHO_FUNCTIONS]
    # Any role may ask who it is and which schema the store has (so it hears why it may do nothing).
    statements += [
        "GRANT EXECUTE ON FUNCTION partnerctl_whoami() TO PUBLIC",
        'GRANT SELECT ON "alembic_version" TO PUBLIC',
    ]
    statements += [f"GRANT EXECUTE ON FUNCTION {fn} TO {admin}" for fn in _ADMIN_FUNCTIONS]
    return statements


def _policies_sql(existing: list[str]) -> list[str]:
    statements = []
    # A migration installs them for the tables that exist at its revision; a later one again.
    for table, rule in ((t, r) for t, r in ROW_RULES.items() if t in existing):
        check = rule.check if rule.check is not None else rule.using
        statements += [
            f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
            # FORCE: the table owner is held to the policies too.
            f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
            f'DROP POLICY IF EXISTS partnerctl_rows ON "{table}"',
            f'CREATE POLICY partnerctl_rows ON "{table}" FOR ALL '
            f"USING ({ADMIN} OR ({rule.using})) WITH CHECK ({ADMIN} OR ({check}))",
        ]
    return statements


def install_extension(conn: Connection) -> None:
    """pgcrypto (a trusted extension: the database owner may create it) for the HMAC and the pepper."""
    run_sql(conn, "CREATE EXTENSION IF NOT EXISTS pgcrypto")


def install(conn: Connection) -> GroupRoles:
    """Create or replace the group roles, functions, triggers, policies and grants of this store."""
    groups = store_groups(conn)
    ensure_group_roles(conn, groups)
    install_extension(conn)
    path, schema = _search_path(conn)
    for statement in _functions_sql(path):
        run_sql(conn, statement)
    for name, table, definition in _TRIGGERS:
        run_sql(conn, f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
        run_sql(conn, f"CREATE TRIGGER {name} {definition}")
    run_sql(conn, "ALTER TABLE tenant_credential_keys ALTER COLUMN pepper SET DEFAULT gen_random_bytes(32)")
    for statement in _policies_sql(_our_tables(conn)):
        run_sql(conn, statement)
    for statement in _grants_sql(conn, groups, schema):
        run_sql(conn, statement)
    return groups
