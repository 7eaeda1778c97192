"""Tenants (a hierarchy under the partner's master tenant), their administrators and content items."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from partnerctl.store.types import UTCDateTime, utcnow


class TenantType(StrEnum):
    standard = "standard"  # fully featured, always UTF-8
    custom = "custom"  # starts empty; needs setup before it can send


class Edition(StrEnum):
    basic = "basic"
    professional = "professional"
    enterprise = "enterprise"


def _now_field():
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Tenant(SQLModel, table=True):
    __tablename__ = "tenants"
    __table_args__ = (
        sa.UniqueConstraint("name_key", name="uq_tenants_name_key"),
        sa.Index("ix_tenants_parent_id", "parent_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # NULL only for the master tenant (the partner's own), the single root of the tree.
    parent_id: int | None = Field(default=None, foreign_key="tenants.id")
    is_master: bool = Field(default=False)
    name: str = Field(max_length=100)
    # Case-folded, whitespace-collapsed name: uniqueness that ignores case on every backend.
    name_key: str = Field(max_length=100)
    type: TenantType = Field(default=TenantType.standard, sa_type=sa.String(10))
    edition: Edition = Field(default=Edition.basic, sa_type=sa.String(20))
    charset: str = Field(default="UTF-8", max_length=20)
    logo: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    logo_mime: str | None = Field(default=None, max_length=20)
    logo_size: int | None = Field(default=None)
    logo_width: int | None = Field(default=None)
    logo_height: int | None = Field(default=None)
    needs_setup: bool = Field(default=False)
    handed_over: bool = Field(default=False)
    handed_over_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handed_over_by: str | None = Field(default=None, max_length=320)
    client_id: int | None = Field(default=None, foreign_key="clients.id", ondelete="SET NULL")
    created_by: str | None = Field(default=None, max_length=320)
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()


class TenantAdmin(SQLModel, table=True):
    """An administrator of one tenant (the customer's responsible user), not a partner user."""

    __tablename__ = "tenant_admins"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "email", name="uq_tenant_admins_email"),
        sa.UniqueConstraint("tenant_id", "username_key", name="uq_tenant_admins_username"),
        # Unique: two administrators never share a password, even when added at the same moment.
        sa.UniqueConstraint("pw_fingerprint", name="uq_tenant_admins_pw_fingerprint"),
    )
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", ondelete="CASCADE")
    email: str = Field(max_length=320)
    username: str = Field(max_length=320)
    username_key: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    # argon2id (salted, PHC string): what a login would verify against.
    password_hash: str = Field(max_length=255)
    # HMAC(pepper, argon2id(password, the store's fixed salt)): equal passwords give equal
    # fingerprints, so reuse across administrators is found without keeping anything reversible.
    pw_fingerprint: str = Field(max_length=64)
    password_changed_at: datetime = _now_field()
    created_at: datetime = _now_field()


class TenantContent(SQLModel, table=True):
    """A named content item of a tenant (e.g. a mail template or a sender profile) that can be copied down."""

    __tablename__ = "tenant_contents"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "name_key", name="uq_tenant_contents_name"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenants.id", ondelete="CASCADE")
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    data: bytes = Field(sa_type=sa.LargeBinary)
    size: int = Field(default=0)
    sha256: str = Field(max_length=64)
    copied_from: str | None = Field(default=None, max_length=100)
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()


class TenantCredentialKey(SQLModel, table=True):
    """The per-store salt, pepper and fixed cost parameters of administrator password fingerprints.

    fingerprint = HMAC-SHA256(pepper, argon2id(password, salt)). The salt and cost parameters are
    public (admins read them to compute the argon2id part); the pepper is readable by the store
    owner only: on PostgreSQL the database applies it (a trigger), on SQLite partnerctl does.
    """

    __tablename__ = "tenant_credential_keys"
    id: int | None = Field(default=None, primary_key=True)
    salt: bytes = Field(sa_type=sa.LargeBinary)
    pepper: bytes = Field(sa_type=sa.LargeBinary)
    time_cost: int
    memory_cost: int
    parallelism: int
    created_at: datetime = _now_field()
