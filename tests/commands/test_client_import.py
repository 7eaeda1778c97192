"""client import / export through the CLI: examples, errors file, idempotence, dry run, round trip, SIGKILL."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.helpers.pg import truncate_all
from tests.helpers.store import ADMIN

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TABLES = (
    "clients",
    "client_groups",
    "client_assignments",
    "client_integrations",
    "subscriptions",
    "audit_events",
    "outbox",
)


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        result = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
    engine.dispose()
    return result


def set_up_catalogue(cli) -> None:
    """Two bookkeepers, two integrations and a product, all on the default template (as the benchmark)."""
    cli.ok("user", "add", "bob@acme.example", "--name", "Bob")
    cli.ok("user", "add", "carl@acme.example", "--name", "Carl")
    cli.ok("integration", "add", "exact-online", "--name", "Exact Online", "--kind", "accounting")
    cli.ok("integration", "add", "moneybird", "--name", "Moneybird", "--kind", "accounting")
    cli.ok(
        "product",
        "add",
        "bk-plus",
        "--name",
        "Bookkeeping Plus",
        "--price-per-seat",
        "12.50",
        "--currency",
        "EUR",
    )


def set_template(url: str, settings: dict) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE templates SET settings = :s WHERE is_default"), {"s": json.dumps(settings)})
    engine.dispose()


FULL_TEMPLATE = {
    "users": ["bob@acme.example", "carl@acme.example"],
    "integrations": ["exact-online", "moneybird"],
    "product": {"key": "bk-plus", "payer": "partner", "seats": 1},
}


def write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return path


def export_rows(cli, *args: str) -> list[dict]:
    out = cli.ok("client", "export", "-o", "json", *args).json()
    return sorted(out, key=lambda r: r["ref"])


def test_example_file_imports_and_a_second_run_changes_nothing(initialized, cli):
    first = cli.ok("client", "import", str(EXAMPLES / "clients.csv"), "-o", "json").json()
    n = len((EXAMPLES / "clients.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert first["created"] == n >= 200 and first["rejected"] == 0
    before = counts(initialized)
    assert before["clients"] == n and before["client_groups"] >= n
    listed = cli.ok("client", "list", "--limit", "1000", "-o", "json").json()
    assert len(listed) == n
    assert {c["language"] for c in listed} >= {"nl", "de", "fr", "da", "en"}
    second = cli.ok("client", "import", str(EXAMPLES / "clients.csv"), "-o", "json").json()
    assert second["created"] == 0 and second["skipped"] == n
    assert counts(initialized) == before


def test_in_process_path_writes_the_same_as_the_worker_process(initialized, cli, monkeypatch):
    # The default prepares rows in a forked worker; PARTNERCTL_IMPORT_WORKER=0 (and platforms
    # without fork) prepare them in-process. Both must onboard exactly the same clients.
    source = str(EXAMPLES / "clients-with-errors.csv")
    cli.fails(9, "client", "import", source, "--batch-size", "3")
    with_worker = cli.ok("client", "export", "-f", "json").json()
    assert len(with_worker) == 2
    for client in with_worker:
        cli.ok("client", "remove", client["ref"], "--yes")
    monkeypatch.setenv("PARTNERCTL_IMPORT_WORKER", "0")
    in_process = cli.fails(9, "client", "import", source, "--batch-size", "3")
    assert "line 3, column contact_email" in in_process.stderr
    assert cli.ok("client", "export", "-f", "json").json() == with_worker


def test_import_onboards_like_client_add(initialized, cli, tmp_path):
    set_up_catalogue(cli)
    set_template(initialized, {**FULL_TEMPLATE, "groups": ["Standard"], "language": "nl"})
    cli.ok("client", "add", "Added Ltd", "--ref", "ADD1", "--contact-email", "a@added.example", "--welcome")
    path = write(
        tmp_path / "c.csv",
        [["ref", "name", "contact_email", "welcome"], ["IMP1", "Imported Ltd", "i@imported.example", "yes"]],
    )
    cli.ok("client", "import", str(path))
    added = cli.ok("client", "show", "ADD1", "-o", "json").json()
    imported = cli.ok("client", "show", "IMP1", "-o", "json").json()
    differ = {"ref", "name", "contact_email", "created_at", "updated_at", "id"}
    assert {k: v for k, v in imported.items() if k not in differ} == {
        k: v for k, v in added.items() if k not in differ
    }
    assert imported["language"] == "nl"
    rows = {r["ref"]: r for r in export_rows(cli)}
    assert rows["IMP1"]["assign"] == ["bob@acme.example", "carl@acme.example"]
    assert rows["IMP1"]["integrations"] == rows["ADD1"]["integrations"] == ["exact-online", "moneybird"]
    c = counts(initialized)
    assert c["subscriptions"] == 2 and c["outbox"] == 2
    events = cli.ok("audit", "list", "--limit", "50", "-o", "json").json()
    by_key = Counter((e["action"], e["key"]) for e in events)
    assert by_key[("client.add", "IMP1")] == 1 and by_key[("client.add", "ADD1")] == 1
    assert Counter(e["action"] for e in events)["subscription.add"] == 2
    imp_event = next(e for e in events if e["action"] == "client.add" and e["key"] == "IMP1")
    add_event = next(e for e in events if e["action"] == "client.add" and e["key"] == "ADD1")
    assert set(imp_event["after"]) == set(add_event["after"])
    assert imp_event["actor"] == ADMIN


def test_errors_are_reported_by_line_and_the_errors_file_reimports(initialized, cli, tmp_path):
    errors = tmp_path / "rejected.csv"
    result = cli.fails(
        9, "client", "import", str(EXAMPLES / "clients-with-errors.csv"), "--errors", str(errors)
    )
    assert "line 3, column contact_email" in result.stderr
    assert "line 4, column currency" in result.stderr
    assert "line 6, column ref: duplicate reference 'E001' (first on line 2)" in result.stderr
    assert "line 9:" in result.stderr and "more than the 10 columns" in result.stderr
    rejected = list(csv.reader(io.StringIO(errors.read_text(encoding="utf-8"))))
    assert rejected[0][:3] == ["line", "error", "ref"]
    assert [r[0] for r in rejected[1:]] == ["3", "4", "5", "6", "7", "8", "9", "10"]
    # The ragged row keeps every cell, so nothing of it is silently lost.
    assert rejected[7][2:] == [
        "E008",
        "Taylor Builders",
        "Harry Taylor",
        "harry@taylorbuilders.example",
        "GBP",
        "en",
        "Construction",
        "GB",
        "0",
        "12",
        "50",
    ]
    assert {c["ref"] for c in cli.ok("client", "list", "-o", "json").json()} == {"E001", "E010"}
    # Fix two rows in the errors file and import it as it is: the fixed rows go in.
    fixed = [r[:] for r in rejected]
    fixed[1][5] = "jonas@weberroofing.example"
    fixed[2][6] = "EUR"
    write(errors, fixed)
    again = cli.fails(9, "client", "import", str(errors), "-o", "json")
    assert again.json()["created"] == 2 and again.json()["skipped"] == 1
    assert {"E002", "E003"} <= {c["ref"] for c in cli.ok("client", "list", "-o", "json").json()}


def test_exit_codes_and_header_problems(initialized, cli, tmp_path):
    bad = write(tmp_path / "bad.csv", [["ref", "name", "contact_email"], ["B1", "B", "nope"], ["B2", "", ""]])
    result = cli.fails(2, "client", "import", str(bad))
    assert "none of the 2 rows" in result.stderr
    unknown = write(tmp_path / "unknown.csv", [["ref", "name", "shoe_size"], ["U1", "U", "44"]])
    result = cli.fails(2, "client", "import", str(unknown))
    assert "shoe_size" in result.stderr and "--ignore-unknown" in result.stderr
    cli.ok("client", "import", str(unknown), "--ignore-unknown")
    (tmp_path / "empty.csv").write_text("")
    cli.fails(2, "client", "import", str(tmp_path / "empty.csv"))
    cli.fails(2, "client", "import", str(tmp_path / "missing.csv"))
    cli.fails(2, "client", "import", str(unknown), "--on-existing", "merge")
    good = write(tmp_path / "good.csv", [["ref", "name"], ["G1", "Good"]])
    cli.fails(5, "--as", "nobody@acme.example", "client", "import", str(good))
    cli.ok("user", "add", "bk@acme.example")
    cli.fails(5, "--as", "bk@acme.example", "client", "import", str(good))


def test_dry_run_writes_nothing_and_reports(initialized, cli, tmp_path):
    cli.ok("client", "import", str(EXAMPLES / "clients.csv"))
    before = counts(initialized)
    path = write(
        tmp_path / "c.csv",
        [
            ["ref", "name", "language"],
            ["C00001", "Renamed", "en"],
            ["NEW1", "New One", "de"],
            ["BAD", "Bad", "xx"],
        ],
    )
    out = cli.fails(
        9, "client", "import", str(path), "--dry-run", "--on-existing", "update", "-o", "json"
    ).json()
    assert (out["created"], out["updated"], out["rejected"], out["dry_run"]) == (1, 1, 1, True)
    assert counts(initialized) == before


def test_on_existing_update_and_fail(initialized, cli, tmp_path):
    set_up_catalogue(cli)
    first = write(
        tmp_path / "a.csv",
        [
            ["ref", "name", "groups", "assign", "integrations"],
            ["U1", "One", "A;B", "bob@acme.example", "exact-online"],
        ],
    )
    cli.ok("client", "import", str(first))
    changed = write(
        tmp_path / "b.csv",
        [
            ["ref", "name", "groups", "integrations"],
            ["U1", "One Renamed", "C", "exact-online:connected;moneybird"],
        ],
    )
    failed = cli.fails(2, "client", "import", str(changed), "--on-existing", "fail")
    assert "client 'U1' already exists" in failed.stderr
    out = cli.ok("client", "import", str(changed), "--on-existing", "update", "-o", "json").json()
    assert out["updated"] == 1
    row = export_rows(cli)[0]
    assert row["name"] == "One Renamed" and row["groups"] == ["C"]
    assert row["assign"] == ["bob@acme.example"]  # not in the file: kept
    assert row["integrations"] == ["exact-online:connected", "moneybird"]
    again = cli.ok("client", "import", str(changed), "--on-existing", "update", "-o", "json").json()
    assert (again["updated"], again["unchanged"]) == (0, 1)
    edits = cli.ok("audit", "list", "--action", "client.edit", "-o", "json").json()
    assert len(edits) == 1 and edits[0]["before"]["name"] == "One"


def test_json_jsonl_and_stdin(initialized, cli, tmp_path):
    objs = [
        {"ref": "J1", "name": "Json One", "groups": ["X", "Y"]},
        {"ref": "J2", "name": "Json Two", "missing_receipts": 3},
    ]
    (tmp_path / "c.json").write_text(json.dumps(objs, indent=2))
    cli.ok("client", "import", str(tmp_path / "c.json"))
    lines = "\n".join(
        json.dumps(o) for o in [{"ref": "L1", "name": "Line One"}, {"ref": "L2", "name": "Line Two"}]
    )
    cli.ok("client", "import", "-", "--format", "jsonl", input=lines)
    cli.ok("client", "import", "-", input="ref,name\nS1,Stdin One\n")
    rows = {r["ref"]: r for r in export_rows(cli)}
    assert set(rows) == {"J1", "J2", "L1", "L2", "S1"}
    assert rows["J1"]["groups"] == ["X", "Y"] and rows["J2"]["missing_receipts"] == 3


def test_export_then_import_into_an_empty_store_reproduces_the_clients(initialized, cli, tmp_path, backend):
    set_up_catalogue(cli)
    rows = [
        [
            "ref",
            "name",
            "status",
            "contact_email",
            "currency",
            "groups",
            "assign",
            "integrations",
            "permissions",
            "billing_city",
            "wallet_balance",
        ],
        [
            "R1",
            "=cmd|' /C calc'!A0",
            "active",
            "r1@x.example",
            "DKK",
            "A;B",
            "bob@acme.example",
            "moneybird:connected",
            "invoices",
            "Århus",
            "-12.50",
        ],
        ["R2", '+Plus, "quoted"', "archived", "", "EUR", "", "", "", "", "", "0"],
        [
            "R3",
            "@at\nnewline",
            "invited",
            "",
            "USD",
            "Z",
            "carl@acme.example",
            "",
            "support;files",
            "'=not a formula",
            "7",
        ],
        ["R4", "Plain", "onboarding", "", "EUR", "", "", "exact-online", "", "-", "1000000"],
    ]
    cli.ok("client", "import", str(write(tmp_path / "in.csv", rows)), "--no-template")
    exported = cli.ok("client", "export", "--archived").stdout
    assert "'=cmd|' /C calc'!A0" in exported and "'+Plus" in exported and "'-12.5," in exported
    # A cell already protected on the way in ('=...) is the text =..., protected again on the way out.
    assert ",'=not a formula," in exported
    (tmp_path / "out.csv").write_text(exported, encoding="utf-8")
    original = export_rows(cli, "--archived")
    assert {r["ref"]: r["name"] for r in original}["R1"] == "=cmd|' /C calc'!A0"
    assert {r["ref"]: r["billing_city"] for r in original}["R3"] == "=not a formula"
    # A fresh store with the same users and catalogue.
    if backend == "sqlite":
        os.environ["PARTNERCTL_STORE"] = f"sqlite:///{tmp_path / 'second.db'}"
    else:
        truncate_all(initialized)
    cli.ok("init", "--partner", "Other", "--admin-email", ADMIN)
    set_up_catalogue(cli)
    cli.ok("client", "import", str(tmp_path / "out.csv"))
    assert export_rows(cli, "--archived") == original
    assert cli.ok("client", "export", "--archived").stdout == exported


def _snapshot(cli, url: str) -> dict:
    c = counts(url)
    rows = export_rows(cli, "--archived")
    events = Counter(e["action"] for e in cli.ok("audit", "list", "--limit", "100000", "-o", "json").json())
    return {"counts": c, "rows": rows, "events": events}


@pytest.mark.slow
def test_sigkill_halfway_then_rerun_equals_one_clean_run(initialized, cli, tmp_path, backend):
    set_up_catalogue(cli)
    set_template(initialized, FULL_TEMPLATE)
    sys.path.insert(0, str(EXAMPLES))
    from make_clients import client_rows, write_csv

    path = tmp_path / "many.csv"
    n = write_csv(path, client_rows(1500, seed=11))
    cli.ok("client", "import", str(path), "--batch-size", "50")
    clean = _snapshot(cli, initialized)
    assert clean["counts"]["clients"] == n

    # Start again from an empty store, kill the import halfway, run it again.
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'killed.db'}"
        os.environ["PARTNERCTL_STORE"] = url
    else:
        url = initialized
        truncate_all(url)
    cli.ok("init", "--partner", "Acme Partners", "--admin-email", ADMIN)
    set_up_catalogue(cli)
    set_template(url, FULL_TEMPLATE)
    proc = subprocess.Popen(
        [sys.executable, "-m", "partnerctl", "client", "import", str(path), "--batch-size", "50"],
        env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    engine = create_engine(url)
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                done = conn.execute(text("SELECT count(*) FROM clients")).scalar_one()
            if done >= 150 or proc.poll() is not None:
                break
            time.sleep(0.02)
    finally:
        engine.dispose()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = counts(url)["clients"]
    assert 0 < partial < n, f"the import was not caught halfway ({partial} of {n})"
    # Batches are whole: every client written so far has all of its children.
    assert counts(url)["client_assignments"] == 2 * partial
    rerun = cli.ok("client", "import", str(path), "--batch-size", "50", "-o", "json").json()
    assert rerun["skipped"] == partial and rerun["created"] == n - partial
    assert _snapshot(cli, url) == clean


def test_export_shows_only_what_a_bookkeeper_sees(initialized, cli, tmp_path):
    set_up_catalogue(cli)
    path = write(
        tmp_path / "c.csv",
        [["ref", "name", "assign"], ["V1", "Visible", "bob@acme.example"], ["H1", "Hidden", ""]],
    )
    cli.ok("client", "import", str(path), "--no-template")
    out = cli.ok("--as", "bob@acme.example", "client", "export", "-o", "csv").stdout
    refs = [r["ref"] for r in csv.DictReader(io.StringIO(out))]
    assert refs == ["V1"]
    assert [r["ref"] for r in export_rows(cli)] == ["H1", "V1"]
