"""The import service: readers (encodings, BOM, ragged rows, huge cells, JSON streaming) and batch writes."""

from __future__ import annotations

import codecs
import io
import json

import pytest
from sqlalchemy import create_engine, text

from partnerctl.context import AppContext
from partnerctl.errors import InvalidInput
from partnerctl.services.clients import bulk as ci


def records(data: bytes, fmt: str = "csv", **kw) -> list[ci.Record]:
    return list(ci.open_source(io.BytesIO(data), fmt, **kw).records)


def test_csv_bom_utf16_lists_quotes_and_line_numbers():
    data = (
        codecs.BOM_UTF8
        + 'Ref,Client Name,Groups\nA1,"Café ""Noir""",x; y ;\n\nA2,"two\nlines",\nA3,Next,\n'.encode()
    )
    got = records(data)
    assert [(r.line, r.cells) for r in got] == [
        (2, {"ref": "A1", "name": 'Café "Noir"', "groups": ["x", "y"]}),
        (4, {"ref": "A2", "name": "two\nlines"}),
        (6, {"ref": "A3", "name": "Next"}),
    ]
    utf16 = "ref,name\nU1,Ærø Ølbryggeri\n".encode("utf-16")
    assert records(utf16)[0].cells == {"ref": "U1", "name": "Ærø Ølbryggeri"}
    latin = "ref,name\nL1,Café\n".encode("cp1252")
    assert records(latin, encoding="cp1252")[0].cells["name"] == "Café"


def test_bad_bytes_ragged_rows_huge_cells_and_nul_are_row_errors():
    data = (
        b"ref,name\nA1,caf\xe9\nA2,ok\nA3,x,extra\nA4\nA5,"
        + b"y" * (ci.MAX_CELL + 1)
        + b"\nA6,nul\x00\nA7,fine\n"
    )
    got = records(data)
    errors = {r.line: r.error for r in got if r.error}
    assert errors[2].column == "name" and "encoding" in errors[2].reason
    assert "3 cells, more than the 2" in errors[4].reason and errors[4].raw == ["A3", "x", "extra"]
    assert "fewer" in errors[5].reason
    assert errors[6].column == "name" and "limit" in errors[6].reason
    assert "NUL" in errors[7].reason
    assert [r.cells["ref"] for r in got if not r.error] == ["A2", "A7"]


def test_a_runaway_quoted_cell_is_reported_not_fatal():
    data = b'ref,name\nA1,"never closed\n' + b"z" * (ci.CSV_FIELD_LIMIT + 10) + b"\n"
    got = records(data)
    assert got and all(r.error for r in got) and got[0].line == 2


def test_header_problems_are_input_errors():
    with pytest.raises(InvalidInput, match="unknown column 'colour'"):
        records(b"ref,name,colour\n")
    assert records(b"ref,name,colour\nA,B,red\n", ignore_unknown=True)[0].cells == {"ref": "A", "name": "B"}
    with pytest.raises(InvalidInput, match="both mean"):
        records(b"e-mail,contact_email,name\n")
    with pytest.raises(InvalidInput, match="no name column"):
        records(b"groups\nx\n")
    with pytest.raises(InvalidInput, match="empty"):
        records(b"")
    # The errors file's own columns are read and ignored.
    assert records(b"line,error,ref,name\n3,bad,A,B\n")[0].cells == {"ref": "A", "name": "B"}


def test_json_array_is_streamed_with_line_numbers():
    objs = [
        {"ref": f"J{i}", "name": f"n{i}", "groups": ["a"], "welcome": True, "missing_receipts": i}
        for i in range(3000)
    ]
    data = ("[\n" + ",\n".join(json.dumps(o) for o in objs) + "\n]").encode()
    got = records(data, "json")
    assert len(got) == 3000 and got[0].line == 2 and got[-1].line == 3001
    assert got[5].cells == {
        "ref": "J5",
        "name": "n5",
        "groups": ["a"],
        "welcome": "yes",
        "missing_receipts": "5",
    }
    broken = records(b'[{"ref": "A", "name": "a"},\n {"ref": "B", "name": }\n]', "json")
    assert broken[0].error is None and broken[1].error and broken[1].line == 2
    nested = records(b'[{"name": "x", "groups": [1]}, {"name": {"a": 1}}, 5]', "json")
    assert all(r.error for r in nested)
    with pytest.raises(InvalidInput):
        records(b'{"name": "x"}', "json")


def test_jsonl_rows_fail_alone():
    got = records(b'{"ref": "A", "name": "a"}\nnot json\n\n{"ref": "C", "name": "c", "shoe": 1}\n', "jsonl")
    assert [(r.line, bool(r.error)) for r in got] == [(1, False), (2, True), (4, True)]
    assert got[2].error.column == "shoe"


@pytest.mark.parametrize(
    "value",
    ["=1+1", "+31 20 123", "-5", "@SUM(A1)", "\tx", "'=quoted", "''=twice", "'plain", "plain", "", "a=b"],
)
def test_formula_protection_round_trips(value):
    escaped = ci.escape_formula(value)
    assert escaped[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert ci.unescape_formula(escaped) == value


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
