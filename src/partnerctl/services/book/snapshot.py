"""The store as the book sees it: each table read in one query (never one per client), in canonical
form, with a fingerprint of everything read."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from partnerctl.services.access import assigned_client_ids, is_admin
from partnerctl.services.book.model import (
    CLIENT_COLUMNS,
    Obj,
    client_from_store,
    integration_from_store,
    product_from_store,
    slots,
    template_from_store,
    user_from_store,
)
from partnerctl.services.catalog import list_integrations, list_products
from partnerctl.services.money import Rates, rate_table
from partnerctl.services.templates import list_templates
from partnerctl.services.users import list_users
from partnerctl.store.models import (
    Client,
    ClientAssignment,
    ClientGroup,
    ClientIntegration,
    ConfigTemplate,
    ExchangeRate,
    Integration,
    Product,
    Subscription,
    User,
)
from partnerctl.store.models.subscriptions import SubscriptionStatus

# Every table a plan reads: `book apply` locks them all while it checks the fingerprint and applies.
BOOK_TABLES = tuple(
    m.__tablename__
    for m in (Client, ClientGroup, ClientAssignment, ClientIntegration, Subscription, Product,
              Integration, User, ConfigTemplate, ExchangeRate)
)  # fmt: skip
_CLIENT_COLUMNS = (Client.id, *(getattr(Client, column) for column in CLIENT_COLUMNS))


def scope_of(actor: User) -> str:
    """Whose clients a plan sees: every client, or those assigned to one bookkeeper."""
    return "all clients" if is_admin(actor) else f"the clients assigned to {actor.email}"


def begin_snapshot(session: Session) -> None:
    """On PostgreSQL, read everything that follows from one snapshot (the first statement of the
    transaction), so a plan never mixes the states before and after someone else's commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def lock_book(session: Session) -> None:
    """Keep every table the book reads from changing until this transaction ends (readers still
    read). SQLite's write transaction (BEGIN IMMEDIATE) already keeps other writers out."""
    if session.get_bind().dialect.name == "postgresql":
        session.exec(sa.text(f"LOCK TABLE {', '.join(BOOK_TABLES)} IN SHARE ROW EXCLUSIVE MODE"))


@dataclass
class StoreBook:
    """The catalogue, users and templates in canonical form, and the clients as a stream (ordered
    by reference); the fingerprint covers all of them once the clients have been read."""

    session: Session
    actor: User
    users: dict[str, Obj]
    products: dict[str, Obj]
    product_rows: dict[str, Product]
    integrations: dict[str, Obj]
    templates: dict[str, Obj]  # by lower-cased name
    rates: Rates
    _digest: Any = field(default_factory=hashlib.sha256, repr=False)
    _clients_read: bool = False

    def _feed(self, kind: str, obj: Obj) -> None:
        # repr of plain values built in a fixed order is as deterministic as sorted JSON, and cheaper.
        self._digest.update(repr((kind, obj.key, obj.fields, obj.subscriptions)).encode() + b"\n")

    def clients(self) -> Iterator[Obj]:
        for obj in store_clients(self.session, self.actor):
            self._feed("client", obj)
            yield obj
        self._clients_read = True

    def fingerprint(self) -> str:
        if not self._clients_read:
            for _ in self.clients():
                pass
        return self._digest.hexdigest()


def read_store(session: Session, actor: User) -> StoreBook:
    products = list_products(session)
    book = StoreBook(
        session=session,
        actor=actor,
        users={u.email: user_from_store(u) for u in list_users(session)},
        products={p.key: product_from_store(p) for p in products},
        product_rows={p.key: p for p in products},
        integrations={i.key: integration_from_store(i) for i in list_integrations(session)},
        templates={t.name_key: template_from_store(t) for t in list_templates(session)},
        rates=rate_table(session),
    )
    for kind, objs in (("user", book.users), ("product", book.products),
                       ("integration", book.integrations), ("template", book.templates)):  # fmt: skip
        for key in sorted(objs):
            book._feed(kind, objs[key])
    for (base, quote), rate in sorted(book.rates.items()):
        book._feed("rate", Obj(f"{base}/{quote}", {"rate": str(rate)}))
    return book


def store_clients(session: Session, actor: User, *, ids: list[int] | None = None) -> Iterator[Obj]:
    """The clients `actor` may see (or those with `ids`), in canonical form, ordered by reference
    as Python orders the lower-cased references (byte order: COLLATE "C" on PostgreSQL)."""

    def restrict(query, client_id):
        if ids is not None:
            return query.where(col(client_id).in_(ids))
        return query if is_admin(actor) else query.where(col(client_id).in_(assigned_client_ids(actor)))

    groups, users, integrations, subs = _children(session, restrict)
    order = Client.ref_key
    if session.get_bind().dialect.name == "postgresql":
        order = col(Client.ref_key).collate("C")
    query = restrict(select(*_CLIENT_COLUMNS), Client.id).order_by(order)
    for cid, *row in session.exec(query.execution_options(yield_per=2000)):
        yield client_from_store(row, groups[cid], users[cid], integrations[cid], subs[cid])


def _children(session: Session, restrict) -> tuple[dict, dict, dict, dict]:
    """Groups, assigned users, integrations and live subscriptions of the clients, by client id."""
    groups: dict[int, list] = defaultdict(list)
    users: dict[int, list] = defaultdict(list)
    integrations: dict[int, list] = defaultdict(list)
    subs: dict[int, list] = defaultdict(list)
    for cid, name in session.exec(restrict(select(ClientGroup.client_id, ClientGroup.group_name),
                                           ClientGroup.client_id)):  # fmt: skip
        groups[cid].append(name)
    query = select(ClientAssignment.client_id, User.email).join(
        User, col(User.id) == ClientAssignment.user_id
    )
    for cid, email in session.exec(restrict(query, ClientAssignment.client_id)):
        users[cid].append(email)
    query = select(ClientIntegration.client_id, Integration.key, ClientIntegration.state).join(
        Integration, col(Integration.id) == ClientIntegration.integration_id
    )
    for cid, key, state in session.exec(restrict(query, ClientIntegration.client_id)):
        integrations[cid].append((key, state))
    query = (
        select(
            Subscription.client_id, Product.key, Subscription.seats, Subscription.payer, Subscription.status
        )
        .join(Product, col(Product.id) == Subscription.product_id)
        .where(Subscription.status != SubscriptionStatus.cancelled)
        .order_by(Subscription.id)
    )
    for cid, key, seats, payer, status in session.exec(restrict(query, Subscription.client_id)):
        subs[cid].append({"product": key, "seats": seats, "payer": str(payer), "status": str(status)})
    return groups, users, integrations, subs


def live_subscription_ids(session: Session, client_id: int) -> dict[str, int]:
    """The ids of a client's live subscriptions by slot (product key, key#2, ...)."""
    rows = session.exec(
        select(Subscription.id, Product.key)
        .join(Product, col(Product.id) == Subscription.product_id)
        .where(Subscription.client_id == client_id, Subscription.status != SubscriptionStatus.cancelled)
        .order_by(Subscription.id)
    )
    return {slot: entry["id"] for slot, entry in slots({"product": k, "id": i} for i, k in rows).items()}
