"""Tenant services: the tree in one statement, cycles, password rules and fingerprints, logo checks."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import event
from sqlmodel import select

from partnerctl.errors import InvalidInput
from partnerctl.services import tenants as svc
from partnerctl.services.tenants import passwords
from partnerctl.store.models import User
from partnerctl.store.models.tenants import Tenant, TenantAdmin
from tests.helpers.store import admin, scope


def _bulk_tree(s, fanout: int, levels: int, chain: int) -> int:
    """A balanced tree under the master plus a chain `chain` deep; returns how many tenants it added."""
    master = svc.get_master(s)
    frontier, added = [master.id], 0
    for level in range(levels):
        nxt = []
        for pid in frontier:
            rows = [
                Tenant(name=f"t{level}-{pid}-{i}", name_key=f"t{level}-{pid}-{i}", parent_id=pid)
                for i in range(fanout)
            ]
            s.add_all(rows)
            s.flush()
            nxt += [r.id for r in rows]
            added += len(rows)
        frontier = nxt
    parent = master.id
    for i in range(chain):
        row = Tenant(name=f"chain{i:03d}", name_key=f"chain{i:03d}", parent_id=parent)
        s.add(row)
        s.flush()
        parent = row.id
        added += 1
    return added


class StatementCounter:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._hit)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._hit)

    def _hit(self, *args):
        self.count += 1


def test_tree_is_one_statement_and_keeps_depth_and_order(engine):
    with scope(engine) as s:
        added = _bulk_tree(s, fanout=6, levels=3, chain=60)
        s.add(TenantAdmin(tenant_id=s.exec(select(Tenant.id).where(Tenant.name == "chain000")).one(), email="a@x.example",
                          username="a@x.example", username_key="a@x.example", password_hash="h", pw_fingerprint="f"))  # fmt: skip
    with scope(engine, readonly=True) as s:
        s.exec(select(User)).first()  # the session's connection is open before counting
        with StatementCounter(engine) as counter:
            tree = svc.tenant_tree(s)
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
        with StatementCounter(engine) as counter:
            sub = svc.tenant_tree(s, "CHAIN050")
        assert counter.count == 1
        assert [n.name for n in sub.nodes.values()] == [f"chain{i:03d}" for i in range(50, 60)]


def test_cycles_in_deep_chains_and_recursive_remove(engine):
    with scope(engine) as s:
        _bulk_tree(s, fanout=0, levels=0, chain=30)
    with scope(engine) as s, pytest.raises(InvalidInput, match="cycle"):
        svc.move_tenant(s, admin(s), "chain000", "chain029")
    with scope(engine) as s:
        svc.move_tenant(s, admin(s), "chain029", "Acme Partners")
        removed = svc.remove_tenant(s, admin(s), "chain000", recursive=True)
        assert len(removed) == 29 and removed[0] == "chain028"  # deepest first
    with scope(engine, readonly=True) as s:
        assert [n.name for n in svc.tenant_tree(s).nodes.values()] == ["Acme Partners", "chain029"]


def test_password_rules_use_the_tenant_and_person(engine):
    with scope(engine) as s:
        svc.create_tenant(s, admin(s), name="Konditorei Sonnenschein")
        svc.create_tenant(s, admin(s), name="Other Shop")
    # Strong on its own, weak for this tenant: zxcvbn gets the tenant name and e-mail as user inputs.
    with scope(engine) as s, pytest.raises(InvalidInput, match="too weak"):
        svc.add_admin(s, admin(s), "Konditorei Sonnenschein", email="mara@konditorei.example",
                      password="KonditoreiSonnenschein")  # fmt: skip
    with scope(engine) as s:
        a, count = svc.add_admin(
            s, admin(s), "Other Shop", email="mara@other.example", password="KonditoreiSonnenschein"
        )
        assert count == 1
        assert a.password_hash.startswith("$argon2id$") and len(a.pw_fingerprint) == 64
        assert "KonditoreiSonnenschein" not in a.password_hash + a.pw_fingerprint
        fp = a.pw_fingerprint
    with scope(engine) as s:
        # Equal passwords give equal fingerprints in one store (that is how reuse is found)...
        assert passwords.password_fingerprint(s, "KonditoreiSonnenschein") == fp
        assert passwords.password_fingerprint(s, "KonditoreiSonnenschein!") != fp
        # ...while the login hash is salted: two hashes of one password differ.
        assert passwords.hash_password("KonditoreiSonnenschein") != passwords.hash_password(
            "KonditoreiSonnenschein"
        )
    for _ in range(20):
        generated = svc.generate_password()
        svc.check_password_strength(generated)
        assert len(generated) == 20


def _png(size, mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_check_logo_limits(backend):
    info = svc.check_logo(_png((600, 300)))
    assert (info.mime, info.width, info.height) == ("image/png", 600, 300)
    # A huge canvas that compresses to a few KiB is refused from its header, before decoding.
    bomb = _png((5000, 5000), mode="1")
    assert len(bomb) < svc.LOGO_MAX_BYTES
    with pytest.raises(InvalidInput, match="5000x5000 pixels"):
        svc.check_logo(bomb)
    with pytest.raises(InvalidInput, match="not an image"):
        svc.check_logo(b"GIF89a but not really")
    with pytest.raises(InvalidInput, match="empty"):
        svc.check_logo(b"")
