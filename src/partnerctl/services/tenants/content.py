"""Tenant content: files stored per tenant and copied from a master to the tenants below it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from partnerctl.errors import Conflict, InvalidInput, NotFound
from partnerctl.services import audit
from partnerctl.services.access import require_admin
from partnerctl.services.tenants.rules import CONTENT_NAME_MAX, clean_name, get_tenant, in_chunks, name_key
from partnerctl.services.tenants.tree import subtree_rows
from partnerctl.store.models import User
from partnerctl.store.models.tenants import Tenant, TenantContent
from partnerctl.store.types import utcnow

CONTENT_MAX_BYTES = 5 * 1024 * 1024


COPY_ACTIONS = ("added", "replaced", "skipped", "unchanged")


@dataclass
class CopyLine:
    tenant: str
    item: str
    action: str  # one of COPY_ACTIONS


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


def list_contents(session: Session, actor: User, tenant: str) -> list[dict]:
    t = get_tenant(session, tenant, actor)
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


def _get_item(session: Session, tenant: Tenant, name: str) -> TenantContent:
    item = session.exec(
        select(TenantContent).where(
            TenantContent.tenant_id == tenant.id, TenantContent.name_key == name_key(name)
        )
    ).first()
    if item is None:
        raise NotFound(f"{tenant.name!r} has no content item {name.strip()!r}")
    return item


def get_content(session: Session, tenant: str, name: str) -> bytes:
    return _get_item(session, get_tenant(session, tenant), name).data


def remove_content(session: Session, actor: User, tenant: str, name: str) -> None:
    require_admin(actor, "tenant content remove")
    t = get_tenant(session, tenant)
    item = _get_item(session, t, name)
    session.delete(item)
    session.flush()
    audit.record(session, actor, "tenant.content.remove", "tenant_content", f"{t.name}/{item.name}")


# (id, parent_id, name, depth) of a tenant, as subtree_rows gives them.
TargetRow = tuple[int, int | None, str, int]


@dataclass
class CopyStep:
    """One item to one target tenant: what happens to it, and the target's item of that name if any."""

    tenant_id: int
    tenant: str
    item: TenantContent
    action: str
    current: TenantContent | None


def copy_counts(lines: Sequence[CopyLine]) -> dict[str, int]:
    """How many copies were added, replaced, skipped and left unchanged."""
    return {a: sum(1 for ln in lines if ln.action == a) for a in COPY_ACTIONS}


def _copy_targets(session: Session, src: Tenant, to: str | None, recursive: bool) -> list[TargetRow]:
    """The tenants to copy to, top-down and by name: --to (and below it), or everything below --from."""
    below = {r[0]: r for r in subtree_rows(session, src.id) if r[0] != src.id}
    if to is not None:
        target = get_tenant(session, to)
        if target.id == src.id:
            raise InvalidInput(f"--from and --to are both {src.name!r}: copy to a tenant below it")
        if target.id not in below:
            raise InvalidInput(
                f"{target.name!r} is not below {src.name!r}: content is copied only downwards, "
                "never upward or across branches"
            )
        targets = subtree_rows(session, target.id) if recursive else [below[target.id]]
    else:
        if not recursive:
            raise InvalidInput(f"pass --to TENANT, or --recursive to copy to every tenant below {src.name!r}")
        targets = list(below.values())
    if not targets:
        raise InvalidInput(f"{src.name!r} has no tenants below it to copy to")
    return sorted(targets, key=lambda r: (r[3], name_key(r[2])))


def _source_items(session: Session, src: Tenant, items: Sequence[str]) -> list[TenantContent]:
    """The source's items to copy, by name: all of them, or those named (each of which must exist)."""
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
    return source_items


def _existing_items(
    session: Session, targets: Sequence[TargetRow], keys: Sequence[str]
) -> dict[tuple[int, str], TenantContent]:
    """The targets' items that share a name with a source item, by (tenant id, name key)."""
    existing: dict[tuple[int, str], TenantContent] = {}
    for chunk in in_chunks([r[0] for r in targets]):
        for row in session.exec(
            select(TenantContent).where(
                col(TenantContent.tenant_id).in_(chunk), col(TenantContent.name_key).in_(keys)
            )
        ):
            existing[(row.tenant_id, row.name_key)] = row
    return existing


def plan_copy(
    targets: Sequence[TargetRow],
    source_items: Sequence[TenantContent],
    existing: dict[tuple[int, str], TenantContent],
    on_existing: str,
) -> list[CopyStep]:
    """What copying does to each target and item: added, unchanged (same bytes), replaced or skipped."""
    steps: list[CopyStep] = []
    for tid, _parent, tname, _depth in targets:
        for item in source_items:
            current = existing.get((tid, item.name_key))
            if current is None:
                action = "added"
            elif current.sha256 == item.sha256:
                action = "unchanged"
            else:
                action = "replaced" if on_existing == "replace" else "skipped"
            steps.append(CopyStep(tid, tname, item, action, current))
    return steps


def _apply_copy(session: Session, steps: Sequence[CopyStep], source: str) -> None:
    for step in steps:
        if step.action == "added":
            item = step.item
            new = TenantContent(
                tenant_id=step.tenant_id, name=item.name, name_key=item.name_key, data=b"", sha256=""
            )
            _fill(new, item.data, copied_from=source)
            session.add(new)
        elif step.action == "replaced":
            _fill(step.current, step.item.data, copied_from=source)
            session.add(step.current)
    session.flush()


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
    targets = _copy_targets(session, src, to, recursive)
    source_items = _source_items(session, src, items)
    existing = _existing_items(session, targets, [i.name_key for i in source_items])
    steps = plan_copy(targets, source_items, existing, on_existing)
    _apply_copy(session, steps, src.name)
    lines = [CopyLine(step.tenant, step.item.name, step.action) for step in steps]
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
            **copy_counts(lines),
        },
    )
    return lines
