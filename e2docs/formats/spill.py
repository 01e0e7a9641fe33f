"""Sequences kept in an anonymous temporary file rather than in memory, for what a run makes one of
per candidate and reads back later: the rows of a class record, the metadata of the workbooks written.

Memory per item: 16 bytes (where the item starts in the file, its length), against a few hundred bytes
to a few kilobytes for the item held as objects; reading an item back costs a seek and a decoding.
"""

from __future__ import annotations

import pickle
import tempfile
import weakref
from array import array
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

from e2docs.model.sequences import ListLike

T = TypeVar("T")


def _pickled(item: Any) -> bytes:
    return pickle.dumps(item, pickle.HIGHEST_PROTOCOL)


def _unpickled(data: bytes) -> Any:
    return pickle.loads(data)  # noqa: S301 — only this process writes the file, anonymous and unlinked


class Spilled(ListLike[T], Generic[T]):
    """A sequence of ``count`` items (``count`` may be 0 and grow by :meth:`append`), each encoded by
    ``encode`` (pickle by default) into an anonymous temporary file, and decoded by ``decode`` when read.

    Items may be put in any order (:meth:`put`); reading one not put yet raises :class:`LookupError`.
    The file is deleted when the sequence is closed (:meth:`close`, or ``with``) or collected, and by the
    system when the process ends, even killed (unlinked at once on POSIX, ``O_TEMPORARY`` on Windows). Raises
    ``OSError`` when the temporary folder cannot be written (disk full)."""

    def __init__(
        self,
        count: int = 0,
        *,
        encode: Callable[[T], bytes] = _pickled,
        decode: Callable[[bytes], T] = _unpickled,
    ) -> None:
        self._file = tempfile.TemporaryFile(prefix="e2docs-")  # noqa: SIM115 — closed by close()
        self._closer = weakref.finalize(self, self._file.close)  # or when the sequence is collected
        self._at = array("q", [-1]) * count  # where each item starts in the file, -1: not put yet
        self._size = array("q", [0]) * count  # its length in bytes
        self._encode, self._decode = encode, decode

    def put(self, index: int, item: T) -> None:
        """Keep ``item`` as the ``index``-th (0-based; an item put again replaces the first)."""
        self.put_encoded(index, self._encode(item))

    def put_encoded(self, index: int, data: bytes) -> None:
        """:meth:`put` for an item already encoded (read from another process's file, say)."""
        self._at[index] = self._file.seek(0, 2)
        self._size[index] = len(data)
        self._file.write(data)

    def append(self, item: T) -> None:
        """Add ``item`` at the end."""
        self.append_encoded(self._encode(item))

    def append_encoded(self, data: bytes) -> None:
        """:meth:`append` for an item already encoded."""
        self._at.append(-1)
        self._size.append(0)
        self.put_encoded(len(self._at) - 1, data)

    def __len__(self) -> int:
        return len(self._at)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        at = self._at[index]
        if at < 0:
            raise LookupError(f"item {index} was not put")
        self._file.seek(at)
        return self._decode(self._file.read(self._size[index]))

    def __iter__(self) -> Iterator[T]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"Spilled({len(self)} items)"

    def close(self) -> None:
        """Delete the file; the items can no longer be read."""
        self._closer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
