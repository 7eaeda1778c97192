"""Benchmark: load and print a tree of 10,000 tenants with one query.

Run:  python benchmarks/tenant_tree_bench.py [--tenants 10000] [--chain 200] [--repeat 5] [--store URL]

It builds a fresh store (a temporary SQLite file unless --store names an empty PostgreSQL database)
holding the master tenant plus N tenants: a balanced tree with fan-out 10 and a chain --chain deep
(the worst case for the recursive query), with an administrator on every fifth tenant. It then times,
best of --repeat, in the same run:
  baseline   a bare `SELECT * FROM tenants`, every row fetched (the least any tree load must do),
  tree       `services.tenants.tenant_tree` (one recursive CTE joined with the admin counts + building
             the parent/child links in Python), counting its SQL statements (must be 1); timed once
             right after the bulk load and again after ANALYZE (what autovacuum soon does),
  render     what `partnerctl tenant tree` prints (a rich.tree.Tree up to 2,000 nodes; above that the
             same guide lines written directly), and, for scale, rich.tree.Tree on the whole tree,
and prints the absolute times and the ratio tree / baseline.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from partnerctl.services import tenants as svc
from partnerctl.store.engine import make_engine, normalize_url, session_scope
from partnerctl.store.models import Partner, User
from partnerctl.store.models.tenants import Tenant, TenantAdmin
from partnerctl.store.schema import upgrade

FANOUT = 10


def populate(engine, n: int, chain: int) -> None:
    rows = [
        {
            "id": 1,
            "parent_id": None,
            "name": "Bench Partners",
            "name_key": "bench partners",
            "is_master": True,
        }
    ]
    next_id = 2
    balanced = n - chain
    frontier = [1]
    while len(rows) - 1 < balanced:
        nxt = []
        for pid in frontier:
            for _ in range(FANOUT):
                if len(rows) - 1 >= balanced:
                    break
                rows.append({"id": next_id, "parent_id": pid, "name": f"Tenant {next_id:05d}",
                             "name_key": f"tenant {next_id:05d}", "is_master": False})  # fmt: skip
                nxt.append(next_id)
                next_id += 1
        frontier = nxt
    parent = 1
    for _ in range(chain):
        rows.append({"id": next_id, "parent_id": parent, "name": f"Chain {next_id:05d}",
                     "name_key": f"chain {next_id:05d}", "is_master": False})  # fmt: skip
        parent = next_id
        next_id += 1
    defaults = {
        "type": "standard",
        "edition": "basic",
        "charset": "UTF-8",
        "needs_setup": False,
        "handed_over": False,
    }
    with session_scope(engine) as s:
        s.add(Partner(name="Bench Partners"))
        s.add(User(email="bench@acme.example", name="Bench", role="admin"))
        s.flush()
        # Parents before children: insert level by level in id order (ids are assigned top-down).
        for i in range(0, len(rows), 2000):
            s.execute(sa.insert(Tenant), [{**defaults, **r} for r in rows[i : i + 2000]])
        s.execute(
            sa.insert(TenantAdmin),
            [
                {
                    "tenant_id": r["id"],
                    "email": f"a{r['id']}@bench.example",
                    "username": f"a{r['id']}@bench.example",
                    "username_key": f"a{r['id']}@bench.example",
                    "name": "",
                    "password_hash": "x",
                    "pw_fingerprint": f"fp{r['id']}",
                }  # fmt: skip
                for r in rows[1::5]
            ],
        )
        if engine.dialect.name == "postgresql":
            s.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('tenants', 'id'), (SELECT max(id) FROM tenants))"
                )
            )


def best_of(repeat: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=10_000, help="tenants below the master")
    parser.add_argument("--chain", type=int, default=200, help="how many of them form one deep chain")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    parser.add_argument("--store", help="an EMPTY PostgreSQL database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    tmp = None
    if args.store:
        url = normalize_url(args.store)
    else:
        tmp = tempfile.TemporaryDirectory()
        url = normalize_url(f"sqlite:///{Path(tmp.name) / 'bench.db'}")
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    populate(engine, args.tenants, args.chain)
    print(f"backend {engine.dialect.name}: built {args.tenants:,} tenants below the master "
          f"(fan-out {FANOUT}, a chain {args.chain} deep) in {time.perf_counter() - t0:.1f} s")  # fmt: skip

    from rich.console import Console

    from partnerctl.commands.tenant import render_tree, tree_lines
    from partnerctl.output.tree import RICH_TREE_MAX_NODES

    statements = 0

    def count(*_a):
        nonlocal statements
        statements += 1

    admin = User(email="bench@acme.example", role="admin")  # the tree as an admin sees it: all of it

    with session_scope(engine, readonly=True) as s:
        s.execute(sa.text("SELECT 1"))

        def baseline():
            return s.execute(sa.text("SELECT * FROM tenants")).fetchall()

        def tree():
            return svc.tenant_tree(s, admin)

        # Right after a bulk load the planner has no statistics yet (PostgreSQL then scans the whole
        # table once per tree level); autovacuum soon analyses it. Time both, report both.
        fresh_s, _ = best_of(args.repeat, tree)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE"))
    with session_scope(engine, readonly=True) as s:
        s.execute(sa.text("SELECT 1"))
        baseline_s, rows = best_of(args.repeat, baseline)
        event.listen(engine, "before_cursor_execute", count)
        tree_s, result = best_of(args.repeat, tree)
        event.remove(engine, "before_cursor_execute", count)

    def render_command():
        # What `partnerctl tenant tree` prints for a tree this size (Rich up to 2,000 nodes, else lines).
        if len(result) <= RICH_TREE_MAX_NODES:
            return render_rich()
        return "\n".join(tree_lines(result)) + "\n"

    def render_rich():
        console = Console(file=io.StringIO(), width=200, no_color=True, highlight=False)
        console.print(render_tree(result))
        return console.file.getvalue()

    render_s, text = best_of(args.repeat, render_command)
    rich_s, rich_text = best_of(1, render_rich)
    depth = max(n.depth for n in result.nodes.values())
    assert len(result) == len(rows) == args.tenants + 1
    print(f"baseline  SELECT * FROM tenants        {baseline_s * 1000:8.1f} ms  ({len(rows):,} rows)")
    print(f"tree      one recursive query + links  {tree_s * 1000:8.1f} ms  "
          f"({statements // args.repeat} statement(s) per load, depth {depth})")  # fmt: skip
    print(f"ratio     tree / baseline              {tree_s / baseline_s:8.2f} x")
    print(f"          (before ANALYZE: tree        {fresh_s * 1000:8.1f} ms)")
    print(
        f"render    as `tenant tree` prints it   {render_s * 1000:8.1f} ms  ({len(text.splitlines()):,} lines)"
    )
    print(
        f"          (rich.tree.Tree, for scale   {rich_s * 1000:8.1f} ms  = {rich_s / render_s:.0f}x the line renderer)"
    )
    print(f"total     query + print                {(tree_s + render_s) * 1000:8.1f} ms  "
          f"(query time {'under' if tree_s < 1 else 'OVER'} the 1 s target)")  # fmt: skip
    engine.dispose()
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
