"""Client export: clients (as `client list` filters them) streamed in the format `client import` reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from sqlmodel import Session, col, select

from partnerctl.services.clients.bulk.columns import COLUMNS, LIST_COLUMNS, csv_line, escape_formula
from partnerctl.services.clients.listing import client_query, order_clients
from partnerctl.store.models import ClientAssignment, ClientGroup, ClientIntegration, Integration, User
from partnerctl.values import to_jsonable

# Import-only columns: the template was applied at onboarding and the welcome e-mail was sent (or not).
EXPORT_COLUMNS = tuple(c for c in COLUMNS if c not in ("template", "welcome"))
PAGE = 1000


def _children(session: Session, ids: list[int]) -> tuple[dict, dict, dict]:
    groups: dict[int, list[str]] = {i: [] for i in ids}
    users: dict[int, list[str]] = {i: [] for i in ids}
    integrations: dict[int, list[str]] = {i: [] for i in ids}
    for cid, name in session.exec(
        select(ClientGroup.client_id, ClientGroup.group_name)
        .where(col(ClientGroup.client_id).in_(ids))
        .order_by(ClientGroup.client_id, ClientGroup.group_name)
    ):
        groups[cid].append(name)
    for cid, email in session.exec(
        select(ClientAssignment.client_id, User.email)
        .join(User, col(User.id) == ClientAssignment.user_id)
        .where(col(ClientAssignment.client_id).in_(ids))
        .order_by(ClientAssignment.client_id, User.email)
    ):
        users[cid].append(email)
    for cid, key, state in session.exec(
        select(ClientIntegration.client_id, Integration.key, ClientIntegration.state)
        .join(Integration, col(Integration.id) == ClientIntegration.integration_id)
        .where(col(ClientIntegration.client_id).in_(ids))
        .order_by(ClientIntegration.client_id, Integration.key)
    ):
        # The state travels with the key so export -> import keeps connected integrations connected.
        integrations[cid].append(key if str(state) == "pending" else f"{key}:{to_jsonable(state)}")
    return groups, users, integrations


def export_rows(session: Session, actor, filters) -> Iterator[dict[str, Any]]:
    """Rows of the clients `actor` may see, filtered as `client list`, a page of children at a time."""
    query = order_clients(client_query(session, actor, filters), filters)
    if filters.offset:
        query = query.offset(filters.offset)
    if filters.limit is not None:
        query = query.limit(filters.limit)
    page: list = []
    for client in session.exec(query.execution_options(yield_per=PAGE)):
        page.append(client)
        if len(page) >= PAGE:
            yield from _page_rows(session, page)
            page = []
    if page:
        yield from _page_rows(session, page)


def _page_rows(session: Session, page: list) -> Iterator[dict[str, Any]]:
    groups, users, integrations = _children(session, [c.id for c in page])
    for c in page:
        row: dict[str, Any] = {}
        for column in EXPORT_COLUMNS:
            if column == "groups":
                row[column] = groups[c.id]
            elif column == "assign":
                row[column] = users[c.id]
            elif column == "integrations":
                row[column] = integrations[c.id]
            elif column == "permissions":
                row[column] = list(c.permissions or [])
            else:
                row[column] = to_jsonable(getattr(c, column))
        yield row


def write_csv(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    """CSV with `;` inside list cells; cells a spreadsheet would run as a formula get a leading quote."""
    out.write(csv_line(list(EXPORT_COLUMNS)))
    n = 0
    for row in rows:
        cells = []
        for column in EXPORT_COLUMNS:
            value = row.get(column)
            if value is None:
                text = ""
            elif column in LIST_COLUMNS:
                text = ";".join(value)
            else:
                text = str(value)
            cells.append(escape_formula(text))
        out.write(csv_line(cells))
        n += 1
    return n


def write_json(rows: Iterator[dict[str, Any]], out: TextIO, *, lines: bool = False) -> int:
    """A JSON array (one object per line, so it streams) or JSON lines."""
    n = 0
    if not lines:
        out.write("[")
    for row in rows:
        text = json.dumps({k: row.get(k) for k in EXPORT_COLUMNS}, ensure_ascii=False)
        if lines:
            out.write(text + "\n")
        else:
            out.write(("\n" if n == 0 else ",\n") + text)
        n += 1
    if not lines:
        out.write("\n]\n" if n else "]\n")
    return n
