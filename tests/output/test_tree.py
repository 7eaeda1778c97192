"""Tree rendering: Rich and the line writer draw the same guide lines; print_tree switches between them."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from partnerctl.output import Output
from partnerctl.output import tree as tree_output
from partnerctl.output.tree import TreeView, nested, print_tree, render_tree, tree_lines


def _view(spec, title="forest") -> TreeView:
    """spec: (key, parent key or None) in parent-before-child order; labels styled like the tenant tree."""
    children: dict = {}
    roots = []
    for key, parent in spec:
        (children.setdefault(parent, []) if parent is not None else roots).append(key)
    labels = {key: (f"N{key}", "  details · ", f"s{key}") for key, _ in spec}
    return TreeView(roots, children, labels, styles=("bold", "", "italic"), title=title)


def _rich(view: TreeView, **console) -> list[str]:
    buf = io.StringIO()
    Console(file=buf, width=400, no_color=True, legacy_windows=False, **console).print(render_tree(view))
    return buf.getvalue().splitlines()


ONE_ROOT = [(1, None), (2, 1), (3, 2), (4, 3), (5, 2), (6, 1), (7, 6), (8, 1)]
TWO_ROOTS = [(1, None), (2, 1), (3, 2), (9, None), (10, 9), (11, 9)]
CHAIN = [(0, None)] + [(i, i - 1) for i in range(1, 60)]


@pytest.mark.parametrize(
    "spec", [ONE_ROOT, TWO_ROOTS, CHAIN, [(1, None)]], ids=["one", "two", "chain", "leaf"]
)
def test_line_writer_draws_exactly_what_rich_draws(spec):
    view = _view(spec)
    assert _rich(view) == tree_lines(view)


def test_guide_lines_and_title():
    assert tree_lines(_view(ONE_ROOT)) == [
        "N1  details · s1",
        "├── N2  details · s2",
        "│   ├── N3  details · s3",
        "│   │   └── N4  details · s4",
        "│   └── N5  details · s5",
        "├── N6  details · s6",
        "│   └── N7  details · s7",
        "└── N8  details · s8",
    ]
    # Several roots hang below the title; with one root the title is not shown.
    two = tree_lines(_view(TWO_ROOTS, title="tenants"))
    assert (
        two[0] == "tenants" and two[1] == "├── N1  details · s1" and two[-1] == "    └── N11  details · s11"
    )
    assert tree_lines(_view([(1, None)], title="tenants")) == ["N1  details · s1"]


def test_rich_draws_the_label_styles_and_no_markup():
    # Styles by position: a part without one is plain, a style without a part draws nothing.
    for styles in (("bold",), ("bold", "", "italic")):
        view = TreeView(["a"], {}, {"a": ("[bold]x[/]", " plain")}, styles=styles)
        buf = io.StringIO()
        Console(file=buf, width=100, force_terminal=True, color_system="standard").print(render_tree(view))
        assert buf.getvalue() == "\x1b[1m[bold]x[/]\x1b[0m plain\n"
        assert tree_lines(view) == ["[bold]x[/] plain"]


def test_print_tree_switches_renderer_by_size_and_prints_the_same(monkeypatch):
    view = _view(ONE_ROOT)
    drawn = {}
    for limit in (len(view), len(view) - 1):  # Rich at the limit, lines above it
        monkeypatch.setattr(tree_output, "RICH_TREE_MAX_NODES", limit)
        out = Output("table", stdout=io.StringIO(), stderr=io.StringIO())
        print_tree(out, view)
        drawn[limit] = out.stdout.getvalue()
    assert drawn[len(view)] == drawn[len(view) - 1] == "\n".join(tree_lines(view)) + "\n"


def test_nested_keeps_child_order_iteratively():
    view = _view(CHAIN[:4] + [(100, 0)])
    forest = nested(view.roots, view.children, lambda k: {"key": k})
    assert forest == [
        {
            "key": 0,
            "children": [
                {"key": 1, "children": [{"key": 2, "children": [{"key": 3, "children": []}]}]},
                {"key": 100, "children": []},
            ],
        }
    ]
    deep = _view(CHAIN[:1] + [(i, i - 1) for i in range(1, 5000)])
    node, depth = nested(deep.roots, deep.children, lambda k: {})[0], 0
    while node["children"]:
        node, depth = node["children"][0], depth + 1
    assert depth == 4999
