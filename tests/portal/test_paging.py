"""The client table pages through the list service: only the pages near the view are read, End reaches the
last row with one more page, and scrolling through everything holds a bounded number of rows."""

from __future__ import annotations

from partnerctl.portal.table import KEEP_PAGES, layout
from tests.helpers.portal import import_clients, press, run_portal, type_search

N = 2000
PAGE = 100


def test_first_screen_and_end_of_the_list_read_only_pages(initialized, cli, tmp_path):
    refs = import_clients(cli, tmp_path, N)
    seen = {}

    async def scenario(app, pilot):
        table = app.screen.table
        seen["first"] = (app.data.list_calls, app.data.rows_fetched, table.cache.total, table.current.ref)
        await press(pilot, "end")
        seen["end"] = (app.data.list_calls, app.data.rows_fetched, table.cursor, table.current.ref)
        seen["last_line"] = table.render_line(table.scrollable_content_region.height - 1).text
        await press(pilot, "home")
        seen["home"] = (table.cursor, table.current.ref, app.data.list_calls)

    run_portal(scenario, page_size=PAGE)
    # The first screen: one call (first page and the tab counts together).
    assert seen["first"] == (1, PAGE, N, refs[0])
    # End: the last page only (and the one before it, which the view's last rows start in).
    calls, rows, cursor, ref = seen["end"]
    assert (cursor, ref) == (N - 1, refs[-1])
    assert calls <= 3 and rows <= 3 * PAGE, seen["end"]
    assert seen["last_line"].startswith(refs[-1])
    assert seen["home"][:2] == (0, refs[0])
    assert seen["home"][2] <= calls + 1  # page 0 was held or read once more


def test_paging_down_through_everything_holds_a_bounded_number_of_rows(initialized, cli, tmp_path):
    n, page = 800, 50  # KEEP_PAGES pages of 50 are half the list: the dropping shows
    refs = import_clients(cli, tmp_path, n)
    seen = {"held": 0, "refs": []}

    async def scenario(app, pilot):
        table = app.screen.table
        while table.cursor < n - 1:
            await press(pilot, "pagedown")
            seen["held"] = max(seen["held"], table.loaded_rows)
            seen["refs"].append(table.current.ref)
        seen["calls"] = app.data.list_calls

    run_portal(scenario, page_size=page)
    assert seen["refs"] == sorted(seen["refs"]) and seen["refs"][-1] == refs[-1]
    assert seen["held"] <= KEEP_PAGES * page < n
    assert seen["calls"] <= n // page + 2  # each page read about once on the way down


def test_search_and_filter_over_many_clients_page_too(initialized, cli, tmp_path):
    refs = import_clients(cli, tmp_path, N)
    missing = [r for i, r in enumerate(refs) if i % 7 == 0]
    seen = {}

    async def scenario(app, pilot):
        table = app.screen.table
        await press(pilot, "m")
        await press(pilot, "end")
        seen["missing"] = (table.cache.total, table.current.ref)
        await type_search(pilot, "client 01")
        seen["search"] = (table.cache.total, table.current.ref)

    run_portal(scenario, page_size=PAGE)
    assert seen["missing"] == (len(missing), missing[-1])
    in_search = [r for r in missing if r.startswith("C01")]
    assert seen["search"] == (len(in_search), in_search[0])


def test_the_table_fits_80_columns():
    names = [c.title for c, _ in layout(80)]
    assert names == ["Ref", "Name", "Status", "Groups", "Missing", "Wallet"]
    assert sum(w for _, w in layout(80)) + len(names) - 1 == 80
    assert [c.title for c, _ in layout(130)][-2:] == ["Ready", "Assigned"]
    assert [c.title for c, _ in layout(40)][:3] == ["Ref", "Name", "Status"]
