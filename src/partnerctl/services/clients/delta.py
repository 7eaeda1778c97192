"""What a change to one of a client's lists (groups, users, integrations, permissions) adds and removes."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


@dataclass(frozen=True)
class ListDelta(Generic[T]):
    """Items to add and to remove, in the order given, and the list they make (`result`);
    `missing`: asked to remove but not there."""

    add: list[T] = field(default_factory=list)
    remove: list[T] = field(default_factory=list)
    result: list[T] = field(default_factory=list)
    missing: list[T] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.add or self.remove)


def list_delta(
    current: Iterable[T],
    *,
    add: Iterable[T] = (),
    remove: Iterable[T] = (),
    target: Iterable[T] | None = None,
) -> ListDelta[T]:
    """What turns `current` into the wanted list, nothing added twice (the one rule for client lists).

    With `target` (bulk import's update: the file's list replaces the client's), whatever makes the
    list equal to `target` as a set; the result is `target`, in its order. Otherwise an edit
    (`client edit`): `add`, then `remove`; an item added and removed again is neither, one removed
    that is not there (any more) is `missing`, and the result is what stays, in order, then what is added.
    """
    if target is not None:
        have, want = set(current), dict.fromkeys(target)
        return ListDelta(
            [x for x in want if x not in have],
            [x for x in dict.fromkeys(current) if x not in want],
            list(want),
        )
    present = dict.fromkeys(current)
    added: list[T] = []
    removed: list[T] = []
    missing: list[T] = []
    for x in add:
        if x not in present:
            present[x] = None
            added.append(x)
    for x in remove:
        if x not in present:
            missing.append(x)
            continue
        del present[x]
        if x in added:
            added.remove(x)
        else:
            removed.append(x)
    return ListDelta(added, removed, list(present), missing)
