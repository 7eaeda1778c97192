"""The portal's main screen: the tabs with their counts, the search field, the filters and the client table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static, Tab, Tabs

from partnerctl.portal.data import FAILED, STATUSES, TAB_LABELS, Page, View
from partnerctl.portal.screens import PickerScreen
from partnerctl.portal.table import ClientTable

if TYPE_CHECKING:
    from partnerctl.portal.app import PortalApp

SEARCH_DEBOUNCE = 0.25  # seconds of quiet typing before the search runs


class ClientsScreen(Screen[None]):
    """Tabs, search and filters over a table that loads its pages as they come into view."""

    BINDINGS = [
        Binding("q", "app.quit", "Quit"),
        Binding("question_mark", "app.help", "Keys"),
        Binding("slash", "search", "Search"),
        Binding("full_stop,a", "menu", "Menu"),
        Binding("m", "toggle_missing", "Missing"),
        Binding("s", "toggle_sort", "Sort"),
        Binding("g", "pick_group", "Group"),
        Binding("f", "pick_status", "Status"),
        Binding("c", "clear_filters", "Clear", show=False),
        Binding("r", "reload", "Reload", show=False),
        Binding("escape", "back", "Back", show=False),
        Binding("left_square_bracket", "tab_step(-1)", "Previous tab", show=False),
        Binding("right_square_bracket", "tab_step(1)", "Next tab", show=False),
        *(Binding(str(n), f"tab_number({n - 1})", f"Tab {n}", show=False) for n in range(1, 5)),
    ]

    app: PortalApp

    def __init__(self) -> None:
        super().__init__()
        self.view = View()
        self.counts: dict[str, int] = {}
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="who")
        yield Input(placeholder="/ search clients by name or reference", id="search")
        yield Static(id="status")
        yield ClientTable(self.app.data.page_size, id="clients")
        yield Footer()

    @property
    def table(self) -> ClientTable:
        return self.query_one(ClientTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.show_who()
        self.reload(keep_cursor=False)

    def show_who(self) -> None:
        who = self.app.who
        current = self.app.data.current_client()
        text = f"{who.email} ({who.role}) · current client: {current or '-'}"
        if self.app.read_only:
            text += " · READ-ONLY"
        self.query_one("#who", Static).update(text)

    def _show_status(self) -> None:
        total = self.table.cache.total
        where = f"{self.table.cursor + 1:,} of {total:,}" if total else "no clients"
        self.query_one("#status", Static).update(f"{where} · {self.view.describe()}")

    # -- loading -----------------------------------------------------------------------------------
    @work(exclusive=True, group="list")
    async def reload(self, keep_cursor: bool = True) -> None:
        """Read the tab counts and the page under the cursor, and start the list afresh from them."""
        view = self.view
        page_no = self.table.cursor // self.app.data.page_size if keep_cursor else 0
        page = await self.app.call(self.app.data.load, view, page_no, with_counts=True)
        if page is FAILED or view != self.view:
            return
        if view.tab is None:
            self.view = view.with_(tab=page.tab)  # the acting user's default tab
        await self._show_tabs(page)
        self.table.reset(page.total, page.rows, page_no=page_no, cursor=None if keep_cursor else 0)
        self._show_status()

    async def _show_tabs(self, page: Page) -> None:
        """One tab per count the acting user has (admins four, bookkeepers two); empty ones hidden."""
        self.counts = page.counts
        found = self.query(Tabs)
        if not found:
            # Made once the counts say which tabs this user has; created with the right one active.
            tabs = Tabs(*(Tab(TAB_LABELS[n], id=f"tab-{n}") for n in page.counts), active=f"tab-{page.tab}")
            tabs.can_focus = False  # 1-4 and [ ] switch tabs; Tab moves between the search and the table
            await self.mount(tabs, after="#who")
        else:
            tabs = found.first()
        for name, n in page.counts.items():
            tab = tabs.get_tab(f"tab-{name}")
            tab.label = f"{TAB_LABELS[name]} {n:,}"
            if n or name == page.tab:
                tabs.show(tab.id)
            else:
                tabs.hide(tab.id)
        if tabs.active != f"tab-{page.tab}":
            tabs.active = f"tab-{page.tab}"

    def visible_tabs(self) -> list[str]:
        return [name for name, n in self.counts.items() if n or name == self.view.tab]

    @on(ClientTable.NeedPages)
    def _need_pages(self, event: ClientTable.NeedPages) -> None:
        for page_no in event.pages:
            self._load_page(self.view, event.generation, page_no)

    @work(group="pages")
    async def _load_page(self, view: View, generation: int, page_no: int) -> None:
        if generation != self.table.cache.generation:
            self.table.page_failed(generation, page_no)
            return  # the list changed while this waited
        page = await self.app.call(self.app.data.load, view, page_no)
        if page is FAILED:
            self.table.page_failed(generation, page_no)
        else:
            self.table.set_page(generation, page_no, page.rows, page.total)
            self._show_status()

    @on(ClientTable.Moved)
    def _moved(self) -> None:
        self._show_status()

    @on(ClientTable.Selected)
    def _selected(self, event: ClientTable.Selected) -> None:
        self.app.open_details(event.line)

    # -- tabs, search and filters ------------------------------------------------------------------
    def apply(self, view: View) -> None:
        """Show `view` from its first row (a new tab, search or filter)."""
        if view == self.view:
            return
        self.view = view
        self.table.reset(0, cursor=0)
        self.reload(keep_cursor=False)
        self._show_status()

    @on(Tabs.TabActivated)
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "").removeprefix("tab-")
        if self.view.tab is not None and name and name != self.view.tab:
            self.apply(self.view.with_(tab=name))

    def action_tab_number(self, index: int) -> None:
        shown = self.visible_tabs()
        if index < len(shown):
            self.query_one(Tabs).active = f"tab-{shown[index]}"  # TabActivated then shows it

    def action_tab_step(self, step: int) -> None:
        shown = self.visible_tabs()
        if self.view.tab in shown:
            self.action_tab_number((shown.index(self.view.tab) + step) % len(shown))

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        value = event.value.strip()
        self._search_timer = self.set_timer(
            SEARCH_DEBOUNCE, lambda: self.apply(self.view.with_(search=value))
        )

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self.apply(self.view.with_(search=event.value.strip()))
        self.table.focus()

    def action_back(self) -> None:
        if self.focused is not self.table:
            self.table.focus()

    def action_toggle_missing(self) -> None:
        self.apply(self.view.with_(missing_receipts=not self.view.missing_receipts))

    def action_toggle_sort(self) -> None:
        self.apply(self.view.with_(desc=not self.view.desc))

    def action_clear_filters(self) -> None:
        self.query_one("#search", Input).value = ""
        if self._search_timer is not None:
            self._search_timer.stop()
        self.apply(View(tab=self.view.tab))

    def action_reload(self) -> None:
        self.reload(keep_cursor=True)

    @work(exclusive=True, group="picker")
    async def action_pick_group(self) -> None:
        groups = await self.app.call(self.app.data.groups)
        if groups is FAILED:
            return
        choices = [("any group", ""), *((g, g) for g in groups)]
        picked = await self.app.push_screen_wait(PickerScreen("Show the clients in group", choices))
        if picked is not None:
            self.apply(self.view.with_(group=picked or None))

    @work(exclusive=True, group="picker")
    async def action_pick_status(self) -> None:
        choices = [("any status (archived hidden)", ""), *((s, s) for s in STATUSES)]
        picked = await self.app.push_screen_wait(PickerScreen("Show the clients with status", choices))
        if picked is not None:
            self.apply(self.view.with_(status=picked or None))

    def action_menu(self) -> None:
        line = self.table.current
        if line is not None:
            self.app.open_menu(line)
