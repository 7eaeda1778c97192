"""Output formats: what each one prints for the same rows."""

import io
import json
from decimal import Decimal

from partnerctl.output import Column, Output

COLS = [Column("ref"), Column("amount", justify="right"), Column("created", in_table=False)]
ROWS = [{"ref": "A1", "amount": Decimal("10.50"), "created": "2026-01-01"}, {"ref": "B2", "amount": None}]


def render(fmt: str) -> str:
    buf = io.StringIO()
    Output(fmt, stdout=buf, stderr=io.StringIO()).rows(ROWS, COLS)
    return buf.getvalue()


def test_json_keeps_money_exact_and_every_column():
    data = json.loads(render("json"))
    assert data[0] == {"ref": "A1", "amount": "10.50", "created": "2026-01-01"}
    assert data[1]["amount"] is None


def test_table_leaves_out_table_hidden_columns():
    table = render("table")
    assert "A1" in table and "10.50" in table
    assert "created" not in table and "2026-01-01" not in table


def test_tsv_csv_ids_jsonl():
    assert render("tsv").splitlines() == ["ref\tamount\tcreated", "A1\t10.50\t2026-01-01", "B2\t\t"]
    assert render("csv").splitlines()[1] == "A1,10.50,2026-01-01"
    assert render("ids").split() == ["A1", "B2"]
    assert [json.loads(line)["ref"] for line in render("jsonl").splitlines()] == ["A1", "B2"]


def test_markup_in_values_is_not_interpreted():
    buf = io.StringIO()
    Output("table", stdout=buf, stderr=io.StringIO()).rows([{"ref": "[bold]x[/bold]"}], [Column("ref")])
    assert "[bold]x[/bold]" in buf.getvalue()
