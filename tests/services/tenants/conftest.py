"""Fixtures for the tenant service tests: a bulk-built tree and a counter of SQL statements."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from partnerctl.services.tenants.rules import get_master
from partnerctl.store.models.tenants import Tenant


def _bulk_tree(s, fanout: int, levels: int, chain: int) -> int:
    """A balanced tree under the master plus a chain `chain` deep; returns how many tenants it added."""
    master = get_master(s)
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


@pytest.fixture
def bulk_tree():
    """bulk_tree(session, fanout, levels, chain): tenants written directly, without the services."""
    return _bulk_tree


@pytest.fixture
def statements():
    """statements(engine): a context manager counting the SQL statements sent while it is open."""
    return StatementCounter
