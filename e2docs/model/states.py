"""The states of a returned file and of a candidate, and their French labels (one table each).

The values are the strings stored in the campaign ledger and written by
``status --json``; a :class:`~enum.StrEnum` member compares equal to its value,
so code and data may mix them freely.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class ReturnState(StrEnum):
    """What became of one returned file, or of one candidate of a class workbook, in ``collect``.

    ``complete``, ``incomplete``, ``rejected`` and ``blank`` (a workbook with nothing
    typed in it: not a return, it changes nothing) are recorded in the ledger;
    ``conflict`` is what ``collect`` and ``status --history`` say of a return that
    cannot be ordered against a different one of the same candidate (derived from the
    ledger, never stored since ledger version 1); ``already`` (the same file was
    imported before), ``refused`` (not a workbook at all) and ``skipped`` (a message
    deleted in its mailbox but still in the file: nothing to do) are only reported.
    """

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    REJECTED = "rejected"
    CONFLICT = "conflict"
    ALREADY = "already"
    REFUSED = "refused"
    BLANK = "blank"
    SKIPPED = "skipped"

    @property
    def accepted(self) -> bool:
        """True for a return that counts (complete or incomplete)."""
        return self in (ReturnState.COMPLETE, ReturnState.INCOMPLETE)

    @property
    def failed(self) -> bool:
        """True when the file was not accepted and the user has something to do (``collect`` exits with 1)."""
        return self in (ReturnState.REJECTED, ReturnState.CONFLICT, ReturnState.REFUSED, ReturnState.BLANK)

    @property
    def label(self) -> str:
        """Short French label: « complet », « rejeté »… (a return in ``status --history``)."""
        return RETURN_LABELS[self].short

    @property
    def outcome_label(self) -> str:
        """French label of a file in the ``collect`` summary: « accepté (complet) », « déjà importé »…"""
        return RETURN_LABELS[self].outcome

    @property
    def tally_label(self) -> str:
        """French label after a count in the ``collect`` summary: « 3 complet(s) », « 0 en conflit »…"""
        return RETURN_LABELS[self].tally


class CandidateState(StrEnum):
    """Where a candidate stands, as ``e2docs status`` (and its JSON contract) says.

    ``missing``: nothing returned (blank workbooks are nothing); ``complete``/``incomplete``:
    the state of the retained return; ``rejected``: returns, none of them accepted (or only
    returns in conflict); ``review``: the newest return is less complete than an older one,
    which stays retained until the secretariat decides (``e2docs keep``). The declaration
    order is the order of the ``totals`` of ``status --json``.
    """

    MISSING = "missing"
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"
    REJECTED = "rejected"
    REVIEW = "review"

    @property
    def label(self) -> str:
        """Short French label (the candidate): « non rendu », « complet »…"""
        return CANDIDATE_LABELS[self].short

    @property
    def grid_label(self) -> str:
        """French label of the candidate's grid (« la grille est … »): « non rendue », « complète »…"""
        return CANDIDATE_LABELS[self].grid


class ReturnLabels(NamedTuple):
    short: str
    outcome: str
    tally: str


class CandidateLabels(NamedTuple):
    short: str
    grid: str


RETURN_LABELS: dict[ReturnState, ReturnLabels] = {
    ReturnState.COMPLETE: ReturnLabels("complet", "accepté (complet)", "complet(s)"),
    ReturnState.INCOMPLETE: ReturnLabels("incomplet", "accepté (incomplet)", "incomplet(s)"),
    ReturnState.REJECTED: ReturnLabels("rejeté", "rejeté", "rejeté(s)"),
    ReturnState.CONFLICT: ReturnLabels("conflit", "conflit", "en conflit"),
    ReturnState.ALREADY: ReturnLabels("déjà importé", "déjà importé", "déjà importé(s)"),
    ReturnState.REFUSED: ReturnLabels("refusé", "refusé", "refusé(s)"),
    ReturnState.BLANK: ReturnLabels("vierge", "vierge (rien de saisi, ignoré)", "vierge(s)"),
    ReturnState.SKIPPED: ReturnLabels("ignoré", "ignoré (message supprimé)", "ignoré(s)"),
}
"""The French labels of each :class:`ReturnState`."""

CANDIDATE_LABELS: dict[CandidateState, CandidateLabels] = {
    CandidateState.MISSING: CandidateLabels("non rendu", "non rendue"),
    CandidateState.INCOMPLETE: CandidateLabels("incomplet", "incomplète"),
    CandidateState.COMPLETE: CandidateLabels("complet", "complète"),
    CandidateState.REJECTED: CandidateLabels("rejeté", "rejetée"),
    CandidateState.REVIEW: CandidateLabels("à vérifier", "à vérifier"),
}
"""The French labels of each :class:`CandidateState`."""
