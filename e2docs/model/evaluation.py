"""One candidate's return as a value: what the reports show, with no workbook in sight.

An :class:`Evaluation` is built by hand (sample data, tests) or converted from a
workbook reading (:func:`e2docs.formats.xlsx.evaluation.evaluation_of`, the only
place that knows cell names). Its :attr:`Evaluation.outcome` is always computed
here, with the scoring rule, from the levels, the commission mark and the
observations, so the marks cannot disagree with the levels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

from e2docs.model import prospecting, scoring
from e2docs.model.candidate import Candidate, Context
from e2docs.model.grid import Grid


@dataclass(frozen=True)
class Commission:
    """The evaluation commission, as written at the bottom of the grid sheet.

    Names and functions are texts, ``""`` when left empty. ``date`` is the date
    of the evaluation, ``None`` when left empty; a text when what was typed is not
    a date (a return with invalid inputs: documents show it as typed).
    """

    prof_name: str = ""
    prof_function: str = ""
    pro_name: str = ""
    pro_function: str = ""
    date: dt.date | str | None = None


@dataclass(frozen=True)
class Evaluation:
    """One candidate's filled grid and prospecting sheet.

    * ``candidate``, ``context`` (session, school, académie), ``grid``: who, where,
      and the grid the return was scored with.
    * ``levels``: criterion id → the single level ticked (1 to 4, a value of
      ``grid.scale``), ``None`` when no level or several levels were ticked.
      Criteria left out count as ``None``; after construction the mapping holds
      every criterion of the grid, in grid order. An unknown criterion id or
      level raises :class:`ValueError`.
    * ``commission``: who evaluated, and when.
    * ``commission_mark``: the commission's mark as typed — ``None`` when empty,
      a number (``int``, ``float`` or ``Fraction``, on 20) when valid, anything
      else when invalid (reports show it "telle que saisie").
    * ``observed``: ids of the competences ticked in the "Repérage" column
      (``"1.1"``, ``"3.4"``…).
    * ``observations``: the observations text, line breaks kept, ``""`` when empty.
    * ``prospecting``: prospecting field key (the keys of
      :data:`e2docs.model.prospecting.FIELDS`) → value: ``str`` for texts,
      ``datetime.date`` for dates, ``int`` for counts, ``int``/``float`` for
      amounts in euros, ``"X"`` for a ticked technique; ``None`` (or a missing
      key) when empty; what was typed when invalid.
    * ``outcome`` (computed, not given): the scoring rule's result — points,
      proposed and final marks (on 20, ``Fraction``), completeness, what is
      missing, the status line.
    """

    candidate: Candidate
    context: Context
    grid: Grid
    levels: Mapping[str, int | None] = field(default_factory=dict)
    commission: Commission = Commission()
    commission_mark: object = None
    observed: frozenset[str] = frozenset()
    observations: str = ""
    prospecting: Mapping[str, object] = field(default_factory=dict)
    outcome: scoring.Outcome = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        known = {c.id for c in self.grid.criteria}
        scale = {lvl.value for lvl in self.grid.scale}
        for cid, level in self.levels.items():
            if cid not in known:
                raise ValueError(f"unknown criterion {cid!r} for grid {self.grid.id!r}")
            if level is not None and level not in scale:
                raise ValueError(f"criterion {cid}: level {level!r} is not on the grid's scale")
        levels = {c.id: self.levels.get(c.id) for c in self.grid.criteria}
        cells = {
            cid: [scoring.TICK if level == lvl.value else None for lvl in self.grid.scale]
            for cid, level in levels.items()
        }
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "outcome", scoring.evaluate(self.grid, cells, self.commission_mark, self.observations))

    @cached_property
    def indicators(self) -> dict[str, int | Fraction | None]:
        """The prospecting indicators (:func:`e2docs.model.prospecting.indicators`): ``duree`` in days
        (``int``), ``ecart_*`` gaps and ``cout_contact`` in the fields' units, ``taux_*`` as ratios
        (0.8 for 80 %), as ``Fraction``; ``None`` when they cannot be computed."""
        return prospecting.indicators(self.prospecting)
