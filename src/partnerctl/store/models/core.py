"""Core tables: the partner space, its users, the product and integration catalogues, the audit log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from partnerctl.store.types import Money, UTCDateTime, utcnow


class Role(StrEnum):
    admin = "admin"
    bookkeeper = "bookkeeper"


class Period(StrEnum):
    monthly = "monthly"
    yearly = "yearly"


class IntegrationKind(StrEnum):
    accounting = "accounting"
    identity = "identity"
    other = "other"


def created_at_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Partner(SQLModel, table=True):
    """The partner space this store belongs to (one row)."""

    __tablename__ = "partner"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = created_at_field()
    # The invoicing identity (`partner set`): what every invoice names as its seller, copied onto
    # each invoice when it is issued so a later change never alters an issued one.
    legal_name: str | None = Field(default=None, max_length=200)
    street: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    zip: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    vat_number: str | None = Field(default=None, max_length=20)
    iban: str | None = Field(default=None, max_length=34)
    bic: str | None = Field(default=None, max_length=11)
    payment_terms_days: int = Field(default=30, sa_column_kwargs={"server_default": "30"})
    footer: str | None = Field(default=None, max_length=500)


class UserBase(SQLModel):
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    role: Role = Field(default=Role.bookkeeper, sa_type=sa.String(20))
    language: str = Field(default="en", max_length=8)


class User(UserBase, table=True):
    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("email", name="uq_users_email"),
        # One partner user per PostgreSQL login role: the role is who the database says is acting.
        sa.UniqueConstraint("db_role", name="uq_users_db_role"),
    )
    id: int | None = Field(default=None, primary_key=True)
    active: bool = Field(default=True)
    # The PostgreSQL role this user logs in as (NULL: not linked; always NULL on SQLite).
    db_role: str | None = Field(default=None, max_length=63)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


class UserCreate(UserBase):
    pass


class UserUpdate(SQLModel):
    name: str | None = None
    role: Role | None = None
    language: str | None = None


class UserPublic(UserBase):
    id: int
    active: bool
    db_role: str | None
    created_at: datetime


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (sa.UniqueConstraint("key", name="uq_products_key"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    name: str = Field(max_length=200)
    price_per_seat: Decimal = Field(sa_type=Money)
    currency: str = Field(max_length=3)
    period: Period = Field(default=Period.monthly, sa_type=sa.String(10))
    created_at: datetime = created_at_field()


class Integration(SQLModel, table=True):
    __tablename__ = "integrations"
    __table_args__ = (sa.UniqueConstraint("key", name="uq_integrations_key"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    name: str = Field(max_length=200)
    kind: IntegrationKind = Field(default=IntegrationKind.other, sa_type=sa.String(20))
    created_at: datetime = created_at_field()


class AuditEvent(SQLModel, table=True):
    """One row per mutation, written in the mutation's own transaction."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_at", "at"),
        sa.Index("ix_audit_events_action", "action"),
        sa.Index("ix_audit_events_actor", "actor"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # The partner user who acted (on PostgreSQL: the one linked to the connection's role).
    actor: str = Field(max_length=320)
    # The user an admin acted for with --as (impersonation, as kubectl's --as); NULL otherwise.
    on_behalf_of: str | None = Field(default=None, max_length=320)
    # The PostgreSQL role that wrote the event, set by a trigger from session_user (NULL on SQLite).
    db_role: str | None = Field(default=None, max_length=63)
    action: str = Field(max_length=64)
    entity: str = Field(max_length=64)
    key: str = Field(max_length=320)
    before: dict | None = Field(default=None, sa_type=sa.JSON)
    after: dict | None = Field(default=None, sa_type=sa.JSON)
