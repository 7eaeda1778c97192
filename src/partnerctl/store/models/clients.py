"""Clients of the partner space, their groups, assigned partner users and connected integrations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from partnerctl.store.types import Money, UTCDateTime, utcnow


class ClientStatus(StrEnum):
    invited = "invited"  # the client invited the partner as external bookkeeper (Invites tab)
    onboarding = "onboarding"  # created/accepted by the partner, still in verification
    active = "active"
    archived = "archived"


class IntegrationState(StrEnum):
    pending = "pending"
    connected = "connected"


# The fixed, documented set of client-portal modules a client may be allowed to use.
PORTAL_MODULES = ("invoices", "estimates", "support", "projects", "contracts", "files", "expenses", "reports")


class Client(SQLModel, table=True):
    __tablename__ = "clients"
    __table_args__ = (
        sa.UniqueConstraint("ref", name="uq_clients_ref"),
        # References are unique case-insensitively: ref_key is the lowercased ref.
        sa.UniqueConstraint("ref_key", name="uq_clients_ref_key"),
        # Tab counts (status per client) read from this index alone.
        sa.Index("ix_clients_status", "status"),
        # Status of the clients a join/IN gives by id (assigned, in a group), without their wide rows.
        sa.Index("ix_clients_id_status", "id", "status"),
        # `client list` reads its page ids (and counts) from these indexes alone: each holds the
        # sort key, then id (the tie-break, so the index order IS the list order and a deep
        # --offset skips index entries), then status (archived are hidden by default).
        sa.Index("ix_clients_missing_receipts", "missing_receipts", "id", "status"),
        sa.Index("ix_clients_created_at", "created_at", "id", "status"),
        # By name, and a search (name or ref contains TEXT) scans this index, not the wide rows.
        sa.Index("ix_clients_name_key_status", "name_key", "id", "status", "ref_key"),
        sa.Index("ix_clients_template_id", "template_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=64)
    ref_key: str = Field(max_length=64)
    name: str = Field(max_length=200)
    # Lowercased name: case-insensitive search and sort that use an index on every backend.
    name_key: str = Field(max_length=200)
    status: ClientStatus = Field(default=ClientStatus.onboarding, sa_type=sa.String(12))
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=320)
    billing_street: str | None = Field(default=None, max_length=200)
    billing_city: str | None = Field(default=None, max_length=100)
    billing_zip: str | None = Field(default=None, max_length=20)
    billing_country: str | None = Field(default=None, max_length=2)
    # Shipping falls back to billing when these are empty.
    shipping_street: str | None = Field(default=None, max_length=200)
    shipping_city: str | None = Field(default=None, max_length=100)
    shipping_zip: str | None = Field(default=None, max_length=20)
    shipping_country: str | None = Field(default=None, max_length=2)
    # An EU VAT number (validated with python-stdnum): a business client, reverse charge across borders.
    vat_number: str | None = Field(default=None, max_length=20)
    currency: str = Field(default="EUR", max_length=3)
    language: str = Field(default="en", max_length=8)
    permissions: list = Field(default_factory=list, sa_type=sa.JSON)
    # Outstanding-task figures, as the portal shows them.
    missing_receipts: int = Field(default=0)
    wallet_balance: Decimal = Field(default=Decimal(0), sa_type=Money)
    expenses_ready: int = Field(default=0)
    # Template origin: which template and version created this client, and what it applied.
    template_id: int | None = Field(default=None, foreign_key="templates.id", ondelete="SET NULL")
    template_version: int | None = Field(default=None)
    template_applied: dict | None = Field(default=None, sa_type=sa.JSON)
    created_by: str | None = Field(default=None, max_length=320)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ClientGroup(SQLModel, table=True):
    __tablename__ = "client_groups"
    # Group filter: the client ids of a group from the index alone.
    __table_args__ = (sa.Index("ix_client_groups_group", "group_name", "client_id"),)
    client_id: int = Field(foreign_key="clients.id", primary_key=True, ondelete="CASCADE")
    group_name: str = Field(max_length=100, primary_key=True)


class ClientAssignment(SQLModel, table=True):
    """Partner users assigned to a client (bookkeepers see only these clients)."""

    __tablename__ = "client_assignments"
    # A bookkeeper's clients (my clients, visibility): their client ids from the index alone.
    __table_args__ = (sa.Index("ix_client_assignments_user", "user_id", "client_id"),)
    client_id: int = Field(foreign_key="clients.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", primary_key=True, ondelete="CASCADE")


class ClientIntegration(SQLModel, table=True):
    __tablename__ = "client_integrations"
    client_id: int = Field(foreign_key="clients.id", primary_key=True, ondelete="CASCADE")
    integration_id: int = Field(foreign_key="integrations.id", primary_key=True, ondelete="CASCADE")
    state: IntegrationState = Field(default=IntegrationState.pending, sa_type=sa.String(10))
