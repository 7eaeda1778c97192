"""Who may see and do what: the admin check and the one client-visibility rule every area goes through.

Bookkeepers see only the clients assigned to them; admins see every client. A client a bookkeeper may
not see does not exist for them (NotFound, never Forbidden), so a reference is never confirmed.
What hangs off a client (its tenants, their administrators and content) follows the client; of the
assignments a bookkeeper sees their own. On PostgreSQL the database enforces the same rules
(store/policies.py); these filters make a SQLite store, and every query, say the same.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from partnerctl.errors import InvalidInput, NotFound
from partnerctl.services.acting import is_admin, require_admin
from partnerctl.store.models import Client, ClientAssignment, Tenant, User

__all__ = [
    "assigned_client_ids",
    "assigned_to",
    "get_client_for",
    "is_admin",
    "require_admin",
    "visible_assignments_filter",
    "visible_clients_filter",
    "visible_tenants_filter",
]


def assigned_client_ids(user: User) -> Any:
    """The SELECT of the ids of the clients assigned to `user` (for `Client.id IN (...)`)."""
    return select(ClientAssignment.client_id).where(ClientAssignment.user_id == user.id)


def assigned_to(user: User) -> Any:
    """A WHERE clause on `Client`: the clients assigned to `user` (the "My clients" tab)."""
    return col(Client.id).in_(assigned_client_ids(user))


def visible_clients_filter(actor: User) -> Any:
    """A WHERE clause on `Client`: admins see every client, bookkeepers only those assigned to them."""
    if is_admin(actor):
        return sa.true()
    return assigned_to(actor)


def visible_assignments_filter(actor: User) -> Any:
    """A WHERE clause on `ClientAssignment`: admins see every assignment, bookkeepers their own."""
    if is_admin(actor):
        return sa.true()
    return ClientAssignment.user_id == actor.id


def visible_tenants_filter(actor: User, tenants: Any = None) -> Any:
    """A WHERE clause on `Tenant` (or an alias of its table): admins see every tenant, bookkeepers
    the tenants of the clients assigned to them (not the master tenant, not client-less ones)."""
    if is_admin(actor):
        return sa.true()
    column = Tenant.client_id if tenants is None else tenants.c.client_id
    return column.in_(assigned_client_ids(actor))


def get_client_for(session: Session, actor: User, ref: str) -> Client:
    """The client `ref` as `actor` may see it; NotFound when it does not exist OR is not visible."""
    key = (ref or "").strip().lower()
    if not key:
        raise InvalidInput("no client given: pass REF or pick one with `partnerctl client use REF`")
    client = session.exec(select(Client).where(Client.ref_key == key, visible_clients_filter(actor))).first()
    if client is None:
        raise NotFound(f"no client {ref.strip()!r}", hint="list them with `partnerctl client list`")
    return client
