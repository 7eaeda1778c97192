"""Bulk client onboarding: streamed CSV/JSON/JSONL readers, per-row errors, batched idempotent writes."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from operator import itemgetter
from typing import Any, BinaryIO

from partnerctl.errors import InvalidInput
from partnerctl.values import to_jsonable

FORMATS = ("csv", "json", "jsonl")
ON_EXISTING = ("skip", "update", "fail")

# The columns import reads and export writes, in export order. List columns hold `;`-separated
# values in CSV and arrays (or `;`-separated strings) in JSON.
COLUMNS = (
    "ref", "name", "status", "contact_name", "contact_email", "currency", "language",
    "groups", "assign", "integrations", "permissions",
    "billing_street", "billing_city", "billing_zip", "billing_country",
    "shipping_street", "shipping_city", "shipping_zip", "shipping_country",
    "missing_receipts", "wallet_balance", "expenses_ready", "template", "welcome",
)  # fmt: skip
LIST_COLUMNS = frozenset({"groups", "assign", "integrations", "permissions"})
# Read and ignored: the error report's own column, so a fixed errors file imports as it is.
IGNORED_COLUMNS = frozenset({"error", "line"})
ALIASES = {
    "reference": "ref", "client_ref": "ref", "client": "name", "client_name": "name",
    "contact": "contact_name", "email": "contact_email", "contact_e_mail": "contact_email",
    "e_mail": "contact_email", "group": "groups", "assigned": "assign", "assigned_users": "assign",
    "assign_users": "assign", "users": "assign", "integration": "integrations",
    "permission": "permissions", "modules": "permissions", "lang": "language",
}  # fmt: skip

# A single cell longer than this is rejected (no client field comes near it); the CSV parser's own
# limit is higher so that one runaway quoted cell is reported as a row error, not a crash.
MAX_CELL = 4_000
CSV_FIELD_LIMIT = 1 << 20
# SQLite pages (4 KiB) of WAL between checkpoints while importing (the default is 1000).
WAL_CHECKPOINT_PAGES = 16_384
# SQLite page cache while importing, in KiB.
SQLITE_CACHE_KIB = 16_384
# Cells starting with these are formulas to a spreadsheet: export prefixes them with a quote.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")


def escape_formula(text: str) -> str:
    """Defuse spreadsheet formulas (=, +, -, @, tab, CR) in an exported CSV cell; import undoes it."""
    return "'" + text if _FORMULA.match(text) else text


def unescape_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and _FORMULA.match(text) else text


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def csv_line(cells: list[str]) -> str:
    """One CSV record ending in \n; unlike csv.writer with a \n terminator it also quotes a lone \r."""
    return ",".join('"' + c.replace('"', '""') + '"' if _NEEDS_QUOTES.search(c) else c for c in cells) + "\n"


def normalize_header(name: str) -> str:
    key = re.sub(r"[\s\-.]+", "_", (name or "").strip().lower()).strip("_")
    return ALIASES.get(key, key)


@dataclass
class RowError:
    line: int
    column: str | None
    reason: str
    # The row as read, written back to the --errors CSV: the list of cells of a CSV row,
    # or the object (column -> value) of a JSON row.
    raw: dict[str, Any] | list[str] = field(default_factory=dict)

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass
class Record:
    """One input row: its line, its cells by canonical column, and the cells as read."""

    line: int
    cells: dict[str, Any]
    raw: dict[str, Any] | list[str]
    error: RowError | None = None


@dataclass
class Source:
    """A parsed header (when there is one) and the stream of records."""

    headers: list[str]
    records: Iterator[Record]


# -- decoding ---------------------------------------------------------------------------------------


def _text_stream(stream: BinaryIO, encoding: str | None) -> io.TextIOWrapper:
    """Text over the byte stream: a BOM decides (UTF-8 or UTF-16), else the given encoding or UTF-8.

    Undecodable bytes become surrogates (surrogateescape) so the row holding them is rejected
    with its line number instead of the whole file failing at the first bad byte.
    """
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]
    head = buffered.peek(4)[:4]
    if head.startswith(codecs.BOM_UTF8):
        chosen = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        chosen = "utf-16"
    else:
        chosen = encoding or "utf-8"
    try:
        codecs.lookup(chosen)
    except LookupError:
        raise InvalidInput(f"unknown encoding {encoding!r}") from None
    # UTF-16 cannot escape a bad byte pair: it becomes U+FFFD, which is rejected like an escape.
    errors = "replace" if chosen == "utf-16" else "surrogateescape"
    return io.TextIOWrapper(buffered, encoding=chosen, errors=errors, newline="")  # type: ignore[arg-type]


# Undecodable bytes (surrogate escapes, or U+FFFD where a decoder had to replace them) and NUL.
_BAD_TEXT = re.compile(r"[\udc80-\udcff\ufffd\x00]")


def _cell_problem(value: str) -> str | None:
    if len(value) > MAX_CELL:
        return f"cell is {len(value)} characters long; the limit is {MAX_CELL}"
    bad = _BAD_TEXT.search(value)
    if bad:
        if bad.group() == "\x00":
            return "contains a NUL character"
        return "is not valid text in the file's encoding (save the file as UTF-8 or pass --encoding)"
    return None


def _map_headers(headers: list[str], ignore_unknown: bool) -> list[str | None]:
    """Canonical column per position (None: ignored). Unknown or duplicate columns are an error."""
    mapped: list[str | None] = []
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for original in headers:
        key = normalize_header(original)
        if key in IGNORED_COLUMNS or (not key and not original.strip()):
            mapped.append(None)
            continue
        if key not in COLUMNS:
            if not ignore_unknown:
                unknown.append(original)
            mapped.append(None)
            continue
        if key in seen:
            raise InvalidInput(f"columns {seen[key]!r} and {original!r} both mean {key}")
        seen[key] = original
        mapped.append(key)
    if unknown:
        raise InvalidInput(
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}",
            hint=f"known columns: {', '.join(COLUMNS)}; pass --ignore-unknown to skip others",
        )
    if "name" not in seen and "ref" not in seen:
        raise InvalidInput("the file has no name column", hint=f"known columns: {', '.join(COLUMNS)}")
    return mapped


def split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


# -- CSV ---------------------------------------------------------------------------------------------


def read_csv(stream: BinaryIO, *, encoding: str | None = None, ignore_unknown: bool = False) -> Source:
    text = _text_stream(stream, encoding)
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(text, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("the file is empty: expected a header line with column names") from None
    except csv.Error as exc:
        raise InvalidInput(f"line 1: cannot read the header: {exc}") from None
    for cell in header:
        problem = _cell_problem(cell)
        if problem:
            raise InvalidInput(f"line 1: a column name {problem}")
    mapped = _map_headers(header, ignore_unknown)
    return Source(header, _csv_records(reader, header, mapped))


def _csv_records(reader, header: list[str], mapped: list[str | None]) -> Iterator[Record]:
    width = len(header)
    last_line = reader.line_num
    while True:
        start = last_line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last_line = reader.line_num
            yield Record(start, {}, {}, RowError(start, None, f"cannot read the row: {exc}"))
            continue
        last_line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        raw = row  # the cells exactly as read, all of them (also of a ragged row)
        if len(row) != width:
            what = "more" if len(row) > width else "fewer"
            reason = f"the row has {len(row)} cells, {what} than the {width} columns of the header"
            yield Record(start, {}, raw, RowError(start, None, reason, raw))
            continue
        cells: dict[str, Any] = {}
        error = None
        # One check of the whole row; cell by cell only when something is wrong in it.
        suspect = max(map(len, row)) > MAX_CELL or _BAD_TEXT.search("".join(row)) is not None
        for key, value in zip(mapped, row, strict=True):
            if key is None:
                continue
            problem = _cell_problem(value) if suspect else None
            if problem:
                error = RowError(start, key, problem, raw)
                break
            value = value.strip()
            if value[:1] == "'":
                value = unescape_formula(value)
            if value == "":
                continue
            cells[key] = split_list(value) if key in LIST_COLUMNS else value
        yield Record(start, cells, raw, error)


# -- JSON and JSON lines --------------------------------------------------------------------------


def _json_cells(obj: Any, line: int, ignore_unknown: bool) -> Record:
    if not isinstance(obj, dict):
        return Record(line, {}, {}, RowError(line, None, f"expected an object, not {type(obj).__name__}"))
    raw = {str(k): v for k, v in obj.items()}
    cells: dict[str, Any] = {}
    for original, value in obj.items():
        key = normalize_header(str(original))
        if key in IGNORED_COLUMNS:
            continue
        if key not in COLUMNS:
            if ignore_unknown:
                continue
            return Record(line, {}, raw, RowError(line, str(original), "unknown column", raw))
        if value is None:
            continue
        if key in LIST_COLUMNS:
            items = (
                value if isinstance(value, list) else split_list(value) if isinstance(value, str) else None
            )
            if items is None or not all(isinstance(i, str) for i in items):
                return Record(line, {}, raw, RowError(line, key, "must be a list of text values", raw))
            for item in items:
                problem = _cell_problem(item)
                if problem:
                    return Record(line, {}, raw, RowError(line, key, problem, raw))
            items = [i.strip() for i in items if i.strip()]
            if items:
                cells[key] = items
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            return Record(line, {}, raw, RowError(line, key, "must be text or a number", raw))
        problem = _cell_problem(value)
        if problem:
            return Record(line, {}, raw, RowError(line, key, problem, raw))
        if value.strip():
            cells[key] = value.strip()
    if "name" not in cells and "ref" not in cells:
        return Record(line, {}, raw, RowError(line, "name", "a client needs a name", raw))
    return Record(line, cells, raw)


def read_jsonl(stream: BinaryIO, *, encoding: str | None = None, ignore_unknown: bool = False) -> Source:
    text = _text_stream(stream, encoding)

    def records() -> Iterator[Record]:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            if len(line) > CSV_FIELD_LIMIT:
                yield Record(number, {}, {}, RowError(number, None, "the line is too long"))
                continue
            if _BAD_TEXT.search(line):
                yield Record(number, {}, {}, RowError(number, None, _cell_problem(line) or "bad text"))
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raw = {"json": line.rstrip()}
                yield Record(number, {}, raw, RowError(number, None, f"not JSON: {exc}", raw))
                continue
            yield _json_cells(obj, number, ignore_unknown)

    return Source(list(COLUMNS), records())


def read_json(stream: BinaryIO, *, encoding: str | None = None, ignore_unknown: bool = False) -> Source:
    """A JSON array of objects, decoded one object at a time so memory stays flat."""
    text = _text_stream(stream, encoding)
    decoder = json.JSONDecoder()
    chunk = 1 << 16
    state = {"buf": "", "pos": 0, "line": 1, "eof": False}

    def fill() -> bool:
        if state["eof"]:
            return False
        data = text.read(chunk)
        if not data:
            state["eof"] = True
            return False
        # Drop what was consumed, keeping the line count of it.
        consumed = state["buf"][: state["pos"]]
        state["line"] += consumed.count("\n")
        state["buf"] = state["buf"][state["pos"] :] + data
        state["pos"] = 0
        return True

    def skip_ws() -> str | None:
        while True:
            buf, pos = state["buf"], state["pos"]
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            state["pos"] = pos
            if pos < len(buf):
                return buf[pos]
            if not fill():
                return None

    def line_here() -> int:
        return state["line"] + state["buf"].count("\n", 0, state["pos"])

    first = skip_ws()
    if first is None:
        raise InvalidInput("the file is empty: expected a JSON array of client objects")
    if first != "[":
        raise InvalidInput("line 1: expected a JSON array of client objects ([{...}, ...])")
    state["pos"] += 1

    def records() -> Iterator[Record]:
        expect_value = True
        while True:
            ch = skip_ws()
            if ch is None:
                line = line_here()
                yield Record(line, {}, {}, RowError(line, None, "the JSON array is not closed (missing ])"))
                return
            if ch == "]":
                return
            if ch == "," and not expect_value:
                state["pos"] += 1
                expect_value = True
                continue
            line = line_here()
            while True:
                try:
                    obj, end = decoder.raw_decode(state["buf"], state["pos"])
                    break
                except ValueError as exc:
                    if len(state["buf"]) - state["pos"] > CSV_FIELD_LIMIT or not fill():
                        # Malformed JSON cannot be resynchronised: report it and stop reading.
                        yield Record(
                            line, {}, {}, RowError(line, None, f"not valid JSON: {getattr(exc, 'msg', exc)}")
                        )
                        return
            state["pos"] = end
            expect_value = False
            yield _json_cells(obj, line, ignore_unknown)

    return Source(list(COLUMNS), records())


def open_source(
    stream: BinaryIO, fmt: str, *, encoding: str | None = None, ignore_unknown: bool = False
) -> Source:
    readers: dict[str, Callable[..., Source]] = {"csv": read_csv, "json": read_json, "jsonl": read_jsonl}
    if fmt not in readers:
        raise InvalidInput(f"unknown format {fmt!r}: use csv, json or jsonl")
    return readers[fmt](stream, encoding=encoding, ignore_unknown=ignore_unknown)


def guess_format(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith(".jsonl") or lower.endswith(".ndjson"):
        return "jsonl"
    if lower.endswith(".json"):
        return "json"
    return "csv"


# -- from cells to a prepared client ----------------------------------------------------------------

_TRUE = {"yes", "y", "true", "1", "on", "x"}
_FALSE = {"no", "n", "false", "0", "off", ""}
# Which column an error message is about, when the validator does not say (first match wins).
_COLUMN_HINTS = (
    ("contact e-mail", ("contact_email",)), ("user", ("assign",)), ("reference", ("ref",)),
    ("client name", ("name",)), ("currency", ("currency",)), ("language", ("language",)),
    ("permission", ("permissions",)), ("group", ("groups",)), ("integration", ("integrations",)),
    ("product", ("template",)), ("template", ("template",)), ("missing receipts", ("missing_receipts",)),
    ("wallet balance", ("wallet_balance",)), ("expenses ready", ("expenses_ready",)),
    ("welcome", ("welcome", "contact_email")), ("status", ("status",)),
    ("country", ("billing_country", "shipping_country")), ("street", ("billing_street", "shipping_street")),
    ("city", ("billing_city", "shipping_city")), ("zip", ("billing_zip", "shipping_zip")),
)  # fmt: skip


def guess_column(message: str, cells: dict[str, Any]) -> str | None:
    lowered = message.lower()
    for hint, candidates in _COLUMN_HINTS:
        if hint in lowered:
            given = [c for c in candidates if c in cells]
            for c in given:
                value = cells[c]
                values = value if isinstance(value, list) else [value]
                if any(repr(v) in message or (isinstance(v, str) and len(v) > 20) for v in values):
                    return c
            return (given or list(candidates))[0]
    return None


def parse_bool(raw: str, column: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(f"{column} must be yes or no, not {raw!r}")


def split_integration(raw: str) -> tuple[str, str | None]:
    """`exact-online` or `exact-online:connected` (export writes the state)."""
    key, sep, state = raw.partition(":")
    return key.strip(), (state.strip().lower() or None) if sep else None


@dataclass
class ImportOptions:
    template: str | None = None
    no_template: bool = False
    key: str = "ref"
    on_existing: str = "skip"
    dry_run: bool = False
    welcome: bool | None = None
    batch_size: int = 2000

    def check(self) -> None:
        if self.on_existing not in ON_EXISTING:
            raise InvalidInput(f"--on-existing must be skip, update or fail, not {self.on_existing!r}")
        if self.key not in ("ref", "name"):
            raise InvalidInput(f"--key must be ref or name, not {self.key!r}")
        if not 1 <= self.batch_size <= 10_000:
            raise InvalidInput("--batch-size must be between 1 and 10000")
        if self.template and self.no_template:
            raise InvalidInput("--template and --no-template exclude each other")


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0
    dry_run: bool = False

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged + self.skipped


@dataclass
class _Row:
    record: Record
    prepared: Any  # clients.PreparedClient
    status: Any  # ClientStatus to set after onboarding (export carries active/archived)
    states: dict[str, str]  # integration key -> state given in the file
    key: str  # the idempotency key (ref_key or name_key)


class _Preparer:
    """Turns records into prepared clients with the clients service's own `prepare_client`."""

    def __init__(self, lookups, options: ImportOptions, actor) -> None:
        from pydantic import ValidationError

        from partnerctl.services import clients
        from partnerctl.store.models.clients import ClientStatus, IntegrationState

        # Imported once here, not per row (a `from package import module` costs per call).
        self._names = (ValidationError, clients, ClientStatus, IntegrationState)
        self.lookups = lookups
        self.options = options
        self.actor = actor
        self.default_template = (
            None
            if options.no_template
            else lookups.template(options.template)
            if options.template
            else lookups.default_template
        )

    def prepare(self, record: Record) -> _Row | RowError:
        ValidationError, clients, ClientStatus, IntegrationState = self._names  # noqa: N806
        cells = record.cells
        try:
            data: dict[str, Any] = {
                k: v for k, v in cells.items() if k not in ("status", "template", "welcome")
            }
            states: dict[str, str] = {}
            if "integrations" in data:
                keys = []
                for item in data["integrations"]:
                    key, state = split_integration(item)
                    if state is not None:
                        try:
                            states[key.lower()] = IntegrationState(state).value
                        except ValueError:
                            raise InvalidInput(
                                f"unknown integration state {state!r} for {key}: use pending or connected"
                            ) from None
                    keys.append(key)
                data["integrations"] = keys
            status = clients.parse_status(cells["status"]) if "status" in cells else None
            if status == ClientStatus.invited:
                data["invited"] = True
            welcome = cells.get("welcome")
            data["welcome"] = (
                parse_bool(welcome, "welcome") if welcome is not None else bool(self.options.welcome)
            )
            if "name" not in data:
                raise InvalidInput("client name must not be empty")
            if status == ClientStatus.invited:
                template = None
            elif "template" in cells:
                raw = cells["template"]
                template = None if raw.strip().lower() == "none" else self.lookups.template(raw)
            else:
                template = self.default_template
            prepared = clients.prepare_client(
                self.lookups, clients.ClientCreate.model_validate(data), template=template
            )
            if self.actor is not None:
                prepared.values["created_by"] = self.actor.email
            if status is not None and status != ClientStatus.invited:
                prepared.values["status"] = status
            problem = _too_long(prepared.values)
            if problem:
                return RowError(record.line, problem[0], problem[1], record.raw)
        except InvalidInput as exc:
            return RowError(record.line, guess_column(exc.message, cells), exc.message, record.raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            column = str(first["loc"][0]) if first.get("loc") else None
            return RowError(record.line, column, first.get("msg", "invalid value"), record.raw)
        key = prepared.values["ref_key"] if self.options.key == "ref" else prepared.values["name_key"]
        return _Row(record, prepared, status, states, key)


def _column_limits() -> dict[str, int]:
    from partnerctl.store.models import Client

    return {
        c.name: c.type.length
        for c in Client.__table__.columns
        if getattr(c.type, "length", None) and c.name not in ("status",)
    }


_LIMITS: list[tuple[str, int]] = []


def _too_long(values: dict[str, Any]) -> tuple[str, str] | None:
    """The table's own column lengths (PostgreSQL enforces them, SQLite would not)."""
    if not _LIMITS:
        _LIMITS.extend(_column_limits().items())
    get = values.get
    for name, limit in _LIMITS:
        value = get(name)
        if isinstance(value, str) and len(value) > limit:
            column = "contact_name" if name == "contact_name" else name.replace("_key", "")
            return column, f"{column.replace('_', ' ')} is longer than {limit} characters"
    return None


# -- writing a batch ---------------------------------------------------------------------------------


def _json_text_encoder() -> Callable[[Any], str]:
    """json.dumps with its default arguments, minus its per-call set-up (it builds a new C encoder
    every call). Without circular-reference tracking: these values are plain trees."""
    from json.encoder import c_make_encoder, encode_basestring_ascii

    if c_make_encoder is None:
        return json.dumps
    encode = c_make_encoder(
        None, json.JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ", False, False, True
    )
    return lambda value: "".join(encode(value, 0))


_json_text = _json_text_encoder()


def _bind_processor(type_, dialect):
    """The column type's bind processor; for SQLAlchemy's JSON on SQLite, the same text faster."""
    import sqlalchemy as sa

    processor = type_._cached_bind_processor(dialect)
    if (
        processor is not None
        and dialect.name == "sqlite"
        and type(type_) is sa.JSON
        and dialect._json_serializer is None
        and not type_.none_as_null
        and sa.String().bind_processor(dialect) is None
    ):
        return _json_text
    return processor


def bulk_insert(conn, table, rows: list[dict[str, Any]], constants: dict[str, Any] | None = None) -> None:
    """A multi-row INSERT straight through the driver's executemany, with the columns' own bind
    processors (UTC timestamps, Money, JSON) applied once per value instead of SQLAlchemy's generic
    per-statement parameter handling, which costs more than the insert itself at this volume.
    `constants` are values shared by every row (the batch's timestamp), converted once."""
    if not rows:
        return
    dialect = conn.dialect
    constants = constants or {}
    keys = [k for k in rows[0] if k not in constants]
    processors = [_bind_processor(table.c[k].type, dialect) for k in keys]
    names = keys + list(constants)
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(marker for _ in names)})"
    tail = tuple(
        v if (p := table.c[k].type._cached_bind_processor(dialect)) is None else p(v)
        for k, v in constants.items()
    )
    get = itemgetter(*keys) if len(keys) > 1 else lambda r: (r[keys[0]],)
    # (position, processor, what it makes of None): audit `before` is None on every new row.
    convert = [(i, p, p(None)) for i, p in enumerate(processors) if p is not None]
    if not convert:
        params = [get(r) + tail for r in rows]
    else:
        params = []
        append = params.append
        for r in rows:
            values = list(get(r))
            for i, p, none in convert:
                v = values[i]
                values[i] = none if v is None else p(v)
            values.extend(tail)
            append(tuple(values))
    if dialect.name == "postgresql":
        _copy(conn, table.name, names, params)
    else:
        conn.exec_driver_sql(sql, params)


def _copy(conn, table_name: str, names: list[str], params: list[tuple]) -> None:
    """PostgreSQL: the same rows through psycopg's COPY, in the connection's open transaction
    (the same values and adapters as executemany; a refused row fails the statement as before)."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    raw = conn.connection.driver_connection
    statement = f"COPY {table_name} ({', '.join(names)}) FROM STDIN"
    try:
        with raw.cursor() as cur, cur.copy(statement) as copy:
            write = copy.write_row
            for row in params:
                write(row)
    except psycopg.Error as exc:
        # As SQLAlchemy would raise it, so a refused batch is retried row by row like any other.
        raise DBAPIError.instance(statement, None, exc, psycopg.Error, dialect=conn.dialect) from None


def _pairs(session, table: str, column: str, other: str, keys: list) -> list[tuple]:
    """(column, other) of the rows whose `column` is one of `keys`, as plain SQL: SQLAlchemy would
    compile a fresh statement with thousands of expanded parameters for every batch."""
    if not keys:
        return []
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # One array parameter joined on the index. Not `IN ($1, ..., $2000)`: psycopg prepares a
        # statement run five times, PostgreSQL then plans it generically as a sequential scan that
        # compares every row with every parameter (seconds per batch once the table is large).
        array = "integer[]" if type(keys[0]) is int else "text[]"
        sql = f"SELECT t.{column}, t.{other} FROM {table} t JOIN unnest(%s::{array}) AS k(v) ON t.{column} = k.v"
        return [tuple(row) for row in conn.exec_driver_sql(sql, (list(dict.fromkeys(keys)),))]
    sql = f"SELECT {column}, {other} FROM {table} WHERE {column} IN ({', '.join(['?'] * len(keys))})"
    return [tuple(row) for row in conn.exec_driver_sql(sql, tuple(keys))]


class _Writer:
    """Writes a batch of prepared clients in a few multi-row statements per table."""

    def __init__(self, lookups, actor_email: str) -> None:
        from partnerctl.store.models import Client

        self.lookups = lookups
        self.actor_email = actor_email
        # Every column with its model default, so rows carry whatever the model adds later.
        self._sub_rows: dict[tuple, dict[str, Any]] = {}
        self._sub_snaps: dict[tuple, dict[str, Any]] = {}
        self.client_defaults = Client(ref="x", ref_key="x", name="x", name_key="x").model_dump(exclude={"id"})

    # Existing clients of a batch, by idempotency key.
    def existing(self, session, key: str, keys: list[str]) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        column = "ref_key" if key == "ref" else "name_key"
        for k, cid in _pairs(session, "clients", column, "id", keys):
            found.setdefault(k, []).append(cid)
        return found

    def insert(self, session, rows: list[_Row]) -> None:
        """Insert new clients and everything `client add` writes with them (one batch, one transaction)."""
        from partnerctl.services import clients
        from partnerctl.services.billing import subscription_snapshot
        from partnerctl.store.models import (
            AuditEvent,
            Client,
            ClientAssignment,
            ClientGroup,
            ClientIntegration,
            Subscription,
        )
        from partnerctl.store.types import utcnow

        if not rows:
            return
        session.flush()  # this batch's updates first, as before (the id look-ups below are plain SQL)
        now = utcnow()
        conn = session.connection()
        bulk_insert(
            conn,
            Client.__table__,
            [{**self.client_defaults, **r.prepared.values} for r in rows],
            {"created_at": now, "updated_at": now},
        )
        ref_keys = [r.prepared.values["ref_key"] for r in rows]
        ids = dict(_pairs(session, Client.__tablename__, "ref_key", "id", ref_keys))
        groups, assignments, integrations, subs, events = [], [], [], [], []
        for r in rows:
            cid = ids[r.prepared.values["ref_key"]]
            p = r.prepared
            groups += [{"client_id": cid, "group_name": g} for g in p.groups]
            assignments += [{"client_id": cid, "user_id": u.id} for u in p.users]
            integrations += [
                {"client_id": cid, "integration_id": i.id, "state": r.states.get(i.key, "pending")}
                for i in p.integrations
            ]
            if p.product is not None:
                subs.append((r, self._subscription(cid, p)))
        for model, values in (
            (ClientGroup, groups),
            (ClientAssignment, assignments),
            (ClientIntegration, integrations),
        ):
            if values:
                bulk_insert(conn, model.__table__, values)
        if subs:
            bulk_insert(
                conn, Subscription.__table__, [s for _, s in subs], {"created_at": now, "updated_at": now}
            )
            sub_ids = dict(
                _pairs(
                    session, Subscription.__tablename__, "client_id", "id", [s["client_id"] for _, s in subs]
                )
            )
        for r in rows:
            p = r.prepared
            snapshot = clients.client_snapshot(
                _Values(p.values),
                groups=p.groups,
                users=[u.email for u in p.users],
                integrations=[i.key for i in p.integrations],
            )
            after = {**snapshot, "template": p.template.name if p.template else None, "welcome": p.welcome}
            events.append(self._event(now, "client.add", "client", p.ref, _jsonable(after)))
        for r, sub in subs:
            sid = sub_ids[sub["client_id"]]
            snap = subscription_snapshot(_Values({**sub, "id": sid}), r.prepared.product.product.key)
            # The snapshot differs between rows only in its ids: convert the rest once per shape.
            shape = tuple(v for k, v in snap.items() if k not in ("id", "client_id"))
            base = self._sub_snaps.get(shape)
            if base is None:
                base = self._sub_snaps[shape] = _jsonable({**snap, "client": None})
            after = {**base, "id": sid, "client_id": sub["client_id"], "client": r.prepared.ref}
            events.append(self._event(now, "subscription.add", "subscription", str(sid), after))
        bulk_insert(conn, AuditEvent.__table__, events, {"at": now})
        self._welcome(session, [r for r in rows if r.prepared.welcome], ids)

    def _event(self, now, action: str, entity: str, key: str, after: dict) -> dict:
        return {
            "actor": self.actor_email,
            "action": action,
            "entity": entity,
            "key": key,
            "before": None,
            "after": after,
        }

    def _subscription(self, client_id: int, prepared) -> dict[str, Any]:
        """The row `add_subscription` writes; built once per product/payer/seats, then copied."""
        today = date.today()
        p = prepared.product
        cache_key = (p.product.id, p.seats, str(p.payer), today)
        base = self._sub_rows.get(cache_key)
        if base is None:
            from partnerctl.services import billing
            from partnerctl.services.money import anchor_day_for
            from partnerctl.store.models import Subscription

            sub = Subscription(
                client_id=0,
                product_id=p.product.id,
                seats=p.seats,
                payer=billing.parse_payer(p.payer),
                start_date=today,
                next_payment_date=today,
                anchor_day=anchor_day_for(today),
                created_by=self.actor_email,
            )
            base = sub.model_dump(exclude={"id", "created_at", "updated_at"})
            self._sub_rows[cache_key] = base
        return {**base, "client_id": client_id}

    def _welcome(self, session, rows: list[_Row], ids: dict[str, int]) -> None:
        """Queue welcome e-mails exactly as `client add --welcome` does (same template, same dedupe key)."""
        from sqlmodel import col, select

        from partnerctl.mail.render import render
        from partnerctl.store.models import OutboxMessage

        if not rows:
            return
        keys = [f"welcome:{r.prepared.ref}" for r in rows]
        taken = set(
            session.exec(select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(keys)))
        )
        defaults = OutboxMessage(
            dedupe_key="x", kind="welcome", to_addr="x", subject="x", body_text="x"
        ).model_dump(exclude={"id"})
        messages = []
        for key, r in zip(keys, rows, strict=True):
            if key in taken:
                continue
            v = r.prepared.values
            rendered = render(
                "welcome",
                v["language"],
                {
                    "client_name": v["name"],
                    "client_ref": v["ref"],
                    "contact_name": v["contact_name"] or v["name"],
                    "partner_name": self.lookups.partner_name,
                },
            )
            messages.append(
                {
                    **defaults,
                    "dedupe_key": key,
                    "kind": "welcome",
                    "to_addr": v["contact_email"],
                    "subject": rendered.subject,
                    "body_text": rendered.text,
                    "body_html": rendered.html,
                    "language": rendered.language,
                }
            )
        if messages:
            bulk_insert(session.connection(), OutboxMessage.__table__, messages)

    def update(self, session, row: _Row, client_id: int, *, dry_run: bool) -> bool:
        """Set what the row gives on an existing client (empty cells keep the current value)."""
        import sqlalchemy as sa

        from partnerctl.services import clients
        from partnerctl.store.models import (
            AuditEvent,
            Client,
            ClientAssignment,
            ClientGroup,
            ClientIntegration,
        )
        from partnerctl.store.types import utcnow
        from partnerctl.values import to_jsonable

        client = session.get(Client, client_id)
        cells = row.record.cells
        p = row.prepared
        groups = clients.groups_of(session, [client.id])[client.id]
        assigned = clients.assigned_of(session, [client.id])[client.id]
        integ = clients.integrations_of(session, client.id)
        before = clients.client_snapshot(
            client, groups=groups, users=assigned, integrations=[f"{k}:{s}" for k, s in integ]
        )
        # The reference is the key (or, matched by name, stays as it is in the store).
        skip = ("template", "welcome", "ref", "permissions")
        scalar = [c for c in COLUMNS if c in cells and c not in LIST_COLUMNS and c not in skip]
        changes: dict[str, Any] = {}
        for column in scalar:
            names = ["name", "name_key"] if column == "name" else [column]
            if column == "status":
                if row.status is None or row.status == client.status:
                    continue
                changes["status"] = row.status
                continue
            for name in names:
                if getattr(client, name) != p.values[name]:
                    changes[name] = p.values[name]
        if "permissions" in cells and list(client.permissions or []) != p.values["permissions"]:
            changes["permissions"] = p.values["permissions"]
        new_groups = p.groups if "groups" in cells else groups
        new_users = [u.email for u in p.users] if "assign" in cells else assigned
        if "integrations" in cells:
            new_integ = [
                (i.key, row.states.get(i.key, dict(integ).get(i.key, "pending"))) for i in p.integrations
            ]
        else:
            new_integ = [(k, str(s)) for k, s in integ]
        lists_changed = (
            sorted(new_groups) != sorted(groups)
            or sorted(new_users) != sorted(assigned)
            or sorted(new_integ) != sorted((k, str(s)) for k, s in integ)
        )
        if not changes and not lists_changed:
            return False
        if dry_run:
            return True
        for name, value in changes.items():
            setattr(client, name, value)
        client.updated_at = utcnow()
        session.add(client)
        conn = session.connection()
        if sorted(new_groups) != sorted(groups):
            conn.execute(
                sa.delete(ClientGroup.__table__).where(ClientGroup.__table__.c.client_id == client.id)
            )
            if new_groups:
                conn.execute(
                    sa.insert(ClientGroup.__table__),
                    [{"client_id": client.id, "group_name": g} for g in new_groups],
                )
        if "assign" in cells and sorted(new_users) != sorted(assigned):
            table = ClientAssignment.__table__
            conn.execute(sa.delete(table).where(table.c.client_id == client.id))
            if p.users:
                conn.execute(sa.insert(table), [{"client_id": client.id, "user_id": u.id} for u in p.users])
        if "integrations" in cells and sorted(new_integ) != sorted((k, str(s)) for k, s in integ):
            table = ClientIntegration.__table__
            conn.execute(sa.delete(table).where(table.c.client_id == client.id))
            if p.integrations:
                conn.execute(
                    sa.insert(table),
                    [
                        {"client_id": client.id, "integration_id": i.id, "state": state}
                        for i, (_, state) in zip(p.integrations, new_integ, strict=True)
                    ],
                )
        session.flush()
        after = clients.client_snapshot(
            client, groups=new_groups, users=new_users, integrations=[f"{k}:{s}" for k, s in new_integ]
        )
        session.add(
            AuditEvent(
                actor=self.actor_email,
                action="client.edit",
                entity="client",
                key=client.ref,
                before=to_jsonable(before),
                after=to_jsonable({**after, "via": "import"}),
            )
        )
        return True


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """to_jsonable for flat snapshots, with a fast path for the plain values most fields hold."""
    out = {}
    for k, v in data.items():
        t = type(v)
        if t in _PLAIN or t is list and _STR.issuperset(map(type, v)):
            out[k] = v
        elif issubclass(t, Enum):
            out[k] = v.value  # what to_jsonable makes of it (status, payer)
        else:
            out[k] = to_jsonable(v)
    return out


_PLAIN = frozenset({str, int, bool, float, type(None)})
_STR = frozenset({str})


class _Values:
    """Attribute access over a prepared client's values (what client_snapshot reads)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


# -- the import ---------------------------------------------------------------------------------------


def _batches(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_clients(
    session_scope: Callable[..., Any],
    actor_of: Callable[[Any], Any],
    source: Source,
    options: ImportOptions,
    *,
    on_error: Callable[[RowError], None],
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Onboard every record like `client add`; each batch commits on its own (a re-run skips what is in).

    `session_scope(readonly=...)` opens one transaction per batch. Bad rows go to `on_error` and
    never stop the others; a row is written wholly or not at all.
    """
    import gc

    # Each row allocates a few dozen short-lived objects; with the default thresholds the cyclic
    # collector runs every few rows and keeps re-walking everything loaded at start-up (measured:
    # ~15% of the import). Park what exists now out of its reach and collect less often.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        return _import_clients(
            session_scope, actor_of, source, options, on_error=on_error, on_progress=on_progress
        )
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _import_clients(
    session_scope: Callable[..., Any],
    actor_of: Callable[[Any], Any],
    source: Source,
    options: ImportOptions,
    *,
    on_error: Callable[[RowError], None],
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    from partnerctl.services import templates
    from partnerctl.services.access import require_admin

    options.check()
    with session_scope(readonly=True) as s:
        actor = actor_of(s)
        require_admin(actor, "client import")
        lookups = templates.load_lookups(s)
        # Detached with their loaded values: the read-only scope's rollback would expire them.
        s.expunge_all()
    preparer = _Preparer(lookups, options, actor)
    writer = _Writer(lookups, actor.email)
    summary = ImportSummary(dry_run=options.dry_run)
    first_line: dict[str, int] = {}

    def reject(error: RowError) -> None:
        summary.rejected += 1
        on_error(error)

    # Batch N is written (its own transaction) on a writer thread while batch N+1 is read and
    # prepared (in a worker process where it can fork, see _PreparedBatches, else here: the
    # database driver releases the GIL while the store works, so the two still overlap somewhat).
    # One batch at most is in flight, and its outcome (rejections, counts, progress) is reported
    # before the next batch's, so the output is in file order as without the thread.
    pending: tuple[Any, int] | None = None

    def settle() -> None:
        nonlocal pending
        if pending is None:
            return
        future, size = pending
        pending = None
        counts, errors = future.result()
        for error in errors:
            reject(error)
        summary.created += counts["created"]
        summary.updated += counts["updated"]
        summary.unchanged += counts["unchanged"]
        summary.skipped += counts["skipped"]
        if on_progress is not None:
            on_progress(size)

    prepared_batches = _PreparedBatches(source.records, preparer, lookups, options.batch_size)
    with prepared_batches, ThreadPoolExecutor(max_workers=1, thread_name_prefix="partnerctl-import") as pool:
        try:
            for size, results in prepared_batches:
                rows: list[_Row] = []
                errors: list[RowError] = []
                for result in results:
                    if isinstance(result, RowError):
                        errors.append(result)
                        continue
                    record = result.record
                    seen = first_line.setdefault(result.key, record.line)
                    if seen != record.line:
                        what = "reference" if options.key == "ref" else "name"
                        shown = result.prepared.values["ref" if options.key == "ref" else "name"]
                        if options.key == "ref" and result.prepared.ref_derived:
                            what = "reference (derived from the name; give each row a ref)"
                        errors.append(
                            RowError(
                                record.line,
                                options.key,
                                f"duplicate {what} {shown!r} (first on line {seen})",
                                record.raw,
                            )
                        )
                        continue
                    rows.append(result)
                settle()
                summary.rows += size
                for error in errors:
                    reject(error)
                if rows:
                    pending = (pool.submit(_write_batch, session_scope, writer, rows, options), size)
                elif on_progress is not None:
                    on_progress(size)
            settle()
        finally:
            if pending is not None:
                pending[0].cancel()
    return summary


class _PreparedBatches:
    """(rows read, [_Row | RowError in file order]) per batch of the source.

    Where processes can be forked, reading and preparing run in a worker process that ships each
    prepared batch back as compact plain data (catalogue objects as ids), so this process only
    writes: preparing is pure Python and would otherwise hold the GIL the writer thread needs.
    The pipe holds at most about one batch, so the worker is at most a batch or two ahead and
    memory stays flat. The worker ignores Ctrl-C; leaving the `with` block always ends it.
    """

    def __init__(self, records: Iterator[Record], preparer: _Preparer, lookups, size: int) -> None:
        self.records = records
        self.preparer = preparer
        self.lookups = lookups
        self.size = size
        self.pid: int | None = None
        self.conn = None

    def __enter__(self) -> _PreparedBatches:
        import os
        from multiprocessing.connection import Pipe

        # PARTNERCTL_IMPORT_WORKER=0 keeps everything in this process (where forking is unwelcome).
        if not hasattr(os, "fork") or os.environ.get("PARTNERCTL_IMPORT_WORKER") == "0":
            return self
        # os.fork, not multiprocessing.Process: that closes stdin in the child, which `-` reads.
        receive, send = Pipe(duplex=False)
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                receive.close()
                _prepare_worker(send, self.records, self.preparer, self.size)
                code = 0
            finally:
                os._exit(code)
        send.close()
        self.pid = pid
        self.conn = receive
        return self

    def __exit__(self, *exc_info) -> None:
        import os
        import signal

        pid, self.pid = self.pid, None
        if pid is None:
            return
        self.conn.close()  # a worker still sending gets a broken pipe and ends
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)

    def __iter__(self) -> Iterator[tuple[int, list[Any]]]:
        if self.pid is None:
            prepare = self.preparer.prepare
            for batch in _batches(self.records, self.size):
                yield (
                    len(batch),
                    [r.error if r.error is not None else prepare(r) for r in batch],
                )
            return
        import pickle

        unpack = _Unpacker(self.lookups)
        while True:
            try:
                message = pickle.loads(self.conn.recv_bytes())
            except EOFError:
                raise RuntimeError("the import's preparing process ended unexpectedly") from None
            kind, payload = message
            if kind == "done":
                return
            if kind == "error":
                raise payload
            size, packed = payload
            yield size, [p if isinstance(p, RowError) else unpack(p) for p in packed]


def _prepare_worker(send, records: Iterator[Record], preparer: _Preparer, size: int) -> None:
    """In the worker process: read, prepare, and send each batch (see _PreparedBatches)."""
    import pickle
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends this process
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    dumps = pickle.dumps
    try:
        prepare = preparer.prepare
        for batch in _batches(records, size):
            packed = []
            for record in batch:
                if record.error is not None:
                    packed.append(record.error)
                    continue
                result = prepare(record)
                packed.append(result if isinstance(result, RowError) else _pack(result))
            send.send_bytes(dumps(("batch", (len(batch), packed)), pickle.HIGHEST_PROTOCOL))
        send.send_bytes(dumps(("done", None)))
    except (BrokenPipeError, OSError):
        return  # the parent is gone or stopped reading
    except BaseException as exc:  # noqa: BLE001 - shipped to the parent, which raises it
        try:
            message = dumps(("error", exc))
        except Exception:  # noqa: BLE001
            message = dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        with contextlib.suppress(OSError):
            send.send_bytes(message)


def _pack(row: _Row) -> tuple:
    """A prepared row as plain data: catalogue objects (users, integrations, product, template) by id."""
    p = row.prepared
    product = p.product
    return (
        row.record.line,
        row.record.cells,
        row.record.raw,
        p.values,
        p.groups,
        [u.id for u in p.users],
        [i.id for i in p.integrations],
        None if product is None else (product.product.id, product.payer, product.seats),
        None if p.template is None else p.template.id,
        p.applied,
        p.ref_derived,
        p.welcome,
        row.status,
        row.states,
        row.key,
    )


class _Unpacker:
    """Turns `_pack`'s plain data back into a _Row over this process's catalogue objects."""

    def __init__(self, lookups) -> None:
        from partnerctl.services import clients, templates

        self.prepared_client = clients.PreparedClient
        self.prepared_product = templates.PreparedProduct
        self.users = {u.id: u for u in lookups.users_by_email.values()}
        self.integrations = {i.id: i for i in lookups.integrations_by_key.values()}
        self.products = {p.id: p for p in lookups.products_by_key.values()}
        self.templates = {t.id: t for t in lookups.templates_by_key.values()}
        if lookups.default_template is not None:
            self.templates.setdefault(lookups.default_template.id, lookups.default_template)
        self._products: dict[tuple, Any] = {}

    def __call__(self, packed: tuple) -> _Row:
        (line, cells, raw, values, groups, user_ids, integration_ids, product, template_id,
         applied, ref_derived, welcome, status, states, key) = packed  # fmt: skip
        if product is not None:
            found = self._products.get(product)
            if found is None:
                found = self._products[product] = self.prepared_product(
                    self.products[product[0]], product[1], product[2]
                )
            product = found
        users, integrations = self.users, self.integrations
        prepared = self.prepared_client(
            values=values,
            groups=groups,
            users=[users[u] for u in user_ids],
            integrations=[integrations[i] for i in integration_ids],
            product=product,
            template=None if template_id is None else self.templates[template_id],
            applied=applied,
            ref_derived=ref_derived,
            welcome=welcome,
        )
        return _Row(Record(line, cells, raw), prepared, status, states, key)


def _write_batch(
    session_scope, writer: _Writer, rows: list[_Row], options
) -> tuple[dict[str, int], list[RowError]]:
    """Write one batch in its own transaction; (counts, rejected rows)."""
    from sqlalchemy.exc import DBAPIError

    try:
        with session_scope(readonly=options.dry_run) as s:
            counts = _apply(s, writer, rows, options, reject_list := [])
    except DBAPIError:
        # One bad row (e.g. a reference another process just took) must not cost the batch:
        # redo it one row per transaction so only that row is rejected, with its line.
        counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
        reject_list = []
        for row in rows:
            try:
                with session_scope(readonly=options.dry_run) as s:
                    one = _apply(s, writer, [row], options, reject_list)
            except DBAPIError as exc:
                detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
                reject_list.append(
                    RowError(row.record.line, None, f"the store refused the row: {detail}", row.record.raw)
                )
                continue
            for k, v in one.items():
                counts[k] += v
    return counts, reject_list


def _apply(
    session, writer: _Writer, rows: list[_Row], options: ImportOptions, rejects: list
) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    if not options.dry_run and session.bind.dialect.name == "sqlite":
        # A batch writes more than SQLite's default 1000-page WAL checkpoint threshold, so every
        # commit would also checkpoint (and fsync) the store; checkpoint about every 64 MB instead.
        conn = session.connection()
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        # The default 2 MB page cache is far smaller than the indexes a large import updates.
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    existing = writer.existing(session, options.key, [r.key for r in rows])
    if options.key == "name":
        # New rows still need a free reference.
        taken = writer.existing(
            session, "ref", [r.prepared.values["ref_key"] for r in rows if r.key not in existing]
        )
    else:
        taken = {}
    new: list[_Row] = []
    for row in rows:
        found = existing.get(row.key)
        if not found:
            if row.prepared.values["ref_key"] in taken:
                rejects.append(
                    RowError(
                        row.record.line,
                        "ref",
                        f"reference {row.prepared.ref!r} is taken by another client",
                        row.record.raw,
                    )
                )
                continue
            new.append(row)
        elif len(found) > 1:
            rejects.append(
                RowError(
                    row.record.line,
                    options.key,
                    f"{len(found)} clients are named {row.prepared.values['name']!r}; import by ref",
                    row.record.raw,
                )
            )
        elif options.on_existing == "skip":
            counts["skipped"] += 1
        elif options.on_existing == "fail":
            rejects.append(
                RowError(
                    row.record.line,
                    options.key,
                    f"client {row.prepared.values[options.key]!r} already exists (--on-existing fail)",
                    row.record.raw,
                )
            )
        else:
            changed = writer.update(session, row, found[0], dry_run=options.dry_run)
            counts["updated" if changed else "unchanged"] += 1
    if not options.dry_run:
        writer.insert(session, new)
    counts["created"] += len(new)
    return counts
