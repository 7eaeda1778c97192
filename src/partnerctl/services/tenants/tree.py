"""The tenant hierarchy read with one recursive query: tree, list and one tenant's description.

A bookkeeper sees the tenants of their clients only: their tree is a forest in which a tenant
whose parent they may not see is a root, and a parent they may not see is never named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import literal
from sqlalchemy.orm import defer
from sqlmodel import Session, col, func, select

from partnerctl.errors import NotFound
from partnerctl.services.access import is_admin, visible_tenants_filter
from partnerctl.services.tenants.rules import (
    MAX_TREE_DEPTH,
    TenantInfo,
    admin_count,
    get_tenant,
    name_key,
    parse_type,
    tenant_info,
    tenant_status,
)
from partnerctl.store.models import Client, User
from partnerctl.store.models.tenants import Tenant, TenantAdmin


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


def _admin_counts():
    return select(TenantAdmin.tenant_id, func.count().label("n")).group_by(TenantAdmin.tenant_id).subquery()


def _details(t, depth):
    """The columns of a tree node: id, parent, name, type, edition, status flags, depth, admins."""
    counts = _admin_counts()
    return select(
        t.c.id,
        t.c.parent_id,
        t.c.name,
        t.c.type,
        t.c.edition,
        t.c.is_master,
        t.c.needs_setup,
        t.c.handed_over,
        depth,
        func.coalesce(counts.c.n, 0),
    ).outerjoin(counts, counts.c.tenant_id == t.c.id)  # fmt: skip


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
        select(child.c.id, sub.c.depth + 1).where(child.c.parent_id == sub.c.id, sub.c.depth < MAX_TREE_DEPTH)
    )
    if not details:
        return select(t.c.id, t.c.parent_id, t.c.name, sub.c.depth).join(sub, sub.c.id == t.c.id)
    return _details(t, sub.c.depth).join(sub, sub.c.id == t.c.id).order_by(sub.c.depth, t.c.name_key)


# (id, parent_id, name, depth) of one tenant in a subtree.
SubtreeRow = tuple[int, int | None, str, int]


def subtree_rows(session: Session, root_id: int) -> list[SubtreeRow]:
    """(id, parent_id, name, depth) of a tenant and everything below it, in one query."""
    return [tuple(r) for r in session.execute(_subtree_query(root_id=root_id))]


def _node(row) -> TenantNode:
    id_, parent_id, name, type_, edition, is_master, needs_setup, handed_over, depth, admins = row
    return TenantNode(
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


def _link(nodes: dict[int, TenantNode]) -> list[int]:
    """Hang each node below its parent (nodes in depth, then name order); the roots, in that order."""
    roots = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id is not None else None
        if parent is None or node.depth == 0:
            roots.append(node.id)
        else:
            parent.children.append(node.id)
    return roots


def tenant_tree(session: Session, actor: User, root: str | None = None) -> TenantTree:
    """The whole hierarchy (or the part under ROOT) with admin counts and status, in one query."""
    if not is_admin(actor):
        return _visible_forest(session, actor, root)
    query = _subtree_query(root_key=name_key(root) if root else None, details=True)
    nodes = {row[0]: _node(row) for row in session.execute(query)}
    if root and not nodes:
        raise NotFound(f"no tenant {root.strip()!r}", hint="list them with `partnerctl tenant list`")
    # Rows come ordered by depth then name, so every child list ends up sorted by name.
    return TenantTree(_link(nodes), nodes)


def _visible_forest(session: Session, actor: User, root: str | None) -> TenantTree:
    """A bookkeeper's tenants (few: those of their clients) as a forest, depths counted from its roots."""
    t = Tenant.__table__
    query = _details(t, literal(0)).where(visible_tenants_filter(actor, t)).order_by(t.c.name_key)
    rows = {row[0]: _node(row) for row in session.execute(query)}
    if root:
        start = get_tenant(session, root, actor).id
        below: dict[int | None, list[int]] = {}
        for node in rows.values():
            below.setdefault(node.parent_id, []).append(node.id)
        keep, todo = set(), [start]
        while todo:
            keep.add(todo[-1])
            todo.extend(below.get(todo.pop(), []))
        rows = {i: n for i, n in rows.items() if i in keep}
    for node in rows.values():
        if node.id == (start if root else None) or node.parent_id not in rows:
            node.parent_id = None  # a parent they may not see is not named
    ordered = _by_depth(rows)
    return TenantTree(_link(ordered), ordered)


def _by_depth(nodes: dict[int, TenantNode]) -> dict[int, TenantNode]:
    """Give each node its depth below its root, and order the nodes by depth (then as they came)."""
    for node in nodes.values():
        depth, parent = 0, node.parent_id
        while parent is not None and depth < MAX_TREE_DEPTH:
            depth, parent = depth + 1, nodes[parent].parent_id
        node.depth = depth
    return dict(sorted(nodes.items(), key=lambda item: item[1].depth))


def list_tenants(
    session: Session,
    actor: User,
    *,
    search: str | None = None,
    type_: str | None = None,
    parent: str | None = None,
) -> list[TenantInfo]:
    t = Tenant.__table__
    p = t.alias("parent")
    counts = _admin_counts()
    query = (
        select(
            Tenant,
            p.c.name,
            func.coalesce(counts.c.n, 0),
            Client.ref,
        )
        .select_from(Tenant)
        .outerjoin(p, sa.and_(p.c.id == Tenant.parent_id, visible_tenants_filter(actor, p)))
        .outerjoin(counts, counts.c.tenant_id == Tenant.id)
        .outerjoin(Client, Client.id == Tenant.client_id)
        .where(visible_tenants_filter(actor))
        .options(defer(Tenant.logo))
        .order_by(Tenant.name_key)
    )
    if search:
        query = query.where(col(Tenant.name_key).contains(name_key(search), autoescape=True))
    if type_:
        query = query.where(Tenant.type == parse_type(type_))
    if parent:
        query = query.where(Tenant.parent_id == get_tenant(session, parent, actor).id)
    return [
        tenant_info(tenant, parent_name, admins, ref)
        for tenant, parent_name, admins, ref in session.exec(query)
    ]


def describe_tenant(session: Session, actor: User, name: str) -> TenantInfo:
    tenant = get_tenant(session, name, actor)
    parent = None
    if tenant.parent_id:
        parent = session.exec(
            select(Tenant).where(Tenant.id == tenant.parent_id, visible_tenants_filter(actor))
        ).first()
    client = session.get(Client, tenant.client_id) if tenant.client_id else None
    return tenant_info(
        tenant,
        parent.name if parent else None,
        admin_count(session, tenant.id),
        client.ref if client else None,
    )
