"""Who has returned what: each candidate's current state, from the ledger.

The current return of a candidate is the latest accepted one (complete or
incomplete); a later rejected file does not erase an accepted one, it is shown
beside it. Without an accepted return, the latest rejected or conflicting return
gives the state "rejected"; with no return at all, "missing".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from e2docs.app.ledger import Ledger, ReturnRow
from e2docs.model.candidate import Candidate

STATES = ("missing", "incomplete", "complete", "rejected")
STATE_FR = {"missing": "non rendu", "incomplete": "incomplet", "complete": "complet", "rejected": "rejeté"}
RETURN_FR = {"incomplete": "incomplet", "complete": "complet", "rejected": "rejeté", "conflict": "conflit"}


@dataclass
class CandidateStatus:
    candidate: Candidate
    state: str
    current: ReturnRow | None = None
    history: list[ReturnRow] = field(default_factory=list)

    @property
    def last_problem(self) -> ReturnRow | None:
        """The latest rejected/conflicting return made after the current one, if any."""
        after = [
            r
            for r in self.history
            if r.state in ("rejected", "conflict") and (self.current is None or r.id > self.current.id)
        ]
        return after[-1] if after else None


def candidate_statuses(ledger: Ledger) -> list[CandidateStatus]:
    """Every candidate of the roster, in roster order, with its state and history."""
    by_candidate: dict[str, list[ReturnRow]] = {}
    for row in ledger.returns():
        if row.candidate:
            by_candidate.setdefault(row.candidate, []).append(row)
    out = []
    for cand in ledger.candidates():
        history = by_candidate.get(cand.number, [])
        accepted = [r for r in history if r.state in ("complete", "incomplete")]
        if accepted:
            current = accepted[-1]
            out.append(CandidateStatus(cand, current.state, current, history))
        elif history:
            out.append(CandidateStatus(cand, "rejected", history[-1], history))
        else:
            out.append(CandidateStatus(cand, "missing", None, history))
    return out


def status_json(statuses: list[CandidateStatus]) -> dict:
    """The ``status --json`` contract: ``candidates`` and ``totals``."""
    cands = []
    for s in statuses:
        c, r = s.candidate, s.current
        accepted = r is not None and s.state != "rejected"
        cands.append(
            {
                "number": c.number,
                "last_name": c.last_name,
                "first_name": c.first_name,
                "division": c.division,
                "state": s.state,
                "proposed_mark": r.proposed_mark if accepted else None,
                "final_mark": r.final_mark if accepted else None,
                "missing": r.missing if accepted else [],
                "returned_at": r.imported_at if r else None,
                "reasons": r.reasons if r and s.state == "rejected" else [],
                "returns": len(s.history),
            }
        )
    totals = {state: sum(1 for s in statuses if s.state == state) for state in STATES}
    return {"candidates": cands, "totals": totals}


def _mark(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}".replace(".", ",")


def _missing_fr(missing: list[str]) -> str:
    crits = [m for m in missing if m.startswith("C")]
    parts = []
    if crits:
        parts.append(f"critère(s) {', '.join(crits)}")
    if "note_finale" in missing:
        parts.append("note finale")
    if "observations" in missing:
        parts.append("observations")
    return "manque : " + " ; ".join(parts) if parts else ""


def status_lines(statuses: list[CandidateStatus], history: bool = False) -> list[str]:
    """A French table: one line per candidate, details for what needs attention."""
    lines = [f"{'N° candidat':<12} {'Nom':<28} {'Division':<9} {'État':<10} {'Proposée':>8} {'Finale':>7}  Retour"]
    for s in statuses:
        c, r = s.candidate, s.current
        accepted = r is not None and s.state != "rejected"
        when = r.imported_at[:10] if r else ""
        lines.append(
            f"{c.number:<12} {c.full_name[:28]:<28} {c.division[:9]:<9} {STATE_FR[s.state]:<10} "
            f"{_mark(r.proposed_mark) if accepted else '—':>8} {_mark(r.final_mark) if accepted else '—':>7}"
            f"  {when}"
        )
        if s.state == "incomplete" and r:
            lines.append(f"{'':13}{_missing_fr(r.missing)}")
        if s.state == "rejected" and r:
            for reason in r.reasons[:3]:
                lines.append(f"{'':13}· {reason}")
        if s.last_problem and s.state != "rejected":
            lines.append(
                f"{'':13}! retour plus récent rejeté ({s.last_problem.original_name}) : "
                f"{s.last_problem.reasons[0] if s.last_problem.reasons else ''}"
            )
        if history and len(s.history) > 1:
            for h in s.history:
                state = RETURN_FR.get(h.state, h.state)
                lines.append(f"{'':13}- {h.imported_at[:16]} {h.original_name} ({state})")
    totals = {state: sum(1 for s in statuses if s.state == state) for state in STATES}
    lines.append("")
    lines.append(
        f"Total : {len(statuses)} candidat(s) — "
        + ", ".join(f"{totals[k]} {STATE_FR[k]}" for k in ("complete", "incomplete", "rejected", "missing"))
    )
    return lines
