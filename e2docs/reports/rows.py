"""The rows of a class record kept in a temporary file, so that a whole académie's record does not
hold thousands of rows in memory.

``report`` puts each candidate's :class:`~e2docs.reports.context.ClassRow` as soon as their return
is read, in whatever order the processes finish; the class record then reads them back in the
candidates' order, once per list it shows. Memory per candidate: 17 bytes (where the file's row is,
its length, its state), against some 3 KB for a row and its outcome held as objects.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from e2docs.formats.spill import Spilled
from e2docs.model.states import CandidateState
from e2docs.reports.schema import Lazy

if TYPE_CHECKING:
    from e2docs.reports.context import ClassRow

_STATES = tuple(CandidateState)


class ClassRows(Spilled["ClassRow"]):
    """``count`` rows of a class record, put in any order (:meth:`put`), read in order.

    Rows are pickled into an anonymous temporary file (:class:`~e2docs.formats.spill.Spilled`: deleted
    when closed, or by the system when the process ends, even killed); only their outcome is kept of an
    evaluation (the class record reads nothing else of it), and each row's state is kept in memory
    (:meth:`state`, :meth:`where`). Reading a row not put yet raises :class:`LookupError`. Use as a
    context manager, or :meth:`close`.
    """

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self._state = array("B", [0]) * count  # each row's state's position in CandidateState

    def put(self, index: int, row: ClassRow) -> None:
        """Keep ``row`` as the ``index``-th row (0-based; a row put again replaces the first)."""
        if row.evaluation is not None:
            row = replace(row, evaluation=None, outcome=row.outcome)
        super().put(index, row)
        self._state[index] = _STATES.index(CandidateState(row.status))

    def state(self, index: int) -> CandidateState:
        """The ``index``-th row's state, without reading the row."""
        return _STATES[self._state[index]]

    def where(self, *states: CandidateState) -> Sequence[ClassRow]:
        """The rows in one of ``states``, in order (read when used, as these are)."""
        wanted = {_STATES.index(s) for s in states}
        return Lazy(array("l", (i for i, s in enumerate(self._state) if s in wanted)), self.__getitem__)
