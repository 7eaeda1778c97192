"""Subscriptions: a product with seats for a client, who pays, and when the next payment is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.access import get_client_for, require_admin, visible_clients_filter
from partnerctl.services.catalog import get_product
from partnerctl.services.money import anchor_day_for, first_due_on_or_after, monthly_value, rate_table
from partnerctl.services.outbox import queue_template
from partnerctl.services.partner import partner_name
from partnerctl.services.validation import normalize_email, parse_choice, require_text
from partnerctl.store.models import Client, Product, Subscription, User
from partnerctl.store.models.subscriptions import Payer, SubscriptionStatus
from partnerctl.store.types import utcnow

INVITE_TEMPLATE = "subscription_invite"


# -- values -------------------------------------------------------------------------------------


def parse_payer(raw: str | Payer) -> Payer:
    return parse_choice(Payer, raw, "payer")


def parse_status(raw: str | SubscriptionStatus) -> SubscriptionStatus:
    return parse_choice(SubscriptionStatus, raw, "status")


# -- snapshots and views ------------------------------------------------------------------------


def subscription_snapshot(sub: Subscription, product_key: str | None = None) -> dict:
    return {
        "id": sub.id,
        "client_id": sub.client_id,
        "product": product_key,
        "seats": sub.seats,
        "status": sub.status,
        "payer": sub.payer,
        "start_date": sub.start_date,
        "next_payment_date": sub.next_payment_date,
        "allow_client_edit": sub.allow_client_edit,
        "editor_email": sub.editor_email,
    }


@dataclass
class SubscriptionView:
    id: int
    client_ref: str
    client_name: str
    client_currency: str
    product: str
    product_name: str
    period: str
    seats: int
    status: str
    next_payment_date: date
    payer: str
    start_date: date
    unit_price: Decimal
    price_currency: str
    monthly_value: Decimal | None  # in `currency`; None when no rate converts it
    currency: str
    allow_client_edit: bool
    editor_name: str | None
    editor_email: str | None
    editor_invited_at: object
    cancelled_at: object
    suspended_at: object


def _view(sub: Subscription, client: Client, product: Product, rates: dict) -> SubscriptionView:
    value, currency = monthly_value(sub.seats, product, client.currency, rates)
    return SubscriptionView(
        id=sub.id,
        client_ref=client.ref,
        client_name=client.name,
        client_currency=client.currency,
        product=product.key,
        product_name=product.name,
        period=str(product.period),
        seats=sub.seats,
        status=str(sub.status),
        next_payment_date=sub.next_payment_date,
        payer=str(sub.payer),
        start_date=sub.start_date,
        unit_price=product.price_per_seat,
        price_currency=product.currency,
        monthly_value=value,
        currency=currency,
        allow_client_edit=sub.allow_client_edit,
        editor_name=sub.editor_name,
        editor_email=sub.editor_email,
        editor_invited_at=sub.editor_invited_at,
        cancelled_at=sub.cancelled_at,
        suspended_at=sub.suspended_at,
    )


# -- the client editor ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditorChange:
    """Who may edit the subscription's content from the client's side, after a change."""

    allow: bool
    name: str | None
    email: str | None
    invite: bool  # a new editor or a new address: (re-)send the invitation


def _validate_editor(contact_name: str | None, contact_email: str | None) -> tuple[str, str]:
    if not (contact_name or "").strip() or not (contact_email or "").strip():
        raise InvalidInput(
            "--allow-client-edit needs the client contact: pass --contact-name and --contact-email"
        )
    return require_text(contact_name, "contact name"), normalize_email(contact_email, field="contact e-mail")


def editor_change(
    current: Subscription | None, allow: bool | None, contact_name: str | None, contact_email: str | None
) -> EditorChange | None:
    """What `--allow-client-edit` (True), `--no-client-edit` (False) and the contact options make of
    the client editor of `current` (None: a new subscription); None when they change nothing.
    The contact options only go with client editing; a contact left out stays as it was."""
    if allow is False:
        if contact_name or contact_email:
            raise InvalidInput("--contact-name and --contact-email do not go with --no-client-edit")
        return EditorChange(False, None, None, invite=False)
    if not (allow or contact_name or contact_email):
        return None
    allowed_now = current is not None and current.allow_client_edit
    name = contact_name or (current.editor_name if allowed_now else None)
    email = contact_email or (current.editor_email if allowed_now else None)
    if not allow and not allowed_now:
        raise InvalidInput("--contact-name and --contact-email only apply with --allow-client-edit")
    name, email = _validate_editor(name, email)
    return EditorChange(True, name, email, invite=not allowed_now or email != current.editor_email)


# -- add ------------------------------------------------------------------------------------------


def add_subscription(
    session: Session,
    actor: User | str,
    *,
    client: Client,
    product: Product,
    seats: int = 1,
    payer: str | Payer = Payer.partner,
    start: date | None = None,
    next_payment: date | None = None,
    today: date | None = None,
    allow_client_edit: bool = False,
    contact_name: str | None = None,
    contact_email: str | None = None,
) -> Subscription:
    """Create a subscription (flushed, audited). The first payment is due on the start date by default.

    A next-payment date in the past is refused unless a start date says the subscription is backdated
    (then `billing run` catches up, one invoice per missed period).
    """
    if seats < 1:
        raise InvalidInput(f"seats must be at least 1, not {seats}")
    today = today or date.today()
    if next_payment is not None and start is None and next_payment < today:
        raise InvalidInput(
            f"next payment date {next_payment} is in the past; pass --start to backdate the subscription"
        )
    start = start or today
    next_payment = next_payment or start
    if next_payment < start:
        raise InvalidInput(f"next payment date {next_payment} is before the start date {start}")
    editor = editor_change(None, allow_client_edit or None, contact_name, contact_email)
    sub = Subscription(
        client_id=client.id,
        product_id=product.id,
        seats=seats,
        payer=parse_payer(payer),
        start_date=start,
        next_payment_date=next_payment,
        anchor_day=anchor_day_for(next_payment),
        allow_client_edit=allow_client_edit,
        editor_name=editor.name if editor else None,
        editor_email=editor.email if editor else None,
        created_by=actor if isinstance(actor, str) else actor.email,
    )
    session.add(sub)
    session.flush()
    if editor and editor.invite:
        _invite_editor(session, sub, client, product)
    audit.record(session, actor, "subscription.add", "subscription", str(sub.id),
                 after={**subscription_snapshot(sub, product.key), "client": client.ref})  # fmt: skip
    return sub


def _invite_editor(session: Session, sub: Subscription, client: Client, product: Product) -> None:
    """Queue the invitation in the client's language; it grants editing, never billing access."""
    queue_template(
        session,
        template=INVITE_TEMPLATE,
        language=client.language,
        to=sub.editor_email,
        dedupe_key=f"subscription-invite:{sub.id}:{sub.editor_email}",
        client_id=client.id,
        context={
            "contact_name": sub.editor_name,
            "contact_email": sub.editor_email,
            "client_name": client.name,
            "product_name": product.name,
            "partner_name": partner_name(session),
        },
    )
    sub.editor_invited_at = utcnow()
    session.add(sub)
    session.flush()


def create_subscription(
    session: Session,
    actor: User,
    *,
    client_ref: str,
    product_key: str,
    seats: int = 1,
    payer: str = "partner",
    start: date | None = None,
    next_payment: date | None = None,
    allow_client_edit: bool = False,
    contact_name: str | None = None,
    contact_email: str | None = None,
    today: date | None = None,
) -> Subscription:
    """`subscription add`: resolve client and product, then add (admins only)."""
    require_admin(actor, "subscription add")
    client = get_client_for(session, actor, client_ref)
    product = get_product(session, product_key)
    return add_subscription(
        session, actor, client=client, product=product, seats=seats, payer=payer, start=start,
        next_payment=next_payment, today=today, allow_client_edit=allow_client_edit,
        contact_name=contact_name, contact_email=contact_email,
    )  # fmt: skip


# -- read -----------------------------------------------------------------------------------------


def get_subscription(session: Session, actor: User, sub_id: int) -> Subscription:
    query = select(Subscription).join(Client, col(Client.id) == Subscription.client_id)
    query = query.where(Subscription.id == sub_id)
    query = query.where(visible_clients_filter(actor))
    sub = session.exec(query).first()
    if sub is None:
        raise NotFound(f"no subscription {sub_id}", hint="list them with `partnerctl subscription list`")
    return sub


def show_subscription(session: Session, actor: User, sub_id: int) -> SubscriptionView:
    sub = get_subscription(session, actor, sub_id)
    client = session.get(Client, sub.client_id)
    product = session.get(Product, sub.product_id)
    return _view(sub, client, product, rate_table(session))


SORTS = {
    "client": (Client.name_key, Subscription.id),
    "next-payment": (Subscription.next_payment_date, Subscription.id),
    "seats": (Subscription.seats, Subscription.id),
    "id": (Subscription.id,),
}


def list_subscriptions(
    session: Session,
    actor: User,
    *,
    client_ref: str | None = None,
    status: str | None = None,
    product_key: str | None = None,
    due_before: date | None = None,
    payer: str | None = None,
    search: str | None = None,
    sort: str = "client",
    descending: bool = False,
) -> list[SubscriptionView]:
    query = (
        select(Subscription, Client, Product)
        .join(Client, col(Client.id) == Subscription.client_id)
        .join(Product, col(Product.id) == Subscription.product_id)
    )
    query = query.where(visible_clients_filter(actor))
    if client_ref:
        query = query.where(Client.id == get_client_for(session, actor, client_ref).id)
    if status:
        query = query.where(Subscription.status == parse_status(status))
    if product_key:
        query = query.where(Product.id == get_product(session, product_key).id)
    if due_before:
        query = query.where(Subscription.next_payment_date < due_before)
    if payer:
        query = query.where(Subscription.payer == parse_payer(payer))
    if search and search.strip():
        query = query.where(col(Client.name_key).contains(search.strip().lower()))
    if sort not in SORTS:
        raise InvalidInput(f"unknown sort {sort!r}: use {', '.join(SORTS)}")
    order = [col(c).desc() if descending else col(c).asc() for c in SORTS[sort]]
    rates = rate_table(session)
    return [
        _view(sub, client, product, rates) for sub, client, product in session.exec(query.order_by(*order))
    ]


# -- change ---------------------------------------------------------------------------------------


def _mutable(sub: Subscription, what: str) -> None:
    if sub.status == SubscriptionStatus.cancelled:
        raise Conflict(f"subscription {sub.id} is cancelled; {what} is not possible")


def _audit_change(session, actor, action: str, sub: Subscription, before: dict) -> None:
    product = session.get(Product, sub.product_id)
    audit.record(session, actor, action, "subscription", str(sub.id), before=before,
                 after=subscription_snapshot(sub, product.key if product else None))  # fmt: skip


def edit_subscription(
    session: Session,
    actor: User,
    sub_id: int,
    *,
    seats: int | None = None,
    payer: str | None = None,
    next_payment: date | None = None,
    allow_client_edit: bool | None = None,
    contact_name: str | None = None,
    contact_email: str | None = None,
    today: date | None = None,
) -> Subscription:
    """Change seats, payer, next payment date or the client editor (admins only); a new editor or
    a new editor address is (re-)invited."""
    require_admin(actor, "subscription edit")
    sub = get_subscription(session, actor, sub_id)
    _mutable(sub, "editing it")
    changes = _plain_changes(seats, payer, next_payment, today or date.today())
    editor = editor_change(sub, allow_client_edit, contact_name, contact_email)
    if editor is not None:
        changes.update(allow_client_edit=editor.allow, editor_name=editor.name, editor_email=editor.email)
    if not changes:
        raise InvalidInput(
            "nothing to change: pass --seats, --payer, --next-payment, --allow-client-edit or --no-client-edit"
        )
    product = session.get(Product, sub.product_id)
    before = subscription_snapshot(sub, product.key)
    for name, value in changes.items():
        setattr(sub, name, value)
    sub.updated_at = utcnow()
    session.add(sub)
    session.flush()
    if editor is not None and editor.invite:
        _invite_editor(session, sub, session.get(Client, sub.client_id), product)
    _audit_change(session, actor, "subscription.edit", sub, before)
    return sub


def _plain_changes(seats: int | None, payer: str | None, next_payment: date | None, today: date) -> dict:
    """The validated new values of the options given (pure); a new next payment date moves the anchor."""
    changes: dict = {}
    if seats is not None:
        if seats < 1:
            raise InvalidInput(f"seats must be at least 1, not {seats}")
        changes["seats"] = seats
    if payer is not None:
        changes["payer"] = parse_payer(payer)
    if next_payment is not None:
        if next_payment < today:
            raise InvalidInput(f"next payment date {next_payment} is in the past")
        changes.update(next_payment_date=next_payment, anchor_day=anchor_day_for(next_payment))
    return changes


def suspend_subscription(session: Session, actor: User, sub_id: int) -> Subscription:
    require_admin(actor, "subscription suspend")
    sub = get_subscription(session, actor, sub_id)
    _mutable(sub, "suspending it")
    if sub.status == SubscriptionStatus.suspended:
        raise Conflict(f"subscription {sub.id} is already suspended")
    before = subscription_snapshot(sub)
    sub.status, sub.suspended_at, sub.updated_at = SubscriptionStatus.suspended, utcnow(), utcnow()
    session.add(sub)
    session.flush()
    _audit_change(session, actor, "subscription.suspend", sub, before)
    return sub


def resume_subscription(
    session: Session, actor: User, sub_id: int, *, today: date | None = None
) -> Subscription:
    """Resume billing. Periods that passed while suspended are not billed: the next payment date
    moves on (on its anchor day) to the first one from today."""
    require_admin(actor, "subscription resume")
    sub = get_subscription(session, actor, sub_id)
    _mutable(sub, "resuming it")
    if sub.status == SubscriptionStatus.active:
        raise Conflict(f"subscription {sub.id} is already active")
    today = today or date.today()
    product = session.get(Product, sub.product_id)
    before = subscription_snapshot(sub, product.key)
    sub.next_payment_date = first_due_on_or_after(
        sub.next_payment_date, product.period, sub.anchor_day, today
    )
    sub.status, sub.suspended_at, sub.updated_at = SubscriptionStatus.active, None, utcnow()
    session.add(sub)
    session.flush()
    _audit_change(session, actor, "subscription.resume", sub, before)
    return sub


def cancel_subscription(session: Session, actor: User, sub_id: int) -> Subscription:
    """Cancel for good: no further invoices; past invoices stay."""
    require_admin(actor, "subscription cancel")
    sub = get_subscription(session, actor, sub_id)
    _mutable(sub, "cancelling it again")
    before = subscription_snapshot(sub)
    sub.status, sub.cancelled_at, sub.updated_at = SubscriptionStatus.cancelled, utcnow(), utcnow()
    session.add(sub)
    session.flush()
    _audit_change(session, actor, "subscription.cancel", sub, before)
    return sub
