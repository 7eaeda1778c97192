"""The portal's views under Textual's Pilot, on both stores: tabs and counts, search, filters, sort, details, keys."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Input, OptionList, Static

from partnerctl.portal.clients import ClientsScreen
from partnerctl.portal.screens import DetailsScreen, HelpScreen, PickerScreen, details_renderable
from tests.helpers.portal import (
    BOB,
    portal_space,
    press,
    rendered_text,
    run_portal,
    settle,
    tab_bar,
    table_refs,
    type_search,
)  # fmt: skip


def test_admin_sees_four_tabs_with_counts_and_empty_ones_hidden(initialized, cli):
    portal_space(cli)
    seen = {}

    async def scenario(app, pilot):
        seen["tabs"] = tab_bar(app)
        seen["refs"] = table_refs(app)
        cli.ok("client", "assign", "GAR", "anna@acme.example")
        await press(pilot, "r")
        seen["after"] = tab_bar(app)

    run_portal(scenario)
    # Anna is assigned to nobody: "My clients" is empty and hidden, as in the portal.
    assert seen["tabs"] == {"invites": "Invites 1", "onboarding": "Onboarding 1", "all": "All 3"}
    assert seen["refs"] == ["BAK", "GAR", "INV"]  # All is the admin's tab; archived clients are in none
    assert seen["after"] == {
        "invites": "Invites 1", "onboarding": "Onboarding 1", "mine": "My clients 1", "all": "All 3"
    }  # fmt: skip


def test_bookkeeper_sees_onboarding_and_my_clients_only(initialized, cli):
    portal_space(cli)
    seen = {}

    async def scenario(app, pilot):
        seen["tabs"] = tab_bar(app)
        seen["refs"] = table_refs(app)
        cli.ok("client", "assign", "GAR", BOB)
        await press(pilot, "r")
        seen["after"] = tab_bar(app)
        await press(pilot, "1")
        seen["onboarding"] = table_refs(app)

    run_portal(scenario, as_user=BOB)
    assert seen["tabs"] == {"mine": "My clients 1"}  # no onboarding client of his: that tab is hidden
    assert seen["refs"] == ["BAK"]
    assert seen["after"] == {"onboarding": "Onboarding 1", "mine": "My clients 2"}
    assert seen["onboarding"] == ["GAR"]


def test_tabs_switch_with_numbers_and_brackets(initialized, cli):
    portal_space(cli)
    seen = []

    async def scenario(app, pilot):
        for key in ("1", "2", "right_square_bracket", "left_square_bracket"):
            await press(pilot, key)
            seen.append((app.screen.view.tab, table_refs(app)))

    run_portal(scenario)
    assert seen == [
        ("invites", ["INV"]), ("onboarding", ["GAR"]), ("all", ["BAK", "GAR", "INV"]), ("onboarding", ["GAR"])
    ]  # fmt: skip


def test_search_narrows_the_table_and_enter_keeps_it(initialized, cli):
    portal_space(cli)
    seen = {}

    async def scenario(app, pilot):
        await type_search(pilot, "bak")
        seen["refs"] = table_refs(app)
        seen["focus_while_typing"] = app.focused
        await press(pilot, "enter")
        seen["focus_after_enter"] = app.focused
        seen["after_enter"] = table_refs(app)
        await type_search(pilot, "x")  # "bakx" matches nothing
        seen["none"] = (table_refs(app), str(app.screen.query_one("#status", Static).render()))

    run_portal(scenario)
    assert seen["refs"] == ["BAK"]
    assert isinstance(seen["focus_while_typing"], Input)
    assert seen["focus_after_enter"].id == "clients" and seen["after_enter"] == ["BAK"]
    assert seen["none"][0] == [] and seen["none"][1].startswith("no clients")


def test_missing_receipts_filter_and_sort_toggle(initialized, cli):
    portal_space(cli)
    seen = []

    async def scenario(app, pilot):
        for key in ("m", "m", "s", "s"):
            await press(pilot, key)
            seen.append(table_refs(app))

    run_portal(scenario)
    assert seen == [["BAK"], ["BAK", "GAR", "INV"], ["INV", "GAR", "BAK"], ["BAK", "GAR", "INV"]]


def test_group_and_status_filters_from_a_picker(initialized, cli):
    portal_space(cli)
    seen = {}

    async def scenario(app, pilot):
        await press(pilot, "g")
        picker = app.screen
        seen["groups"] = [label for label, _ in picker.choices]
        await pilot.press("down", "enter")  # retail
        await settle(pilot)
        seen["retail"] = table_refs(app)
        await press(pilot, "f")
        seen["statuses"] = [value for _, value in app.screen.choices]
        await pilot.press("down", "down", "down", "down", "enter")  # archived
        await settle(pilot)
        seen["retail_archived"] = table_refs(app)
        await press(pilot, "g")
        await pilot.press("escape")  # cancelling a picker changes nothing
        await settle(pilot)
        seen["kept"] = table_refs(app)
        await press(pilot, "c")
        seen["cleared"] = table_refs(app)
        seen["picker_type"] = type(picker)

    run_portal(scenario)
    assert seen["picker_type"] is PickerScreen
    assert seen["groups"] == ["any group", "retail"]
    assert seen["retail"] == ["BAK"]  # ARC is in retail too, but archived clients are hidden
    assert seen["statuses"] == ["", "invited", "onboarding", "active", "archived"]
    assert seen["retail_archived"] == ["ARC"]
    assert seen["kept"] == ["ARC"]
    assert seen["cleared"] == ["BAK", "GAR", "INV"]


def test_enter_opens_the_details_and_escape_goes_back(initialized, cli):
    portal_space(cli)
    seen = {}

    async def scenario(app, pilot):
        await press(pilot, "enter")
        seen["screen"] = app.screen
        seen["text"] = rendered_text(details_renderable(app.screen.details))
        await press(pilot, "escape")
        seen["back"] = app.screen

    run_portal(scenario, size=(100, 50))
    assert isinstance(seen["screen"], DetailsScreen)
    text = seen["text"]
    for expected in (
        "Bakkerij Jansen (BAK)", "Ina Jansen <ina@jansen.example>", "Dorpsstraat 1, 3511 AA Utrecht, NL",
        "retail", BOB, "exact (pending)", "Missing receipts", "12.50 EUR", "sig-m365", "INV-",
    ):  # fmt: skip
        assert expected in text, expected
    assert "Shipping address    Dorpsstraat 1" in text  # shipping falls back to billing
    assert isinstance(seen["back"], ClientsScreen)


def test_help_shows_the_keys(initialized, cli):
    seen = {}

    async def scenario(app, pilot):
        await press(pilot, "question_mark")
        seen["screen"] = app.screen
        await press(pilot, "escape")
        seen["back"] = app.screen

    run_portal(scenario)
    assert isinstance(seen["screen"], HelpScreen) and isinstance(seen["back"], ClientsScreen)


def test_q_quits_with_exit_0_but_not_while_typing_in_the_search(initialized, cli):
    portal_space(cli)
    seen = {}

    async def scenario(app, pilot):
        await type_search(pilot, "q")
        seen["running"] = app.is_running and app.return_code is None
        seen["search"] = app.screen.query_one("#search", Input).value
        await press(pilot, "escape", "q")

    app = run_portal(scenario)
    assert seen == {"running": True, "search": "q"}
    assert app.return_code == 0


def test_every_dialog_fits_80x24(initialized, cli):
    """The menu, the nudge form, a picker, a confirmation and the help fit the smallest usual terminal."""
    portal_space(cli)
    seen = []

    def fits(app) -> None:
        # Every part of the dialog, down to its last button or hint, lies on the screen.
        screen = Region(0, 0, *app.size)
        parts = [app.screen.query_one(".dialog"), *app.screen.query_one(".dialog").query("*")]
        seen.append(
            (type(app.screen).__name__, all(screen.contains_region(w.region) for w in parts if w.display))
        )

    async def scenario(app, pilot):
        for first, then in (("full_stop", None), ("full_stop", "n"), ("g", None), ("question_mark", None)):
            await press(pilot, first)
            if then == "n":  # Notify the bookkeepers: the longest form
                menu = app.screen.query_one(OptionList)
                menu.highlighted = [o.id for o in menu.options].index("nudge")
                await press(pilot, "enter")
            fits(app)
            await press(pilot, "escape")
        await press(pilot, "full_stop")
        menu = app.screen.query_one(OptionList)
        menu.highlighted = [o.id for o in menu.options].index("archive")
        await press(pilot, "enter")
        fits(app)

    run_portal(scenario)
    assert seen == [
        ("ActionMenu", True), ("NudgeScreen", True), ("PickerScreen", True), ("HelpScreen", True),
        ("ConfirmScreen", True),
    ]  # fmt: skip
