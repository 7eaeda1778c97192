"""The portal's screens: a client's details, the key help, and the modal menu, pickers, nudge form and confirmation."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from partnerctl.portal.data import Action, ClientLine

KEYS = (
    ("/", "search by name or reference (Enter: back to the list, keeping the search)"),
    ("Up Down PgUp PgDn Home End", "move through the list"),
    ("Enter", "the client's details"),
    (". or a", "the client's menu: go to client, notify the bookkeepers, assign, accept, archive..."),
    ("1 2 3 4  [ ]", "switch tab"),
    ("m", "only clients with missing receipts (toggle)"),
    ("s", "sort by name A-Z / Z-A (toggle)"),
    ("g", "filter by group"),
    ("f", "filter by status"),
    ("c", "clear the search and every filter"),
    ("r", "reload the counts and the list"),
    ("Escape", "back one level"),
    ("?", "this help"),
    ("q", "quit (not while typing in the search field)"),
)


class HelpScreen(ModalScreen[None]):
    """The keys, as k9s and lazygit show them."""

    BINDINGS = [Binding("escape,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, what in KEYS:
            table.add_row(key, what)
        with Vertical(classes="dialog wide"):
            yield Label("Keys", classes="dialog-title")
            yield Static(table)
            yield Label("Escape or ? closes this help.", classes="dialog-hint")


class ConfirmScreen(ModalScreen[bool]):
    """Asks before anything changes: y (or Yes) goes ahead, n, Escape (or No) leaves everything as it is."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Please confirm", classes="dialog-title")
            yield Static(self.question, markup=False, id="question")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PickerScreen(ModalScreen[Any]):
    """Pick one of a few values (a group, a status, a user); Escape picks nothing."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(
        self, title: str, choices: list[tuple[str, Any]], *, empty: str = "nothing to choose"
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.empty = empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if self.choices:
                yield OptionList(*(Option(label, id=str(i)) for i, (label, _) in enumerate(self.choices)))
            else:
                yield Static(self.empty, markup=False)
            yield Label("Enter picks, Escape cancels.", classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)][1])


class ActionMenu(ModalScreen[str | None]):
    """The client's menu, like the portal's three dots; in --read-only every change is disabled."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, line: ClientLine, actions: list[Action], *, read_only: bool) -> None:
        super().__init__()
        self.line = line
        self.actions = actions
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        options = [
            Option(action.label, id=action.key, disabled=self.read_only and action.changes)
            for action in self.actions
        ]
        with Vertical(classes="dialog"):
            yield Label(f"{self.line.name} ({self.line.ref})", classes="dialog-title", markup=False)
            if self.read_only:
                yield Label("read-only: actions are disabled (--read-only)", id="read-only")
            yield OptionList(*options)
            yield Label("Enter picks, Escape cancels.", classes="dialog-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class NudgeScreen(ModalScreen[tuple[list[str], str] | None]):
    """Notify the bookkeepers: which tasks, and a comment (the portal's "Giv bogholderne besked")."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, line: ClientLine, topics: list[tuple[str, str]]) -> None:
        super().__init__()
        self.line = line
        self.topics = topics

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Notify the bookkeepers of {self.line.name}", classes="dialog-title", markup=False)
            for topic, label in self.topics:
                yield Checkbox(label, id=f"topic-{topic}")
            yield Input(placeholder="comment (optional)", id="comment")
            with Horizontal(classes="buttons"):
                yield Button("Send e-mail", id="send", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query(Checkbox).first().focus()

    def chosen(self) -> list[str]:
        return [topic for topic, _ in self.topics if self.query_one(f"#topic-{topic}", Checkbox).value]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self.dismiss((self.chosen(), self.query_one("#comment", Input).value))
        else:
            self.dismiss(None)

    def on_input_submitted(self) -> None:
        self.query_one("#send", Button).focus()


def _address(details: dict[str, Any], kind: str) -> str:
    parts = [details.get(f"{kind}_street"), " ".join(
        p for p in (details.get(f"{kind}_zip"), details.get(f"{kind}_city")) if p
    ), details.get(f"{kind}_country")]  # fmt: skip
    return ", ".join(p for p in parts if p) or "-"


def _fields(rows: list[tuple[str, Any]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for name, value in rows:
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value) or "-"
        table.add_row(name, Text("-" if value in (None, "") else str(value)))
    return table


def _subscriptions(rows: list) -> Table | Text:
    if not rows:
        return Text("no subscriptions")
    table = Table("product", "seats", "status", "next payment", "payer", "monthly", box=None, pad_edge=False)
    for sub in rows:
        monthly = "-" if sub.monthly_value is None else f"{sub.monthly_value} {sub.currency}"
        table.add_row(sub.product, str(sub.seats), sub.status, str(sub.next_payment_date), sub.payer, monthly)
    return table


def _invoices(rows: list, last: int = 10) -> Table | Text:
    if not rows:
        return Text("no invoices")
    table = Table("number", "issued", "period", "total", box=None, pad_edge=False)
    for inv in rows[-last:]:
        table.add_row(
            inv.number or "-", str(inv.issue_date), f"{inv.period_start} - {inv.period_end}",
            f"{inv.total} {inv.currency}",
        )  # fmt: skip
    if len(rows) > last:
        table.caption = f"the last {last} of {len(rows)}; `partnerctl invoice list --client REF` shows all"
    return table


def details_renderable(d: dict[str, Any]) -> Group:
    """Everything about one client, in the order the portal's details page shows it."""
    heading = Text.assemble((f"{d['name']} ({d['ref']})", "bold"), f"  {d['status']}")
    template = d.get("template")
    return Group(
        heading,
        Text(""),
        _fields(
            [
                (
                    "Contact",
                    " ".join(
                        p
                        for p in (
                            d.get("contact_name"),
                            f"<{d['contact_email']}>" if d.get("contact_email") else "",
                        )
                        if p
                    ),
                ),
                ("Currency, language", f"{d['currency']}, {d['language']}"),
                ("Billing address", _address(d, "billing")),
                ("Shipping address", _address(d, "shipping")),
                ("Groups", d.get("groups")),
                ("Assigned users", d.get("assigned")),
                ("Integrations", d.get("integrations")),
                ("Portal modules", d.get("permissions")),
                ("Template", f"{template} v{d.get('template_version')}" if template else None),
            ]
        ),  # fmt: skip
        Text("\nOutstanding tasks", style="bold underline"),
        _fields(
            [
                ("Missing receipts", d["missing_receipts"]),
                ("Wallet balance", f"{d['wallet_balance']} {d['currency']}"),
                ("Expenses ready for export", d["expenses_ready"]),
            ]
        ),  # fmt: skip
        Text("\nSubscriptions", style="bold underline"),
        _subscriptions(d.get("subscription_rows") or []),
        Text("\nInvoices", style="bold underline"),
        _invoices(d.get("invoice_rows") or []),
    )


class DetailsScreen(Screen[None]):
    """One client's details ("Vis detaljer"); Escape goes back to the list, . or a opens its menu."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("full_stop,a", "menu", "Actions"),
        Binding("question_mark", "app.help", "Keys"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, line: ClientLine, details: dict[str, Any]) -> None:
        super().__init__()
        self.line = line
        self.details = details

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="details"):
            yield Static(details_renderable(self.details), id="details-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#details", VerticalScroll).focus()

    def show(self, details: dict[str, Any]) -> None:
        """Show the client as it is now (after an action); its menu then offers what now applies."""
        self.details = details
        self.line = replace(self.line, status=str(details["status"]), assigned=tuple(details["assigned"]))
        self.query_one("#details-body", Static).update(details_renderable(details))

    def action_menu(self) -> None:
        self.app.open_menu(self.line)  # type: ignore[attr-defined]
