"""Tenant rules and look-ups shared by the tenant modules: names, types, charsets, status, snapshots."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services.access import visible_tenants_filter
from partnerctl.services.validation import parse_choice
from partnerctl.store.models import Client, User
from partnerctl.store.models.tenants import Edition, Tenant, TenantAdmin, TenantType

NAME_MAX = 100


CONTENT_NAME_MAX = 200


ADVISED_MAX_ADMINS = 3


_CHUNK = 500


# Only a guard that ends the recursive query even on corrupt data; moves never make a cycle.
MAX_TREE_DEPTH = 100_000


# Character sets a CUSTOM tenant may use, by Python codec name -> the name we store and show.
CHARSETS = {
    "utf-8": "UTF-8",
    "iso8859-1": "ISO-8859-1",
    "iso8859-15": "ISO-8859-15",
    "iso8859-2": "ISO-8859-2",
    "cp1252": "WINDOWS-1252",
    "cp1250": "WINDOWS-1250",
    "koi8-r": "KOI8-R",
    "shift_jis": "SHIFT_JIS",
}


@dataclass
class TenantInfo:
    name: str
    parent: str | None
    type: str
    edition: str
    charset: str
    admins: int
    status: str
    master: bool
    needs_setup: bool
    handed_over: bool
    handed_over_at: datetime | None
    client: str | None
    logo: str | None  # "image/png 120x40, 3274 bytes" or None
    shows: str  # what the tenant shows top left: its logo, or its name
    created_at: datetime


def clean_name(raw: str, what: str = "tenant name", max_length: int = NAME_MAX) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise InvalidInput(f"{what} is empty")
    if len(name) > max_length:
        raise InvalidInput(f"{what} is longer than {max_length} characters")
    if any(not ch.isprintable() for ch in name):
        raise InvalidInput(f"{what} contains control characters")
    return name


def name_key(name: str) -> str:
    # casefold rather than lower: "Straße" and "STRASSE" are the same name.
    return " ".join(name.split()).casefold()


def parse_type(raw: str | TenantType) -> TenantType:
    return parse_choice(TenantType, raw, "tenant type")


def parse_edition(raw: str | Edition) -> Edition:
    return parse_choice(Edition, raw, "edition")


def normalize_charset(raw: str) -> str:
    try:
        codec = codecs.lookup(raw.strip()).name
    except (LookupError, AttributeError):
        codec = None
    if codec not in CHARSETS:
        raise InvalidInput(
            f"unknown or unsupported character set {raw!r}: use one of {', '.join(CHARSETS.values())}"
        )
    return CHARSETS[codec]


def check_charset(tenant_type: TenantType, charset: str | None) -> str:
    if charset is None:
        return "UTF-8"
    value = normalize_charset(charset)
    if tenant_type == TenantType.standard and value != "UTF-8":
        raise InvalidInput(
            f"STANDARD tenants are always UTF-8 (it avoids character-set problems later), not {value}; "
            "use --type custom for another character set"
        )
    return value


def tenant_status(*, is_master: bool, handed_over: bool, needs_setup: bool, admins: int) -> str:
    if is_master:
        return "master"
    if handed_over:
        return "handed over"
    if needs_setup:
        return "needs setup"
    if admins == 0:
        return "no admin"
    return "ready"


def too_many_admins(count: int) -> bool:
    """The seed's advice: keep the administrator role to as few users as possible."""
    return count > ADVISED_MAX_ADMINS


def flush_or_conflict(session: Session, message: str) -> None:
    """Flush; a unique key or foreign key that another process just took becomes a Conflict."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message) from None


def find_tenant(session: Session, name: str) -> Tenant | None:
    return session.exec(select(Tenant).where(Tenant.name_key == name_key(name or ""))).first()


def get_tenant(session: Session, name: str, viewer: User | None = None) -> Tenant:
    """The tenant `name` (as `viewer` may see it: a bookkeeper's other tenants do not exist for them)."""
    query = select(Tenant).where(Tenant.name_key == name_key(name or ""))
    if viewer is not None:
        query = query.where(visible_tenants_filter(viewer))
    tenant = session.exec(query).first()
    if tenant is None:
        raise NotFound(f"no tenant {name.strip()!r}", hint="list them with `partnerctl tenant list`")
    return tenant


def get_master(session: Session) -> Tenant | None:
    return session.exec(select(Tenant).where(Tenant.is_master == True)).first()  # noqa: E712


def lock_tree(session: Session) -> None:
    """Serialise changes to the tree's shape (add, move, remove) on the master row.

    PostgreSQL runs READ COMMITTED: without this, two concurrent moves could each pass the cycle
    check and together make a cycle. SQLite writers already queue on BEGIN IMMEDIATE.
    """
    session.exec(select(Tenant.id).where(Tenant.is_master == True).with_for_update()).first()  # noqa: E712


def tenant_snapshot(t: Tenant) -> dict:
    return {
        "name": t.name,
        "parent_id": t.parent_id,
        "master": t.is_master,
        "type": t.type,
        "edition": t.edition,
        "charset": t.charset,
        "logo": t.logo_mime,
        "needs_setup": t.needs_setup,
        "handed_over": t.handed_over,
        "client_id": t.client_id,
    }


def client_id_of(session: Session, ref: str) -> int:
    client = session.exec(select(Client).where(Client.ref == ref.strip())).first()
    if client is None:
        raise NotFound(
            f"no client with reference {ref.strip()!r}", hint="list them with `partnerctl client list`"
        )
    return client.id


def admins_query():
    """SELECT administrators without their password hash and fingerprint: on PostgreSQL only the
    store owner may read those, and nothing here needs them (touching one raises)."""
    from sqlalchemy.orm import defer

    return select(TenantAdmin).options(
        defer(TenantAdmin.password_hash, raiseload=True), defer(TenantAdmin.pw_fingerprint, raiseload=True)
    )


def admin_count(session: Session, tenant_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(TenantAdmin).where(TenantAdmin.tenant_id == tenant_id)
    ).one()


def tenant_info(t: Tenant, parent_name: str | None, admins: int, client_ref: str | None) -> TenantInfo:
    logo = None
    if t.logo_mime:
        logo = f"{t.logo_mime} {t.logo_width}x{t.logo_height}, {t.logo_size} bytes"
    return TenantInfo(
        name=t.name,
        parent=parent_name,
        type=str(t.type),
        edition=str(t.edition),
        charset=t.charset,
        admins=admins,
        status=tenant_status(
            is_master=t.is_master, handed_over=t.handed_over, needs_setup=t.needs_setup, admins=admins
        ),
        master=t.is_master,
        needs_setup=t.needs_setup,
        handed_over=t.handed_over,
        handed_over_at=t.handed_over_at,
        client=client_ref,
        logo=logo,
        shows="logo" if t.logo_mime else f"name {t.name!r}",
        created_at=t.created_at,
    )


def in_chunks(items: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
