"""The import run: batches, a row the store refuses, keys by name, updates that share client edit's rules."""

from __future__ import annotations

import io

from sqlalchemy import create_engine, text

from partnerctl.context import AppContext
from partnerctl.services.clients import bulk as ci


def _import(data: bytes, **options) -> tuple[ci.ImportSummary, list[ci.RowError]]:
    app_ctx = AppContext()
    errors: list[ci.RowError] = []
    summary = ci.import_clients(
        app_ctx.session,
        app_ctx.actor,
        ci.read_csv(io.BytesIO(data)),
        ci.ImportOptions(**options),
        on_error=errors.append,
    )
    return summary, errors


def test_a_row_the_store_refuses_is_rejected_alone_and_wholly(initialized, cli, backend):
    # 3,000,000,000 missing receipts fits SQLite's integers but not PostgreSQL's: the batch fails there,
    # is redone row by row, and only that row is rejected, with nothing of it written.
    cli.ok("user", "add", "bob@acme.example")
    data = b"ref,name,assign,missing_receipts\nOK1,One,bob@acme.example,1\nBIG,Big,bob@acme.example,3000000000\nOK2,Two,bob@acme.example,2\n"
    summary, errors = _import(data, batch_size=10)
    engine = create_engine(initialized)
    with engine.connect() as conn:
        refs = sorted(conn.execute(text("SELECT ref FROM clients")).scalars())
        links = conn.execute(text("SELECT count(*) FROM client_assignments")).scalar_one()
        events = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'client.add'")
        ).scalar_one()
    engine.dispose()
    if backend == "postgresql":
        assert [(e.line, "store refused" in e.reason) for e in errors] == [(3, True)]
        assert refs == ["OK1", "OK2"] and links == 2 and events == 2
    else:
        assert errors == [] and refs == ["BIG", "OK1", "OK2"] and links == 3 and events == 3
    assert summary.created + summary.rejected == 3


def test_key_by_name_updates_the_matching_client(initialized, cli):
    _import(b"ref,name,currency\nN1,Nordic Bakery,EUR\n")
    summary, errors = _import(b"name,currency\nnordic bakery,DKK\n", key="name", on_existing="update")
    assert errors == [] and summary.updated == 1
    # Matched case-insensitively by name; the name itself is updated to the row's spelling, the ref kept.
    rows = cli.ok("client", "export", "-o", "json").json()
    assert [(r["ref"], r["name"], r["currency"]) for r in rows] == [("N1", "nordic bakery", "DKK")]


def test_an_import_update_and_client_edit_reach_the_same_lists(initialized, cli):
    # Both go through list_delta: the file's list replaces, the edit adds and removes; same end state.
    cli.ok("user", "add", "bob@acme.example")
    cli.ok("integration", "add", "exact", "--name", "Exact", "--kind", "accounting")
    for ref in ("E1", "I1"):
        cli.ok("client", "add", f"Same {ref}", "--ref", ref, "--no-template", "--group", "A", "--group", "B")
    cli.ok("client", "edit", "E1", "--remove-group", "A", "--add-group", "C", "--connect", "exact")
    cli.ok("client", "assign", "E1", "bob@acme.example")
    summary, errors = _import(
        b"ref,name,groups,integrations,assign\nI1,Same I1,C;B,exact:connected,bob@acme.example\n",
        on_existing="update",
    )
    assert errors == [] and summary.updated == 1
    rows = {r["ref"]: r for r in cli.ok("client", "export", "-o", "json").json()}
    for column in ("groups", "integrations", "assign"):
        assert rows["E1"][column] == rows["I1"][column], column
    assert rows["I1"]["groups"] == ["B", "C"] and rows["I1"]["integrations"] == ["exact:connected"]
    # The audit records the file's lists as given.
    edit = cli.ok("audit", "list", "--action", "client.edit", "-o", "json").json()
    by_import = next(e for e in edit if e["key"] == "I1")
    assert by_import["before"]["groups"] == ["A", "B"] and by_import["after"]["groups"] == ["C", "B"]
    again, _ = _import(b"ref,name,groups\nI1,Same I1,B;C\n", on_existing="update")
    assert again.unchanged == 1
