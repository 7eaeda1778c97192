"""list_delta: the one rule for what a change to a client's list adds and removes."""

from __future__ import annotations

from partnerctl.services.clients.delta import ListDelta, list_delta


def test_an_edit_adds_what_is_new_and_removes_what_is_there():
    d = list_delta(["a", "b"], add=["b", "c", "c"], remove=["a"])
    assert (d.add, d.remove, d.missing) == (["c"], ["a"], [])
    assert d.changed and d.result == ["b", "c"]


def test_an_edit_that_removes_what_is_not_there_reports_it_missing():
    d = list_delta(["a"], remove=["x", "a", "a"])
    assert (d.add, d.remove, d.missing, d.result) == ([], ["a"], ["x", "a"], [])


def test_added_then_removed_is_no_change():
    d = list_delta(["a"], add=["n"], remove=["n"])
    assert d == ListDelta([], [], ["a"], []) and not d.changed


def test_a_target_replaces_the_list_as_a_set():
    d = list_delta(["a", "b"], target=["c", "b", "c"])
    assert (d.add, d.remove, d.missing) == (["c"], ["a"], [])
    assert d.result == ["c", "b"]  # the target's order
    assert not list_delta(["a", "b"], target=["b", "a"]).changed


def test_pairs_change_state_by_remove_and_add():
    d = list_delta([("exact", "pending")], target=[("exact", "connected")])
    assert (d.add, d.remove) == ([("exact", "connected")], [("exact", "pending")])
