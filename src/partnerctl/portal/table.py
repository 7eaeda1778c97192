"""The client table: a virtual list over the whole result, holding only the pages near the view.

Its height is the list's total, so the scrollbar, Page Down and End behave as over every row, but a
row is read from the store only when it comes near the screen: a page at a time, asked for with a
`NeedPages` message and handed back with `set_page`. Pages far from the view are dropped again, so
scrolling through 100,000 clients holds a few hundred rows at any moment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import set_cell_size
from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from partnerctl.portal.data import ClientLine

KEEP_PAGES = 8  # pages held around the view; the rest are dropped and read again when needed


@dataclass(frozen=True)
class TableColumn:
    title: str
    width: int  # 0: takes the room the others leave
    value: Callable[[ClientLine], str]
    right: bool = False
    min_screen: int = 0  # shown only when the table is at least this wide


COLUMNS = (
    TableColumn("Ref", 10, lambda c: c.ref),
    TableColumn("Name", 0, lambda c: c.name),
    TableColumn("Status", 10, lambda c: c.status),
    TableColumn("Groups", 12, lambda c: ", ".join(c.groups)),
    TableColumn("Missing", 7, lambda c: str(c.missing_receipts), right=True),
    TableColumn("Wallet", 10, lambda c: f"{c.wallet_balance:,}", right=True),
    TableColumn("Ready", 5, lambda c: str(c.expenses_ready), right=True, min_screen=100),
    TableColumn("Assigned", 24, lambda c: ", ".join(c.assigned), min_screen=120),
)
MIN_NAME = 12


def layout(width: int) -> list[tuple[TableColumn, int]]:
    """The columns that fit in `width` cells and their widths (the name takes what is left)."""
    shown = [c for c in COLUMNS if width >= c.min_screen]
    fixed = sum(c.width + 1 for c in shown if c.width)
    while shown and width - fixed < MIN_NAME and len(shown) > 2:
        dropped = next(c for c in reversed(shown) if c.width and c.title not in ("Ref", "Status"))
        shown.remove(dropped)
        fixed -= dropped.width + 1
    return [(c, c.width or max(MIN_NAME, width - fixed)) for c in shown]


def format_cells(values: list[str], columns: list[tuple[TableColumn, int]]) -> str:
    cells = []
    for value, (column, width) in zip(values, columns, strict=True):
        text = value.replace("\n", " ")
        if column.right:
            cells.append(set_cell_size(text, width) if len(text) >= width else text.rjust(width))
        else:
            cells.append(set_cell_size(text, width))
    return " ".join(cells)


class PageCache:
    """The loaded pages of one list (one `generation`: a new filter starts a new one)."""

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.pages: dict[int, list[ClientLine]] = {}
        self.pending: set[int] = set()
        self.total = 0
        self.generation = 0

    def reset(self, total: int = 0) -> None:
        self.pages.clear()
        self.pending.clear()
        self.total = total
        self.generation += 1

    def row(self, index: int) -> ClientLine | None:
        rows = self.pages.get(index // self.page_size)
        offset = index % self.page_size
        return rows[offset] if rows is not None and offset < len(rows) else None

    def wanted(self, first: int, last: int) -> list[int]:
        """Pages holding rows first..last that are neither loaded nor on their way."""
        if self.total <= 0:
            return []
        last = min(last, self.total - 1)
        first = max(0, min(first, last))
        pages = range(first // self.page_size, last // self.page_size + 1)
        return [p for p in pages if p not in self.pages and p not in self.pending]

    def store(self, page_no: int, rows: list[ClientLine], total: int) -> None:
        self.pending.discard(page_no)
        self.pages[page_no] = rows
        self.total = total

    def drop_far(self, around: int) -> None:
        """Forget all but the KEEP_PAGES pages nearest to page `around`."""
        if len(self.pages) > KEEP_PAGES:
            for page_no in sorted(self.pages, key=lambda p: abs(p - around))[KEEP_PAGES:]:
                del self.pages[page_no]


class ClientTable(ScrollView, can_focus=True):
    """Rows of clients with a cursor; Enter posts `Selected`, a row that is not loaded asks `NeedPages`."""

    COMPONENT_CLASSES = {"client-table--header", "client-table--cursor", "client-table--loading"}
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Details", show=False),
    ]
    cursor: reactive[int] = reactive(0)

    class NeedPages(Message):
        def __init__(self, pages: list[int], generation: int) -> None:
            super().__init__()
            self.pages = pages
            self.generation = generation

    class Selected(Message):
        def __init__(self, line: ClientLine) -> None:
            super().__init__()
            self.line = line

    class Moved(Message):
        """The cursor moved or the list changed under it."""

    def __init__(self, page_size: int, **kw) -> None:
        super().__init__(**kw)
        self.cache = PageCache(page_size)

    # -- data ----------------------------------------------------------------------------------
    def reset(
        self, total: int, rows: list[ClientLine] | None = None, *, page_no: int = 0, cursor: int | None = None
    ) -> int:
        """Start a new list of `total` rows, optionally with page `page_no` loaded; returns its generation."""
        self.cache.reset(total)
        if rows is not None:
            self.cache.store(page_no, rows, total)
        cursor = self.cursor if cursor is None else cursor
        self.set_reactive(ClientTable.cursor, max(0, min(cursor, total - 1)))
        self._resize_virtual()
        self._scroll_to_cursor()
        self._after_move()
        return self.cache.generation

    def set_page(self, generation: int, page_no: int, rows: list[ClientLine], total: int) -> None:
        if generation != self.cache.generation:
            return  # the answer to a list the user has left
        changed = total != self.cache.total
        self.cache.store(page_no, rows, total)
        if changed:
            self.cursor = min(self.cursor, max(total - 1, 0))
            self._resize_virtual()
        self.cache.drop_far(self.cursor // self.cache.page_size)
        self.refresh()
        self._request_pages()

    def page_failed(self, generation: int, page_no: int) -> None:
        if generation == self.cache.generation:
            self.cache.pending.discard(page_no)

    @property
    def current(self) -> ClientLine | None:
        return self.cache.row(self.cursor) if self.cache.total else None

    @property
    def loaded_rows(self) -> int:
        return sum(len(rows) for rows in self.cache.pages.values())

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.cache.total + 1)
        self.refresh()

    @property
    def _rows_shown(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)  # the header takes a line

    def _request_pages(self) -> None:
        top = round(self.scroll_offset.y)
        margin = self.cache.page_size // 4  # read ahead as the view nears a page that is not loaded
        wanted = self.cache.wanted(top - margin, top + self._rows_shown + margin)
        if self.cursor not in range(top, top + self._rows_shown):
            wanted += [p for p in self.cache.wanted(self.cursor, self.cursor) if p not in wanted]
        if wanted:
            self.cache.pending.update(wanted)
            # The cursor's page first: the row the user is on shows before the rows around it.
            wanted.sort(key=lambda p: abs(p - self.cursor // self.cache.page_size))
            self.post_message(self.NeedPages(wanted, self.cache.generation))

    # -- moving --------------------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(1, self._rows_shown - 1))

    def action_jump(self, index: int) -> None:
        self._move_to(index if index >= 0 else self.cache.total - 1)

    def action_select(self) -> None:
        line = self.current
        if line is not None:
            self.post_message(self.Selected(line))

    def _move_to(self, index: int) -> None:
        self.cursor = max(0, min(index, self.cache.total - 1))

    def watch_cursor(self) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self._after_move()

    def _scroll_to_cursor(self) -> None:
        top, shown = round(self.scroll_offset.y), self._rows_shown
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + shown:
            self.scroll_to(y=self.cursor - shown + 1, animate=False, immediate=True)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._request_pages()

    def on_resize(self) -> None:
        self._resize_virtual()
        self._request_pages()

    def on_click(self, event) -> None:
        if event.y >= 1:
            self._move_to(round(self.scroll_offset.y) + event.y - 1)

    def _after_move(self) -> None:
        self._request_pages()
        self.post_message(self.Moved())

    # -- drawing -------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = layout(width)
        base = self.rich_style
        if y == 0:
            header = format_cells([c.title for c, _ in columns], columns)
            return Strip(
                [Segment(header, self.get_component_rich_style("client-table--header"))]
            ).adjust_cell_length(width, base)
        index = round(self.scroll_offset.y) + y - 1
        if index >= self.cache.total:
            return Strip.blank(width, base)
        line = self.cache.row(index)
        if line is None:
            text, style = "…", self.get_component_rich_style("client-table--loading")
        else:
            text, style = format_cells([c.value(line) for c, _ in columns], columns), base
        if index == self.cursor:
            style = style + self.get_component_rich_style("client-table--cursor")
        return Strip([Segment(set_cell_size(text, width), style)])
