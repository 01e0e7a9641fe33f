"""Who has returned what: each candidate's current state, from the ledger.

The current return of a candidate is the latest accepted one (complete or
incomplete); a later rejected file does not erase an accepted one, it is shown
beside it. Without an accepted return, the latest rejected or conflicting return
gives the state "rejected"; with no return at all, "missing".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from e2docs.app.ledger import Ledger, ReturnRow
from e2docs.model.candidate import Candidate
from e2docs.model.states import CandidateState, ReturnState

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign


@dataclass
class CandidateStatus:
    """One candidate of the roster: its state, its current return (None when missing; the latest
    rejected or conflicting one when rejected) and all its returns, oldest first."""

    candidate: Candidate
    state: CandidateState
    current: ReturnRow | None = None
    history: list[ReturnRow] = field(default_factory=list)

    @property
    def last_problem(self) -> ReturnRow | None:
        """The latest rejected/conflicting return made after the current one, if any."""
        after = [
            r
            for r in self.history
            if r.state in (ReturnState.REJECTED, ReturnState.CONFLICT)
            and (self.current is None or r.id > self.current.id)
        ]
        return after[-1] if after else None


def candidate_statuses(ledger: Ledger) -> list[CandidateStatus]:
    """Every candidate of the roster, in roster order, with its state and history (returns not
    attributed to a candidate are left out)."""
    by_candidate: dict[str, list[ReturnRow]] = {}
    for row in ledger.returns():
        if row.candidate:
            by_candidate.setdefault(row.candidate, []).append(row)
    out = []
    for cand in ledger.candidates():
        history = by_candidate.get(cand.number, [])
        accepted = [r for r in history if r.state.accepted]
        if accepted:
            current = accepted[-1]
            out.append(CandidateStatus(cand, CandidateState(current.state), current, history))
        elif history:
            out.append(CandidateStatus(cand, CandidateState.REJECTED, history[-1], history))
        else:
            out.append(CandidateStatus(cand, CandidateState.MISSING, None, history))
    return out


def campaign_statuses(campaign: Campaign) -> list[CandidateStatus]:
    """:func:`candidate_statuses` of the campaign's ledger."""
    with campaign.ledger() as ledger:
        return candidate_statuses(ledger)


class CandidateJson(TypedDict):
    """One candidate in ``status --json``.

    ``state``: a :class:`CandidateState` value (``missing``, ``incomplete``, ``complete``,
    ``rejected``). Marks are out of 20 and ``missing`` lists what the grid lacks (criterion
    ids, ``note_finale``, ``observations``), from the current accepted return: ``None`` and
    ``[]`` without one. ``returned_at``: when the current return (the latest rejected one when
    rejected) was imported, ISO date-time, ``None`` when missing. ``reasons``: why rejected
    (French), ``[]`` unless rejected. ``returns``: how many returns were recorded for the candidate.
    """

    number: str
    last_name: str
    first_name: str
    division: str
    state: str
    proposed_mark: float | None
    final_mark: float | None
    missing: list[str]
    returned_at: str | None
    reasons: list[str]
    returns: int


class StatusJson(TypedDict):
    """The ``status --json`` output: ``candidates`` in roster order, ``totals`` (state value → number
    of candidates, every :class:`CandidateState`)."""

    candidates: list[CandidateJson]
    totals: dict[str, int]


def status_json(statuses: list[CandidateStatus]) -> StatusJson:
    """The ``status --json`` contract (see :class:`StatusJson`)."""
    cands: list[CandidateJson] = []
    for s in statuses:
        c, r = s.candidate, s.current
        accepted = r if s.state != CandidateState.REJECTED else None
        cands.append(
            {
                "number": c.number,
                "last_name": c.last_name,
                "first_name": c.first_name,
                "division": c.division,
                "state": str(s.state),
                "proposed_mark": accepted.proposed_mark if accepted is not None else None,
                "final_mark": accepted.final_mark if accepted is not None else None,
                "missing": accepted.missing if accepted is not None else [],
                "returned_at": r.imported_at if r is not None else None,
                "reasons": r.reasons if r is not None and s.state == CandidateState.REJECTED else [],
                "returns": len(s.history),
            }
        )
    totals = {str(state): sum(1 for s in statuses if s.state == state) for state in CandidateState}
    return {"candidates": cands, "totals": totals}
