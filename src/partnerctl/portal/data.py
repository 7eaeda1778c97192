"""What the portal shows and changes, through the services: pages of clients, tab counts, details, actions.

Nothing here imports Textual: every method is one short session through the AppContext (one load or
one action = one transaction), so the same acting user and visibility apply as on the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from partnerctl.context import AppContext
from partnerctl.services import billing, clients, reminders, users
from partnerctl.services.money import round_money
from partnerctl.store.models.clients import ClientStatus

PAGE_SIZE = 100
FAILED = object()  # what the portal's store calls give when the call was refused or failed (and was reported)
STATUSES = tuple(s.value for s in ClientStatus)
TAB_LABELS = {str(tab): label for tab, label in clients.TAB_LABELS.items()}


@dataclass(frozen=True)
class View:
    """The list the user is looking at: tab, search and filters (the portal's part of ClientFilters)."""

    tab: str | None = None  # None: the acting user's default tab
    search: str = ""
    missing_receipts: bool = False
    desc: bool = False
    group: str | None = None
    status: str | None = None

    def with_(self, **changes: Any) -> View:
        return replace(self, **changes)

    def filters(self, *, offset: int, limit: int):
        return clients.ClientFilters(
            tab=self.tab, search=self.search or None, missing_receipts=self.missing_receipts,
            status=self.status, group=self.group, desc=self.desc, offset=offset, limit=limit,
        )  # fmt: skip

    def describe(self) -> str:
        """The active filters in a few words, for the status line."""
        parts = [f"name {'Z-A' if self.desc else 'A-Z'}"]
        if self.search:
            parts.append(f"search {self.search!r}")
        if self.missing_receipts:
            parts.append("missing receipts")
        if self.group:
            parts.append(f"group {self.group}")
        if self.status:
            parts.append(f"status {self.status}")
        return " · ".join(parts)


@dataclass(frozen=True)
class ClientLine:
    """One row of the client table."""

    ref: str
    name: str
    status: str
    groups: tuple[str, ...]
    assigned: tuple[str, ...]
    missing_receipts: int
    wallet_balance: Decimal
    expenses_ready: int
    currency: str


@dataclass
class Page:
    """One page of the list as loaded: its rows, the list's total and (on a first load) the tab counts."""

    tab: str
    rows: list[ClientLine]
    total: int
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Who:
    """The acting user, as the top line names them."""

    email: str
    role: str


class PortalData:
    """The portal's one door to the store; counts its list loads so tests can see only pages were read."""

    def __init__(self, app_ctx: AppContext, *, page_size: int = PAGE_SIZE) -> None:
        self.app_ctx = app_ctx
        self.page_size = page_size
        self.list_calls = 0
        self.rows_fetched = 0

    # -- reading -------------------------------------------------------------------------------
    def whoami(self) -> Who:
        with self.app_ctx.session(readonly=True) as s:
            actor = self.app_ctx.actor(s)
            return Who(actor.email, str(actor.role))

    def load(self, view: View, page_no: int, *, with_counts: bool = False) -> Page:
        """Page `page_no` of `view` (PAGE_SIZE rows from page_no * PAGE_SIZE), with the tab counts if asked."""
        offset = page_no * self.page_size
        with self.app_ctx.session(readonly=True) as s:
            page = clients.list_clients(
                s, self.app_ctx.actor(s), view.filters(offset=offset, limit=self.page_size),
                with_counts=with_counts,
            )  # fmt: skip
            rows = [
                ClientLine(
                    ref=c.ref,
                    name=c.name,
                    status=str(c.status),
                    groups=tuple(page.groups[c.id]),
                    assigned=tuple(page.assigned[c.id]),
                    missing_receipts=c.missing_receipts,
                    wallet_balance=round_money(c.wallet_balance, c.currency),
                    expenses_ready=c.expenses_ready,
                    currency=c.currency,
                )  # fmt: skip
                for c in page.rows
            ]
        self.list_calls += 1
        self.rows_fetched += len(rows)
        counts = {str(tab): n for tab, n in page.tab_counts.items()}
        return Page(str(page.tab), rows, page.total, counts)

    def groups(self) -> list[str]:
        with self.app_ctx.session(readonly=True) as s:
            return clients.list_groups(s, self.app_ctx.actor(s))

    def details(self, ref: str) -> dict[str, Any]:
        """client_details plus the client's subscriptions and invoices, as the list services give them."""
        with self.app_ctx.session(readonly=True) as s:
            actor = self.app_ctx.actor(s)
            details = clients.client_details(s, actor, ref)
            details["wallet_balance"] = round_money(details["wallet_balance"], details["currency"])
            details["subscription_rows"] = billing.list_subscriptions(s, actor, client_ref=ref)
            details["invoice_rows"] = billing.list_invoices(s, actor, client_ref=ref)
        return details

    def users(self) -> list[str]:
        """E-mails of the active partner users (whom an admin may assign)."""
        with self.app_ctx.session(readonly=True) as s:
            return [u.email for u in users.list_users(s, include_inactive=False)]

    def current_client(self) -> str | None:
        return self.app_ctx.profile.get("client")

    # -- changing: each is one transaction through the same service (and audit) as the CLI ----
    def run(self, action: str, ref: str, **kw: Any) -> str:
        """Carry out `action` on client `ref`; returns what to tell the user. Errors propagate."""
        return _RUNNERS[action](self, ref, **kw)

    def _go_to(self, ref: str) -> str:
        ref_out, name = self.app_ctx.use_client(ref)
        return f"current client: {name} ({ref_out}) in profile {self.app_ctx.profile_name}"

    def _nudge(self, ref: str, *, tasks: Sequence[str], comment: str = "") -> str:
        with self.app_ctx.session() as s:
            result = reminders.nudge(s, self.app_ctx.actor(s), ref, tasks=list(tasks), comment=comment)
        n = len(result.recipients)
        return f"nudged {n} bookkeeper{'s' if n != 1 else ''} of {result.client_ref}: {', '.join(result.recipients)}"

    def _assign(self, ref: str, *, email: str) -> str:
        with self.app_ctx.session() as s:
            client, added = clients.assign_users(s, self.app_ctx.actor(s), ref, [email])
            ref_out = client.ref
        return f"assigned {', '.join(added) or 'nobody new'} to {ref_out}"

    def _unassign(self, ref: str, *, email: str) -> str:
        with self.app_ctx.session() as s:
            client, removed = clients.unassign_users(s, self.app_ctx.actor(s), ref, [email])
            ref_out = client.ref
        return f"unassigned {', '.join(removed)} from {ref_out}"

    def _status(self, ref: str, *, service: Callable[..., Any], verb: str) -> str:
        with self.app_ctx.session() as s:
            client = service(s, self.app_ctx.actor(s), ref)
            ref_out, status = client.ref, client.status
        return f"{verb} client {ref_out}; it is now {status}"

    def _accept(self, ref: str) -> str:
        return self._status(ref, service=clients.accept_invitation, verb="accepted")

    def _archive(self, ref: str) -> str:
        return self._status(ref, service=clients.archive_client, verb="archived")

    def _decline(self, ref: str) -> str:
        with self.app_ctx.session() as s:
            removed = clients.decline_invitation(s, self.app_ctx.actor(s), ref)
        return f"declined the invitation of {removed}"


_RUNNERS: dict[str, Callable[..., str]] = {
    "go": PortalData._go_to,
    "nudge": PortalData._nudge,
    "assign": PortalData._assign,
    "unassign": PortalData._unassign,
    "accept": PortalData._accept,
    "decline": PortalData._decline,
    "archive": PortalData._archive,
}


@dataclass(frozen=True)
class Action:
    """An entry of the client menu (the portal's three dots)."""

    key: str
    label: str
    confirm: str  # the question asked before anything changes; {ref}, {name} and {extra} are filled in
    statuses: frozenset[str] = frozenset(STATUSES)  # offered for clients in these statuses
    changes: bool = True  # False: only looks (allowed in --read-only)


ACTIONS: tuple[Action, ...] = (
    Action("details", "Show details", "", changes=False),
    Action("go", "Go to client", "Make {name} ({ref}) the current client of this profile?"),
    Action(
        "nudge",
        "Notify the bookkeepers",
        "E-mail the bookkeepers of {name} ({ref}) about {extra}?",
        frozenset(STATUSES) - {"archived"},
    ),  # fmt: skip
    Action("assign", "Assign a user", "Assign {extra} to {name} ({ref})?"),
    Action("unassign", "Unassign a user", "Unassign {extra} from {name} ({ref})?"),
    Action(
        "accept", "Accept the invitation", "Accept the invitation of {name} ({ref})?", frozenset({"invited"})
    ),
    Action(
        "decline",
        "Decline the invitation",
        "Decline the invitation of {name} ({ref})? The client is removed.",
        frozenset({"invited"}),
    ),  # fmt: skip
    Action(
        "archive",
        "Archive",
        "Archive {name} ({ref})? It leaves every tab.",
        frozenset(STATUSES) - {"archived"},
    ),
)


def actions_for(status: str) -> list[Action]:
    """The menu for a client in `status` (who may do what is the services' call, not the menu's)."""
    return [a for a in ACTIONS if status in a.statuses]


def nudge_topics() -> list[tuple[str, str]]:
    """(topic, label) of what a nudge can be about, as the e-mail names them."""
    labels = reminders.labels_for("en")
    return [(topic, labels[topic]) for topic in reminders.ALL_TOPICS]
