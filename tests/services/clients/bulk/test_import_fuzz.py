"""Hypothesis feeds the importer malformed input: no traceback ever, every rejected row names its line."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerctl.context import AppContext
from partnerctl.errors import InvalidInput
from partnerctl.services.clients import bulk as ci
from partnerctl.services.clients.bulk import EXPORT_COLUMNS, write_csv

HEADERS = [
    "ref",
    "name",
    "contact_email",
    "currency",
    "language",
    "groups",
    "missing_receipts",
    "wallet_balance",
    "billing_country",
]
cell = st.one_of(
    st.sampled_from(["", "EUR", "eur", "XYZ", "nl", "zz", "a@b.example", "not an email", "=cmd|' /C calc'!A0",
                     "-1", "12.50", "1e400", "NL", "UK", "x;y;;z", "'+31", "R1", "r1", "\x00", "é"]),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=5000),
)  # fmt: skip
row = st.lists(cell, min_size=0, max_size=len(HEADERS) + 2)
encoding = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"])


def _encode(text: str, enc: str) -> bytes:
    return text.encode(enc, errors="replace") if enc != "utf-8-sig" else text.encode("utf-8-sig")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, max_size=12), enc=encoding, garbage=st.binary(max_size=40), dry_run=st.booleans())
def test_malformed_csv_never_crashes_and_names_lines(initialized, rows, enc, garbage, dry_run):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    data = _encode(buf.getvalue(), enc) + garbage
    app_ctx = AppContext()
    errors: list[ci.RowError] = []
    try:
        source = ci.read_csv(io.BytesIO(data))
        summary = ci.import_clients(
            app_ctx.session, app_ctx.actor, source, ci.ImportOptions(dry_run=dry_run, batch_size=5),
            on_error=errors.append,
        )  # fmt: skip
    except InvalidInput:
        return  # an unreadable header is a clean exit 2
    # The reader counts universal newlines: \n, \r\n and a lone \r.
    last_line = data.count(b"\n") + data.count(b"\r") + 2
    assert summary.rows == summary.accepted + summary.rejected
    assert len(errors) == summary.rejected
    for error in errors:
        assert 2 <= error.line <= last_line, error
        assert str(error).startswith(f"line {error.line}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    objs=st.lists(
        st.dictionaries(
            st.sampled_from(HEADERS + ["bogus"]),
            st.one_of(
                st.none(),
                st.integers(),
                st.booleans(),
                cell,
                st.lists(cell, max_size=3),
                st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
            ),
        ),
        max_size=8,
    ),
    cut=st.integers(0, 50),
)
def test_malformed_json_never_crashes(initialized, objs, cut):
    import json

    text = json.dumps(objs, indent=1)
    text = text[: len(text) - cut] if cut else text
    app_ctx = AppContext()
    errors: list[ci.RowError] = []
    for fmt, data in (
        ("json", text.encode()),
        ("jsonl", "\n".join(json.dumps(o) for o in objs).encode()[cut:]),
    ):
        try:
            source = ci.open_source(io.BytesIO(data), fmt)
        except InvalidInput:
            continue
        ci.import_clients(
            app_ctx.session, app_ctx.actor, source, ci.ImportOptions(dry_run=True), on_error=errors.append
        )
    assert all(e.line >= 1 for e in errors)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.text(
            # U+FFFD is how a decoding error shows, so the reader refuses it (tested elsewhere).
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00;\ufffd"),
            max_size=20,
        ),
        min_size=len(EXPORT_COLUMNS),
        max_size=len(EXPORT_COLUMNS),
    )
)
def test_export_cells_never_start_a_formula_and_read_back_exactly(values):
    row = {
        c: ([v.strip()] if v.strip() else []) if c in ci.LIST_COLUMNS else v.strip()
        for c, v in zip(EXPORT_COLUMNS, values, strict=True)
    }
    out = io.StringIO()
    write_csv(iter([row]), out)
    cells = list(csv.reader(io.StringIO(out.getvalue())))[1]
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells)
    back = list(ci.read_csv(io.BytesIO(out.getvalue().encode())).records)[0]
    expected = {c: v for c, v in row.items() if v not in ("", [])}
    assert back.error is None and back.cells == expected


atext = st.sampled_from(list("abcXYZ019!#$%&'*+/=?^_`{|}~-") + ["é", ".", "..", "@", " ", '"'])
label = st.text(alphabet=st.sampled_from(list("abzAZ09-") + ["é", "_"]), min_size=0, max_size=70)
tld = st.one_of(
    st.sampled_from(
        [
            "com",
            "nl",
            "example",
            "local",
            "test",
            "arpa",
            "onion",
            "123",
            "c0m",
            "x-y",
            "invalid",
            "localhost",
            "a",
        ]
    ),
    label,
)


@settings(max_examples=500, deadline=None)
@given(
    local=st.lists(atext, min_size=0, max_size=70).map("".join),
    labels=st.lists(label, min_size=0, max_size=4),
    top=tld,
)
def test_fast_email_path_agrees_with_email_validator(local, labels, top):
    """The per-TLD cached fast path never accepts what email-validator rejects, and normalises alike."""
    from partnerctl.services.validation import _fast_email_verdict, _full_email_verdict

    address = f"{local}@{'.'.join([*labels, top])}"
    fast = _fast_email_verdict(address)
    if fast is not None:
        assert _full_email_verdict(address) == (fast, None)


def test_fast_email_path_is_taken_for_plain_addresses_only():
    from partnerctl.services.validation import _fast_email_verdict

    assert _fast_email_verdict("Jan.de-Vries+x@Sub.Example.NL") == "jan.de-vries+x@sub.example.nl"
    for odd in (
        "a@b.local",
        "a@b.123",
        "a@localhost",
        "a@xn--bcher-kva.de",
        "a@ab--c.de",
        '"q"@a.nl',
        "é@a.nl",
        "a..b@a.nl",
    ):
        assert _fast_email_verdict(odd) is None, odd
