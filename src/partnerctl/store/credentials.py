"""Tenant administrator password fingerprints where the pepper lives.

fingerprint = HMAC-SHA256(pepper, argon2id(password, salt)). partnerctl computes the argon2id
part (the costly one) from the public salt and cost parameters; the pepper step happens where the
pepper may be read. On PostgreSQL that is the database: partnerctl writes the argon2id value and
a trigger peppers it, and SECURITY DEFINER functions answer "is this password in use?" with yes
or no, so no admin's connection ever reads the pepper, a hash or a fingerprint. On SQLite (one
operator's file) partnerctl does the same steps itself, with the same result.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

# The one key row (fixed id: a second concurrent creator fails on the primary key).
KEY_ID = 1


@dataclass(frozen=True)
class KeyParams:
    """The public part of the store's credential key: what computing the argon2id part needs."""

    salt: bytes
    time_cost: int
    memory_cost: int
    parallelism: int


class PasswordUse(Enum):
    free = "free"
    current = "current"  # the administrator's own current password
    other = "other"  # another administrator's


def pepper_fingerprint(pepper: bytes, prehash: bytes) -> str:
    """HMAC-SHA256 of the argon2id value under the pepper, as hex (what pw_fingerprint holds)."""
    return hmac.new(pepper, prehash, hashlib.sha256).hexdigest()


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def load_key(conn: Connection) -> KeyParams | None:
    row = conn.execute(
        text("SELECT salt, time_cost, memory_cost, parallelism FROM tenant_credential_keys WHERE id = :id"),
        {"id": KEY_ID},
    ).first()
    return None if row is None else KeyParams(bytes(row[0]), row[1], row[2], row[3])


def create_key(conn: Connection, params: KeyParams) -> None:
    """Store the key row; the pepper is drawn here on SQLite and by the database on PostgreSQL
    (a column default, so an admin's connection writes the row without ever seeing the pepper)."""
    from partnerctl.store.models import TenantCredentialKey
    from partnerctl.store.types import utcnow

    values = {"id": KEY_ID, "salt": params.salt, "time_cost": params.time_cost, "memory_cost": params.memory_cost,
              "parallelism": params.parallelism, "created_at": utcnow()}  # fmt: skip
    if not _postgres(conn):
        values["pepper"] = secrets.token_bytes(32)
    conn.execute(insert(TenantCredentialKey.__table__).values(**values))


def _pepper(conn: Connection) -> bytes:
    row = conn.execute(text("SELECT pepper FROM tenant_credential_keys WHERE id = :id"), {"id": KEY_ID}).one()
    return bytes(row[0])


def stored_value(conn: Connection, prehash: bytes) -> str:
    """What to write to pw_fingerprint: the fingerprint (SQLite), or the argon2id value that the
    database's trigger turns into the fingerprint (PostgreSQL)."""
    if _postgres(conn):
        return prehash.hex()
    return pepper_fingerprint(_pepper(conn), prehash)


def password_use(conn: Connection, prehash: bytes, admin_id: int | None) -> PasswordUse:
    """Whether the password behind `prehash` is administrator `admin_id`'s current one, another
    administrator's, or free; only yes/no answers leave the database."""
    if _postgres(conn):
        if (
            admin_id is not None
            and conn.execute(
                text("SELECT partnerctl_password_is_current(:id, :pre)"), {"id": admin_id, "pre": prehash}
            ).scalar()
        ):
            return PasswordUse.current
        used = conn.execute(
            text("SELECT partnerctl_password_in_use(:pre, :id)"), {"id": admin_id, "pre": prehash}
        ).scalar()
        return PasswordUse.other if used else PasswordUse.free
    fingerprint = pepper_fingerprint(_pepper(conn), prehash)
    rows = conn.execute(
        text("SELECT id FROM tenant_admins WHERE pw_fingerprint = :fp"), {"fp": fingerprint}
    ).all()
    ids = {r[0] for r in rows}
    if admin_id is not None and admin_id in ids:
        return PasswordUse.current
    return PasswordUse.other if ids else PasswordUse.free
