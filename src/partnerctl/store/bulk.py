"""Driver-level bulk SQL: multi-row inserts (COPY on PostgreSQL) and key -> value look-ups without ORM overhead."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError


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


json_text = _json_text_encoder()


def bind_processor(type_, dialect):
    """The column type's bind processor; for SQLAlchemy's JSON on SQLite, the same text faster."""
    processor = type_._cached_bind_processor(dialect)
    if (
        processor is not None
        and dialect.name == "sqlite"
        and type(type_) is sa.JSON
        and dialect._json_serializer is None
        and not type_.none_as_null
        and sa.String().bind_processor(dialect) is None
    ):
        return json_text
    return processor


def bulk_insert(conn, table, rows: list[dict[str, Any]], constants: dict[str, Any] | None = None) -> None:
    """A multi-row INSERT straight through the driver's executemany, with the columns' own bind
    processors (UTC timestamps, Money, JSON) applied once per value instead of SQLAlchemy's generic
    per-statement parameter handling, which costs more than the insert itself at this volume.
    `constants` are values shared by every row (the batch's timestamp), converted once.
    On PostgreSQL the rows go through COPY instead."""
    if not rows:
        return
    dialect = conn.dialect
    constants = constants or {}
    keys = [k for k in rows[0] if k not in constants]
    names = keys + list(constants)
    tail = tuple(
        v if (p := table.c[k].type._cached_bind_processor(dialect)) is None else p(v)
        for k, v in constants.items()
    )
    params = _bound_rows(rows, keys, [bind_processor(table.c[k].type, dialect) for k in keys], tail)
    if dialect.name == "postgresql":
        if _row_security_active(conn, table.name):
            _copy_through_temp(conn, table.name, names, params)
        else:
            _copy(conn, table.name, names, params)
        return
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(marker for _ in names)})"
    conn.exec_driver_sql(sql, params)


def _row_security_active(conn, table_name: str) -> bool:
    """Whether row-level security applies to this connection's role on the table: PostgreSQL
    refuses COPY FROM there (any role but a superuser's, the store's own roles included), so those
    rows take a detour through a temporary table. Remembered per connection: its role never changes."""
    known = conn.connection.info.setdefault("partnerctl_row_security", {})
    if table_name not in known:
        known[table_name] = bool(
            conn.exec_driver_sql("SELECT row_security_active(%s::regclass)", (table_name,)).scalar()
        )
    return known[table_name]


def _bound_rows(rows: list[dict[str, Any]], keys: list[str], processors: list, tail: tuple) -> list[tuple]:
    """Each row as the driver's parameter tuple: `keys` in order, each through its processor, then `tail`."""
    get = itemgetter(*keys) if len(keys) > 1 else lambda r: (r[keys[0]],)
    # (position, processor, what it makes of None): audit `before` is None on every new row.
    convert = [(i, p, p(None)) for i, p in enumerate(processors) if p is not None]
    if not convert:
        return [get(r) + tail for r in rows]
    params = []
    append = params.append
    for r in rows:
        values = list(get(r))
        for i, p, none in convert:
            v = values[i]
            values[i] = none if v is None else p(v)
        values.extend(tail)
        append(tuple(values))
    return params


def _copy_through_temp(conn, table_name: str, names: list[str], params: list[tuple]) -> None:
    """COPY into a temporary table of the same columns (no row-level security there), then one
    INSERT ... SELECT into the real table, where the policies check every row: as fast as COPY,
    unlike any INSERT of values sent from here (those are parsed and bound row by row)."""
    columns = ", ".join(names)
    temp = f"partnerctl_load_{uuid.uuid4().hex[:12]}"
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS SELECT {columns} FROM {table_name} WITH NO DATA"
    )
    _copy(conn, temp, names, params)
    conn.exec_driver_sql(f"INSERT INTO {table_name} ({columns}) SELECT {columns} FROM {temp}")
    conn.exec_driver_sql(f"DROP TABLE {temp}")


def _copy(conn, table_name: str, names: list[str], params: list[tuple]) -> None:
    """PostgreSQL: the rows through psycopg's COPY, in the connection's open transaction
    (the same values and adapters as executemany; a refused row fails the statement as before)."""
    import psycopg  # only on PostgreSQL: SQLite users never load the driver

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


def select_pairs(conn, table: str, column: str, other: str, keys: list) -> list[tuple]:
    """(column, other) of the rows whose `column` is one of `keys`, as plain SQL: SQLAlchemy would
    compile a fresh statement with thousands of expanded parameters for every batch."""
    if not keys:
        return []
    if conn.dialect.name == "postgresql":
        # One array parameter joined on the index. Not `IN ($1, ..., $2000)`: psycopg prepares a
        # statement run five times, PostgreSQL then plans it generically as a sequential scan that
        # compares every row with every parameter (seconds per batch once the table is large).
        array = "integer[]" if type(keys[0]) is int else "text[]"
        sql = f"SELECT t.{column}, t.{other} FROM {table} t JOIN unnest(%s::{array}) AS k(v) ON t.{column} = k.v"
        return [tuple(row) for row in conn.exec_driver_sql(sql, (list(dict.fromkeys(keys)),))]
    sql = f"SELECT {column}, {other} FROM {table} WHERE {column} IN ({', '.join(['?'] * len(keys))})"
    return [tuple(row) for row in conn.exec_driver_sql(sql, tuple(keys))]
