"""Which return counts for a candidate: a pure function of the returns the ledger recorded.

Nothing here depends on when or in how many runs the returns were collected, only on
what was recorded (and on the secretariat's ``keep`` decisions and ``undo``), so a
``collect`` killed midway and run again gives the same answer as one uninterrupted run.

The rules (README, « Quels retours comptent ») :

1. Blank returns (nothing typed), rejected returns and the returns of a cancelled run
   (``e2docs undo``) never count; rejected ones are shown beside the retained one.
2. A return the secretariat chose (``e2docs keep``) is retained whatever came before or
   comes after, as long as it counts.
3. Otherwise returns are ordered by when they were made (:func:`made_time`). The newest
   is retained, except that it never silently replaces a more complete one
   (:func:`completeness`): the more complete one stays retained and the candidate is
   « à vérifier » (``review``).
4. Different returns made at the same time cannot be ordered: they are a conflict and
   none of them counts; the rules then apply to the older returns (none: ``rejected``).
   The same content in two files (a copy, the .ods and .xlsx of one grid) is one return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from e2docs.app.ledger import ReturnRow
from e2docs.model.states import CandidateState, ReturnState

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _instant(text: str | None) -> dt.datetime | None:
    """An ISO date-time as an aware instant to the second (a naive one is taken as local time)."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.astimezone()
    return value.replace(microsecond=0)


def made_time(row: ReturnRow) -> dt.datetime:
    """When a return was made, the key that orders returns: its ``made_at`` (the workbook's saved
    time, else the e-mail's date), else the start of the ``collect`` run that recorded it."""
    return _instant(row.made_at) or _instant(row.collected_at) or _EPOCH


def completeness(row: ReturnRow) -> tuple[int, int]:
    """How complete a return is, comparable: (1 when complete, else 0; number of criteria with a level)."""
    return (int(row.state == ReturnState.COMPLETE), sum(1 for level in row.levels.values() if level))


def content(row: ReturnRow) -> tuple[object, ...]:
    """What a return says (state, marks, levels, what is missing): two files saying the same are one return."""
    return (
        str(row.state),
        row.proposed_mark,
        row.final_mark,
        tuple(sorted(row.levels.items())),
        tuple(row.missing),
    )


@dataclass(frozen=True)
class Retention:
    """What the rules make of one candidate's returns.

    ``state``: the candidate's state; ``retained``: the return that counts (``None``: none
    does); ``kept``: it was chosen by the secretariat (``e2docs keep``); ``conflict``: the
    returns that cannot be ordered and so do not count (empty when there is no conflict);
    ``newer``: with ``review``, the newer but less complete returns not retained.
    """

    state: CandidateState
    retained: ReturnRow | None = None
    kept: bool = False
    conflict: tuple[ReturnRow, ...] = ()
    newer: tuple[ReturnRow, ...] = ()


def retain(history: Sequence[ReturnRow], keep: int | None = None) -> Retention:
    """Apply the rules (module docstring) to one candidate's returns (any order; cancelled ones
    included, they are left out here) and the id of the return the secretariat keeps (``None``:
    the rules decide)."""
    live = [r for r in history if not r.undone]
    accepted = sorted((r for r in live if r.state.accepted), key=lambda r: r.id)
    if keep is not None:
        kept = next((r for r in accepted if r.id == keep), None)
        if kept is not None:
            return Retention(CandidateState(kept.state), kept, kept=True)
    conflict: list[ReturnRow] = []
    pool = accepted
    while pool:
        newest = max(made_time(r) for r in pool)
        top = [r for r in pool if made_time(r) == newest]
        if len({content(r) for r in top}) > 1:
            conflict += top
            pool = [r for r in pool if made_time(r) < newest]
            continue
        latest = top[-1]  # one content: the latest recorded of its copies
        best = max(pool, key=lambda r: (completeness(r), made_time(r), r.id))
        if completeness(latest) >= completeness(best):
            return Retention(CandidateState(latest.state), latest, conflict=tuple(conflict))
        newer = tuple(r for r in pool if made_time(r) > made_time(best) and content(r) != content(best))
        return Retention(CandidateState.REVIEW, best, conflict=tuple(conflict), newer=newer)
    if conflict or any(r.state == ReturnState.REJECTED for r in live):
        return Retention(CandidateState.REJECTED, conflict=tuple(conflict))
    return Retention(CandidateState.MISSING)


def conflict_reason(number: str, rows: Sequence[ReturnRow]) -> str:
    """The French explanation of a conflict between ``rows`` (returns of candidate ``number``), times
    in this machine's local time."""
    when = _instant(rows[0].made_at)
    moment = f"faits au même moment ({when.astimezone():%Y-%m-%d %H:%M:%S})" if when else "sans date, relevés ensemble"
    names = " ; ".join(f"n° {r.id} {r.original_name}" for r in rows)
    return (
        f"conflit : {len(rows)} retours différents pour ce candidat, {moment} : {names}. Aucun n'est retenu : "
        f"choisissez le bon avec « e2docs keep {number} N° » (n° du retour, voir « e2docs status --history »)."
    )
