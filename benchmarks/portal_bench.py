"""Time to the portal's first screen and to the end of the list on 100,000 clients, against `client list`.

    python benchmarks/portal_bench.py                      # SQLite in a temporary file
    python benchmarks/portal_bench.py --store postgresql+psycopg://postgres@127.0.0.1:5432/test

The store is filled as client_list_bench.py fills it (driver-level bulk insert). With --store, a
database `partnerctl_bench_<pid>` is created on that server and dropped at the end. Measured in the
same run, each the median of --repeat runs, for an admin (All: every client) and a bookkeeper (My
clients):

- baseline: `client list --limit PAGE` run in-process through the real command tree (first page,
  tab counts, rendered), and the service call it makes (`list_clients` with the tab counts);
- first screen: a new PortalApp under Textual's run_test (headless, 80x24) until the table holds
  its first page and the tab bar its counts (painted on the next frame);
- end of the list: End pressed on that screen until the cursor is on the last row and that row is
  loaded.

It prints the ratios against the baseline, and how many list calls and rows each step read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client_list_bench import fill  # noqa: E402  (the same 100,000 clients as the list benchmark)

from partnerctl.store.engine import make_engine, normalize_url  # noqa: E402
from partnerctl.store.schema import upgrade  # noqa: E402

ACTORS = {"admin (All)": "anna@acme.example", "bookkeeper (My clients)": "bob@acme.example"}


def cli_list(as_user: str, page: int) -> None:
    """`partnerctl --as USER client list --limit PAGE -o table`, in-process, output discarded."""
    from partnerctl.cli import click_command

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            click_command().main(
                ["--as", as_user, "client", "list", "--limit", str(page), "-o", "table"],
                prog_name="partnerctl",
            )
        except SystemExit as exc:
            assert not exc.code, exc.code


def service_list(as_user: str, page: int) -> None:
    from partnerctl.context import AppContext
    from partnerctl.services.clients import ClientFilters, list_clients

    app_ctx = AppContext(as_user=as_user)
    with app_ctx.session(readonly=True) as s:
        list_clients(s, app_ctx.actor(s), ClientFilters(limit=page), with_counts=True)


async def until(condition, timeout: float = 60.0) -> None:
    """Poll `condition` every millisecond (not pilot.pause: its idle detection would be timed too)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        assert time.perf_counter() < deadline, "timed out"
        await asyncio.sleep(0.001)


def portal_times(as_user: str, page: int) -> tuple[float, float, tuple[int, int], tuple[int, int]]:
    """(ms to the first screen, ms from End to the last row, (calls, rows) read for each)."""
    from textual import events

    from partnerctl.context import AppContext
    from partnerctl.portal.app import PortalApp
    from partnerctl.portal.clients import ClientsScreen
    from partnerctl.portal.data import PortalData

    out = {}

    async def main() -> None:
        t = time.perf_counter()
        data = PortalData(AppContext(as_user=as_user), page_size=page)
        app = PortalApp(data, data.whoami())
        async with app.run_test(size=(80, 24)) as pilot:
            await until(lambda: isinstance(app.screen, ClientsScreen) and app.screen.counts)
            table = app.screen.table
            await until(lambda: table.cache.row(0) is not None)
            out["first"] = (time.perf_counter() - t) * 1000
            out["first_read"] = (data.list_calls, data.rows_fetched)
            t = time.perf_counter()
            # As the terminal driver hands over a key (pilot.press would also time its idle waits).
            app.post_message(events.Key("end", None))
            await until(lambda: table.cursor == table.cache.total - 1 and table.current is not None)
            out["end"] = (time.perf_counter() - t) * 1000
            out["end_read"] = (
                data.list_calls - out["first_read"][0],
                data.rows_fetched - out["first_read"][1],
            )
            await pilot.press("q")

    asyncio.run(main())
    return out["first"], out["end"], out["first_read"], out["end_read"]


def median_ms(fn, repeat: int) -> float:
    fn()  # warm the engine, the schema check and the caches
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run(url: str, n: int, page: int, repeat: int) -> None:
    engine = make_engine(normalize_url(url))
    upgrade(engine)
    t = time.perf_counter()
    fill(engine, n)
    engine.dispose()
    print(f"{engine.dialect.name}: filled {n:,} clients in {time.perf_counter() - t:.1f} s; page {page} rows")
    os.environ["PARTNERCTL_STORE"] = url
    import textual.app  # noqa: F401  (imported once, as `portal` does before its first screen)

    for label, email in ACTORS.items():
        cli_ms = median_ms(lambda e=email: cli_list(e, page), repeat)
        svc_ms = median_ms(lambda e=email: service_list(e, page), repeat)
        portal_times(email, page)  # warm-up
        runs = [portal_times(email, page) for _ in range(repeat)]
        first = statistics.median(r[0] for r in runs)
        end = statistics.median(r[1] for r in runs)
        first_read, end_read = runs[-1][2], runs[-1][3]
        print(f"  {label}")
        print(f"    baseline `client list --limit {page}` (in-process): {cli_ms:8.1f} ms")
        print(f"    baseline list_clients + tab counts (service):       {svc_ms:8.1f} ms")
        print(
            f"    portal first screen:  {first:8.1f} ms = {first / cli_ms:5.2f}x client list, "
            f"{first / svc_ms:5.2f}x the service; read {first_read[0]} call(s), {first_read[1]} rows"
        )
        print(
            f"    portal End -> last row: {end:6.1f} ms = {end / cli_ms:5.2f}x client list, "
            f"{end / svc_ms:5.2f}x the service; read {end_read[0]} call(s), {end_read[1]} rows"
        )
    from partnerctl.context import dispose_engines

    dispose_engines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="PostgreSQL server URL (a scratch database is created on it)")
    parser.add_argument("-n", type=int, default=100_000, help="number of clients")
    parser.add_argument("--page", type=int, default=100, help="rows per page (the portal's and --limit)")
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure (median reported)")
    args = parser.parse_args()
    os.environ.setdefault("NO_COLOR", "1")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PARTNERCTL_CONFIG_DIR"] = f"{tmp}/config"  # never the user's own profiles
        os.environ["PARTNERCTL_DATA_DIR"] = f"{tmp}/data"
        if not args.store:
            run(f"sqlite:///{tmp}/bench.db", args.n, args.page, args.repeat)
            return
        server = normalize_url(args.store)
        name = f"partnerctl_bench_{os.getpid()}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(server).set(database=name).render_as_string(hide_password=False)
            run(url, args.n, args.page, args.repeat)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
