"""Streamed readers for client import (CSV, a JSON array, JSON lines): records by line, per-row errors."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from partnerctl.errors import InvalidInput
from partnerctl.services.clients.bulk.columns import (
    COLUMNS,
    IGNORED_COLUMNS,
    LIST_COLUMNS,
    normalize_header,
    split_list,
    unescape_formula,
)

# A single cell longer than this is rejected (no client field comes near it); the CSV parser's own
# limit is higher so that one runaway quoted cell is reported as a row error, not a crash.
MAX_CELL = 4_000
CSV_FIELD_LIMIT = 1 << 20
# Characters handed to the JSON parser per read: one line at most, so records know their line.
_JSON_CHUNK = 1 << 16


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


def _failed(line: int, reason: str, raw: dict[str, Any] | list[str] | None = None, column=None) -> Record:
    """A record that is only its error."""
    raw = {} if raw is None else raw
    return Record(line, {}, raw, RowError(line, column, reason, raw))


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
_SURROGATES = re.compile(r"[\ud800-\udfff]")


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
            yield _failed(start, f"cannot read the row: {exc}")
            continue
        last_line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) != width:
            what = "more" if len(row) > width else "fewer"
            # The cells exactly as read, all of them, go to the errors file.
            yield _failed(
                start, f"the row has {len(row)} cells, {what} than the {width} columns of the header", row
            )
            continue
        yield _csv_record(start, row, mapped)


def _csv_record(line: int, row: list[str], mapped: list[str | None]) -> Record:
    cells: dict[str, Any] = {}
    # One check of the whole row; cell by cell only when something is wrong in it.
    suspect = max(map(len, row)) > MAX_CELL or _BAD_TEXT.search("".join(row)) is not None
    for key, value in zip(mapped, row, strict=True):
        if key is None:
            continue
        problem = _cell_problem(value) if suspect else None
        if problem:
            return Record(line, cells, row, RowError(line, key, problem, row))
        value = value.strip()
        if value[:1] == "'":
            value = unescape_formula(value)
        if value == "":
            continue
        cells[key] = split_list(value) if key in LIST_COLUMNS else value
    return Record(line, cells, row)


# -- JSON and JSON lines --------------------------------------------------------------------------


def _json_list(value: Any) -> tuple[list[str] | None, str | None]:
    """A list column's value (a JSON array or a `;`-separated string): (items, problem)."""
    items = value if isinstance(value, list) else split_list(value) if isinstance(value, str) else None
    if items is None or not all(isinstance(i, str) for i in items):
        return None, "must be a list of text values"
    for item in items:
        problem = _cell_problem(item)
        if problem:
            return None, problem
    return [i.strip() for i in items if i.strip()], None


def _json_text(value: Any) -> tuple[str | None, str | None]:
    """A scalar column's value as the text a CSV cell would hold: (text, problem)."""
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, (int, float)):
        value = str(value)
    elif not isinstance(value, str):
        return None, "must be text or a number"
    problem = _cell_problem(value)
    if problem:
        return None, problem
    return value.strip(), None


def _json_cells(obj: Any, line: int, ignore_unknown: bool) -> Record:
    """One JSON object as a record, with the same cells a CSV row of the same values would give."""
    if not isinstance(obj, dict):
        return _failed(line, f"expected an object, not {type(obj).__name__}")
    raw = {str(k): v for k, v in obj.items()}
    cells: dict[str, Any] = {}
    for original, value in obj.items():
        key = normalize_header(str(original))
        if key in IGNORED_COLUMNS:
            continue
        if key not in COLUMNS:
            if ignore_unknown:
                continue
            return _failed(line, "unknown column", raw, str(original))
        if value is None:
            continue
        cell, problem = _json_list(value) if key in LIST_COLUMNS else _json_text(value)
        if problem:
            return _failed(line, problem, raw, key)
        if cell:
            cells[key] = cell
    if "name" not in cells and "ref" not in cells:
        return _failed(line, "a client needs a name", raw, "name")
    return Record(line, cells, raw)


def read_jsonl(stream: BinaryIO, *, encoding: str | None = None, ignore_unknown: bool = False) -> Source:
    text = _text_stream(stream, encoding)

    def records() -> Iterator[Record]:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            if len(line) > CSV_FIELD_LIMIT:
                yield _failed(number, "the line is too long")
                continue
            if _BAD_TEXT.search(line):
                yield _failed(number, _cell_problem(line) or "bad text")
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                yield _failed(number, f"not JSON: {exc}", {"json": line.rstrip()})
                continue
            yield _json_cells(obj, number, ignore_unknown)

    return Source(list(COLUMNS), records())


class _RecordTooLong(Exception):
    """Raised from inside the JSON parser's read when one record grows past CSV_FIELD_LIMIT."""


class LinedObject(dict):
    """A JSON object that remembers the line its `{` is on (ijson creates it there, see _JsonLines)."""

    __slots__ = ("line",)


class _JsonLines:
    """The text stream as UTF-8 bytes for ijson, at most one line per read, counting lines.

    ijson parses everything of one read before it asks for the next, so while it builds an object
    `line` is the line that object's text is on (see `read_json`).
    """

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.text = text
        self.line = 1  # the line of the text the parser has now
        self._next = 1
        self._pending = ""
        self.since_record = 0  # characters read since the last record was complete

    def first_char(self) -> tuple[str | None, int]:
        """The first character that is not white space, and its line; `read` starts at its line."""
        while True:
            chunk = self.text.readline(_JSON_CHUNK)
            if not chunk:
                return None, self._next
            stripped = chunk.lstrip(" \t\r\n")
            if stripped:
                self._pending = chunk
                return stripped[0], self._next + chunk[: len(chunk) - len(stripped)].count("\n")
            self._next += chunk.count("\n")

    def new_object(self) -> LinedObject:
        """ijson's map_type: a new object, on the line being parsed."""
        obj = LinedObject()
        obj.line = self.line
        return obj

    def read(self, size: int) -> bytes:
        if size == 0:
            return b""  # ijson probes with read(0) whether the stream gives bytes or text
        if self._pending:
            chunk, self._pending = self._pending, ""
        else:
            chunk = self.text.readline(min(size, _JSON_CHUNK))
        self.line = self._next
        self._next += chunk.count("\n")
        self.since_record += len(chunk)
        if self.since_record > CSV_FIELD_LIMIT:
            raise _RecordTooLong
        # Undecodable bytes (surrogate escapes) as U+FFFD: valid UTF-8 for the parser, and a cell
        # holding one is rejected as text not in the file's encoding, as in CSV.
        if _SURROGATES.search(chunk):
            chunk = _SURROGATES.sub("\ufffd", chunk)
        return chunk.encode("utf-8")


def _ijson_items() -> tuple[Callable[..., Iterator[Any]], type[Exception]]:
    """ijson's `items` (its C yajl2 backend where installed) and its error; imported only for JSON."""
    from ijson.common import JSONError

    try:
        from ijson.backends.yajl2_c import items
    except ImportError:
        from ijson import items
    return items, JSONError


def read_json(stream: BinaryIO, *, encoding: str | None = None, ignore_unknown: bool = False) -> Source:
    """A JSON array of objects, parsed by ijson one object at a time so memory stays flat.

    What line numbers mean here: a record's line is the line its opening `{` is on (for an item
    that is not an object, the line the parser was reading when it finished that item). A syntax
    error is reported on the line where the parser found it, with the number of the array item it
    was in; malformed JSON cannot be resynchronised, so reading stops there.
    """
    text = _text_stream(stream, encoding)
    source = _JsonLines(text)
    first, line = source.first_char()
    if first is None:
        raise InvalidInput("the file is empty: expected a JSON array of client objects")
    if first != "[":
        raise InvalidInput(f"line {line}: expected a JSON array of client objects ([{{...}}, ...])")
    return Source(list(COLUMNS), _json_records(source, ignore_unknown))


def _json_records(source: _JsonLines, ignore_unknown: bool) -> Iterator[Record]:
    parse, json_error = _ijson_items()
    items = parse(source, "item", map_type=source.new_object, use_float=True, buf_size=_JSON_CHUNK)
    index = 0
    while True:
        try:
            obj = next(items)
        except StopIteration:
            return
        except _RecordTooLong:
            reason = f"item {index + 1} of the array is longer than {CSV_FIELD_LIMIT} characters"
            yield _failed(source.line, reason)
            return
        except (json_error, UnicodeDecodeError, ValueError) as exc:
            yield _failed(source.line, _json_problem(exc, index + 1))
            return
        index += 1
        source.since_record = 0
        yield _json_cells(obj, obj.line if type(obj) is LinedObject else source.line, ignore_unknown)


def _json_problem(exc: Exception, item: int) -> str:
    """What to say about a JSON syntax error found while reading array item `item`."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "premature EOF" in message or "Incomplete JSON" in message:
        return f"the file ends inside item {item} of the JSON array, or the array is not closed (missing ])"
    return f"not valid JSON in item {item} of the array: {message}"


def open_source(
    stream: BinaryIO, fmt: str, *, encoding: str | None = None, ignore_unknown: bool = False
) -> Source:
    readers: dict[str, Callable[..., Source]] = {"csv": read_csv, "json": read_json, "jsonl": read_jsonl}
    if fmt not in readers:
        raise InvalidInput(f"unknown format {fmt!r}: use csv, json or jsonl")
    return readers[fmt](stream, encoding=encoding, ignore_unknown=ignore_unknown)
