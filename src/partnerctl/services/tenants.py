"""Tenants: the hierarchy under the master tenant, administrators' credentials, hand-over, content copy.

Design decisions (also in the README):
- The master tenant (the partner's own, named after the partner) is created by `init` and, for
  stores initialised before tenants existed, lazily by the first `tenant add`.
- The whole tree (or a subtree) is read with ONE recursive CTE, joined with the admin counts.
- Administrator passwords: an argon2id hash (salted, for verifying a login) plus a fingerprint,
  argon2id of the password with the store's fixed pepper as salt. Equal passwords give equal
  fingerprints, so reuse across administrators is found (and a unique index enforces it) without
  keeping anything reversible. Trade-off: someone with a copy of the store (pepper included) can
  test one guess against every administrator at once instead of one at a time; each guess still
  costs a full argon2id computation, unlike a fast keyed hash (HMAC) would.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import secrets
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import literal
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, delete, func, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.users import require_admin
from partnerctl.services.validation import normalize_email
from partnerctl.store.models import Client, Partner, User
from partnerctl.store.models.tenants import (
    Edition,
    Tenant,
    TenantAdmin,
    TenantContent,
    TenantCredentialKey,
    TenantType,
)
from partnerctl.store.types import utcnow

NAME_MAX = 100
CONTENT_NAME_MAX = 200
# A small logo shown top left in the tenant: bounded in bytes and in pixels (checked by decoding it).
LOGO_MAX_BYTES = 256 * 1024
LOGO_MAX_WIDTH = 600
LOGO_MAX_HEIGHT = 300
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
CONTENT_MAX_BYTES = 5 * 1024 * 1024
ADVISED_MAX_ADMINS = 3
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
PASSWORD_MIN_SCORE = 3
# zxcvbn refuses longer input; a password longer than this is judged on its first 72 characters.
_ZXCVBN_MAX = 72
GENERATED_PASSWORD_LENGTH = 20
_CHUNK = 500
# Only a guard that ends the recursive query even on corrupt data; moves never make a cycle.
_MAX_TREE_DEPTH = 100_000

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


# -- plain results -------------------------------------------------------------------------------


@dataclass
class TenantNode:
    id: int
    parent_id: int | None
    name: str
    type: str
    edition: str
    depth: int
    admins: int
    status: str
    children: list[int] = field(default_factory=list)


@dataclass
class TenantTree:
    root_ids: list[int]
    nodes: dict[int, TenantNode]

    def __len__(self) -> int:
        return len(self.nodes)


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


@dataclass
class CheckItem:
    item: str
    ok: bool
    detail: str = ""
    required: bool = True


@dataclass
class HandoverResult:
    tenant: str
    checks: list[CheckItem]
    handed_over: bool
    already: bool = False
    admins: int = 0

    @property
    def missing(self) -> list[CheckItem]:
        return [c for c in self.checks if c.required and not c.ok]


@dataclass
class CopyLine:
    tenant: str
    item: str
    action: str  # added, replaced, skipped, unchanged


@dataclass
class LogoInfo:
    mime: str
    size: int
    width: int
    height: int


# -- names and choices ---------------------------------------------------------------------------


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
    try:
        return TenantType(str(raw).strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown tenant type {raw!r}: use standard or custom") from None


def parse_edition(raw: str | Edition) -> Edition:
    try:
        return Edition(str(raw).strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown edition {raw!r}: use {', '.join(e.value for e in Edition)}") from None


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


# -- logo ----------------------------------------------------------------------------------------


def check_logo(data: bytes) -> LogoInfo:
    """Decode the image to see what it really is; the file's name and extension count for nothing."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InvalidInput("the logo file is empty")
    if len(data) > LOGO_MAX_BYTES:
        raise InvalidInput(
            f"the logo is {len(data) // 1024} KiB; at most {LOGO_MAX_BYTES // 1024} KiB is allowed"
        )
    allowed = ", ".join(LOGO_FORMATS)
    try:
        with Image.open(io.BytesIO(data), formats=list(LOGO_FORMATS)) as img:
            fmt = img.format
            width, height = img.size
            # Check the pixel size from the header before decoding anything (no decompression bombs).
            if width > LOGO_MAX_WIDTH or height > LOGO_MAX_HEIGHT:
                raise InvalidInput(
                    f"the logo is {width}x{height} pixels; at most {LOGO_MAX_WIDTH}x{LOGO_MAX_HEIGHT} is allowed"
                )
            img.verify()
        # verify() leaves the image unusable and checks little for JPEG: decode it fully as well.
        with Image.open(io.BytesIO(data), formats=list(LOGO_FORMATS)) as img:
            img.load()
    except InvalidInput:
        raise
    except UnidentifiedImageError:
        raise InvalidInput(f"the logo is not an image in an allowed format ({allowed})") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(
            f"the logo is not a valid image: {str(exc).splitlines()[0] if str(exc) else 'corrupt data'}"
        ) from None
    if fmt not in LOGO_FORMATS:
        raise InvalidInput(f"the logo is {fmt}; allowed are {allowed}")
    return LogoInfo(LOGO_FORMATS[fmt], len(data), width, height)


def _set_logo(tenant: Tenant, data: bytes | None) -> None:
    if data is None:
        tenant.logo = tenant.logo_mime = tenant.logo_size = tenant.logo_width = tenant.logo_height = None
        return
    info = check_logo(data)
    tenant.logo = data
    tenant.logo_mime, tenant.logo_size = info.mime, info.size
    tenant.logo_width, tenant.logo_height = info.width, info.height


# -- lookups -------------------------------------------------------------------------------------


def find_tenant(session: Session, name: str) -> Tenant | None:
    return session.exec(select(Tenant).where(Tenant.name_key == name_key(name or ""))).first()


def get_tenant(session: Session, name: str) -> Tenant:
    tenant = find_tenant(session, name)
    if tenant is None:
        raise NotFound(f"no tenant {name.strip()!r}", hint="list them with `partnerctl tenant list`")
    return tenant


def get_master(session: Session) -> Tenant | None:
    return session.exec(select(Tenant).where(Tenant.is_master == True)).first()  # noqa: E712


def _lock_tree(session: Session) -> None:
    """Serialise changes to the tree's shape (add, move, remove) on the master row.

    PostgreSQL runs READ COMMITTED: without this, two concurrent moves could each pass the cycle
    check and together make a cycle. SQLite writers already queue on BEGIN IMMEDIATE.
    """
    session.exec(select(Tenant.id).where(Tenant.is_master == True).with_for_update()).first()  # noqa: E712


def ensure_master_tenant(session: Session, actor: User | str) -> Tenant:
    """The partner's own tenant, root of the tree, named after the partner space."""
    master = get_master(session)
    if master is not None:
        return master
    partner = session.exec(select(Partner).order_by(Partner.id)).first()
    if partner is None:
        raise NotFound("this store has no partner space yet", hint="run `partnerctl init` first")
    name = clean_name(partner.name)
    master = Tenant(
        name=name,
        name_key=name_key(name),
        is_master=True,
        created_by=actor if isinstance(actor, str) else actor.email,
    )
    session.add(master)
    session.flush()
    audit.record(session, actor, "tenant.add", "tenant", master.name, after=_snapshot(master))
    # Create the fingerprint pepper now, once, rather than racing for it at the first administrator.
    _credential_key(session)
    return master


def _snapshot(t: Tenant) -> dict:
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


def _client_id(session: Session, ref: str) -> int:
    client = session.exec(select(Client).where(Client.ref == ref.strip())).first()
    if client is None:
        raise NotFound(
            f"no client with reference {ref.strip()!r}", hint="list them with `partnerctl client list`"
        )
    return client.id


def _admin_count(session: Session, tenant_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(TenantAdmin).where(TenantAdmin.tenant_id == tenant_id)
    ).one()


# -- the tree: one recursive query -----------------------------------------------------------------


def _subtree_query(*, root_id: int | None = None, root_key: str | None = None, details: bool = False):
    """A recursive CTE from the root (the master, a tenant id or a name key) down to every descendant."""
    t = Tenant.__table__
    anchor = select(t.c.id, literal(0).label("depth"))
    if root_id is not None:
        anchor = anchor.where(t.c.id == root_id)
    elif root_key is not None:
        anchor = anchor.where(t.c.name_key == root_key)
    else:
        anchor = anchor.where(t.c.parent_id.is_(None))
    sub = anchor.cte("subtree", recursive=True)
    child = t.alias("child")
    sub = sub.union_all(
        select(child.c.id, sub.c.depth + 1).where(
            child.c.parent_id == sub.c.id, sub.c.depth < _MAX_TREE_DEPTH
        )
    )
    if not details:
        return select(t.c.id, t.c.parent_id, t.c.name, sub.c.depth).join(sub, sub.c.id == t.c.id)
    counts = select(TenantAdmin.tenant_id, func.count().label("n")).group_by(TenantAdmin.tenant_id).subquery()
    return (
        select(
            t.c.id,
            t.c.parent_id,
            t.c.name,
            t.c.type,
            t.c.edition,
            t.c.is_master,
            t.c.needs_setup,
            t.c.handed_over,
            sub.c.depth,
            func.coalesce(counts.c.n, 0),
        )
        .join(sub, sub.c.id == t.c.id)
        .outerjoin(counts, counts.c.tenant_id == t.c.id)
        .order_by(sub.c.depth, t.c.name_key)
    )


def _subtree(session: Session, root_id: int) -> list[tuple[int, int | None, str, int]]:
    """(id, parent_id, name, depth) of a tenant and everything below it, in one query."""
    return [tuple(r) for r in session.execute(_subtree_query(root_id=root_id))]


def tenant_tree(session: Session, root: str | None = None) -> TenantTree:
    """The whole hierarchy (or the part under ROOT) with admin counts and status, in one query."""
    query = _subtree_query(root_key=name_key(root) if root else None, details=True)
    nodes: dict[int, TenantNode] = {}
    for (
        id_,
        parent_id,
        name,
        type_,
        edition,
        is_master,
        needs_setup,
        handed_over,
        depth,
        admins,
    ) in session.execute(query):
        nodes[id_] = TenantNode(
            id=id_,
            parent_id=parent_id,
            name=name,
            type=str(type_),
            edition=str(edition),
            depth=depth,
            admins=admins,
            status=tenant_status(
                is_master=bool(is_master),
                handed_over=bool(handed_over),
                needs_setup=bool(needs_setup),
                admins=admins,
            ),
        )
    if root and not nodes:
        raise NotFound(f"no tenant {root.strip()!r}", hint="list them with `partnerctl tenant list`")
    roots = []
    # Rows come ordered by depth then name, so every child list ends up sorted by name.
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        if parent is None or node.depth == 0:
            roots.append(node.id)
        else:
            parent.children.append(node.id)
    return TenantTree(roots, nodes)


def list_tenants(
    session: Session, *, search: str | None = None, type_: str | None = None, parent: str | None = None
) -> list[TenantInfo]:
    t = Tenant.__table__
    p = t.alias("parent")
    counts = select(TenantAdmin.tenant_id, func.count().label("n")).group_by(TenantAdmin.tenant_id).subquery()
    query = (
        select(
            Tenant,
            p.c.name,
            func.coalesce(counts.c.n, 0),
            Client.ref,
        )
        .outerjoin(p, p.c.id == Tenant.parent_id)
        .outerjoin(counts, counts.c.tenant_id == Tenant.id)
        .outerjoin(Client, Client.id == Tenant.client_id)
        .options(defer(Tenant.logo))
        .order_by(Tenant.name_key)
    )
    if search:
        query = query.where(col(Tenant.name_key).contains(name_key(search), autoescape=True))
    if type_:
        query = query.where(Tenant.type == parse_type(type_))
    if parent:
        query = query.where(Tenant.parent_id == get_tenant(session, parent).id)
    return [
        _info(tenant, parent_name, admins, ref) for tenant, parent_name, admins, ref in session.exec(query)
    ]


def _info(t: Tenant, parent_name: str | None, admins: int, client_ref: str | None) -> TenantInfo:
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


def describe_tenant(session: Session, name: str) -> TenantInfo:
    tenant = get_tenant(session, name)
    parent = session.get(Tenant, tenant.parent_id) if tenant.parent_id else None
    client = session.get(Client, tenant.client_id) if tenant.client_id else None
    return _info(
        tenant,
        parent.name if parent else None,
        _admin_count(session, tenant.id),
        client.ref if client else None,
    )


def get_logo(session: Session, name: str) -> tuple[bytes, str] | None:
    tenant = get_tenant(session, name)
    return (tenant.logo, tenant.logo_mime) if tenant.logo else None


# -- tenant mutations ----------------------------------------------------------------------------


def create_tenant(
    session: Session,
    actor: User,
    *,
    name: str,
    parent: str | None = None,
    type_: str = "standard",
    edition: str = "basic",
    charset: str | None = None,
    logo: bytes | None = None,
    client_ref: str | None = None,
) -> Tenant:
    require_admin(actor, "tenant add")
    clean = clean_name(name)
    tenant_type = parse_type(type_)
    tenant_edition = parse_edition(edition)
    tenant_charset = check_charset(tenant_type, charset)
    master = ensure_master_tenant(session, actor)
    _lock_tree(session)
    parent_tenant = get_tenant(session, parent) if parent else master
    existing = find_tenant(session, clean)
    if existing is not None:
        raise Conflict(f"a tenant named {existing.name!r} already exists (names are unique, ignoring case)")
    tenant = Tenant(
        name=clean,
        name_key=name_key(clean),
        parent_id=parent_tenant.id,
        type=tenant_type,
        edition=tenant_edition,
        charset=tenant_charset,
        # CUSTOM starts empty: our service staff configure it before it can send.
        needs_setup=tenant_type == TenantType.custom,
        client_id=_client_id(session, client_ref) if client_ref else None,
        created_by=actor.email,
    )
    _set_logo(tenant, logo)
    session.add(tenant)
    _flush_names(session, clean)
    audit.record(session, actor, "tenant.add", "tenant", tenant.name, after=_snapshot(tenant))
    return tenant


def _flush_names(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        # Another process took the name (or removed the parent) between our check and our write.
        raise Conflict(f"a tenant named {name!r} was just created or its parent removed; try again") from None


def edit_tenant(
    session: Session,
    actor: User,
    name: str,
    *,
    new_name: str | None = None,
    edition: str | None = None,
    charset: str | None = None,
    logo: bytes | None = None,
    remove_logo: bool = False,
    client_ref: str | None = None,
    remove_client: bool = False,
    configured: bool | None = None,
) -> Tenant:
    require_admin(actor, "tenant edit")
    tenant = get_tenant(session, name)
    before = _snapshot(tenant)
    changed = False
    if new_name is not None:
        clean = clean_name(new_name)
        other = find_tenant(session, clean)
        if other is not None and other.id != tenant.id:
            raise Conflict(f"a tenant named {other.name!r} already exists (names are unique, ignoring case)")
        tenant.name, tenant.name_key = clean, name_key(clean)
        changed = True
    if edition is not None:
        tenant.edition = parse_edition(edition)
        changed = True
    if charset is not None:
        tenant.charset = check_charset(TenantType(tenant.type), charset)
        changed = True
    if logo is not None and remove_logo:
        raise InvalidInput("pass either --logo or --remove-logo, not both")
    if logo is not None or remove_logo:
        _set_logo(tenant, logo)
        changed = True
    if client_ref is not None and remove_client:
        raise InvalidInput("pass either --client or --no-client, not both")
    if client_ref is not None or remove_client:
        tenant.client_id = _client_id(session, client_ref) if client_ref else None
        changed = True
    if configured is not None:
        if tenant.type != TenantType.custom and not configured:
            raise InvalidInput("only CUSTOM tenants need setup; a STANDARD tenant is ready as created")
        tenant.needs_setup = not configured
        changed = True
    if not changed:
        raise InvalidInput(
            "nothing to change: pass --name, --edition, --charset, --logo, --remove-logo, --client, "
            "--no-client or --configured/--needs-setup"
        )
    tenant.updated_at = utcnow()
    session.add(tenant)
    _flush_names(session, tenant.name)
    audit.record(session, actor, "tenant.edit", "tenant", tenant.name, before=before, after=_snapshot(tenant))
    return tenant


def move_tenant(session: Session, actor: User, name: str, parent: str) -> Tenant:
    require_admin(actor, "tenant move")
    _lock_tree(session)
    tenant = get_tenant(session, name)
    new_parent = get_tenant(session, parent)
    if tenant.is_master:
        raise InvalidInput("the master tenant is the root of the tree and cannot be moved")
    if new_parent.id == tenant.id or new_parent.id in {row[0] for row in _subtree(session, tenant.id)}:
        raise InvalidInput(
            f"cannot move {tenant.name!r} under {new_parent.name!r}: "
            f"{new_parent.name!r} is {'the tenant itself' if new_parent.id == tenant.id else 'below it'} "
            "and the move would make a cycle"
        )
    if tenant.parent_id == new_parent.id:
        return tenant
    before = _snapshot(tenant)
    tenant.parent_id = new_parent.id
    tenant.updated_at = utcnow()
    session.add(tenant)
    session.flush()
    audit.record(session, actor, "tenant.move", "tenant", tenant.name, before=before, after=_snapshot(tenant))
    return tenant


def remove_tenant(
    session: Session, actor: User, name: str, *, recursive: bool = False, confirmed: bool = False
) -> list[str]:
    """Remove a tenant (and, with recursive, everything below it); returns the names removed."""
    require_admin(actor, "tenant remove")
    _lock_tree(session)
    tenant = get_tenant(session, name)
    if tenant.is_master:
        raise InvalidInput("the master tenant is your own partner tenant and cannot be removed")
    rows = _subtree(session, tenant.id)
    if len(rows) > 1 and not recursive:
        raise Conflict(
            f"{tenant.name!r} has {len(rows) - 1} tenant(s) below it; "
            "remove them first, move them, or pass --recursive --yes"
        )
    if not confirmed:
        for chunk in _chunks([r[0] for r in rows]):
            handed = session.exec(
                select(Tenant.name).where(col(Tenant.id).in_(chunk), Tenant.handed_over == True)  # noqa: E712
            ).first()
            if handed is not None:
                raise Conflict(f"{handed!r} is handed over to its customer; pass --yes to remove it anyway")
    # Deepest first, so no row ever points at a parent that is already gone.
    rows.sort(key=lambda r: -r[3])
    ids = [r[0] for r in rows]
    for chunk in _chunks(ids):
        session.execute(delete(TenantAdmin).where(col(TenantAdmin.tenant_id).in_(chunk)))
        session.execute(delete(TenantContent).where(col(TenantContent.tenant_id).in_(chunk)))
    by_depth: dict[int, list[int]] = {}
    for id_, _parent, _name, depth in rows:
        by_depth.setdefault(depth, []).append(id_)
    for depth in sorted(by_depth, reverse=True):
        for chunk in _chunks(by_depth[depth]):
            session.execute(delete(Tenant).where(col(Tenant.id).in_(chunk)))
    for _id, _parent, removed_name, _depth in rows:
        audit.record(session, actor, "tenant.remove", "tenant", removed_name, before={"name": removed_name})
    session.flush()
    return [r[2] for r in rows]


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- hand-over -----------------------------------------------------------------------------------


def handover_tenant(session: Session, actor: User, name: str) -> HandoverResult:
    """Check the tenant is ready for its customer; when every required item holds, mark it handed over."""
    require_admin(actor, "tenant handover")
    tenant = get_tenant(session, name)
    if tenant.is_master:
        raise InvalidInput("the master tenant is your own; it is not handed over to a customer")
    admins = list(session.exec(select(TenantAdmin).where(TenantAdmin.tenant_id == tenant.id)))
    checks: list[CheckItem] = []
    checks.append(
        CheckItem(
            "at least one administrator",
            bool(admins),
            f"{len(admins)} administrator(s)"
            if admins
            else f"none yet: add one with `partnerctl tenant admin add {tenant.name!r} --email ... --generate-password`",
        )
    )
    invalid = []
    for a in admins:
        try:
            normalize_email(a.email)
        except InvalidInput:
            invalid.append(a.email)
    checks.append(
        CheckItem(
            "administrator e-mail addresses are valid",
            bool(admins) and not invalid,
            f"invalid: {', '.join(invalid)}"
            if invalid
            else ("no administrator yet" if not admins else "all valid"),
        )
    )
    if tenant.type == TenantType.custom:
        checks.append(
            CheckItem(
                "CUSTOM tenant is configured",
                not tenant.needs_setup,
                "configured"
                if not tenant.needs_setup
                else f"needs setup; once done: `partnerctl tenant edit {tenant.name!r} --configured`",
            )
        )
    checks.append(
        CheckItem(
            f"at most {ADVISED_MAX_ADMINS} administrators (advice)",
            len(admins) <= ADVISED_MAX_ADMINS,
            f"{len(admins)} administrator(s): keep the administrator role to as few users as possible",
            required=False,
        )
    )
    not_email = [a.username for a in admins if a.username_key != a.email]
    checks.append(
        CheckItem(
            "usernames are the e-mail addresses (advice)",
            not not_email,
            f"other usernames: {', '.join(not_email)}" if not_email else "yes",
            required=False,
        )
    )
    result = HandoverResult(tenant.name, checks, handed_over=tenant.handed_over, admins=len(admins))
    if tenant.handed_over:
        result.already = True
        return result
    if result.missing:
        return result
    before = _snapshot(tenant)
    tenant.handed_over = True
    tenant.handed_over_at = utcnow()
    tenant.handed_over_by = actor.email
    tenant.updated_at = utcnow()
    session.add(tenant)
    session.flush()
    audit.record(
        session, actor, "tenant.handover", "tenant", tenant.name, before=before, after=_snapshot(tenant)
    )
    result.handed_over = True
    return result


# -- administrators and their passwords ----------------------------------------------------------


def generate_password(length: int = GENERATED_PASSWORD_LENGTH) -> str:
    """A random password from letters, digits and punctuation, with at least one of each kind."""
    alphabet = string.ascii_letters + string.digits + "!#%+-.:=?@_"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in pw)
            and any(c.isupper() for c in pw)
            and any(c.isdigit() for c in pw)
            and any(not c.isalnum() for c in pw)
        ):
            return pw


def check_password_strength(password: str, user_inputs: Iterable[str] = ()) -> None:
    """At least 12 characters and a zxcvbn score of 3 or 4; the message never repeats the password."""
    from zxcvbn import zxcvbn

    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(f"the password is too short: it needs at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(f"the password is too long: at most {PASSWORD_MAX_LENGTH} characters")
    inputs = [i for i in user_inputs if i]
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=inputs)
    if result["score"] < PASSWORD_MIN_SCORE:
        feedback = result.get("feedback") or {}
        warning = (feedback.get("warning") or "").rstrip(".")
        suggestions = " ".join(feedback.get("suggestions") or [])
        raise InvalidInput(
            f"the password is too weak (strength {result['score']} of 4, at least {PASSWORD_MIN_SCORE} needed)"
            + (f": {warning}" if warning else ""),
            hint=suggestions or "use a longer passphrase, or --generate-password",
        )


def _user_inputs(tenant: Tenant, email: str, username: str, name: str) -> list[str]:
    inputs = [email, email.split("@")[0], username, tenant.name, *tenant.name.split(), name, *name.split()]
    return [i for i in inputs if i]


def _credential_key(session: Session) -> TenantCredentialKey:
    key = session.get(TenantCredentialKey, 1)
    if key is None:
        from argon2 import PasswordHasher

        ph = PasswordHasher()
        # Fixed id: a second concurrent creator fails on the primary key instead of adding a second pepper.
        key = TenantCredentialKey(
            id=1,
            pepper=secrets.token_bytes(32),
            time_cost=ph.time_cost,
            memory_cost=ph.memory_cost,
            parallelism=ph.parallelism,
        )
        session.add(key)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(
                "another process is setting up the password key of this store; try again"
            ) from None
    return key


def _fingerprint(session: Session, password: str) -> str:
    from argon2.low_level import Type, hash_secret_raw

    key = _credential_key(session)
    raw = hash_secret_raw(
        password.encode("utf-8"),
        key.pepper,
        time_cost=key.time_cost,
        memory_cost=key.memory_cost,
        parallelism=key.parallelism,
        hash_len=32,
        type=Type.ID,
    )
    return raw.hex()


def _hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def verify_admin_password(session: Session, tenant: str, email: str, password: str) -> bool:
    """Would this password log the administrator in? (argon2id verify against the stored hash)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    admin = get_admin(session, tenant, email)
    try:
        return PasswordHasher().verify(admin.password_hash, password)
    except VerificationError:
        return False


def _set_password(session: Session, admin: TenantAdmin, tenant: Tenant, password: str) -> None:
    check_password_strength(password, _user_inputs(tenant, admin.email, admin.username, admin.name))
    fingerprint = _fingerprint(session, password)
    if admin.id is not None and admin.pw_fingerprint == fingerprint:
        raise InvalidInput("the new password is the same as the current one; choose another")
    reused = session.exec(
        select(TenantAdmin.id).where(TenantAdmin.pw_fingerprint == fingerprint, TenantAdmin.id != admin.id)
        if admin.id is not None
        else select(TenantAdmin.id).where(TenantAdmin.pw_fingerprint == fingerprint)
    ).first()
    if reused is not None:
        raise InvalidInput(
            "this password is already used by another tenant administrator; "
            "a password repeated across tenants is easy to guess: choose a different one"
        )
    admin.password_hash = _hash_password(password)
    admin.pw_fingerprint = fingerprint
    admin.password_changed_at = utcnow()


def _admin_snapshot(admin: TenantAdmin, tenant: Tenant) -> dict:
    return {"tenant": tenant.name, "email": admin.email, "username": admin.username, "name": admin.name}


def get_admin(session: Session, tenant: str, email: str) -> TenantAdmin:
    t = get_tenant(session, tenant)
    address = (email or "").strip().lower()
    admin = session.exec(
        select(TenantAdmin).where(TenantAdmin.tenant_id == t.id, TenantAdmin.email == address)
    ).first()
    if admin is None:
        raise NotFound(
            f"{t.name!r} has no administrator {email.strip()!r}",
            hint=f"list them with `partnerctl tenant admin list {t.name!r}`",
        )
    return admin


def add_admin(
    session: Session,
    actor: User,
    tenant: str,
    *,
    email: str,
    password: str,
    username: str | None = None,
    name: str = "",
) -> tuple[TenantAdmin, int]:
    """Add an administrator; returns it and how many the tenant has now."""
    require_admin(actor, "tenant admin add")
    t = get_tenant(session, tenant)
    address = normalize_email(email, field="administrator e-mail")
    login = clean_name(username, "username", 320) if username else address
    display = " ".join((name or "").split())
    if session.exec(
        select(TenantAdmin.id).where(TenantAdmin.tenant_id == t.id, TenantAdmin.email == address)
    ).first():
        raise Conflict(f"{address} is already an administrator of {t.name!r}")
    if session.exec(
        select(TenantAdmin.id).where(
            TenantAdmin.tenant_id == t.id, TenantAdmin.username_key == login.casefold()
        )
    ).first():
        raise Conflict(f"username {login!r} is already taken in {t.name!r}")
    admin = TenantAdmin(
        tenant_id=t.id, email=address, username=login, username_key=login.casefold(), name=display
    )
    _set_password(session, admin, t, password)
    session.add(admin)
    try:
        session.flush()
    except IntegrityError:
        # Another process added the same address, username or password at the same moment.
        raise Conflict(
            f"could not add {address} to {t.name!r}: the address, username or password was just taken; try again"
        ) from None
    audit.record(
        session,
        actor,
        "tenant.admin.add",
        "tenant_admin",
        f"{t.name}/{address}",
        after=_admin_snapshot(admin, t),
    )
    return admin, _admin_count(session, t.id)


def list_admins(session: Session, tenant: str) -> list[dict]:
    t = get_tenant(session, tenant)
    admins = session.exec(
        select(TenantAdmin).where(TenantAdmin.tenant_id == t.id).order_by(TenantAdmin.email)
    )
    return [
        {
            "tenant": t.name,
            "email": a.email,
            "username": a.username,
            "name": a.name,
            "password_changed_at": a.password_changed_at,
            "created_at": a.created_at,
        }
        for a in admins
    ]


def remove_admin(session: Session, actor: User, tenant: str, email: str) -> int:
    """Remove an administrator; returns how many remain. The last one of a handed-over tenant stays."""
    require_admin(actor, "tenant admin remove")
    admin = get_admin(session, tenant, email)
    t = session.get(Tenant, admin.tenant_id)
    remaining = _admin_count(session, t.id) - 1
    if t.handed_over and remaining < 1:
        raise Conflict(
            f"{admin.email} is the last administrator of {t.name!r}, which is handed over: "
            "add another administrator first"
        )
    snapshot = _admin_snapshot(admin, t)
    session.delete(admin)
    session.flush()
    audit.record(
        session, actor, "tenant.admin.remove", "tenant_admin", f"{t.name}/{admin.email}", before=snapshot
    )
    return remaining


def reset_admin_password(
    session: Session, actor: User, tenant: str, email: str, password: str
) -> TenantAdmin:
    require_admin(actor, "tenant admin reset-password")
    admin = get_admin(session, tenant, email)
    t = session.get(Tenant, admin.tenant_id)
    _set_password(session, admin, t, password)
    session.add(admin)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("the password was just taken by another administrator; choose another") from None
    # The event says that the password changed, never what it is or hashes to.
    audit.record(
        session,
        actor,
        "tenant.admin.reset-password",
        "tenant_admin",
        f"{t.name}/{admin.email}",
        after={**_admin_snapshot(admin, t), "password_changed": True},
    )
    return admin


# -- content -------------------------------------------------------------------------------------


def add_content(
    session: Session, actor: User, tenant: str, name: str, data: bytes, *, replace: bool = False
) -> tuple[TenantContent, str]:
    """Add (or with replace, overwrite) a content item; returns it and 'added' or 'replaced'."""
    require_admin(actor, "tenant content add")
    t = get_tenant(session, tenant)
    clean = clean_name(name, "content name", CONTENT_NAME_MAX)
    if len(data) > CONTENT_MAX_BYTES:
        raise InvalidInput(f"the content file is larger than {CONTENT_MAX_BYTES // (1024 * 1024)} MiB")
    existing = session.exec(
        select(TenantContent).where(
            TenantContent.tenant_id == t.id, TenantContent.name_key == name_key(clean)
        )
    ).first()
    if existing is not None and not replace:
        raise Conflict(
            f"{t.name!r} already has a content item {existing.name!r}; pass --replace to overwrite it"
        )
    item = existing or TenantContent(
        tenant_id=t.id, name=clean, name_key=name_key(clean), data=b"", sha256=""
    )
    _fill(item, data, copied_from=None)
    session.add(item)
    session.flush()
    action = "replaced" if existing is not None else "added"
    audit.record(
        session,
        actor,
        f"tenant.content.{'replace' if existing is not None else 'add'}",
        "tenant_content",
        f"{t.name}/{item.name}",
        after={"size": item.size, "sha256": item.sha256},
    )
    return item, action


def _fill(item: TenantContent, data: bytes, copied_from: str | None) -> None:
    item.data = data
    item.size = len(data)
    item.sha256 = hashlib.sha256(data).hexdigest()
    item.copied_from = copied_from
    item.updated_at = utcnow()


def list_contents(session: Session, tenant: str) -> list[dict]:
    t = get_tenant(session, tenant)
    rows = session.exec(
        select(
            TenantContent.name,
            TenantContent.size,
            TenantContent.sha256,
            TenantContent.copied_from,
            TenantContent.updated_at,
        )
        .where(TenantContent.tenant_id == t.id)
        .order_by(TenantContent.name_key)
    )
    return [
        {"tenant": t.name, "name": n, "size": size, "sha256": sha, "copied_from": src, "updated_at": at}
        for n, size, sha, src, at in rows
    ]


def get_content(session: Session, tenant: str, name: str) -> bytes:
    t = get_tenant(session, tenant)
    item = session.exec(
        select(TenantContent).where(TenantContent.tenant_id == t.id, TenantContent.name_key == name_key(name))
    ).first()
    if item is None:
        raise NotFound(f"{t.name!r} has no content item {name.strip()!r}")
    return item.data


def remove_content(session: Session, actor: User, tenant: str, name: str) -> None:
    require_admin(actor, "tenant content remove")
    t = get_tenant(session, tenant)
    item = session.exec(
        select(TenantContent).where(TenantContent.tenant_id == t.id, TenantContent.name_key == name_key(name))
    ).first()
    if item is None:
        raise NotFound(f"{t.name!r} has no content item {name.strip()!r}")
    session.delete(item)
    session.flush()
    audit.record(session, actor, "tenant.content.remove", "tenant_content", f"{t.name}/{item.name}")


def copy_content(
    session: Session,
    actor: User,
    *,
    source: str,
    to: str | None = None,
    items: Sequence[str] = (),
    recursive: bool = False,
    on_existing: str = "skip",
) -> list[CopyLine]:
    """Copy items from a tenant to tenants below it (never upward, never across branches)."""
    require_admin(actor, "tenant content copy")
    if on_existing not in ("skip", "replace"):
        raise InvalidInput(f"--on-existing must be skip or replace, not {on_existing!r}")
    src = get_tenant(session, source)
    below = {r[0]: r for r in _subtree(session, src.id) if r[0] != src.id}
    if to is not None:
        target = get_tenant(session, to)
        if target.id == src.id:
            raise InvalidInput(f"--from and --to are both {src.name!r}: copy to a tenant below it")
        if target.id not in below:
            raise InvalidInput(
                f"{target.name!r} is not below {src.name!r}: content is copied only downwards, "
                "never upward or across branches"
            )
        targets = _subtree(session, target.id) if recursive else [below[target.id]]
    else:
        if not recursive:
            raise InvalidInput(f"pass --to TENANT, or --recursive to copy to every tenant below {src.name!r}")
        targets = list(below.values())
    if not targets:
        raise InvalidInput(f"{src.name!r} has no tenants below it to copy to")
    targets.sort(key=lambda r: (r[3], name_key(r[2])))

    source_items = list(
        session.exec(
            select(TenantContent).where(TenantContent.tenant_id == src.id).order_by(TenantContent.name_key)
        )
    )
    if items:
        wanted = {name_key(i): i for i in items}
        have = {i.name_key for i in source_items}
        missing = [raw for key, raw in wanted.items() if key not in have]
        if missing:
            raise NotFound(f"{src.name!r} has no content item(s) {', '.join(repr(m) for m in missing)}")
        source_items = [i for i in source_items if i.name_key in wanted]
    if not source_items:
        raise InvalidInput(f"{src.name!r} has no content to copy")

    keys = [i.name_key for i in source_items]
    existing: dict[tuple[int, str], TenantContent] = {}
    for chunk in _chunks([r[0] for r in targets]):
        for row in session.exec(
            select(TenantContent).where(
                col(TenantContent.tenant_id).in_(chunk), col(TenantContent.name_key).in_(keys)
            )
        ):
            existing[(row.tenant_id, row.name_key)] = row

    lines: list[CopyLine] = []
    for tid, _parent, tname, _depth in targets:
        for item in source_items:
            current = existing.get((tid, item.name_key))
            if current is None:
                new = TenantContent(
                    tenant_id=tid, name=item.name, name_key=item.name_key, data=b"", sha256=""
                )
                _fill(new, item.data, copied_from=src.name)
                session.add(new)
                lines.append(CopyLine(tname, item.name, "added"))
            elif current.sha256 == item.sha256:
                lines.append(CopyLine(tname, item.name, "unchanged"))
            elif on_existing == "replace":
                _fill(current, item.data, copied_from=src.name)
                session.add(current)
                lines.append(CopyLine(tname, item.name, "replaced"))
            else:
                lines.append(CopyLine(tname, item.name, "skipped"))
    session.flush()
    counts = {
        a: sum(1 for ln in lines if ln.action == a) for a in ("added", "replaced", "skipped", "unchanged")
    }
    audit.record(
        session,
        actor,
        "tenant.content.copy",
        "tenant",
        src.name,
        after={
            "to": to,
            "recursive": recursive,
            "items": [i.name for i in source_items],
            "targets": len(targets),
            "on_existing": on_existing,
            **counts,
        },
    )
    return lines
