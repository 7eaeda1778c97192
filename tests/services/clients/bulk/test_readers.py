"""Import readers: encodings, BOM, ragged rows, huge cells, JSON streaming with line numbers, JSON lines."""

from __future__ import annotations

import codecs
import io
import json

import pytest

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
        + b"\nA6,nul\x00\nA7,fine\nA8,\xef\xbf\xbd\n"
    )
    got = records(data)
    errors = {r.line: r.error for r in got if r.error}
    assert errors[2].column == "name" and "encoding" in errors[2].reason
    assert "3 cells, more than the 2" in errors[4].reason and errors[4].raw == ["A3", "x", "extra"]
    assert "fewer" in errors[5].reason
    assert errors[6].column == "name" and "limit" in errors[6].reason
    assert "NUL" in errors[7].reason
    # U+FFFD is what a decoding error leaves behind, so a cell holding one is refused too.
    assert errors[9].column == "name" and "encoding" in errors[9].reason
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


def test_json_records_carry_the_line_of_their_opening_brace():
    pretty = json.dumps([{"ref": "P1", "name": "One"}, {"ref": "P2", "name": "Two"}], indent=2).encode()
    # [ / { / "ref" / "name" / }, / { ...: the second object opens on line 6.
    assert [r.line for r in records(pretty, "json")] == [2, 6]
    spaced = b'\n\n  [{"ref": "A", "name": "a"}, {"ref": "B", "name": "b"},\n\n {"ref": "C", "name": "c"}]'
    assert [(r.line, r.cells["ref"]) for r in records(spaced, "json")] == [(3, "A"), (3, "B"), (5, "C")]
    with pytest.raises(InvalidInput, match="line 3: expected a JSON array"):
        records(b'\n\n{"name": "x"}', "json")


def test_json_syntax_errors_name_their_line_and_item_and_stop_reading():
    got = records(
        b'[{"ref": "A", "name": "a"},\n\n {"ref": "B", "name": "b"},\n {"ref": "C" "name": "c"}]', "json"
    )
    assert [(r.line, r.error is None) for r in got] == [(1, True), (3, True), (4, False)]
    assert "item 3" in got[-1].error.reason
    cut = records(b'[{"ref": "A", "name": "a"},\n {"ref": "B",', "json")
    assert cut[0].error is None and cut[1].line == 2 and "ends inside item 2" in cut[1].error.reason
    unclosed = records(b'[{"ref": "A", "name": "a"}\n', "json")
    assert unclosed[0].error is None and "not closed" in unclosed[1].error.reason
    trailing = records(b'[{"ref": "A", "name": "a"}] [', "json")
    assert trailing[0].error is None and trailing[1].error is not None


def test_json_bad_bytes_and_huge_records_are_row_errors():
    got = records(b'[{"ref": "A", "name": "caf\xe9"},\n {"ref": "B", "name": "ok"}]', "json")
    assert got[0].error.column == "name" and "encoding" in got[0].error.reason
    assert got[1].error is None and got[1].cells == {"ref": "B", "name": "ok"}
    huge = b'[{"ref": "A", "name": "a"},\n{"ref": "B", "name": "' + b"x" * (ci.CSV_FIELD_LIMIT + 10) + b'"}]'
    got = records(huge, "json")
    assert got[0].error is None and got[1].line == 2 and "longer than" in got[1].error.reason
