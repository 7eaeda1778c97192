"""Direct store access for tests: sessions, the admin, and rows made without the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlmodel import select

ADMIN = "anna@acme.example"


def open_engine(store_url: str) -> Iterator:
    """An engine on the test store with a partner space and its admin (the `engine` fixture)."""
    from partnerctl.services.setup import init_partner_space
    from partnerctl.store.engine import make_engine, normalize_url
    from partnerctl.store.models import Partner

    eng = make_engine(normalize_url(store_url))
    with scope(eng) as s:
        if s.exec(select(Partner)).first() is None:
            init_partner_space(s, partner="Acme Partners", admin_email=ADMIN, admin_name="Anna")
    yield eng
    eng.dispose()


def scope(engine, readonly: bool = False):
    from partnerctl.store.engine import session_scope

    return session_scope(engine, readonly=readonly)


@contextmanager
def store_session(url: str) -> Iterator:
    """One committed session on the store at `url`, with its own engine."""
    from partnerctl.store.engine import make_engine, normalize_url, session_scope

    engine = make_engine(normalize_url(url))
    try:
        with session_scope(engine) as s:
            yield s
    finally:
        engine.dispose()


def admin(s):
    from partnerctl.store.models import User

    return s.exec(select(User).where(User.email == ADMIN)).one()


def add_user(s, email: str, *, role="bookkeeper", language="en", active=True, name=""):
    from partnerctl.store.models import User

    user = User(email=email, name=name, role=role, language=language, active=active)
    s.add(user)
    s.flush()
    return user


def add_client(
    s, ref: str, *, name=None, currency="EUR", language="en", groups=(), status="active",
    missing=0, balance="100", ready=0,
):  # fmt: skip
    """A client row written directly (no template, no audit), for service tests."""
    from partnerctl.store.models import Client, ClientGroup

    name = name or f"Client {ref}"
    client = Client(
        ref=ref, ref_key=ref.lower(), name=name, name_key=name.lower(), status=status, currency=currency,
        language=language, missing_receipts=missing, wallet_balance=Decimal(balance), expenses_ready=ready,
    )  # fmt: skip
    s.add(client)
    s.flush()
    for g in groups:
        s.add(ClientGroup(client_id=client.id, group_name=g))
    s.flush()
    return client


def assign(s, client, *users) -> None:
    from partnerctl.store.models import ClientAssignment

    for user in users:
        s.add(ClientAssignment(client_id=client.id, user_id=user.id))
    s.flush()


def add_product(s, key: str, price: str, currency="EUR", period="monthly"):
    from partnerctl.services.catalog import create_product

    return create_product(s, admin(s), key=key, name=key.title(), price_per_seat=price, currency=currency,
                          period=period)  # fmt: skip


def add_bookkeeper(s, email: str, *clients):
    from partnerctl.services.users import create_user

    user, _ = create_user(s, admin(s), email=email, role="bookkeeper")
    for c in clients:
        assign(s, c, user)
    return user


def outbox_rows(url: str, kind: str | None = None) -> list[dict]:
    """Every outbox row (of one kind), in queue order, read with plain SQL."""
    import sqlalchemy as sa

    from partnerctl.store.engine import make_engine, normalize_url

    engine = make_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            query = "SELECT * FROM outbox" + (" WHERE kind = :kind" if kind else "") + " ORDER BY id"
            return [dict(r) for r in conn.execute(sa.text(query), {"kind": kind}).mappings()]
    finally:
        engine.dispose()


PARTNER_VAT = "NL004495445B01"


def set_invoicing(s, *, country="NL", vat_number=PARTNER_VAT, rate="21", **identity):
    """The partner's invoicing identity and domestic VAT rate, which every billing run needs."""
    from partnerctl.services.billing import set_vat_rate
    from partnerctl.services.partner import set_partner_identity

    set_partner_identity(s, admin(s), country=country, vat_number=vat_number, **identity)
    if rate is not None:
        set_vat_rate(s, admin(s), rate)
