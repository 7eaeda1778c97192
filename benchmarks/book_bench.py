"""Time `book export`, `book plan` and `book apply` of a book of N clients against `client export` of
the same clients, measured in the same run.

    python benchmarks/book_bench.py                 # 100,000 clients, SQLite in a temporary directory
    python benchmarks/book_bench.py -n 10000
    python benchmarks/book_bench.py --store postgresql+psycopg://postgres@127.0.0.1:5432/test

The store is made as import_bench.py makes it (init, 2 users, 2 integrations, a product on the default
template) and filled by `client import` (the fast bulk import), so every client has groups, assigned
users, integrations and a subscription. With --store, a scratch database `partnerctl_bench_<random>` is
created on that server and dropped at the end. Each command runs in a child process, start-up included:

  baseline   partnerctl client export --archived --file FILE   (the same clients, one CSV file)
  export     partnerctl book export DIR                          (N + 4 TOML files)
  plan       partnerctl book plan DIR                            (no changes: checked)
  plan 1     partnerctl book plan DIR --out PLAN, one file edited (one change: checked)
  apply 1    partnerctl book apply PLAN                          (fingerprint, the change, plan again)

Times are wall-clock on this machine in this run; the ratios to the baseline are what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from import_bench import PgDatabases, fresh_store, run  # noqa: E402
from make_clients import client_rows, write_csv  # noqa: E402


def bench(url: str, n: int, work: Path, env: dict) -> None:
    fresh_store(url, env)
    csv_path = work / "clients.csv"
    write_csv(csv_path, client_rows(n, seed=42))
    start = time.perf_counter()
    _, _, proc = run(["--store", url, "client", "import", str(csv_path), "-o", "json"], env)
    assert json.loads(proc.stdout)["created"] == n, proc.stdout
    print(f"store: {url.split('://')[0]}, {n:,} clients imported in {time.perf_counter() - start:.1f} s")
    cli = ["--store", url]
    results: dict[str, tuple[float, int]] = {}
    results["baseline: client export"] = run(
        [*cli, "client", "export", "--archived", "--file", str(work / "c.csv")], env
    )[:2]
    book = work / "book"
    results["book export"] = run([*cli, "book", "export", str(book)], env)[:2]
    assert len(list((book / "clients").iterdir())) == n
    t, rss, proc = run([*cli, "book", "plan", str(book), "-o", "json"], env)
    assert json.loads(proc.stdout) == {"changes": [], "money": []}, proc.stdout[:500]
    results["book plan (no changes)"] = (t, rss)
    first = sorted((book / "clients").iterdir())[0]
    first.write_text(re.sub(r'^language = ".*"$', 'language = "fi"', first.read_text(encoding="utf-8"), count=1,
                            flags=re.MULTILINE), encoding="utf-8")  # fmt: skip
    plan_file = work / "one.plan"
    t, rss, proc = run([*cli, "book", "plan", str(book), "--out", str(plan_file), "-o", "json"], env)
    assert len(json.loads(proc.stdout)["changes"]) == 1, proc.stdout[:500]
    results["book plan (1 change, --out)"] = (t, rss)
    results["book apply (1 change)"] = run([*cli, "book", "apply", str(plan_file)], env)[:2]
    base = results["baseline: client export"][0]
    print(f"  {'command':32} {'seconds':>8} {'x baseline':>11} {'peak RSS':>9}")
    for label, (seconds, rss) in results.items():
        print(f"  {label:32} {seconds:8.2f} {seconds / base:11.2f} {rss:>6} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="number of clients (default 100,000)")
    parser.add_argument("--store", help="PostgreSQL server URL (a scratch database is created on it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="partnerctl-book-bench-") as tmp:
        run_in(Path(tmp), args)


def run_in(work: Path, args: argparse.Namespace) -> None:
    env = {**os.environ, "PARTNERCTL_CONFIG_DIR": str(work / "config"), "PARTNERCTL_DATA_DIR": str(work / "data"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}  # fmt: skip
    env.pop("PARTNERCTL_PROFILE", None)
    if not args.store:
        bench(f"sqlite:///{work / 'store.db'}", args.n, work, env)
        return
    pg = PgDatabases(args.store)
    try:
        bench(pg.new(), args.n, work, env)
    finally:
        pg.drop_all()


if __name__ == "__main__":
    main()
