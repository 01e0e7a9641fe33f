"""The secretariat's decisions: ``e2docs keep`` (which return counts) and ``e2docs undo`` (cancel a ``collect``)."""

from __future__ import annotations

from e2docs.app.campaign import Campaign, now, writes
from e2docs.app.ledger import BatchRow
from e2docs.app.status import CandidateStatus, status_of
from e2docs.model.errors import E2docsError


@writes("keep")
def keep(campaign: Campaign, number: str, return_id: int | None) -> CandidateStatus:
    """Make return ``return_id`` the retained return of candidate ``number`` until the next decision,
    whatever came before or comes after; ``None`` goes back to the rules (``--auto``).

    Returns the candidate's status afterwards. Raises :class:`E2docsError` (nothing recorded) for
    a candidate not in the roster, or a return that is not one of the candidate's returns that
    count (complete or incomplete, from a run not cancelled).
    """
    with campaign.ledger() as ledger:
        cands = {c.number: c for c in ledger.candidates()}
        if number not in cands:
            raise E2docsError(
                f"candidat inconnu dans cette campagne : N° {number}.",
                campaign.root,
                hint="Les numéros de candidat sont dans « e2docs status ».",
            )
        history = ledger.returns(number)
        if return_id is not None:
            eligible = [r for r in history if r.state.accepted and not r.undone]
            if not any(r.id == return_id for r in eligible):
                ids = ", ".join(f"n° {r.id} ({r.original_name})" for r in eligible) or "aucun"
                raise E2docsError(
                    f"le retour n° {return_id} n'est pas un retour accepté de {cands[number].full_name} "
                    f"(N° {number}) : retours possibles : {ids}.",
                    campaign.root,
                    hint="Voyez les retours du candidat avec « e2docs status --history ».",
                )
        ledger.record_keep(number, return_id, now())
        return status_of(cands[number], history, ledger.keeps().get(number))


@writes("undo")
def undo(campaign: Campaign) -> BatchRow:
    """Cancel the latest ``collect`` run not yet cancelled: its returns stop counting, its files stay
    archived and may be collected again. Returns the run; :class:`E2docsError` when there is none."""
    with campaign.ledger() as ledger:
        batch = ledger.undo_last_batch(now())
    if batch is None:
        raise E2docsError(
            "aucune relève à annuler.", campaign.root, hint="« e2docs collect » enregistre les retours reçus."
        )
    return batch
