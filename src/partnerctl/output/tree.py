"""Trees on the terminal: a rich.tree.Tree for small ones, the same guide lines written directly for big ones."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partnerctl.output import Output

# Rich lays out every node's label on its own (~0.3-1 ms each); above this many nodes print_tree
# writes the same guide lines itself, so 10,000 nodes print in well under a second.
RICH_TREE_MAX_NODES = 2000
GUIDES = ("    ", "│   ", "├── ", "└── ")  # rich.tree.Tree.TREE_GUIDES[0]


@dataclass(frozen=True)
class TreeView:
    """A forest as plain data: its roots in order, each node's children in order, each node's label.

    A label is a tuple of text parts; `styles` holds the Rich style of each part by position ("" or
    none: plain). Rich draws the styles, the line writer only the texts, so both print the same
    characters. With one root, the root is the top line; with several, `title` is, with the roots below.
    """

    roots: Sequence[Hashable]
    children: Mapping[Hashable, Sequence[Hashable]]
    labels: Mapping[Hashable, Sequence[str]]
    styles: Sequence[str] = ()
    title: str = ""

    def __len__(self) -> int:
        return len(self.labels)


def render_tree(view: TreeView):
    """The forest as a rich.tree.Tree (iterative, so a deep chain never hits the recursion limit)."""
    from rich.text import Text
    from rich.tree import Tree

    def label(key: Hashable) -> Text:
        parts = zip_longest(view.labels[key], view.styles, fillvalue="")
        return Text.assemble(*((part, style) if style else part for part, style in parts))

    if len(view.roots) == 1:
        top = Tree(label(view.roots[0]))
        stack = [(view.roots[0], top)]
    else:
        top = Tree(Text(view.title))
        stack = [(root, top.add(label(root))) for root in view.roots]
    while stack:
        key, handle = stack.pop()
        for child in view.children.get(key, ()):
            stack.append((child, handle.add(label(child))))
    return top


def tree_lines(view: TreeView) -> list[str]:
    """The same picture as render_tree, as plain lines, in time linear in the nodes (iterative)."""
    space, cont, fork, end = GUIDES
    labels, below_of, join = view.labels, view.children.get, "".join
    if len(view.roots) == 1:
        lines = [join(labels[view.roots[0]])]
        stack = [("", list(reversed(below_of(view.roots[0], ()))))]
    else:
        lines = [view.title]
        stack = [("", list(reversed(view.roots)))]
    append = lines.append
    # This is the hot loop of a 10,000-tenant `tenant tree`: siblings are drawn in the inner loop
    # with their guide worked out once per level, not once per node.
    while stack:
        prefix, pending = stack[-1]
        lead = prefix + fork
        while pending:
            key = pending.pop()
            if not pending:
                lead = prefix + end
            append(lead + join(labels[key]))
            below = below_of(key)
            if below:
                # Draw the children first; this level's other children wait on the stack.
                stack.append((prefix + (cont if pending else space), list(reversed(below))))
                break
        else:
            stack.pop()
    return lines


def print_tree(out: Output, view: TreeView) -> None:
    """Print the forest to stdout: drawn by Rich up to RICH_TREE_MAX_NODES nodes, else line by line."""
    if len(view) <= RICH_TREE_MAX_NODES:
        out.console().print(render_tree(view))
    else:
        out.stdout.write("\n".join(tree_lines(view)) + "\n")


def nested(
    roots: Sequence[Hashable],
    children: Mapping[Hashable, Sequence[Hashable]],
    record: Callable[[Hashable], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Each root as record(root) plus a "children" list of the same, nested (iteratively)."""

    def shell(key: Hashable) -> dict[str, Any]:
        return {**record(key), "children": []}

    out = [shell(root) for root in roots]
    stack = list(zip(roots, out, strict=True))
    while stack:
        key, node = stack.pop()
        for child in children.get(key, ()):
            branch = shell(child)
            node["children"].append(branch)
            stack.append((child, branch))
    return out
