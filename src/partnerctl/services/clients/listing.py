"""The portal's client tabs, search, filters, sorting and paging, with the per-tab counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from partnerctl.errors import Forbidden, InvalidInput
from partnerctl.services.access import assigned_to, visible_assignments_filter, visible_clients_filter
from partnerctl.services.clients.model import parse_status
from partnerctl.services.validation import (
    normalize_currency,
    normalize_email,
    normalize_language,
    parse_choice,
)
from partnerctl.store.models import (
    Client,
    ClientAssignment,
    ClientGroup,
    ClientIntegration,
    ConfigTemplate,
    Integration,
    User,
)
from partnerctl.store.models.clients import ClientStatus
from partnerctl.store.models.core import Role


class Tab(StrEnum):
    invites = "invites"
    onboarding = "onboarding"
    mine = "mine"
    all = "all"


TAB_LABELS = {Tab.invites: "Invites", Tab.onboarding: "Onboarding", Tab.mine: "My clients", Tab.all: "All"}


class Sort(StrEnum):
    name = "name"
    created = "created"
    missing_receipts = "missing-receipts"


@dataclass
class ClientFilters:
    """Every `client list` filter; `client export` takes the same."""

    tab: Tab | str | None = None
    search: str | None = None
    missing_receipts: bool = False
    status: str | None = None
    group: str | None = None
    assigned: str | None = None
    template: str | None = None
    currency: str | None = None
    language: str | None = None
    include_archived: bool = False
    sort: Sort | str = Sort.name
    desc: bool = False
    limit: int | None = None
    offset: int = 0


def tabs_for(actor: User) -> list[Tab]:
    if actor.role == Role.admin:
        return [Tab.invites, Tab.onboarding, Tab.mine, Tab.all]
    return [Tab.onboarding, Tab.mine]


def default_tab(actor: User) -> Tab:
    return Tab.all if actor.role == Role.admin else Tab.mine


def parse_tab(raw: Tab | str | None, actor: User) -> Tab:
    if raw is None:
        return default_tab(actor)
    tab = parse_choice(Tab, raw, "tab")
    if tab not in tabs_for(actor):
        raise Forbidden(f"bookkeepers see only the onboarding and mine tabs, not {tab.value}")
    return tab


def _tab_clause(tab: Tab, actor: User) -> Any:
    if tab == Tab.invites:
        return Client.status == ClientStatus.invited
    if tab == Tab.onboarding:
        return Client.status == ClientStatus.onboarding
    if tab == Tab.mine:
        return assigned_to(actor)
    return sa.true()


def like_escape(text: str) -> str:
    """`%` and `_` in a search are literal characters, not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def client_query(session: Session, actor: User, filters: ClientFilters):
    """The SELECT of `client list` (no limit/offset): visibility, tab and every filter applied."""
    tab = parse_tab(filters.tab, actor)
    # The mine tab already limits to the actor's assigned clients: a bookkeeper's visibility filter
    # on top would be the same IN (assignments) twice, looked up twice.
    visible = sa.true() if tab == Tab.mine else visible_clients_filter(actor)
    query = select(Client).where(visible, _tab_clause(tab, actor))
    if filters.status:
        query = query.where(Client.status == parse_status(filters.status))
    elif not filters.include_archived:
        query = query.where(Client.status != ClientStatus.archived)
    if filters.search and filters.search.strip():
        pattern = f"%{like_escape(filters.search.strip().lower())}%"
        query = query.where(
            sa.or_(
                col(Client.name_key).like(pattern, escape="\\"),
                col(Client.ref_key).like(pattern, escape="\\"),
            )
        )
    if filters.missing_receipts:
        query = query.where(Client.missing_receipts > 0)
    if filters.group:
        query = query.where(
            col(Client.id).in_(
                select(ClientGroup.client_id).where(ClientGroup.group_name == filters.group.strip())
            )
        )
    if filters.assigned:
        email = normalize_email(filters.assigned, field="--assigned e-mail")
        query = query.where(
            col(Client.id).in_(
                select(ClientAssignment.client_id)
                .join(User, col(User.id) == ClientAssignment.user_id)
                .where(User.email == email)
            )
        )
    if filters.template:
        tpl = session.exec(
            select(ConfigTemplate.id).where(ConfigTemplate.name_key == filters.template.strip().lower())
        ).first()
        if tpl is None:
            raise InvalidInput(f"unknown template {filters.template!r}")
        query = query.where(Client.template_id == tpl)
    if filters.currency:
        query = query.where(Client.currency == normalize_currency(filters.currency))
    if filters.language:
        query = query.where(Client.language == normalize_language(filters.language))
    return query


def order_clients(query, filters: ClientFilters):
    try:
        sort = Sort(str(filters.sort).strip().lower()) if filters.sort else Sort.name
    except ValueError:
        raise InvalidInput(f"unknown sort {filters.sort!r}: use name, created or missing-receipts") from None
    column = {
        Sort.name: Client.name_key,
        Sort.created: Client.created_at,
        Sort.missing_receipts: Client.missing_receipts,
    }[sort]
    # A search scans every row anyway; walking the sort index instead (SQLite's choice, as it
    # cannot estimate LIKE) would fetch rows one by one. coalesce() makes it sort the matches.
    searching = bool(filters.search and filters.search.strip())
    column = func.coalesce(column, column) if searching else col(column)
    if filters.desc:
        return query.order_by(column.desc(), col(Client.id).desc())
    return query.order_by(column.asc(), col(Client.id).asc())


@dataclass
class ClientPage:
    rows: list[Client]
    tab: Tab
    tab_counts: dict[Tab, int]
    total: int
    groups: dict[int, list[str]] = field(default_factory=dict)
    assigned: dict[int, list[str]] = field(default_factory=dict)


def tab_counts(session: Session, actor: User) -> dict[Tab, int]:
    """Counts per tab the actor may see (archived clients count in none).

    Admins: clients per status in one pass over the status index (Invites, Onboarding, All) plus
    their assigned clients (My clients). Bookkeepers: their assigned clients per status, one query.
    (One conditional-aggregation query over every row was measured slower on SQLite: it evaluates
    each CASE per row instead of reading the index.)
    """
    mine_join = (
        select(Client.status, func.count())
        .select_from(ClientAssignment)
        .join(Client, col(Client.id) == ClientAssignment.client_id)
        .where(ClientAssignment.user_id == actor.id)
        .group_by(Client.status)
    )
    archived = ClientStatus.archived.value
    mine_per_status = dict(session.exec(mine_join).all())
    mine = sum(n for status, n in mine_per_status.items() if status != archived)
    if actor.role != Role.admin:
        return {Tab.onboarding: mine_per_status.get(ClientStatus.onboarding.value, 0), Tab.mine: mine}
    per_status = dict(session.exec(select(Client.status, func.count()).group_by(Client.status)).all())
    return {
        Tab.invites: per_status.get(ClientStatus.invited.value, 0),
        Tab.onboarding: per_status.get(ClientStatus.onboarding.value, 0),
        Tab.mine: mine,
        Tab.all: sum(n for status, n in per_status.items() if status != archived),
    }


def _tab_only(filters: ClientFilters) -> bool:
    """True when `filters` list exactly a tab's clients (no filter beyond the tab, archived hidden)."""
    return not (
        (filters.search and filters.search.strip())
        or filters.missing_receipts
        or filters.status
        or filters.group
        or filters.assigned
        or filters.template
        or filters.currency
        or filters.language
        or filters.include_archived
    )


def _count(session: Session, query) -> int:
    """`count(*)` over the clients `query` selects, without a subquery of every column."""
    count = select(func.count()).select_from(Client)
    if query.whereclause is not None:
        count = count.where(query.whereclause)
    return session.exec(count).one()


def _page_ids(session: Session, query, filters: ClientFilters) -> tuple[list[int], int | None]:
    """The ids of the page's clients in order, and the total when it comes for free (else None).

    Page ids first (from an index where one covers the filters), then the rows: a deep --offset
    then skips index entries, not whole rows.
    """
    if filters.search and filters.search.strip():
        # A search reads every candidate anyway: count them in the same pass (a window count)
        # instead of a second scan.
        page = order_clients(select(Client.id, func.count().over()).where(query.whereclause), filters)
    else:
        page = order_clients(query.with_only_columns(Client.id), filters)
    page = page.offset(filters.offset)
    if filters.limit is not None:
        page = page.limit(filters.limit)
    fetched = session.exec(page).all()
    if filters.search and filters.search.strip():
        total = fetched[0][1] if fetched else (0 if filters.offset == 0 and filters.limit != 0 else None)
        return [cid for cid, _ in fetched], total
    page_ids = list(fetched)
    # A short first page is the whole result: no separate count needed.
    short = filters.offset == 0 and (filters.limit is None or len(page_ids) < filters.limit)
    return page_ids, len(page_ids) if short else None


def list_clients(
    session: Session, actor: User, filters: ClientFilters | None = None, *, with_counts: bool = True
) -> ClientPage:
    """`client list`: one page of the clients `actor` may see, with the tab counts and the total."""
    filters = filters or ClientFilters()
    if filters.limit is not None and filters.limit < 0:
        raise InvalidInput("--limit must be 0 or more")
    if filters.offset < 0:
        raise InvalidInput("--offset must be 0 or more")
    query = client_query(session, actor, filters)
    page_ids, total = _page_ids(session, query, filters)
    counts = tab_counts(session, actor) if with_counts else {}
    tab = parse_tab(filters.tab, actor)
    if total is None and tab in counts and _tab_only(filters):
        total = counts[tab]  # the tab bar already counted exactly this list
    if total is None:
        total = _count(session, query)
    by_id = {
        c.id: c
        for chunk in id_chunks(page_ids)
        for c in session.exec(select(Client).where(col(Client.id).in_(chunk)))
    }
    rows = [by_id[i] for i in page_ids]
    ids = [c.id for c in rows]
    return ClientPage(
        rows=rows,
        tab=tab,
        tab_counts=counts,
        total=total,
        groups=groups_of(session, ids),
        assigned=assigned_of(session, ids, actor),
    )


def list_groups(session: Session, actor: User) -> list[str]:
    """The group names of the clients `actor` may see, sorted (what the group filter can pick from)."""
    query = (
        select(ClientGroup.group_name)
        .join(Client, col(Client.id) == ClientGroup.client_id)
        .where(visible_clients_filter(actor))
        .distinct()
        .order_by(ClientGroup.group_name)
    )
    return list(session.exec(query))


def groups_of(session: Session, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in ids}
    for chunk in id_chunks(ids):
        for cid, g in session.exec(
            select(ClientGroup.client_id, ClientGroup.group_name)
            .where(col(ClientGroup.client_id).in_(chunk))
            .order_by(ClientGroup.group_name)
        ):
            out[cid].append(g)
    return out


def assigned_of(session: Session, ids: list[int], viewer: User | None = None) -> dict[int, list[str]]:
    """Who is assigned to each client; as `viewer` sees it (a bookkeeper sees their own assignment)."""
    out: dict[int, list[str]] = {i: [] for i in ids}
    seen = visible_assignments_filter(viewer) if viewer is not None else sa.true()
    for chunk in id_chunks(ids):
        for cid, email in session.exec(
            select(ClientAssignment.client_id, User.email)
            .join(User, col(User.id) == ClientAssignment.user_id)
            .where(col(ClientAssignment.client_id).in_(chunk), seen)
            .order_by(User.email)
        ):
            out[cid].append(email)
    return out


def integrations_of(session: Session, client_id: int) -> list[tuple[str, str]]:
    return [
        (key, str(state))
        for key, state in session.exec(
            select(Integration.key, ClientIntegration.state)
            .join(Integration, col(Integration.id) == ClientIntegration.integration_id)
            .where(ClientIntegration.client_id == client_id)
            .order_by(Integration.key)
        )
    ]


def id_chunks(ids: list[int], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
