"""What was worked out for an object, kept for the objects most recently asked about.

The read path works things out once per parsed document, per plan or per plan node and
keeps them: a document's validation, an operation's plan, a plan's statement. Those
objects are kept themselves (parsed documents and plans are), so the same request finds
the same object, and hashing them would walk whole trees: entries are keyed by the
object's identity, and hold the object, so its id is never reused while it is kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class KeptPerObject(Generic[V]):
    """Values per (object, key) pair, the `size` most recently used."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, Hashable], tuple[object, V]] = OrderedDict()

    def get_or_make(self, of: object, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept for `of` and `key`, or `make()`'s, kept from now on."""
        slot = (id(of), key)
        found = self._entries.get(slot)
        if found is not None and found[0] is of:
            self._entries.move_to_end(slot)
            return found[1]
        value = make()
        self._entries[slot] = (of, value)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value
