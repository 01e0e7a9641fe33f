"""Sequences made when read, for what a run has one of per candidate and need not hold: the paths of
a whole académie's workbooks and documents, the rows of a class record read from disk."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

A = TypeVar("A")
B = TypeVar("B")


class ListLike(Sequence[B]):
    """A sequence that compares as a list does: equal to any other sequence (not a text) with equal items
    in the same order; not hashable."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # as a list's


class Mapped(ListLike[B], Generic[A, B]):
    """``make`` of each item of ``items``, made when read (and made again at each reading); only
    ``items`` is held. A slice is mapped too, lazily. Picklable when ``items`` and ``make`` are (a
    module-level function or a :func:`functools.partial` of one), to hand a share to another process.
    The attributes are private (a template's sandbox hides them: see :class:`~e2docs.reports.schema.Lazy`)."""

    def __init__(self, items: Sequence[A], make: Callable[[A], B]) -> None:
        self._items, self._make = items, make

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> B: ...
    @overload
    def __getitem__(self, index: slice) -> Mapped[A, B]: ...
    def __getitem__(self, index: int | slice) -> B | Mapped[A, B]:
        if isinstance(index, slice):
            return Mapped(self._items[index], self._make)
        return self._make(self._items[index])

    def __iter__(self) -> Iterator[B]:
        return map(self._make, self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"

    def then(self, make: Callable[[B], Any]) -> Mapped[A, Any]:
        """This sequence with ``make`` applied to each of its items, made when read too."""
        return Mapped(self._items, _Then(self._make, make))


class _Then(Generic[A, B]):
    """``second(first(x))``, picklable when both are."""

    def __init__(self, first: Callable[[A], Any], second: Callable[[Any], B]) -> None:
        self.first, self.second = first, second

    def __call__(self, item: A) -> B:
        return self.second(self.first(item))
