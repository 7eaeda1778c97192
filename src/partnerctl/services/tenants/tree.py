"""The tenant hierarchy read with one recursive query: tree, list and one tenant's description."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import literal
from sqlalchemy.orm import defer
from sqlmodel import Session, col, func, select

from partnerctl.errors import NotFound
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
from partnerctl.store.models import Client
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


# (id, parent_id, name, depth) of one tenant in a subtree.
SubtreeRow = tuple[int, int | None, str, int]


def subtree_rows(session: Session, root_id: int) -> list[SubtreeRow]:
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
        tenant_info(tenant, parent_name, admins, ref)
        for tenant, parent_name, admins, ref in session.exec(query)
    ]


def describe_tenant(session: Session, name: str) -> TenantInfo:
    tenant = get_tenant(session, name)
    parent = session.get(Tenant, tenant.parent_id) if tenant.parent_id else None
    client = session.get(Client, tenant.client_id) if tenant.client_id else None
    return tenant_info(
        tenant,
        parent.name if parent else None,
        admin_count(session, tenant.id),
        client.ref if client else None,
    )
