"""The tenant hierarchy: the tree in one statement with depth and order, and subtrees."""

from __future__ import annotations

from sqlmodel import select

from partnerctl.services import tenants as svc
from partnerctl.services.tenants.tree import subtree_rows
from partnerctl.store.models.tenants import Tenant, TenantAdmin
from tests.helpers.store import admin, scope


def test_tree_is_one_statement_and_keeps_depth_and_order(engine, bulk_tree, statements):
    with scope(engine) as s:
        added = bulk_tree(s, fanout=6, levels=3, chain=60)
        s.add(TenantAdmin(tenant_id=s.exec(select(Tenant.id).where(Tenant.name == "chain000")).one(), email="a@x.example",
                          username="a@x.example", username_key="a@x.example", password_hash="h", pw_fingerprint="ab" * 32))  # fmt: skip
    with scope(engine, readonly=True) as s:
        anna = admin(s)  # the session's connection is open before counting
        with statements(engine) as counter:
            tree = svc.tenant_tree(s, anna)
        assert counter.count == 1
        assert len(tree) == added + 1 and len(tree.root_ids) == 1
        master = tree.nodes[tree.root_ids[0]]
        assert master.name == "Acme Partners" and master.status == "master"
        # Children of a node come sorted by name; the chain is 60 deep.
        names = [tree.nodes[c].name for c in master.children]
        assert names == sorted(names, key=str.casefold) and names[0] == "chain000"
        deepest = max(tree.nodes.values(), key=lambda n: n.depth)
        assert deepest.name == "chain059" and deepest.depth == 60
        chain0 = next(n for n in tree.nodes.values() if n.name == "chain000")
        assert chain0.admins == 1 and chain0.status == "ready"
        with statements(engine) as counter:
            sub = svc.tenant_tree(s, anna, "CHAIN050")
        assert counter.count == 1
        assert [n.name for n in sub.nodes.values()] == [f"chain{i:03d}" for i in range(50, 60)]


def test_subtree_rows_give_depth_from_the_root_given(engine, bulk_tree):
    with scope(engine) as s:
        bulk_tree(s, fanout=2, levels=2, chain=5)
    with scope(engine, readonly=True) as s:
        chain1 = s.exec(select(Tenant).where(Tenant.name == "chain001")).one()
        rows = subtree_rows(s, chain1.id)
        assert sorted((name, depth) for _id, _parent, name, depth in rows) == [
            ("chain001", 0),
            ("chain002", 1),
            ("chain003", 2),
            ("chain004", 3),
        ]
        assert {parent for _id, parent, name, _d in rows if name == "chain002"} == {chain1.id}
