"""A workbook reading turned into the model's :class:`~e2docs.model.evaluation.Evaluation`.

The one place that maps the workbook's defined names (``reperage_1_1``,
``commission_prof_nom``, ``prosp_organisation``…) to model fields: reports and
the rest of e2docs see an :class:`Evaluation`, never cell names.
"""

from __future__ import annotations

import datetime as dt

from e2docs.formats.xlsx import names
from e2docs.formats.xlsx.reader import Reading
from e2docs.formats.xlsx.results import prospect_values
from e2docs.model import french, scoring
from e2docs.model.candidate import Context
from e2docs.model.evaluation import Commission, Evaluation


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _date(value: object) -> dt.date | str | None:
    """A date cell's value: the date, None when empty, else what was typed as text."""
    if value is None or isinstance(value, dt.date):
        return value
    return french.text(value)


def evaluation_of(reading: Reading) -> Evaluation:
    """The candidate's return as a value: identity, levels, commission, observations, prospecting.

    Values are the reading's: cleaned when valid, as typed when invalid. The
    levels are the reading's single levels (``None`` for none or several), so
    the evaluation's outcome is the reading's.
    """
    v, meta, grid = reading.values, reading.meta, reading.grid
    return Evaluation(
        candidate=reading.candidate,
        context=Context(meta.get("session", ""), meta.get("school", ""), meta.get("academie", "")),
        grid=grid,
        levels=dict(reading.outcome.levels),
        commission=Commission(
            prof_name=_text(v.get(names.commission_name("prof"))),
            prof_function=_text(v.get(names.commission_function("prof"))),
            pro_name=_text(v.get(names.commission_name("pro"))),
            pro_function=_text(v.get(names.commission_function("pro"))),
            date=_date(v.get(names.COMMISSION_DATE)),
        ),
        commission_mark=v.get(names.COMMISSION_MARK),
        observed=frozenset(
            comp.id
            for meta_competence in grid.metas
            for comp in meta_competence.competences
            if scoring.is_tick(v.get(names.competence(comp.id)))
        ),
        observations=_text(v.get(names.OBSERVATIONS)),
        prospecting=prospect_values(v),
    )
