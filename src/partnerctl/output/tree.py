"""Trees on the terminal: a rich.tree.Tree for small ones, the same guide lines written directly for big ones."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partnerctl.output import Output

# A label is a run of (text, Rich style) segments; the style is "" for plain text. Rich draws the
# styles, the line writer only the texts, so both print the same characters.
Segment = tuple[str, str]
Label = Sequence[Segment]

# Rich lays out every node's label on its own (~0.3-1 ms each); above this many nodes print_tree
# writes the same guide lines itself, so 10,000 nodes print in well under a second.
RICH_TREE_MAX_NODES = 2000
GUIDES = ("    ", "│   ", "├── ", "└── ")  # rich.tree.Tree.TREE_GUIDES[0]


@dataclass(frozen=True)
class TreeView:
    """A forest as plain data: its roots in order, each node's children in order, each node's label.

    With one root, the root is the top line; with several, `title` is, and the roots hang below it.
    """

    roots: Sequence[Hashable]
    children: Mapping[Hashable, Sequence[Hashable]]
    labels: Mapping[Hashable, Label]
    title: str = ""

    def __len__(self) -> int:
        return len(self.labels)


def label_text(label: Label) -> str:
    return "".join([text for text, _style in label])


def render_tree(view: TreeView):
    """The forest as a rich.tree.Tree (iterative, so a deep chain never hits the recursion limit)."""
    from rich.text import Text
    from rich.tree import Tree

    def rich_label(label: Label) -> Text:
        return Text.assemble(*((text, style) if style else text for text, style in label))

    if len(view.roots) == 1:
        top = Tree(rich_label(view.labels[view.roots[0]]))
        stack = [(view.roots[0], top)]
    else:
        top = Tree(Text(view.title))
        stack = [(root, top.add(rich_label(view.labels[root]))) for root in view.roots]
    while stack:
        key, handle = stack.pop()
        for child in view.children.get(key, ()):
            stack.append((child, handle.add(rich_label(view.labels[child]))))
    return top


def tree_lines(view: TreeView) -> list[str]:
    """The same picture as render_tree, as plain lines, in time linear in the nodes (iterative)."""
    space, cont, fork, end = GUIDES
    labels, children = view.labels, view.children
    lines: list[str] = []
    if len(view.roots) == 1:
        lines.append(label_text(labels[view.roots[0]]))
        stack = [("", list(reversed(children.get(view.roots[0], ()))))]
    else:
        lines.append(view.title)
        stack = [("", list(reversed(view.roots)))]
    while stack:
        prefix, pending = stack[-1]
        if not pending:
            stack.pop()
            continue
        key = pending.pop()
        last = not pending
        lines.append(prefix + (end if last else fork) + label_text(labels[key]))
        below = children.get(key)
        if below:
            stack.append((prefix + (space if last else cont), list(reversed(below))))
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
