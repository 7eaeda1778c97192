"""Query time of typical `client list` calls on a store with 100,000 clients, against a baseline.

    python benchmarks/client_list_bench.py                      # SQLite in a temporary file
    python benchmarks/client_list_bench.py --store postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/client_list_bench.py --store ... --roles  # as an admin's and a bookkeeper's roles

--roles (PostgreSQL) runs every query as two non-superuser login roles made for the run, an admin's
and a bookkeeper's, linked to the two users: row-level security is then in the path of every query
(a superuser bypasses it). The roles must be able to log in without a password (trust or peer
authentication for the server URL's host); they and the store's group roles are dropped at the end.

With --store, a fresh database `partnerctl_bench_<pid>` is created on that server and dropped at the
end; after the bulk load it runs VACUUM ANALYZE, as autovacuum soon would (SQLite: ANALYZE). Every
figure is the median of --repeat runs of the service call `list_clients` (total + page + the page's
rows, groups and assignees + tab counts where shown), printed in ms and as a ratio of the baseline
(a bare `SELECT count(*) FROM clients`) measured in the same run. Target: under 100 ms each. Each
case is first checked against a plain count and a plain query of the same list.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, func, select

from partnerctl.services.clients import ClientFilters, client_query, list_clients, order_clients, tab_counts
from partnerctl.store.engine import make_engine, normalize_url
from partnerctl.store.models import Client, ClientAssignment, ClientGroup, ConfigTemplate, User
from partnerctl.store.models.core import Role
from partnerctl.store.schema import upgrade

WORDS = [
    "bakery",
    "garage",
    "studio",
    "consult",
    "logistics",
    "dental",
    "legal",
    "media",
    "farm",
    "build",
    "tech",
    "retail",
    "foods",
    "bikes",
]
GROUPS = ["Retail", "Horeca", "Construction", "Health", "Services", "Tech", "Agri", "Nonprofit"]


def fill(engine, n: int) -> None:
    rng = random.Random(42)
    now = datetime.now(UTC)
    with Session(engine) as s:
        admin = User(email="anna@acme.example", role=Role.admin)
        bob = User(email="bob@acme.example", role=Role.bookkeeper)
        tpl = ConfigTemplate(name="Standard", name_key="standard", is_default=True)
        s.add_all([admin, bob, tpl])
        s.commit()
        admin_id, bob_id, tpl_id = admin.id, bob.id, tpl.id
    statuses = ["active"] * 80 + ["onboarding"] * 12 + ["invited"] * 3 + ["archived"] * 5
    chunk = 20_000
    with engine.begin() as conn:
        for start in range(0, n, chunk):
            rows, groups, assigns = [], [], []
            for i in range(start, min(n, start + chunk)):
                name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {i:06d} BV"
                rows.append(
                    {
                        "id": i + 1, "ref": f"C-{i:06d}", "ref_key": f"c-{i:06d}", "name": name,
                        "name_key": name.lower(), "status": rng.choice(statuses), "currency": "EUR",
                        "language": rng.choice(["en", "nl", "de", "fr", "da"]), "permissions": [],
                        "missing_receipts": rng.choice([0] * 7 + [1, 3, 12]),
                        "wallet_balance": Decimal(rng.randint(0, 100000)) / 100, "expenses_ready": rng.randint(0, 5),
                        "template_id": tpl_id, "template_version": 1, "created_at": now - timedelta(minutes=i),
                        "updated_at": now,
                    }
                )  # fmt: skip
                groups.append({"client_id": i + 1, "group_name": rng.choice(GROUPS)})
                if i % 10 == 0:
                    assigns.append({"client_id": i + 1, "user_id": bob_id})
                if i % 50 == 0:
                    assigns.append({"client_id": i + 1, "user_id": admin_id})
            conn.execute(insert(Client.__table__), rows)
            conn.execute(insert(ClientGroup.__table__), groups)
            conn.execute(insert(ClientAssignment.__table__), assigns)
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('clients_id_seq', (SELECT max(id) FROM clients))"))
        else:
            conn.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk insert: statistics for the planner, and the
        # visibility map that lets the list's covering indexes answer without visiting the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def check(s: Session, actor: User, filters: ClientFilters, page) -> None:
    """The fast paths (total from the tab bar, from a short page, from a window count) agree with
    a plain count and a plain query of the same list."""
    query = order_clients(client_query(s, actor, filters), filters)
    expected_total = s.exec(select(func.count()).select_from(query.subquery())).one()
    assert page.total == expected_total, (filters, page.total, expected_total)
    expected = list(s.exec(query.with_only_columns(Client.id).offset(filters.offset).limit(filters.limit)))
    assert [c.id for c in page.rows] == expected, filters
    if page.tab_counts:
        for tab, n in page.tab_counts.items():
            tab_query = client_query(s, actor, ClientFilters(tab=tab))
            assert n == s.exec(select(func.count()).select_from(tab_query.subquery())).one(), tab


def median_ms(fn, repeat: int) -> float:
    fn()  # warm caches and the statement cache
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def role_sessions(engine, url: str) -> tuple[dict[str, Session], list]:
    """Sessions as an admin's and a bookkeeper's own login roles (linked to users 1 and 2)."""
    from partnerctl.store.roles import group_roles

    database = make_url(url).database
    groups = group_roles(database)
    names = {"admin": f"bench_admin_{os.getpid()}", "bob": f"bench_bob_{os.getpid()}"}
    with engine.begin() as conn:
        for who, group, user_id in (("admin", groups.admin, 1), ("bob", groups.bookkeeper, 2)):
            conn.execute(text(f'CREATE ROLE "{names[who]}" LOGIN'))
            conn.execute(text(f'GRANT "{group}" TO "{names[who]}"'))
            conn.execute(text("UPDATE users SET db_role = :r WHERE id = :i"), {"r": names[who], "i": user_id})
    engines = {
        who: make_engine(make_url(url).set(username=name, password=None)) for who, name in names.items()
    }
    return {who: Session(e) for who, e in engines.items()}, [*engines.values(), *names.values()]


def run(url: str, n: int, repeat: int, roles: bool = False) -> list[str]:
    """Fill a store, time the cases; returns the login roles made (to drop after the database)."""
    engine = make_engine(normalize_url(url))
    upgrade(engine)
    t = time.perf_counter()
    fill(engine, n)
    print(f"{engine.dialect.name}: filled {n:,} clients in {time.perf_counter() - t:.1f} s")
    made: list = []
    with Session(engine) as s:
        users = {"admin": s.get(User, 1), "bob": s.get(User, 2)}
        s.expunge_all()
        sessions = {"admin": s, "bob": s}
        if roles:
            sessions, made = role_sessions(engine, url)
            print("  as login roles (not superusers): row-level security in the path of every query")
        time_cases(s, sessions, users, repeat)
        for session in sessions.values():
            session.close()
    for thing in made:
        if not isinstance(thing, str):
            thing.dispose()
    engine.dispose()
    return [m for m in made if isinstance(m, str)]


def time_cases(
    base_session: Session, sessions: dict[str, Session], users: dict[str, User], repeat: int
) -> None:
    def baseline():
        base_session.exec(text("SELECT count(*) FROM clients")).one()

    cases = {
        "tab all, by name, first 100 (+tab counts)": ("admin", ClientFilters(limit=100), True),
        "page 500 (offset 50,000)": ("admin", ClientFilters(limit=100, offset=50_000), False),
        "search 'garage 0123' (name or ref)": ("admin", ClientFilters(search="garage 0123", limit=100), False),
        "search 'c-0999' (a ref)": ("admin", ClientFilters(search="c-0999", limit=100), False),
        "missing receipts, sort desc": (
            "admin", ClientFilters(missing_receipts=True, sort="missing-receipts", desc=True, limit=100), False,
        ),
        "group Retail, sort created desc": ("admin", ClientFilters(group="Retail", sort="created", desc=True, limit=100), False),
        "tab onboarding": ("admin", ClientFilters(tab="onboarding", limit=100), False),
        "tab invites": ("admin", ClientFilters(tab="invites", limit=100), False),
        "status active, language nl": ("admin", ClientFilters(status="active", language="nl", limit=100), False),
        "bookkeeper: mine (+tab counts)": ("bob", ClientFilters(limit=100), True),
        "bookkeeper: search 'bakery'": ("bob", ClientFilters(search="bakery", limit=100), False),
        "bookkeeper: onboarding page 3 (+tab counts)": ("bob", ClientFilters(tab="onboarding", limit=100, offset=200), True),
        "search 'bakery', offset past the end": ("admin", ClientFilters(search="bakery", limit=100, offset=99_000), False),
    }  # fmt: skip
    base = median_ms(baseline, repeat)
    print(f"  baseline SELECT count(*) FROM clients: {base:.2f} ms")
    print(f"  {'query':48} {'ms':>8} {'x baseline':>11}  rows/total")
    worst = 0.0
    for label, (who, filters, counts) in cases.items():
        s, actor = sessions[who], users[who]
        page = list_clients(s, actor, filters, with_counts=counts)
        check(s, actor, filters, page)
        ms = median_ms(lambda s=s, a=actor, f=filters, c=counts: list_clients(s, a, f, with_counts=c), repeat)
        worst = max(worst, ms)
        print(f"  {label:48} {ms:8.2f} {ms / base:11.1f}  {len(page.rows)}/{page.total}")
    ms = median_ms(lambda: tab_counts(sessions["admin"], users["admin"]), repeat)
    print(f"  {'tab counts alone (4 tabs, admin)':48} {ms:8.2f} {ms / base:11.1f}")
    worst = max(worst, ms)
    print(f"  worst: {worst:.1f} ms ({'under' if worst < 100 else 'OVER'} the 100 ms target)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="PostgreSQL server URL (a scratch database is created on it)")
    parser.add_argument("-n", type=int, default=100_000, help="number of clients")
    parser.add_argument("--repeat", type=int, default=15, help="runs per query (median reported)")
    parser.add_argument("--roles", action="store_true", help="PostgreSQL: query as non-superuser login roles")
    args = parser.parse_args()
    if args.roles and not args.store:
        parser.error("--roles needs --store (row-level security is PostgreSQL's)")
    if args.store:
        server = normalize_url(args.store)
        name = f"partnerctl_bench_{os.getpid()}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        made: list[str] = []
        try:
            url = make_url(server).set(database=name).render_as_string(hide_password=False)
            made = run(url, args.n, args.repeat, roles=args.roles)
        finally:
            from partnerctl.store.roles import group_roles

            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                # Roles are cluster-wide: the run's login roles and the store's group roles go too.
                for role in [*made, *group_roles(name).both]:
                    conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            admin.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/bench.db", args.n, args.repeat)


if __name__ == "__main__":
    main()
