"""Who has returned what: each candidate's state and retained return, from the ledger.

The state is recomputed from scratch from the recorded returns, the secretariat's
``keep`` decisions and the cancelled runs, by the rules of :mod:`e2docs.app.returns`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypedDict

from e2docs.app.ledger import Ledger, MessageRow, ReturnRow
from e2docs.app.returns import Retention, conflict_reason, retain
from e2docs.model.candidate import Candidate
from e2docs.model.examiner import Examiner
from e2docs.model.states import CandidateState, ReturnState

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign


@dataclass
class CandidateStatus:
    """One candidate of the roster.

    ``state``: where the candidate stands; ``retained``: the return that counts (``None``
    when none does); ``current``: the retained return, else — rejected — the latest
    rejected return, or the latest conflicting one with the conflict as its last reason
    (``None`` when missing); ``history``: all its returns, oldest first, cancelled ones
    included; ``kept``: the retained return was chosen with ``e2docs keep``; ``conflict``:
    returns that cannot be ordered, none of them counting; ``newer``: with ``review``, the
    newer but less complete returns not retained; ``examiner``: who assesses the candidate
    (``e2docs assign``), ``None`` before any assignment; ``replies``: Message-ID → the message of
    ``send``/``remind`` that returns of ``history`` answered (:attr:`ReturnRow.reply_to`).
    """

    candidate: Candidate
    state: CandidateState
    current: ReturnRow | None = None
    history: list[ReturnRow] = field(default_factory=list)
    retained: ReturnRow | None = None
    kept: bool = False
    conflict: list[ReturnRow] = field(default_factory=list)
    newer: list[ReturnRow] = field(default_factory=list)
    examiner: Examiner | None = None
    replies: dict[str, MessageRow] = field(default_factory=dict)

    @property
    def last_problem(self) -> ReturnRow | None:
        """The latest rejected return recorded after the retained one, if any (cancelled ones left out)."""
        after = [
            r
            for r in self.history
            if r.state == ReturnState.REJECTED and not r.undone and (self.current is None or r.id > self.current.id)
        ]
        return after[-1] if after else None

    def shown_state(self, row: ReturnRow) -> ReturnState:
        """A return's state as ``status --history`` shows it: ``conflict`` for a return of an
        unresolved conflict, its recorded state otherwise."""
        return ReturnState.CONFLICT if any(row.id == c.id for c in self.conflict) else row.state

    @property
    def conflict_reason(self) -> str:
        """The French explanation of the conflict, ``""`` without one."""
        return conflict_reason(self.candidate.number, self.conflict) if self.conflict else ""


def status_of(candidate: Candidate, history: list[ReturnRow], keep: int | None = None) -> CandidateStatus:
    """The status of ``candidate`` from its returns (oldest first) and the return the secretariat keeps."""
    got: Retention = retain(history, keep)
    status = CandidateStatus(
        candidate, got.state, got.retained, history, got.retained, got.kept, list(got.conflict), list(got.newer)
    )
    if got.retained is None and got.state == CandidateState.REJECTED:
        rejected = [r for r in history if r.state == ReturnState.REJECTED and not r.undone]
        latest_conflict = got.conflict[-1] if got.conflict else None
        if latest_conflict is not None and (not rejected or latest_conflict.id > rejected[-1].id):
            status.current = replace(
                latest_conflict,
                state=ReturnState.CONFLICT,
                reasons=[*latest_conflict.reasons, status.conflict_reason],
            )
        else:
            status.current = rejected[-1]
    return status


def candidate_statuses(ledger: Ledger) -> list[CandidateStatus]:
    """Every candidate of the roster, in roster order, with its state and history (returns not
    attributed to a candidate are left out)."""
    return list(iter_candidate_statuses(ledger))


def iter_candidate_statuses(ledger: Ledger, batch: int = 500) -> Iterator[CandidateStatus]:
    """:func:`candidate_statuses` one at a time, read from the ledger ``batch`` candidates at a time:
    a run over a whole académie holds a batch, not every candidate's history. The ledger must stay open
    while they are read."""
    keeps = ledger.keeps()
    messages = {m.message_id: m for m in ledger.messages()}
    for candidates in ledger.candidate_batches(batch):
        numbers = [c.number for c in candidates]
        by_candidate: dict[str, list[ReturnRow]] = {}
        for row in ledger.returns(candidates=numbers):
            if row.candidate:
                by_candidate.setdefault(row.candidate, []).append(row)
        assignment = ledger.assignment(numbers)
        for c in candidates:
            s = status_of(c, by_candidate.get(c.number, []), keeps.get(c.number))
            s.examiner = assignment.get(c.number)
            s.replies = {h.reply_to: messages[h.reply_to] for h in s.history if h.reply_to in messages}
            yield s


def campaign_statuses(campaign: Campaign) -> list[CandidateStatus]:
    """:func:`candidate_statuses` of the campaign's ledger."""
    with campaign.ledger() as ledger:
        return candidate_statuses(ledger)


class ReturnJson(TypedDict):
    """One return in ``status --json`` ``history``.

    ``id``: the return's number (for ``e2docs keep``); ``state``: ``complete``,
    ``incomplete``, ``rejected``, ``blank`` (nothing typed: never counts) or ``conflict``
    (cannot be ordered against a different return: does not count); ``made_at``: when it
    was made (the workbook's saved time, else the e-mail's date), ``collected_at``: when its
    ``collect`` run started, ISO date-times (``made_at`` ``None`` when unknown: the return is
    then ordered by ``collected_at``); ``origin``: where the file came from; marks out of 20,
    ``None`` when there is none; ``retained``: it is the candidate's retained return;
    ``undone``: its run was cancelled (``e2docs undo``); ``original_name``: the file's name;
    ``reply_to``: the message of ``send``/``remind`` the e-mail that brought it answered
    (:class:`ReplyJson`), ``None`` when none.
    """

    id: int
    state: str
    made_at: str | None
    collected_at: str
    origin: str
    proposed_mark: float | None
    final_mark: float | None
    retained: bool
    undone: bool
    original_name: str
    reply_to: ReplyJson | None


class ReplyJson(TypedDict):
    """The message a return answered: its ``message_id``, ``kind`` (``send``, ``remind``), when it
    was sent (``sent_at``, else — a draft — ``created_at``: ISO date-time), to whom (``examiner``:
    the address)."""

    message_id: str
    kind: str
    sent_at: str
    examiner: str


class ExaminerJson(TypedDict):
    """An examiner in ``status --json``: the name the messages greet, the address they go to."""

    name: str
    email: str


class CandidateJson(TypedDict):
    """One candidate in ``status --json``.

    ``state``: a :class:`CandidateState` value (``missing``, ``incomplete``, ``complete``,
    ``rejected``, ``review``). Marks are out of 20 and ``missing`` lists what the grid lacks
    (criterion ids, ``note_finale``, ``observations``), from the retained return: ``None`` and
    ``[]`` without one. ``returned_at``: when the current return (the latest rejected one when
    rejected) was imported, ISO date-time, ``None`` when missing. ``reasons``: why rejected
    (French), ``[]`` unless rejected. ``returns``: how many returns were recorded for the
    candidate. ``retained_return``: the id of the retained return, ``None`` when none counts;
    ``kept``: it was chosen with ``e2docs keep``; ``history``: every return, oldest first
    (:class:`ReturnJson`); ``examiner``: ``{"name", "email"}`` of who assesses the candidate
    (``e2docs assign``), ``None`` before any assignment.
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
    retained_return: int | None
    kept: bool
    history: list[ReturnJson]
    examiner: ExaminerJson | None


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
        accepted = s.retained
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
                "retained_return": s.retained.id if s.retained is not None else None,
                "kept": s.kept,
                "history": [
                    {
                        "id": h.id,
                        "state": str(s.shown_state(h)),
                        "made_at": h.made_at,
                        "collected_at": h.collected_at,
                        "origin": h.origin,
                        "proposed_mark": h.proposed_mark,
                        "final_mark": h.final_mark,
                        "retained": s.retained is not None and h.id == s.retained.id,
                        "undone": h.undone,
                        "original_name": h.original_name,
                        "reply_to": _reply_json(s.replies.get(h.reply_to) if h.reply_to else None),
                    }
                    for h in s.history
                ],
                "examiner": {"name": s.examiner.name, "email": s.examiner.email} if s.examiner else None,
            }
        )
    totals = {str(state): sum(1 for s in statuses if s.state == state) for state in CandidateState}
    return {"candidates": cands, "totals": totals}


def _reply_json(message: MessageRow | None) -> ReplyJson | None:
    if message is None:
        return None
    return {
        "message_id": message.message_id,
        "kind": message.kind,
        "sent_at": message.sent_at or message.created_at,
        "examiner": message.examiner,
    }
